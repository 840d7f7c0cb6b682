"""What a scoring bundle's scores are: the per-batch record, the calibration map, the row hash.

``Scores`` holds a batch's columns (``OUTPUT_COLUMNS`` is its frame: the pyfunc's output and
batch scoring's columns); ``calibrate`` turns one booster's margins into probabilities with its
stored Platt, isotonic or averaged parameters; ``feature_hashes`` names an encoded feature row
for the score log. ``scoring.bundle`` computes them and re-exports these names.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scoring.reasons import Reason

OUTPUT_COLUMNS = ("score", "fit_score", "intent_score", "grade", "is_mql")


def sigmoid(x: np.ndarray) -> np.ndarray:
    # clipped so that extreme margins give 0 or 1 without an overflow warning
    return 1.0 / (1.0 + np.exp(-np.clip(x, -700.0, 700.0)))


def calibrate(params: Any, margin: np.ndarray) -> np.ndarray:
    """Margins to probabilities with one booster's stored calibration.

    ``[a, b]`` is Platt scaling, ``sigmoid(a * margin + b)``; ``{"method": "isotonic", "x": [...],
    "y": [...]}`` is a non-decreasing step map on the margin, linear between its knots;
    ``{"method": "platt-isotonic-mean", "platt": [a, b], "x": [...], "y": [...]}`` is the mean
    of the two maps (chosen by measurement in ``training.deploy``). All keep the order of
    margins, so reasons still add up.
    """
    if isinstance(params, dict):
        steps = np.interp(margin, params["x"], params["y"])
        if params.get("method") == "platt-isotonic-mean":
            a, b = params["platt"]
            return 0.5 * (sigmoid(a * margin + b) + steps)
        return steps
    a, b = params
    return sigmoid(a * margin + b)


@dataclass(frozen=True)
class Scores:
    """The scores of a batch of leads, column by column (row i is lead i).

    ``reasons`` is None unless reasons were asked for.
    """

    score: np.ndarray
    fit_score: np.ndarray
    intent_score: np.ndarray
    grade: list[str]
    is_mql: np.ndarray
    reasons: list[list[Reason]] | None = None
    feature_hash: list[str] | None = None
    """Per lead, a hash of its encoded feature row (the score log keeps it: two scores with the
    same hash saw the same features)."""
    feature_bins: list[str] | None = None
    """Per lead, the bin of each feature under the training profile (``scoring.drift``): the
    score log keeps it for the monitor's drift figures. None for a model without a profile."""

    def __len__(self) -> int:
        return len(self.score)

    def frame(self, index: Any = None) -> pd.DataFrame:
        """``OUTPUT_COLUMNS`` as a frame (the pyfunc's output, batch scoring's columns)."""
        return pd.DataFrame(
            {
                "score": np.asarray(self.score, dtype=np.float64),
                "fit_score": np.asarray(self.fit_score, dtype=np.float64),
                "intent_score": np.asarray(self.intent_score, dtype=np.float64),
                "grade": pd.Series(self.grade, dtype=object, index=index),
                "is_mql": np.asarray(self.is_mql, dtype=bool),
            },
            columns=list(OUTPUT_COLUMNS),
            index=index,
        )


def feature_hashes(X: np.ndarray) -> list[str]:
    """A 16-hex-digit BLAKE2 hash of each row of an encoded feature matrix."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    return [hashlib.blake2b(row.tobytes(), digest_size=8).hexdigest() for row in X]
