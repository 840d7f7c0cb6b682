"""A declared export date: the day an export was taken, from ``leadscore ingest --exported-at`` or
the mapping's ``exported_at:`` key, checked and recorded in the store (``features.horizon`` reads
it back as the store's data horizon).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from features.horizon import EXPORTED_AT, declared_export, end_of, last_record
from features.mapping import FlatMapping, read_document
from features.mapping_v2 import MappingV2, load_any
from leadscore.errors import LeadscoreError

__all__ = ["DATED", "EXPORT_TIME", "FROM_FILE_NAME", "date_in_name", "declare_export",
           "load_mapping_declaring", "names_day", "parse_exported_at", "undated"]

FROM_FILE_NAME = "from_file_name"
"""``exported_at: from_file_name``: each export's day is the date in its file's name, so one
mapping serves every week's export (``contacts-2026-02-09.csv``)."""

DATED = re.compile(r"(?<!\d)((19|20)\d{2}[-_.]?\d{2}[-_.]?\d{2}|\d{2}[-_.]\d{2}[-_.](19|20)\d{2})"
                   r"([ _T-]\d{2}[-_.]\d{2}([-_.]\d{2})?)?(?!\d)")
"""A date in an export's file name, year first (contacts-2024-06-30.csv) or last, with the time
that may follow it (Dynamics 365: "My Open Leads 30-11-2026 14-05-00.xlsx"): the next export has
another one."""


EXPORT_TIME = re.compile(r"(?<=report)1[5-9]\d{11}(?!\d)", re.IGNORECASE)
"""The export time in milliseconds that Salesforce names a report's CSV by
(report1764498000000.csv: 2025-11-30 10:20 UTC)."""


def undated(name: str, by: str = "*") -> str:
    """``name`` with its date (or a report's export time) replaced by ``by``: the name every
    week's export shares."""
    return EXPORT_TIME.sub(by, DATED.sub(by, name))


def date_in_name(name: str) -> date | None:
    """The date in a file's name when it reads one way only (year first, or a day above 12, or
    a Salesforce report's export time); None for none, or for one such as 05-06-2026 (May or
    June)."""
    found = DATED.search(name)
    if found is None:
        time = EXPORT_TIME.search(name)
        return datetime.fromtimestamp(int(time.group()) / 1000, UTC).date() if time else None
    digits = re.findall(r"\d+", found.group(1))
    if len(digits) == 1:  # 20261130: year first, as DATED reads it
        digits = [digits[0][:4], digits[0][4:6], digits[0][6:]]
    parts = [int(p) for p in digits]
    if parts[0] > 31:
        year, month, day = parts
    elif parts[0] > 12 >= parts[1]:
        day, month, year = parts
    elif parts[1] > 12 >= parts[0]:
        month, day, year = parts
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def names_day(files: list[Path], mapping: Path) -> date:
    """The day a batch was exported, from its files' names (``exported_at: from_file_name``):
    the latest date a name holds, as every file of it was taken by then.

    Raises:
        LeadscoreError: no file's name holds a date that reads one way.
    """
    days = [d for d in (date_in_name(f.name) for f in files) if d is not None]
    if not days:
        undated = ", ".join(f.name for f in files[:3]) + (" ..." if len(files) > 3 else "")
        raise LeadscoreError(
            f"Mapping {mapping}: exported_at: {FROM_FILE_NAME}, but the name of {undated} holds "
            "no date that reads one way (year first like contacts-2026-02-09.csv, or a day above "
            "12): rename the file with the day the export was taken, or give it with "
            "--exported-at YYYY-MM-DD, and re-run.")
    return parse_exported_at(max(days), f"The date in the name of {files[0].name}")


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


def load_mapping_declaring(path: str | Path) -> tuple[FlatMapping | MappingV2, date | str | None]:
    """A mapping file (v1 or v2), read by ``features.mapping_v2.load_any``, and the export date
    its ``exported_at:`` key declares (None without one; ``FROM_FILE_NAME`` where each export's
    file name holds it: ``names_day``).

    Raises:
        LeadscoreError: the mapping's own problems, or an ``exported_at`` that is not a date.
    """
    path = Path(path)
    mapping = load_any(path)
    doc = read_document(path)
    value = doc.get(EXPORTED_AT) if isinstance(doc, dict) else None
    if value is None:
        return mapping, None
    if str(value).strip() == FROM_FILE_NAME:
        return mapping, FROM_FILE_NAME
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
