"""Ingestion: validate a CRM export and add it to the store, all or nothing, idempotently.

``ingest_paths`` reads every file as text, checks every row (vectorised in DuckDB:
``features.ingest_stage``), and only then writes, inside one transaction: the first bad row
fails the whole batch with one sentence naming file, line and column, and nothing of the batch
lands. Rows upsert by the table's natural key:
a new key is inserted, an unchanged row is left alone, a changed row replaces the stored one.
Re-ingesting an export therefore changes nothing but the ingest log.

Example:
    >>> report = ingest_paths([Path("data/demo")], store=Path("data/leadscore.duckdb"))
    >>> print(report)  # rows read, new, updated, already present, per table
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from features.contract import PLACEHOLDERS, TABLES
from features.contract_files import contract_part, table_of
from features.export_date import (
    FROM_FILE_NAME,
    declare_export,
    load_mapping_declaring,
    names_day,
    parse_exported_at,
)
from features.export_files import discover, read_export
from features.export_v2 import ReadAdapter, v2_parts
from features.flat_export import flat_export_parts
from features.horizon import declared_export, future_note, recorded_columns
from features.ingest_first_seen import first_seen
from features.ingest_gone import (
    declared_ignored,
    redated,
    respelled,
    role_changes,
    taken_back,
)
from features.ingest_report import IngestReport, TableCounts
from features.ingest_sql import Part, trimmed, unplaceheld
from features.ingest_stage import stage_part, stored_columns
from features.labels import load_policy
from features.mapping import FlatMapping
from features.mapping_v2 import MappingV2
from features.messages import counted
from features.outcome_lag import before_scoreable, store_lag
from features.store import connect, duckdb_temp, publish_lookup, remove_new_store
from leadscore.errors import LeadscoreError

__all__ = ["IngestReport", "TableCounts", "export_parts", "ingest_paths", "upsert"]

TABLE_ORDER = tuple(TABLES)  # leads first: the other tables reference them


def ingest_paths(
    paths: list[Path], store: Path, mapping: Path | None = None,
    labels: dict | None = None, sheet: str | None = None,
    exported_at: str | date | None = None,
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
        exported_at: the day the export was taken (``YYYY-MM-DD``), over the mapping's
            ``exported_at:``; recorded in the store as its data horizon (``features.horizon``).

    Raises:
        LeadscoreError: for the first problem found (file, line, column and what to do); the store
            is then left exactly as it was.
    """
    declared = (parse_exported_at(exported_at, "--exported-at") if exported_at is not None
                else None)
    files = discover([Path(p) for p in paths])
    flat, mapped = load_mapping_declaring(mapping) if mapping is not None else (None, None)
    if declared is None and mapped == FROM_FILE_NAME:
        declared = names_day(files, Path(mapping))
    declared = declared or mapped
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
                report = _ingest(con, files, flat, store, labels, sheet, declared)
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


def export_parts(con, files: list[Path], mapping: FlatMapping | MappingV2 | None,
                 sheet: str | None = None,
                 adapt: ReadAdapter | None = None) -> tuple[list[Part], list[str]]:
    """The contract-table parts the export ``files`` hold (leads first), read as ingest reads
    them, and the notes on how they were read. ``adapt`` (with a mapping) reshapes each file as
    read, before the mapping applies (``features.export_leads``: a file of leads to score)."""
    parts: list[Part] = []
    read_notes: list[str] = []
    if isinstance(mapping, MappingV2):
        parts, read_notes = v2_parts(con, mapping, files, sheet, adapt=adapt)
    else:
        for i, path in enumerate(files):
            export = read_export(con, path, f"__export_{i}", sheet=sheet)
            if adapt is not None and mapping is not None:
                export = adapt(con, export, None)
            read_notes.extend(n for n in (export.read_note, export.skip_note) if n)
            parts.extend(flat_export_parts(con, mapping, export) if mapping
                         else [contract_part(export)])
    parts.sort(key=lambda p: TABLE_ORDER.index(p.table.name))
    return parts, read_notes


