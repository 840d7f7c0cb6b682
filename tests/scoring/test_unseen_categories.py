"""A category never seen in training (a new lead source) on every scoring path of a real bundle:
scored like a missing value, not like the rare pool; explained as new; the same after a save and
load; and a bundle saved before unseen codes keeps scoring exactly as it did."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from features.definitions import feature_specs
from leadscore.config import default_config
from scoring.bundle import MANIFEST, ScoringBundle
from tests.features.reference import build_online
from tests.training.made_up import made_up_leads
from training.model import train_bundle
from training.tournament import ModelChoice

RARE = [f"partner_{i}" for i in range(60)]  # 5 leads each: under MIN_CATEGORY_COUNT


def _bundle(choice: ModelChoice | None = None) -> ScoringBundle:
    config = default_config()
    config["cycle"]["lightgbm"].update(n_estimators=30, min_child_samples=5)
    leads = made_up_leads(900, seed=3)
    frame = pd.DataFrame([build_online(lead, lead["as_of"], config) for lead in leads])
    rng = np.random.default_rng(3)
    frame["label"] = (rng.random(len(frame)) < 0.1).astype(int)
    # every rare partner source converted: the rare pool learns a strong positive effect
    frame.loc[:299, "source"] = [RARE[i % len(RARE)] for i in range(300)]
    frame.loc[:299, "label"] = 1
    # each partner 4 times in training, once in calibration
    train = pd.concat([frame.iloc[:240], frame.iloc[300:700]])
    calib = pd.concat([frame.iloc[240:300], frame.iloc[700:]])
    bundle = train_bundle(train, calib, feature_specs({}, config), config,
                          seed=1, meta={"cycle": "unseen", "trained_at": "2026-10-01T00:00:00"},
                          choice=choice)
    bundle.manifest["threshold"] = 0.3
    return bundle


@pytest.fixture(scope="module")
def bundle() -> ScoringBundle:
    return _bundle()


def _score(bundle: ScoringBundle, sources: list) -> tuple[np.ndarray, list]:
    lead = made_up_leads(1, seed=9)[0]
    records = [dict(lead, source=s) for s in sources]
    scores = bundle.score_records(records, [r["as_of"] for r in records], top_reasons=30)
    return scores.score, scores.reasons


def _source_label(reasons: list) -> str | None:
    return next((r.label for r in reasons if r.feature == "source"), None)


def test_a_new_source_scores_like_a_missing_one_not_like_the_rare_pool(bundle):
    score, reasons = _score(bundle, ["partner_3", "brand_new_source", None])
    rare, new, missing = score
    assert rare > new + 0.1  # the rare pool's learned effect is not borrowed
    assert new == missing
    assert _source_label(reasons[1]) == "Source: not seen in training"
    assert _source_label(reasons[0]) == "Source: other"
    assert all("__" not in r.label for row in reasons for r in row)


def test_unseen_codes_survive_a_save_and_load(bundle, tmp_path):
    again = ScoringBundle.load(bundle.save(tmp_path / "bundle"))
    sources = ["partner_3", "brand_new_source", None, "webinar"]
    np.testing.assert_array_equal(_score(again, sources)[0], _score(bundle, sources)[0])
    assert _source_label(_score(again, ["brand_new_source"])[1][0]) == \
        "Source: not seen in training"


def test_a_bundle_saved_before_unseen_codes_scores_as_it_did(bundle, tmp_path):
    path = bundle.save(tmp_path / "old")
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["encoder"] = {k: v for k, v in manifest["encoder"].items() if k != "rare"}
    manifest["encoder"]["format"] = 1  # what leadscore wrote before unseen codes
    (path / MANIFEST).write_text(json.dumps(manifest))
    old = ScoringBundle.load(path)
    score, reasons = _score(old, ["partner_3", "brand_new_source", None])
    assert score[1] == score[0]  # the old rule: a new value pools with the rare ones
    assert _source_label(reasons[1]) == "Source: other"


def test_the_linear_model_gives_a_new_source_no_contribution():
    bundle = _bundle(ModelChoice("logistic", C=1.0, bins=5))
    lead = made_up_leads(1, seed=9)[0]
    records = [dict(lead, source=s) for s in ("partner_3", "brand_new_source")]
    features = bundle.build_features(records, [r["as_of"] for r in records])
    X = bundle.encoder.transform_columns(features.columns, len(features))
    column = bundle.feature_names.index("source")
    contributions = bundle.contributions(X)
    assert contributions[1, column] == 0.0
    assert contributions[0, column] > 0.1


def test_the_report_never_names_a_category_the_model_did_not_learn(bundle):
    from training.explain import global_importance

    lead = made_up_leads(1, seed=9)[0]
    sources = ["partner_3"] * 40 + ["brand_new_source"] * 40 + ["webinar"] * 40 + ["organic"] * 40
    records = [dict(lead, source=s) for s in sources]
    features = bundle.build_features(records, [r["as_of"] for r in records])
    frame = pd.DataFrame({n: features.columns[n] for n in bundle.feature_names})
    table = global_importance(bundle, bundle.encoder.transform(frame), frame)
    direction = table.set_index("feature").loc["source", "direction"]
    # partner_3 is in the rare pool, brand_new_source unseen: neither is a category it learned
    assert "partner" not in direction.lower() and "brand new" not in direction.lower()
    assert "webinar" in direction.lower() or "organic" in direction.lower() \
        or direction == "mixed"


def test_a_new_source_is_drift_in_a_bin_of_its_own(bundle):
    from scoring.drift import feature_psi

    profile = bundle.manifest["training_profile"]
    source = next(f for f in profile["features"] if f["name"] == "source")
    assert source["bins"] == bundle.encoder.code_count("source")  # kept, rare pool, unseen
    lead = made_up_leads(1, seed=9)[0]
    as_seen = bundle.score_records([dict(lead, source="webinar")] * 50, [lead["as_of"]] * 50)
    new = bundle.score_records([dict(lead, source="brand_new_source")] * 50, [lead["as_of"]] * 50)
    rare = bundle.score_records([dict(lead, source="partner_3")] * 50, [lead["as_of"]] * 50)
    new_psi = feature_psi(new.feature_bins, profile)[1]["source"]
    rare_psi = feature_psi(rare.feature_bins, profile)[1]["source"]
    assert new_psi > feature_psi(as_seen.feature_bins, profile)[1]["source"]
    assert new_psi > rare_psi  # the rare pool was in training; a new source never was
