"""Input drift: each feature's distribution among the scores served against the training cohort.

At training time ``training_profile`` records, per feature of the encoded matrix, its bins and
the training cohort's share in each (the manifest's ``training_profile``):

    numeric       edges at the training deciles (distinct values only); a value falls in bin
                  ``searchsorted(edges, x, side="right")``
    categorical   the encoder's code is the bin (codes past ``MAX_BINS - 1`` share the last)
    missing       a bin of its own for every feature

Every scorer then writes, beside each score, the bin of each feature as one character
(``feature_bins``: ``BIN_SYMBOLS[bin]``, ``MISSING`` for a missing value), in the manifest's
feature order; the score log keeps that string, so the monitor measures drift from the log alone,
without features or personal data. ``psi`` compares the served shares with the training ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numba import njit

PROFILE_FORMAT = 1
BIN_SYMBOLS = "0123456789abcdefghijklmnopqrstuvwxyz"
MISSING = "_"
MAX_BINS = len(BIN_SYMBOLS)
DECILES = np.linspace(0.1, 0.9, 9)
SHARE_FLOOR = 1e-4
"""An empty bin counts as this share, so that PSI stays finite (the usual smoothing)."""
_LOOKUP = np.frombuffer((BIN_SYMBOLS + MISSING).encode("ascii"), dtype=np.uint8)


def training_profile(X: np.ndarray, features: Sequence[Mapping[str, Any]],
                     categories: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The bins of each feature and the shares of ``X`` (the training cohort, encoded) in them.

    Args:
        X: the encoded training matrix (rows = leads, columns = ``features``).
        features: ``{"name", "kind", ...}`` per column (the manifest's ``features``).
        categories: each categorical feature's highest code (``FeatureEncoder.code_count`` - 1:
            the rare pool, or the code of a category unseen in training); every code up to it
            gets a bin of its own, so a new category shows as drift even though no training
            lead had it.
    """
    categories = categories or {}
    X = np.asarray(X, dtype=np.float64)
    out = []
    for j, spec in enumerate(features):
        column = X[:, j]
        present = column[~np.isnan(column)]
        if spec.get("kind") == "categorical":
            edges = None
            seen = int(np.max(present)) + 1 if len(present) else 0
            n_bins = min(max(seen, int(categories.get(spec["name"], 0)) + 1, 1), MAX_BINS)
        else:
            edges = (np.unique(np.quantile(present, DECILES)).tolist() if len(present) else [])
            n_bins = len(edges) + 1
        profile = {"name": spec["name"], "kind": spec.get("kind", "numeric"), "edges": edges,
                   "bins": n_bins}
        counts = bin_counts(_bins_of(column, profile), n_bins)
        profile["shares"] = (counts / max(len(column), 1)).tolist()
        out.append(profile)
    return {"format": PROFILE_FORMAT, "leads": int(len(X)), "features": out}


def _bins_of(column: np.ndarray, profile: Mapping[str, Any]) -> np.ndarray:
    """Each value's bin (``MAX_BINS`` = missing) under one feature's profile."""
    missing = np.isnan(column)
    if profile["edges"] is None:
        bins = np.minimum(np.where(missing, 0, column), profile["bins"] - 1).astype(np.int64)
        bins = np.maximum(bins, 0)
    else:
        bins = np.searchsorted(np.asarray(profile["edges"], dtype=np.float64),
                               np.where(missing, 0, column), side="right")
    return np.where(missing, MAX_BINS, bins)


def bin_counts(bins: np.ndarray, n_bins: int) -> np.ndarray:
    """Counts per bin, the missing bin last: ``n_bins + 1`` numbers."""
    counts = np.bincount(np.minimum(bins, MAX_BINS), minlength=MAX_BINS + 1)
    return np.r_[counts[:n_bins], counts[MAX_BINS]].astype(np.float64)


