"""What a column's values say, for ``leadscore inspect``: numbers as exports write them (decimal
commas 2,5; currency and percent signs $1,200,000.00, 12.5 %; digits grouped in thousands 1,200,
1.200 or 1'200), how well the column alone separates the outcome (``single_column_auc``), and
whether it may hold personal data (``personal``).

Each helper looks at a whole column: a column is read as numbers only when every filled value is
one in that spelling, so a category or an id that happens to hold a few such values is left as
it is. The draft then states how ingest reads them (``decimal: ","``, ``thousands: ","``); a v2
mapping drops a currency or percent sign in a numeric column always
(``features.export_v2._number_text``).
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features.contract import (
    CODE_VALUE,
    name_tokens,
    named_like_personal,
    named_personal_by_kind,
)
from features.ingest_sql import EMAIL_PATTERN

if TYPE_CHECKING:
    from features.inspect import Column

_COMMA_NUMBER = r"[+-]?\d+(,\d+)?"
UNITS = r"[$€£¥%]"
"""Signs around a number that are its unit, not part of it."""
WRITTEN_COMMA_DECIMAL = r"[+-]?[$€£¥]? ?\d[\d. ]*,\d+ ?[%$€£¥]?"
"""A number with a decimal comma, as written (2,5; 12,5 %; 1.200,50 €)."""


def decimal_commas(values: pd.Series) -> bool:
    """Whether every filled value is a number written with a decimal comma, at least one with
    a fraction (2,5), as spreadsheets in much of Europe save them."""
    filled = values[values != ""]
    return (not filled.empty and bool(filled.str.fullmatch(_COMMA_NUMBER).all())
            and bool(filled.str.contains(",", regex=False).any()))


NO_BREAK_SPACES = "[\u00a0\u202f\u2009]"
"""The no-break, narrow no-break and thin spaces that group a number's digits in French and
German spreadsheets (``1 200 000,50``): read as the space ``thousands: " "`` names."""


def written_numbers(values: pd.Series, decimal: str) -> tuple[pd.Series, str | None] | None:
    """``values`` as plain numbers (``1200000.00``) when every filled value is a number with a
    currency or percent sign or with digits grouped in thousands (at least one so), and the
    thousands separator found (None when no value groups its digits); else None.

    Only groups of three count (1,200,000), so a decimal comma (1,5) is never read as grouping.
    """
    # digits grouped by a no-break space (French and German Excel) are grouped by a space
    values = values.str.replace(NO_BREAK_SPACES, " ", regex=True)
    filled = values[values != ""]
    if filled.empty:
        return None
    unit = filled.str.contains(UNITS)
    bare = filled.str.replace(UNITS, "", regex=True).str.strip()
    plain = bare.str.fullmatch(rf"[+-]?\d+({re.escape(decimal)}\d+)?")
    for separator in ("," if decimal == "." else ".", " ", "'"):
        grouped = bare.str.fullmatch(rf"[+-]?\d{{1,3}}({re.escape(separator)}\d{{3}})+"
                                     rf"({re.escape(decimal)}\d+)?")
        if bool((plain | grouped).all()) and bool(grouped.any() or unit.any()):
            text = (values.str.replace(UNITS, "", regex=True).str.strip()
                    .str.replace(separator, "", regex=False))
            if decimal == ",":
                text = text.str.replace(",", ".", regex=False)
            return text, separator if grouped.any() else None
    return None


def _auc(score: np.ndarray, y: np.ndarray) -> float:
    ranks = pd.Series(score).rank(method="average").to_numpy()
    n1 = int(y.sum())
    n0 = len(y) - n1
    if not n1 or not n0:
        return 0.5
    auc = (ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
    return max(auc, 1 - auc)


def single_column_auc(values: pd.Series, y: np.ndarray, kind: str, seed: int = 0) -> float:
    """ROC-AUC of one column alone (either direction): numbers as they are, blanks at the median;
    categories target-encoded out of fold (5 folds), so memorising rows scores nothing."""
    if kind in ("numeric", "boolean") and kind != "boolean":
        number = pd.to_numeric(values, errors="coerce")
        return _auc(number.fillna(number.median()).to_numpy(), y)
    folds = np.random.default_rng(seed).integers(0, 5, len(values))
    score = np.zeros(len(values))
    prior = y.mean()
    for k in range(5):
        train = folds != k
        stats = pd.DataFrame({"v": values[train].to_numpy(), "y": y[train]}).groupby("v")["y"]
        rate = (stats.sum() + prior * 10) / (stats.count() + 10)
        score[~train] = values[~train].map(rate).fillna(prior).to_numpy()
    return _auc(score, y)


_PHONE = r"\+\d[\d ().-]{6,}\d|\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}"
"""A phone number: international (+44 20 7946 0958) or North American ((213) 555-4550)."""


def personal(name: str, kind: str, filled: pd.Series) -> bool:
    """Whether a column may hold personal data: by its name (a yes/no flag or a number named
    "Do Not Email" is not; a "contact" whose every value is a code such as "cellular" is not),
    or by its values (e-mail addresses or phone numbers under any name)."""
    if kind in ("boolean", "numeric", "date"):
        return False
    sample = filled.head(2000)
    if len(sample) and (sample.str.fullmatch(EMAIL_PATTERN).mean() > 0.5
                        or sample.str.fullmatch(_PHONE).mean() > 0.5):
        return True
    if named_personal_by_kind(name) and bool(sample.str.fullmatch(CODE_VALUE).all()):
        return False
    return named_like_personal(name)


NAMES_INSIDE = 0.5
"""A text column is personal when at least this share of its values holds a person's name."""
_WORD = r"[^\W\d_][^\W\d_'-]{2,}"
_PERSON = r"[^\W\d_a-z][^\W\d_]*(['-][^\W\d_]+)?( [^\W\d_a-z][^\W\d_]*(['-][^\W\d_]+)?){0,2}"


