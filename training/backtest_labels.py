"""The labels a backtest scores each period against, and how they differ from a replayed review's.

A period is scored against the labels a review builds as of the later of the store's data horizon
(``features.horizon``: its last record, or a declared export date) and the day the last period's
maturity windows close. Every verdict the store holds therefore counts, as in the review: a
verdict recorded after a period's windows closed (an export's "still open", an ``excluded`` code)
drops the lead rather than leaving it a "no conversion" negative, which is what a label date
before that verdict did (Maven CRM's still-open deals, findable by their blank account, then
ranked at ROC-AUC 0.61-0.71 where the review finds none).

Maturity follows the review's rule: a window is closed only by a day the store's evidence reaches,
so a period lead whose window ends after the horizon is unknown, not a negative, and is left out
of the scoring with the decided leads of its unmatured cohort, as a review leaves them out
(``past_horizon`` counts both for the table's notes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from features.horizon import Horizon, store_horizon
from features.labels import build_labels, open_leads
from training import dataset


@dataclass
class Outcomes:
    """The labels every period is scored against: a review's as of ``as_of``, the later of the
    store's horizon and the day the last period's windows close, and the leads it leaves open."""

    frame: pd.DataFrame
    as_of: datetime
    horizon: Horizon
    maturity_days: int
    # the leads whose window ends after the horizon: lead_id, scoreable_at, decided (a verdict)
    unmatured: pd.DataFrame

    def period(self, start: datetime, end: datetime) -> pd.DataFrame:
        """The labelled leads that became scoreable in ``[start, end)``."""
        scoreable = pd.to_datetime(self.frame["scoreable_at"])
        return self.frame[(scoreable >= start) & (scoreable < end)]

    def past_horizon(self, start: datetime, end: datetime) -> tuple[int, int]:
        """The leads that became scoreable in ``[start, end)`` and are left out of the scoring
        because their window ends after the store's horizon (every period's windows close by
        ``as_of``), and how many of them have no verdict (no label at all)."""
        scoreable = pd.to_datetime(self.unmatured["scoreable_at"])
        inside = self.unmatured[(scoreable >= start) & (scoreable < end)]
        return len(inside), int((~inside["decided"]).sum())


def read_outcomes(con, config: dict[str, Any], policy, windows_close: datetime) -> Outcomes:
    """The labels a review builds as of the later of the store's horizon and ``windows_close``:
    every verdict the store holds counts, and a period lead is labelled once its window closes
    by the horizon.

    Raises:
        LeadscoreError: the store holds no lead.
    """
    horizon = store_horizon(con)
    as_of = max(horizon.at, windows_close)
    maturity = int(config["labels"]["maturity_days"])
    frame = dataset.assemble(con, as_of, config, policy).frame
    decided = build_labels(con, as_of, policy, maturity)
    decided = decided.loc[~decided["matured"], ["lead_id", "scoreable_at"]].assign(decided=True)
    unknown = open_leads(con, as_of, policy, maturity).assign(decided=False)
    unmatured = pd.concat([decided, unknown], ignore_index=True)
    return Outcomes(frame, as_of, horizon, maturity, unmatured)


def later_dropped(valid: pd.DataFrame, outcomes: Outcomes) -> tuple[int, int]:
    """Leads of a replayed review's validation cohort that the store's labels now drop (a
    verdict recorded after the review excludes them), and how many of those were negatives."""
    gone = ~valid["lead_id"].astype(str).isin(set(outcomes.frame["lead_id"].astype(str)))
    return int(gone.sum()), int((gone & (valid["label"] == 0)).sum())
