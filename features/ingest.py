"""Ingestion: validate a CRM export and add it to the store, all or nothing, idempotently.

``ingest_paths`` reads every file as text, checks every row (vectorised in DuckDB), and only then
writes, inside one transaction: the first bad row fails the whole batch with one sentence naming
file, line and column, and nothing of the batch lands. Rows upsert by the table's natural key:
a new key is inserted, an unchanged row is left alone, a changed row replaces the stored one.
Re-ingesting an export therefore changes nothing but the ingest log.

Example:
    >>> report = ingest_paths([Path("data/demo")], store=Path("data/leadscore.duckdb"))
    >>> print(report)  # rows read, new, updated, already present, per table
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from features.contract import (
    FLAG_VALUES,
    LEADS,
    PLACEHOLDERS,
    TABLES,
    TEXT,
    TIMESTAMP,
    Table,
    named_like_personal,
)
from features.contract_files import contract_part, table_of
from features.export_files import discover, read_export
from features.export_v2 import v2_parts
from features.flat_export import flat_export_parts
from features.ingest_report import IngestReport, TableCounts
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
from features.labels import load_policy
from features.mapping import FlatMapping
from features.mapping_v2 import MappingV2, load_any
from features.messages import counted
from features.outcome_lag import store_lag
from features.store import connect, duckdb_temp, publish_lookup, remove_new_store
from features.timestamps import YEARS
from leadscore.errors import LeadscoreError

__all__ = ["IngestReport", "TableCounts", "ingest_paths"]

TABLE_ORDER = tuple(TABLES)  # leads first: the other tables reference them
_EXAMPLES = {
    "timestamp": f"is not a timestamp in {YEARS}, the years scoring accepts; write it in ISO "
                 "8601 like 2026-03-01T14:05:00 (or, in a v2 mapping, state the column's "
                 "format: or day_first: true) and re-run",
    "integer": "is not a whole number; write digits only (like 3) and re-run",
    "number": "is not a number; write it like 1250.5 (no thousands separators), or read "
              "decimal commas with decimal: \",\" in a v2 mapping, and re-run",
}


def ingest_paths(
    paths: list[Path], store: Path, mapping: Path | None = None,
    labels: dict | None = None, sheet: str | None = None,
) -> IngestReport:
    """Validate the export in ``paths`` and add it to the store at ``store``, all or nothing.

    Args:
        paths: files or folders. Without ``mapping`` each file is one contract table named by
            its stem (leads.csv, activities.parquet, dispositions.csv, outcomes.csv); with it,
            each file is a flat one-table export read through the mapping.
        store: the DuckDB file (created on first use).
        mapping: a mapping file for flat exports (v1, ``features.mapping``) or several-file
            exports (v2, ``features.mapping_v2``).
        labels: the config's ``labels`` section (policy, maturity_days): the report and the
            ingest log then carry the store's outcome-lag distribution against that window.
        sheet: the sheet to read of each Excel workbook (.xlsx) whose mapping names none;
            None: its first sheet.

    Raises:
        LeadscoreError: for the first problem found (file, line, column and what to do); the store
            is then left exactly as it was.
    """
    files = discover([Path(p) for p in paths])
    flat = load_any(mapping) if mapping is not None else None
    if flat is None:
        for path in files:
            table_of(path)
    store = Path(store)
    existed = store.exists()
    # the folders connect() is about to create, deepest first: a failed first batch removes them
    created = [p for p in (store.parent, *store.parent.parents) if not p.exists()]
    temp_existed = duckdb_temp(store).exists()
    done = False
    try:
        with connect(store) as con:
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")
            # DuckDB writes a large append into the store file before COMMIT ("optimistic
            # writes"); a batch that then fails or is killed leaves those blocks behind and the
            # file grows with no row changed. Held in memory (spilling to DuckDB's temp folder),
            # an aborted batch leaves the file as it was.
            con.execute("SET enable_optimistic_write = false")
            try:
                report = _ingest(con, files, flat, store, labels, sheet)
                publish_lookup(con, store)  # what the API reads to score a lead by id
            except duckdb.Error as exc:
                # DuckDB's own message may quote a value from the export: name only its kind.
                raise LeadscoreError(
                    f"The store could not take this batch ({type(exc).__name__}); nothing was "
                    "written. Re-run; if it fails again, report it with the command you ran."
                ) from exc
        done = True
        return report
    finally:
        if not done and not existed:
            remove_new_store(store, created, temp_existed)



def _ingest(con, files: list[Path], flat: FlatMapping | MappingV2 | None,
            store: Path, labels: dict | None, sheet: str | None = None) -> IngestReport:
    parts: list[Part] = []
    read_notes: list[str] = []
    if isinstance(flat, MappingV2):
        parts, read_notes = v2_parts(con, flat, files, sheet)
    else:
        for i, path in enumerate(files):
            export = read_export(con, path, f"__export_{i}", sheet=sheet)
            if export.skip_note:
                read_notes.append(export.skip_note)
            parts.extend(flat_export_parts(con, flat, export) if flat else [contract_part(export)])
    parts.sort(key=lambda p: TABLE_ORDER.index(p.table.name))
    staged = [_stage(con, part, f"__stage_{i}", parts) for i, part in enumerate(parts)]
    tables = {p.table.name: TableCounts() for p in parts}
    notes = list(dict.fromkeys([*read_notes, *(n for p in parts for n in p.notes)]))
    defaults = _default_missing_note(con, parts)
    if defaults:
        notes.append(defaults)
    batch_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    report = IngestReport(store=store, batch_id=batch_id, files=files, tables=tables,
                          mapping=f"{flat.name} v{flat.version}" if flat else None, notes=notes)
    con.execute("BEGIN TRANSACTION")
    try:
        for part, stage, distinct in staged:
            counts = tables[part.table.name]
            counts.read += part.rows_read
            counts.duplicates += part.rows_read - distinct
            new, updated = _upsert(con, part, stage)
            counts.new += new
            counts.updated += updated
            counts.present += distinct - new - updated
            _record_roles(con, part)
        if labels is not None:
            lag = store_lag(con, load_policy(labels.get("policy")), labels["maturity_days"])
            report.notes.append(lag.line())
            report.outcome_lag = lag.as_dict()
        con.execute(
            "INSERT INTO ingest_log VALUES (?, ?, ?, ?)",
            [batch_id, datetime.now(UTC).replace(tzinfo=None),
             json.dumps([str(p.resolve()) for p in files]), json.dumps(report.as_dict())],
        )
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass  # a failed COMMIT has already rolled back
        raise
    return report


def _default_missing_note(con, parts: list[Part]) -> str | None:
    """Which columns the default missing-value list emptied, with counts: never silently."""
    counts: dict[str, int] = {}
    for part in parts:
        if not part.default_missing:
            continue
        if part.raw_exprs is not None:
            columns = dict(part.raw_exprs)
        else:
            columns = {part.label(c): e for c, e in part.exprs.items()}
            columns.update({a.label: a.expr for a in part.attributes})
        columns = {k: v for k, v in columns.items() if k not in counts}
        if not columns:
            continue
        found = con.execute("SELECT " + ", ".join(
            f"count(*) FILTER (WHERE {unplaceheld(trimmed(f'CAST({e} AS VARCHAR)'))} IS NULL "
            f"AND {trimmed(f'CAST({e} AS VARCHAR)')} <> '')" for e in columns.values()
        ) + f" FROM {part.source}").fetchone()
        counts.update({k: n for k, n in zip(columns, found, strict=True)})
    hits = sorted(((k, n) for k, n in counts.items() if n), key=lambda kn: (-kn[1], kn[0]))
    if not hits:
        return None
    listed = ", ".join(repr(p) for p in sorted(PLACEHOLDERS) if p)
    return (f"the default missing-value list ({listed}) read as missing: "
            f"{counted(hits, 'value')}")


# ---- validation and staging ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Check:
    condition: str  # SQL over the part's row view: true on a bad row
    column: str  # contract column or attribute name, for the message
    problem: str  # "empty", "timestamp", "integer", "number", "email"
    value: str | None = None  # the view column holding the offending value, for the message


def _row_view(con, part: Part, view: str) -> dict[str, str]:
    """Create ``view``: the part's rows with each column cleaned once, and typed beside it.

    Returns contract column or attribute name -> its (cleaned) column in the view; the typed value
    sits in the column of the same name prefixed by ``__t``. Cleaning happens in two projections
    so that a large column is trimmed once, not once per use.
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
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT *, {typed_cols} FROM ({cleaned})")
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
        if column not in columns:
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
            # a person's name or number cannot be told from its value; a yes/no flag can
            checks.append(_Check(f"lower({text}) NOT IN ({flags})", attr.name, "personal"))
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
    return f"{where}: {printable(value)} {_EXAMPLES[check.problem]}."


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


