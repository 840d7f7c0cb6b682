"""Forest: LightGBM boosters scored by one compiled loop give LightGBM's margins bit for bit.

Every test trains small boosters on data built so that each branch of LightGBM's decision rule
occurs (NaN sent left and right, NaN read as zero, categories in bitsets of several words,
categories outside them, single-leaf trees), checks from the model dump that it did occur, and
compares ``Forest.margins`` with ``Booster.predict(raw_score=True)`` with exact equality.
"""

from __future__ import annotations

import functools
import re

import lightgbm as lgb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.encoding import FeatureEncoder
from scoring.bundle import BOOSTERS, ScoringBundle
from scoring.forest import Forest

PARAMS = {"objective": "binary", "num_leaves": 7, "learning_rate": 0.1, "deterministic": True,
          "force_row_wise": True, "num_threads": 1, "verbosity": -1, "seed": 7}
# LightGBM's kZeroThreshold (1e-35f): the bin edges next to zero, so +/- this value turns up as
# a split threshold whenever a feature has exact zeros; its predict reads |x| <= it as 0.
ZERO_THRESHOLD = 1.0000000180025095e-35
EXTREMES = (np.nan, 0.0, -0.0, np.inf, -np.inf, 1e300, -1e300, 1e12, -1e12, 5e-324, -5e-324)
CATEGORY_PROBES = (np.nan, -0.0, -0.5, -0.999, -1.0, -1.5, -2.0, -np.inf, np.inf, 5e-324, 2.7,
                   31.5, 32.0, 63.999, 1000.0, 2.0**31 - 1, 2.0**31, 2.0**32 + 5, 1e10, 1e300)


def _train(X: np.ndarray, y: np.ndarray, rounds: int = 50, categorical: tuple[int, ...] = (),
           **params) -> lgb.Booster:
    data = lgb.Dataset(X, y, categorical_feature=list(categorical) if categorical else "auto")
    return lgb.train({**PARAMS, **params}, data, num_boost_round=rounds)


def _lightgbm(booster: lgb.Booster, X: np.ndarray) -> np.ndarray:
    return booster.predict(X, raw_score=True, num_threads=1)


def _splits(booster: lgb.Booster) -> list[dict]:
    """Every split node of the booster, as ``dump_model`` describes it (an independent parser)."""
    out = []

    def walk(node: dict) -> None:
        if "split_index" in node:
            out.append(node)
            walk(node["left_child"])
            walk(node["right_child"])

    for tree in booster.dump_model()["tree_info"]:
        walk(tree["tree_structure"])
    return out


def _numeric_thresholds(booster: lgb.Booster, feature: int) -> np.ndarray:
    return np.unique([s["threshold"] for s in _splits(booster)
                      if s["split_feature"] == feature and s["decision_type"] == "<="])


def _left_categories(split: dict) -> list[int]:
    return [int(c) for c in str(split["threshold"]).split("||")]


def _numeric_probes(booster: lgb.Booster, feature: int) -> np.ndarray:
    """The feature's thresholds, the doubles either side of each, and the extremes."""
    t = _numeric_thresholds(booster, feature)
    return np.concatenate([t, np.nextafter(t, -np.inf), np.nextafter(t, np.inf), EXTREMES])


def _category_probes(top: int) -> np.ndarray:
    """Every code up to ``top`` (seen or not), fractional codes, negatives, huge values, NaN."""
    codes = np.arange(top + 1, dtype=np.float64)
    return np.concatenate([codes, codes + 0.5, CATEGORY_PROBES])


def _probe_matrix(pools: list[np.ndarray], base: np.ndarray, n_random: int,
                  seed: int) -> np.ndarray:
    """One row per probe value of each column (the others at ``base``), plus random rows whose
    every cell is a probe value of its column."""
    rows = []
    for j, pool in enumerate(pools):
        for value in pool:
            row = base.copy()
            row[j] = value
            rows.append(row)
    rng = np.random.default_rng(seed)
    mixed = np.column_stack([rng.choice(pool, size=n_random) for pool in pools])
    return np.vstack([np.asarray(rows), mixed])


def _assert_same_margins(forest: Forest, boosters: list[lgb.Booster],
                         columns: list[list[int]], X: np.ndarray) -> None:
    out = forest.margins(X)
    assert out.shape == (X.shape[0], len(boosters))
    assert out.dtype == np.float64
    for i, (booster, cols) in enumerate(zip(boosters, columns, strict=True)):
        np.testing.assert_array_equal(out[:, i], _lightgbm(booster, X[:, cols]))


