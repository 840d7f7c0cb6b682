"""Finding and reading export files: CSV (optionally gzipped), Parquet, JSON Lines or an Excel
workbook's sheet, every column as text. Which contract table a file is, and which of its columns
go where: ``features.contract_files``.

Values are read as text and typed later, column by column, so a bad value can be named by file,
line and column. Nothing here prints a value from the file: errors name positions only.
"""

from __future__ import annotations

import codecs
import csv
import gzip
from pathlib import Path
from typing import Protocol

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from features.csv_lines import (
    FOOTER_NOTE,
    ROW,
    _open_text,
    data_rows,
    excel_sep,
    refuse_repeated_names,
    refuse_totals_row,
    short_lines,
    without_repeated_headers,
)
from features.ingest_sql import ExportFile
from features.json_lines import (
    JSON_SUFFIXES,
    JSONL_SUFFIXES,
    read_json_document,
    read_json_lines,
)
from features.read_workbook import WORKBOOK_SUFFIXES, read_workbook
from leadscore.errors import LeadscoreError

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")
TAB_SUFFIXES = (".tsv", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")


def data_suffix(path: Path) -> str | None:
    """The export suffix of ``path`` (".csv", ".csv.gz", ".parquet", ".pq", ".jsonl", ".xlsx",
    ...), or None."""
    name = path.name.lower()
    for suffix in CSV_SUFFIXES + PARQUET_SUFFIXES + JSONL_SUFFIXES + JSON_SUFFIXES + \
            WORKBOOK_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return None


def _other_format(path: Path) -> str | None:
    """How to turn a spreadsheet or text export into a file leadscore reads, or None."""
    name = path.name.lower()
    if name.endswith(".xls"):
        return ("a legacy Excel 97-2003 workbook (.xls) is not read: open it in Excel and save "
                "it as Excel Workbook (.xlsx) or CSV UTF-8, and re-run with that file.")
    if name.endswith((".xlsb", ".ods", ".numbers")):
        return ("this spreadsheet format is not read: save the sheet as Excel Workbook (.xlsx) "
                "or CSV UTF-8, and re-run with that file.")
    if name.endswith(".txt"):
        return ("a .txt file is not read: if it is Excel's \"Unicode Text\" save (tab-separated), "
                "rename it to .tsv; else save the sheet as CSV UTF-8; and re-run.")
    return None


def stem(path: Path) -> str:
    """The file name without its export suffix, lower-cased: "Leads.csv.gz" -> "leads"."""
    suffix = data_suffix(path) or path.suffix
    return path.name[: len(path.name) - len(suffix)].strip().lower()


def discover(paths: list[Path]) -> list[Path]:
    """The export files named by ``paths``: files as given, folders expanded (not recursively).

    A folder contributes its CSV, Parquet, JSON Lines and .xlsx files in name order; other files
    in it (a README, hidden files, the ``~$`` lock file Excel keeps beside an open workbook) are
    passed over.

    Raises:
        LeadscoreError: for a path that does not exist, a file that is not CSV, Parquet, JSON
            Lines or .xlsx, or when nothing is left to ingest.
    """
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir()
                if p.is_file() and not p.name.startswith((".", "~$")) and data_suffix(p)
            )
            if not found:
                others = sorted(p.name for p in path.iterdir()
                                if p.is_file() and _other_format(p) is not None)
                held = f" (it holds {', '.join(others[:5])})" if others else ""
                raise LeadscoreError(
                    f"Folder {path} holds no CSV, Parquet, JSON (Lines) or .xlsx files{held}: "
                    "point at "
                    "the export's folder or its files"
                    + (f"; {_other_format(path / others[0])}" if others else ".")
                )
            files.extend(found)
        elif path.is_file():
            if data_suffix(path) is None:
                raise LeadscoreError(
                    f"{path} is not CSV, Parquet, JSON (Lines) or .xlsx: "
                    f"{_other_format(path) or 'export the table as .csv or .parquet and re-run.'}"
                )
            files.append(path)
        else:
            raise LeadscoreError(f"{path} does not exist: check the path and re-run.")
    unique: list[Path] = []
    for path in files:
        if path.resolve() not in {p.resolve() for p in unique}:
            unique.append(path)
    return unique


