"""LightGBM boosters flattened into arrays and walked by one compiled loop.

``Booster.predict`` costs about 10 us per lead for a 400-tree model of seven-leaf trees: for
every row LightGBM builds a sparse copy, fills a dense buffer and then walks the trees. A
request scores 100 leads through three boosters, so that is most of the request. ``Forest``
reads the boosters' own model text (every threshold and leaf value at full precision), lays the
nodes of all trees of all boosters out in flat arrays, and walks them in a loop compiled by
numba (already installed: SHAP depends on it), reading the encoded matrix in place. Each
booster's column subset is folded into its split features, so the fit and intent boosters need
no copy of their columns.

The walk is LightGBM's own decision rule (``Tree::NumericalDecision`` and
``Tree::CategoricalDecision``), and each lead's margin adds the trees in LightGBM's order, so
the margins are bit-for-bit the ones ``Booster.predict(raw_score=True)`` returns;
tests/features/test_forest.py checks that on models and inputs built to reach every branch
(missing values of each kind, categories outside the bitsets, negative categories).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

# decision_type bits, as in LightGBM's tree.h
_CATEGORICAL = 1
_DEFAULT_LEFT = 2
_MISSING_ZERO = 1
_MISSING_NAN = 2
_ZERO = float(np.float32(1e-35))
"""LightGBM's kZeroThreshold: predict reads any |x| up to it as exactly 0."""


@dataclass(frozen=True)
class _Tree:
    split_feature: list[int]
    threshold: list[float]
    decision_type: list[int]
    left: list[int]
    right: list[int]
    leaf_value: list[float]
    cat_boundaries: list[int]
    cat_threshold: list[int]


def _numbers(fields: dict[str, str], key: str, kind: type) -> list:
    return [kind(v) for v in fields.get(key, "").split()]


def _parse_trees(model_text: str) -> list[_Tree]:
    """The trees of a LightGBM model text (``Booster.model_to_string``), in order."""
    trees = []
    for block in model_text.split("\nTree=")[1:]:
        block = block.split("\nend of trees")[0]
        fields = dict(line.split("=", 1) for line in block.splitlines()[1:] if "=" in line)
        if int(fields.get("is_linear", "0")):
            raise ValueError("linear trees are not supported")
        trees.append(_Tree(*(
            _numbers(fields, key, kind) for key, kind in (
                ("split_feature", int), ("threshold", float), ("decision_type", int),
                ("left_child", int), ("right_child", int), ("leaf_value", float),
                ("cat_boundaries", int), ("cat_threshold", int),
            )
        )))
    return trees


@njit(cache=True, nogil=True, inline="always")
def _step(X, r, node, feature, threshold, nan_left, cat_base, cat_size, cat_table, child):
    fval = X[r, feature[node]]
    fval = 0.0 if (fval >= -_ZERO) & (fval <= _ZERO) else fval  # as LightGBM reads its input
    size = cat_size[node]
    numeric = (fval <= threshold[node]) | (np.isnan(fval) & nan_left[node])
    inside = (fval > -1.0) & (fval < size)
    categorical = cat_table[cat_base[node] + np.int64(fval if inside else np.float64(size))]
    left = numeric if size == 0 else categorical
    return child[2 * node + 1 - np.int64(left)]


@njit(cache=True, nogil=True)
def _walk(X, out, tree_root, tree_depth, tree_booster, feature, threshold, nan_left, cat_base,
          cat_size, cat_table, child, node_value):  # pragma: no cover - compiled
    """Every tree over blocks of rows, a fixed number of branch-free steps per tree.

    A leaf is a node whose children are itself, so ``tree_depth`` steps from the root end on
    the leaf for every row and no step depends on a branch the CPU could mispredict. Rows go in
    blocks of 64, so a tree's nodes stay in the L1 cache while the block walks it, four rows
    side by side so their loads overlap. A numeric node sends a lead left when
    ``x <= threshold``, or when x is missing and ``nan_left``; a categorical node looks the
    category up in its table (``cat_size`` entries from ``cat_base``; a missing, negative or
    unseen category reads the entry past the end, which is "right"). Trees are added in
    LightGBM's order, so the sums are bit-for-bit LightGBM's.
    """
    n_rows = X.shape[0]
    out[:, :] = 0.0
    for block in range(0, n_rows, 64):
        end = min(block + 64, n_rows)
        for t in range(tree_root.shape[0]):
            root = tree_root[t]
            depth = tree_depth[t]
            b = tree_booster[t]
            r = block
            while r + 4 <= end:
                n0 = n1 = n2 = n3 = root
                for _ in range(depth):
                    n0 = _step(X, r, n0, feature, threshold, nan_left, cat_base, cat_size,
                               cat_table, child)
                    n1 = _step(X, r + 1, n1, feature, threshold, nan_left, cat_base, cat_size,
                               cat_table, child)
                    n2 = _step(X, r + 2, n2, feature, threshold, nan_left, cat_base, cat_size,
                               cat_table, child)
                    n3 = _step(X, r + 3, n3, feature, threshold, nan_left, cat_base, cat_size,
                               cat_table, child)
                out[r, b] += node_value[n0]
                out[r + 1, b] += node_value[n1]
                out[r + 2, b] += node_value[n2]
                out[r + 3, b] += node_value[n3]
                r += 4
            while r < end:
                n0 = root
                for _ in range(depth):
                    n0 = _step(X, r, n0, feature, threshold, nan_left, cat_base, cat_size,
                               cat_table, child)
                out[r, b] += node_value[n0]
                r += 1