# ---- models -------------------------------------------------------------------------------------
@functools.cache
def _numeric_model() -> tuple[lgb.Booster, np.ndarray]:
    """Columns 0, 1: NaN in training (missing_type NaN). Columns 2, 3: never NaN in training
    (missing_type None), values on both sides of zero, column 2 with many exact zeros."""
    rng = np.random.default_rng(0)
    n = 3000
    X = rng.normal(size=(n, 4))
    X[:, 2] = np.round(X[:, 2], 1) * (rng.random(n) < 0.6)
    X[:, 3] = rng.uniform(-3.0, 3.0, n)
    X[rng.random(n) < 0.25, 0] = np.nan
    X[rng.random(n) < 0.25, 1] = np.nan
    nan0, nan1 = np.isnan(X[:, 0]), np.isnan(X[:, 1])
    logit = (np.where(nan0, 1.2, 2.0 * np.sin(2.0 * np.nan_to_num(X[:, 0])))
             + np.where(nan1, -1.5, np.nan_to_num(X[:, 1]))
             + 3.0 * X[:, 2] * np.abs(X[:, 2]) + np.cos(2.0 * X[:, 3]))
    y = (logit + rng.logistic(size=n) > 0).astype(np.float64)
    return _train(X, y), X


@functools.cache
def _categorical_model() -> tuple[lgb.Booster, np.ndarray]:
    """Column 0: 100 codes minus a few never seen; column 1: 60 codes, NaN in training;
    column 2: three codes (one-category splits); column 3: numeric."""
    rng = np.random.default_rng(1)
    n = 4000
    effect = rng.normal(size=100)
    seen = np.setdiff1d(np.arange(100), [13, 57, 90])
    X = np.column_stack([rng.choice(seen, n), rng.integers(0, 60, n), rng.integers(0, 3, n),
                         rng.normal(size=n)]).astype(np.float64)
    X[rng.random(n) < 0.15, 1] = np.nan
    c1 = np.nan_to_num(X[:, 1], nan=99.0).astype(int)
    logit = (2.0 * effect[X[:, 0].astype(int)] + 1.5 * effect[::-1][c1]
             + np.array([1.0, -1.0, 0.0])[X[:, 2].astype(int)] + X[:, 3])
    y = (logit + 0.5 * rng.logistic(size=n) > 0).astype(np.float64)
    booster = _train(X, y, categorical=(0, 1, 2), min_data_per_group=5, cat_smooth=1.0,
                     cat_l2=1.0, max_cat_threshold=64, max_cat_to_onehot=4)
    return booster, X


@functools.cache
def _mixed_model() -> tuple[lgb.Booster, tuple[np.ndarray, ...]]:
    """Numeric with NaN, numeric without NaN (zeros), categorical with 80 codes: for hypothesis."""
    rng = np.random.default_rng(2)
    n = 2000
    effect = rng.normal(size=80)
    X = np.column_stack([rng.normal(size=n), np.round(rng.normal(size=n), 1),
                         rng.integers(0, 80, n)]).astype(np.float64)
    X[rng.random(n) < 0.2, 0] = np.nan
    logit = (np.where(np.isnan(X[:, 0]), 0.8, np.nan_to_num(X[:, 0]) ** 2 - 1.0)
             + 2.0 * X[:, 1] + 2.0 * effect[X[:, 2].astype(int)])
    y = (logit + rng.logistic(size=n) > 0).astype(np.float64)
    booster = _train(X, y, rounds=40, categorical=(2,), min_data_per_group=5, cat_smooth=1.0)
    pools = (_numeric_probes(booster, 0), _numeric_probes(booster, 1), _category_probes(100))
    return booster, pools


# ---- numeric splits -----------------------------------------------------------------------------
def test_numeric_splits_send_missing_values_where_lightgbm_does():
    booster, X_train = _numeric_model()
    splits = _splits(booster)
    with_nan = [s for s in splits if s["split_feature"] in (0, 1)]
    without_nan = [s for s in splits if s["split_feature"] in (2, 3)]
    # the model reaches every numeric branch: NaN learnt left and right, NaN read as zero
    # going left (threshold >= 0) and right (threshold < 0)
    assert {s["missing_type"] for s in with_nan} == {"NaN"}
    assert {s["default_left"] for s in with_nan} == {True, False}
    assert {s["missing_type"] for s in without_nan} == {"None"}
    assert min(s["threshold"] for s in without_nan) < 0.0 <= max(s["threshold"]
                                                                   for s in without_nan)
    assert ZERO_THRESHOLD in _numeric_thresholds(booster, 2)

    pools = [_numeric_probes(booster, j) for j in range(4)]
    X = _probe_matrix(pools, np.nanmedian(X_train, axis=0), n_random=2000, seed=3)
    assert np.isnan(X).any(axis=0).all()
    _assert_same_margins(Forest([booster], [[0, 1, 2, 3]]), [booster], [[0, 1, 2, 3]], X)
    _assert_same_margins(Forest([booster], [[0, 1, 2, 3]]), [booster], [[0, 1, 2, 3]], X_train)


