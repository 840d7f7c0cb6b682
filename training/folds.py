"""Time-ordered folds for choosing a model: expanding windows over weekly cohorts.

The tournament (``training.tournament``) picks a model family and its settings on these folds,
inside the weeks the cycle trains on. Each fold scores one block of weeks with a model trained on
every week before that block, the way the deployed model will meet next week's leads; the blocks
are the newest weeks of the training frame. The cohort the gates judge is never passed in, so the
choice cannot see it. Never a random split: a lead's week-mates share campaigns and seasons, and a
random split would let the model learn next month from next month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_FOLD_POSITIVES = 5
"""A validation block with fewer SQLs (or fewer non-SQLs) than this is not used: its log-loss
would say more about luck than about the model."""


@dataclass(frozen=True)
class Fold:
    """Row positions into the frame the folds were cut from: ``fit`` rows are older than every
    ``check`` row."""

    fit: np.ndarray
    check: np.ndarray
    first_check_cohort: str


def cohort_order(frame: pd.DataFrame) -> list:
    """The frame's cohorts from oldest to newest (by their first lead, whatever the key's type)."""
    return frame.groupby("cohort", sort=False)["scoreable_at"].min().sort_values().index.tolist()


def expanding_folds(frame: pd.DataFrame, n_folds: int, *, share: float = 0.5) -> list[Fold]:
    """Up to ``n_folds`` expanding-window folds over the newest ``share`` of the frame's cohorts.

    The newest ``share`` of the weeks is cut into ``n_folds`` blocks of whole weeks (oldest block
    first); fold ``k`` fits on every week before block ``k`` and checks on block ``k``. A block
    without ``MIN_FOLD_POSITIVES`` SQLs and non-SQLs, or with nothing before it, is skipped.

    Args:
        frame: the training weeks (``cohort``, ``scoreable_at``, ``label``), never the
            validation cohort.
        n_folds: how many blocks at most (``cycle.tournament.folds``).
        share: the part of the weeks the blocks cover.
    """
    if n_folds < 1:
        raise ValueError("n_folds must be 1 or more")
    cohorts = cohort_order(frame)
    n_check = min(len(cohorts) - 1, max(n_folds, int(round(len(cohorts) * share))))
    if n_check < 1:
        return []
    position = {c: i for i, c in enumerate(cohorts)}
    week = frame["cohort"].map(position).to_numpy()
    labels = frame["label"].to_numpy()
    first = len(cohorts) - n_check
    blocks = np.array_split(np.arange(first, len(cohorts)), min(n_folds, n_check))
    out = []
    for block in blocks:
        fit = np.flatnonzero(week < block[0])
        check = np.flatnonzero((week >= block[0]) & (week <= block[-1]))
        fit_y, check_y = labels[fit], labels[check]
        if (min(check_y.sum(), len(check_y) - check_y.sum()) < MIN_FOLD_POSITIVES
                or len(fit_y) == 0 or fit_y.min() == fit_y.max()):
            continue
        out.append(Fold(fit, check, str(cohorts[block[0]])))
    return out
