"""FeatureEncoder: the estimator contract, category handling, and frame/record agreement."""

from __future__ import annotations

import json
import math

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from features import encoding
from features.encoding import OTHER, UNSEEN, FeatureEncoder, NotFittedError

SPECS = [
    {"name": "seniority", "kind": "categorical"},
    {"name": "n_pricing_view_7d", "kind": "numeric"},
    {"name": "industry", "kind": "categorical"},
    {"name": "free_email", "kind": "numeric"},
]


def transform_records(enc: FeatureEncoder, records: list[dict]) -> np.ndarray:
    """Records (one dict per lead) through ``transform_columns``, as the API's columns."""
    names = [spec["name"] for spec in SPECS]
    return enc.transform_columns({n: [r.get(n) for r in records] for n in names}, len(records))


def transform_record(enc: FeatureEncoder, record: dict) -> np.ndarray:
    return transform_records(enc, [record])[0]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "lead_id": ["a", "b", "c", "d", "e", "f"],
        "seniority": ["vp", "vp", "manager", "manager", "cto", None],
        "n_pricing_view_7d": [0.0, 1.0, 2.0, 3.0, 0.0, 5.0],
        "industry": pd.Series(["software", "retail", "software", None, "software", "retail"],
                              dtype="str"),
        "free_email": [1.0, 0.0, np.nan, 0.0, 1.0, 0.0],
    })


def test_categories_are_frequent_values_in_sorted_order():
    enc = FeatureEncoder(SPECS, min_count=2).fit(_frame())
    assert enc.feature_names_ == ["seniority", "n_pricing_view_7d", "industry", "free_email"]
    assert enc.categories_ == {"seniority": ["manager", "vp"], "industry": ["retail", "software"]}
    assert enc.categorical_indices_ == [0, 2]


def test_rare_values_share_the_other_code_unseen_ones_get_their_own_and_missing_stays_nan():
    enc = FeatureEncoder(SPECS, min_count=2).fit(_frame())
    x = enc.transform(_frame())
    assert x.dtype == np.float64 and x.shape == (6, 4)
    assert x[:, 0].tolist()[:5] == [1.0, 1.0, 0.0, 0.0, 2.0]  # cto is rare -> __other__ = 2
    assert math.isnan(x[5, 0])
    assert math.isnan(x[3, 2]) and math.isnan(x[2, 3])
    unseen = transform_record(enc, {"seniority": "student", "industry": "mining"})
    assert unseen[0] == 3.0 and unseen[2] == 3.0  # never seen: one past the rare pool
    assert transform_record(enc, {"seniority": "cto"})[0] == 2.0
    assert enc.category_of("seniority", 2.0) == OTHER
    assert enc.category_of("seniority", 3.0) == UNSEEN
    assert enc.category_code("seniority", "vp") == 1.0
    assert enc.category_code("seniority", "student") == 3.0
    assert enc.is_unseen("seniority", "student") and not enc.is_unseen("seniority", "cto")
    assert not enc.is_unseen("seniority", None) and not enc.is_unseen("seniority", "vp")
    assert not enc.is_unseen("n_pricing_view_7d", "many")
    assert enc.code_count("seniority") == 4


def test_frame_and_records_give_an_unseen_value_the_same_code():
    enc = FeatureEncoder(SPECS, min_count=2).fit(_frame())
    frame = pd.DataFrame({"seniority": ["student", "cto", 7], "n_pricing_view_7d": [1.0] * 3,
                          "industry": ["mining", "retail", None], "free_email": [0.0] * 3})
    records = frame.to_dict("records")
    np.testing.assert_array_equal(enc.transform(frame), transform_records(enc, records))


def test_rare_values_are_remembered_as_hashes_not_as_text():
    frame = _frame().assign(seniority=["vp", "vp", "jane.doe@example.com", "vp", "cto", None])
    state = json.dumps(FeatureEncoder(SPECS, min_count=2).fit(frame).to_dict())
    assert "jane.doe" not in state and "cto" not in state


def test_a_fitted_encoder_pickles_and_codes_the_same():
    import pickle

    enc = FeatureEncoder(SPECS, min_count=2).fit(_frame())
    again = pickle.loads(pickle.dumps(enc))
    record = {"seniority": "student", "industry": "retail", "n_pricing_view_7d": 1.0}
    np.testing.assert_array_equal(transform_record(again, record), transform_record(enc, record))


def test_a_long_tail_keeps_pooling_unseen_values_with_the_rare_ones(monkeypatch):
    monkeypatch.setattr(encoding, "MAX_RARE_KEPT", 2)
    frame = _frame().assign(seniority=["vp", "vp", "a", "b", "c", None])
    enc = FeatureEncoder(SPECS, min_count=2).fit(frame)
    assert transform_record(enc, {"seniority": "new"})[0] == 1.0 == transform_record(
        enc, {"seniority": "a"})[0]
    assert enc.code_count("seniority") == 2
    again = FeatureEncoder.from_dict(json.loads(json.dumps(enc.to_dict())))
    assert transform_record(again, {"seniority": "new"})[0] == 1.0


