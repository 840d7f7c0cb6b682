"""TreeShap gives LightGBM's ``pred_contrib`` to 1e-9 on models built to reach every branch.

The models come from test_forest.py (NaN learnt left and right, NaN read as zero, thresholds
next to zero, categorical bitsets over several words, unseen and negative codes, single-leaf
trees); more are built here for what the forest does not score: zero-as-missing splits and
trees too large for the pattern tables (the per-lead recursion).
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from features.encoding import FeatureEncoder
from scoring.bundle import ScoringBundle
from scoring.treeshap import PARALLEL_ROWS, TABLE_SPLITS, TreeShap
from tests.scoring.test_forest import (
    _categorical_model,
    _category_probes,
    _mixed_model,
    _numeric_model,
    _numeric_probes,
    _probe_matrix,
    _splits,
    _train,
    _with_single_leaf_trees,
)

TOLERANCE = 1e-9


def _assert_pred_contrib(booster: lgb.Booster, X: np.ndarray) -> np.ndarray:
    expected = booster.predict(X, pred_contrib=True, num_threads=1)
    explainer = TreeShap(booster)
    got = explainer.contributions(X)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)
    # the parallel loop gives the same values, row for row
    np.testing.assert_array_equal(explainer.contributions(X, parallel=True), got)
    return got


def test_numeric_splits_with_missing_values_and_zero_thresholds():
    booster, X_train = _numeric_model()
    pools = [_numeric_probes(booster, j) for j in range(4)]
    X = _probe_matrix(pools, np.nanmedian(X_train, axis=0), n_random=3000, seed=3)
    got = _assert_pred_contrib(booster, X)
    # contributions add up to the margin: a check independent of pred_contrib
    np.testing.assert_allclose(got.sum(axis=1), booster.predict(X, raw_score=True), atol=1e-9)
    _assert_pred_contrib(booster, X_train)


def test_categorical_splits_with_unseen_negative_fractional_and_huge_codes():
    booster, X_train = _categorical_model()
    pools = [_category_probes(130), _category_probes(130), _category_probes(5),
             _numeric_probes(booster, 3)]
    X = _probe_matrix(pools, np.array([5.0, 7.0, 1.0, 0.0]), n_random=3000, seed=4)
    _assert_pred_contrib(booster, X)
    _assert_pred_contrib(booster, X_train)


def test_mixed_model_on_arbitrary_values():
    booster, pools = _mixed_model()
    rng = np.random.default_rng(11)
    X = np.column_stack([rng.choice(pool, size=4000) for pool in pools])
    X[::13] = rng.normal(scale=1e6, size=(len(X[::13]), 3))
    _assert_pred_contrib(booster, X)


def test_zero_as_missing_splits_send_zero_and_nan_the_default_way():
    rng = np.random.default_rng(9)
    n = 2000
    X = rng.normal(size=(n, 4))
    X[rng.random(n) < 0.3, 1] = 0.0
    X[rng.random(n) < 0.2, 2] = np.nan
    y = (X[:, 0] + np.where(X[:, 1] == 0.0, 1.5, X[:, 1]) - np.nan_to_num(X[:, 2], nan=-1.0)
         + rng.logistic(size=n) > 0).astype(np.float64)
    booster = _train(X, y, rounds=30, zero_as_missing=True)
    splits = _splits(booster)
    assert "Zero" in {s["missing_type"] for s in splits}
    assert {s["default_left"] for s in splits if s["missing_type"] == "Zero"} == {True, False}
    probe = X[:1500].copy()
    probe[::5, 1] = 0.0
    probe[::6, 2] = np.nan
    probe[::7, 1] = np.nan
    probe[::9, 0] = 1e-36
    _assert_pred_contrib(booster, probe)


def test_large_trees_use_the_per_lead_recursion_and_agree():
    booster, X = _numeric_model()
    y = (np.nan_to_num(X[:, 0]) * np.nan_to_num(X[:, 1], nan=0.5) + X[:, 3] > 0).astype(float)
    deep = _train(X, y, rounds=15, num_leaves=40, min_data_in_leaf=5)
    sizes = [t["num_leaves"] - 1 for t in deep.dump_model()["tree_info"]]
    assert max(sizes) > TABLE_SPLITS  # these trees take the recursion, not a table
    pools = [_numeric_probes(deep, j) for j in range(4)]
    probe = _probe_matrix(pools, np.nanmedian(X, axis=0), n_random=PARALLEL_ROWS, seed=5)
    _assert_pred_contrib(deep, probe)


def test_single_leaf_trees_count_in_the_expected_value_only():
    booster, X = _numeric_model()
    patched = _with_single_leaf_trees(booster, {0: -0.75, 7: 0.125, 8: 0.3})
    got = _assert_pred_contrib(patched, X[:500])
    assert np.unique(got[:, -1]).size == 1


def test_a_matrix_with_too_few_columns_is_refused():
    booster, X = _numeric_model()
    with pytest.raises(ValueError, match="4 columns"):
        TreeShap(booster).contributions(X[:, :3])


def test_the_bundles_reasons_come_from_treeshap_and_equal_pred_contrib():
    booster, X = _numeric_model()
    specs = [{"name": f"f{i}", "group": "fit" if i < 2 else "intent", "kind": "numeric"}
             for i in range(4)]
    fit = _train(X[:, :2], (np.nan_to_num(X[:, 0]) > 0).astype(float), rounds=5)
    intent = _train(X[:, 2:], (X[:, 3] > 0).astype(float), rounds=5)
    bundle = ScoringBundle(manifest={"features": specs}, encoder=FeatureEncoder(specs),
                           boosters={"full": booster, "fit": fit, "intent": intent})
    expected = booster.predict(X, pred_contrib=True)
    np.testing.assert_allclose(bundle.contributions(X), expected, rtol=0, atol=TOLERANCE)
    assert isinstance(bundle._treeshap(), TreeShap)