class BinPlan:
    """A profile's bins as arrays, so that binning a batch is a few vectorised steps (it runs
    on every request): edges padded with +inf, each categorical feature's last bin."""

    def __init__(self, profile: Mapping[str, Any]) -> None:
        features = profile["features"]
        width = max([len(f["edges"] or []) for f in features] + [1])
        self.edges = np.full((len(features), width), np.inf)
        for j, f in enumerate(features):
            if f["edges"]:
                self.edges[j, :len(f["edges"])] = f["edges"]
        self.categorical = np.array([f["edges"] is None for f in features])
        self.last = np.array([f["bins"] - 1 for f in features], dtype=np.float64)

    @classmethod
    def of(cls, profile: Mapping[str, Any] | None) -> BinPlan | None:
        """The plan of a profile; None without one (a model reviewed before profiles)."""
        if not profile or profile.get("format") != PROFILE_FORMAT:
            return None
        return cls(profile)

    def rows(self, X: np.ndarray) -> list[str]:
        """Each row's bins as a string, one character per feature (``MISSING`` when missing)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        codes = np.empty(X.shape, dtype=np.uint8)
        _bin_codes(X, self.edges, self.categorical, self.last, _LOOKUP, codes)
        width = X.shape[1]
        raw = codes.tobytes().decode("ascii")
        return [raw[i * width:(i + 1) * width] for i in range(len(X))]


@njit(cache=True, nogil=True)
def _bin_codes(X, edges, categorical, last, lookup, out):  # noqa: ANN001 - numba arrays
    """``out[i, j]``: the symbol of X[i, j]'s bin (compiled: it runs on every request; a
    broadcast comparison of every value with every edge cost ten times as long)."""
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            x = X[i, j]
            if x != x:  # NaN: missing
                out[i, j] = lookup[MAX_BINS]
            elif categorical[j]:
                out[i, j] = lookup[int(min(max(x, 0.0), last[j]))]
            else:
                b = 0
                while b < edges.shape[1] and edges[j, b] <= x:
                    b += 1
                out[i, j] = lookup[b]


def feature_bins(X: np.ndarray, profile: Mapping[str, Any] | None) -> list[str] | None:
    """Each row's bins as a string (one character per feature); None without a profile."""
    plan = BinPlan.of(profile)
    return None if plan is None else plan.rows(X)


def served_counts(rows: Iterable[str | None], profile: Mapping[str, Any]) -> tuple[int, list]:
    """How many rows carry bins for this profile, and per feature the count in each bin."""
    features = profile["features"]
    width = len(features)
    kept = [r for r in rows if isinstance(r, str) and len(r) == width]
    if not kept:
        return 0, [np.zeros(f["bins"] + 1) for f in features]
    matrix = np.frombuffer("".join(kept).encode("ascii"), dtype=np.uint8).reshape(len(kept), width)
    index = np.full(256, MAX_BINS, dtype=np.int64)
    index[_LOOKUP] = np.arange(len(_LOOKUP))
    bins = index[matrix]
    return len(kept), [bin_counts(bins[:, j], f["bins"]) for j, f in enumerate(features)]


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index of two share vectors (each sums to 1), empty bins floored."""
    e = np.maximum(np.asarray(expected, dtype=np.float64), SHARE_FLOOR)
    a = np.maximum(np.asarray(actual, dtype=np.float64), SHARE_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def feature_psi(rows: Iterable[str | None], profile: Mapping[str, Any]
                ) -> tuple[int, dict[str, float]]:
    """PSI of every feature of the served rows against the training profile, and the rows used."""
    n, counts = served_counts(rows, profile)
    if n == 0:
        return 0, {}
    out = {}
    for feature, count in zip(profile["features"], counts, strict=True):
        expected = np.asarray(feature["shares"], dtype=np.float64)
        value = psi(expected, count / n)
        out[feature["name"]] = value if math.isfinite(value) else 0.0
    return n, out
