"""What the leaders' report computes from the store (read-only): dispositions, speed, cohorts.

Definitions (the report's glossary repeats them):

- A lead's *verdict* is its latest disposition on or before the review date; its *family* comes
  from the label policy (positive = booked, open = accepted / being worked, fit_negative and
  intent_negative = rejected for who the lead is / what it is doing, excluded = junk or recycled;
  a lead whose status is an open one, such as working, is being worked even where its reason code
  is excluded, as an opportunity still open when exported is).
- *Acceptance rate*: the share of dispositioned leads whose verdict is accepted, being worked or
  booked (not rejected, disqualified or recycled).
- *Engaged*: the lead had a high-intent activity (``features.high_intent_activities``) or at least
  three activities of any kind on or before the review date.
- *Response time*: from the moment the lead became scoreable (MQL, else creation) to its first
  touch (the earliest ``first_touch_at``), in clock hours. The SLA is ``sla.high_intent_hours``
  (default 1) for leads with a high-intent activity before their first touch and
  ``sla.other_hours`` (default 24) for the rest.
- *Cohort check*: the observed SQL rate of the leads that became scoreable after the previous
  cycle's review (and have matured since) against what the scores of the model serving then (the
  champion this cycle started with) predicted for the same leads. A change in the base rate moves
  both the observation and nothing else, so it is never credited to the model: the check says
  whether the scores held up, not whether conversion rose.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from features.fit import normalise_source
from features.label_policy import LabelPolicy
from features.labels import build_labels

# the report reads the grade figures here; they live in scoring/, which the monitor shares
from scoring.grades import MIN_GRADE_LEADS as MIN_GRADE_LEADS
from scoring.grades import grade_inversions as grade_inversions
from scoring.grades import grade_table as grade_table
from scoring.grades import grades_compared as grades_compared

VERDICTS = ("booked", "accepted", "rejected_fit", "rejected_intent", "junk_or_recycled", "other")
_FAMILY_VERDICT = {
    "positive": "booked", "open": "accepted", "fit_negative": "rejected_fit",
    "intent_negative": "rejected_intent", "excluded": "junk_or_recycled",
}
BUCKETS = ("<5 min", "5-30 min", "30 min-1 h", "1-24 h", ">24 h")
_BUCKET_EDGES_H = (5 / 60, 0.5, 1.0, 24.0)
MIN_COHORT_LEADS = 30
MIN_COHORT_SQLS = 5


def _verdict_family(policy: LabelPolicy, status: str, reason_code: str | None) -> str | None:
    """The family of sales' verdict: the policy's, except that a lead whose status says it is
    being worked is being worked even where its reason code keeps it out of training (an
    opportunity still open when exported is not junk)."""
    family = policy.family(status, reason_code)
    if family == "excluded" and policy.family(status, None) == "open":
        return "open"
    return family


def disposition_count(con: duckdb.DuckDBPyConnection) -> int:
    """How many dispositions the store holds, whatever their date."""
    return int(con.execute("SELECT count(*) FROM dispositions").fetchone()[0])


def undispositioned_positives(con: duckdb.DuckDBPyConnection, policy: LabelPolicy,
                              start: datetime | None, end: datetime) -> int:
    """Leads scoreable in [start, end] with a positive outcome by ``end`` and no disposition by
    then: an export whose dispositions are only the reasons for rejections (Salesforce's Reason
    Unqualified) records its conversions as outcomes alone, and the acceptance rate, read from
    dispositions, does not count them."""
    stages = [stage for stage, family in policy.outcome_stages.items() if family == "positive"]
    if not stages:
        return 0
    return int(con.execute(
        """
        SELECT count(*) FROM leads l
        WHERE CASE WHEN l.mql_at IS NOT NULL AND l.mql_at <= $end THEN l.mql_at
                   ELSE l.created_at END BETWEEN $start AND $end
          AND EXISTS (SELECT 1 FROM outcomes o WHERE o.lead_id = l.lead_id
                      AND o.occurred_at <= $end AND list_contains($stages, trim(o.stage)))
          AND NOT EXISTS (SELECT 1 FROM dispositions d WHERE d.lead_id = l.lead_id
                          AND d.dispositioned_at <= $end)
        """,
        {"start": start or datetime(1900, 1, 1), "end": end, "stages": stages},
    ).fetchone()[0])


def dispositioned_leads(
    con: duckdb.DuckDBPyConnection,
    policy: LabelPolicy,
    config: dict[str, Any],
    start: datetime | None,
    end: datetime,
) -> pd.DataFrame:
    """One row per lead scoreable in [start, end] with a disposition by ``end``.

    Columns: lead_id, source, campaign, scoreable_at, status, reason_code, verdict, accepted,
    engaged, high_intent_first, first_touch_at, response_hours. No personal field is read.
    """
    high = list((config.get("features") or {}).get("high_intent_activities") or [])
    params: dict[str, Any] = {"end": end, "start": start or datetime(1900, 1, 1), "high": high}
    frame = con.execute(
        """
        WITH lead AS (
            SELECT lead_id, coalesce(nullif(trim(source), ''), 'unknown') AS source,
                   coalesce(nullif(trim(campaign), ''), '(none)') AS campaign,
                   CASE WHEN mql_at IS NOT NULL AND mql_at <= $end THEN mql_at ELSE created_at END
                       AS scoreable_at
            FROM leads WHERE created_at <= $end
        ), latest AS (
            SELECT lead_id, trim(status) AS status, nullif(trim(reason_code), '') AS reason_code
            FROM dispositions WHERE dispositioned_at <= $end
            QUALIFY row_number() OVER (PARTITION BY lead_id ORDER BY dispositioned_at DESC,
                                       status) = 1
        ), touch AS (
            SELECT lead_id, min(first_touch_at) AS first_touch_at
            FROM dispositions WHERE dispositioned_at <= $end AND first_touch_at <= $end
            GROUP BY lead_id
        ), act AS (
            SELECT a.lead_id, count(*) AS n_activities,
                   count(*) FILTER (WHERE list_contains($high, a.activity_type)) AS n_high,
                   min(a.occurred_at) FILTER (WHERE list_contains($high, a.activity_type))
                       AS first_high_at
            FROM activities a WHERE a.occurred_at <= $end GROUP BY a.lead_id
        )
        SELECT l.lead_id, l.source, l.campaign, l.scoreable_at, d.status, d.reason_code,
               t.first_touch_at,
               coalesce(a.n_high, 0) > 0 OR coalesce(a.n_activities, 0) >= 3 AS engaged,
               coalesce(a.first_high_at <= t.first_touch_at, false) AS high_intent_first
        FROM lead l JOIN latest d USING (lead_id)
        LEFT JOIN touch t USING (lead_id) LEFT JOIN act a USING (lead_id)
        WHERE l.scoreable_at >= $start AND l.scoreable_at <= $end
        """,
        params,
    ).df()
    sources = {raw: normalise_source(raw) or "unknown" for raw in frame["source"].unique()}
    frame["source"] = frame["source"].map(sources)
    families = [_verdict_family(policy, s, r)
                for s, r in zip(frame["status"], frame["reason_code"], strict=True)]
    frame["verdict"] = [_FAMILY_VERDICT.get(f, "other") for f in families]
    frame["accepted"] = frame["verdict"].isin(["booked", "accepted"])
    frame["reason_code"] = frame["reason_code"].fillna(frame["status"])
    delta = pd.to_datetime(frame["first_touch_at"]) - pd.to_datetime(frame["scoreable_at"])
    frame["response_hours"] = (delta.dt.total_seconds() / 3600).clip(lower=0)
    return frame


def acceptance_by(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per value of ``column``: leads, acceptance rate and the share of each verdict."""
    if frame.empty:
        return pd.DataFrame(columns=[column, "leads", "acceptance_rate", *VERDICTS])
    shares = pd.crosstab(frame[column], frame["verdict"], normalize="index")
    shares = shares.reindex(columns=list(VERDICTS), fill_value=0.0)
    out = pd.DataFrame({
        "leads": frame.groupby(column).size(),
        "acceptance_rate": frame.groupby(column)["accepted"].mean(),
        "engaged_out_of_icp": frame.assign(
            x=frame["engaged"] & (frame["verdict"] == "rejected_fit")
        ).groupby(column)["x"].mean(),
    }).join(shares)
    out = out.rename_axis(column).reset_index()
    return out.sort_values(["leads", column], ascending=[False, True]).reset_index(drop=True)


