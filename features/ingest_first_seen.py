"""Dating a verdict no earlier than it can have been known.

A flat export carries each lead's current verdict and outcome; a mapping without a column for
when it was given dates it ``after_days`` after the lead's creation. That is right for a verdict
the lead's first export shows, but not for one that first appears in a later export: week 1's to
week 4's exports listed the lead open, so the verdict was given after week 4's export, and dated
in week 1 it tells a review or a backtest as of week 2 an outcome nobody knew then (leakage).

Such a verdict (a lead the store holds, a status or stage the store holds no row of for it) is
dated no earlier than this export: the day it was taken where it is declared (``exported_at``),
else the latest moment the store and this export record. Later exports showing the same verdict
keep that date, so re-ingesting changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime

from features.horizon import clock_limit, data_horizon, last_record, recorded_columns
from features.ingest_sql import Part
from features.messages import plural

__all__ = ["first_seen"]

# table -> (its time column, the code a lead holds one row of)
_DATED = {"dispositions": ("dispositioned_at", "status"), "outcomes": ("occurred_at", "stage")}


def first_seen(con, staged: list[tuple[Part, str, int]], declared: date | None) -> list[str]:
    """Re-date, in the staged tables, the verdicts and outcomes dated by the mapping that this
    batch shows for the first time on a lead the store holds; the note saying how many. Run
    before the batch's rows are written (it reads what the store held before)."""
    dated = [(part, stage) for part, stage, _ in staged
             if part.table.name in _DATED and part.after_days is not None]
    if not dated:
        return []
    known = _known_from(con, staged, declared)
    moved = dict.fromkeys(_DATED, 0)
    leads: set[str] = set()
    for part, stage in dated:
        table = part.table.name
        at, code = _DATED[table]
        shift = int(round(part.after_days * 86_400_000_000))
        # dated so by an earlier batch (later than created_at + after_days): keep that date
        con.execute(f"""
            UPDATE {stage} AS s SET {at} = p.at FROM (
                SELECT t.lead_id, t.{code}, max(t.{at}) AS at FROM {table} AS t
                JOIN leads AS l USING (lead_id)
                WHERE t.{at} > l.created_at + to_microseconds({shift}) GROUP BY ALL) AS p
            WHERE p.lead_id = s.lead_id AND p.{code} = s.{code} AND s.{at} < p.at""")
        ids = con.execute(f"""
            UPDATE {stage} AS s SET {at} = $known
            WHERE s.{at} < $known AND s.lead_id IN (SELECT lead_id FROM leads)
              AND NOT EXISTS (SELECT 1 FROM {table} AS t
                              WHERE t.lead_id = s.lead_id AND t.{code} = s.{code})
            RETURNING s.lead_id""", {"known": known}).fetchall()
        moved[table] += len(ids)
        leads.update(i for (i,) in ids)
    return _note(moved, len(leads), known, declared)


def _known_from(con, staged: list[tuple[Part, str, int]], declared: date | None) -> datetime:
    """The earliest moment a verdict this batch shows first can be said known: the day the
    export was taken, where declared; else the latest the store and the batch record (not
    counting the dates the mapping gives, nor any dated after the clock)."""
    if declared is not None:
        return datetime(declared.year, declared.month, declared.day)
    before = data_horizon(con)
    # a record dated after the clock (a typo'd year) has not happened: it dates nothing
    batch = last_record(con, [(stage, column) for part, stage, _ in staged
                              if part.after_days is None
                              for column in recorded_columns(part.table.name)],
                        until=clock_limit())
    return max(m for m in (before.at if before else None, batch) if m is not None)


def _note(moved: dict[str, int], leads: int, known: datetime,
          declared: date | None) -> list[str]:
    verdicts, outcomes = moved["dispositions"], moved["outcomes"]
    total = verdicts + outcomes
    if not total:
        return []
    what = " and ".join(plural(n, word) for n, word in ((verdicts, "verdict"),
                                                         (outcomes, "outcome")) if n)
    them = "it" if total == 1 else "them"
    if declared is not None:
        when = f"{known:%Y-%m-%d}, the day this export was taken"
    else:
        when = (f"{known:%Y-%m-%d %H:%M}, the latest moment the store and this export record "
                f"(declare the day the export was taken with exported_at: or --exported-at to "
                f"date {them} by that day)")
    return [f"{what} dated by the mapping (after_days) first "
            f"{'appears' if total == 1 else 'appear'} in this export for "
            f"{'a lead' if leads == 1 else plural(leads, 'lead')} an earlier export listed "
            f"without {them}: dated {when}, not created_at + after_days, as nobody could know "
            f"{them} earlier"]