def test_an_encoder_saved_before_unseen_codes_keeps_pooling_them():
    # the state a format-1 encoder (leadscore before unseen codes) wrote into its bundle
    old = {"format": 1, "min_count": 2,
           "features": [{"name": "seniority", "kind": "categorical"},
                        {"name": "n_pricing_view_7d", "kind": "numeric"}],
           "categories": {"seniority": ["manager", "vp"]}}
    enc = FeatureEncoder.from_dict(old)
    codes = enc.transform_columns({"seniority": ["vp", "cto", "student", None]}, 4)[:, 0]
    assert codes[:3].tolist() == [1.0, 2.0, 2.0] and math.isnan(codes[3])
    assert not enc.is_unseen("seniority", "student")
    resaved = FeatureEncoder.from_dict(json.loads(json.dumps(enc.to_dict())))
    assert resaved.category_code("seniority", "student") == 2.0


def test_lightgbm_scores_an_unseen_category_like_a_missing_one_not_like_the_rare_pool():
    # rare sources (each under min_count) all converted; the frequent ones rarely did
    rng = np.random.default_rng(0)
    rare = [f"r{i}" for i in range(40)] * 3
    source = np.array(["ads"] * 200 + ["seo"] * 200 + rare + [None] * 60, dtype=object)
    label = np.r_[rng.random(400) < 0.1, np.ones(120, bool), rng.random(60) < 0.5].astype(int)
    frame = pd.DataFrame({"source": source})
    enc = FeatureEncoder([{"name": "source", "kind": "categorical"}], min_count=10).fit(frame)
    booster = lgb.train({"objective": "binary", "verbose": -1, "min_data_in_leaf": 5,
                         "min_data_per_group": 5, "cat_smooth": 1, "seed": 0},
                        lgb.Dataset(enc.transform(frame), label, categorical_feature=[0]),
                        num_boost_round=20)
    score = {v: booster.predict(enc.transform(pd.DataFrame({"source": [v]})))[0]
             for v in ("r3", "brand_new_source", None)}
    assert score["r3"] > 0.8
    assert score["brand_new_source"] == score[None]
    assert score["brand_new_source"] < score["r3"] - 0.3


def test_missing_key_in_a_record_is_nan():
    enc = FeatureEncoder(SPECS).fit(_frame())
    assert np.isnan(transform_record(enc, {})).all()


def test_transform_and_transform_columns_agree_exactly():
    rng = np.random.default_rng(0)
    n = 500
    frame = pd.DataFrame({
        "seniority": rng.choice(np.array(["vp", "manager", "cto", "student", None], dtype=object),
                                n),
        "n_pricing_view_7d": rng.poisson(2, n).astype(float),
        "industry": rng.choice(np.array(["software", "retail", "x", None], dtype=object), n),
        "free_email": rng.choice([0.0, 1.0, np.nan], n),
    })
    enc = FeatureEncoder(SPECS, min_count=30).fit(frame)
    x = enc.transform(frame)
    for i, record in enumerate(frame.to_dict("records")):
        np.testing.assert_array_equal(transform_record(enc, record), x[i])


def test_transform_columns_is_transform_row_by_row():
    rng = np.random.default_rng(1)
    n = 300
    frame = pd.DataFrame({
        "seniority": rng.choice(np.array(["vp", "manager", "cto", "student", None], dtype=object),
                                n),
        "n_pricing_view_7d": rng.poisson(2, n).astype(float),
        "industry": rng.choice(np.array(["software", "retail", "x", None], dtype=object), n),
        "free_email": rng.choice([0.0, 1.0, np.nan], n),
    })
    enc = FeatureEncoder(SPECS, min_count=30).fit(frame)
    records = frame.to_dict("records")

    class Text(str):
        pass

    # values of other types than build_online gives take the general path, with the same result
    records += [{"seniority": Text("vp"), "n_pricing_view_7d": 3, "industry": 7,
                 "free_email": True},
                {"seniority": pd.NA, "n_pricing_view_7d": np.float64(2.5), "industry": float("nan"),
                 "free_email": "1.0"},
                {"seniority": "vp", "n_pricing_view_7d": "not a number", "free_email": None},
                {}]
    matrix = transform_records(enc, records)
    assert matrix.shape == (len(records), len(SPECS)) and matrix.dtype == np.float64
    for i, record in enumerate(records):
        np.testing.assert_array_equal(matrix[i], transform_record(enc, record))
    np.testing.assert_array_equal(matrix[:n], enc.transform(frame))
    assert transform_records(enc, []).shape == (0, len(SPECS))


def test_infers_kinds_from_dtypes_when_no_features_are_given():
    enc = FeatureEncoder(min_count=1).fit(_frame())
    assert enc.feature_names_ == ["seniority", "n_pricing_view_7d", "industry", "free_email"]
    assert enc.categorical_indices_ == [0, 2]