def _columns(part: Part) -> list[str]:
    extra = ["attributes"] if part.table is LEADS else []
    return list(part.table.columns) + extra


def _stage(con, part: Part, stage: str, parts: list[Part]) -> tuple[Part, str, int]:
    """Validate ``part``, then keep its distinct typed rows in the temp table ``stage``.

    Returns the part, the stage's name and its number of distinct rows.
    """
    view = f"{stage}_rows"
    columns = _row_view(con, part, view)
    _validate(con, part, view, columns)
    table = part.table
    selects = [
        f"{_typed_name(columns[c])} AS {c}" if c in columns
        else f"CAST(NULL AS {table.types[c]}) AS {c}"
        for c in table.columns
    ]
    if table is LEADS:
        selects.append(f"{_attributes_json(part.attributes, columns)} AS attributes")
    cols = ", ".join(_columns(part))
    inner = f"SELECT {', '.join(selects)}, __row AS __first FROM {view}"
    con.execute(f"CREATE TEMP TABLE {stage} AS SELECT {cols}, min(__first) AS __row "
                f"FROM ({inner}) GROUP BY {cols}")
    distinct = con.execute(f"SELECT count(*) FROM {stage}").fetchone()[0]
    _check_conflicts(con, part, stage)
    if table is not LEADS:
        _check_references(con, part, stage, parts)
    return part, stage, distinct


