"""Exact path-dependent TreeSHAP of a LightGBM booster, compiled: what ``pred_contrib`` returns.

``Booster.predict(pred_contrib=True)`` (and ``shap.TreeExplainer``, which calls it) walks every
tree once per lead with the path-dependent TreeSHAP recursion of Lundberg et al. ("Consistent
individualized feature attribution for tree ensembles", 2018): about 200 us per lead for the
demo's 400 seven-leaf trees. Reasons, not scores, bounded every batch.

Two observations make it an order of magnitude cheaper without changing a single value:

* the recursion depends on a lead only through the direction it takes at each split (the "hot"
  child); every fraction, count and leaf value is the tree's own. So for a tree of few splits
  (``TABLE_SPLITS`` or fewer: the default model's trees have six) the contributions of each of the
  2**splits direction patterns are computed once, when the model loads, by that same recursion,
  and a lead costs one comparison per split and one addition per feature of the tree;
* the directions themselves are found by the code ``scoring.forest`` finds leaves with
  (QuickScorer, Lucchese et al. 2015: ``NodeTables`` and ``clear_right``): every split starts
  "left", and only the splits that send the lead right are visited, column by column (a prefix
  of each numeric column's splits sorted by threshold; a list per category), clearing one bit of
  the tree's pattern each.

The recursion itself is LightGBM's ``Tree::TreeSHAP`` (``scoring.treeshap_path``); larger trees
run it per lead, as LightGBM does, without its sparse-row copies.

Directions are LightGBM's (``NumericalDecision`` with NaN, zero-as-missing and default
directions; ``CategoricalDecision`` with its bitsets; |x| <= 1e-35f read as 0 by its row
parser), cover is the trees' ``internal_count`` / ``leaf_count``, and the last column is the sum
of the trees' expected values, as in ``Tree::PredictContrib``. The only difference from
LightGBM is the order in which each tree's share is added to a lead's sum, so values agree to
rounding (tests/scoring/test_treeshap.py checks 1e-9 on models built to reach every branch).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from scoring.forest import NodeTables, clear_right
from scoring.treeshap_path import (
    CATEGORICAL,
    ZERO,
    expected_value,
    fill_tables,
    goes_left,
    parse_model,
    tree_depth,
    tree_shap,
)

TABLE_SPLITS = 10
"""Trees with at most this many splits get a table of 2**splits contribution rows."""
MAX_SPLITS = 63
"""A tree's directions are one 64-bit pattern: trees of more splits go to ``pred_contrib``."""
PARALLEL_ROWS = 2048
"""Below this many rows the serial loop is used: threads cost more than they save."""


