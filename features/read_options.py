"""How a v2 mapping reads a file: delimiter, encoding, decimal mark, thousands separator, quote
character, missing values, date format and a workbook's sheet (``options:`` of the mapping, a
file, or a column)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from features.mapping import _fail

ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8-sig", "latin-1": "latin-1",
             "latin1": "latin-1", "iso-8859-1": "latin-1", "cp1252": "cp1252",
             "windows-1252": "cp1252", "utf-16": "utf-16", "utf16": "utf-16"}
OPTION_KEYS = frozenset({"delimiter", "encoding", "decimal", "thousands", "quote", "missing",
                          "format", "day_first", "sheet"})
THOUSANDS = (",", ".", " ", "'")
"""Thousands separators a number may group its digits with ($1,200,000.00; 1.200.000,00; 1'200)."""


@dataclass(frozen=True)
class ReadOptions:
    """How a file is read. ``delimiter`` None: sniffed from the file's first lines. ``sheet``
    None: a workbook's first sheet."""

    delimiter: str | None = None
    encoding: str = "utf-8"
    decimal: str = "."
    thousands: str | None = None
    quote: str = '"'
    missing: tuple[str, ...] = ("",)
    date_format: str | None = None
    day_first: bool | None = None
    sheet: str | None = None


def parse_options(path: Path, where: str, raw: object, base: ReadOptions) -> ReadOptions:
    if not isinstance(raw, dict):
        raise _fail(path, f"{where} must be a mapping of read options")
    unknown = sorted(set(raw) - OPTION_KEYS)
    if unknown:
        raise _fail(path, f"{where} has unknown key(s) {', '.join(unknown)}; allowed: "
                          f"{', '.join(sorted(OPTION_KEYS))}")
    values = dict(vars(base))
    if "delimiter" in raw:
        delimiter = _unescape(raw["delimiter"])
        if delimiter in ("auto", ""):
            delimiter = None
        elif len(delimiter) != 1:
            raise _fail(path, f"{where}: delimiter must be one character (or auto), found "
                              f"{raw['delimiter']!r}")
        values["delimiter"] = delimiter
    if "encoding" in raw:
        encoding = ENCODINGS.get(str(raw["encoding"]).strip().lower())
        if encoding is None:
            raise _fail(path, f"{where}: encoding {raw['encoding']!r} is not supported; use "
                              "utf-8, utf-8-sig, utf-16, latin-1 or cp1252")
        values["encoding"] = encoding
    if "decimal" in raw:
        if raw["decimal"] not in (".", ","):
            raise _fail(path, f"{where}: decimal must be \".\" or \",\"")
        values["decimal"] = raw["decimal"]
    if "thousands" in raw:
        if raw["thousands"] not in THOUSANDS:
            raise _fail(path, f"{where}: thousands must be one of \",\" \".\" \" \" \"'\" (the "
                              "character grouping a number's digits: 1,200,000.00)")
        values["thousands"] = raw["thousands"]
    if "quote" in raw:
        if len(str(raw["quote"])) != 1:
            raise _fail(path, f"{where}: quote must be one character")
        values["quote"] = str(raw["quote"])
    if "missing" in raw:
        values["missing"] = _missing(path, where, raw["missing"])
    if "sheet" in raw:
        if not isinstance(raw["sheet"], str | int) or not str(raw["sheet"]).strip():
            raise _fail(path, f"{where}: sheet must be a sheet's name, e.g. sheet: Leads")
        values["sheet"] = str(raw["sheet"])
    if values["thousands"] is not None and values["thousands"] == values["decimal"]:
        raise _fail(path, f"{where}: thousands and decimal are both {values['decimal']!r}; a "
                          "number groups its digits with one and marks its fraction with the other")
    values.update(_dateparse_options(path, where, raw))
    return ReadOptions(**values)


def _unescape(value: object) -> str:
    text = str(value)
    return {"\\t": "\t", "tab": "\t"}.get(text, text)


def _missing(path: Path, where: str, raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise _fail(path, f"{where}: missing must be a list of values, e.g. "
                          'missing: ["", "Select"]')
    return tuple(dict.fromkeys(["", *(v.strip() for v in raw)]))


def _dateparse_options(path: Path, where: str, raw: dict) -> dict:
    out: dict = {}
    if "format" in raw:
        fmt = str(raw["format"])
        if "%" not in fmt:
            raise _fail(path, f"{where}: format {fmt!r} is not a strptime format; write it like "
                              '"%d-%m-%Y"')
        out["date_format"] = fmt
    if "day_first" in raw:
        flag = str(raw["day_first"]).strip().lower()
        if flag not in ("true", "false", "yes", "no"):
            raise _fail(path, f"{where}: day_first must be true or false")
        out["day_first"] = flag in ("true", "yes")
    if out.get("date_format") and out.get("day_first") is not None:
        raise _fail(path, f"{where}: give format or day_first, not both")
    return out
