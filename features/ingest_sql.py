"""The SQL that reads one export column into the store's form, and the unit ingestion works on.

Ingestion never loops over rows in Python: every export file is registered with DuckDB as an
all-text relation, and the expressions below clean, normalise and type a whole column at once.

Rules (documented in docs/ingestion.md):
    clean       trim whitespace; a placeholder ("", Select, N/A, ... case-insensitive) is NULL
    code        status, reason_code, activity_type, stage: lower snake_case ("Wrong Title" ->
                "wrong_title")
    timestamp   ISO 8601 (a "Z" or offset is converted to UTC), or a common export format such as
                03/01/2026 14:05 (month first), in the scoring paths' years (2000..2199,
                ``features.timestamps``); stored as naive UTC
    e-mail      only the domain is kept: the lower-cased domain after the last "@"
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from features.contract import INTEGER, NUMBER, PLACEHOLDERS, TEXT, TIMESTAMP, Table
from features.fit import DOMAIN_AFTER_AT
from features.timestamps import EARLIEST, LATEST

# Columns holding codes that label and feature code compare exactly.
CODE_COLUMNS = frozenset({"status", "reason_code", "activity_type", "stage"})

# Formats tried after ISO 8601. Slashed dates are read month first (the US CRM default). A
# two-digit year (%y) is tried before %Y, which would read "16" as the year 16.
TIMESTAMP_FORMATS = (
    "%m/%d/%y %H:%M:%S",
    "%m/%d/%y %H:%M",
    "%m/%d/%y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d.%m.%y %H:%M:%S",
    "%d.%m.%y %H:%M",
    "%d.%m.%y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)

# Something that reads as an e-mail address: never stored outside the `email` column.
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"

_WHITESPACE = " \t\r\n\u00a0"
_EARLIEST = f"TIMESTAMP '{EARLIEST:%Y-%m-%d}'"
_LATEST = f"TIMESTAMP '{LATEST:%Y-%m-%d}'"


def ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def printable(value: object) -> str:
    """A value quoted for an error message; one that holds an e-mail address is never shown."""
    text = str(value)
    if re.search(r"[^@\s]+@[^@\s]+", text):
        return "(a value holding an e-mail address)"
    return repr(text if len(text) <= 60 else text[:57] + "...")


def trimmed(expr: str) -> str:
    """``expr`` without surrounding whitespace (only strings that have some are copied).

    Plain comparisons, not IN lists: DuckDB plans a constant IN list as a join over every row.
    """
    first, last = f"ord({expr})", f"ord(({expr})[-1])"
    edge = "({c} <= 32 OR {c} = 160)"
    return (f"(CASE WHEN {edge.format(c=first)} OR {edge.format(c=last)} "
            f"THEN trim({expr}, {literal(_WHITESPACE)}) ELSE {expr} END)")


def unplaceheld(trimmed_expr: str) -> str:
    """Trimmed text, NULL for a placeholder (only short strings are compared)."""
    longest = max(len(p.encode()) for p in PLACEHOLDERS)
    pattern = "(?i)" + "|".join(re.escape(p) for p in sorted(PLACEHOLDERS))
    return (f"(CASE WHEN strlen({trimmed_expr}) <= {longest} AND regexp_full_match("
            f"{trimmed_expr}, {literal(pattern)}) THEN NULL ELSE {trimmed_expr} END)")


def blank_only(trimmed_expr: str) -> str:
    """Trimmed text, NULL only when empty: for a v2 mapping, which states its missing values."""
    return f"NULLIF({trimmed_expr}, '')"


def clean(expr: str) -> str:
    """Trimmed text, NULL for a missing value or a placeholder, as one expression.

    Ingestion computes the same in two projections (``trimmed``, then ``unplaceheld``) so that a
    large column is trimmed once; this form is for small lookups.
    """
    return unplaceheld(trimmed(f"CAST({expr} AS VARCHAR)"))


def code(clean_expr: str) -> str:
    """A cleaned value as a lower snake_case code."""
    slow = f"NULLIF(trim(regexp_replace(lower({clean_expr}), '[^a-z0-9]+', '_', 'g'), '_'), '')"
    # most exports already write codes: those pass through without a rewrite
    return (f"(CASE WHEN regexp_full_match({clean_expr}, '[a-z0-9]+(_[a-z0-9]+)*') "
            f"THEN {clean_expr} ELSE {slow} END)")


def email_domain(clean_expr: str) -> str:
    """The domain of an e-mail address (a bare domain passes through), lower-cased: what
    ``features.fit.email_domain`` reads, by the same pattern ("Jane <jane@acme.io>": acme.io)."""
    pattern = literal(DOMAIN_AFTER_AT)
    domain = (f"CASE WHEN contains({clean_expr}, '@') THEN regexp_extract({clean_expr}, "
              f"{pattern}, 1) ELSE {clean_expr} END")
    return f"NULLIF(lower(trim(trim({domain}), '.')), '')"


def iso_cast(expr: str, kind: str = "TIMESTAMPTZ") -> str:
    """``expr`` cast to a timestamp where it is ISO 8601, else NULL. DuckDB's own cast also takes
    a two-digit first field as the year (20-10-16 reads 0020-10-16), so the value must start with
    a four-digit year: a spreadsheet's day-month-year is then left to the formats. An offset
    after a space (Rails' "2025-07-01 09:00:00 +0530", Freshsales' exports) reads as written
    without it, which DuckDB's cast refuses."""
    joined = f"regexp_replace({expr}, ' ([+-][0-9]{{2}}:?[0-9]{{2}})$', '\\1')"
    return f"CASE WHEN regexp_matches({expr}, '^[0-9]{{4}}-') THEN TRY_CAST({joined} AS {kind}) END"