@njit(cache=True, nogil=True)
def _explain_rows(X, out, rows, num_col, num_start, num_threshold, num_tree, num_mask,
                  num_nan_right, cat_col, cat_size, cat_slot_base, slot_start, slot_tree,
                  slot_mask, direct_node, direct_tree, direct_mask, tree_all_left,
                  tree_node_base, tree_leaf_base, tree_splits, tree_table, tree_local_base,
                  tree_n_local, local_feature, table, feature, kind, threshold, cat_lo,
                  cat_words, cat_threshold, left, right, internal_count, leaf_value, leaf_count,
                  path_size, stack_size):  # pragma: no cover - compiled
    """Add every tree's contributions for ``rows`` of ``X`` into ``out`` (zeroed by the caller).

    A tree's pattern has bit ``i`` set when the lead goes left at its split ``i``."""
    n_trees = tree_node_base.shape[0]
    patterns = np.empty(n_trees, dtype=np.uint64)
    go_left = np.zeros(MAX_SPLITS + 1, dtype=np.bool_)
    p_feat = np.empty(path_size, dtype=np.int64)
    p_zero = np.empty(path_size)
    p_one = np.empty(path_size)
    p_w = np.empty(path_size)
    s_node = np.empty(stack_size, dtype=np.int64)
    s_depth = np.empty(stack_size, dtype=np.int64)
    s_parent = np.empty(stack_size, dtype=np.int64)
    s_zero = np.empty(stack_size)
    s_one = np.empty(stack_size)
    s_feat = np.empty(stack_size, dtype=np.int64)
    for r in rows:
        patterns[:] = tree_all_left
        clear_right(X, r, patterns, num_col, num_start, num_threshold, num_tree, num_mask,
                    num_nan_right, cat_col, cat_size, cat_slot_base, slot_start, slot_tree,
                    slot_mask)
        for d in range(direct_node.shape[0]):  # zero-as-missing splits: LightGBM's own rule
            n = direct_node[d]
            x = X[r, feature[n]]
            if -ZERO <= x <= ZERO:
                x = 0.0
            if not goes_left(x, kind[n], threshold[n], cat_lo[n], cat_words[n], cat_threshold):
                patterns[direct_tree[d]] &= direct_mask[d]
        phi = out[r]
        for t in range(n_trees):
            if tree_table[t] >= 0:
                width = tree_n_local[t]
                at = tree_table[t] + np.int64(patterns[t]) * width
                lb = tree_local_base[t]
                for j in range(width):
                    phi[local_feature[lb + j]] += table[at + j]
            elif tree_splits[t] > 0:
                bits = patterns[t]
                for i in range(tree_splits[t]):
                    go_left[i] = ((bits >> np.uint64(i)) & np.uint64(1)) == np.uint64(1)
                tree_shap(tree_node_base[t], tree_leaf_base[t], feature, left, right,
                          internal_count, leaf_value, leaf_count, go_left, phi, p_feat, p_zero,
                          p_one, p_w, s_node, s_depth, s_parent, s_zero, s_one, s_feat)


@njit(cache=True, nogil=True)
def _explain_serial(X, out, *arrays):  # pragma: no cover - compiled
    _explain_rows(X, out, np.arange(X.shape[0]), *arrays)


@njit(cache=True, parallel=True)
def _explain_parallel(X, out, block, *arrays):  # pragma: no cover - compiled
    n_blocks = (X.shape[0] + block - 1) // block
    for b in prange(n_blocks):
        _explain_rows(X, out, np.arange(b * block, min(X.shape[0], (b + 1) * block)), *arrays)


def _directions(trees, node_base) -> tuple[np.ndarray, ...]:
    """Per column, the splits a value sends right, each as (tree, mask clearing its bit)."""
    nodes = NodeTables()
    direct_node, direct_tree, direct_mask = [], [], []
    full = (1 << 64) - 1
    for t, tree in enumerate(trees):
        for i, f in enumerate(tree.split_feature):
            mask = full & ~(1 << i)
            if not nodes.add(tree, i, f, t, mask):  # zero-as-missing: LightGBM's rule per lead
                direct_node.append(node_base[t] + i)
                direct_tree.append(t)
                direct_mask.append(mask)

    i64, u64 = np.int64, np.uint64
    return (
        *nodes.arrays(),
        np.asarray(direct_node, dtype=i64), np.asarray(direct_tree, dtype=i64),
        np.asarray(direct_mask, dtype=u64),
        np.asarray([(1 << len(t.split_feature)) - 1 for t in trees], dtype=u64),
    )


