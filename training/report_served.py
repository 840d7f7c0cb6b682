"""The cohort check on the scores actually served: what reps saw, from the live store's score log.

The cohort check (``report_duckdb.cohort_check``) compares conversion before and after the last
cycle. Which leads the reps were shown as MQLs is known only from the score log: for each lead of
the after-cohort, the first score served (by the API or ``leadscore score``) at or after the
moment it became scoreable. Leads never scored are left out and counted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from features.labels import build_labels
from features.live_store import live_url, open_existing


def served_scores(config: dict[str, Any], since: datetime,
                  until: datetime | None = None) -> pd.DataFrame | None:
    """Score-log rows served in ``[since, until)``; None when there is no live store.

    ``until`` is the review date: a score served after it (say by the very model that review
    produced, when the report is written again later) is not what reps saw before the review.
    """
    store = open_existing(live_url(config))
    if store is None:
        return None
    try:
        rows = store.scores(since=since)
    finally:
        store.close()
    if until is not None and not rows.empty:
        rows = rows[pd.to_datetime(rows["scored_at"]) < pd.Timestamp(until)]
    return rows


def served_cohort(labels: pd.DataFrame, served: pd.DataFrame) -> dict[str, int]:
    """Conversion of the labelled leads by the MQL flag they were first served with.

    Args:
        labels: matured labels of the cohort (``lead_id``, ``label``, ``scoreable_at``).
        served: score-log rows (``lead_id``, ``scored_at``, ``is_mql``).
    """
    joined = labels[["lead_id", "label", "scoreable_at"]].merge(
        served[["lead_id", "scored_at", "is_mql"]], on="lead_id")
    joined = joined[pd.to_datetime(joined["scored_at"]) >= pd.to_datetime(joined["scoreable_at"])]
    first = joined.sort_values("scored_at").drop_duplicates("lead_id")
    mql = first[first["is_mql"].astype(bool)]
    rest = first[~first["is_mql"].astype(bool)]
    return {"leads": len(labels), "served": len(first), "unserved": len(labels) - len(first),
            "mql_n": len(mql), "mql_sqls": int(mql["label"].sum()),
            "rest_n": len(rest), "rest_sqls": int(rest["label"].sum())}


def served_check(con: Any, config: dict[str, Any], policy: Any, as_of: datetime,
                 check: Any) -> dict[str, int] | None:
    """``served_cohort`` of the cohort check's after-cohort; None without a window or a log."""
    if check.split is None or check.after_end is None or not check.days:
        return None
    served = served_scores(config, check.split, as_of)
    if served is None or served.empty:
        return None
    labels = build_labels(con, as_of, policy, check.days)
    labels = labels[labels["matured"]]
    at = pd.to_datetime(labels["scoreable_at"])
    # the same window as the cohort check's own: its end is not included
    after = labels[(at >= check.split) & (at < check.after_end)]
    return served_cohort(after, served)


def first_served(rows: pd.DataFrame, served: pd.DataFrame) -> pd.Series:
    """For each row (``lead_id``, ``scoreable_at``), the first score served at or after that
    moment; NaN where the lead was never served one. Aligned with ``rows``."""
    keyed = rows[["lead_id", "scoreable_at"]].reset_index(drop=True).reset_index()
    joined = keyed.merge(served[["lead_id", "scored_at", "score"]], on="lead_id")
    joined = joined[pd.to_datetime(joined["scored_at"]) >= pd.to_datetime(joined["scoreable_at"])]
    first = joined.sort_values("scored_at").drop_duplicates("index").set_index("index")["score"]
    return first.reindex(range(len(rows))).set_axis(rows.index)


def served_predictor(predict, config: dict[str, Any], until: datetime | None = None):
    """``predict`` with the score each lead was actually served before ``until`` (the review
    date) where the score log has one: the cohort check then measures what reps saw; a lead
    never served keeps the model's score."""
    if predict is None:
        return None

    def predicted(rows: pd.DataFrame):
        import numpy as np

        base = np.asarray(predict(rows), dtype=np.float64)
        served = (served_scores(config, pd.to_datetime(rows["scoreable_at"]).min(), until)
                  if len(rows) else None)
        if served is None or served.empty:
            return base
        first = first_served(rows, served).to_numpy(dtype=np.float64)
        return np.where(np.isnan(first), base, first)

    return predicted