def reasons_by_source(frame: pd.DataFrame) -> pd.DataFrame:
    """Rejection reason codes per source: share of the source's dispositioned leads, and how many
    times the overall share that is (``ratio``; 2.0 = twice as often as average)."""
    rejected = frame[frame["verdict"].isin(["rejected_fit", "rejected_intent", "junk_or_recycled"])]
    if rejected.empty:
        return pd.DataFrame(columns=["source", "reason_code", "family", "count", "share",
                                     "overall_share", "ratio"])
    per_source = frame.groupby("source").size()
    overall = rejected.groupby("reason_code").size() / len(frame)
    counts = rejected.groupby(["source", "reason_code", "verdict"]).size().rename("count")
    out = counts.reset_index().rename(columns={"verdict": "family"})
    out["share"] = out["count"] / out["source"].map(per_source)
    out["overall_share"] = out["reason_code"].map(overall)
    out["ratio"] = out["share"] / out["overall_share"]
    return out.sort_values(["source", "count"], ascending=[True, False]).reset_index(drop=True)


def reason_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Every verdict's reason code over all dispositioned leads: count and share."""
    if frame.empty:
        return pd.DataFrame(columns=["reason_code", "verdict", "count", "share"])
    out = frame.groupby(["reason_code", "verdict"]).size().rename("count").reset_index()
    out["share"] = out["count"] / len(frame)
    return out.sort_values("count", ascending=False).reset_index(drop=True)


