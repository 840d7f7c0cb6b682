"""An additive logistic model on the encoded features: a linear spline or a level per feature.

A numeric column is a linear spline: values at knots (training quantiles), linear between them,
flat beyond the first and last; a categorical column keeps one value per code (the encoder's codes
``0..k``, ``k`` being ``"__other__"``); a missing value has a value of its own; a category never
seen in training (the encoder's code ``k + 1``) has the column's mean, so it contributes nothing.
The margin (log-odds) is the intercept plus one value per column, so the exact contribution of a
feature is its value minus its training mean, and the base value is the intercept plus those
means: contributions plus base add up to the margin by construction.

Fitting (an L2-regularised logistic regression on the spline and level basis, ``design``) happens
in ``training.logistic``; this module only scores and explains, with numpy alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class LinearTerm:
    """One column's values.

    Attributes:
        knots: numeric knots, ascending (the value is interpolated between them); None for a
            categorical column.
        levels: how many category codes (categorical columns only).
        values: the log-odds at each knot (or of each level), then of a missing value (last).
        mean: the training mean of the column's value (the centre of the contribution).
    """

    knots: tuple[float, ...] | None
    levels: int
    values: tuple[float, ...]
    mean: float

    @property
    def slots(self) -> int:
        """Knots or levels, before the missing slot."""
        return len(self.knots) if self.knots is not None else self.levels

    def basis(self, column: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each value as ``w x slot_a + (1 - w) x slot_b``: ``(slot_a, slot_b, w)``.

        A category or a missing value is one slot (``w`` = 1); a number between two knots is
        shared between them in proportion to its distance, so the column's value is
        ``np.interp`` of the knots' values.
        """
        column = np.asarray(column, dtype=np.float64)
        missing = np.isnan(column)
        if self.knots is not None and len(self.knots) > 1:
            knots = np.asarray(self.knots)
            x = np.clip(np.nan_to_num(column, nan=knots[0]), knots[0], knots[-1])
            upper = np.clip(np.searchsorted(knots, x, side="right"), 1, len(knots) - 1)
            lower = upper - 1
            w = (knots[upper] - x) / (knots[upper] - knots[lower])
            a, b = lower, upper
        else:
            if self.knots is not None:  # one knot: a constant column
                a = np.zeros(len(column), dtype=np.intp)
            else:  # a code past the table (an unseen category) is placed here; ``value`` reads
                # it as the mean
                a = np.clip(np.nan_to_num(column, nan=0.0), 0, self.levels - 1).astype(np.intp)
            b, w = a, np.ones(len(column))
        a = np.where(missing, self.slots, a).astype(np.intp)
        b = np.where(missing, self.slots, b).astype(np.intp)
        return a, b, np.where(missing, 1.0, w)

    def value(self, column: np.ndarray) -> np.ndarray:
        """The column's log-odds for each value."""
        a, b, w = self.basis(column)
        values = np.asarray(self.values)
        out = w * values[a] + (1.0 - w) * values[b]
        if self.knots is None:
            # a code past the levels is a category never seen in training: no evidence either
            # way, so the column's training mean (a contribution of zero)
            out = np.where(np.asarray(column, dtype=np.float64) >= self.levels, self.mean, out)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"knots": None if self.knots is None else list(self.knots),
                "levels": self.levels, "values": list(self.values), "mean": self.mean}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinearTerm:
        knots = data.get("knots")
        return cls(None if knots is None else tuple(float(k) for k in knots), int(data["levels"]),
                   tuple(float(v) for v in data["values"]), float(data["mean"]))


def numeric_knots(column: np.ndarray, n_knots: int) -> tuple[float, ...]:
    """Distinct training quantiles of a numeric column, its minimum and maximum included."""
    seen = np.asarray(column, dtype=np.float64)
    seen = seen[~np.isnan(seen)]
    if len(seen) == 0:
        return (0.0,)
    return tuple(float(k) for k in np.unique(np.quantile(seen, np.linspace(0, 1, n_knots))))


@dataclass(frozen=True)
class LinearModel:
    """An intercept and one ``LinearTerm`` per column of the matrix it scores."""

    intercept: float
    terms: tuple[LinearTerm, ...]

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Exact contributions in log-odds: ``(n, columns + 1)``, the last column the base value;
        each row sums to the lead's margin."""
        X = np.asarray(X, dtype=np.float64)
        out = np.empty((X.shape[0], len(self.terms) + 1), dtype=np.float64)
        for j, term in enumerate(self.terms):
            out[:, j] = term.value(X[:, j]) - term.mean
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


def terms_for(X: np.ndarray, kinds: Sequence[str], levels: Sequence[int], n_knots: int
              ) -> list[LinearTerm]:
    """Terms with the knots or levels a training matrix implies and zero values, to be fitted."""
    out = []
    for j, kind in enumerate(kinds):
        knots = None if kind == "categorical" else numeric_knots(X[:, j], n_knots)
        count = max(int(levels[j]), 1) if kind == "categorical" else 0
        slots = len(knots) if knots is not None else count
        out.append(LinearTerm(knots, count, (0.0,) * (slots + 1), 0.0))
    return out
