"""Reading an Excel workbook export (.xlsx, .xlsm: HubSpot's and Salesforce's default) into the
same all-text table a CSV file becomes.

One sheet is one table: the first sheet unless one is named (``--sheet`` on the command line, or
``sheet:`` in a v2 mapping's file options). The first non-empty row is the header; blank rows
(between rows, or the formatted but empty rows a workbook often carries below its data) are
passed over. Every cell becomes text as a CSV saved from the workbook would hold it: a date cell
reads ``2026-03-01`` or ``2026-03-01T14:05:00`` (Excel stores no time zone: read as UTC, as any
timestamp without one), a whole number ``250``, TRUE / FALSE as Excel writes them; a date typed
as text stays text and goes through ingestion's date formats. A formula reads its last computed
value; a formula error (``#N/A``, ``#DIV/0!`` ...) reads as blank, and the report counts them.

Errors name the sheet's row as Excel numbers it (``__row`` holds it minus 2, so that an
``ExportFile``'s ``row + 2`` is that number). A title above the header (a report name, often a
merged cell, and the filters report exports write under it) is passed over, and the report says
which rows and where the column names were found. Nothing here prints a value from the file.
"""

from __future__ import annotations

import math
import warnings
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
from openpyxl.utils import get_column_letter

from features.csv_lines import ROW
from leadscore.errors import LeadscoreError

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
HEADER_ROW = "leadscore.header_row"
"""The table's schema metadata key holding the sheet row the column names were read from."""
TITLE_SCAN_ROWS = 30
"""How many rows below a one-value first row are looked at for a wider table (a title above)."""
EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
                          "#GETTING_DATA", "#SPILL!", "#CALC!"})
"""What a formula that failed leaves in its cell (openpyxl reads it as this text)."""
_ERROR = object()  # a formula error cell, read as blank and counted
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # a legacy .xls, or an .xlsx encrypted with a password
_ZIP_MAGIC = b"PK"


def read_workbook(path: Path, sheet: str | None = None) -> tuple[pa.Table, str, str | None]:
    """One sheet of the workbook at ``path`` as text columns plus ``__row``, the sheet's name,
    and a note for the report (the other sheets, not read; formula error cells), or None.

    Args:
        path: an .xlsx or .xlsm file.
        sheet: the sheet to read (exact name, or the same ignoring case); None: the first.

    Raises:
        LeadscoreError: for a file that is no readable workbook (damaged, password-protected, a
            legacy .xls renamed), an unknown or empty sheet, or an unnamed column that holds
            values.
    """
    _check_magic(path)
    # openpyxl warns about parts it does not read (no default style, data validation, ...),
    # which CRM workbooks often carry: nothing a user can act on, so not printed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _read(path, sheet)


def _read(path: Path, sheet: str | None) -> tuple[pa.Table, str, str | None]:
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises a dozen types on a damaged file
        raise _unreadable(path) from None
    try:
        worksheet = _worksheet(path, book, sheet)
        name = worksheet.title
        # a writer that records a wrong sheet size would otherwise cut the rows read to it
        worksheet.reset_dimensions()
        try:
            rows = [(number, row) for number, row in
                    enumerate(map(_without_errors, worksheet.iter_rows(values_only=True)),
                              start=1)
                    if any(_filled(v) for v in row)]
        except Exception:  # noqa: BLE001 - as above: a damaged sheet, read lazily
            raise _unreadable(path) from None
    finally:
        book.close()
    where = f"{path.name} (sheet {name!r})"
    # a hidden sheet (Dynamics 365's "hiddenSheet" of field metadata) is none the user sees
    others = [s.title for s in book.worksheets
              if s.title != name and getattr(s, "sheet_state", "visible") == "visible"]
    if not rows:
        hint = (f"; choose another sheet with --sheet (its sheets: {', '.join(others[:10])})"
                if others else "")
        raise LeadscoreError(f"{where} is empty: export the rows with their column names in "
                             f"the first row{hint}, and re-run.")
    rows, title = _below_title(rows)
    (header_number, header), body = rows[0], rows[1:]
    body, notes_below = _above_notes(body, header)
    width = max(len(header), *(len(r) for _, r in body)) if body else len(header)
    names = [_header_text(header[i]) if i < len(header) else "" for i in range(width)]
    keep = []
    for i, column in enumerate(names):
        if column:
            keep.append(i)
            continue
        filled = next((n for n, r in body if i < len(r) and _filled(r[i])), None)
        if filled is not None:
            raise LeadscoreError(
                f"{where} column {get_column_letter(i + 1)} has no name in the header row "
                f"(row {header_number}) but holds values (row {filled}); name it in the "
                "header (or remove it) and re-run."
            )
    # an empty cell is "", as in a CSV file read as text: every later rule is the CSV one
    arrays = [pa.array([(_text(r[i]) or "") if i < len(r) else "" for _, r in body], pa.string())
              for i in keep]
    arrays.append(pa.array([n - 2 for n, _ in body], pa.int64()))
    # a repeated column name is kept here and refused by the caller, as a CSV's is
    notes = [f"{path.name}: sheet {name!r} read, not {', '.join(repr(s) for s in others[:10])} "
             "(--sheet or a mapping's sheet: chooses)"] if others else []
    if title:
        notes.append(f"{path.name}: {title} above the column names (row {header_number}: a "
                     "title, a report's filters) passed over")
    if notes_below:
        notes.append(f"{path.name}: {notes_below} below the rows (one value each, after a blank "
                     "row: a report's totals and notes) passed over")
    errors = sum(1 for _, r in body for v in r if v is _ERROR)
    if errors:
        notes.append(f"{path.name}: {errors:,} formula error cell(s) (#N/A, #DIV/0!, ...) read "
                     "as blank")
    note = "; ".join(notes) or None
    table = pa.Table.from_arrays(arrays, names=[*(names[i] for i in keep), ROW],
                                 metadata={HEADER_ROW: str(header_number)})
    return table, name, note