def _ingest(con, files: list[Path], flat: FlatMapping | MappingV2 | None,
            store: Path, labels: dict | None, sheet: str | None = None,
            declared: date | None = None) -> IngestReport:
    parts, read_notes = export_parts(con, files, flat, sheet)
    staged = [stage_part(con, part, f"__stage_{i}", parts) for i, part in enumerate(parts)]
    tables = {p.table.name: TableCounts() for p in parts}
    notes = list(dict.fromkeys([*read_notes, *(n for p in parts for n in p.notes)]))
    defaults = _default_missing_note(con, parts)
    if defaults:
        notes.append(defaults)
    batch_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    report = IngestReport(store=store, batch_id=batch_id, files=files, tables=tables,
                          mapping=f"{flat.name} v{flat.version}" if flat else None, notes=notes)
    # an export older than the one the store holds does not overwrite its newer rows
    newer = declared_export(con) if declared is not None else None
    older = newer is not None and newer > declared
    kept: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        # verdicts a lead stored before shows for the first time: dated no earlier than known
        report.notes.extend(first_seen(con, staged, declared))
        # before this batch's rows are written; an older export changes nothing stored, and
        # lacks what happened since it was taken
        if not older:
            report.notes.extend([*redated(con, staged), *taken_back(con, staged),
                                 *respelled(con, staged)])
        roles = dict(con.execute("SELECT name, role FROM attribute_roles").fetchall())
        for part, stage, distinct in staged:
            counts = tables[part.table.name]
            counts.read += part.rows_read
            counts.duplicates += part.rows_read - distinct
            new, updated = upsert(con, part, stage, update=not older)
            if older:
                kept[part.table.name] = kept.get(part.table.name, 0) + updated
                updated = 0
            counts.new += new
            counts.updated += updated
            counts.present += distinct - new - updated
            _record_roles(con, part)
        report.notes.extend(role_changes(con, roles, declared_ignored(flat)))
        if kept_rows := sum(kept.values()):
            report.notes.append(
                f"this export (taken {declared.isoformat()}) is older than the store's "
                f"({newer.isoformat()}): {counted_rows(kept)} that "
                f"{'differs' if kept_rows == 1 else 'differ'} from the stored "
                f"{'one' if kept_rows == 1 else 'ones'} kept the stored, newer values; only rows "
                "the store did not hold were added")
        if declared is not None:
            report.notes.append(declare_export(con, declared, [
                (stage, c) for part, stage, _ in staged
                for c in recorded_columns(part.table.name)]))
        if note := future_note(con):
            report.notes.append(note)
        if labels is not None:
            lag = store_lag(con, load_policy(labels.get("policy")), labels["maturity_days"])
            report.notes.append(lag.line())
            report.outcome_lag = lag.as_dict()
            if early := before_scoreable(con, load_policy(labels.get("policy"))):
                report.notes.append(early)
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


def counted_rows(by_table: dict[str, int]) -> str:
    """``1 row of leads``, ``3 rows of leads and 1 row of outcomes``."""
    parts = [f"{n:,} {'row' if n == 1 else 'rows'} of {t}" for t, n in by_table.items() if n]
    return " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)


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


# ---- writing ------------------------------------------------------------------------------------


def upsert(con, part: Part, stage: str, update: bool = True) -> tuple[int, int]:
    """Write a stage into its table: returns (new rows, updated rows). With ``update`` False
    (an export older than the store's) rows whose key is stored keep their stored values, and
    the count of those that differ is returned as the updated rows."""
    name, key, columns = part.table.name, part.table.key, stored_columns(part)
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
            f"FROM {stage} AS s WHERE {match} AND ({differs})" if update else
            f"SELECT count(*) FROM {name} AS t JOIN {stage} AS s ON {match} WHERE {differs}"
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