class TreeShap:
    """Exact path-dependent TreeSHAP of one LightGBM booster (binary or regression).

    Args:
        booster: a LightGBM booster (anything with ``model_to_string()``).

    Raises:
        ValueError: for a model this does not cover (several trees per iteration, random-forest
            averaging, linear trees, trees of more than 64 leaves); callers then use
            ``pred_contrib``.

    Example:
        >>> explainer = TreeShap(booster)                          # doctest: +SKIP
        >>> explainer.contributions(X)  # == booster.predict(X, pred_contrib=True)  +SKIP
    """

    def __init__(self, booster) -> None:
        trees, self.n_features = parse_model(booster.model_to_string())
        node_base, leaf_base, splits, table_at, local_base, n_local = [], [], [], [], [], []
        feature, local, threshold, kind, cat_lo, cat_words = [], [], [], [], [], []
        left, right, internal_count, cat_threshold = [], [], [], []
        leaf_value, leaf_count, local_feature = [], [], []
        table_size, deepest = 0, 0
        expected = 0.0
        for tree in trees:
            if len(tree.split_feature) > MAX_SPLITS:
                raise ValueError("trees of more than 64 leaves are not supported")
            expected += expected_value(tree)
            deepest = max(deepest, tree_depth(tree))
            n_splits = len(tree.split_feature)
            node_base.append(len(feature))
            leaf_base.append(len(leaf_value))
            splits.append(n_splits)
            distinct = sorted(set(tree.split_feature))
            local_base.append(len(local_feature))
            n_local.append(len(distinct))
            local_feature.extend(distinct)
            if 0 < n_splits <= TABLE_SPLITS:
                table_at.append(table_size)
                table_size += (1 << n_splits) * len(distinct)
            else:
                table_at.append(-1)
            for i, f in enumerate(tree.split_feature):
                feature.append(f)
                local.append(distinct.index(f))
                threshold.append(tree.threshold[i])
                kind.append(tree.decision_type[i])
                if tree.decision_type[i] & CATEGORICAL:
                    k = int(tree.threshold[i])
                    lo, hi = tree.cat_boundaries[k], tree.cat_boundaries[k + 1]
                    cat_lo.append(len(cat_threshold) + lo)
                    cat_words.append(hi - lo)
                else:
                    cat_lo.append(0)
                    cat_words.append(0)
            cat_threshold.extend(tree.cat_threshold)
            left.extend(tree.left)
            right.extend(tree.right)
            internal_count.extend(tree.internal_count)
            leaf_value.extend(tree.leaf_value)
            leaf_count.extend(tree.leaf_count or [0] * len(tree.leaf_value))
        self.expected_value = expected
        self._n_trees = len(trees)
        i64 = np.int64
        tree_arrays = (np.asarray(node_base, dtype=i64), np.asarray(leaf_base, dtype=i64),
                       np.asarray(splits, dtype=i64), np.asarray(table_at, dtype=i64))
        node_arrays = (np.asarray(left, dtype=i64), np.asarray(right, dtype=i64),
                       np.asarray(internal_count, dtype=i64))
        leaf_arrays = (np.asarray(leaf_value, dtype=np.float64),
                       np.asarray(leaf_count, dtype=i64))
        # path segments of every recursion level: 1 + 2 + ... + (deepest + 2), and a stack
        # that holds at most two frames per level
        path_size = (deepest + 2) * (deepest + 3) // 2 + 1
        stack_size = 2 * (deepest + 2)
        n_local_arr = np.asarray(n_local, dtype=i64)
        table = np.zeros(table_size, dtype=np.float64)
        if len(trees):
            fill_tables(*tree_arrays, n_local_arr, np.asarray(local, dtype=i64), *node_arrays,
                        *leaf_arrays, table, path_size, stack_size)
        self._arrays = (
            *_directions(trees, node_base), *tree_arrays,
            np.asarray(local_base, dtype=i64), n_local_arr,
            np.asarray(local_feature, dtype=i64), table,
            np.asarray(feature, dtype=i64), np.asarray(kind, dtype=i64),
            np.asarray(threshold, dtype=np.float64), np.asarray(cat_lo, dtype=i64),
            np.asarray(cat_words, dtype=i64), np.asarray(cat_threshold, dtype=i64),
            *node_arrays, *leaf_arrays, path_size, stack_size,
        )

    def contributions(self, X: np.ndarray, *, parallel: bool = False) -> np.ndarray:
        """``(rows, n_features + 1)`` contributions, the last column the expected value.

        Args:
            X: encoded matrix, at least ``n_features`` columns.
            parallel: spread the rows over numba's threads (for large batches).
        """
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] < self.n_features:
            raise ValueError(f"expected a matrix with {self.n_features} columns, got {X.shape}")
        out = np.zeros((X.shape[0], self.n_features + 1), dtype=np.float64)
        if X.shape[0] and self._n_trees:
            if parallel and X.shape[0] >= PARALLEL_ROWS:
                _explain_parallel(X, out, 256, *self._arrays)
            else:
                _explain_serial(X, out, *self._arrays)
        out[:, -1] = self.expected_value
        return out
