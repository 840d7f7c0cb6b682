"""A CRM export of leads to score, read through its mapping exactly as ingest reads it, into a
scratch store: never the user's store, so scoring input never mixes with training data.

``leadscore score EXPORT --mapping M.yaml`` reads the files with ingest's own code (the same read
options, encodings, delimiters, missing values, value maps, date parsing and id column; event
files joined as activities; ``features.ingest.export_parts`` and ``stage_part``, which refuse a
bad row with ingest's own sentence). What differs is what a file of *new* leads lacks:

- Columns that say what happened after sales contact (``disposition_reason``, ``outcome``,
  ``post_outcome`` and the timestamps that date them) are read as blank whether present, blank
  or absent: a new lead has no verdict yet, and the model never scores from them. A v2 mapping's
  dispositions and outcomes files are not read at all.
- Any other declared column may be absent (read as blank) unless scoring needs it: the lead's
  id, its ``created_at`` (the contract requires one), a lookup's join key, an activity's lead,
  time and type, and every column the model scores from (``needed``). Those are refused in one
  sentence naming them.
- Activities of leads the export does not hold are passed over (and counted), not refused: an
  activity log exported whole holds every lead's events, and only the scored leads' count.

The result is a Parquet file of the leads (``lead_id`` and the fields a stored lead is scored
from, in the export's order) and the scratch DuckDB store holding their activities: the same
input ``leadscore rescore`` gives the batch path from the real store, so a lead scores
identically either way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from features.contract import ACTIVITIES, LEADS
from features.export_files import discover
from features.ingest import export_parts, upsert
from features.ingest_sql import ExportFile, Part, ident, literal, trimmed
from features.ingest_stage import stage_part
from features.mapping import ColumnRule, FlatMapping
from features.mapping_v2 import FileSpec, MappingV2, load_any
from features.messages import capped, plural
from features.store import SCORING_LEAD_COLUMNS, connect
from leadscore.errors import LeadscoreError

VERDICT_ROLES = ("disposition_reason", "outcome", "post_outcome")
"""Roles known only after sales contact: never read for scoring."""
VERDICT_TIMES = ("dispositioned_at", "outcome_at")
VERDICT_FILES = ("dispositions", "outcomes")
"""v2 file kinds a file of new leads has no need of."""
CREATED = "the lead's created_at"
ACTIVITY_NEEDS = {"lead_id": "the activity's lead", "occurred_at": "the activity's time",
                  "activity_type": "the activity's type"}


@dataclass
class ScoringExport:
    """An export of leads to score, read into a scratch store.

    Attributes:
        leads: a Parquet file: ``lead_id`` and ``features.store.SCORING_LEAD_COLUMNS`` of every
            lead, in the order the export first names them.
        store: the scratch DuckDB store holding the leads and their activities.
        count: the number of leads.
        notes: how the files were read (ingest's notes), and activities passed over.
        filled: the lead fields and attributes the mapping fills (``stored_name``s).
        ids_from_rows: the lead ids are this file's row numbers (``id: {from_row: true}``), so
            they name other leads in the store and its score log.
        repeated: rows equal to an earlier row of the same lead in every column scoring reads,
            read once (as ingest stores them once; one with different values is refused).
    """

    leads: Path
    store: Path
    count: int
    notes: list[str] = field(default_factory=list)
    filled: frozenset[str] = frozenset()
    ids_from_rows: bool = False
    repeated: int = 0


def stored_name(rule: ColumnRule) -> str:
    """The lead field or attribute a mapped column fills, as the store and the model name it."""
    if rule.role in ("fit", "intent") and rule.target:
        return "email_domain" if rule.target == "email" else rule.target
    return rule.column


class ScoringRead:
    """Reshapes each export file as read (a ``features.export_v2.ReadAdapter``): verdict columns
    blank, absent optional columns blank, absent needed columns refused."""

    def __init__(self, mapping: FlatMapping | MappingV2, needed: Collection[str]) -> None:
        self.mapping = mapping
        self.needed = frozenset(needed)

    def __call__(self, con: duckdb.DuckDBPyConnection, export: ExportFile,
                 spec: FileSpec | None) -> ExportFile:
        blank, required = self._columns(spec)
        headers = {h.strip() for h in export.headers}
        lacking = [f"{name} ({why})" for name, why in required.items() if name not in headers]
        if lacking:
            raise LeadscoreError(
                f"{export.path.name} lacks column(s) the mapping {self.mapping.path} declares "
                f"and scoring needs: {capped(lacking)}; add them to the file (a column the model "
                "scores from may be blank where unknown) and re-run."
            )
        declared = blank | set(required) | self._declared(spec)
        absent = [name for name in declared if name not in headers]
        selects = ["__row", *(f"CAST(NULL AS VARCHAR) AS {ident(h)}" if h.strip() in blank
                              else ident(h) for h in export.headers),
                   *(f"CAST(NULL AS VARCHAR) AS {ident(name)}" for name in absent)]
        view = f"{export.view}_to_score"
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {', '.join(selects)} "
                    f"FROM {export.view}")
        return dataclasses.replace(export, view=view, headers=(*export.headers, *absent))

    def _declared(self, spec: FileSpec | None) -> set[str]:
        if spec is None:
            assert isinstance(self.mapping, FlatMapping)
            return set(self.mapping.columns)
        return set(spec.columns)

    def _columns(self, spec: FileSpec | None) -> tuple[set[str], dict[str, str]]:
        """The columns read as blank, and those scoring needs (name -> why)."""
        if spec is None:
            assert isinstance(self.mapping, FlatMapping)
            rules = self.mapping.columns
            order = self.mapping.created_from_order
            return self._lead_columns(rules, order.column if order else None, {})
        if spec.kind == "main":
            return self._main_columns(spec)
        required: dict[str, str] = {}
        if spec.key is not None:
            required[spec.key] = (ACTIVITY_NEEDS["lead_id"] if spec.kind == "activities"
                                  else "the key it joins on")
        for name, column in spec.columns.items():
            if spec.kind == "lookup" and column.rule.role == "fit" and (
                    _lookup_names(spec, name, column.rule) & self.needed):
                required[name] = "the model scores from it"
            elif spec.kind == "activities" and column.target in ACTIVITY_NEEDS:
                required[name] = ACTIVITY_NEEDS[column.target]
        return set(), required

    def _main_columns(self, spec: FileSpec) -> tuple[set[str], dict[str, str]]:
        assert isinstance(self.mapping, MappingV2)
        rules = {name: column.rule for name, column in spec.columns.items()}
        created = self.mapping.created_at
        order = created.get("from_order") if isinstance(created, dict) else None
        extra = {c: "the lead's id" for c in spec.id_columns}
        for lookup in self.mapping.files.values():
            if lookup.kind == "lookup" and lookup.joins and any(
                    c.rule.role == "fit" and _lookup_names(lookup, n, c.rule) & self.needed
                    for n, c in lookup.columns.items()):
                extra[lookup.joins] = f"it joins {lookup.path}, which the model scores from"
        for derived in spec.derived:
            if derived.name in self.needed:
                extra[derived.source] = f"the model scores from its {derived.part}"
        if spec.id_from_row and order == "row number":
            order = None  # the file's own row order: no column to ask for (ids_from_rows)
        blank, required = self._lead_columns(rules, str(order) if order else None, extra)
        for name, column in spec.columns.items():
            if column.date is not None and rules[name].role in VERDICT_ROLES:
                blank.add(column.date)  # dates a verdict only
            if column.if_blank and required.get(name) == CREATED:
                del required[name]  # blank reads as the mapping's stand-in
        return blank - set(required), required

    def _lead_columns(self, rules: dict[str, ColumnRule], order: str | None,
                      extra: dict[str, str]) -> tuple[set[str], dict[str, str]]:
        blank: set[str] = set()
        required: dict[str, str] = {}
        for name, rule in rules.items():
            if rule.role in VERDICT_ROLES or (rule.role == "timestamp"
                                             and rule.target in VERDICT_TIMES):
                blank.add(name)
            elif rule.role == "id":
                required[name] = "the lead's id"
            elif rule.role == "timestamp" and rule.target == "created_at":
                required[name] = CREATED
            elif rule.role in ("fit", "intent") and stored_name(rule) in self.needed:
                required[name] = "the model scores from it"
        if order is not None:
            required.setdefault(order, "the leads' created_at comes from its order")
        for name, why in extra.items():
            required.setdefault(name, why)
        return blank, required


def read_for_scoring(paths: list[Path], mapping: Path, folder: Path, needed: Collection[str],
                     sheet: str | None = None) -> ScoringExport:
    """Read the export in ``paths`` through ``mapping`` into a scratch store under ``folder``.

    Args:
        paths: files or folders, as ``leadscore ingest`` takes them.
        mapping: the export's mapping file (v1 or v2).
        folder: an empty folder for the scratch store and the leads file (the caller removes it).
        needed: the lead fields and attributes the model scores from (``stored_name``s).
        sheet: the sheet of a workbook whose mapping names none.

    Raises:
        LeadscoreError: ingest's refusals (file, line, column), a needed column missing, or an
            export without a file of leads (a main file with a header and no row is read as
            no lead, ``count`` 0).
    """
    files = discover([Path(p) for p in paths])
    loaded = load_any(mapping)
    skipped: list[str] = []
    if isinstance(loaded, MappingV2):
        verdicts = [s for s in loaded.files.values() if s.kind in VERDICT_FILES]
        skipped = [f"{f.name}: the mapping's {s.kind} file {s.name!r}, not read for scoring"
                   for f in files for s in verdicts if s.matches(f)]
        files = [f for f in files if not any(s.matches(f) for s in verdicts)]
        loaded = dataclasses.replace(loaded, files={
            name: spec for name, spec in loaded.files.items() if spec.kind not in VERDICT_FILES})
    store = Path(folder) / "to-score.duckdb"
    leads = Path(folder) / "leads.parquet"
    try:
        with connect(store) as con:
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")
            parts, notes = export_parts(con, files, loaded, sheet, ScoringRead(loaded, needed))
            parts = [p for p in parts if p.table in (LEADS, ACTIVITIES)]
            notes.extend(_only_scored_leads(con, parts))
            staged = [stage_part(con, part, f"__stage_{i}", parts)
                      for i, part in enumerate(parts)]
            for part, stage, _ in staged:
                upsert(con, part, stage)
            count = _write_leads(con, [s for p, s, _ in staged if p.table is LEADS], leads)
            repeated = sum(p.rows_read - n for p, _, n in staged if p.table is LEADS)
    except duckdb.Error as exc:
        # DuckDB's own message may quote a value from the export: name only its kind
        raise LeadscoreError(f"The export could not be read for scoring ({type(exc).__name__}); "
                             "nothing was written. Re-run; if it fails again, report it with "
                             "the command you ran.") from exc
    if not count and not any(p.table is LEADS for p in parts):
        # a main file with a header and no row is a quiet day's export: no lead, no error
        raise LeadscoreError(f"The export ({capped([f.name for f in files])}) holds no lead to "
                             "score: give the export's file of leads (its main file) and re-run.")
    return ScoringExport(leads=leads, store=store, count=count,
                         notes=list(dict.fromkeys(n for n in [*notes, *skipped] if n)),
                         filled=filled_names(loaded),
                         ids_from_rows=isinstance(loaded, MappingV2) and loaded.main.id_from_row,
                         repeated=repeated)


def filled_names(mapping: FlatMapping | MappingV2) -> frozenset[str]:
    """The lead fields and attributes a mapping fills from the export (``stored_name``s)."""
    if isinstance(mapping, FlatMapping):
        return frozenset(stored_name(r) for r in mapping.columns.values()
                         if r.role in ("fit", "intent"))
    names: set[str] = set()
    for spec in mapping.files.values():
        if spec.kind == "main":
            names.update(stored_name(c.rule) for c in spec.columns.values()
                         if c.rule.role in ("fit", "intent"))
            names.update(d.name for d in spec.derived if d.role in ("fit", "intent"))
        elif spec.kind == "lookup":
            for name, column in spec.columns.items():
                if column.rule.role == "fit":
                    names.update(_lookup_names(spec, name, column.rule))
    return frozenset(names)


def _lookup_names(spec: FileSpec, name: str, rule: ColumnRule) -> set[str]:
    """The names a lookup column may be stored under: its own (or its ``as:``), or prefixed by
    its file's name where the main file has a column of that name (``features.export_v2``)."""
    return {stored_name(rule), f"{spec.name}.{name}"}


def _only_scored_leads(con: duckdb.DuckDBPyConnection, parts: list[Part]) -> list[str]:
    """Narrow each activities part to the leads the export holds; notes on what was passed
    over. A row without a lead stays, so ingest's check refuses it as ingest does."""
    ids = " UNION ALL ".join(f"SELECT {_lead_text(p)} AS lead_id FROM {p.source}"
                             for p in parts if p.table is LEADS)
    notes = []
    for part in parts:
        if part.table is not ACTIVITIES or not ids:
            continue
        lead = _lead_text(part)
        part.source = (f"(SELECT * FROM {part.source} WHERE NULLIF({lead}, '') IS NULL "
                       f"OR {lead} IN (SELECT lead_id FROM ({ids})))")
        kept = con.execute(f"SELECT count(*) FROM {part.source}").fetchone()[0]
        if kept < part.rows_read:
            left = part.rows_read - kept
            notes.append(f"{part.export.path.name}: {plural(left, 'activity row')} of leads this "
                         "export does not hold passed over")
            part.rows_read = kept
    return notes


def _lead_text(part: Part) -> str:
    """A part's lead id as trimmed text, as ingest's row view reads it before checking it."""
    return trimmed(f"CAST({part.exprs['lead_id']} AS VARCHAR)")


def _write_leads(con: duckdb.DuckDBPyConnection, stages: list[str], out: Path) -> int:
    """The staged leads, as ``leadscore rescore`` reads stored ones, in export order, to
    ``out``; how many."""
    firsts = " UNION ALL ".join(f"SELECT lead_id, {i} AS __part, __row FROM {stage}"
                                for i, stage in enumerate(stages))
    columns = ", ".join(f"l.{c}" if c != "attributes" else "CAST(l.attributes AS VARCHAR) "
                        "AS attributes" for c in SCORING_LEAD_COLUMNS)
    con.execute("CREATE TEMP TABLE __order AS SELECT lead_id, "
                f"min(__part * 4294967296 + __row) AS __first FROM ({firsts}) GROUP BY lead_id")
    con.execute(f"COPY (SELECT l.lead_id, {columns} FROM leads l JOIN __order USING (lead_id) "
                f"ORDER BY __first) TO {literal(str(out))} (FORMAT parquet)")
    return int(con.execute("SELECT count(*) FROM leads").fetchone()[0])
