"""The PSI the monitor reads: the served bins against the training profile, with the rare pool
and the unseen code of a categorical feature read as one bin.

A categorical feature's last two codes are the values seen in training too rarely to keep (the
rare pool) and the values never seen (``features.encoding``). For a long-tail field (free-text
industries or job titles, every lead its own) the whole training cohort was rare and every
served lead is unseen: two bins would read the same long tail as a feature moved wholesale
(PSI 18). As one bin, a long tail that stays a long tail is no drift, while a new value many
served leads share still is (its share against the training cohort's small rare pool).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from scoring.drift import psi, served_counts


def served_psi(rows: Iterable[str | None], profile: Mapping[str, Any]
               ) -> tuple[int, dict[str, float]]:
    """PSI of every feature of the served ``rows`` (bin strings) against ``profile``, and how many
    rows carried bins."""
    n, counts = served_counts(rows, profile)
    if n == 0:
        return 0, {}
    out = {}
    for feature, count in zip(profile["features"], counts, strict=True):
        expected = np.asarray(feature["shares"], dtype=np.float64)
        actual = count / n
        last = int(feature["bins"]) - 1  # the missing bin comes after it
        # the unseen code's bin holds no training lead; one that does pools every code past the
        # profile's last bin, rare and unseen already together
        if feature.get("kind") == "categorical" and last >= 1 and expected[last] == 0.0:
            expected, actual = _pooled(expected, last), _pooled(actual, last)
        value = psi(expected, actual)
        out[feature["name"]] = value if math.isfinite(value) else 0.0
    return n, out


def _pooled(shares: np.ndarray, last: int) -> np.ndarray:
    """``shares`` with bin ``last`` (the unseen code) added to the one before it (the rare pool)."""
    out = np.delete(shares, last)
    out[last - 1] += shares[last]
    return out
