"""What a later export changes about leads the store holds, said in the ingest report: a lead
listed again without its stored outcome or verdict (won last week, "Unqualified" this week; a
verdict cleared in the CRM), which the store keeps; a category the CRM respelled ("Web" is
"Website" from this week), which would be a new category the model never saw; a verdict dated
by the mapping that moves with its lead's new creation date; and an attribute role an edited
mapping changes.
"""

from __future__ import annotations

import json

from features.ingest_sql import Part, literal
from features.mapping import FlatMapping
from features.mapping_v2 import MappingV2
from features.messages import capped

__all__ = ["declared_ignored", "redated", "respelled", "role_changes", "taken_back"]

DESCRIPTIVE = ("source", "title", "industry", "country", "campaign", "company_size")
"""The lead columns kept as written: a CRM's new spelling of a value is a new category."""

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


def respelled(con, staged: list[tuple[Part, str, int]]) -> list[str]:
    """A note per category value that this batch writes another way on every lead of it that
    had it (at least 2), where the old value appears nowhere in the batch's column and the new
    one nowhere in the store's: most likely the same value respelled. Run before the batch's
    rows are written."""
    notes = []
    for part, stage, _ in staged:
        if part.table.name != "leads":
            continue
        columns = [(part.label(c), f"{{}}.{c}") for c in DESCRIPTIVE if c in part.exprs]
        columns += [(a.label, "json_extract_string({}.attributes, " + literal(f'$."{a.name}"')
                     + ")") for a in part.attributes if a.kind == "categorical"]
        for label, expr in columns:
            old, new = expr.format("t"), expr.format("s")
            pairs = con.execute(
                f"SELECT {old}, {new}, count(*) FROM leads AS t JOIN {stage} AS s USING (lead_id) "
                f"WHERE {old} <> {new} AND {old} NOT IN (SELECT {new} FROM {stage} AS s "
                f"WHERE {new} IS NOT NULL) AND {new} NOT IN (SELECT {old} FROM leads AS t "
                f"WHERE {old} IS NOT NULL) GROUP BY ALL ORDER BY 3 DESC, 1, 2").fetchall()
            olds = [p[0] for p in pairs]
            for was, now, n in pairs:
                if n >= 2 and olds.count(was) == 1:
                    notes.append(
                        f"{label}: {was!r} reads {now!r} in this export on all {n:,} of its "
                        "leads that had it, a value the store never held: if it is the same "
                        f"value respelled, add replace: {{{json.dumps(now)}: {json.dumps(was)}}} "
                        "to the column in the mapping (v2) and ingest this export again")
    return notes


def declared_ignored(mapping: FlatMapping | MappingV2 | None) -> list[str]:
    """The lead columns a mapping declares ``ignore`` (its main file's, for v2)."""
    if isinstance(mapping, MappingV2):
        return [name for name, column in mapping.main.columns.items()
                if column.rule.role == "ignore"]
    if isinstance(mapping, FlatMapping):
        return [name for name, rule in mapping.columns.items() if rule.role == "ignore"]
    return []


def role_changes(con, before: dict[str, str], ignored: list[str]) -> list[str]:
    """Apply a mapping's ``ignore`` to an attribute the store knew with another role (an
    edited mapping: without this the old role stayed and the model kept a feature every new
    lead lacks), then say each role this batch changed. Run after the batch's roles are
    recorded, with ``before`` the roles read before it."""
    known = [name for name in ignored if before.get(name, "ignore") != "ignore"]
    if known:
        con.executemany("UPDATE attribute_roles SET role = 'ignore' WHERE name = ?",
                        [[name] for name in known])
    after = dict(con.execute("SELECT name, role FROM attribute_roles").fetchall())
    notes = []
    for name, role in sorted(before.items()):
        now = after.get(name, role)
        if now == role:
            continue
        note = f"the mapping changes the role of {name} from {role} to {now}"
        if now in ("ignore", "post_outcome"):
            kept = con.execute(
                "SELECT count(*) FROM leads WHERE json_extract(attributes, ?) IS NOT NULL",
                [f'$."{name}"']).fetchone()[0]
            note += ": it is no feature from the next review on"
            if kept:
                one = kept == 1
                note += (f" ({kept:,} stored {'lead' if one else 'leads'} not in this export "
                         f"{'keeps' if one else 'keep'} its value, unused)")
        notes.append(note)
    return notes


def redated(con, staged: list[tuple[Part, str, int]]) -> list[str]:
    """Move a stored verdict dated by the mapping (``after_days`` after creation) with its
    lead's creation date, where this batch gives the lead a new one and the same verdict as
    far after it: otherwise the old row stays beside the new one, dated before the lead
    existed, and labels drop the lead as converted before it was scoreable. Run before the
    batch's rows are written (it reads the stored creation dates)."""
    leads = [stage for part, stage, _ in staged if part.table.name == "leads"]
    verdicts = [stage for part, stage, _ in staged if part.table.name == "dispositions"]
    moved = 0
    for lead_stage in leads:
        for verdict_stage in verdicts:
            moved += con.execute(f"""
                DELETE FROM dispositions AS d USING (
                    SELECT d.lead_id, d.dispositioned_at, d.status FROM dispositions AS d
                    JOIN leads AS l USING (lead_id) JOIN {lead_stage} AS n USING (lead_id)
                    JOIN {verdict_stage} AS v ON v.lead_id = d.lead_id AND v.status = d.status
                    WHERE n.created_at <> l.created_at
                      AND v.dispositioned_at <> d.dispositioned_at
                      AND v.dispositioned_at - n.created_at = d.dispositioned_at - l.created_at
                ) AS x
                WHERE d.lead_id = x.lead_id AND d.dispositioned_at = x.dispositioned_at
                  AND d.status = x.status""").fetchone()[0]
    if not moved:
        return []
    if moved == 1:
        return ["1 verdict dated by the mapping (after_days) moved with its lead's changed "
                "creation date"]
    return [f"{moved:,} verdicts dated by the mapping (after_days) moved with their leads' "
            "changed creation dates"]