def timestamp(clean_expr: str) -> str:
    """A cleaned value parsed as a naive UTC timestamp; NULL when it is not one.

    Needs the session time zone set to UTC (``ingest`` sets it).
    """
    formats = ", ".join(literal(f) for f in TIMESTAMP_FORMATS)
    parsed = (
        f"coalesce(CAST({iso_cast(clean_expr)} AS TIMESTAMP), "
        f"try_strptime({clean_expr}, [{formats}]))"
    )
    # the scoring paths' years: what is stored is never refused when a lead is scored by id or
    # in batch, and a misread date (16/10/20 as the year 16) or a typo (1026) is no timestamp
    value = f"nullif(nullif({parsed}, 'infinity'::TIMESTAMP), '-infinity'::TIMESTAMP)"
    return f"CASE WHEN {value} >= {_EARLIEST} AND {value} < {_LATEST} THEN {value} END"


def integer(clean_expr: str) -> str:
    """A cleaned value as a whole number ("3" and "3.0" both read 3); NULL when it is not one."""
    whole = f"regexp_full_match({clean_expr}, '[+-]?[0-9]+(\\.0*)?')"
    return f"(CASE WHEN {whole} THEN TRY_CAST({clean_expr} AS BIGINT) END)"


def number(clean_expr: str) -> str:
    """A cleaned value as a finite number; NULL when it is not one."""
    parsed = f"TRY_CAST({clean_expr} AS DOUBLE)"
    return f"nullif(nullif(nullif({parsed}, 'inf'::DOUBLE), '-inf'::DOUBLE), 'nan'::DOUBLE)"


def flag_number(clean_expr: str) -> str:
    """A numeric attribute: a number, or yes/no and true/false read as 1/0."""
    lowered = f"lower({clean_expr})"
    return (
        f"(CASE WHEN regexp_full_match({lowered}, 'yes|true|y') THEN 1.0 "
        f"WHEN regexp_full_match({lowered}, 'no|false|n') THEN 0.0 "
        f"ELSE {number(clean_expr)} END)"
    )