def names_inside(frames: list[tuple[pd.DataFrame, list[str], list[str]]]) -> set[tuple[int, str]]:
    """The (file index, column) pairs whose values mostly hold a name that a personal column
    of the export holds ("Call with Mia Lefèvre" beside First Name "Mia"): typed by people, so
    personal data under an innocent name. ``frames``: per file, its frame, its personal columns
    and its other text columns."""
    names: set[str] = set()
    for frame, personal_columns, _ in frames:
        for column in personal_columns:
            values = frame[column].head(5000)
            values = values[values != ""]
            # a column of people's names (Mia, Lefèvre, Olivia Nguyen), not a deal's name
            # ("Acme Corp - New Business") that its header calls Name
            if values.empty or values.str.fullmatch(_PERSON).mean() < 0.9:
                continue
            names |= {w.lower() for w in values.str.findall(_WORD).explode().dropna()}
    found = set()
    if not names:
        return found
    for index, (frame, _, others) in enumerate(frames):
        for column in others:
            sample = frame[column].head(2000)
            sample = sample[sample != ""]
            if sample.empty:
                continue
            holds = sample.str.findall(_WORD).map(lambda ws: any(w.lower() in names for w in ws))
            if holds.mean() >= NAMES_INSIDE:
                found.add((index, column))
    return found


def instants(values: pd.Series) -> pd.Series:
    """Dates and timestamps as UTC instants (naive ones read as UTC, as ingest stores them), so
    a column with offsets (Salesforce's ``...Z``) compares with a plain date column; each value is
    parsed on its own, since one column may mix a date with a date and time. A spreadsheet's date
    reads day first where the column says so (30.11.2026, or a first field above 12), as ingest
    reads it: month first, 05.12.2025 would be May and compare the wrong way round."""
    filled = values.where(values != "")
    iso = filled.str.match(r"\d{4}-", na=False)
    first = pd.to_numeric(filled.str.extract(r"^(\d{1,2})[/.-]\d{1,2}[/.-]")[0], errors="coerce")
    day_first = bool(filled.str.match(r"\d{1,2}\.\d{1,2}\.", na=False).any() or (first > 12).any())
    out = pd.to_datetime(filled.where(iso), errors="coerce", utc=True, format="mixed")
    other = pd.to_datetime(filled.where(~iso), errors="coerce", utc=True, format="mixed",
                           dayfirst=day_first)
    return out.fillna(other)


