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

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
        raise _open_error(path, exc) from None
    try:
        if not read_only:
            create_schema(con)
        yield con
    finally:
        con.close()


def _open_error(path: Path, exc: duckdb.Error) -> LeadscoreError:
    """One sentence for a store that would not open; a lock held elsewhere says by whom.

    DuckDB's lock message ends with advice for its own command line ("-readonly parameter in the
    CLI") that means nothing to a leadscore user, so it is not passed on.
    """
    text = str(exc)
    if "lock" in text.lower():
        holder = re.search(r"\(PID (\d+)\)", text)
        who = f" (process {holder.group(1)})" if holder else ""
        return LeadscoreError(
            f"The store {path} is in use by another program{who}: wait for that ingest, review "
            "or notebook to finish (or close it) and re-run."
        )
    return LeadscoreError(
        f"Cannot open the store {path} ({text.splitlines()[0]}): check the path, or close the "
        "other program that holds it."
    )