def test_values_lightgbm_reads_as_zero_meet_the_threshold_next_to_zero_as_zero():
    # exact zeros beside negative values put a split at -kZeroThreshold (-1e-35f); LightGBM's
    # predict reads |x| <= kZeroThreshold as 0 before any split, so -1e-35f itself goes right
    rng = np.random.default_rng(0)
    x = np.where(rng.random(1000) < 0.5, 0.0, rng.normal(size=1000))
    booster = lgb.train({"objective": "binary", "num_leaves": 2, "verbosity": -1, "seed": 0,
                         "deterministic": True, "num_threads": 1},
                        lgb.Dataset(x[:, None], (x < 0).astype(float)), num_boost_round=1)
    assert -ZERO_THRESHOLD in _numeric_thresholds(booster, 0)
    X = np.array([[-ZERO_THRESHOLD], [-ZERO_THRESHOLD / 2], [0.0], [-0.0], [ZERO_THRESHOLD],
                  [-np.nextafter(ZERO_THRESHOLD, 1.0)]])
    _assert_same_margins(Forest([booster], [[0]]), [booster], [[0]], X)


# ---- categorical splits -------------------------------------------------------------------------
def test_categorical_splits_match_lightgbm_for_missing_negative_fractional_and_unseen_codes():
    booster, X_train = _categorical_model()
    cat_splits = [s for s in _splits(booster) if s["decision_type"] == "=="]
    # left sets spanning bitset words (codes below 32 and past 63 on column 0, past 31 on
    # column 1), and one-category splits on the small column
    left = {f: [_left_categories(s) for s in cat_splits if s["split_feature"] == f] for f in (0, 1)}
    assert any(min(c) < 32 and max(c) >= 64 for c in left[0])
    assert any(min(c) < 32 <= max(c) for c in left[1])
    assert any(s["split_feature"] == 2 for s in cat_splits)
    assert {s["missing_type"] for s in cat_splits if s["split_feature"] == 1} == {"NaN"}

    pools = [_category_probes(130), _category_probes(130), _category_probes(5),
             _numeric_probes(booster, 3)]
    base = np.array([5.0, 7.0, 1.0, 0.0])
    X = _probe_matrix(pools, base, n_random=3000, seed=4)
    _assert_same_margins(Forest([booster], [[0, 1, 2, 3]]), [booster], [[0, 1, 2, 3]], X)
    _assert_same_margins(Forest([booster], [[0, 1, 2, 3]]), [booster], [[0, 1, 2, 3]], X_train)


def test_codes_never_seen_in_training_go_where_lightgbm_sends_them():
    booster, X_train = _categorical_model()
    assert not np.isin(X_train[:, 0], [13, 57, 90]).any()
    X = np.tile(np.nanmedian(X_train, axis=0), (8, 1))
    X[:, 0] = [13, 57, 90, 100, 127, 128, 1000, -1]
    X[:, 1] = [60, 61, 95, 99, 127, 128, 1000, -1]
    _assert_same_margins(Forest([booster], [[0, 1, 2, 3]]), [booster], [[0, 1, 2, 3]], X)


