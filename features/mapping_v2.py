"""Mapping v2: an export of several files, each read with its own options.

A v2 mapping says ``leadscore_mapping: 2`` at the top (files without it are v1, read by
``features.mapping`` exactly as before). It names the export's files, each with a ``kind``:

    leadscore_mapping: 2
    name: my-crm
    version: 1
    options: {delimiter: ";", encoding: latin-1, decimal: ",", day_first: true}
    files:
      leads:                       # any name; `path` is matched against the ingested files' names
                                   # (a pattern such as contacts-*.csv matches each month's export)
        path: leads.csv
        kind: main                 # one row per lead or opportunity (exactly one main file)
        id: {from_row: true}       # or a column with role id, or a list of columns (composite)
        missing: ["", "Select"]    # values read as missing (per file, or per column)
        columns: {...}             # v1 column rules, plus format/day_first/missing/replace/when
        derived:
          created_month: {from: Created, part: month, role: fit}
      accounts: {path: accounts.csv, kind: lookup, key: account, joins: Account, columns: {...}}
      won: {path: won.csv, kind: outcomes, key: Lead Ref, stage: closed_won, columns: {...}}
      events: {path: events.csv, kind: activities, key: Lead Ref, columns: {...}}
      deals: {path: deals.csv, kind: outcomes, key: Id, joins: Converted Deal, columns: {...}}

A lookup's columns become fit attributes of the main row whose ``joins`` column equals its
``key``. An event file (activities, dispositions, outcomes) gives rows of that contract table, its
``key`` column holding the lead's id; each of its columns says ``as:`` which contract column it
fills (or ``key`` / ``ignore``). An outcomes file without a stage column gives ``stage:`` to every
row: a row being present is the outcome. An event file whose rows name no lead but a value of a
main-file column (a Salesforce Opportunity, which the lead names in ConvertedOpportunityId) says
``joins:`` that column: its ``key`` is matched there and the row is the lead's. See
docs/ingestion.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from features.contract import ACTIVITIES, DISPOSITIONS, OUTCOME_STAGES, OUTCOMES, Table
from features.mapping import (
    _TOP_KEYS,
    KINDS,
    ColumnRule,
    FlatMapping,
    _created,
    _fail,
    _parse,
    _rule,
    fold,
    read_document,
)
from features.read_options import OPTION_KEYS, ReadOptions, parse_options

FORMAT_KEY = "leadscore_mapping"
FILE_KINDS = ("main", "lookup", "activities", "dispositions", "outcomes")
EVENT_TABLES: dict[str, Table] = {"activities": ACTIVITIES, "dispositions": DISPOSITIONS,
                                  "outcomes": OUTCOMES}
DATE_PARTS = ("month", "weekday", "hour")
_V2_TOP = _TOP_KEYS - {"columns"} | {FORMAT_KEY, "options", "files"}
_FILE_KEYS = frozenset({"path", "kind", "id", "key", "joins", "stage", "columns", "derived"})
_FILE_KEYS = _FILE_KEYS | OPTION_KEYS
_V2_COLUMN_KEYS = frozenset({"format", "day_first", "missing", "replace", "when", "stage", "date",
                             "if_blank", "replace_by"})


@dataclass(frozen=True)
class ColumnV2:
    """A v2 column: its v1 rule plus how its raw text is normalised first."""

    rule: ColumnRule
    missing: tuple[str, ...]
    date_format: str | None = None
    day_first: bool | None = None
    replace: dict[str, str] = field(default_factory=dict)
    # another column of the file -> {pattern: value}: read as value where it matches (Marketo's
    # "Visit Webpage" whose Primary Attribute Value is the pricing page is a pricing_view)
    replace_by: dict[str, dict[str, str]] = field(default_factory=dict)
    when_filled: bool = False  # outcome / disposition: a non-blank value is the event
    date: str | None = None  # the column holding this outcome's or disposition's date
    if_blank: str | None = None  # a timestamp's value where the export leaves it blank
    target: str | None = None  # event files: the contract column it fills


@dataclass(frozen=True)
class Derived:
    """An attribute computed from a timestamp column: its month, weekday or hour."""

    name: str
    source: str
    part: str
    role: str
    kind: str


@dataclass(frozen=True)
class FileSpec:
    """One file of a v2 mapping."""

    name: str
    path: str
    kind: str
    options: ReadOptions
    columns: dict[str, ColumnV2]
    id_from_row: bool = False
    id_columns: tuple[str, ...] = ()
    key: str | None = None
    joins: str | None = None
    stage: str | None = None
    derived: tuple[Derived, ...] = ()

    def matches(self, file: Path) -> bool:
        """Whether ``file`` is this file of the export: its name, ignoring case, or a pattern
        (``*``, ``?``) for an export whose name carries its date."""
        return fnmatchcase(file.name.lower(), Path(self.path).name.lower())


@dataclass(frozen=True)
class MappingV2:
    """A validated v2 mapping."""

    name: str
    version: int
    path: Path
    files: dict[str, FileSpec]
    created_at: object = None  # the raw created_at: {from_order...} block, checked later

    @property
    def main(self) -> FileSpec:
        return next(f for f in self.files.values() if f.kind == "main")


def load_any(path: str | Path) -> FlatMapping | MappingV2:
    """Read a mapping file: v2 when it says ``leadscore_mapping: 2``, else v1, unchanged."""
    path = Path(path)
    doc = read_document(path)
    return parse_v2(doc, path) if is_v2(doc) else _parse(doc, path)


def is_v2(doc: object) -> bool:
    return isinstance(doc, dict) and FORMAT_KEY in doc


def parse_v2(doc: dict, path: Path) -> MappingV2:
    """Validate a v2 mapping document (read with every value as text)."""
    if str(doc.get(FORMAT_KEY)).strip() != "2":
        raise _fail(path, f"{FORMAT_KEY}: {doc.get(FORMAT_KEY)!r} is not a mapping format this "
                          "leadscore reads; use 2 (or drop the key for a v1 mapping)")
    unknown = sorted(set(doc) - _V2_TOP)
    if unknown:
        raise _fail(path, f"unknown key(s) {', '.join(unknown)}; a v2 mapping allows "
                          f"{', '.join(sorted(_V2_TOP))}")
    name, version = doc.get("name"), doc.get("version")
    if not isinstance(name, str) or not name.strip():
        raise _fail(path, "give the mapping a name (name: my-crm-export)")
    if not isinstance(version, str) or not version.strip().isdigit():
        raise _fail(path, "give the mapping a whole-number version (version: 1)")
    defaults = parse_options(path, "options", doc.get("options") or {}, ReadOptions())
    files = doc.get("files")
    if not isinstance(files, dict) or not files:
        raise _fail(path, "list the export's files under files:, each with path, kind and "
                          "columns")
    specs = {str(n).strip(): _file(path, str(n).strip(), spec, defaults)
             for n, spec in files.items()}
    mains = [s for s in specs.values() if s.kind == "main"]
    if len(mains) != 1:
        raise _fail(path, f"declare exactly one file with kind: main, found {len(mains)}")
    names = [Path(s.path).name.lower() for s in specs.values()]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise _fail(path, f"more than one file has the path {', '.join(doubled)}")
    main = mains[0]
    for spec in specs.values():
        if spec.joins is not None and spec.joins not in main.columns:
            raise _fail(path, f"file {spec.name!r} joins on {spec.joins!r}, which is not "
                              "declared under the main file's columns:")
    return MappingV2(name=name.strip(), version=int(version), path=path, files=specs,
                     created_at=doc.get("created_at"))


def _file(path: Path, name: str, spec: object, defaults: ReadOptions) -> FileSpec:
    where = f"file {name!r}"
    if not isinstance(spec, dict):
        raise _fail(path, f"{where} needs path, kind and columns")
    unknown = sorted(set(spec) - _FILE_KEYS)
    if unknown:
        raise _fail(path, f"{where} has unknown key(s) {', '.join(unknown)}; allowed: "
                          f"{', '.join(sorted(_FILE_KEYS))}")
    kind = str(spec.get("kind", "")).strip()
    if kind not in FILE_KINDS:
        raise _fail(path, f"{where} has kind {kind!r}; use one of {', '.join(FILE_KINDS)}")
    file_path = str(spec.get("path", "")).strip()
    if not file_path:
        raise _fail(path, f"{where} needs path: the file's name, e.g. path: {name}.csv")
    options = parse_options(path, where, {k: spec[k] for k in OPTION_KEYS if k in spec}, defaults)
    columns = spec.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise _fail(path, f"{where}: list every column of the file under columns: with its role")
    parsed = {str(c).strip(): _column(path, kind, str(c).strip(), s, options)
              for c, s in columns.items()}
    for column, spec_v2 in parsed.items():
        for other in spec_v2.replace_by:
            if other not in parsed:
                raise _fail(path, f"{where}: column {column!r} replace_by names {other!r}, "
                                  "which is not a column of this file; declare it (ignore)")
    out = FileSpec(name=name, path=file_path, kind=kind, options=options, columns=parsed)
    if kind == "main":
        return _main_file(path, spec, out)
    key = str(spec.get("key", "")).strip()
    if key not in parsed or parsed[key].rule.role != "key":
        raise _fail(path, f"{where}: key: names the column that holds the lead's id (lookup: the "
                          "value the main file's joins column holds); declare it as COLUMN: key")
    joins = spec.get("joins")
    if kind == "lookup" and not joins:
        raise _fail(path, f"{where}: a lookup needs joins: the main-file column its key matches")
    stage = spec.get("stage")
    if stage is not None:
        if kind != "outcomes" or stage.strip().lower() not in OUTCOME_STAGES:
            raise _fail(path, f"{where}: stage: is for outcomes files and must be one of "
                              f"{', '.join(OUTCOME_STAGES)}")
        stage = stage.strip().lower()
    if kind in EVENT_TABLES:
        _check_event(path, where, kind, parsed, stage)
    return FileSpec(**{**vars(out), "key": key, "joins": str(joins).strip() if joins else None,
                       "stage": stage})


def _main_file(path: Path, spec: dict, out: FileSpec) -> FileSpec:
    where = f"file {out.name!r}"
    raw_id = spec.get("id")
    from_row, id_columns = False, ()
    id_rules = [c for c in out.columns.values() if c.rule.role == "id"]
    if isinstance(raw_id, dict):
        if set(raw_id) != {"from_row"} or str(raw_id["from_row"]).lower() != "true":
            raise _fail(path, f"{where}: id: {{from_row: true}} numbers the rows 1, 2, ...; "
                              "or name the id column(s)")
        from_row = True
    elif isinstance(raw_id, list) and raw_id:
        id_columns = tuple(str(c).strip() for c in raw_id)
    elif isinstance(raw_id, str) and raw_id.strip():
        id_columns = (raw_id.strip(),)
    elif raw_id is not None:
        raise _fail(path, f"{where}: id must be a column, a list of columns or {{from_row: true}}")
    for column in id_columns:
        if column not in out.columns:
            raise _fail(path, f"{where}: id names {column!r}, which is not declared under columns:")
    if (from_row or len(id_columns) > 1) and id_rules:
        raise _fail(path, f"{where}: the id comes from id: and from a column with role id; "
                          "keep one")
    if not from_row and not id_columns and len(id_rules) != 1:
        raise _fail(path, f"{where}: say how a row is identified: one column with role id, "
                          "id: [COLUMN, COLUMN] (composite) or id: {from_row: true}")
    if len(id_columns) == 1 and out.columns[id_columns[0]].rule.role != "id":
        raise _fail(path, f"{where}: id: {id_columns[0]} must also have role id in columns:")
    dates = {c.date for c in out.columns.values() if c.date}
    for column in out.columns.values():
        if column.if_blank and column.rule.role != "timestamp" and column.rule.column not in dates:
            raise _fail(path, f"{where}: column {column.rule.column!r}: if_blank is for timestamp "
                              "columns and the date: columns of an outcome or disposition")
    derived = []
    raw_derived = spec.get("derived") or {}
    if not isinstance(raw_derived, dict):
        raise _fail(path, f"{where}: derived must map names to {{from, part, role}}")
    for name, d in raw_derived.items():
        derived.append(_derived(path, where, str(name).strip(), d, out.columns))
    return FileSpec(**{**vars(out), "id_from_row": from_row,
                       "id_columns": id_columns if len(id_columns) > 1 else (),
                       "derived": tuple(derived)})


def _derived(path: Path, where: str, name: str, raw: object, columns: dict) -> Derived:
    if not isinstance(raw, dict) or not {"from", "part", "role"} <= set(raw) or \
            set(raw) - {"from", "part", "role", "kind"}:
        raise _fail(path, f"{where}: derived {name!r} needs from (a timestamp column), part "
                          f"({', '.join(DATE_PARTS)}) and role (fit or intent)")
    source, part, role = (str(raw[k]).strip() for k in ("from", "part", "role"))
    if source not in columns or columns[source].rule.role != "timestamp":
        raise _fail(path, f"{where}: derived {name!r} is from {source!r}, which is not a "
                          "timestamp column of this file")
    if part not in DATE_PARTS or role not in ("fit", "intent"):
        raise _fail(path, f"{where}: derived {name!r}: part is one of {', '.join(DATE_PARTS)} "
                          "and role is fit or intent")
    kind = str(raw.get("kind", "categorical")).strip()
    if kind not in KINDS:
        raise _fail(path, f"{where}: derived {name!r} has kind {kind!r}; use categorical or "
                          "numeric")
    if name in columns:
        raise _fail(path, f"{where}: derived {name!r} has the name of a column; rename it")
    return Derived(name=name, source=source, part=part, role=role, kind=kind)


def _column(path: Path, kind: str, column: str, spec: object, options: ReadOptions) -> ColumnV2:
    if isinstance(spec, str):
        spec = {"role": spec}
    if not isinstance(spec, dict):
        raise _fail(path, f"column {column!r} needs a role (e.g. {column}: ignore)")
    extra = {k: spec[k] for k in _V2_COLUMN_KEYS if k in spec}
    base = {k: v for k, v in spec.items() if k not in _V2_COLUMN_KEYS}
    where = f"column {column!r}"
    opts = parse_options(path, where, {k: extra[k] for k in ("missing", "format", "day_first")
                                  if k in extra}, options)
    replace = extra.get("replace") or {}
    if not isinstance(replace, dict):
        raise _fail(path, f"{where}: replace maps a raw value to the value to read instead, e.g. "
                          "replace: {GTXPro: GTX Pro}")
    by = extra.get("replace_by") or {}
    if not isinstance(by, dict) or not all(isinstance(v, dict) for v in by.values()):
        raise _fail(path, f"{where}: replace_by maps another column of the file to patterns of "
                          "its values and the value to read where one matches, e.g. replace_by: "
                          "{Primary Attribute Value: {\"*pricing*\": pricing_view}}")
    common = dict(missing=opts.missing, date_format=opts.date_format, day_first=opts.day_first,
                  replace={str(k).strip(): str(v).strip() for k, v in replace.items()},
                  replace_by={str(c).strip(): {str(k).strip(): str(v).strip()
                                               for k, v in m.items()} for c, m in by.items()})
    if kind == "lookup" and base.get("role") == "key":
        return ColumnV2(rule=ColumnRule(column=column, role="key"), **common)
    if kind in EVENT_TABLES:
        return _event_column(path, kind, column, base, common)
    if kind == "lookup":
        role = str(base.get("role", "")).strip()
        if role not in ("fit", "ignore"):
            raise _fail(path, f"{where}: a lookup's columns are key, fit or ignore")
    when = str(extra.get("when", "")).strip()
    if when:
        if when != "filled" or base.get("role") not in ("outcome", "disposition_reason"):
            raise _fail(path, f"{where}: when: filled (a non-blank value is the event) is for "
                              "outcome columns, with stage:")
        stage = str(extra.get("stage", "")).strip().lower()
        if stage not in OUTCOME_STAGES:
            raise _fail(path, f"{where}: when: filled needs stage: one of "
                              f"{', '.join(OUTCOME_STAGES)}")
        base = {**base, "values": {"filled": stage}}
    elif "stage" in extra:
        raise _fail(path, f"{where}: stage: goes with when: filled")
    date = extra.get("date")
    if date is not None:
        base = {**base, "after_days": "0"}  # placeholder: the date column decides
    if_blank = extra.get("if_blank")
    if if_blank is not None and base.get("role") not in ("timestamp", "ignore", "post_outcome"):
        raise _fail(path, f"{where}: if_blank is for timestamp columns and the date: columns of "
                          "an outcome or disposition")
    rule = _rule(path, column, base)
    return ColumnV2(rule=rule, when_filled=bool(when), date=str(date).strip() if date else None,
                    if_blank=str(if_blank).strip() if if_blank else None, **common)


def _event_column(path: Path, kind: str, column: str, base: dict, common: dict) -> ColumnV2:
    table = EVENT_TABLES[kind]
    role = str(base.get("role", "")).strip()
    target = base.get("as")
    if role in ("key", "ignore") and set(base) == {"role"}:
        return ColumnV2(rule=ColumnRule(column=column, role=role), **common)
    if target not in table.columns or target == "lead_id" or set(base) - {"as", "values"}:
        options = ", ".join(c for c in table.columns if c != "lead_id")
        raise _fail(path, f"column {column!r} of a {kind} file is key, ignore or "
                          f"{{as: COLUMN}} with COLUMN one of {options}")
    values = None
    if "values" in base:
        if target != "stage":
            raise _fail(path, f"column {column!r}: values: is for the stage column")
        raw = base["values"]
        if not isinstance(raw, dict) or not raw:
            raise _fail(path, f"column {column!r}: values: maps each raw value to a stage")
        values = {}
        for key, stage in raw.items():
            stage = str(stage).strip().lower()
            if stage not in (*OUTCOME_STAGES, "none"):
                raise _fail(path, f"column {column!r} maps {key!r} to {stage!r}; use a stage "
                                  f"({', '.join(OUTCOME_STAGES)}) or none")
            values[fold(key)] = None if stage == "none" else (stage, None)
    return ColumnV2(rule=ColumnRule(column=column, role="field", values=values), target=target,
                    **common)


def _check_event(path: Path, where: str, kind: str, columns: dict[str, ColumnV2],
                 stage: str | None) -> None:
    targets = [c.target for c in columns.values() if c.target]
    doubled = sorted({t for t in targets if targets.count(t) > 1})
    if doubled:
        raise _fail(path, f"{where}: more than one column is as: {', '.join(doubled)}")
    table = EVENT_TABLES[kind]
    needed = [c for c in table.not_null if c != "lead_id" and c not in targets]
    if kind == "outcomes" and stage is not None:
        if "stage" in targets:
            raise _fail(path, f"{where}: the stage comes from stage: and from a column; keep one")
        needed = [c for c in needed if c != "stage"]
    if needed:
        raise _fail(path, f"{where}: no column is as: {', '.join(needed)}; a {kind} row needs it"
                          + (" (or give the whole file stage: closed_won)" if "stage" in needed
                             else ""))


def created_rule(mapping: MappingV2, rules: dict[str, ColumnRule]):
    """The v1 created_at block of a v2 mapping, checked against the synthesised rules."""
    return _created(mapping.path, mapping.created_at, rules)