def read_export(
    con: duckdb.DuckDBPyConnection, path: Path, view: str, options: CsvOptions | None = None,
    sheet: str | None = None,
) -> ExportFile:
    """Read one export file as text and register it with ``con`` as ``view``.

    ``options`` (a mapping v2's read options) set the CSV delimiter (None: sniffed), encoding and
    quote character, and a workbook's sheet; without them a CSV file is comma-separated UTF-8, as
    before. ``sheet`` (``--sheet``) names the sheet of a workbook whose options name none; else
    the first sheet is read.

    Raises:
        LeadscoreError: when the file is empty, malformed, not in its encoding, or repeats a
            column name.
    """
    suffix = data_suffix(path)
    is_csv = suffix in CSV_SUFFIXES
    note = None
    # a .tsv file is tab-separated by its name, where a CSV is comma-separated unless a v2
    # mapping says (or sniffs) otherwise
    delimiter, encoding, quote = ("\t" if suffix in TAB_SUFFIXES else ","), "utf-8", '"'
    if is_csv and options is not None:
        encoding, quote = text_encoding(path, options.encoding), options.quote
        delimiter = options.delimiter or sniff_delimiter(path, encoding)
        how = "sniffed" if options.delimiter is None else "as the mapping says"
        note = (f"{path.name}: delimiter {delimiter!r} ({how}), encoding {encoding}")
        table = _read_csv(path, delimiter, encoding, options.quote)
    elif suffix in JSONL_SUFFIXES:
        table = read_json_lines(path)
    elif suffix in JSON_SUFFIXES:
        table = read_json_document(path)
    elif suffix in WORKBOOK_SUFFIXES:
        table, sheet, note = read_workbook(path, getattr(options, "sheet", None) or sheet)
    elif is_csv:
        encoding = text_encoding(path)
        table = _read_csv(path, delimiter, encoding)
    else:
        table = _read_parquet(path)
    headers = tuple(table.column_names)
    refuse_repeated_names(path, headers[:-1] if suffix in WORKBOOK_SUFFIXES else headers)
    workbook = suffix in WORKBOOK_SUFFIXES
    if workbook:  # its own __row: the sheet's row numbers, blank rows counted
        headers = headers[:-1]
    else:
        rows = (data_rows(path, delimiter, encoding, quote, table.num_rows) if is_csv
                else np.arange(table.num_rows, dtype=np.int64))
        table = table.append_column(ROW, pa.array(rows))
    repeated = None
    if is_csv or workbook:
        unit = "row" if workbook else "line"
        table = without_empty_rows(table, headers)
        table, repeated = without_repeated_headers(path, table, headers, unit)
        refuse_totals_row(path, table, headers, unit)
        footer = (table.schema.metadata or {}).get(FOOTER_NOTE.encode())
        repeated = "; ".join(n for n in (repeated, footer and footer.decode()) if n) or None
    con.register(view, table)
    return ExportFile(path=path, view=view, headers=headers, rows=table.num_rows, is_csv=is_csv,
                      read_note=note, skip_note=repeated, sheet=sheet if workbook else None)


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def text_encoding(path: Path, encoding: str = "utf-8") -> str:
    """``"utf-16"`` for a text file that starts with a UTF-16 byte-order mark (Excel's "Unicode
    Text" save, many Windows tools' CSV), whatever encoding was stated or assumed: the mark says
    so, and read as UTF-8 or cp1252 every other byte is a NUL; else ``encoding``."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            start = handle.read(2)
    except (OSError, EOFError):
        return encoding
    return "utf-16" if start in _UTF16_BOMS else encoding


def without_empty_rows(table: pa.Table, headers: tuple[str, ...]) -> pa.Table:
    """``table`` without the rows whose every value is blank: the delimiters-only lines
    (``,,,,``) a spreadsheet saves for the formatted but empty rows under its data. They are no
    lead (a workbook's blank rows are passed over the same way), where read as one they made every
    column part-blank and stopped ingest at a lead without an id or a date."""
    if not headers or table.num_rows == 0:
        return table
    filled = None
    for name in headers:
        column = pc.fill_null(pc.utf8_trim_whitespace(table[name]), "")
        some = pc.not_equal(column, "")
        filled = some if filled is None else pc.or_(filled, some)
    return table if pc.all(filled).as_py() else table.filter(filled)


def rows_only(path: Path, table: pa.Table, unit: str = "line", delimiter: str = ",",
              encoding: str = "utf-8") -> pa.Table:
    """A CSV file's or a workbook sheet's rows as ``leadscore inspect`` profiles them, read as
    ingest reads them: without the rows that repeat the header, and refused when the last row
    is a totals row (profiled, its "Total" made the id column a number column, and ingest then
    refused what the draft had been written from). A CSV's ``table`` has no ``__row`` yet."""
    if ROW not in table.column_names:
        lines = data_rows(path, delimiter, encoding, '"', table.num_rows)
        table = table.append_column(ROW, pa.array(lines))
    headers = tuple(name for name in table.column_names if name != ROW)
    table = without_repeated_headers(path, without_empty_rows(table, headers), headers, unit)[0]
    refuse_totals_row(path, table, headers, unit)
    return table.drop_columns(ROW)


class CsvOptions(Protocol):
    delimiter: str | None
    encoding: str
    quote: str
    sheet: str | None


def sniff_delimiter(path: Path, encoding: str = "utf-8") -> str:
    """The delimiter of a CSV file: the one a ``sep=`` first line names, else guessed from its
    first lines (comma when unsure)."""
    named = excel_sep(path, encoding)
    if named:
        return named
    try:
        with _open_text(path, encoding) as handle:
            sample = handle.read(65536)
    except UnicodeDecodeError:
        raise _not_utf8(path, encoding) from None
    lines = sample.splitlines()
    if len(sample) == 65536 and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    try:
        return csv.Sniffer().sniff("\n".join(lines[:200]), delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _csv_header(path: Path, delimiter: str = ",", encoding: str = "utf-8",
                quote: str = '"') -> list[str]:
    try:
        with _open_text(path, encoding) as handle:
            if excel_sep(path, encoding):
                handle.readline()  # the sep= line above the header
            # the reader, not one line: a quoted name may hold a line break (a spreadsheet's
            # wrapped header cell, "Created<newline>Date")
            header = next(csv.reader(handle, delimiter=delimiter, quotechar=quote), None)
    except UnicodeDecodeError:
        raise _not_utf8(path, encoding) from None
    if not header or not any(h.strip() for h in header):
        raise LeadscoreError(
            f"{path.name} is empty or has no header line: export it with column names in "
            "the first line and re-run."
        )
    return header


def _read_csv(path: Path, delimiter: str = ",", encoding: str = "utf-8",
              quote: str = '"') -> pa.Table:
    named = excel_sep(path, encoding)
    if named is not None and named != delimiter:
        raise LeadscoreError(
            f"{path.name} starts with sep={named} (a line for Excel): it is {named!r}-delimited, "
            f"not {delimiter!r}; use a v2 mapping (leadscore_mapping: 2), whose delimiter is "
            "sniffed or set with delimiter:, and re-run."
        )
    header = _csv_header(path, delimiter, encoding, quote)
    if len(header) == 1 and delimiter == ",":
        others = [d for d in ";\t|" if d in header[0]]
        if others:
            raise LeadscoreError(
                f"{path.name} reads as one column although its header holds {others[0]!r}: it "
                f"looks {others[0]!r}-delimited; use a v2 mapping (leadscore_mapping: 2), whose "
                "delimiter is sniffed or set with delimiter:, and re-run."
            )
    invalid: list[tuple[int | None, int, int]] = []

    def on_invalid(row) -> str:
        invalid.append((row.number, row.expected_columns, row.actual_columns))
        return "skip"

    convert = pa_csv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    # Row numbers of malformed rows are only known to a single-threaded reader.
    for threads in (True, False):
        invalid.clear()
        try:
            table = pa_csv.read_csv(
                path,
                read_options=pa_csv.ReadOptions(
                    use_threads=threads, encoding="utf8" if encoding == "utf-8" else encoding,
                    skip_rows=1 if named else 0,
                ),
                parse_options=pa_csv.ParseOptions(
                    delimiter=delimiter, quote_char=quote, newlines_in_values=True,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=convert,
            )
        except pa.ArrowInvalid as exc:
            if "Empty CSV" in str(exc):  # a header line without a line break: no rows
                return pa.table({name: pa.array([], pa.string()) for name in header})
            if "UTF8" in str(exc) or "UTF-8" in str(exc):
                raise _not_utf8(path, encoding) from None
            raise LeadscoreError(
                f"{path.name} is not a readable CSV file with delimiter {delimiter!r}: check its "
                "delimiter and header line, and re-run."
            ) from None
        except UnicodeDecodeError:
            raise _not_utf8(path, encoding) from None
        if not invalid or invalid[0][0] is not None:
            break
    if invalid:
        _, expected, actual = invalid[0]
        # a report's footer counting the rows read comes back as a note; else one sentence
        footer = short_lines(path, delimiter, encoding, quote, expected, actual, table.num_rows)
        return _drop_unnamed(path, table).replace_schema_metadata({FOOTER_NOTE: footer})
    return _drop_unnamed(path, table)


def _drop_unnamed(path: Path, table: pa.Table) -> pa.Table:
    """``table`` without the unnamed, empty columns a trailing delimiter on every line makes
    (spreadsheets save them); an unnamed column that holds a value is an error."""
    keep = []
    for i, (name, column) in enumerate(zip(table.column_names, table.columns, strict=True)):
        if name.strip():
            keep.append(i)
            continue
        filled = pc.not_equal(pc.utf8_trim_whitespace(column), "")
        first = pc.index(filled, True).as_py()
        if first >= 0:
            raise LeadscoreError(
                f"{path.name}: column {i + 1} has no name in the header line but holds values "
                f"(line {first + 2}); name it in the header (or remove it) and re-run."
            )
    return table.select(keep) if len(keep) < table.num_columns else table


def _read_parquet(path: Path) -> pa.Table:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError):
        raise LeadscoreError(
            f"{path.name} is not a readable Parquet file: export it again and re-run."
        ) from None
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        try:
            columns.append(column.cast(pa.string()))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise LeadscoreError(
                f"{path.name}, column {name}: nested values cannot be read; export it as "
                "plain text or numbers and re-run."
            ) from None
    return pa.table(columns, names=table.column_names)


class NotUtf8(LeadscoreError):
    """A file read as UTF-8 that is not: a v2 mapping's reader names the option to state."""


def _not_utf8(path: Path, encoding: str = "utf-8") -> LeadscoreError:
    if encoding.startswith("utf"):
        return NotUtf8(
            f"{path.name} is not UTF-8 text: save it as UTF-8 CSV and re-run (`leadscore ingest` "
            "through a v2 mapping can instead state its encoding: latin-1 or cp1252; "
            "`leadscore score` reads UTF-8 only)."
        )
    return LeadscoreError(f"{path.name} is not {encoding} text: state its encoding and re-run.")
