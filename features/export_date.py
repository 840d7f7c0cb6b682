"""A declared export date: the day an export was taken, from ``leadscore ingest --exported-at`` or
the mapping's ``exported_at:`` key, checked and recorded in the store (``features.horizon`` reads
it back as the store's data horizon).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from features.horizon import EXPORTED_AT, declared_export, end_of, last_record
from features.mapping import FlatMapping, read_document
from features.mapping_v2 import MappingV2, load_any
from leadscore.errors import LeadscoreError

__all__ = ["declare_export", "load_mapping_declaring", "parse_exported_at"]


def parse_exported_at(value: object, where: str) -> date:
    """A declared export date (``YYYY-MM-DD``), not in the future.

    Raises:
        LeadscoreError: naming ``where`` (``--exported-at``, the mapping key) and the fix.
    """
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            raise LeadscoreError(
                f"{where} {value!r} is not a date: give the day the export was taken as "
                "YYYY-MM-DD, like 2026-10-01.") from None
    today = datetime.now(UTC).date()
    if day > today:
        raise LeadscoreError(
            f"{where} {day.isoformat()} is after today ({today.isoformat()}): an export cannot "
            "be taken in the future, so give the day it was taken.")
    return day


def load_mapping_declaring(path: str | Path) -> tuple[FlatMapping | MappingV2, date | None]:
    """A mapping file (v1 or v2), read by ``features.mapping_v2.load_any``, and the export date
    its ``exported_at:`` key declares (None without one).

    Raises:
        LeadscoreError: the mapping's own problems, or an ``exported_at`` that is not a date.
    """
    path = Path(path)
    mapping = load_any(path)
    doc = read_document(path)
    value = doc.get(EXPORTED_AT) if isinstance(doc, dict) else None
    if value is None:
        return mapping, None
    return mapping, parse_exported_at(value, f"Mapping {path}: exported_at")


def declare_export(con: duckdb.DuckDBPyConnection, day: date,
                   batch: list[tuple[str, str]]) -> str:
    """Record that the export whose dated columns are ``batch`` (``(staged relation, column)``
    pairs) was taken on ``day``; a store's declaration only moves forward. Returns the note the
    ingest prints.

    Raises:
        LeadscoreError: the batch records something after ``day``, which an export taken that
            day cannot hold.
    """
    latest = last_record(con, batch)
    if latest is not None and latest >= end_of(day):
        raise LeadscoreError(
            f"The export is declared taken on {day.isoformat()}, but it records something on "
            f"{latest.date().isoformat()}: give the day it was actually taken (that day or "
            "later), or leave the date out.")
    before = declared_export(con)
    if before is not None and before > day:
        return (f"export date {day.isoformat()} declared; the store keeps its later declared "
                f"export date {before.isoformat()} (it never moves back)")
    con.execute("INSERT OR REPLACE INTO store_metadata VALUES (?, ?)", [EXPORTED_AT,
                                                                        day.isoformat()])
    return (f"export date {day.isoformat()} declared: labels treat its outcomes as final up to "
            "that day")
