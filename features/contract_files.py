"""A contract-table export file (leads.csv, activities.xlsx, ...): which table it is, by its
name, and which of its columns go where, by their names ("Lead ID" reads as lead_id). Split from
``features.export_files``, which finds and reads the files."""

from __future__ import annotations

import re
from pathlib import Path

from features.contract import LEADS, PERSONAL_COLUMNS, TABLES, Table
from features.export_files import stem
from features.ingest_sql import Attribute, ExportFile, Part, clean, ident
from features.lead_fields import lead_field_for
from leadscore.errors import LeadscoreError

EMAIL_HEADERS = frozenset({"email", "e_mail", "email_address"})


def slug(header: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", header.strip().lower()).strip("_")


def table_of(path: Path) -> Table:
    table = TABLES.get(stem(path))
    if table is None:
        expected = ", ".join(f"{name}.csv" for name in TABLES)
        raise LeadscoreError(
            f"{path.name}: unknown table layout; name each file after its table ({expected}, or "
            "the same as .parquet, .jsonl or .xlsx), or pass --mapping for a flat one-table "
            "export."
        )
    return table


def _stand_ins(headers: tuple[str, ...], missing: list[str]) -> str:
    """" (its 'Job Title' looks like title: rename it so)" for headers that a CRM names a missing
    lead field by (``features.lead_fields.SYNONYMS``), or ""."""
    found = [(h.strip(), lead_field_for(h)) for h in headers]
    hits = [f"{h!r} looks like {field}" for h, field in found if field in missing]
    if not hits:
        return ""
    return f" (its {' and '.join(hits)}: rename {'it' if len(hits) == 1 else 'them'} so)"


def contract_part(export: ExportFile) -> Part:
    """One contract table file: its columns matched by name ("Lead ID" reads as lead_id)."""
    table = table_of(export.path)
    by_slug: dict[str, str] = {}
    unnamed = 0
    for header in export.headers:
        key = slug(header)
        if not key:  # e.g. the index column pandas writes with an empty name
            unnamed += 1
            continue
        if key in by_slug:
            raise LeadscoreError(
                f"{export.path.name} has columns {by_slug[key].strip()!r} and {header.strip()!r}, "
                f"which both read as {key}; keep one and re-run."
            )
        by_slug[key] = header
    emails = [by_slug[k] for k in sorted(EMAIL_HEADERS) if k in by_slug]
    missing = [c for c in table.required if c not in by_slug]
    if missing:
        raise LeadscoreError(
            f"{export.path.name} lacks required column(s) {', '.join(missing)}"
            f"{_stand_ins(export.headers, missing) if table is LEADS else ''}; add them (values "
            f"may be empty where allowed) and re-run. A {table.name} file needs "
            f"{', '.join(table.required)}."
        )
    exprs = {c: ident(by_slug[c]) for c in table.columns if c in by_slug}
    labels = {c: by_slug[c].strip() for c in exprs}
    part = Part(table=table, export=export, source=export.view, exprs=exprs, labels=labels,
                rows_read=export.rows)
    if unnamed:
        part.notes.append(f"{unnamed} unnamed column(s) not stored ({export.path.name})")
    if emails and table is LEADS:
        address = ident(emails[0])
        exprs["email_domain"] = (f"coalesce({clean(exprs['email_domain'])}, {address})"
                                 if "email_domain" in exprs else address)
        labels.setdefault("email_domain", emails[0].strip())
        part.notes.append(f"e-mail addresses reduced to their domain ({export.path.name})")
    personal = [h.strip() for k, h in by_slug.items()
                if k in PERSONAL_COLUMNS | EMAIL_HEADERS and h not in emails[:1]]
    if personal:
        part.notes.append(f"personal columns not stored: {', '.join(personal)} "
                          f"({export.path.name})")
    extra = [h for k, h in by_slug.items()
             if k not in table.columns and k not in PERSONAL_COLUMNS | EMAIL_HEADERS]
    if extra and table is LEADS:
        part.attributes = [Attribute(name=h.strip(), expr=ident(h), role="ignore",
                                     kind="categorical", label=h.strip()) for h in extra]
    elif extra:
        part.notes.append(f"extra columns not stored: {', '.join(h.strip() for h in extra)} "
                          f"({export.path.name})")
    return part