def named_for_mql(name: str) -> bool:
    """Whether ``name`` names the MQL moment (``MQL Date``, HubSpot's ``Became a Marketing
    Qualified Lead Date``): the moment a lead is scored, never the day of its outcome."""
    tokens = name_tokens(name)
    return "mql" in tokens or {"marketing", "qualified"} <= tokens


def named_with(name: str, words: frozenset[str]) -> bool:
    """Whether ``name`` has one of ``words`` as a word, or as the start or end of a joined
    lower-case word an API writes (HubSpot's ``lifecyclestage``, ``lastmodifieddate``,
    ``closedate``): a word of 4 letters or more, in a word of 8 or more."""
    tokens = name_tokens(name)
    return bool(tokens & words) or any(
        len(token) >= 8 and any(token.startswith(w) or token.endswith(w)
                                for w in words if len(w) >= 4)
        for token in tokens)


SENTINEL_SHARE = 0.10
SENTINEL_RATIO = 10


def sentinel_note(filled: pd.Series) -> str:
    """A note on a numeric column whose largest value stands for something else: on at least
    ``SENTINEL_SHARE`` of rows and over ``SENTINEL_RATIO`` times every other value (the bank
    export's ``pdays`` 999, "never contacted", beside 0-27 days); else "". A tree reads such a
    code as its own group; a linear baseline reads 999 as a very long time."""
    numbers = pd.to_numeric(filled, errors="coerce").dropna()
    if len(numbers) < 50:
        return ""
    top = numbers.max()
    rest = numbers[numbers != top]
    share = float((numbers == top).mean())
    if rest.empty or share < SENTINEL_SHARE or top <= SENTINEL_RATIO * max(rest.abs().max(), 1):
        return ""
    return (f"{top:g} on {share:.0%} of rows, over {SENTINEL_RATIO} times any other value (at "
            f"most {rest.max():g}): likely a code (such as 'never'), not an amount; list it in "
            "the column's missing: if it means unknown")


def quote_always(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def quote(text: str) -> str:
    """``text`` as a YAML scalar: plain where safe, else double-quoted."""
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9 _().-]*", text) and not text.endswith(" ") and \
            text.lower() not in ("yes", "no", "true", "false", "null", "on", "off", "y", "n"):
        return text
    return json.dumps(text, ensure_ascii=False)


NUMERIC_DATE = r"^(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}\b"


def date_order(frame: pd.DataFrame, names: list[str]) -> tuple[bool | None, bool]:
    """How the numeric dates (``1/11/2025``, ``13.01.2025``) of the columns ``names`` read:
    (day_first, undecided). ``day_first`` is True or False when some value of some column reads
    one way only (a first field above 12: day first; a second above 12: month first) and no
    column says the other way; None when no value tells or columns disagree. ``undecided``: a
    column of such dates none of whose own values tells. A later, smaller export (a week's, new
    leads to score) may hold only days up to 12: it then reads both ways, so the draft states the
    order the whole export showed."""
    ways, undecided = set(), False
    for name in names:
        parts = frame[name].str.extract(NUMERIC_DATE).apply(pd.to_numeric, errors="coerce")
        parts = parts.dropna()
        if parts.empty:
            continue
        day_first, month_first = bool((parts[0] > 12).any()), bool((parts[1] > 12).any())
        if day_first != month_first:
            ways.add(day_first)
        elif not day_first:
            undecided = True
    return (ways.pop() if len(ways) == 1 else None), undecided


