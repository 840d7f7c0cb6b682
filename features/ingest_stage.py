"""Validating and staging one part of an ingest batch: every row checked in DuckDB (the first bad
row is one sentence naming file, line and column), then its distinct typed rows kept in a temp
table for ``features.ingest`` to write in its one transaction. Nothing here writes the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from features.contract import (
    ACTIVITIES,
    CODE_VALUE,
    FLAG_VALUES,
    LEADS,
    TEXT,
    TIMESTAMP,
    Table,
    named_like_personal,
    named_personal_by_kind,
)
from features.ingest_sql import (
    CODE_COLUMNS,
    EMAIL_PATTERN,
    Attribute,
    Part,
    blank_only,
    flag_number,
    ident,
    literal,
    printable,
    trimmed,
    typed,
    unplaceheld,
)
from features.messages import counted, plural
from features.timestamps import YEARS
from leadscore.errors import LeadscoreError

_EXAMPLES = {
    # the format first: most refused values are spreadsheet dates, not years out of range
    "timestamp": "is not a timestamp as ingest reads one: write it in ISO 8601 like "
                 "2026-03-01T14:05:00 (or, in a v2 mapping, state the column's format: or "
                 f"day_first: true), in {YEARS}, the years scoring accepts, and re-run",
    "integer": "is not a whole number; write digits only (like 3) and re-run",
    "number": "is not a number; write it like 1250.5, or in a v2 mapping read grouped digits "
              "with thousands: \",\" ($1,200.00 and 12.5% read 1200 and 12.5) and decimal "
              "commas with decimal: \",\", and re-run",
}


@dataclass(frozen=True)
class _Check:
    condition: str  # SQL over the part's row view: true on a bad row
    column: str  # contract column or attribute name, for the message
    problem: str  # "empty", "timestamp", "integer", "number", "email"
    value: str | None = None  # the view column holding the offending value, for the message


def _row_table(con, part: Part, view: str) -> dict[str, str]:
    """Create the temp table ``view``: the part's rows with each column cleaned once, and typed
    beside it.

    Returns contract column or attribute name -> its (cleaned) column in the table; the typed
    value sits in the column of the same name prefixed by ``__t``. Cleaning happens in two
    projections so that a large column is trimmed once, not once per use. The rows are written
    once, not kept as a view: DuckDB 2.0.0 planned the nested projections again for every query
    over a view (seconds each, on three rows), and once never returned from grouping over it.
    """
    exprs = {c: part.exprs[c] for c in part.table.columns if c in part.exprs}
    exprs.update({f"__a{i}": a.expr for i, a in enumerate(part.attributes)})
    names = {c: ident(c) for c in exprs}

    def project(template) -> str:
        return ", ".join(f"{template(c)} AS {names[c]}" for c in exprs)

    raw = f"SELECT __row, {project(lambda c: exprs[c])} FROM {part.source}"
    trim = f"SELECT __row, {project(lambda c: trimmed(names[c]))} FROM ({raw})"
    blank = unplaceheld if part.default_missing else blank_only
    cleaned = f"SELECT __row, {project(lambda c: blank(names[c]))} FROM ({trim})"
    kinds = {f"__a{i}": a.kind for i, a in enumerate(part.attributes)}
    typed_cols = ", ".join(
        f"{_typed(part.table, c, names[c], kinds.get(c))} AS {ident('__t' + c)}" for c in exprs
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {view} AS SELECT *, {typed_cols} FROM ({cleaned})")
    columns = {c: names[c] for c in part.table.columns if c in exprs}
    columns.update({a.name: names[f"__a{i}"] for i, a in enumerate(part.attributes)})
    return columns


def _typed(table: Table, column: str, cleaned: str, kind: str | None) -> str:
    if column.startswith("__a"):
        return flag_number(cleaned) if kind == "numeric" else cleaned
    return typed(table, column, cleaned)


def _typed_name(cleaned: str) -> str:
    return ident("__t" + cleaned.strip('"'))


def _checks(part: Part, columns: dict[str, str]) -> list[_Check]:
    table, checks = part.table, []
    email = literal(EMAIL_PATTERN)
    for column in table.columns:
        if column not in columns or column not in part.exprs:
            continue
        text = columns[column]
        value = _typed_name(text)
        kind = table.types[column]
        if column in table.not_null:
            empty = f"{value} IS NULL" if column in CODE_COLUMNS else f"{text} IS NULL"
            checks.append(_Check(empty, column, "empty"))
        if kind != TEXT:
            problem = {"TIMESTAMP": "timestamp", "BIGINT": "integer", "DOUBLE": "number"}[kind]
            checks.append(_Check(f"{text} IS NOT NULL AND {value} IS NULL", column, problem,
                                 text))
        elif column not in CODE_COLUMNS and column != "email_domain":
            checks.append(_Check(f"contains({text}, '@') AND regexp_matches({text}, {email})",
                                 column, "email"))
    flags = ", ".join(literal(v) for v in FLAG_VALUES)
    for attr in part.attributes:
        text = columns[attr.name]
        if attr.kind == "numeric":
            checks.append(_Check(f"{text} IS NOT NULL AND {_typed_name(text)} IS NULL",
                                 attr.name, "number", text))
            continue
        checks.append(_Check(f"contains({text}, '@') AND regexp_matches({text}, {email})",
                             attr.name, "email"))
        if named_like_personal(attr.name):
            # a person's name or number cannot be told from its value; a yes/no flag can, and
            # so can a code under a name that may name a kind ("contact": cellular)
            condition = f"lower({text}) NOT IN ({flags})"
            if named_personal_by_kind(attr.name):
                condition += f" AND NOT regexp_full_match({text}, {literal(CODE_VALUE)})"
            checks.append(_Check(condition, attr.name, "personal"))
    return checks


def _message(part: Part, row: int, check: _Check, value: object) -> str:
    where = f"{part.export.where(row)}, column {_label(part, check.column)}"
    if check.problem == "empty":
        stand_in = (", or give the column if_blank: DATE in a v2 mapping (the day to count "
                    "from where it is blank)" if part.table.types[check.column] == TIMESTAMP
                    else "")
        return (f"{where}: no value, but every {part.table.name} row needs its {check.column}; "
                f"fill it in (or drop the row){stand_in}, and re-run.")
    if check.problem == "personal":
        return (f"{where}: a column named like personal data (a person, a phone, an address) "
                "that holds text, and personal data is never stored; declare it ignore (it can "
                "still join a lookup), or rename it if it names no person, and re-run.")
    if check.problem == "email":
        return (f"{where}: holds an e-mail address, and personal data is never stored; remove it "
                "(an email column on leads is reduced to its domain) and re-run.")
    if check.problem == "number" and _SPACE_GROUPED.search(str(value or "")):
        return f"{where}: {printable(value)} {_SPACE_GROUPED_HINT}."
    return f"{where}: {printable(value)} {_EXAMPLES[check.problem]}."


_SPACE_GROUPED = re.compile(r"[0-9][ \u00a0\u202f][0-9]{3}")
"""Digits grouped by a space or a no-break space (1 200 000,50: French and German Excel)."""

_SPACE_GROUPED_HINT = (
    "is not a number; in a v2 mapping, digits grouped by spaces read with thousands: \" \" "
    "(1 200 000.50), or with decimal: \",\" where a comma marks the decimals (1 200 000,50), "
    "stated under the file's options; re-run")


def _label(part: Part, column: str) -> str:
    return part.label(column) if column in part.table.types else column


def _validate(con, part: Part, view: str, columns: dict[str, str]) -> None:
    checks = _checks(part, columns)
    if not checks:
        return
    firsts = con.execute(
        "SELECT " + ", ".join(f"min(__row) FILTER (WHERE {c.condition})" for c in checks)
        + f" FROM {view}"
    ).fetchone()
    found = [(row, i) for i, row in enumerate(firsts) if row is not None]
    if not found:
        return
    row, i = min(found)
    check = checks[i]
    value = None
    if check.value is not None:
        value = con.execute(f"SELECT {check.value} FROM {view} WHERE __row = ?",
                            [row]).fetchone()[0]
    raise LeadscoreError(_message(part, row, check, value))


def stored_columns(part: Part) -> list[str]:
    extra = ["attributes"] if part.table is LEADS else []
    return list(part.table.columns) + extra


def stage_part(con, part: Part, stage: str, parts: list[Part]) -> tuple[Part, str, int]:
    """Validate ``part``, then keep its distinct typed rows in the temp table ``stage``.

    Returns the part, the stage's name and its number of distinct rows.
    """
    view = f"{stage}_rows"
    columns = _row_table(con, part, view)
    _validate(con, part, view, columns)
    table = part.table
    selects = [
        # an attribute named like a contract column (a bank's numeric "campaign", its count of
        # calls) fills the attribute only: the contract column is what the mapping maps to it
        f"{_typed_name(columns[c])} AS {c}" if c in columns and c in part.exprs
        else f"CAST(NULL AS {table.types[c]}) AS {c}"
        for c in table.columns
    ]
    if table is LEADS:
        selects.append(f"{_attributes_json(part.attributes, columns)} AS attributes")
    cols = ", ".join(stored_columns(part))
    inner = f"SELECT {', '.join(selects)}, __row AS __first FROM {view}"
    con.execute(f"CREATE TEMP TABLE {stage} AS SELECT {cols}, min(__first) AS __row "
                f"FROM ({inner}) GROUP BY {cols}")
    _check_conflicts(con, part, stage)
    if table is ACTIVITIES:
        _pass_over_orphans(con, part, stage, parts, view, columns["lead_id"])
    elif table is not LEADS:
        _check_references(con, part, stage, parts)
    con.execute(f"DROP TABLE {view}")
    distinct = con.execute(f"SELECT count(*) FROM {stage}").fetchone()[0]
    return part, stage, distinct


def _attributes_json(attributes: list[Attribute], columns: dict[str, str]) -> str:
    if not attributes:
        return "CAST(NULL AS JSON)"
    pairs = ", ".join(f"{literal(a.name)}, {_typed_name(columns[a.name])}" for a in attributes)
    return f"json_object({pairs})"


def _check_conflicts(con, part: Part, stage: str) -> None:
    key = list(part.table.key)
    if set(stored_columns(part)) <= set(key):
        return
    clash = con.execute(
        f"SELECT list(__row ORDER BY __row)[1:2], {', '.join(key)} FROM {stage} "
        f"GROUP BY {', '.join(key)} HAVING count(*) > 1 ORDER BY min(__row) LIMIT 1"
    ).fetchone()
    if clash is None:
        return
    rows, values = clash[0], clash[1:]
    named = ", ".join(f"{_label(part, k)} {printable(v)}" for k, v in zip(key, values, strict=True))
    raise LeadscoreError(
        f"{part.export.lines(rows)} give {named} different values; keep one row per "
        f"{', '.join(key)} and re-run."
    )


def _pass_over_orphans(con, part: Part, stage: str, parts: list[Part], view: str,
                       lead_column: str) -> None:
    """Leave out the activities of leads neither in the store nor in this batch (an activity
    log exported whole names every contact, the leads export only some), counted in a note:
    ingesting the export that holds those leads, then this one again, brings them in."""
    known = _known_leads(con, parts)
    lead = _typed_name(lead_column)
    found = con.execute(
        f"SELECT v.{lead}, count(*) FROM {view} AS v ANTI JOIN {known} AS k "
        f"ON k.lead_id = v.{lead} GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
    if not found:
        return
    short = _salesforce_lengths(con, view, lead, known)
    con.execute(f"DELETE FROM {stage} WHERE lead_id NOT IN (SELECT lead_id FROM {known})")
    rows = sum(n for _, n in found)
    part.rows_read -= rows
    advice = ("to keep them, ingest the export that holds those leads (or add them to the "
              "leads file), then this one again")
    if short is not None:
        count, (one, other) = short
        share = f"all {count:,} are" if count == len(found) else f"{count:,} of them are"
        article = "an" if len(other) == 18 else "a"
        advice = ("" if count == len(found) else advice + "; ") + (
                  f"{share} the {len(one)}-character form of {article} {len(other)}-character "
                  f"Salesforce id this store or export holds ({printable(one)} of "
                  f"{printable(other)}): export every file with the same ids (18 characters: "
                  "Data Loader, or CASESAFEID(Id) in a report) and re-run")
    part.notes.append(
        f"{part.export.path.name}: {plural(rows, 'activity row')} "
        f"{'names' if rows == 1 else 'name'} {plural(len(found), 'lead')} neither in the store "
        f"nor in this export, passed over: {counted([(printable(v), n) for v, n in found])}; "
        + advice)


def _salesforce_lengths(con, view: str, lead: str, known: str):
    """How many of the unknown lead ids of ``view`` are a known lead's Salesforce id in its
    other length (15 characters, as reports write it, against 18, as Data Loader and the API
    do: the first 15 are the same), with one such pair (unknown, known); None when none is."""
    pairs = f"""
        WITH orphan AS (SELECT DISTINCT v.{lead} AS id FROM {view} AS v ANTI JOIN {known} AS k
                        ON k.lead_id = v.{lead})
        SELECT o.id, k.lead_id FROM orphan o JOIN {known} k
            ON length(o.id) = 15 AND length(k.lead_id) = 18 AND left(k.lead_id, 15) = o.id
        UNION ALL
        SELECT o.id, k.lead_id FROM orphan o JOIN {known} k
            ON length(o.id) = 18 AND length(k.lead_id) = 15 AND left(o.id, 15) = k.lead_id
    """
    count, first = con.execute(
        f"SELECT count(DISTINCT id), min([id, lead_id]) FROM ({pairs})").fetchone()
    return (count, tuple(first)) if count else None


def _known_leads(con, parts: list[Part]) -> str:
    """A temp table of the lead ids in the store or in this batch's staged leads."""
    known = "__known_leads"
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [known]
    ).fetchone()[0]
    if not exists:
        batch = [f"SELECT lead_id FROM __stage_{i}" for i, p in enumerate(parts)
                 if p.table is LEADS]
        con.execute(f"CREATE TEMP TABLE {known} AS "
                    + " UNION ".join(["SELECT lead_id FROM leads", *batch]))
    return known


def _check_references(con, part: Part, stage: str, parts: list[Part]) -> None:
    known = _known_leads(con, parts)
    row = con.execute(
        f"SELECT min(s.__row) FROM {stage} AS s ANTI JOIN {known} AS k ON k.lead_id = s.lead_id"
    ).fetchone()[0]
    if row is None:
        return
    lead_id = con.execute(f"SELECT lead_id FROM {stage} WHERE __row = ?", [row]).fetchone()[0]
    raise LeadscoreError(
        f"{part.export.where(row)}, column {part.label('lead_id')}: lead {printable(lead_id)} is "
        "neither in the store nor in this batch; add it to the leads file (or ingest its lead "
        "first) and re-run."
    )
