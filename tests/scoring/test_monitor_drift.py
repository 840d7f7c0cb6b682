"""The monitor's input drift on tiny inline data: PSI, feature bins, unseen and long-tail
categories, rescored leads left out (the other checks: test_monitor.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.config import default_config
from scoring.drift import MISSING, feature_bins, feature_psi, training_profile
from scoring.monitor import (
    NO_PROFILE,
    monitor,
)
from scoring.monitor_text import monitor_text
from tests.scoring.monitor_inputs import FEATURES, inputs_of, profile_of


def test_psi_is_near_zero_on_the_training_distribution_and_large_on_a_shifted_feature():
    X, profile = profile_of()
    same, _ = profile_of(seed=1)
    n, values = feature_psi(feature_bins(same, profile), profile)
    assert n == len(same) and max(values.values()) < 0.02
    shifted = same.copy()
    shifted[:, 1] = 3.0  # every lead from one industry
    _, values = feature_psi(feature_bins(shifted, profile), profile)
    assert values["industry"] > 1.0 and values["pricing_views"] < 0.02


def test_bins_mark_missing_values_and_unseen_categories_get_their_own_bin():
    _, profile = profile_of()
    rows = feature_bins(np.array([[np.nan, 9.0], [1.0, 4.0]]), profile)
    assert rows[0][0] == MISSING
    assert rows[0][1] == rows[1][1] == "4"  # code 4 (an unseen category) is one past the four
    assert feature_bins(np.zeros((1, 2)), None) is None  # an old model: no profile, no bins


def test_a_model_without_a_training_profile_says_review_again():
    result = monitor(inputs_of(60, 22), default_config())
    assert result.figures["drift"]["status"] == "no_data"
    assert result.figures["drift"]["why"] == NO_PROFILE
    assert NO_PROFILE in monitor_text(result)


def test_compiled_bins_equal_the_reference_binning_feature_by_feature():
    from scoring.drift import _LOOKUP, _bins_of

    _, profile = profile_of()
    X = np.random.default_rng(2).normal(2.0, 3.0, size=(300, 2))
    X[::5, 0] = np.nan
    X[::7, 1] = np.nan
    expected = ["".join(chr(_LOOKUP[_bins_of(np.array([v]), f)[0]])
                        for v, f in zip(row, profile["features"], strict=True)) for row in X]
    assert feature_bins(X, profile) == expected


def test_leads_first_scored_by_a_rescore_are_left_out_of_input_drift():
    X, profile = profile_of()
    shifted = X[:300].copy()
    shifted[:, 0] = shifted[:, 0] + 6.0  # far from the training cohort
    inputs = inputs_of(300, 60, manifest={"deployed_metrics": {"mqls_per_week": 5.0},
                                        "training_profile": profile})
    inputs.served["feature_bins"] = feature_bins(shifted, profile)
    config = default_config()
    config["monitor"]["min_drift_scores"] = 100
    drift = monitor(inputs, config).figures["drift"]
    assert drift["status"] == "crossed"
    # counted and capped, so 21 drifted features do not make one unreadable line
    assert f"1 feature with PSI above {drift['limit']:g} ({FEATURES[0]['name']};" in drift["why"]
    # the same rows, written by a rescore after a promotion: open leads scored again later
    inputs.served["source"] = "rescore"
    drift = monitor(inputs, config).figures["drift"]
    assert drift["status"] == "too_few" and drift["scores"] == 0


def test_a_long_tail_category_served_as_new_values_is_no_drift_but_a_new_one_is():
    # free-text industries, every lead its own: the training cohort was all rare pool, every
    # served lead an unseen value, and the monitor said "inputs drifted from the training
    # cohort: 1 feature with PSI above 0.25 (industry; top movers industry 18.42 ...)" and
    # recommended an early review that would find the same long tail again
    from features.encoding import FeatureEncoder

    spec = [{"name": "industry", "kind": "categorical"}]
    encoder = FeatureEncoder(spec, min_count=20).fit(
        pd.DataFrame({"industry": [f"Industry {i}" for i in range(600)]}))
    X = encoder.transform(pd.DataFrame({"industry": [f"Industry {i}" for i in range(600)]}))
    profile = training_profile(X, spec, {"industry": encoder.code_count("industry") - 1})
    served = encoder.transform(pd.DataFrame({"industry": [f"Industry {i}"
                                                          for i in range(600, 900)]}))
    inputs = inputs_of(300, 60, manifest={"deployed_metrics": {"mqls_per_week": 5.0},
                                        "training_profile": profile})
    inputs.served["feature_bins"] = feature_bins(served, profile)
    config = default_config()
    config["monitor"]["min_drift_scores"] = 100
    drift = monitor(inputs, config).figures["drift"]
    assert drift["status"] == "ok" and drift["psi"]["industry"] < 0.01
    # a few kept industries and a handful of rare ones: a new industry a third of the served
    # leads arrive with is still drift
    kept = ["software"] * 300 + ["retail"] * 290 + [f"Industry {i}" for i in range(10)]
    encoder = FeatureEncoder(spec, min_count=20).fit(pd.DataFrame({"industry": kept}))
    profile = training_profile(encoder.transform(pd.DataFrame({"industry": kept})), spec,
                               {"industry": encoder.code_count("industry") - 1})
    served = ["software"] * 100 + ["retail"] * 100 + ["climate tech"] * 100
    inputs.manifest["training_profile"] = profile
    inputs.served["feature_bins"] = feature_bins(
        encoder.transform(pd.DataFrame({"industry": served})), profile)
    drift = monitor(inputs, config).figures["drift"]
    assert drift["status"] == "crossed" and drift["drifted"] == ["industry"]
