"""LightGBM boosters scored by one compiled loop, by the QuickScorer method.

``Booster.predict`` costs about 10 us per lead for a 400-tree model of seven-leaf trees: for
every row LightGBM builds a sparse copy, fills a dense buffer and then walks the trees. A
request scores 100 leads through three boosters, so that was most of the request. ``Forest``
reads the boosters' own model text (every threshold and leaf value at full precision), and
scores all trees of all boosters with the QuickScorer method (Lucchese et al., "QuickScorer: a
fast algorithm to rank documents with additive ensembles of regression trees", SIGIR 2015): a
bit per leaf in each tree, and only the nodes that send a lead right visited, column by column
(see ``_score``). The loop is compiled by numba (already installed: SHAP depends on it) and
reads the encoded matrix in place; each booster's column subset is folded into its split
features, so the fit and intent boosters need no copy of their columns. The boosters' trees are
stored in turn (one of each booster, then the next of each), so each addition to a lead's margin
does not wait on the one before, and a tree's categorical nodes on one column are merged per
category. About 6.5 us per lead for the three boosters together.

The decisions are LightGBM's own (``Tree::NumericalDecision`` and ``Tree::CategoricalDecision``
and the reading of |x| <= 1e-35f as 0), and each lead's margin adds the trees' leaves in
LightGBM's order, so the margins are bit-for-bit the ones ``Booster.predict(raw_score=True)``
returns; tests/scoring/test_forest.py checks that on models and inputs built to reach every
branch (missing values of each kind, categories outside the bitsets, negative categories).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numba import njit

# decision_type bits, as in LightGBM's tree.h
_CATEGORICAL = 1
_DEFAULT_LEFT = 2
_MISSING_ZERO = 1
_MISSING_NAN = 2
_ZERO = float(np.float32(1e-35))
"""LightGBM's kZeroThreshold: predict reads any |x| up to it as exactly 0."""
_DEBRUIJN = 0x03F79D71B4CB0A89
_DEBRUIJN_TABLE = np.argsort([((1 << i) * _DEBRUIJN & (2**64 - 1)) >> 58 for i in range(64)])
"""Bit index by the top six bits of (lowest set bit x _DEBRUIJN): those are distinct per bit."""
_DEBRUIJN = np.uint64(_DEBRUIJN)


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
def _lowest_bit(bits):
    # index of the lowest set bit of a non-zero uint64 (de Bruijn multiplication)
    isolated = bits & (~bits + np.uint64(1))
    return _DEBRUIJN_TABLE[(isolated * _DEBRUIJN) >> np.uint64(58)]


@njit(cache=True, nogil=True, inline="always")
def clear_right(X, r, bits, num_col, num_start, num_threshold, num_tree, num_mask,
                num_nan_right, cat_col, cat_size, cat_slot_base, slot_start, slot_tree,
                slot_mask):  # pragma: no cover - compiled
    """Clear in ``bits`` (a word per tree) the mask of every node that row ``r`` of ``X`` sends
    right, from the tables of ``NodeTables.arrays``: both ``_score`` and ``scoring.treeshap``
    find a lead's directions here (inlined into each, so no call per row)."""
    for j in range(num_col.shape[0]):
        x = X[r, num_col[j]]
        if np.isnan(x):
            for k in range(num_start[j], num_start[j + 1]):
                if num_nan_right[k]:
                    bits[num_tree[k]] &= num_mask[k]
        else:
            if -_ZERO <= x <= _ZERO:  # LightGBM reads |x| <= 1e-35f as 0
                x = 0.0
            for k in range(num_start[j], num_start[j + 1]):
                if x <= num_threshold[k]:
                    break
                bits[num_tree[k]] &= num_mask[k]
    for j in range(cat_col.shape[0]):
        x = X[r, cat_col[j]]
        size = cat_size[j]
        # missing, negative (below -1: a code in (-1, 0) truncates to 0) or past every
        # bitset: the last slot, which lists every node of the column
        slot = np.int64(x) if (x > -1.0) & (x < size) else size
        s = cat_slot_base[j] + slot
        for k in range(slot_start[s], slot_start[s + 1]):
            bits[slot_tree[k]] &= slot_mask[k]


