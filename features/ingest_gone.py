"""What a later export no longer shows: a lead listed again whose stored outcome or verdict is
not in it (won last week, "Unqualified" this week; a verdict cleared in the CRM). The store
keeps every row it was given, so an ingest says so rather than let the label stand unnoticed.
"""

from __future__ import annotations

from features.ingest_sql import Part
from features.messages import capped

__all__ = ["taken_back"]

_KEPT = {
    "outcomes": ("an outcome", "stage",
                 "kept, as a stage once reached stays reached, so labels still count it"),
    "dispositions": ("a verdict", "status",
                     "kept, as a verdict given stays given (labels take a positive one inside "
                     "the lead's window, else the latest)"),
}


def taken_back(con, staged: list[tuple[Part, str, int]]) -> list[str]:
    """One note per table (outcomes, dispositions) on the leads of this batch, stored before it,
    that have a stored row of that table this batch does not hold; run before the batch's rows
    are written. None where the batch has no rows of the table's kind at all (a leads-only
    export says nothing about outcomes)."""
    leads = [stage for part, stage, _ in staged if part.table.name == "leads"]
    if not leads:
        return []
    listed = " UNION ".join(f"SELECT lead_id FROM {s}" for s in leads)
    notes = []
    for table, (what, column, kept) in _KEPT.items():
        stages = [(part, stage) for part, stage, _ in staged if part.table.name == table]
        if not stages:
            continue
        key = stages[0][0].table.key
        given = " UNION ALL ".join(f"SELECT {', '.join(key)} FROM {s}" for _, s in stages)
        match = " AND ".join(f"g.{k} = t.{k}" for k in key)
        gone = (f"FROM {table} AS t WHERE t.lead_id IN ({listed}) "
                f"AND NOT EXISTS (SELECT 1 FROM ({given}) AS g WHERE {match})")
        rows = con.execute(f"SELECT t.{column}, count(DISTINCT t.lead_id) {gone} "
                           "GROUP BY ALL ORDER BY 2 DESC, 1").fetchall()
        if not rows:
            continue
        n = con.execute(f"SELECT count(DISTINCT t.lead_id) {gone}").fetchone()[0]
        lead = "lead of this export lacks" if n == 1 else "leads of this export lack"
        notes.append(f"{n:,} {lead} {what} the store holds for {'it' if n == 1 else 'them'} "
                     f"({capped([f'{v}: {c:,}' for v, c in rows])}): {kept}")
    return notes
