"""The event files of a v2 mapping (activities, dispositions, outcomes) as contract-table parts.

An event file's ``key`` column holds the lead's id; or, with ``joins:``, a value of a main-file
column (a Salesforce Opportunity's Id, which the Lead names in ConvertedOpportunityId), and the
row is that lead's. A stage column's raw values are mapped as the mapping says.
"""

from __future__ import annotations

from features.ingest_sql import ExportFile, Part, ident, literal, printable
from features.mapping import fold
from features.mapping_v2 import EVENT_TABLES, ColumnV2, FileSpec, MappingV2
from features.messages import counted, plural
from leadscore.errors import LeadscoreError


def event_part(con, mapping: MappingV2, spec: FileSpec, export: ExportFile, view: str,
                views: dict, notes: list[str]) -> Part:
    table = EVENT_TABLES[spec.kind]
    exprs = {"lead_id": ident(spec.key)}
    labels = {"lead_id": spec.key}
    if spec.joins is not None:
        view = _joined_event_view(con, mapping, spec, export, view, views, notes)
        exprs["lead_id"] = "__lead"
        labels["lead_id"] = f"{spec.key} (the lead whose {spec.joins} holds it)"
    source = view
    for name, column in spec.columns.items():
        if column.target is None:
            continue
        exprs[column.target], labels[column.target] = ident(name), name
        if column.rule.values is not None:
            _check_stages(con, export, name, column, view, mapping)
            cases = " ".join(f"WHEN {literal(k)} THEN {literal(v[0]) if v else 'NULL'}"
                             for k, v in column.rule.values.items())
            folded = f"lower(regexp_replace({ident(name)}, '\\s+', ' ', 'g'))"
            source = (f"(SELECT * REPLACE (CASE {folded} {cases} END AS {ident(name)}) "
                      f"FROM {view} WHERE {ident(name)} IS NULL OR (CASE {folded} {cases} END) "
                      "IS NOT NULL)")
    if spec.stage:
        exprs["stage"], labels["stage"] = literal(spec.stage), f"stage: {spec.stage}"
    rows = con.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0]
    return Part(table=table, export=export, source=source, exprs=exprs, labels=labels,
                rows_read=rows, default_missing=False)


def _joined_event_view(con, mapping: MappingV2, spec: FileSpec, export: ExportFile, view: str,
                       views: dict, notes: list[str]) -> str:
    """``view`` with ``__lead``: the id of the main-file row whose ``joins`` column holds the
    row's key (an Opportunity's Id in the Lead's ConvertedOpportunityId); rows no lead names are
    left out and counted."""
    main = mapping.main
    main_view = views[main.name][1]
    if main.id_from_row:
        lead = "CAST(m.__row + 1 AS VARCHAR)"
    elif main.id_columns:
        lead = f"concat_ws('|', {', '.join(f'm.{ident(c)}' for c in main.id_columns)})"
    else:
        lead = f"m.{ident(next(n for n, c in main.columns.items() if c.rule.role == 'id'))}"
    joined = f"{view}_joined"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {joined} AS SELECT e.*, {lead} AS __lead "
                f"FROM {view} AS e JOIN {main_view} AS m "
                f"ON m.{ident(spec.joins)} = e.{ident(spec.key)}")
    total, matched = con.execute(f"SELECT (SELECT count(*) FROM {view}), "
                                 f"(SELECT count(*) FROM {joined})").fetchone()
    if total and not matched:
        raise LeadscoreError(
            f"{export.path.name} joins the main file on {spec.joins} = {spec.key}, but not one of "
            f"its {total:,} {spec.key} values is found in {spec.joins}: the two hold different "
            f"ids. Point joins: at the main-file column that holds {export.path.name}'s "
            f"{spec.key} values and re-run."
        )
    if matched < total:
        left = total - matched
        notes.append(f"{export.path.name}: {plural(left, 'row')} passed over (no main-file "
                     f"{spec.joins} holds {'its' if left == 1 else 'their'} {spec.key}: no lead "
                     "here)")
    return joined


def _check_stages(con, export, name, column: ColumnV2, view, mapping) -> None:
    found = con.execute(f"SELECT {ident(name)}, count(*) FROM {view} WHERE {ident(name)} IS NOT "
                        "NULL GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
    unknown = [(printable(v), n) for v, n in found if fold(v) not in column.rule.values]
    if unknown:
        raise LeadscoreError(
            f"{export.path.name}, column {name}: {len(unknown):,} value(s) the mapping "
            f"{mapping.path} does not map: {counted(unknown)}; add each under {name}: values: "
            "with its stage (or none) and re-run."
        )