# ---- several boosters ---------------------------------------------------------------------------
def _trio_matrix(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Eight columns: 0, 4 categorical (50 and 40 codes), the rest numeric, 1 and 5 with NaN."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    X[:, 0] = rng.integers(0, 50, n)
    X[:, 4] = rng.integers(0, 40, n)
    X[rng.random(n) < 0.2, 1] = np.nan
    X[rng.random(n) < 0.2, 5] = np.nan
    effect = np.random.default_rng(99).normal(size=50)
    logit = (effect[X[:, 0].astype(int)] + np.nan_to_num(X[:, 1], nan=1.0) - X[:, 2]
             + effect[X[:, 4].astype(int)] + np.nan_to_num(X[:, 5], nan=-1.0) + X[:, 7] ** 2 - 1)
    y = (logit + rng.logistic(size=n) > 0).astype(np.float64)
    return X, y


def _train_on(X: np.ndarray, y: np.ndarray, cols: list[int], rounds: int = 30) -> lgb.Booster:
    categorical = tuple(i for i, c in enumerate(cols) if c in (0, 4))
    return _train(X[:, cols], y, rounds=rounds, categorical=categorical, min_data_per_group=5)


def test_boosters_on_column_subsets_each_match_their_own_lightgbm_predict():
    X, y = _trio_matrix(2000, seed=5)
    columns = [list(range(8)), [0, 1, 2], [7, 3, 5, 4, 6]]
    boosters = [_train_on(X, y, cols) for cols in columns]
    probe = np.vstack([X[:500], _trio_matrix(300, seed=6)[0]])
    probe[::7, 5] = np.nan
    probe[::11, 4] = 1000.0
    forest = Forest(boosters, columns)
    assert forest.n_columns == 8
    _assert_same_margins(forest, boosters, columns, probe)
    # a matrix with extra columns past the last used one, non-contiguous and float32
    wide = np.hstack([probe, np.full((probe.shape[0], 2), np.nan)])[::-1]
    _assert_same_margins(forest, boosters, columns, np.asfortranarray(wide))
    small = probe.astype(np.float32)
    _assert_same_margins(forest, boosters, columns, small)
    # Forest.of takes the same from mappings, in the order asked for
    named = Forest.of(dict(zip(BOOSTERS, boosters, strict=True)),
                      dict(zip(BOOSTERS, columns, strict=True)), ("intent", "full"))
    np.testing.assert_array_equal(named.margins(probe), forest.margins(probe)[:, [2, 0]])


def test_matrix_with_too_few_columns_is_refused():
    X, y = _trio_matrix(300, seed=7)
    forest = Forest([_train_on(X, y, [7, 3], rounds=3)], [[7, 3]])
    with pytest.raises(ValueError, match="8 columns"):
        forest.margins(X[:, :7])
    with pytest.raises(ValueError):
        forest.margins(X[0])


# ---- single-leaf trees --------------------------------------------------------------------------
_SINGLE_LEAF = ("{index}\nnum_leaves=1\nnum_cat=0\nsplit_feature=\nsplit_gain=\nthreshold=\n"
                "decision_type=\nleft_child=\nright_child=\nleaf_value={value!r}\nleaf_weight=\n"
                "leaf_count=\ninternal_value=\ninternal_weight=\ninternal_count=\nis_linear=0\n"
                "shrinkage=1\n\n")


def _with_single_leaf_trees(booster: lgb.Booster, values: dict[int, float]) -> lgb.Booster:
    """The booster with tree ``i`` replaced by one leaf of value ``values[i]`` (not the last)."""
    parts = booster.model_to_string().split("\nTree=")
    for index, value in values.items():
        parts[index + 1] = _SINGLE_LEAF.format(index=index, value=value)
    parts[0] = re.sub(r"\ntree_sizes=[^\n]*", "", parts[0])  # sizes no longer hold
    return lgb.Booster(model_str="\nTree=".join(parts))


def test_single_leaf_trees_give_lightgbms_margins():
    booster, X = _numeric_model()
    y = (np.nan_to_num(X[:, 3]) > 0).astype(np.float64)
    # no split can keep 2000 rows on each side of 3000: one tree with one leaf
    stump = _train(X, y, rounds=10, min_data_in_leaf=2000)
    assert stump.num_trees() == 1
    assert stump.dump_model()["tree_info"][0]["num_leaves"] == 1
    # single-leaf trees first, in the middle and next to each other in a model with splits
    patched = _with_single_leaf_trees(booster, {0: -0.75, 7: 0.125, 8: 0.3, 30: -1e-3})
    assert [t["num_leaves"] for t in patched.dump_model()["tree_info"]].count(1) == 4

    probe = _probe_matrix([_numeric_probes(booster, j) for j in range(4)],
                          np.nanmedian(X, axis=0), n_random=500, seed=8)
    columns = [[0, 1, 2, 3]] * 4
    boosters = [stump, patched, booster, stump]
    _assert_same_margins(Forest(boosters, columns), boosters, columns, probe)
    assert np.unique(Forest([stump], [[0, 1, 2, 3]]).margins(probe)).size == 1


# ---- row counts ---------------------------------------------------------------------------------
@pytest.mark.parametrize("n_rows", [0, 1, 3, 4, 5, 63, 64, 65, 67, 127, 128, 130])
def test_every_row_count_walks_every_row(n_rows):
    booster, pools = _mixed_model()
    other, _ = _categorical_model()
    rng = np.random.default_rng(n_rows)
    X = np.column_stack([rng.choice(pool, size=n_rows) for pool in pools])
    X = np.column_stack([X, rng.normal(size=n_rows)])
    # the second booster reads the one categorical column for its three categorical features
    forest = Forest([booster, other], [[0, 1, 2], [2, 2, 2, 3]])
    out = forest.margins(X)
    assert out.shape == (n_rows, 2)
    np.testing.assert_array_equal(out[:, 0], _lightgbm(booster, X[:, [0, 1, 2]]))
    np.testing.assert_array_equal(out[:, 1], _lightgbm(other, X[:, [2, 2, 2, 3]]))
    # a row's margins do not depend on its place among the rows
    np.testing.assert_array_equal(forest.margins(X[::-1]), out[::-1])


# ---- unsupported splits and the scoring bundle --------------------------------------------------
def _bundle(boosters: dict[str, lgb.Booster], groups: list[str]) -> ScoringBundle:
    specs = [{"name": f"f{i}", "group": g, "kind": "numeric"} for i, g in enumerate(groups)]
    return ScoringBundle(manifest={"features": specs}, encoder=FeatureEncoder(specs),
                         boosters=boosters)


def test_zero_as_missing_is_refused_and_the_bundle_falls_back_to_lightgbm():
    rng = np.random.default_rng(9)
    n = 1500
    X = rng.normal(size=(n, 5))
    X[rng.random(n) < 0.3, 1] = 0.0
    X[rng.random(n) < 0.1, 3] = np.nan
    y = (X[:, 0] + np.where(X[:, 1] == 0.0, 1.0, X[:, 1]) - np.nan_to_num(X[:, 3]) + X[:, 4]
         + rng.logistic(size=n) > 0).astype(np.float64)
    groups = ["fit", "fit", "intent", "intent", "fit"]
    fit, intent = [0, 1, 4], [2, 3]
    boosters = {"full": _train(X, y, rounds=20), "fit": _train(X[:, fit], y, rounds=20),
                "intent": _train(X[:, intent], y, rounds=20)}
    probe = X[:300].copy()
    probe[::5, 1] = 0.0
    probe[::6, 3] = np.nan
    probe[::7, 1] = np.nan
    expected = {"full": _lightgbm(boosters["full"], probe),
                "fit": _lightgbm(boosters["fit"], probe[:, fit]),
                "intent": _lightgbm(boosters["intent"], probe[:, intent])}

    # supported boosters: the bundle's margins come from the forest, equal to LightGBM's
    margins = _bundle(boosters, groups).margins(probe)
    for name in BOOSTERS:
        np.testing.assert_array_equal(margins[name], expected[name])

    zero = _train(X[:, fit], y, rounds=20, zero_as_missing=True)
    assert "Zero" in {s["missing_type"] for s in _splits(zero)}
    with pytest.raises(ValueError, match="zero_as_missing"):
        Forest([zero], [fit])
    with pytest.raises(ValueError, match="zero_as_missing"):
        Forest([boosters["full"], zero], [range(5), fit])
    expected["fit"] = _lightgbm(zero, probe[:, fit])
    margins = _bundle({**boosters, "fit": zero}, groups).margins(probe)
    for name in BOOSTERS:
        np.testing.assert_array_equal(margins[name], expected[name])


# ---- property -----------------------------------------------------------------------------------
@st.composite
def _matrices(draw) -> np.ndarray:
    """Rows for the mixed model: probe values, arbitrary doubles (NaN and infinities included)
    and arbitrary category codes, with row counts from 0 to 70."""
    _, pools = _mixed_model()
    anything = st.floats(allow_nan=True, allow_infinity=True)
    numeric = [st.one_of(st.sampled_from(pool.tolist()), anything) for pool in pools[:2]]
    category = st.one_of(st.sampled_from(pools[2].tolist()), st.integers(-3, 200).map(float),
                         st.floats(-3.0, 300.0), anything)
    rows = draw(st.lists(st.tuples(*numeric, category), max_size=70))
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), 3)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(X=_matrices())
def test_forest_equals_lightgbm_on_arbitrary_matrices(X):
    booster, _ = _mixed_model()
    out = Forest([booster, booster], [[0, 1, 2], [0, 1, 2]]).margins(X)
    expected = _lightgbm(booster, X)
    np.testing.assert_array_equal(out[:, 0], expected)
    np.testing.assert_array_equal(out[:, 1], expected)