def day_first_lines(frame: pd.DataFrame, names: list[str]) -> list[str]:
    """A draft's ``day_first:`` line for a file whose date columns ``names`` hold numeric dates,
    as the whole export showed them, so that a week's export or a file of new leads holding only
    days up to 12 reads the same way; a comment asking for it when no value told."""
    day_first, undecided = date_order(frame, names)
    if day_first is not None:
        example = "13/01/2025" if day_first else "01/13/2025"
        return [f"    day_first: {str(day_first).lower()}  # dates read like {example}, as "
                "this export showed; a smaller one may not tell"]
    if undecided:
        return ["    # dates like 01/02/2025 read both ways in every row here: add "
                "day_first: true (1 February) or false (2 January)"]
    return []


def did_you_mean(name: str, files) -> str:
    """The end of a sentence about a column ``name`` that no file has: " (did you mean
    'properties.lifecyclestage'?)" where a column of ``files`` is ``name`` but for case, spacing
    or punctuation, or ends with it after a JSON record's nesting; else ""."""
    def folded(text: str) -> str:
        return re.sub(r"[^0-9a-z]", "", text.lower())

    for file in files:
        for column in file.frame.columns:
            last = str(column).rsplit(".", 1)[-1]
            if folded(str(column)) == folded(name) or folded(last) == folded(name):
                return f" (did you mean {str(column)!r}?)"
    return ""


def positive_stage(value: str) -> str:
    """The outcome stage a positive value is drafted as: the one its words name (HubSpot's
    lifecycle stages ``Sales Qualified Lead`` and ``Opportunity``; ``Meeting booked`` is an
    SQL), else ``closed_won``; an SQL
    drafted as a won deal would say, in every report, that it was won."""
    tokens = name_tokens(value)
    squashed = re.sub(r"[^a-z]", "", str(value).lower())
    # HubSpot's internal stage values run the words together: "salesqualifiedlead"
    if "salesqualified" in squashed:
        return "sql"
    # a booked meeting (or demo) is what the product calls an SQL: a real next step
    if "sql" in tokens or {"sales", "qualified"} <= tokens or (
            tokens & {"meeting", "demo", "appointment"}
            and tokens & {"booked", "set", "scheduled", "held"}):
        return "sql"
    if tokens & {"opportunity", "opportunities"}:
        return "opportunity"
    return "closed_won"


ID_TOKENS = frozenset({"id", "number", "no", "nr", "key", "ref", "code"})


def id_named(name: str) -> bool:
    """Whether ``name`` names an identifier ("Lead Number", "Deal ID"); "No. of Employees" and
    "Number of Sessions" name a count."""
    tokens = name_tokens(name)
    return bool(tokens & ID_TOKENS) and "of" not in tokens


def may_name_records(column: Column) -> bool:
    """Whether ``column``'s values can name another file's records (a join or a history's lead):
    not a date, a flag or a number that counts something. A head count's values 8..900 are among
    any file's row numbers 1..1500, and a join on them would be a coincidence (an id written as
    a number is named like one: "Person ID", "Lead Number")."""
    return column.kind not in ("date", "empty", "boolean") and (
        column.kind != "numeric" or id_named(column.name))


DATE_TOKENS = frozenset({"date", "created", "time", "timestamp", "datetime", "day", "modified"})
"""Words of a column name that say it holds a moment ("Created Date", "Create Time")."""
EXCEL_SERIAL = "Excel's serial day numbers"
EXCEL_DAYS = (25569, 73051)
"""Excel's serial day numbers of 1970-01-01 and 2099-12-31 (day 0 is 1899-12-30)."""


def excel_serial_note(name: str, values: pd.Series) -> str | None:
    """The note on a numeric column named for a moment whose every value is an Excel serial
    day number (45900.5: 2025-08-31 noon), as a CSV saved with the date cells formatted
    General holds: as a number the moment would be a feature, and the leads undated."""
    if not name_tokens(name) & DATE_TOKENS:
        return None
    values = pd.to_numeric(values, errors="coerce").dropna()
    if values.empty or not values.between(*EXCEL_DAYS).all():
        return None
    first = int(values.min())
    day = (date(1899, 12, 30) + timedelta(days=first)).isoformat()
    return (f"{EXCEL_SERIAL} ({first} is {day}), not dates as written: format the "
            f"column as dates in the spreadsheet (or as ISO 8601 text like {day}), export again "
            "and re-run inspect")
