"""The embedded DuckDB store that holds the ingested CRM history.

Tables:
    leads, activities, dispositions, outcomes: the contract's tables (see ``features.contract``),
        each with its natural key as primary key. ``leads.attributes`` is a JSON object holding the
        export's extra columns (those a mapping declares, e.g. X Education's form answers).
    attribute_roles: for each extra lead column, its role (``fit``, ``intent``, ``post_outcome``,
        ``ignore``) and kind (``categorical`` or ``numeric``). Feature code uses only ``fit`` and
        ``intent`` attributes; ``post_outcome`` ones are kept for reports and never become features.
    ingest_log: one row per ingested batch (an audit trail; not part of the data).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from features.contract import TABLES
from leadscore.errors import LeadscoreError

_EXTRA_DDL = {
    "leads": ", attributes JSON",
}

_SUPPORT_DDL = (
    """CREATE TABLE IF NOT EXISTS attribute_roles (
        name VARCHAR PRIMARY KEY, role VARCHAR NOT NULL, kind VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ingest_log (
        batch_id VARCHAR PRIMARY KEY, ingested_at TIMESTAMP NOT NULL, files VARCHAR NOT NULL,
        summary JSON NOT NULL)""",
)


def table_ddl(name: str) -> str:
    """The CREATE TABLE statement for one contract table."""
    table = TABLES[name]
    cols = ", ".join(
        f"{c} {table.types[c]}{' NOT NULL' if c in table.not_null else ''}" for c in table.columns
    )
    key = ", ".join(table.key)
    extra = _EXTRA_DDL.get(name, "")
    return f"CREATE TABLE IF NOT EXISTS {name} ({cols}{extra}, PRIMARY KEY ({key}))"


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every store table that does not exist yet."""
    for name in TABLES:
        con.execute(table_ddl(name))
    for ddl in _SUPPORT_DDL:
        con.execute(ddl)


@contextmanager
def connect(path: str | Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the store, creating it (and its folder) on first write.

    Raises:
        LeadscoreError: when a read-only open finds no store, or the file is not a DuckDB store.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise LeadscoreError(
            f"No store at {path}: ingest an export first (leadscore ingest PATH --store {path})."
        )
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise LeadscoreError(
            f"Cannot open the store {path} ({str(exc).splitlines()[0]}): "
            "check the path, or close the other program that holds it."
        ) from None
    try:
        if not read_only:
            create_schema(con)
        yield con
    finally:
        con.close()


_LEAD_COLUMNS = ("created_at", "source", "title", "company_size", "industry", "country",
                 "email_domain", "mql_at", "campaign", "attributes")


def stored_leads(
    path: str | Path, lead_ids: Sequence[str]
) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each stored lead's fields (set ones) and activities, by lead id; for scoring by id.

    The store is opened read-only for the moment of the lookup, so a review or ingest can still
    take it; while one holds it (or there is none yet) the answer is empty and the API scores
    from the live store and the request alone.
    """
    path = Path(path)
    if not path.exists():
        return {}
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return {}
    ids = list(dict.fromkeys(lead_ids))
    out: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    try:
        rows = con.execute(
            f"SELECT lead_id, {', '.join(_LEAD_COLUMNS)} FROM leads WHERE lead_id IN "
            "(SELECT UNNEST(?::VARCHAR[]))", [ids]).fetchall()
        for lead_id, *values in rows:
            fields = {k: v for k, v in zip(_LEAD_COLUMNS, values, strict=True) if v is not None}
            if isinstance(fields.get("attributes"), str):
                fields["attributes"] = json.loads(fields["attributes"])
            out[lead_id] = (fields, [])
        for lead_id, activity_type, occurred_at in con.execute(
                "SELECT lead_id, activity_type, occurred_at FROM activities WHERE lead_id IN "
                "(SELECT UNNEST(?::VARCHAR[]))", [ids]).fetchall():
            out.setdefault(lead_id, ({}, []))[1].append(
                {"activity_type": activity_type, "occurred_at": occurred_at})
    except duckdb.Error:
        return {}
    finally:
        con.close()
    return out
