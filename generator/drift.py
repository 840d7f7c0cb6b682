"""Planted drift (``leadscore generate --drift``): the world changes while the export runs.

With drift the planted probability becomes ``true_p = sigmoid(fit_logit + intent_term +
drift_term)``, where ``t`` is the lead's creation time as a fraction of the window (0 at the
start, 1 at the end) and

    drift_term = BASE_SHIFT_START + (BASE_SHIFT_END - BASE_SHIFT_START) * t      a moving base rate
               + NEW_SOURCE_EFFECT   for leads of the new source                 a source appears
               - FIT_FADE * t * seniority effect                                  a fit signal fades

1. **A base rate that moves**: the logit shifts linearly from -0.6 to +0.9, so the SQL rate of
   the same lead roughly doubles across the window.
2. **A source that appears mid-year**: from ``NEW_SOURCE_FROM`` (half-way) on, ``NEW_SOURCE_SHARE``
   of new leads come from "Partner Referral" (source key ``partner_referral``), which converts
   better (``NEW_SOURCE_EFFECT``) than the same lead from elsewhere. Before, no lead has it.
3. **A fit signal that weakens**: title seniority's planted effect fades linearly, to
   ``1 - FIT_FADE`` (20 %) of its size at the end of the window.

So a model trained once at the start underestimates the later base rate, has never seen the new
source and over-trusts seniority: retraining every cycle must beat it (``leadscore backtest``).
Drift draws from its own random stream, so an export without ``--drift`` is unchanged.
"""

from __future__ import annotations

import numpy as np

BASE_SHIFT_START = -0.6
BASE_SHIFT_END = 0.9
NEW_SOURCE = "Partner Referral"
NEW_SOURCE_FROM = 0.5
NEW_SOURCE_SHARE = 0.25
NEW_SOURCE_EFFECT = 1.0
FIT_FADE = 0.8


def window_fraction(created_at: np.ndarray, start: int, end: int) -> np.ndarray:
    """Each lead's creation time as a fraction of the window [start, end)."""
    return np.clip((np.asarray(created_at, dtype=np.float64) - start) / float(end - start), 0, 1)


def new_source_leads(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Which leads come from the new source: a share of those created after it appeared."""
    return (t >= NEW_SOURCE_FROM) & (rng.random(len(t)) < NEW_SOURCE_SHARE)


def drift_term(t: np.ndarray, seniority_effect: np.ndarray, new_source: np.ndarray) -> np.ndarray:
    """The logit added to each lead's planted model (see the module docstring)."""
    base = BASE_SHIFT_START + (BASE_SHIFT_END - BASE_SHIFT_START) * t
    return base + np.where(new_source, NEW_SOURCE_EFFECT, 0.0) - FIT_FADE * t * seniority_effect