@njit(cache=True, nogil=True)
def _score(X, out, tree_booster, tree_leaf_base, leaf_value, num_col, num_start, num_threshold,
           num_tree, num_mask, num_nan_right, cat_col, cat_size, cat_slot_base, slot_start,
           slot_tree, slot_mask):  # pragma: no cover - compiled
    """Every tree for every row, by the QuickScorer method (Lucchese et al., SIGIR 2015).

    Each tree keeps one bit per leaf, leaves numbered left to right, all set at the start. A
    node that sends the lead right clears the bits of the leaves under its left child; the
    lowest bit left is the leaf the walk from the root would reach. So instead of walking each
    tree, the method visits only the nodes that send the lead right: for a numeric column they
    are the nodes whose threshold is below the value, a prefix of the column's nodes sorted by
    threshold; a missing value sends right the nodes whose missing values go right; for a
    categorical column they are listed per category. No branch depends on a tree's shape, and
    the trees' leaves are then added in LightGBM's order, so the sums are LightGBM's bit for bit.
    """
    n_trees = tree_booster.shape[0]
    bits = np.empty(n_trees, dtype=np.uint64)
    total = np.empty(out.shape[1], dtype=np.float64)
    full = ~np.uint64(0)
    for r in range(X.shape[0]):
        bits[:] = full
        clear_right(X, r, bits, num_col, num_start, num_threshold, num_tree, num_mask,
                    num_nan_right, cat_col, cat_size, cat_slot_base, slot_start, slot_tree,
                    slot_mask)
        # the trees alternate between boosters, so consecutive additions go to different sums
        total[:] = 0.0
        for t in range(n_trees):
            total[tree_booster[t]] += leaf_value[tree_leaf_base[t] + _lowest_bit(bits[t])]
        out[r, :] = total


def _leaves_in_order(tree: _Tree) -> tuple[list[int], list[list[int]]]:
    """The tree's leaves left to right, and for each internal node the leaves under its left
    child (as positions in that order)."""
    order: list[int] = []
    under_left: list[list[int]] = [[] for _ in tree.split_feature]

    def leaves(child: int) -> list[int]:  # positions of the leaves under ``child``
        if child < 0:
            order.append(~child)
            return [len(order) - 1]
        left = leaves(tree.left[child])
        under_left[child] = left
        return left + leaves(tree.right[child])

    if tree.split_feature:
        leaves(0)
    else:
        order.append(0)
    return order, under_left


class _Splits(Protocol):
    """What ``NodeTables.add`` reads of a parsed tree (this module's and ``treeshap_path``'s)."""

    split_feature: list[int]
    threshold: list[float]
    decision_type: list[int]
    cat_boundaries: list[int]
    cat_threshold: list[int]


