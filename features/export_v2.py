"""Applying a v2 mapping (``features.mapping_v2``): several files, each read with its options,
normalised as the mapping states, then turned into contract-table parts.

The main file and its lookups become one view (one row per main-file row, lookup columns joined
on), which the v1 machinery (``features.flat_export``) reads through a v1 mapping synthesised from
the v2 one. Event files (activities, dispositions, outcomes) become parts of their table. Every
part keeps its file's line numbers, so errors still name where a bad value stands.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

import duckdb

from features.contract import INTEGER, NUMBER, TIMESTAMP
from features.export_files import NotUtf8, read_export
from features.export_v2_events import event_part
from features.flat_export import flat_export_parts
from features.ingest_sql import (
    ExportFile,
    Part,
    ident,
    iso_cast,
    literal,
    printable,
    timestamp,
    trimmed,
)
from features.mapping import FlatMapping, _check_whole
from features.mapping_v2 import EVENT_TABLES, ColumnV2, FileSpec, MappingV2, created_rule
from features.messages import capped, counted, plural, renamed_sentence
from features.timestamps import MONTH_NAME_FORMATS
from leadscore.errors import LeadscoreError

_ISO_OUT = "%Y-%m-%dT%H:%M:%S.%f"
_TIMES = (" %H:%M:%S", " %H:%M", " %I:%M:%S %p", " %I:%M %p",  # Zoho: 13/01/2025 10:49 PM
          ", %I:%M:%S %p", ", %I:%M %p", ", %H:%M:%S", ", %H:%M",  # Salesforce Lightning:
          "")                                                       # 3/5/2026, 9:05 PM
_UNFILLED = "__unfilled "  # a date column before its if_blank stand-in, for derived parts


def _formats(day_first: bool) -> list[str]:
    first, second = ("%d", "%m") if day_first else ("%m", "%d")
    # %y before %Y: %Y takes "16" as the year 16, while %y leaves "2016" half read and fails
    return [f"{first}{sep}{second}{sep}{year}{time}"
            for sep in "/-." for year in ("%y", "%Y") for time in _TIMES] + [*MONTH_NAME_FORMATS]


ReadAdapter = Callable[[duckdb.DuckDBPyConnection, ExportFile, FileSpec | None], ExportFile]
"""Reshapes one export file as read, before its mapping applies (given the file's spec in a v2
mapping, None in a v1 one): ``features.export_leads`` reads a file of leads to score so."""


def v2_parts(con: duckdb.DuckDBPyConnection, mapping: MappingV2, files: list[Path],
             sheet: str | None = None,
             adapt: ReadAdapter | None = None) -> tuple[list[Part], list[str]]:
    """The contract-table parts of an export read through a v2 mapping, and report notes.
    ``sheet``: the sheet of a workbook whose file options name none (``--sheet``); ``adapt``:
    applied to each file as read.

    Raises:
        LeadscoreError: a file the mapping names is not given, a column is undeclared or
            missing, a date column reads both day first and month first, or a value is unmapped.
    """
    notes: list[str] = []
    assigned: dict[str, Path] = {}
    passed_over = []
    for path in files:
        spec = next((s for s in mapping.files.values() if s.matches(path)), None)
        if spec is None:
            passed_over.append(path.name)
        elif spec.name in assigned:
            raise LeadscoreError(f"{assigned[spec.name].name} and {path} both match file "
                                 f"{spec.name!r} of the mapping {mapping.path}; pass one.")
        else:
            assigned[spec.name] = path
    absent = [s.path for s in mapping.files.values() if s.name not in assigned]
    if absent:
        # a file given under another name (renamed, or a Parquet copy) is the likely one
        given = (f" (given but not named by it: {capped([repr(p) for p in passed_over])}; "
                 "rename the file or set its path: in the mapping)" if passed_over else "")
        raise LeadscoreError(
            f"The mapping {mapping.path} names file(s) {capped([repr(a) for a in absent])} that "
            f"are not among the files given{given}; pass the export's folder (or every file) "
            "and re-run."
        )
    if passed_over:
        notes.append(f"not named by the mapping, passed over: {capped(passed_over)}")
    views: dict[str, tuple[ExportFile, str]] = {}
    for i, (name, path) in enumerate(assigned.items()):
        spec = mapping.files[name]
        try:
            export = read_export(con, path, f"__v2raw_{i}", spec.options, sheet)
        except NotUtf8:
            raise LeadscoreError(
                f"{path.name} is not UTF-8 text: state its encoding in the mapping "
                f"{mapping.path} (encoding: cp1252 under files: {name}:, as Excel on Windows "
                "saves CSV, or latin-1), or save it as UTF-8 CSV, and re-run.") from None
        if adapt is not None:
            export = adapt(con, export, spec)
        notes.extend(n for n in (export.read_note, export.skip_note) if n)
        _check_headers(export, spec, mapping)
        view = f"__v2_{i}"
        notes.extend(_normalise(con, export, spec, view))
        views[name] = (export, view)
    parts = _main_parts(con, mapping, views, notes)
    for name, spec in mapping.files.items():
        if spec.kind in EVENT_TABLES:
            parts.append(event_part(con, mapping, spec, *views[name], views, notes))
    return parts, notes


def _check_headers(export: ExportFile, spec: FileSpec, mapping: MappingV2) -> None:
    headers = [h.strip() for h in export.headers]
    undeclared = [h for h in headers if h not in spec.columns]
    missing = [c for c in spec.columns if c not in headers]
    if undeclared and missing:  # a column the CRM renamed between exports
        raise LeadscoreError(
            f"{export.path.name} has column(s) file {spec.name!r} of the mapping {mapping.path} "
            f"{renamed_sentence(undeclared, missing)}")
    if undeclared:
        hint = ""
        if len(headers) == 1 and any(d in headers[0] for d in ";\t|,"):
            hint = " The header reads as one column: check the file's delimiter: option."
        raise LeadscoreError(
            f"{export.path.name} has {len(undeclared)} column(s) file {spec.name!r} of the mapping "
            f"{mapping.path} does not declare: {capped([repr(h) for h in undeclared])}; give each "
            f"a role (ignore if unused) and re-run.{hint}"
        )
    if missing:
        raise LeadscoreError(
            f"{export.path.name} lacks column(s) file {spec.name!r} of the mapping {mapping.path} "
            f"declares: {capped([repr(c) for c in missing])}; check that the mapping fits it."
        )


def _column_type(spec: FileSpec, column: ColumnV2) -> str | None:
    rule = column.rule
    if spec.kind in EVENT_TABLES:
        return EVENT_TABLES[spec.kind].types.get(column.target or "")
    if rule.role == "timestamp" or any(c.date == rule.column for c in spec.columns.values()):
        return TIMESTAMP
    if rule.kind == "numeric" and rule.role != "key":
        return NUMBER
    return None


def _like(pattern: str) -> str:
    """A ``*`` / ``?`` pattern as a lower-case SQL LIKE pattern (``%`` and ``_`` kept literal)."""
    escaped = pattern.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def _normalise(con, export: ExportFile, spec: FileSpec, view: str) -> list[str]:
    """Create ``view``: the file's declared columns as normalised text (stated missing values
    NULL, replacements applied, decimal commas read, dates as ISO 8601); returns notes."""
    headers = {h.strip(): h for h in export.headers}
    notes, exprs, counts = [], {}, []
    for name, column in spec.columns.items():
        raw = trimmed(f"CAST({ident(headers[name])} AS VARCHAR)")
        stated = [m.lower() for m in column.missing if m]
        if stated:
            listed = ", ".join(literal(m) for m in stated)
            counts.append((name, f"count(*) FILTER (WHERE lower({raw}) IN ({listed}))"))
            raw = f"(CASE WHEN lower({raw}) IN ({listed}) THEN NULL ELSE {raw} END)"
        raw = f"NULLIF({raw}, '')"
        for other, patterns in column.replace_by.items():  # the first pattern matching wins
            by = f"lower(CAST({ident(headers[other])} AS VARCHAR))"
            for pattern, new in reversed(patterns.items()):
                raw = (f"(CASE WHEN {raw} IS NOT NULL AND {by} LIKE {literal(_like(pattern))} "
                       f"ESCAPE '\\' THEN {literal(new)} ELSE {raw} END)")
        for old, new in column.replace.items():
            raw = f"(CASE WHEN {raw} = {literal(old)} THEN {literal(new)} ELSE {raw} END)"
        kind = _column_type(spec, column)
        if kind in (NUMBER, INTEGER):
            raw = _number_text(raw, spec.options.decimal, spec.options.thousands)
        if kind == TIMESTAMP:
            # the dates as exported decide how they read (the if_blank stand-in is ISO, so it
            # would spoil a day-first or month-first reading), and derived parts read them so
            raw, note = _dates(con, export, name, column, raw)
            if note:
                notes.append(note)
            if column.if_blank:
                exprs[_UNFILLED + name] = raw
                raw = f"coalesce({raw}, {literal(column.if_blank)})"
        exprs[name] = raw
    selects = ", ".join(f"{e} AS {ident(n)}" for n, e in exprs.items())
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT __row, {selects} "
                f"FROM {export.view}")
    if counts:
        found = con.execute("SELECT " + ", ".join(c for _, c in counts)
                            + f" FROM {export.view}").fetchall()[0]
        pairs = [(n, k) for (n, _), k in zip(counts, found, strict=True) if k]
        if pairs:
            notes.append(f"{export.path.name}: values the mapping lists as missing read as "
                         f"missing: {counted(pairs, 'value')}")
    return notes


_UNITS = "[$€£¥%]"
"""Signs around a number that are its unit, not part of it: $1,200.00, 12.5%, 1.200,00 €."""


_NO_BREAK_SPACES = "[\u00a0\u202f\u2009]"
"""The no-break, narrow no-break and thin spaces a number's digits are grouped by, read as a
space (``features.inspect_values.NO_BREAK_SPACES``)."""


def _number_text(raw: str, decimal: str, thousands: str | None) -> str:
    """``raw`` (text) as a number's plain spelling: a currency or percent sign dropped (12.5%
    reads 12.5), digits grouped by ``thousands`` joined (only in groups of three, so 1,5 is never
    read 15), a decimal comma read as a point; anything else stays as written, so that
    validation names it."""
    number = f"[+-]?{_UNITS}? ?[+-]?[0-9][0-9.,' ]*{_UNITS}?"
    if thousands == " " or decimal == ",":
        # French and German spreadsheets group digits with a no-break space: 1 200 000,50
        raw = f"regexp_replace({raw}, {literal(_NO_BREAK_SPACES)}, ' ', 'g')"
    out = (f"(CASE WHEN regexp_full_match({raw}, {literal(number)}) AND "
           f"regexp_matches({raw}, {literal(_UNITS)}) THEN "
           f"trim(regexp_replace({raw}, {literal(_UNITS)}, '', 'g')) ELSE {raw} END)")
    if thousands is not None:
        grouped = (f"[+-]?[0-9]{{1,3}}({re.escape(thousands)}[0-9]{{3}})+"
                   f"({re.escape(decimal)}[0-9]*)?")
        out = (f"(CASE WHEN regexp_full_match({out}, {literal(grouped)}) THEN "
               f"replace({out}, {literal(thousands)}, '') ELSE {out} END)")
    if decimal == ",":
        out = (f"(CASE WHEN regexp_full_match({out}, '[+-]?[0-9][0-9. ]*(,[0-9]*)?') THEN "
               f"replace(replace(replace({out}, ' ', ''), '.', ''), ',', '.') ELSE {out} END)")
    return out


def _dates(con, export: ExportFile, name: str, column: ColumnV2, raw: str) -> tuple[str, str]:
    """``raw`` (text) as ISO 8601 text by the column's date format; a value that does not parse
    stays as written, so that validation names it."""
    def parsed(formats: list[str]) -> str:
        listed = ", ".join(literal(f) for f in formats)
        return f"try_strptime({raw}, [{listed}])"

    def iso(expr: str) -> str:
        return f"coalesce(strftime({expr}, {literal(_ISO_OUT)}), {raw})"

    if column.date_format:
        return iso(parsed([column.date_format])), ""
    if column.day_first is not None:
        return iso(f"coalesce({iso_cast(raw, 'TIMESTAMP')}, "
                   f"{parsed(_formats(column.day_first))})"), ""
    day, month = parsed(_formats(True)), parsed(_formats(False))
    total, iso_fail, day_ok, month_ok = con.execute(
        f"SELECT count({raw}), count(*) FILTER (WHERE {raw} IS NOT NULL AND "
        f"{iso_cast(raw)} IS NULL), count({day}), count({month}) "
        f"FROM {export.view}"
    ).fetchall()[0]
    if not iso_fail:
        return raw, ""
    if day_ok == total and month_ok == total:
        rows = con.execute(
            f"SELECT __row, {raw} FROM {export.view} WHERE {day} <> {month} ORDER BY __row LIMIT 2"
        ).fetchall()
        if len(rows) == 2:
            examples = " and ".join(f"{export.where(r)}: {printable(v)}" for r, v in rows)
            raise LeadscoreError(
                f"{export.path.name}, column {name}: every date reads both day first and month "
                f"first ({examples}); say which: add day_first: true (or false), or a format: "
                f"such as \"%d-%m-%Y\", to the column or its file, and re-run."
            )
    if day_ok == total and month_ok < total:
        return iso(day), f"{export.path.name}, column {name}: read day first (only reading " \
                         "that parses every value)"
    if month_ok == total:
        return iso(month), ""
    return raw, ""


def _main_parts(con, mapping: MappingV2, views: dict, notes: list[str]) -> list[Part]:
    main = mapping.main
    export, view = views[main.name]
    rules, selects = {}, ["m.__row"]
    joins = []
    for name, column in main.columns.items():
        expr = f"m.{ident(name)}"
        if column.when_filled:
            expr = f"CASE WHEN {expr} IS NOT NULL THEN 'filled' END"
        rules[name] = column.rule
        selects.append(f"{expr} AS {ident(name)}")
        if column.date:
            if column.date not in main.columns:
                raise LeadscoreError(f"Mapping {mapping.path}: column {name!r} takes its date "
                                     f"from {column.date!r}, which is not declared under columns:.")
            target = "outcome_at" if column.rule.role == "outcome" else "dispositioned_at"
            synthetic = f"{column.date} ({target})"
            rules[synthetic] = dataclasses.replace(
                main.columns[column.date].rule, column=synthetic, role="timestamp",
                target=target, kind=None, values=None, keep=False)
            selects.append(f"m.{ident(column.date)} AS {ident(synthetic)}")
    if main.id_from_row:
        rules["row number"] = _id_rule("row number")
        selects.append(f"CAST(m.__row + 1 AS VARCHAR) AS {ident('row number')}")
    elif main.id_columns:
        label = " + ".join(main.id_columns)
        parts = [f"m.{ident(c)}" for c in main.id_columns]
        nulls = " OR ".join(f"{p} IS NULL" for p in parts)
        rules[label] = _id_rule(label)
        selects.append(f"CASE WHEN {nulls} THEN NULL ELSE concat_ws('|', {', '.join(parts)}) "
                       f"END AS {ident(label)}")
    for d in main.derived:
        source = d.source
        if main.columns[source].if_blank:
            source = _UNFILLED + source
        when = timestamp(f"m.{ident(source)}")
        expr = {"month": f"CAST(month({when}) AS VARCHAR)",
                "weekday": f"dayname({when})",
                "hour": f"CAST(hour({when}) AS VARCHAR)"}[d.part]
        rules[d.name] = dataclasses.replace(_id_rule(d.name), role=d.role, kind=d.kind)
        selects.append(f"{expr} AS {ident(d.name)}")
    for i, spec in enumerate(s for s in mapping.files.values() if s.kind == "lookup"):
        lookup_export, lookup_view = views[spec.name]
        alias = f"l{i}"
        _check_lookup(con, lookup_export, lookup_view, spec, view, notes)
        joins.append(f"LEFT JOIN {lookup_view} AS {alias} ON {alias}.{ident(spec.key)} = "
                     f"m.{ident(spec.joins)}")
        for name, column in spec.columns.items():
            if column.rule.role != "fit":
                continue
            stored = name if name not in rules else f"{spec.name}.{name}"
            rules[stored] = dataclasses.replace(column.rule, column=stored)
            selects.append(f"{alias}.{ident(name)} AS {ident(stored)}")
    combined = f"{view}_main"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {combined} AS SELECT {', '.join(selects)} "
                f"FROM {view} AS m {' '.join(joins)}")
    try:
        created = created_rule(mapping, rules)
    except LeadscoreError as exc:
        raise LeadscoreError(str(exc).replace(" a timestamp column (as: created_at)",
                                              " a timestamp column of the main file "
                                              "(as: created_at)")) from None
    flat = FlatMapping(name=mapping.name, version=mapping.version, path=mapping.path,
                       columns=rules, created_from_order=created)
    _check_whole(flat)
    combined_export = dataclasses.replace(export, view=combined, headers=tuple(rules))
    return flat_export_parts(con, flat, combined_export, default_missing=False)


def _id_rule(name: str):
    from features.mapping import ColumnRule

    return ColumnRule(column=name, role="id")


def _check_lookup(con, export: ExportFile, view: str, spec: FileSpec, main_view: str,
                  notes: list[str]) -> None:
    key = ident(spec.key)
    doubled = con.execute(
        f"SELECT {key}, count(*) AS n FROM {view} WHERE {key} IS NOT NULL GROUP BY {key} "
        "HAVING n > 1 ORDER BY n DESC, 1"
    ).fetchall()
    if doubled:
        raise LeadscoreError(
            f"{export.path.name}, column {spec.key}: a lookup needs one row per key, but "
            f"{counted([(printable(v), n) for v, n in doubled])} repeat; keep one row per "
            f"{spec.key} and re-run."
        )
    unmatched = con.execute(
        f"SELECT m.{ident(spec.joins)}, count(*) AS n FROM {main_view} AS m ANTI JOIN {view} AS l "
        f"ON l.{key} = m.{ident(spec.joins)} WHERE m.{ident(spec.joins)} IS NOT NULL "
        "GROUP BY 1 ORDER BY n DESC, 1"
    ).fetchall()
    if unmatched:
        total = sum(n for _, n in unmatched)
        joined = con.execute(f"SELECT count(*) FROM {main_view} "
                             f"WHERE {ident(spec.joins)} IS NOT NULL").fetchone()[0]
        if total == joined:
            # not one match: the two columns hold different ids (a Salesforce Lead.Id against
            # Opportunity.Id), so every joined attribute would be silently missing
            raise LeadscoreError(
                f"{export.path.name} joins the main file on {spec.joins} = {spec.key}, but not one "
                f"of the main file's {joined:,} {spec.joins} values is found in column "
                f"{spec.key} of {export.path.name}: the two hold different ids. Point joins: at "
                f"the main-file column that holds {export.path.name}'s {spec.key} values (or key: "
                "at the lookup column that holds the main file's) and re-run."
            )
        notes.append(f"{plural(total, 'row')} of the main file match no row of "
                     f"{export.path.name} on {spec.joins}: "
                     f"{counted([(printable(v), n) for v, n in unmatched])}; their "
                     f"{spec.name} attributes are missing (a replace: on {spec.joins} can fix "
                     "spellings)")