def _check_magic(path: Path) -> None:
    try:
        with open(path, "rb") as handle:
            start = handle.read(4)
    except OSError:
        raise _unreadable(path) from None
    if start == _OLE_MAGIC:
        raise LeadscoreError(
            f"{path.name} is password-protected, or a legacy .xls workbook under an .xlsx name, "
            "and neither can be read: open it in Excel and save it as Excel Workbook (.xlsx) "
            "without a password (or as CSV UTF-8), and re-run."
        )
    if not start.startswith(_ZIP_MAGIC):
        raise _unreadable(path)


def _unreadable(path: Path) -> LeadscoreError:
    return LeadscoreError(
        f"{path.name} is not a readable Excel workbook (.xlsx): it may be damaged or cut short; "
        "export it again (or open it in Excel and save it as .xlsx or CSV UTF-8) and re-run."
    )


def _worksheet(path: Path, book: Any, sheet: str | None) -> Any:
    sheets = book.worksheets  # worksheets only: a chart sheet holds no rows
    if not sheets:
        raise LeadscoreError(f"{path.name} holds no worksheet: export the rows and re-run.")
    if sheet is None:
        return sheets[0]
    for wanted in (sheet, sheet.strip().casefold()):
        for candidate in sheets:
            title = candidate.title if wanted is sheet else candidate.title.strip().casefold()
            if title == wanted:
                return candidate
    raise LeadscoreError(
        f"{path.name} has no sheet {sheet!r}: its sheets are "
        f"{', '.join(repr(s.title) for s in sheets[:10])}; name one of them and re-run."
    )


def _below_title(rows: list[tuple[int, tuple]]) -> tuple[list[tuple[int, tuple]], str | None]:
    """The rows from the header on, and the rows above it ("row 1", "rows 1-2") or None. A
    one-value first row above rows with several values is a title (a report's name, often a
    merged cell, and the filters under it), not the header: the header is then the first row as
    wide as the widest of the rows scanned, since every column has a name where a value may be
    blank."""
    number, first = rows[0]
    if sum(1 for v in first if _filled(v)) != 1:
        return rows, None
    scanned = rows[:TITLE_SCAN_ROWS + 1]
    widths = [sum(1 for v in r if _filled(v)) for _, r in scanned]
    if max(widths) < 2:
        return rows, None
    at = widths.index(max(widths))
    header = scanned[at][0]
    return rows[at:], (f"row {number}" if number == header - 1 else f"rows {number}-{header - 1}")


def _above_notes(body: list[tuple[int, tuple]], header: tuple
                 ) -> tuple[list[tuple[int, tuple]], str | None]:
    """The rows above a report's footer, and the footer's rows ("rows 1508-1511") or None. A
    report export (Salesforce's formatted report) writes, after a blank row below its data,
    "Grand Total (1500 records)", a confidentiality and a copyright line: one value each, in a
    table of several columns. A row of one value right below the data (no blank row between)
    stays a row: ingest names what it lacks."""
    if sum(1 for v in header if _filled(v)) < 2:
        return body, None
    at = len(body)
    while at > 0 and sum(1 for v in body[at - 1][1] if _filled(v)) == 1:
        at -= 1
    if at == len(body) or at == 0 or body[at][0] == body[at - 1][0] + 1:
        return body, None
    first, last = body[at][0], body[-1][0]
    return body[:at], (f"row {first}" if first == last else f"rows {first}-{last}")


def _without_errors(row: tuple) -> tuple:
    """A row with each formula error (``#N/A``: a lookup that found nothing) as ``_ERROR``: it
    holds no value, and read as text it would be a category, or a date that is no date."""
    if not any(isinstance(v, str) and v in EXCEL_ERRORS for v in row):
        return row
    return tuple(_ERROR if isinstance(v, str) and v in EXCEL_ERRORS else v for v in row)


def _filled(value: Any) -> bool:
    return value is not None and value is not _ERROR and not (
        isinstance(value, str) and not value.strip())


def _header_text(value: Any) -> str:
    return "" if not _filled(value) else (_text(value) or "").strip()


def _text(value: Any) -> str | None:
    """A cell as the text a CSV saved from the workbook would hold."""
    if value is None or value is _ERROR:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        # 250.0 reads 250 (Excel shows it so); other numbers keep their shortest exact digits
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value.total_seconds())
    return str(value)