def test_round_trips_through_json():
    enc = FeatureEncoder(SPECS, min_count=2).fit(_frame())
    state = json.loads(json.dumps(enc.to_dict()))
    again = FeatureEncoder.from_dict(state)
    np.testing.assert_array_equal(again.transform(_frame()), enc.transform(_frame()))
    assert again.categorical_indices_ == enc.categorical_indices_
    record = {"seniority": "vp", "n_pricing_view_7d": 3, "industry": "mining"}
    np.testing.assert_array_equal(transform_record(again, record), transform_record(enc, record))


def test_follows_the_estimator_contract():
    from sklearn.base import clone

    enc = FeatureEncoder(SPECS, min_count=3)
    assert enc.get_params() == {"features": SPECS, "min_count": 3}
    assert not hasattr(enc, "categories_")  # __init__ stores arguments only
    with pytest.raises(NotFittedError):
        enc.transform(_frame())
    with pytest.raises(NotFittedError):
        transform_record(enc, {})
    assert enc.fit(_frame()) is enc
    twin = clone(enc)
    assert twin.get_params() == enc.get_params() and not hasattr(twin, "feature_names_")
    assert twin.set_params(min_count=1).min_count == 1


@pytest.mark.parametrize("min_count", [0, -1, 1.5, True])
def test_bad_min_count_is_refused(min_count):
    with pytest.raises(ValueError, match="min_count"):
        FeatureEncoder(SPECS, min_count=min_count).fit(_frame())


def test_missing_column_is_named():
    enc = FeatureEncoder(SPECS)
    with pytest.raises(ValueError, match="industry"):
        enc.fit(_frame().drop(columns=["industry"]))


def test_codes_train_lightgbm_with_categorical_features():
    rng = np.random.default_rng(1)
    n = 400
    seniority = rng.choice(np.array(["vp", "manager", "student"], dtype=object), n)
    frame = pd.DataFrame({"seniority": seniority, "n_pricing_view_7d": rng.poisson(1, n) * 1.0,
                          "industry": "software", "free_email": 0.0})
    y = (seniority == "vp").astype(int)
    enc = FeatureEncoder(SPECS, min_count=5).fit(frame)
    model = lgb.LGBMClassifier(n_estimators=10, min_child_samples=5, verbose=-1)
    model.fit(enc.transform(frame), y, categorical_feature=enc.categorical_indices_)
    p = model.predict_proba(np.vstack([transform_record(enc, {"seniority": "vp"}),
                                       transform_record(enc, {"seniority": "student"})]))[:, 1]
    assert p[0] > p[1]


def test_case_and_space_variants_are_one_category_spelled_as_the_most_frequent():
    frame = pd.DataFrame({"channel": ["Google", "Google", "Google", "google ", "GOOGLE",
                                      "  Referral", "referral", "Web  Form", None]})
    enc = FeatureEncoder([{"name": "channel", "kind": "categorical"}], min_count=2).fit(frame)
    # "Google" 3 + "google" 1 + "GOOGLE" 1; the referral tie goes to the first spelling in
    # code-point order ("Referral" < "referral"); "Web  Form" alone is rare
    assert enc.categories_ == {"channel": ["Google", "Referral"]}
    sent = ["Google", "google ", "GOOGLE", " gOOgle", "REFERRAL", "referral ", "web form",
            "Mining", None]
    by_frame = enc.transform(pd.DataFrame({"channel": sent}))[:, 0]
    by_columns = enc.transform_columns({"channel": sent}, len(sent))[:, 0]
    np.testing.assert_array_equal(by_frame, by_columns)
    assert by_frame[:4].tolist() == [0.0] * 4 and by_frame[4:6].tolist() == [1.0, 1.0]
    assert by_frame[6] == 2.0 and by_frame[7] == 3.0  # a rare one in another case; a new one
    assert math.isnan(by_frame[8])
    assert enc.learned_category("channel", "GOOGLE ") == "Google"
    assert enc.learned_category("channel", "web form") is None
    again = FeatureEncoder.from_dict(json.loads(json.dumps(enc.to_dict())))
    np.testing.assert_array_equal(again.transform_columns({"channel": sent}, len(sent))[:, 0],
                                  by_columns)


def test_an_encoder_saved_before_case_folding_keeps_matching_exactly():
    # the state a format-2 encoder wrote: "google" was its own (rare) value, "Google" kept
    old = {"format": 2, "min_count": 2, "features": [{"name": "channel", "kind": "categorical"}],
           "categories": {"channel": ["Google"]},
           "rare": {"channel": [encoding.rare_key("google")]}}
    enc = FeatureEncoder.from_dict(old)
    codes = enc.transform_columns({"channel": ["Google", "google", "GOOGLE"]}, 3)[:, 0]
    assert codes.tolist() == [0.0, 1.0, 2.0]
    assert enc.learned_category("channel", "GOOGLE") is None
    assert FeatureEncoder.from_dict(enc.to_dict()).to_dict()["format"] == 2