def _attributes_json(attributes: list[Attribute], columns: dict[str, str]) -> str:
    if not attributes:
        return "CAST(NULL AS JSON)"
    pairs = ", ".join(f"{literal(a.name)}, {_typed_name(columns[a.name])}" for a in attributes)
    return f"json_object({pairs})"


def _check_conflicts(con, part: Part, stage: str) -> None:
    key = list(part.table.key)
    if set(_columns(part)) <= set(key):
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


def _check_references(con, part: Part, stage: str, parts: list[Part]) -> None:
    known = "__known_leads"
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [known]
    ).fetchone()[0]
    if not exists:
        batch = [f"SELECT lead_id FROM __stage_{i}" for i, p in enumerate(parts)
                 if p.table is LEADS]
        con.execute(f"CREATE TEMP TABLE {known} AS "
                    + " UNION ".join(["SELECT lead_id FROM leads", *batch]))
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


# ---- writing ------------------------------------------------------------------------------------


def _upsert(con, part: Part, stage: str) -> tuple[int, int]:
    """Write a stage into its table: returns (new rows, updated rows)."""
    name, key, columns = part.table.name, part.table.key, _columns(part)
    match = " AND ".join(f"t.{k} = s.{k}" for k in key)
    updated = 0
    values = [c for c in columns if c not in key]
    if values:
        differs = " OR ".join(
            f"CAST(s.{c} AS VARCHAR) IS DISTINCT FROM CAST(t.{c} AS VARCHAR)"
            if c == "attributes" else f"s.{c} IS DISTINCT FROM t.{c}"
            for c in values
        )
        updated = con.execute(
            f"UPDATE {name} AS t SET {', '.join(f'{c} = s.{c}' for c in values)} "
            f"FROM {stage} AS s WHERE {match} AND ({differs})"
        ).fetchone()[0]
    cols = ", ".join(columns)
    new = con.execute(
        f"INSERT INTO {name} ({cols}) SELECT {', '.join(f's.{c}' for c in columns)} "
        f"FROM {stage} AS s ANTI JOIN {name} AS t ON {match}"
    ).fetchone()[0]
    return new, updated


def _record_roles(con, part: Part) -> None:
    if not part.attributes:
        return
    rows = [(a.name, a.role, a.kind) for a in part.attributes]
    verb = "INSERT OR REPLACE INTO" if part.roles_from_mapping else "INSERT OR IGNORE INTO"
    con.executemany(f"{verb} attribute_roles VALUES (?, ?, ?)", rows)
