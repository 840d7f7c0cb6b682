"""Training the bundle: three boosters, calibration, grades, determinism, persistence."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from scoring.bundle import ScoringBundle, score_frame
from tests.training import synthetic_leads as synthetic
from training.calibration import platt
from training.evaluate import evaluate, oracle_auc
from training.model import lightgbm_params, quartile_cuts, train_bundle

META = {"cycle": "2026-W20", "trained_at": "2026-05-18T00:00:00", "policy_hash": "abc"}


@pytest.fixture(scope="module")
def cohorts():
    return synthetic.split(synthetic.leads(3000, seed=0))


@pytest.fixture(scope="module")
def bundle(cohorts):
    train, calib, _ = cohorts
    return train_bundle(train, calib, synthetic.specs(), synthetic.config(), seed=42, meta=META)


def test_manifest_carries_what_serving_needs(bundle):
    m = bundle.manifest
    assert m["cycle"] == "2026-W20" and m["policy_hash"] == "abc"
    assert m["threshold"] == 0.5 and m["band"] == {"min": 0.25, "max": 0.50}
    assert [f["name"] for f in m["features"]] == bundle.encoder.feature_names_
    assert {f["group"] for f in m["features"]} == {"fit", "intent"}
    assert set(m["calibration"]) == {"full", "fit", "intent"}
    assert m["feature_config"]["features"]["windows_days"] == [1, 7, 30, 90]
    assert "company_size_bands" in m["feature_config"]["icp"]
    for group in ("fit", "intent"):
        cuts = m["grade_cuts"][group]
        assert len(cuts) == 3 and cuts == sorted(cuts, reverse=True)
    assert m["lightgbm"]["deterministic"] is True and m["lightgbm"]["seed"] == 42


def test_score_frame(bundle, cohorts):
    _, _, valid = cohorts
    scores = score_frame(bundle, valid)
    assert list(scores.columns) == ["score", "fit_score", "intent_score", "grade", "is_mql"]
    assert scores.index.equals(valid.index)
    for col in ("score", "fit_score", "intent_score"):
        assert scores[col].between(0, 1).all()
    assert scores["grade"].map(lambda g: bool(re.fullmatch(r"[A-D][1-4]", g))).all()
    assert (scores["is_mql"] == (scores["score"] >= 0.5)).all()
    # LightGBM's own prediction, Platt-scaled, gives the same numbers as the compiled forest
    margin = bundle.boosters["full"].predict(bundle.encoder.transform(valid.head(20)),
                                             raw_score=True)
    a, b = bundle.manifest["calibration"]["full"]
    np.testing.assert_allclose(1 / (1 + np.exp(-(a * margin + b))), scores["score"].head(20),
                               rtol=1e-9)


def test_challenger_ranks_and_is_calibrated(bundle, cohorts):
    _, _, valid = cohorts
    scores = score_frame(bundle, valid)["score"]
    metrics = evaluate(scores, valid["label"], threshold=0.5)
    assert metrics["roc_auc"] > oracle_auc(valid["true_p"], valid["label"]) - 0.06
    assert abs(scores.mean() - valid["label"].mean()) < 0.04
    assert metrics["ece"] < 0.06


def test_fit_score_ignores_activity_and_intent_score_ignores_who(bundle, cohorts):
    _, _, valid = cohorts
    base = score_frame(bundle, valid)
    busy = valid.copy()
    busy["n_demo_request_30d"] = 3.0
    busy["n_pricing_view_7d"] = 5.0
    after = score_frame(bundle, busy)
    assert np.array_equal(after["fit_score"], base["fit_score"])
    assert after["intent_score"].mean() > base["intent_score"].mean()
    students = valid.copy()
    students["seniority"] = "student"
    after = score_frame(bundle, students)
    assert np.array_equal(after["intent_score"], base["intent_score"])
    assert after["fit_score"].mean() < base["fit_score"].mean()


def test_grades_split_training_leads_into_quartiles(bundle, cohorts):
    train, _, _ = cohorts
    grades = score_frame(bundle, train)["grade"]
    letters = grades.str[0].value_counts(normalize=True)
    assert set(letters.index) == set("ABCD")
    # the fit booster has few distinct values, so ties blur the quartiles a little
    assert letters.max() < 0.45


def test_same_data_config_seed_gives_the_same_model(cohorts):
    train, calib, valid = cohorts
    a = train_bundle(train, calib, synthetic.specs(), synthetic.config(), seed=7, meta=META)
    b = train_bundle(train, calib, synthetic.specs(), synthetic.config(), seed=7, meta=META)
    for name in ("full", "fit", "intent"):
        assert a.boosters[name].model_to_string() == b.boosters[name].model_to_string()
    assert a.manifest == b.manifest
    ma = evaluate(score_frame(a, valid)["score"], valid["label"], threshold=0.3)
    mb = evaluate(score_frame(b, valid)["score"], valid["label"], threshold=0.3)
    assert ma == mb
    c = train_bundle(train, calib, synthetic.specs(), synthetic.config(), seed=8, meta=META)
    assert c.boosters["full"].model_to_string() != a.boosters["full"].model_to_string()


def test_save_and_load_round_trip(bundle, cohorts, tmp_path):
    _, _, valid = cohorts
    bundle.manifest["threshold"] = 0.3
    try:
        loaded = ScoringBundle.load(bundle.save(tmp_path / "bundle"), num_threads=1)
        assert loaded.num_threads == 1 and loaded.threshold == 0.3
        pd.testing.assert_frame_equal(score_frame(loaded, valid), score_frame(bundle, valid))
        X = loaded.encoder.transform(valid.head(5))
        assert np.allclose(loaded.contributions(X), bundle.contributions(X))
    finally:
        bundle.manifest["threshold"] = 0.5


def test_unknown_categories_and_missing_values_score(bundle, cohorts):
    _, _, valid = cohorts
    odd = valid.head(10).copy()
    odd["seniority"] = "astronaut"
    odd["industry"] = None
    odd["days_since_last_activity"] = np.nan
    scores = score_frame(bundle, odd)
    assert scores["score"].notna().all()


def test_one_class_training_is_refused(cohorts):
    train, calib, _ = cohorts
    with pytest.raises(ValueError, match="both SQLs and non-SQLs"):
        train_bundle(train.assign(label=0), calib, synthetic.specs(), synthetic.config(),
                     seed=1, meta={})


def test_lightgbm_params_from_config():
    params, rounds = lightgbm_params(synthetic.config(), seed=3)
    assert rounds == 80 and "n_estimators" not in params
    assert params["objective"] == "binary" and params["num_threads"] == 1


def test_platt_recovers_a_known_scaling_and_survives_separable_data():
    rng = np.random.default_rng(0)
    margin = rng.normal(0, 2, 20000)
    y = (rng.uniform(size=margin.size) < 1 / (1 + np.exp(-(0.5 * margin - 1.0)))).astype(float)
    a, b = platt(margin, y)
    assert a == pytest.approx(0.5, abs=0.03) and b == pytest.approx(-1.0, abs=0.05)
    separable = np.r_[np.full(20, -3.0), np.full(20, 3.0)]
    a, b = platt(separable, np.r_[np.zeros(20), np.ones(20)])
    assert np.isfinite([a, b]).all() and a > 0


def test_more_high_intent_activity_never_lowers_a_score(bundle, cohorts):
    _, _, valid = cohorts
    assert "n_pricing_view_7d" in bundle.manifest["monotone_increasing"]
    assert "n_page_view_7d" not in bundle.manifest["monotone_increasing"]
    by_k = []
    for k in range(5):
        busier = valid.assign(n_pricing_view_7d=valid["n_pricing_view_7d"] + k,
                              n_demo_request_30d=valid["n_demo_request_30d"] + k)
        by_k.append(score_frame(bundle, busier)[["score", "intent_score"]].to_numpy())
    steps = np.diff(np.stack(by_k), axis=0)
    assert (steps >= -1e-12).all()


def _digits(intent: np.ndarray) -> list[str]:
    """The intent digits a bundle gives these scores when its cuts come from the same scores."""
    cuts = quartile_cuts(intent)
    bundle = ScoringBundle(manifest={"grade_cuts": {"fit": cuts, "intent": cuts}},
                           encoder=None, boosters={})
    return [g[1] for g in bundle.grades(np.full(len(intent), 0.5), intent)]


def test_grade_quarters_without_ties_are_the_plain_quartiles():
    scores = np.arange(1, 101) / 101
    assert quartile_cuts(scores) == pytest.approx(np.quantile(scores, [0.75, 0.5, 0.25]))
    digits = _digits(scores)
    assert [digits.count(d) for d in "1234"] == [25, 25, 25, 25]


def test_a_score_everyone_shares_is_not_graded_the_best_quarter():
    # a model without intent features gives every lead one intent score: nobody "most intent"
    digits = _digits(np.full(200, 0.31))
    assert set(digits) == {"2"}  # the quarter the group's middle rank falls in


def test_leads_tied_at_the_bottom_are_graded_down_and_a_tie_at_the_top_up():
    rng = np.random.default_rng(0)
    # 60 % of leads have no activity and share the lowest intent score
    scores = np.r_[np.full(600, 0.02), rng.uniform(0.1, 0.9, 400)]
    digits = np.array(_digits(scores))
    assert set(digits[:600]) == {"3"}  # middle rank 0.30: third quarter, never 1 or 2
    assert set(digits[600:]) <= {"1", "2"}
    # 30 % share the best score: they are the top quarter, not pushed out of it
    scores = np.r_[rng.uniform(0.1, 0.5, 700), np.full(300, 0.95)]
    digits = np.array(_digits(scores))
    assert set(digits[700:]) == {"1"}