def _bucket(hours: pd.Series) -> pd.Series:
    edges = [-math.inf, *_BUCKET_EDGES_H, math.inf]
    return pd.cut(hours, edges, labels=list(BUCKETS), right=False)


def first_touch(frame: pd.DataFrame, labels: pd.DataFrame, sla: dict[str, float]) -> dict[str, Any]:
    """Speed to lead: shares touched within 1 h / 24 h / the SLA, and SQL rate by response bucket.

    ``labels`` are matured labels (lead_id, label); conversion by bucket uses leads in both.
    """
    touched = frame.dropna(subset=["response_hours"])
    out: dict[str, Any] = {"touched": len(touched), "dispositioned": len(frame)}
    if touched.empty:
        out["buckets"] = pd.DataFrame(columns=["bucket", "leads", "labelled", "sql_rate"])
        return out
    hours = touched["response_hours"]
    high = touched["high_intent_first"].astype(bool)
    limit = np.where(high, sla["high_intent_hours"], sla["other_hours"])
    out.update(
        within_1h=float((hours <= 1).mean()),
        within_24h=float((hours <= 24).mean()),
        median_hours=float(hours.median()),
        sla_met=float((hours.to_numpy() <= limit).mean()),
        high_intent_leads=int(high.sum()),
        high_intent_within_sla=float((hours[high] <= sla["high_intent_hours"]).mean())
        if high.any() else math.nan,
        other_within_sla=float((hours[~high] <= sla["other_hours"]).mean())
        if (~high).any() else math.nan,
    )
    joined = touched.assign(bucket=_bucket(hours)).merge(
        labels[["lead_id", "label"]], on="lead_id", how="left"
    )
    rows = []
    for name in BUCKETS:
        part = joined[joined["bucket"] == name]
        known = part["label"].dropna()
        rows.append({"bucket": name, "leads": len(part), "labelled": len(known),
                     "sql_rate": float(known.mean()) if len(known) else math.nan})
    out["buckets"] = pd.DataFrame(rows)
    return out


@dataclass(frozen=True)
class CohortCheck:
    """Did leads scored since the previous review convert as their scores predicted?

    ``verdict``: "as predicted", "above prediction", "below prediction", "insufficient evidence"
    (too few matured leads), "no model" (no champion scored them) or "first cycle".
    """

    verdict: str
    days: int = 0
    split: datetime | None = None
    after_end: datetime | None = None
    after_n: int = 0
    after_sqls: int = 0
    predicted: float = math.nan
    diff: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    p_value: float = math.nan
    since_n: int | None = None  # before any window closed: leads scoreable since the split
    first_after: datetime | None = None  # ... and the first one's scoreable moment

    @property
    def after_rate(self) -> float:
        return self.after_sqls / self.after_n if self.after_n else math.nan


def observed_vs_predicted(labels: np.ndarray, predicted: np.ndarray
                          ) -> tuple[float, float, float, float]:
    """Observed rate minus mean prediction, its 95 % interval and two-sided p-value.

    Under the scores, the number of SQLs is a sum of independent Bernoulli(p_i), whose variance
    is the sum of p_i (1 - p_i): the interval is what sampling alone would give if the scores
    were right.
    """
    y = np.asarray(labels, dtype=np.float64)
    p = np.asarray(predicted, dtype=np.float64)
    n = len(y)
    diff = float(y.mean() - p.mean())
    se = math.sqrt(float(np.sum(p * (1 - p)))) / n or 1e-12
    z = diff / se
    p_value = math.erfc(abs(z) / math.sqrt(2))
    return diff, diff - 1.96 * se, diff + 1.96 * se, p_value


