"""Training labels: the label policy applied to the store's dispositions and outcomes, as of a date.

Target: the lead became an SQL within ``maturity_days`` of becoming scoreable (``mql_at``, else
``created_at``). For each lead, with only what was known on the review date ``as_of``:

1. a positive outcome or positive-family disposition inside [scoreable_at, scoreable_at + maturity]
   gives label 1 (cause "positive"; the first one is the deciding code);
2. else a conversion dated before the lead became scoreable drops it (nothing was left to predict);
3. else the latest non-positive verdict decides: excluded drops the lead, fit_negative and
   intent_negative give 0 with cause "fit" / "intent";
4. else (open verdict, or none) the lead is 0 with cause "no_conversion" once matured, and unknown
   before that: no row. Unknown is never a negative.

Matured means scoreable_at + maturity <= min(as_of, the store's data horizon): an export cannot
show a conversion after the day it was taken (its last record, or a declared ``exported_at``:
``features.horizon``), so a window that closes after that day is still open as far as the store
knows, however late the review runs.

A conversion after the window is a "no_conversion" negative. Verdicts given before the window
passed are labels too (``matured`` False): train only on matured rows, or the newest cohorts
teach "quick rejections are all that happens".

Everything runs as one DuckDB query, so a million leads take seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd

from features.contract import PLACEHOLDERS
from features.horizon import Horizon, data_horizon
from features.label_policy import SHIPPED, LabelPolicy, load_policy
from leadscore.errors import LeadscoreError

__all__ = [
    "LABEL_COLUMNS",
    "LabelPolicy",
    "build_labels",
    "check_codes",
    "label_summary",
    "load_policy",
    "open_leads",
]

LABEL_COLUMNS = ("lead_id", "label", "cause", "reason_code", "scoreable_at", "cohort", "source",
                 "matured")
CAUSES = ("positive", "fit", "intent", "no_conversion")
CONVERTED_BEFORE_SCOREABLE = "converted_before_scoreable"

_PLACEHOLDER_SQL = ", ".join("'" + p.replace("'", "''") + "'" for p in sorted(PLACEHOLDERS))
# A missing reason code or a form placeholder ("Select", "N/A") is empty: the status decides.
_REASON_SQL = (
    f"CASE WHEN reason_code IS NULL OR lower(trim(reason_code)) IN ({_PLACEHOLDER_SQL}) "
    "THEN NULL ELSE trim(reason_code) END"
)


def _from_error(exc: Exception) -> LeadscoreError:
    return LeadscoreError(f"Cannot read labels from the store ({str(exc).splitlines()[0]}): "
                          "ingest an export into it first (leadscore ingest PATH).")


def _rows(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def check_codes(con: duckdb.DuckDBPyConnection, policy: LabelPolicy) -> None:
    """Fail unless every disposition status, reason code and outcome stage in the store is known.

    Raises:
        LeadscoreError: listing every unknown code with its row count and table.column, and the
            policy file to add them to. Nothing is dropped silently.
    """
    try:
        combos = con.execute(
            f"SELECT trim(status), {_REASON_SQL}, count(*) FROM dispositions GROUP BY ALL"
        ).fetchall()
        stages = con.execute(
            "SELECT trim(stage), count(*) FROM outcomes GROUP BY ALL ORDER BY 1"
        ).fetchall()
    except duckdb.CatalogException as exc:
        raise _from_error(exc) from None

    unknown_status: dict[str, int] = {}
    unknown_reason: dict[str, int] = {}
    needs_reason: dict[str, int] = {}
    for status, reason, n in combos:
        if status not in policy.statuses:
            unknown_status[status] = unknown_status.get(status, 0) + n
        if reason is not None:
            if reason not in policy.reason_codes:
                unknown_reason[reason] = unknown_reason.get(reason, 0) + n
        elif status in policy.statuses and policy.statuses[status] is None:
            needs_reason[status] = needs_reason.get(status, 0) + n

    problems = [
        f"dispositions.reason_code '{c}' ({_rows(n)})" for c, n in sorted(unknown_reason.items())
    ]
    problems += [
        f"dispositions.status '{s}' ({_rows(n)})" for s, n in sorted(unknown_status.items())
    ]
    problems += [
        f"dispositions.status '{s}' with an empty reason_code ({_rows(n)}; its family is null)"
        for s, n in sorted(needs_reason.items())
    ]
    problems += [
        f"outcomes.stage '{s}' ({_rows(n)})" for s, n in stages if s not in policy.outcome_stages
    ]
    if not problems:
        return
    if policy.is_shipped:
        where = (
            f"copy the shipped {SHIPPED}, add them there with their family "
            "(positive, fit_negative, intent_negative, excluded, open), and set labels.policy in "
            "your config to the copy"
        )
    else:
        where = (
            f"add them to your label policy file {policy.source} with their family "
            "(positive, fit_negative, intent_negative, excluded, open)"
        )
    raise LeadscoreError(
        f"The label policy does not know {len(problems)} code(s) found in the store: "
        f"{', '.join(problems)}; {where}."
    )


def _values(name: str, mapping: Any, params: dict[str, Any]) -> str:
    """A CTE listing one policy section as (code, family) rows, bound as parameters."""
    rows = []
    for i, (code, family) in enumerate(sorted(mapping.items())):
        params[f"{name}_c{i}"] = code
        params[f"{name}_f{i}"] = family
        rows.append(f"(CAST(${name}_c{i} AS VARCHAR), CAST(${name}_f{i} AS VARCHAR))")
    if not rows:
        return f"{name}(code, family) AS (SELECT NULL::VARCHAR, NULL::VARCHAR WHERE false)"
    return f"{name}(code, family) AS (VALUES {', '.join(rows)})"


def _as_naive_utc(as_of: datetime) -> datetime:
    # The store holds naive UTC timestamps; an aware review date is moved to UTC first.
    if as_of.tzinfo is not None:
        return as_of.astimezone(UTC).replace(tzinfo=None)
    return as_of


def _decided_sql(policy: LabelPolicy, as_of: datetime, maturity_days: int,
                 horizon: Horizon | None = None) -> tuple[str, dict]:
    """SQL giving one row per lead created <= as_of with its verdict: a cause, or why it has none.

    Columns: lead_id, source, scoreable_at, cohort, window_end, matured, cause, code. ``cause`` is
    one of CAUSES, "excluded" (``code`` says why) or "unmatured" (open, inside its window as of
    ``min(as_of, horizon)``: verdicts and outcomes up to ``as_of`` count, but a window is closed
    only by a day the store's evidence reaches).
    """
    if isinstance(maturity_days, bool) or not isinstance(maturity_days, int) or maturity_days < 1:
        raise LeadscoreError(
            f"labels.maturity_days must be a whole number of days >= 1, found {maturity_days!r}: "
            "fix it in your config."
        )
    if not isinstance(as_of, datetime):
        raise LeadscoreError(f"The review date must be a date and time, found {as_of!r}.")
    as_of = _as_naive_utc(as_of)
    judged = horizon.judged(as_of) if horizon is not None else as_of
    params: dict[str, Any] = {"as_of": as_of, "judged": judged, "maturity": maturity_days}
    maps = ",\n".join(
        [
            _values("reason_map", policy.reason_codes, params),
            _values("status_map", policy.statuses, params),
            _values("stage_map", policy.outcome_stages, params),
        ]
    )
    sql = f"""
    WITH {maps},
    lead AS (
        SELECT lead_id, source,
               -- an MQL date after the review date was unknown then: the lead counts from creation
               CASE WHEN mql_at IS NOT NULL AND mql_at <= $as_of THEN mql_at ELSE created_at END
                   AS scoreable_at
        FROM leads WHERE created_at <= $as_of
    ),
    disposition AS (
        SELECT lead_id, dispositioned_at AS event_at, trim(status) AS status,
               {_REASON_SQL} AS reason
        FROM dispositions WHERE dispositioned_at <= $as_of
    ),
    event AS (
        SELECT d.lead_id, d.event_at,
               CASE WHEN d.reason IS NOT NULL THEN r.family ELSE s.family END AS family,
               coalesce(d.reason, d.status) AS code
        FROM disposition d
        LEFT JOIN reason_map r ON r.code = d.reason
        LEFT JOIN status_map s ON s.code = d.status
        UNION ALL
        SELECT o.lead_id, o.occurred_at, g.family, g.code
        FROM outcomes o JOIN stage_map g ON g.code = trim(o.stage)
        WHERE o.occurred_at <= $as_of
    ),
    timed AS (
        SELECT e.*, l.scoreable_at,
               l.scoreable_at + to_days(CAST($maturity AS INTEGER)) AS window_end
        FROM event e JOIN lead l USING (lead_id)
    ),
    positive AS (
        SELECT lead_id, code FROM timed
        WHERE family = 'positive' AND event_at >= scoreable_at AND event_at <= window_end
        QUALIFY row_number() OVER (PARTITION BY lead_id ORDER BY event_at, code) = 1
    ),
    converted_early AS (
        SELECT DISTINCT lead_id FROM timed WHERE family = 'positive' AND event_at < scoreable_at
    ),
    latest AS (
        -- at the same instant a definite verdict outranks "excluded", which outranks "open"
        SELECT lead_id, family, code FROM timed
        WHERE family IS NOT NULL AND family <> 'positive'
        QUALIFY row_number() OVER (
            PARTITION BY lead_id
            ORDER BY event_at DESC,
                     CASE family WHEN 'fit_negative' THEN 0 WHEN 'intent_negative' THEN 1
                                 WHEN 'excluded' THEN 2 ELSE 3 END,
                     code
        ) = 1
    )
    SELECT l.lead_id, l.source, l.scoreable_at,
           CAST(date_trunc('week', l.scoreable_at) AS TIMESTAMP) AS cohort,
           l.scoreable_at + to_days(CAST($maturity AS INTEGER)) AS window_end,
           l.scoreable_at + to_days(CAST($maturity AS INTEGER)) <= $judged AS matured,
           CASE WHEN p.lead_id IS NOT NULL THEN 'positive'
                WHEN c.lead_id IS NOT NULL THEN 'excluded'
                WHEN t.family = 'excluded' THEN 'excluded'
                WHEN t.family = 'fit_negative' THEN 'fit'
                WHEN t.family = 'intent_negative' THEN 'intent'
                WHEN l.scoreable_at + to_days(CAST($maturity AS INTEGER)) <= $judged
                    THEN 'no_conversion'
                ELSE 'unmatured'
           END AS cause,
           CASE WHEN p.lead_id IS NOT NULL THEN p.code
                WHEN c.lead_id IS NOT NULL THEN '{CONVERTED_BEFORE_SCOREABLE}'
                WHEN t.family IN ('excluded', 'fit_negative', 'intent_negative') THEN t.code
           END AS code
    FROM lead l
    LEFT JOIN positive p USING (lead_id)
    LEFT JOIN converted_early c USING (lead_id)
    LEFT JOIN latest t USING (lead_id)
    """
    return sql, params


def build_labels(
    con: duckdb.DuckDBPyConnection, as_of: datetime, policy: LabelPolicy, maturity_days: int
) -> pd.DataFrame:
    """One row per lead whose label is decided as of ``as_of``, ordered by scoreable_at, lead_id.

    Reads only leads created, dispositions given and outcomes reached on or before ``as_of``.

    Returns:
        Columns ``LABEL_COLUMNS``: lead_id, label (0/1), cause ("positive", "fit", "intent",
        "no_conversion"), reason_code (the deciding code: reason code, else status, else outcome
        stage; null for no_conversion), scoreable_at, cohort (Monday 00:00 of scoreable_at's ISO
        week), source, matured (scoreable_at + maturity_days <= min(as_of, the store's horizon)).

    Raises:
        LeadscoreError: when the store holds codes the policy does not know (see ``check_codes``).
    """
    check_codes(con, policy)
    sql, params = _decided_sql(policy, as_of, maturity_days, data_horizon(con))
    causes = ", ".join(f"'{c}'" for c in CAUSES)
    try:
        frame = con.execute(
            f"""
            SELECT lead_id, CAST(cause = 'positive' AS BIGINT) AS label, cause,
                   code AS reason_code, scoreable_at, cohort, source, matured
            FROM ({sql}) WHERE cause IN ({causes})
            ORDER BY scoreable_at, lead_id
            """,
            params,
        ).df()
    except duckdb.CatalogException as exc:
        raise _from_error(exc) from None
    frame["label"] = frame["label"].astype("int64")
    frame["matured"] = frame["matured"].astype(bool)
    return frame.reset_index(drop=True)


def label_summary(
    con: duckdb.DuckDBPyConnection, as_of: datetime, policy: LabelPolicy, maturity_days: int
) -> dict[str, Any]:
    """Counts behind the labels, for the review cycle's summary and its MLflow run.

    Returns:
        ``leads_considered`` (created <= as_of), ``labelled``, ``positives``, ``negatives``,
        ``matured_labelled``, ``by_cause`` {cause: n}, ``positive_codes`` and ``excluded``
        {deciding code: n}, and the
        censored part: ``unmatured_open_leads`` (open inside their window: no label yet) and
        ``unmatured_open_cohorts`` (how many weekly cohorts they fall in),
        ``unmatured_decided_leads`` (a verdict inside the window: labelled, not yet learned from)
        and ``unmatured_cohorts`` (the weekly cohorts of both), ``policy_hash``, the store's
        ``horizon`` and ``horizon_source``, and ``past_horizon_leads`` /
        ``past_horizon_decided_leads``: open / decided leads unmatured only because of it.
    """
    check_codes(con, policy)
    horizon = data_horizon(con)
    sql, params = _decided_sql(policy, as_of, maturity_days, horizon)
    causes = ", ".join(f"'{c}'" for c in CAUSES)
    try:
        # the grand-total row (grouping id 3) carries the number of distinct unmatured cohorts
        rows = con.execute(
            f"""
            SELECT grouping(cause, code) AS total, cause, code, count(*) AS leads,
                   count(*) FILTER (WHERE matured) AS matured,
                   count(DISTINCT cohort) FILTER (WHERE cause = 'unmatured') AS open_cohorts,
                   count(DISTINCT cohort) FILTER (WHERE NOT matured AND cause <> 'excluded')
                       AS window_cohorts,
                   count(*) FILTER (WHERE cause = 'unmatured' AND window_end <= $as_of) AS past,
                   count(*) FILTER (WHERE NOT matured AND cause IN ({causes})
                                    AND window_end <= $as_of) AS past_decided
            FROM ({sql}) GROUP BY GROUPING SETS ((cause, code), ())
            """,
            params,
        ).fetchall()
    except duckdb.CatalogException as exc:
        raise _from_error(exc) from None
    by_cause = dict.fromkeys(CAUSES, 0)
    excluded: dict[str, int] = {}
    positive_codes: dict[str, int] = {}  # the deciding code of each positive: what to call it
    considered = matured_labelled = unmatured_open = open_cohorts = window_cohorts = 0
    past = past_decided = 0  # the open / decided leads left unmatured by the horizon
    for total, cause, code, leads, matured, cohorts, in_window, *pasts in rows:
        if total:
            open_cohorts, window_cohorts, (past, past_decided) = cohorts, in_window, pasts
            continue
        considered += leads
        if cause in by_cause:
            by_cause[cause] += leads
            matured_labelled += matured
            if cause == "positive":
                positive_codes[code] = positive_codes.get(code, 0) + leads
        elif cause == "excluded":
            excluded[code] = excluded.get(code, 0) + leads
        else:
            unmatured_open += leads
    labelled = sum(by_cause.values())
    return {
        "as_of": _as_naive_utc(as_of).isoformat(),
        "maturity_days": maturity_days,
        "policy_hash": policy.short_hash,
        "leads_considered": considered,
        "labelled": labelled,
        "positives": by_cause["positive"],
        "negatives": labelled - by_cause["positive"],
        "matured_labelled": matured_labelled,
        "by_cause": by_cause,
        "positive_codes": dict(sorted(positive_codes.items())),
        "excluded": dict(sorted(excluded.items())),
        "unmatured_open_leads": unmatured_open,
        "unmatured_open_cohorts": int(open_cohorts),
        # decided inside the window: labelled, but not learned from until their cohort matures
        "unmatured_decided_leads": labelled - matured_labelled,
        "unmatured_cohorts": int(window_cohorts),
        "horizon": horizon.at.isoformat() if horizon else None,
        "horizon_day": horizon.runs_to.isoformat() if horizon else None,
        "horizon_source": horizon.source if horizon else None,
        "past_horizon_leads": int(past),
        "past_horizon_decided_leads": int(past_decided),
    }


def open_leads(
    con: duckdb.DuckDBPyConnection, as_of: datetime, policy: LabelPolicy, maturity_days: int
) -> pd.DataFrame:
    """The leads still open as of ``as_of``: what ``build_labels`` leaves unknown.

    Open means created on or before ``as_of``, with no positive outcome or verdict, no fit- or
    intent-negative or excluded verdict as the latest one (an ``open``-family status such as
    ``working`` keeps a lead open), and still inside its maturity window (scoreable_at +
    ``maturity_days`` after ``as_of``, or after the store's data horizon when that is earlier). A
    lead past its window without a verdict is a decided "no conversion" here, as in training: the
    model's question about it has its answer.

    Returns:
        ``lead_id`` and ``scoreable_at`` of every open lead, ordered by lead_id.

    Raises:
        LeadscoreError: when the store holds codes the policy does not know (``check_codes``).
    """
    check_codes(con, policy)
    sql, params = _decided_sql(policy, as_of, maturity_days, data_horizon(con))
    try:
        return con.execute(
            f"SELECT lead_id, scoreable_at FROM ({sql}) WHERE cause = 'unmatured' ORDER BY lead_id",
            params,
        ).df()
    except duckdb.CatalogException as exc:
        raise _from_error(exc) from None
