"""How long outcomes take to arrive, and whether the maturity window cuts them.

A lead's label is "converted within ``maturity_days`` of becoming scoreable". When sales cycles are
longer than the window, that silently redefines the label ("won" becomes "won within 30 days").
Ingest and every review therefore print the outcome-lag distribution (days from a lead becoming
scoreable to its first positive outcome or disposition): p50, p90, p99, and the share of eventual
positives that arrive after the window. A review stops when the window would cut more than
``MAX_CUT_SHARE`` of them, unless the window is accepted knowingly.

``lag_distribution`` is a pure function of (scoreable_at, first positive) pairs;
``positive_lags`` reads those pairs from the store with the label policy's families.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from features.label_policy import LabelPolicy
from features.messages import plural
from leadscore.errors import LeadscoreError

MAX_CUT_SHARE = 0.10
_DAY = np.timedelta64(86_400_000_000, "us")


@dataclass(frozen=True)
class OutcomeLag:
    """The outcome-lag distribution of one store (or set of labels) against a window.

    Attributes:
        positives: eventual positives: leads with a positive event at or after becoming scoreable.
        later: how many of them arrive more than ``maturity_days`` after becoming scoreable.
        p50, p90, p99: lag percentiles in days (None without positives).
        maturity_days: the window compared against.
        constant: every lag is the same to the microsecond (and there are at least two): what
            outcomes dated by a mapping's ``after_days`` look like, not a measured lag.
    """

    positives: int
    later: int
    p50: float | None
    p90: float | None
    p99: float | None
    maturity_days: int
    constant: bool = False

    @property
    def share_later(self) -> float:
        return self.later / self.positives if self.positives else 0.0

    @property
    def cuts_too_much(self) -> bool:
        return self.share_later > MAX_CUT_SHARE

    @property
    def proposed_window(self) -> int | None:
        """The shortest whole-day window that keeps at least 90 % of eventual positives."""
        return None if self.p90 is None else max(1, math.ceil(self.p90))

    def line(self) -> str:
        """One line for the ingest summary, the review summary and the logs."""
        if not self.positives:
            return "outcome lag: no positive outcomes yet, so no lag distribution"
        if self.constant:
            # an export without outcome dates: the mapping's after_days is all there is to see
            days = f"{self.p50:g} day{'' if self.p50 == 1 else 's'}"
            return (f"outcome lag: all {self.positives:,} eventual positives come exactly "
                    f"{days} after becoming scoreable, as outcomes dated by a "
                    "mapping's after_days (not by the export) do, so there is no measured lag "
                    f"to check maturity_days ({self.maturity_days}) against")
        return (f"outcome lag (days from scoreable to first positive, "
                f"{plural(self.positives, 'eventual positive')}): p50 {self.p50:.0f}, "
                f"p90 {self.p90:.0f}, p99 {self.p99:.0f}; "
                f"{self.share_later:.1%} arrive later than maturity_days ({self.maturity_days})")

    def stop_sentence(self) -> str:
        """Why a review stops: the share the window cuts and a window that would not."""
        return (f"The {self.maturity_days}-day maturity window would cut {self.share_later:.1%} of "
                f"eventual positives ({self.later:,} of {self.positives:,} arrive later), so "
                f"\"converted\" would mean \"converted within {self.maturity_days} days\"; set "
                f"labels.maturity_days to {self.proposed_window} (keeps 90 %), or keep "
                f"{self.maturity_days} knowingly with labels.accept_maturity_window: true or "
                "--accept-window.")

    def as_dict(self) -> dict[str, float | int | None]:
        return {"positives": self.positives, "later": self.later, "p50": self.p50,
                "p90": self.p90, "p99": self.p99, "maturity_days": self.maturity_days,
                "share_later": round(self.share_later, 4)}


def lag_distribution(scoreable_at, first_positive_at, maturity_days: int) -> OutcomeLag:
    """The lag distribution of paired timestamps (one pair per eventual positive).

    Args:
        scoreable_at: when each lead became scoreable (array-like of datetimes).
        first_positive_at: its first positive event at or after that (same length).
        maturity_days: the label window to compare against.
    """
    start = pd.to_datetime(pd.Series(scoreable_at)).to_numpy("datetime64[us]")
    end = pd.to_datetime(pd.Series(first_positive_at)).to_numpy("datetime64[us]")
    days = (end - start) / _DAY
    days = days[~np.isnan(days)]
    if days.size == 0:
        return OutcomeLag(0, 0, None, None, None, maturity_days)
    p50, p90, p99 = (float(v) for v in np.percentile(days, [50, 90, 99]))
    later = int((days > maturity_days).sum())
    return OutcomeLag(int(days.size), later, p50, p90, p99, maturity_days,
                      constant=bool(days.size >= 2 and days.min() == days.max()))


def positive_lags(con: duckdb.DuckDBPyConnection, policy: LabelPolicy,
                  as_of: datetime | None = None) -> pd.DataFrame:
    """Per eventual positive: ``scoreable_at`` and ``first_positive_at`` (events up to ``as_of``).

    A lead becomes scoreable at its MQL date (if known by ``as_of``), else at creation; its first
    positive is the earliest outcome or disposition of the policy's positive family from then on.
    """
    params = _positive_params(policy, as_of)
    sql = """
    WITH lead AS (
        SELECT lead_id, CASE WHEN mql_at IS NOT NULL AND mql_at <= $as_of THEN mql_at
                             ELSE created_at END AS scoreable_at
        FROM leads WHERE created_at <= $as_of
    ),
    event AS (
        SELECT lead_id, dispositioned_at AS at FROM dispositions
        WHERE dispositioned_at <= $as_of AND (
            list_contains($reasons, trim(reason_code))
            OR (nullif(trim(reason_code), '') IS NULL AND list_contains($statuses, trim(status))))
        UNION ALL
        SELECT lead_id, occurred_at FROM outcomes
        WHERE occurred_at <= $as_of AND list_contains($stages, trim(stage))
    )
    SELECT l.lead_id, l.scoreable_at, min(e.at) AS first_positive_at
    FROM lead l JOIN event e ON e.lead_id = l.lead_id AND e.at >= l.scoreable_at
    GROUP BY l.lead_id, l.scoreable_at
    """
    try:
        return con.execute(sql, params).df()
    except duckdb.Error as exc:
        raise LeadscoreError(f"The store could not be read for the outcome lag "
                             f"({type(exc).__name__}); re-run the ingest.") from exc


def before_scoreable(con: duckdb.DuckDBPyConnection, policy: LabelPolicy) -> str | None:
    """The sentence on leads whose every positive outcome or verdict is dated before they
    became scoreable (a Created Date that is the day a lead was imported, its conversion
    earlier): labels leave them out, so the ingest says how many; None when there are none."""
    pairs = positive_lags(con, policy)
    sql = """
    WITH lead AS (
        SELECT lead_id, coalesce(mql_at, created_at) AS scoreable_at FROM leads
    ),
    event AS (
        SELECT lead_id, dispositioned_at AS at FROM dispositions
        WHERE list_contains($reasons, trim(reason_code))
            OR (nullif(trim(reason_code), '') IS NULL AND list_contains($statuses, trim(status)))
        UNION ALL
        SELECT lead_id, occurred_at FROM outcomes WHERE list_contains($stages, trim(stage))
    )
    SELECT DISTINCT l.lead_id FROM lead l JOIN event e USING (lead_id)
    WHERE e.at < l.scoreable_at
    """
    params = _positive_params(policy)
    del params["as_of"]
    early = set(con.execute(sql, params).df()["lead_id"]) - set(pairs["lead_id"])
    if not early:
        return None
    return (f"{plural(len(early), 'lead')} {'has' if len(early) == 1 else 'have'} every positive "
            "outcome or verdict dated before they became scoreable (created, or their MQL "
            "date): labels leave them out, as converted before they could be scored; if that "
            "date is when they were imported, not created, map the CRM's own creation date")


def _positive_params(policy: LabelPolicy, as_of: datetime | None = None) -> dict:
    """The policy's positive reason codes, statuses and stages as query parameters."""
    reasons = sorted(c for c, f in policy.reason_codes.items() if f == "positive")
    statuses = sorted(c for c, f in policy.statuses.items() if f == "positive")
    stages = sorted(c for c, f in policy.outcome_stages.items() if f == "positive")
    return {"as_of": as_of or datetime(9999, 12, 31), "reasons": reasons or [""],
            "statuses": statuses or [""], "stages": stages or [""]}


