"""Applying a mapping (``features.mapping``) to one flat export file: SQL that yields its leads,
dispositions and outcomes as contract-table parts, ready for ``features.ingest`` to validate.

The disposition and outcome rows keep the export's line numbers, so an error in a derived row
still names the line and column of the flat file.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from features.contract import DISPOSITIONS, LEADS, OUTCOMES
from features.created_order import check_months, created_note, created_sql
from features.ingest_sql import (
    Attribute,
    ExportFile,
    Part,
    clean,
    ident,
    literal,
    printable,
    timestamp,
)
from features.mapping import ATTRIBUTE_ROLES, FlatMapping
from features.messages import capped, counted, plural, renamed_sentence
from leadscore.errors import LeadscoreError


def _fold_sql(expr: str) -> str:
    """``features.mapping.fold`` in SQL: lower case, runs of whitespace as one space."""
    return f"lower(regexp_replace({expr}, '\\s+', ' ', 'g'))"


def flat_export_parts(
    con: duckdb.DuckDBPyConnection, mapping: FlatMapping, export: ExportFile,
    default_missing: bool = True,
) -> list[Part]:
    """The contract tables (leads, dispositions, outcomes) one flat export file holds.

    ``default_missing`` False: ``export`` is a v2 mapping's normalised view, whose stated missing
    values are already NULL; only the default placeholders are then not applied.

    Raises:
        LeadscoreError: when the file has columns the mapping does not declare (or lacks declared
            ones), or raw values the mapping does not map.
    """
    headers = {h.strip(): h for h in export.headers}
    undeclared = [h for h in headers if h not in mapping.columns]
    missing = [c for c in mapping.columns if c not in headers]
    if undeclared and missing:  # a column the CRM renamed between exports
        raise LeadscoreError(f"{export.path.name} has column(s) the mapping {mapping.path} "
                             f"{renamed_sentence(undeclared, missing)}")
    if undeclared:
        raise LeadscoreError(
            f"{export.path.name} has {plural(len(undeclared), 'column')} the mapping "
            f"{mapping.path} does not declare: {capped(undeclared)}; give each a role (ignore if "
            "unused) so nothing reaches the model by accident, and re-run."
        )
    if missing:
        raise LeadscoreError(
            f"{export.path.name} lacks column(s) the mapping {mapping.path} declares: "
            f"{capped(missing)}; check that the mapping fits this export."
        )

    def col(name: str) -> str:
        if not default_missing:  # a v2 export view: already normalised, missing values stated
            return f"NULLIF({ident(headers[name])}, '')"
        return clean(ident(headers[name]))

    base = f"{export.view}_base"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {base} AS {_base_sql(mapping, export, col)}")
    if mapping.created_from_order is not None:
        check_months(con, mapping.created_from_order, base, col, export.path.name)
    id_rule = mapping.with_role("id")[0]
    created_label = _created_label(mapping)
    parts = [_leads_part(mapping, export, base, col, created_label)]
    if mapping.created_from_order is not None:  # the report says what the dates are
        parts[0].notes.append(created_note(mapping.created_from_order, export.path.name))
    for role, table in (("disposition_reason", DISPOSITIONS), ("outcome", OUTCOMES)):
        for rule in mapping.with_role(role):
            parts.append(_event_part(con, mapping, export, base, col, rule, table,
                                     id_rule.column, created_label))
    for part in parts:
        part.default_missing = default_missing
        part.raw_exprs = {}
    parts[0].raw_exprs = {rule.column: ident(headers[rule.column])
                          for rule in mapping.columns.values() if rule.role != "ignore"}
    return parts


def _base_sql(mapping: FlatMapping, export: ExportFile, col) -> str:
    """The export's rows plus ``__created_at``: the lead's creation time as ISO 8601 text."""
    order = mapping.created_from_order
    if order is None:
        created = col(mapping.timestamp_for("created_at").column)
        return f"SELECT *, {created} AS __created_at FROM {export.view}"
    return created_sql(order, export.view, col, col(mapping.with_role("id")[0].column))


def _created_label(mapping: FlatMapping) -> str:
    order = mapping.created_from_order
    if order is None:
        return mapping.timestamp_for("created_at").column
    return f"{order.column} (created_at, spread in its order)"


def _leads_part(mapping: FlatMapping, export: ExportFile, base: str, col, created_label) -> Part:
    id_rule = mapping.with_role("id")[0]
    exprs = {"lead_id": col(id_rule.column), "created_at": "__created_at"}
    labels = {"lead_id": id_rule.column, "created_at": created_label}
    mql = mapping.timestamp_for("mql_at")
    if mql is not None:
        exprs["mql_at"], labels["mql_at"] = col(mql.column), mql.column
    attributes = []
    for rule in mapping.columns.values():
        if rule.role in ("fit", "intent") and rule.target:
            target = "email_domain" if rule.target == "email" else rule.target
            exprs[target], labels[target] = col(rule.column), rule.column
        elif rule.role in ATTRIBUTE_ROLES or rule.keep:
            role = rule.role if rule.role in ATTRIBUTE_ROLES else "post_outcome"
            attributes.append(Attribute(name=rule.column, expr=col(rule.column), role=role,
                                        kind=rule.kind or "categorical", label=rule.column))
    return Part(table=LEADS, export=export, source=base, exprs=exprs, labels=labels,
                attributes=attributes, roles_from_mapping=True, rows_read=export.rows)


def _event_part(con, mapping, export, base, col, rule, table, id_column, created_label) -> Part:
    """The dispositions (or outcomes) a flat export's verdict (or outcome) column holds."""
    raw = col(rule.column)
    _check_values(con, mapping, export, base, rule, raw)
    lookup = f"{export.view}_{rule.role}"
    keys = sorted(rule.values)
    con.register(lookup, pa.table({
        "key": pa.array(keys, pa.string()),
        "first": pa.array([(rule.values[k] or (None, None))[0] for k in keys], pa.string()),
        "second": pa.array([(rule.values[k] or (None, None))[1] for k in keys], pa.string()),
    }))
    source = (f"(SELECT b.*, m.first AS __first, m.second AS __second FROM {base} AS b "
              f"JOIN {lookup} AS m ON {_fold_sql(raw)} = m.key WHERE m.first IS NOT NULL)")
    is_disposition = table is DISPOSITIONS
    time_column = "dispositioned_at" if is_disposition else "occurred_at"
    stamped = mapping.timestamp_for("dispositioned_at" if is_disposition else "outcome_at")
    if stamped is not None:
        when, when_label = col(stamped.column), stamped.column
    else:
        shift = int(round(rule.after_days * 86_400_000_000))
        after = f"{timestamp('__created_at')} + to_microseconds({shift})"
        days = f"{rule.after_days:g} day{'' if rule.after_days == 1 else 's'}"
        when_label = f"{created_label} + {days}"
        mql = mapping.timestamp_for("mql_at")
        if mql is not None:
            # a verdict comes after the lead became an MQL, the moment it is scored: dated
            # before it, labels would drop it as converted before scoreable
            after = f"greatest({after}, {timestamp(col(mql.column))})"
            when_label += f", not before {mql.column}"
        when = f"strftime({after}, '%Y-%m-%dT%H:%M:%S.%f')"
    exprs = {"lead_id": col(id_column), time_column: when}
    labels = {"lead_id": id_column, time_column: when_label}
    if is_disposition:
        exprs.update(status="__first", reason_code="__second")
        labels.update(status=rule.column, reason_code=rule.column)
    else:
        exprs["stage"], labels["stage"] = "__first", rule.column
    rows = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
    return Part(table=table, export=export, source=source, exprs=exprs, labels=labels,
                rows_read=rows, after_days=None if stamped is not None else rule.after_days)


def _check_values(con, mapping, export, base, rule, raw) -> None:
    known = ", ".join(literal(k) for k in rule.values) or "NULL"
    unknown = con.execute(
        f"SELECT {raw} AS v, count(*) AS n FROM {base} WHERE {raw} IS NOT NULL "
        f"AND {_fold_sql(raw)} NOT IN ({known}) GROUP BY v ORDER BY n DESC, v"
    ).fetchall()
    if not unknown:
        return
    listed = counted([(printable(v), n) for v, n in unknown])
    what = "disposition status and reason code" if rule.role == "disposition_reason" else "stage"
    hint = ""
    if len(unknown) > 20 and rule.role == "outcome":
        hint = (" With this many values the column may hold dates or amounts: in a v2 mapping, "
                "when: filled with stage: makes a non-blank value the outcome.")
    raise LeadscoreError(
        f"{export.path.name}, column {rule.column}: {plural(len(unknown), 'value')} the mapping "
        f"{mapping.path} does not map: {listed}; add each under {rule.column}: values: with its "
        f"{what} (or none) and re-run.{hint}"
    )
