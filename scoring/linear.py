"""An additive logistic model on the encoded features: one learned value per bin of each feature.

A numeric column is cut at training quantiles (``edges``); a categorical column keeps one value per
code (the encoder's codes ``0..k``, ``k`` being ``"__other__"``); a missing value has a value of
its own. The margin (log-odds) is the intercept plus one looked-up value per column, so the exact
contribution of a feature is its looked-up value minus its training mean, and the base value is
the intercept plus those means: contributions plus base add up to the margin by construction.

Fitting (an L2-regularised logistic regression on the one-hot of these bins) happens in
``training.tournament``; this module only scores and explains, with numpy alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class LinearTerm:
    """One column's lookup table.

    Attributes:
        edges: numeric cut-points (bin ``i`` is ``edges[i-1] <= x < edges[i]``); None for a
            categorical column.
        levels: how many category codes (categorical columns only).
        values: the log-odds of each bin, then of a missing value (the last entry).
        mean: the training mean of the looked-up value (the centre of the contribution).
    """

    edges: tuple[float, ...] | None
    levels: int
    values: tuple[float, ...]
    mean: float

    @property
    def n_bins(self) -> int:
        """Bins before the missing one."""
        return len(self.edges) + 1 if self.edges is not None else self.levels

    def bins(self, column: np.ndarray) -> np.ndarray:
        """The bin of each value (``n_bins`` for a missing value)."""
        column = np.asarray(column, dtype=np.float64)
        missing = np.isnan(column)
        if self.edges is not None:
            out = np.searchsorted(np.asarray(self.edges), column, side="right")
        else:  # a code outside the table (cannot come from the encoder) reads as the last one
            out = np.clip(np.nan_to_num(column, nan=0.0), 0, self.levels - 1).astype(np.intp)
        return np.where(missing, self.n_bins, out).astype(np.intp)

    def as_dict(self) -> dict[str, Any]:
        return {"edges": None if self.edges is None else list(self.edges),
                "levels": self.levels, "values": list(self.values), "mean": self.mean}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinearTerm:
        edges = data.get("edges")
        return cls(None if edges is None else tuple(float(e) for e in edges), int(data["levels"]),
                   tuple(float(v) for v in data["values"]), float(data["mean"]))


def numeric_edges(column: np.ndarray, n_bins: int) -> tuple[float, ...]:
    """Distinct training quantiles of a numeric column (at most ``n_bins`` bins)."""
    seen = np.asarray(column, dtype=np.float64)
    seen = seen[~np.isnan(seen)]
    if len(seen) == 0:
        return ()
    cuts = np.quantile(seen, np.linspace(0, 1, n_bins + 1)[1:-1])
    # an edge at the minimum would leave the first bin empty
    return tuple(float(c) for c in np.unique(cuts) if c > seen.min())


@dataclass(frozen=True)
class LinearModel:
    """An intercept and one ``LinearTerm`` per column of the matrix it scores."""

    intercept: float
    terms: tuple[LinearTerm, ...]

    def bins(self, X: np.ndarray) -> np.ndarray:
        """``(n, columns)`` bin index of every value."""
        X = np.asarray(X, dtype=np.float64)
        return np.column_stack([t.bins(X[:, j]) for j, t in enumerate(self.terms)]) \
            if self.terms else np.zeros((len(X), 0), dtype=np.intp)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Exact contributions in log-odds: ``(n, columns + 1)``, the last column the base value;
        each row sums to the lead's margin."""
        bins = self.bins(X)
        out = np.empty((bins.shape[0], len(self.terms) + 1), dtype=np.float64)
        for j, term in enumerate(self.terms):
            out[:, j] = np.asarray(term.values)[bins[:, j]] - term.mean
        out[:, -1] = self.intercept + sum(t.mean for t in self.terms)
        return out

    def margin(self, X: np.ndarray) -> np.ndarray:
        """Log-odds of each row: the sum of its contributions."""
        return self.contributions(X).sum(axis=1)

    def as_dict(self) -> dict[str, Any]:
        return {"intercept": self.intercept, "terms": [t.as_dict() for t in self.terms]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinearModel:
        return cls(float(data["intercept"]),
                   tuple(LinearTerm.from_dict(t) for t in data["terms"]))


def blend_contributions(tree: np.ndarray, linear: np.ndarray, weight: float) -> np.ndarray:
    """The blend's contributions: ``weight`` x the trees' plus ``1 - weight`` x the linear
    model's, column by column (base included), so they add up to the blended margin."""
    return weight * np.asarray(tree) + (1.0 - weight) * np.asarray(linear)


def terms_for(X: np.ndarray, kinds: Sequence[str], levels: Sequence[int], n_bins: int
              ) -> list[LinearTerm]:
    """Empty terms (values zero) with the bins a training matrix implies, ready to be fitted."""
    out = []
    for j, kind in enumerate(kinds):
        if kind == "categorical":
            out.append(LinearTerm(None, max(int(levels[j]), 1), (), 0.0))
        else:
            out.append(LinearTerm(numeric_edges(X[:, j], n_bins), 0, (), 0.0))
    return out
