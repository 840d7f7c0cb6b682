"""The labels a backtest scores each period against, and how they differ from a replayed review's.

A period is scored against the labels a review builds as of the later of the store's last record
(``store_horizon``: the latest lead, activity, verdict or outcome) and the day the last period's
maturity windows close. Every verdict the store holds therefore counts, as in the review: a
verdict recorded after a period's windows closed (an export's "still open", an ``excluded`` code)
drops the lead rather than leaving it a "no conversion" negative, which is what a label date
before that verdict did (Maven CRM's still-open deals, findable by their blank account, then
ranked at ROC-AUC 0.61-0.71 where the review finds none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pandas as pd

from leadscore.errors import LeadscoreError
from training import dataset


def store_horizon(con) -> datetime:
    """The latest moment the store records anything: a lead created or made an MQL, an activity,
    a verdict or an outcome. A window that ends after it is closed only by the review's rule that
    no verdict means no conversion, which an export taken later could contradict.

    Raises:
        LeadscoreError: the store holds no lead.
    """
    try:
        value = con.execute(
            "SELECT greatest((SELECT max(created_at) FROM leads), (SELECT max(mql_at) FROM leads),"
            " (SELECT max(occurred_at) FROM activities),"
            " (SELECT max(dispositioned_at) FROM dispositions),"
            " (SELECT max(occurred_at) FROM outcomes))").fetchone()[0]
    except duckdb.CatalogException:
        value = None
    if value is None:
        raise LeadscoreError("The store holds no leads: ingest an export into it first "
                             "(leadscore ingest PATH).")
    return pd.Timestamp(value).to_pydatetime()


@dataclass
class Outcomes:
    """The labels every period is scored against: a review's as of ``as_of``, the later of the
    store's last record (``horizon``) and the day the last period's windows close."""

    frame: pd.DataFrame
    as_of: datetime
    horizon: datetime
    maturity_days: int

    def period(self, start: datetime, end: datetime) -> pd.DataFrame:
        """The labelled leads that became scoreable in ``[start, end)``."""
        scoreable = pd.to_datetime(self.frame["scoreable_at"])
        return self.frame[(scoreable >= start) & (scoreable < end)]

    def past_horizon(self, period: pd.DataFrame) -> int:
        """The period's "no conversion" negatives whose window ends after the store's last
        record: negatives that rest partly on days the store holds no record of."""
        window_end = pd.to_datetime(period["scoreable_at"]) + timedelta(days=self.maturity_days)
        return int(((period["cause"] == "no_conversion") & (window_end > self.horizon)).sum())


def read_outcomes(con, config: dict[str, Any], policy, windows_close: datetime) -> Outcomes:
    """The matured labels a review builds as of the later of the store's last record and
    ``windows_close``: every verdict the store holds counts, and every period lead is matured."""
    horizon = store_horizon(con)
    as_of = max(horizon, windows_close)
    frame = dataset.assemble(con, as_of, config, policy).frame
    return Outcomes(frame, as_of, horizon, int(config["labels"]["maturity_days"]))


def later_dropped(valid: pd.DataFrame, outcomes: Outcomes) -> tuple[int, int]:
    """Leads of a replayed review's validation cohort that the store's labels now drop (a
    verdict recorded after the review excludes them), and how many of those were negatives."""
    gone = ~valid["lead_id"].astype(str).isin(set(outcomes.frame["lead_id"].astype(str)))
    return int(gone.sum()), int((gone & (valid["label"] == 0)).sum())
