"""LightGBM's path-dependent TreeSHAP on one tree, operation for operation, compiled.

``Tree::TreeSHAP`` (with ``ExtendPath``, ``UnwindPath`` and ``UnwoundPathSum``) of LightGBM's
tree.cpp, the recursion replaced by an explicit stack, reading a lead only through its direction
at each split (``go_left``); ``Tree::Decision`` for one split; the model text parsed into the
arrays both need. ``scoring.treeshap`` builds on these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

CATEGORICAL = 1
DEFAULT_LEFT = 2
MISSING_ZERO = 1
MISSING_NAN = 2
ZERO = float(np.float32(1e-35))
"""LightGBM's kZeroThreshold: its row parser drops any |x| up to it, so it reads as exactly 0."""
INT_LIMIT = 2.0**31
"""A category code at or past this does not fit LightGBM's int: its cast yields a negative."""


@dataclass(frozen=True)
class Tree:
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


def parse_model(model_text: str) -> tuple[list[Tree], int]:
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

        trees.append(Tree(
            numbers("split_feature", int), numbers("threshold", float),
            numbers("decision_type", int), numbers("left_child", int),
            numbers("right_child", int), numbers("leaf_value", float),
            numbers("leaf_count", int), numbers("internal_count", int),
            numbers("cat_boundaries", int), numbers("cat_threshold", int),
        ))
    return trees, n_features


def tree_depth(tree: Tree) -> int:
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


def expected_value(tree: Tree) -> float:
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
def tree_shap(node_base, leaf_base, feature, left, right, internal_count, leaf_value,
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
def goes_left(x, kind, threshold, cat_lo, cat_words, cat_threshold):  # pragma: no cover
    """LightGBM's ``Tree::Decision`` for one split (after its parser read |x| <= 1e-35f as 0)."""
    if kind & CATEGORICAL:
        # NaN, negatives (a code in (-1, 0) truncates to 0) and codes past an int go right
        if not (x > -1.0) or x >= INT_LIMIT:
            return False
        code = np.int64(x)
        word = code // 32
        if word >= cat_words:
            return False
        return ((cat_threshold[cat_lo + word] >> (code % 32)) & 1) == 1
    missing = (kind >> 2) & 3
    if np.isnan(x) and missing != MISSING_NAN:
        x = 0.0
    if (missing == MISSING_ZERO and -ZERO <= x <= ZERO) or (
            missing == MISSING_NAN and np.isnan(x)):
        return (kind & DEFAULT_LEFT) != 0
    return x <= threshold


@njit(cache=True)
def fill_tables(tree_node_base, tree_leaf_base, tree_splits, tree_table, tree_n_local, local,
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
            tree_shap(tree_node_base[t], tree_leaf_base[t], local, left, right, internal_count,
                       leaf_value, leaf_count, go_left, table[start:start + width], p_feat,
                       p_zero, p_one, p_w, s_node, s_depth, s_parent, s_zero, s_one, s_feat)
