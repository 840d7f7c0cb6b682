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
* the recursion itself is LightGBM's ``Tree::TreeSHAP`` (``ExtendPath``, ``UnwindPath``,
  ``UnwoundPathSum``, operation for operation), run on an explicit stack; larger trees run it
  per lead, as LightGBM does, without the sparse-row copies.

Decisions are LightGBM's (``NumericalDecision`` with NaN, zero-as-missing and default
directions; ``CategoricalDecision`` with its bitsets; |x| <= 1e-35f read as 0 by its row
parser), cover is the trees' ``internal_count`` / ``leaf_count``, and the last column is the sum
of the trees' expected values, as in ``Tree::PredictContrib``. The only difference from
LightGBM is the order in which each tree's share is added to a lead's sum, so values agree to
rounding (tests/features/test_treeshap.py checks 1e-9 on models built to reach every branch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

_CATEGORICAL = 1
_DEFAULT_LEFT = 2
_MISSING_ZERO = 1
_MISSING_NAN = 2
_ZERO = float(np.float32(1e-35))
"""LightGBM's kZeroThreshold: its row parser drops any |x| up to it, so it reads as exactly 0."""
_INT_LIMIT = 2.0**31
"""A category code at or past this does not fit LightGBM's int: its cast yields a negative."""
TABLE_SPLITS = 10
"""Trees with at most this many splits get a table of 2**splits contribution rows."""
PARALLEL_ROWS = 2048
"""Below this many rows the serial loop is used: threads cost more than they save."""


@dataclass(frozen=True)
class _Tree:
    split_feature: list[int]
    threshold: list[float]
    decision_type: list[int]
    left: list[int]
    right: list[int]
    leaf_value: list[float]
    leaf_count: list[int]
    internal_count: list[int]
    cat_boundaries: list[int]
    cat_threshold: list[int]


def _parse(model_text: str) -> tuple[list[_Tree], int]:
    """The trees of a LightGBM model text and its number of features."""
    head, _, _ = model_text.partition("\nTree=")
    fields = dict(line.split("=", 1) for line in head.splitlines() if "=" in line)
    if int(fields.get("num_tree_per_iteration", "1")) != 1:
        raise ValueError("models with several trees per iteration are not supported")
    if "average_output" in head.splitlines():
        raise ValueError("random-forest models (average_output) are not supported")
    n_features = int(fields["max_feature_idx"]) + 1
    trees = []
    for block in model_text.split("\nTree=")[1:]:
        block = block.split("\nend of trees")[0]
        values = dict(line.split("=", 1) for line in block.splitlines()[1:] if "=" in line)
        if int(values.get("is_linear", "0")):
            raise ValueError("linear trees are not supported")

        def numbers(key: str, kind: type, values: dict[str, str] = values) -> list:
            return [kind(v) for v in values.get(key, "").split()]

        trees.append(_Tree(
            numbers("split_feature", int), numbers("threshold", float),
            numbers("decision_type", int), numbers("left_child", int),
            numbers("right_child", int), numbers("leaf_value", float),
            numbers("leaf_count", int), numbers("internal_count", int),
            numbers("cat_boundaries", int), numbers("cat_threshold", int),
        ))
    return trees, n_features


def _depth(tree: _Tree) -> int:
    """Edges on the longest root-to-leaf path."""
    if not tree.split_feature:
        return 0
    deepest, stack = 0, [(0, 0)]
    while stack:
        node, depth = stack.pop()
        if node < 0:
            deepest = max(deepest, depth)
        else:
            stack += [(tree.left[node], depth + 1), (tree.right[node], depth + 1)]
    return deepest


def _expected_value(tree: _Tree) -> float:
    """``Tree::ExpectedValue``: the leaves weighted by their share of the training rows."""
    if len(tree.leaf_value) == 1:
        return tree.leaf_value[0]
    total = float(tree.internal_count[0])
    value = 0.0
    for count, leaf in zip(tree.leaf_count, tree.leaf_value, strict=True):
        value += (count / total) * leaf
    return value


# ---- LightGBM's TreeSHAP, on one tree -----------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _extend(p_feat, p_zero, p_one, p_w, seg, depth, zero, one, feature):  # pragma: no cover
    p_feat[seg + depth] = feature
    p_zero[seg + depth] = zero
    p_one[seg + depth] = one
    p_w[seg + depth] = 1.0 if depth == 0 else 0.0
    for i in range(depth - 1, -1, -1):
        p_w[seg + i + 1] += one * p_w[seg + i] * (i + 1) / (depth + 1)
        p_w[seg + i] = zero * p_w[seg + i] * (depth - i) / (depth + 1)


@njit(cache=True, nogil=True, inline="always")
def _unwind(p_feat, p_zero, p_one, p_w, seg, depth, index):  # pragma: no cover
    one = p_one[seg + index]
    zero = p_zero[seg + index]
    next_one = p_w[seg + depth]
    for i in range(depth - 1, -1, -1):
        if one != 0:
            tmp = p_w[seg + i]
            p_w[seg + i] = next_one * (depth + 1) / ((i + 1) * one)
            next_one = tmp - p_w[seg + i] * zero * (depth - i) / (depth + 1)
        else:
            p_w[seg + i] = (p_w[seg + i] * (depth + 1)) / (zero * (depth - i))
    for i in range(index, depth):
        p_feat[seg + i] = p_feat[seg + i + 1]
        p_zero[seg + i] = p_zero[seg + i + 1]
        p_one[seg + i] = p_one[seg + i + 1]


@njit(cache=True, nogil=True, inline="always")
def _unwound_sum(p_zero, p_one, p_w, seg, depth, index):  # pragma: no cover
    one = p_one[seg + index]
    zero = p_zero[seg + index]
    next_one = p_w[seg + depth]
    total = 0.0
    for i in range(depth - 1, -1, -1):
        if one != 0:
            tmp = next_one * (depth + 1) / ((i + 1) * one)
            total += tmp
            next_one = p_w[seg + i] - tmp * zero * ((depth - i) / (depth + 1))
        else:
            total += (p_w[seg + i] / zero) / ((depth - i) / (depth + 1))
    return total


@njit(cache=True, nogil=True)
def _tree_shap(node_base, leaf_base, feature, left, right, internal_count, leaf_value,
               leaf_count, go_left, phi, p_feat, p_zero, p_one, p_w, s_node, s_depth, s_parent,
               s_zero, s_one, s_feat):  # pragma: no cover - compiled
    """``Tree::TreeSHAP`` from the root, the recursion replaced by a stack (hot child first, as
    LightGBM recurses). ``go_left[i]`` is the lead's direction at split ``i``; ``feature`` gives
    the index into ``phi`` of each split's feature. Each call level owns the path segment that
    starts at its parent's segment plus its depth, so a popped frame finds its parent's path
    as the recursion would."""
    top = 1
    s_node[0], s_depth[0], s_parent[0] = 0, 0, 0
    s_zero[0], s_one[0], s_feat[0] = 1.0, 1.0, -1
    while top > 0:
        top -= 1
        node, depth, parent = s_node[top], s_depth[top], s_parent[top]
        seg = parent + depth
        for i in range(depth):
            p_feat[seg + i] = p_feat[parent + i]
            p_zero[seg + i] = p_zero[parent + i]
            p_one[seg + i] = p_one[parent + i]
            p_w[seg + i] = p_w[parent + i]
        _extend(p_feat, p_zero, p_one, p_w, seg, depth, s_zero[top], s_one[top], s_feat[top])
        if node < 0:
            value = leaf_value[leaf_base + ~node]
            for i in range(1, depth + 1):
                w = _unwound_sum(p_zero, p_one, p_w, seg, depth, i)
                phi[p_feat[seg + i]] += w * (p_one[seg + i] - p_zero[seg + i]) * value
            continue
        n = node_base + node
        if go_left[node]:
            hot, cold = left[n], right[n]
        else:
            hot, cold = right[n], left[n]
        w = float(internal_count[n])
        hot_count = internal_count[node_base + hot] if hot >= 0 else leaf_count[leaf_base + ~hot]
        cold_count = (internal_count[node_base + cold] if cold >= 0
                      else leaf_count[leaf_base + ~cold])
        incoming_zero, incoming_one = 1.0, 1.0
        f = feature[n]
        index = 0
        while index <= depth and p_feat[seg + index] != f:
            index += 1
        if index != depth + 1:
            incoming_zero, incoming_one = p_zero[seg + index], p_one[seg + index]
            _unwind(p_feat, p_zero, p_one, p_w, seg, depth, index)
            depth -= 1
        s_node[top], s_depth[top], s_parent[top] = cold, depth + 1, seg
        s_zero[top], s_one[top], s_feat[top] = cold_count / w * incoming_zero, 0.0, f
        top += 1
        s_node[top], s_depth[top], s_parent[top] = hot, depth + 1, seg
        s_zero[top], s_one[top], s_feat[top] = hot_count / w * incoming_zero, incoming_one, f
        top += 1


@njit(cache=True, nogil=True, inline="always")
def _goes_left(x, kind, threshold, cat_lo, cat_words, cat_threshold):  # pragma: no cover
    """LightGBM's ``Tree::Decision`` for one split (after its parser read |x| <= 1e-35f as 0)."""
    if kind & _CATEGORICAL:
        # NaN, negatives (a code in (-1, 0) truncates to 0) and codes past an int go right
        if not (x > -1.0) or x >= _INT_LIMIT:
            return False
        code = np.int64(x)
        word = code // 32
        if word >= cat_words:
            return False
        return ((cat_threshold[cat_lo + word] >> (code % 32)) & 1) == 1
    missing = (kind >> 2) & 3
    if np.isnan(x) and missing != _MISSING_NAN:
        x = 0.0
    if (missing == _MISSING_ZERO and -_ZERO <= x <= _ZERO) or (
            missing == _MISSING_NAN and np.isnan(x)):
        return (kind & _DEFAULT_LEFT) != 0
    return x <= threshold


@njit(cache=True, nogil=True)
def _explain_rows(X, out, rows, tree_node_base, tree_leaf_base, tree_splits, tree_table,
                  tree_local_base, tree_n_local, feature, local, threshold, kind, cat_lo,
                  cat_words, left, right, internal_count, cat_threshold, leaf_value, leaf_count,
                  local_feature, table, path_size, stack_size):  # pragma: no cover - compiled
    """Add every tree's contributions for ``rows`` of ``X`` into ``out`` (zeroed by the caller)."""
    go_left = np.zeros(max(1, tree_splits.max()), dtype=np.bool_)
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
        phi = out[r]
        for t in range(tree_node_base.shape[0]):
            splits = tree_splits[t]
            if splits == 0:
                continue
            base = tree_node_base[t]
            pattern = 0
            for i in range(splits):
                n = base + i
                x = X[r, feature[n]]
                if -_ZERO <= x <= _ZERO:
                    x = 0.0
                left_here = _goes_left(x, kind[n], threshold[n], cat_lo[n], cat_words[n],
                                       cat_threshold)
                go_left[i] = left_here
                if left_here:
                    pattern |= 1 << i
            if tree_table[t] >= 0:
                width = tree_n_local[t]
                row = tree_table[t] + pattern * width
                lb = tree_local_base[t]
                for j in range(width):
                    phi[local_feature[lb + j]] += table[row + j]
            else:
                _tree_shap(base, tree_leaf_base[t], feature, left, right, internal_count,
                           leaf_value, leaf_count, go_left, phi, p_feat, p_zero, p_one, p_w,
                           s_node, s_depth, s_parent, s_zero, s_one, s_feat)


@njit(cache=True, nogil=True)
def _explain_serial(X, out, *arrays):  # pragma: no cover - compiled
    _explain_rows(X, out, np.arange(X.shape[0]), *arrays)


@njit(cache=True, parallel=True)
def _explain_parallel(X, out, block, *arrays):  # pragma: no cover - compiled
    n_blocks = (X.shape[0] + block - 1) // block
    for b in prange(n_blocks):
        _explain_rows(X, out, np.arange(b * block, min(X.shape[0], (b + 1) * block)), *arrays)


@njit(cache=True)
def _fill_tables(tree_node_base, tree_leaf_base, tree_splits, tree_table, tree_n_local, local,
                 left, right, internal_count, leaf_value, leaf_count, table, path_size,
                 stack_size):  # pragma: no cover - compiled
    """Each table tree's contributions for every direction pattern, by the same recursion."""
    go_left = np.zeros(max(1, tree_splits.max()), dtype=np.bool_)
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
    for t in range(tree_node_base.shape[0]):
        if tree_table[t] < 0:
            continue
        splits, width = tree_splits[t], tree_n_local[t]
        for pattern in range(1 << splits):
            for i in range(splits):
                go_left[i] = ((pattern >> i) & 1) == 1
            start = tree_table[t] + pattern * width
            _tree_shap(tree_node_base[t], tree_leaf_base[t], local, left, right, internal_count,
                       leaf_value, leaf_count, go_left, table[start:start + width], p_feat,
                       p_zero, p_one, p_w, s_node, s_depth, s_parent, s_zero, s_one, s_feat)


class TreeShap:
    """Exact path-dependent TreeSHAP of one LightGBM booster (binary or regression).

    Args:
        booster: a LightGBM booster (anything with ``model_to_string()``).

    Raises:
        ValueError: for a model this does not cover (several trees per iteration, random-forest
            averaging, linear trees); callers then use ``pred_contrib``.

    Example:
        >>> explainer = TreeShap(booster)                          # doctest: +SKIP
        >>> explainer.contributions(X)  # == booster.predict(X, pred_contrib=True)  +SKIP
    """

    def __init__(self, booster) -> None:
        trees, self.n_features = _parse(booster.model_to_string())
        node_base, leaf_base, splits, table_at, local_base, n_local = [], [], [], [], [], []
        feature, local, threshold, kind, cat_lo, cat_words = [], [], [], [], [], []
        left, right, internal_count, cat_threshold = [], [], [], []
        leaf_value, leaf_count, local_feature = [], [], []
        table_size, deepest = 0, 0
        expected = 0.0
        for tree in trees:
            expected += _expected_value(tree)
            deepest = max(deepest, _depth(tree))
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
                if tree.decision_type[i] & _CATEGORICAL:
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
        local_arr = np.asarray(local, dtype=i64)
        n_local_arr = np.asarray(n_local, dtype=i64)
        table = np.zeros(table_size, dtype=np.float64)
        if len(trees):
            _fill_tables(*tree_arrays, n_local_arr, local_arr, *node_arrays, *leaf_arrays,
                         table, path_size, stack_size)
        self._arrays = (
            *tree_arrays, np.asarray(local_base, dtype=i64), n_local_arr,
            np.asarray(feature, dtype=i64), local_arr, np.asarray(threshold, dtype=np.float64),
            np.asarray(kind, dtype=i64), np.asarray(cat_lo, dtype=i64),
            np.asarray(cat_words, dtype=i64), *node_arrays,
            np.asarray(cat_threshold, dtype=i64), *leaf_arrays,
            np.asarray(local_feature, dtype=i64), table, path_size, stack_size,
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