def cohort_check(
    con: duckdb.DuckDBPyConnection,
    policy: LabelPolicy,
    as_of: datetime,
    previous_as_of: datetime | None,
    maturity_days: int,
    predict: Callable[[pd.DataFrame], np.ndarray] | None = None,
) -> CohortCheck:
    """Compare the matured leads scored since ``previous_as_of`` with their predictions.

    Args:
        predict: the serving model's probabilities for labelled rows (``lead_id``,
            ``scoreable_at``); None when no champion was serving.
    """
    if previous_as_of is None:
        return CohortCheck("first cycle")
    after_end = as_of - timedelta(days=maturity_days)
    if after_end <= previous_as_of:
        # no window has closed yet: when the first will, if any lead came in at all
        since_n, first = con.execute(
            """
            SELECT count(*), min(scoreable) FROM (
                SELECT CASE WHEN mql_at IS NOT NULL AND mql_at <= $end THEN mql_at
                            ELSE created_at END AS scoreable FROM leads)
            WHERE scoreable >= $start AND scoreable <= $end
            """, {"start": previous_as_of, "end": as_of}).fetchone()
        return CohortCheck("insufficient evidence", maturity_days, previous_as_of, after_end,
                           since_n=int(since_n), first_after=first)
    labels = build_labels(con, as_of, policy, maturity_days)
    labels = labels[labels["matured"]]
    at = pd.to_datetime(labels["scoreable_at"])
    after = labels[(at >= previous_as_of) & (at < after_end)].reset_index(drop=True)
    check = dict(days=maturity_days, split=previous_as_of, after_end=after_end,
                 after_n=len(after), after_sqls=int(after["label"].sum()))
    if len(after) < MIN_COHORT_LEADS or check["after_sqls"] < MIN_COHORT_SQLS:
        return CohortCheck("insufficient evidence", **check)
    if predict is None:
        return CohortCheck("no model", **check)
    predicted = np.asarray(predict(after), dtype=np.float64)
    diff, lo, hi, p = observed_vs_predicted(after["label"].to_numpy(), predicted)
    verdict = "above prediction" if lo > 0 else "below prediction" if hi < 0 else "as predicted"
    return CohortCheck(verdict, predicted=float(predicted.mean()), diff=diff, ci_low=lo,
                       ci_high=hi, p_value=p, **check)


def score_validation_cohort(
    con: duckdb.DuckDBPyConnection,
    bundle,
    policy: LabelPolicy,
    config: dict[str, Any],
    as_of: datetime,
) -> pd.DataFrame:
    """Score the newest matured cohorts (``cycle.validation_weeks``) with ``bundle``, as of each
    lead's scoreable moment: lead_id, source, label, score, grade. The fallback when the review
    logged no scored validation table."""
    from features.batch import build_batch
    from scoring.bundle import score_frame

    labels = build_labels(con, as_of, policy, int(config["labels"]["maturity_days"]))
    labels = labels[labels["matured"]]
    if labels.empty:
        return pd.DataFrame(columns=["lead_id", "source", "label", "score", "grade"])
    weeks = sorted(labels["cohort"].unique())[-int(config["cycle"]["validation_weeks"]):]
    valid = labels[labels["cohort"].isin(weeks)].reset_index(drop=True)
    points = pd.DataFrame({"lead_id": valid["lead_id"], "as_of": valid["scoreable_at"]})
    scores = score_frame(bundle, build_batch(con, points, config))
    return pd.concat([valid[["lead_id", "source", "label"]], scores[["score", "grade"]]], axis=1)


def score_rows(con: duckdb.DuckDBPyConnection, bundle, config: dict[str, Any],
               rows: pd.DataFrame) -> np.ndarray:
    """``bundle``'s score of each labelled row (``lead_id``, ``scoreable_at``) as of that moment."""
    from features.batch import build_batch
    from scoring.bundle import score_frame

    points = pd.DataFrame({"lead_id": rows["lead_id"].to_numpy(),
                           "as_of": rows["scoreable_at"].to_numpy()})
    return score_frame(bundle, build_batch(con, points, config))["score"].to_numpy()