class NodeTables:
    """QuickScorer's node tables: per matrix column, the split nodes a value sends right.

    Each node is filed with the tree it belongs to (its position in the model's tree order) and
    a mask that clears that tree's bits for the node's left side: the leaves under its left child
    for ``Forest``, the node's own direction bit for ``scoring.treeshap``. ``arrays`` then lays
    them out as ``clear_right`` reads them, so scores and reasons find a lead's directions from
    the same tables by the same loop.
    """

    def __init__(self) -> None:
        # per column: (threshold, tree, mask, NaN goes right) / (bitset words, tree, mask)
        self.numeric: dict[int, list[tuple[float, int, int, bool]]] = {}
        self.categorical: dict[int, list[tuple[list[int], int, int]]] = {}

    def add(self, tree: _Splits, i: int, column: int, t: int, mask: int) -> bool:
        """File split ``i`` of ``tree`` (tree ``t``, reading matrix ``column``) with ``mask``.

        Returns False, filing nothing, for a zero_as_missing split: it sends 0 (and NaN, read as
        0) its default way whatever the threshold, which no threshold prefix holds; the caller
        decides what to do with it.
        """
        kind = tree.decision_type[i]
        missing = (kind >> 2) & 3
        if kind & _CATEGORICAL:
            k = int(tree.threshold[i])
            lo, hi = tree.cat_boundaries[k], tree.cat_boundaries[k + 1]
            self.categorical.setdefault(column, []).append((tree.cat_threshold[lo:hi], t, mask))
        elif missing == _MISSING_ZERO:
            return False
        else:
            threshold = tree.threshold[i]
            # NaN follows default_left on a NaN split; elsewhere it is read as 0
            nan_left = (bool(kind & _DEFAULT_LEFT) if missing == _MISSING_NAN
                        else 0.0 <= threshold)
            self.numeric.setdefault(column, []).append((threshold, t, mask, not nan_left))
        return True

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The twelve arrays ``clear_right`` reads: numeric columns first, then categorical.

        ``num_col, num_start, num_threshold, num_tree, num_mask, num_nan_right``: each numeric
        column's nodes sorted by threshold, then tree, from ``num_start[j]``;
        ``cat_col, cat_size, cat_slot_base, slot_start, slot_tree, slot_mask``: per categorical
        column one slot per code below ``cat_size`` and a last one for missing, negative or unseen
        codes, each listing one combined mask per tree it sends right.
        """
        full = (1 << 64) - 1
        num_col, num_start, num_thr, num_tree, num_mask, num_nan_right = [], [0], [], [], [], []
        for col in sorted(self.numeric):
            # by threshold, then tree: a value clears exactly the prefix with threshold < value
            for threshold, t, mask, nan_right in sorted(self.numeric[col],
                                                        key=lambda n: (n[0], n[1])):
                num_thr.append(threshold)
                num_tree.append(t)
                num_mask.append(mask)
                num_nan_right.append(nan_right)
            num_col.append(col)
            num_start.append(len(num_thr))

        cat_col, cat_size, cat_slot_base, slot_start, slot_tree, slot_mask = [], [], [], [0], [], []
        for col in sorted(self.categorical):
            nodes = self.categorical[col]
            size = 32 * max(len(words) for words, _, _ in nodes)
            cat_col.append(col)
            cat_size.append(size)
            cat_slot_base.append(len(slot_start) - 1)
            for code in range(size + 1):  # the last slot: missing, negative or unseen codes
                # the nodes this code sends right, one mask per tree (a tree may split twice)
                masks: dict[int, int] = {}
                for words, t, mask in nodes:
                    word = code // 32
                    left = code < size and word < len(words) and (words[word] >> (code % 32)) & 1
                    if not left:
                        masks[t] = masks.get(t, full) & mask
                for t in sorted(masks):
                    slot_tree.append(t)
                    slot_mask.append(masks[t])
                slot_start.append(len(slot_tree))

        i64, u64 = np.int64, np.uint64
        return (
            np.asarray(num_col, dtype=i64), np.asarray(num_start, dtype=i64),
            np.asarray(num_thr, dtype=np.float64), np.asarray(num_tree, dtype=i64),
            np.asarray(num_mask, dtype=u64), np.asarray(num_nan_right, dtype=np.bool_),
            np.asarray(cat_col, dtype=i64), np.asarray(cat_size, dtype=i64),
            np.asarray(cat_slot_base, dtype=i64), np.asarray(slot_start, dtype=i64),
            np.asarray(slot_tree, dtype=i64), np.asarray(slot_mask, dtype=u64),
        )


class Forest:
    """Several boosters over one encoded matrix, each on its own columns.

    Args:
        boosters: LightGBM boosters (anything with ``model_to_string()``), in output order.
        columns: for each booster, the matrix column of each of its features.

    Raises:
        ValueError: for a model this cannot score exactly (zero_as_missing splits, linear
            trees, trees of more than 64 leaves); ``ScoringBundle`` then uses LightGBM.
    """

    def __init__(self, boosters: Sequence, columns: Sequence[Sequence[int]]) -> None:
        tree_booster, tree_leaf_base, leaf_value = [], [], []
        nodes = NodeTables()
        full = (1 << 64) - 1
        parsed = [_parse_trees(booster.model_to_string()) for booster in boosters]
        columns = [list(cols) for cols in columns]
        if len(columns) != len(parsed):
            raise ValueError(f"{len(parsed)} boosters but {len(columns)} column lists")
        # The boosters' trees taken in turn (full 0, fit 0, intent 0, full 1 ...): each booster
        # still adds its own trees in its order, and its sum no longer waits on the others'.
        longest = max((len(trees) for trees in parsed), default=0)
        for position in range(longest):
            for b, trees in enumerate(parsed):
                if position >= len(trees):
                    continue
                tree, cols = trees[position], columns[b]
                if len(tree.leaf_value) > 64:
                    raise ValueError("trees of more than 64 leaves are not supported")
                t = len(tree_booster)
                order, under_left = _leaves_in_order(tree)
                tree_booster.append(b)
                tree_leaf_base.append(len(leaf_value))
                leaf_value.extend(tree.leaf_value[leaf] for leaf in order)
                for i, f in enumerate(tree.split_feature):
                    mask = full & ~sum(1 << p for p in under_left[i])
                    if not nodes.add(tree, i, cols[f], t, mask):
                        raise ValueError("zero_as_missing splits are not supported")

        self._arrays = (
            np.asarray(tree_booster, dtype=np.int64), np.asarray(tree_leaf_base, dtype=np.int64),
            np.asarray(leaf_value, dtype=np.float64), *nodes.arrays(),
        )
        self.n_outputs = len(boosters)
        self.n_columns = 1 + max((max(c) for c in columns if len(c)), default=-1)

    def margins(self, X: np.ndarray) -> np.ndarray:
        """Raw margins, shape (rows, boosters), for an encoded float64 matrix."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] < self.n_columns:
            raise ValueError(f"expected a matrix with {self.n_columns} columns, got {X.shape}")
        out = np.empty((X.shape[0], self.n_outputs), dtype=np.float64)
        _score(X, out, *self._arrays)
        return out

    @classmethod
    def of(cls, boosters: Mapping[str, object], columns: Mapping[str, Sequence[int]],
           order: Sequence[str]) -> Forest:
        return cls([boosters[name] for name in order], [columns[name] for name in order])
