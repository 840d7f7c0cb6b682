"""The embedded DuckDB store that holds the ingested CRM history.

Tables:
    leads, activities, dispositions, outcomes: the contract's tables (see ``features.contract``),
        each with its natural key as primary key. ``leads.attributes`` is a JSON object holding the
        export's extra columns (those a mapping declares, e.g. X Education's form answers).
    attribute_roles: for each extra lead column, its role (``fit``, ``intent``, ``post_outcome``,
        ``ignore``) and kind (``categorical`` or ``numeric``). Feature code uses only ``fit`` and
        ``intent`` attributes; ``post_outcome`` ones are kept for reports and never become features.
    ingest_log: one row per ingested batch (an audit trail; not part of the data).
    store_metadata: facts about the store as a whole, by key; ``exported_at`` is the latest
        declared export date (``features.horizon``). Created on the next write of an older store.
"""

from __future__ import annotations

import json
import os
import re
import shutil
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

METADATA_DDL = ("CREATE TABLE IF NOT EXISTS store_metadata (key VARCHAR PRIMARY KEY, "
                "value VARCHAR NOT NULL)")

_SUPPORT_DDL = (
    """CREATE TABLE IF NOT EXISTS attribute_roles (
        name VARCHAR PRIMARY KEY, role VARCHAR NOT NULL, kind VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ingest_log (
        batch_id VARCHAR PRIMARY KEY, ingested_at TIMESTAMP NOT NULL, files VARCHAR NOT NULL,
        summary JSON NOT NULL)""",
    METADATA_DDL,
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


SCORING_LEAD_COLUMNS = ("created_at", "source", "title", "company_size", "industry",
                        "country", "email_domain", "mql_at", "campaign", "attributes")
"""The lead fields a stored lead is scored from (by id in the API, by ``leadscore rescore``)."""


def lookup_path(store: str | Path) -> Path:
    """The store's lookup snapshot: leads and activities for scoring by id (``publish_lookup``)."""
    store = Path(store)
    return store.with_name(store.name + ".lookup")


def publish_lookup(con: duckdb.DuckDBPyConnection, store: str | Path) -> Path:
    """Write the lookup snapshot the API reads to score a stored lead by id, and swap it in.

    The API cannot hold the store open (a DuckDB file takes one writer and no readers beside it,
    so ingests and reviews would fail), and opening it per request costs 15 ms or more. So every
    ingest and every live merge publishes a copy of what scoring needs, activities sorted by lead
    so that a lookup reads one row group; it replaces the previous snapshot by a rename, which an
    API worker holding the old file open notices and follows (``LeadLookup``).
    """
    final = lookup_path(store)
    tmp = final.with_name(final.name + f".{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    con.execute(f"ATTACH '{tmp}' AS lookup_snapshot")
    try:
        con.execute("CREATE TABLE lookup_snapshot.leads AS SELECT lead_id, "
                    f"{', '.join(SCORING_LEAD_COLUMNS)} FROM leads ORDER BY lead_id")
        con.execute("CREATE TABLE lookup_snapshot.activities AS SELECT lead_id, activity_type, "
                    "occurred_at FROM activities ORDER BY lead_id, occurred_at")
    finally:
        con.execute("DETACH lookup_snapshot")
    os.replace(tmp, final)
    return final


class LeadLookup:
    """A worker's read-only view of the lookup snapshot, reopened when a new one is published."""

    def __init__(self, store: str | Path) -> None:
        self.path = lookup_path(store)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._inode: int | None = None

    def _connection(self) -> duckdb.DuckDBPyConnection | None:
        try:
            inode = self.path.stat().st_ino
        except OSError:
            return None
        if inode != self._inode:
            if self._con is not None:
                self._con.close()
            self._con, self._inode = None, None
            try:
                self._con, self._inode = duckdb.connect(str(self.path), read_only=True), inode
            except duckdb.Error:
                return None
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def leads(self, lead_ids: Sequence[str]
              ) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Each stored lead's fields (set ones) and activities, by lead id; empty without a
        snapshot."""
        con = self._connection()
        if con is None:
            return {}
        ids = list(dict.fromkeys(lead_ids))
        # one id (the usual by-id request) is an equality, the cheapest filter DuckDB has
        where, param = (("lead_id = ?", ids[0]) if len(ids) == 1
                        else ("list_contains(?::VARCHAR[], lead_id)", ids))
        out: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
        cursor = con.cursor()  # one per call: a connection is not shared between threads
        try:
            for lead_id, *values in cursor.execute(
                    f"SELECT lead_id, {', '.join(SCORING_LEAD_COLUMNS)} FROM leads WHERE {where}",
                    [param]).fetchall():
                fields = {k: v for k, v in zip(SCORING_LEAD_COLUMNS, values, strict=True)
                          if v is not None}
                if isinstance(fields.get("attributes"), str):
                    fields["attributes"] = json.loads(fields["attributes"])
                out[lead_id] = (fields, [])
            for lead_id, activity_type, occurred_at in cursor.execute(
                    f"SELECT lead_id, activity_type, occurred_at FROM activities WHERE {where}",
                    [param]).fetchall():
                out.setdefault(lead_id, ({}, []))[1].append(
                    {"activity_type": activity_type, "occurred_at": occurred_at})
        except duckdb.Error:
            return {}
        finally:
            cursor.close()
        return out


def duckdb_temp(store: Path) -> Path:
    """Where DuckDB spills a large batch (its default temp folder for a store file)."""
    return store.with_name(store.name + ".tmp")


def remove_new_store(store: Path, created: list[Path], temp_existed: bool) -> None:
    """A failed first batch leaves nothing behind: no store, not even an empty one, and no folder
    that the batch created (a folder that was there, and anything else in it, stays)."""
    lookup = lookup_path(store)
    for leftover in (store, store.with_name(store.name + ".wal"), lookup,
                     lookup.with_name(f"{lookup.name}.{os.getpid()}.tmp")):
        leftover.unlink(missing_ok=True)
    if not temp_existed:
        shutil.rmtree(duckdb_temp(store), ignore_errors=True)
    for folder in created:  # deepest first; one that is not empty is someone else's now
        try:
            folder.rmdir()
        except OSError:
            break