def typed(table: Table, column: str, clean_expr: str) -> str:
    """The store value of one contract column from its cleaned text."""
    kind = table.types[column]
    if kind == TIMESTAMP:
        return timestamp(clean_expr)
    if kind == INTEGER:
        return integer(clean_expr)
    if kind == NUMBER:
        return number(clean_expr)
    if column in CODE_COLUMNS:
        return code(clean_expr)
    if column == "email_domain":
        return email_domain(clean_expr)
    assert kind == TEXT, kind
    return clean_expr


@dataclass(frozen=True)
class ExportFile:
    """One export file, read as text and registered with DuckDB under ``view``.

    Attributes:
        path: the file as the user named it.
        view: the DuckDB relation holding its rows (every column text, plus ``__row``, the 0-based
            data row).
        headers: the column names as written in the file.
        rows: the number of data rows.
        is_csv: CSV rows are reported by line (the header is line 1), Parquet rows by number.
        sheet: for a workbook, the sheet read: its rows are reported by the row number Excel
            shows (``__row`` + 2).
    """

    path: Path
    view: str
    headers: tuple[str, ...]
    rows: int
    is_csv: bool
    read_note: str | None = None  # how a v2 mapping read it (delimiter, encoding), for the report
    skip_note: str | None = None  # lines passed over (a repeated header row), for the report
    sheet: str | None = None

    def where(self, row: int) -> str:
        """Where data row ``row`` (0-based) sits in the file, for an error message."""
        if self.sheet is not None:
            return f"{self.path.name} (sheet {self.sheet!r}) row {row + 2}"
        if self.is_csv:
            return f"{self.path.name} line {row + 2}"
        return f"{self.path.name} row {row + 1}"

    def lines(self, rows: list[int]) -> str:
        word = "lines" if self.is_csv else "rows"
        shift = 2 if self.is_csv or self.sheet is not None else 1
        name = self.path.name if self.sheet is None else f"{self.path.name} (sheet {self.sheet!r})"
        return f"{name} {word} " + " and ".join(str(r + shift) for r in rows)


@dataclass(frozen=True)
class Attribute:
    """An extra lead column kept in ``leads.attributes`` under its export name."""

    name: str
    expr: str  # its cleaned text, as SQL over the part's source
    role: str  # fit, intent, post_outcome or ignore
    kind: str  # categorical or numeric
    label: str  # the column as the user knows it, for messages


@dataclass
class Part:
    """One contract table's rows from one export file, as SQL over that file.

    Attributes:
        table: the contract table the rows go to.
        export: the file they come from (named, with its line, in every error).
        source: a relation (view name or parenthesised query) with ``__row`` and the columns
            ``exprs`` read.
        exprs: contract column -> its cleaned text as SQL over ``source``; absent columns are NULL.
        labels: contract column -> how to name it in an error (the export's own column name).
        attributes: extra lead columns (leads only).
        roles_from_mapping: a mapping declared the attributes' roles, so they replace stored ones;
            otherwise only attributes the store does not know yet are recorded (as ``ignore``).
        rows_read: rows this part read (a mapped export reads its disposition rows from its leads).
        notes: lines for the report (dropped personal columns, ignored columns).
        default_missing: read the default placeholders (``contract.PLACEHOLDERS``) as missing;
            False for a v2 mapping, which states its missing values and has applied them.
    """

    table: Table
    export: ExportFile
    source: str
    exprs: dict[str, str]
    labels: dict[str, str]
    attributes: list[Attribute] = field(default_factory=list)
    roles_from_mapping: bool = False
    rows_read: int = 0
    notes: list[str] = field(default_factory=list)
    default_missing: bool = True  # False: a v2 mapping already made its stated values missing
    raw_exprs: dict[str, str] | None = None  # label -> raw text, where exprs are cleaned already
    # a verdict or outcome dated by the mapping, created_at + this many days, not by the export
    after_days: float | None = None

    def label(self, column: str) -> str:
        return self.labels.get(column, column)