def store_lag(con: duckdb.DuckDBPyConnection, policy: LabelPolicy, maturity_days: int,
              as_of: datetime | None = None) -> OutcomeLag:
    """The outcome-lag distribution of the store as of ``as_of`` (None: everything in it)."""
    pairs = positive_lags(con, policy, as_of)
    return lag_distribution(pairs["scoreable_at"], pairs["first_positive_at"], maturity_days)


def check_window(lag: OutcomeLag, accept: bool) -> None:
    """Stop when the window cuts more than ``MAX_CUT_SHARE`` of eventual positives.

    Raises:
        LeadscoreError: with ``lag.stop_sentence()``, unless ``accept``.
    """
    if lag.cuts_too_much and not accept:
        raise LeadscoreError(lag.stop_sentence())


def review_lag(config: dict, as_of: datetime) -> OutcomeLag:
    """The review's outcome-lag check: the store's distribution as of ``as_of``, logged, and the
    review stopped when the window cuts too much (``labels.accept_maturity_window`` accepts it).

    Raises:
        LeadscoreError: with the stop sentence when the window cuts too much and is not accepted.
    """
    from features.labels import load_policy
    from features.store import connect

    labels = config["labels"]
    with connect(config["store"], read_only=True) as con:
        lag = store_lag(con, load_policy(labels.get("policy")), int(labels["maturity_days"]),
                        as_of)
    logging.getLogger("leadscore.review").info(lag.line())
    check_window(lag, bool(labels.get("accept_maturity_window", False)))
    return lag