def _depth(tree: _Tree) -> int:
    """Splits on the longest path from the root to a leaf (0 for a single-leaf tree)."""
    if not tree.split_feature:
        return 0
    deepest, stack = 0, [(0, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((c, depth + 1) for c in (tree.left[node], tree.right[node]) if c >= 0)
    return deepest


class Forest:
    """Several boosters over one encoded matrix, each on its own columns.

    Args:
        boosters: LightGBM boosters (anything with ``model_to_string()``), in output order.
        columns: for each booster, the matrix column of each of its features.
    """

    def __init__(self, boosters: Sequence, columns: Sequence[Sequence[int]]) -> None:
        roots, depths, owners = [], [], []
        feature, threshold, nan_left, cat_size, child, value = [], [], [], [], [], []
        cat_base: list[int] = []
        table: list[bool] = [False]  # entry 0: where numeric nodes point (never read as "left")
        for b, (booster, cols) in enumerate(zip(boosters, columns, strict=True)):
            cols = list(cols)
            for tree in _parse_trees(booster.model_to_string()):
                base = len(feature)
                n_internal = len(tree.split_feature)
                leaf_base = base + n_internal  # leaf j is node leaf_base + j

                def node_id(c: int, base: int = base, leaf_base: int = leaf_base) -> int:
                    return base + c if c >= 0 else leaf_base + ~c

                for i, f in enumerate(tree.split_feature):
                    kind = tree.decision_type[i]
                    missing = (kind >> 2) & 3
                    feature.append(cols[f])
                    child.extend((node_id(tree.left[i]), node_id(tree.right[i])))
                    value.append(0.0)
                    if kind & _CATEGORICAL:
                        k = int(tree.threshold[i])
                        lo, hi = tree.cat_boundaries[k], tree.cat_boundaries[k + 1]
                        words = tree.cat_threshold[lo:hi]
                        threshold.append(0.0)
                        cat_base.append(len(table))
                        nan_left.append(False)
                        cat_size.append(32 * len(words))
                        table.extend(bool((w >> bit) & 1) for w in words for bit in range(32))
                        table.append(False)  # missing, negative or unseen: right
                    elif missing == _MISSING_ZERO:
                        raise ValueError("zero_as_missing splits are not supported")
                    else:
                        threshold.append(tree.threshold[i])
                        cat_base.append(0)
                        nan_left.append(bool(kind & _DEFAULT_LEFT) if missing == _MISSING_NAN
                                        else 0.0 <= tree.threshold[i])
                        cat_size.append(0)
                for j, leaf in enumerate(tree.leaf_value):
                    feature.append(0)
                    threshold.append(0.0)
                    cat_base.append(0)
                    nan_left.append(False)
                    cat_size.append(0)
                    child.extend((leaf_base + j, leaf_base + j))  # a leaf stays where it is
                    value.append(leaf)
                roots.append(base)
                depths.append(_depth(tree))
                owners.append(b)
        as_int = np.int64
        self._arrays = (
            np.asarray(roots, dtype=as_int), np.asarray(depths, dtype=as_int),
            np.asarray(owners, dtype=as_int), np.asarray(feature, dtype=as_int),
            np.asarray(threshold, dtype=np.float64), np.asarray(nan_left, dtype=np.bool_),
            np.asarray(cat_base, dtype=as_int), np.asarray(cat_size, dtype=as_int),
            np.asarray(table, dtype=np.bool_),
            np.asarray(child, dtype=as_int), np.asarray(value, dtype=np.float64),
        )
        self.n_outputs = len(boosters)
        self.n_columns = 1 + max((max(c) for c in columns if len(c)), default=-1)

    def margins(self, X: np.ndarray) -> np.ndarray:
        """Raw margins, shape (rows, boosters), for an encoded float64 matrix."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] < self.n_columns:
            raise ValueError(f"expected a matrix with {self.n_columns} columns, got {X.shape}")
        out = np.empty((X.shape[0], self.n_outputs), dtype=np.float64)
        _walk(X, out, *self._arrays)
        return out

    @classmethod
    def of(cls, boosters: Mapping[str, object], columns: Mapping[str, Sequence[int]],
           order: Sequence[str]) -> Forest:
        return cls([boosters[name] for name in order], [columns[name] for name in order])
