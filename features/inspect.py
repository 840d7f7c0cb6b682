"""``leadscore inspect``: what an unseen export holds, which columns may leak, and a draft mapping.

Per column: the inferred type, fill rate, distinct count, top values and a proposed role. Leak
suspects, each with its reason:

- filled only for some outcomes: its blanks (or values) occur for some outcome values only;
- decides the outcome: its values alone reach a single-column ROC-AUC >= ``AUC_LEAK`` against the
  outcome the user names (categorical columns are target-encoded out of fold, so an id-like column
  does not score by memorising rows);
- values that decide the outcome: values covering >= 10 % of rows, each >= 95 % one way, one of
  them the rarer outcome's (values that are all the common outcome are a strong signal);
- dated after the outcome: a date column later than the named outcome date in most rows;
- named like a post-contact field (last, quality, score, status, tags, call, duration, meeting,
  modified, opt out, ...): the data cannot tell when such a column is filled, so the user must.

Top values of a column named like personal data (name, e-mail, phone, agent, manager, owner, ...)
are never printed, nor written into the draft.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from features.csv_lines import ROW, refuse_repeated_names
from features.export_files import (
    _read_csv,
    _read_parquet,
    data_suffix,
    discover,
    rows_only,
    sniff_delimiter,
    text_encoding,
)
from features.inspect_history import history_of, outcome_per_lead
from features.inspect_outcomes import (
    ad_rows_note,
    chosen_positive,
    outcome_date_hint,
    outcome_date_sentence,
    outcome_rows,
    outcome_rows_sentence,
)
from features.inspect_render import render
from features.inspect_values import (
    NO_BREAK_SPACES,
    WRITTEN_COMMA_DECIMAL,
    decimal_commas,
    did_you_mean,
    excel_serial_note,
    id_named,
    instants,
    named_for_mql,
    named_with,
    names_inside,
    personal,
    sentinel_note,
    single_column_auc,
    written_numbers,
)
from features.json_lines import JSON_SUFFIXES, JSONL_SUFFIXES, read_json_document, read_json_lines
from features.read_workbook import HEADER_ROW, WORKBOOK_SUFFIXES, read_workbook
from leadscore.errors import LeadscoreError

AUC_LEAK = 0.95
PURE_SHARE = 0.95
PURE_COVERAGE = 0.10
POSITIVE_GUESSES = ("1", "yes", "true", "won", "converted", "closed won", "closed_won")
POST_CONTACT_TOKENS = frozenset({"last", "quality", "score", "index", "profile", "status", "stage",
                                 "tag", "tags", "rating", "disposition", "verdict", "reason",
                                 "close", "closed", "won", "lost", "result", "outcome", "notes",
                                 # Salesforce's IsConverted, ConvertedDate; a rep's Description
                                 "converted", "conversion", "description", "comment", "comments",
                                 # a sales call's or meeting's length, count or booking
                                 "duration", "call", "calls", "contacted", "meeting", "meetings",
                                 # logged sales work: Total / Done activities, Email messages count
                                 "activities", "messages",
                                 # the rep's plan after a contact: Next Step, Next Activity Date
                                 "next",
                                 # when the record last changed (Dynamics' Modified On,
                                 # HubSpot's lastmodifieddate): after every contact by nature
                                 "modified", "updated", "changed", "edited",
                                 # a lead opts out of, or bounces, the e-mails sent to it
                                 "opt", "optout", "unsubscribed", "bounced"})
INTENT_TOKENS = frozenset({"visit", "visits", "totalvisits", "view", "views", "time", "click",
                           "clicks", "page", "session", "sessions", "download", "opens",
                           # HubSpot's "Number of Pageviews", "Number of Form Submissions",
                           # "Marketing emails opened"
                           "pageview", "pageviews", "clicked", "downloads", "form", "forms",
                           "submission", "submissions", "opened", "webinar", "webinars"})
CODE_SHARE = 0.10
"""A column of codes (no spaces) with at most this share of distinct values is categorical."""
ID_REPEATS = 0.05
"""An id-named column with at most this share of repeated values is still drafted as the id."""
MISSING_GUESSES = ("select", "n/a", "na", "null", "none", "-", "not provided", "(no value)")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?"
                   r"( ?(Z|[+-]\d{2}:?\d{2}))?$|"
                   # Salesforce Lightning: 3/5/2026, 9:05 PM
                   r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(,? \d{1,2}:\d{2}(:\d{2})?)?( ?[AaPp][Mm])?$|"
                   r"^([A-Za-z]{3,9} \d{1,2},? \d{4}|\d{1,2}[ -][A-Za-z]{3,9}[ -]\d{2,4})"
                   r"( \d{1,2}:\d{2}(:\d{2})?)?( ?[AaPp][Mm])?$")  # Zoho: Mar 12, 2021 04:15 PM


@dataclass
class Column:
    name: str
    kind: str  # id, date, numeric, boolean, categorical, text, empty
    fill: float
    distinct: int
    top: list[tuple[str, int]]
    personal: bool
    role: str = "ignore"
    spec: str = "ignore"
    note: str = ""
    leaks: list[str] = field(default_factory=list)


@dataclass
class FileProfile:
    path: Path
    rows: int
    read: str
    options: dict
    columns: list[Column]
    frame: pd.DataFrame


def read_file(path: Path, sheet: str | None = None) -> FileProfile:
    """Read a CSV (delimiter sniffed; UTF-8, else cp1252, or UTF-16 by its mark), Parquet, JSON
    (Lines) or .xlsx file (its first sheet, or ``sheet``) as text."""
    path = Path(path)
    if not path.is_file() or data_suffix(path) is None:
        raise LeadscoreError(f"{path} is not a CSV, Parquet, JSON (Lines) or .xlsx file: name the "
                             "export's files.")
    options: dict = {}
    unit = None  # a CSV's lines or a sheet's rows: repeated headers, empty and totals rows
    if data_suffix(path) in (".parquet", ".pq"):
        table, read = _read_parquet(path), "Parquet"
    elif data_suffix(path) in JSONL_SUFFIXES + JSON_SUFFIXES:
        lines = data_suffix(path) in JSONL_SUFFIXES
        table = read_json_lines(path) if lines else read_json_document(path)
        read = "JSON Lines" if lines else "JSON"
    elif data_suffix(path) in WORKBOOK_SUFFIXES:
        table, name, _ = read_workbook(path, sheet)
        header = int(table.schema.metadata[HEADER_ROW.encode()])
        read = f"Excel workbook, sheet {name!r}" + (
            f", column names in row {header} (rows above them passed over)" if header > 1 else "")
        options, unit = {"sheet": name}, "row"
    else:
        tried = ("utf-16",) if text_encoding(path) == "utf-16" else ("utf-8", "cp1252")
        for encoding in tried:
            try:
                delimiter = sniff_delimiter(path, encoding)
                table = _read_csv(path, delimiter, encoding)
                break
            except LeadscoreError:
                if encoding == tried[-1]:
                    raise
        options, unit = {"delimiter": delimiter, "encoding": encoding}, "line"
        read = f"delimiter {delimiter!r} (sniffed), encoding {encoding}"
    refuse_repeated_names(path, [n for n in table.column_names if n != ROW])
    if unit is not None:
        table = rows_only(path, table, unit, options.get("delimiter", ","),
                          options.get("encoding", "utf-8"))
    if table.num_rows == 0:
        raise LeadscoreError(f"{path.name} has no rows, only a header: export the leads too "
                             "and re-run.")
    # a Parquet blank is a null; profiles count blanks as "", as a CSV reads them
    frame = table.to_pandas().fillna("").apply(lambda s: s.str.strip())
    return FileProfile(path=path, rows=len(frame), read=read, options=options, columns=[],
                       frame=frame)


def _kind(values: pd.Series, rows: int) -> str:
    filled = values[values != ""]
    if filled.empty:
        return "empty"
    distinct = filled.nunique()
    sample = filled.head(2000)
    if sample.str.fullmatch(_DATE).mean() > 0.95:
        return "date"
    lowered = set(filled.str.lower().unique()[:3])
    if distinct <= 2 and lowered <= {"yes", "no", "true", "false", "0", "1", "y", "n"}:
        return "boolean"
    if pd.to_numeric(filled, errors="coerce").notna().mean() > 0.98:
        # unique whole numbers are an id only when named so (employees counts are numbers);
        # "No. of Employees", "Number of Sessions" name a count, not a number that identifies
        named = id_named(values.name or "")
        unique = distinct == rows and filled.str.fullmatch(r"\d+").all()
        return "id" if unique and named else "numeric"
    if distinct == rows and (rows > 50 or id_named(values.name or "")):  # a sample's id too
        return "id"
    if distinct <= max(50, 0.05 * len(filled)):
        return "categorical"
    # codes that repeat (a landing page's id: 476 pages over 8,000 leads) are a category to
    # learn from, not free text to pass over
    if distinct <= CODE_SHARE * len(filled) and not sample.str.contains(r"\s").any():
        return "categorical"
    return "text"


def profile(file: FileProfile) -> None:
    """Fill ``file.columns``: type, fill rate, distinct count, top values, proposed role."""
    rows = max(file.rows, 1)
    commas = file.options.get("delimiter", ",") != ","  # a comma cannot be both
    # a European save writes 2,5 and 12,5 %: then 1.200,00 € groups by dots
    decimal = "," if commas and any(
        file.frame[c].head(2000).str.replace(NO_BREAK_SPACES, " ", regex=True)
        .str.fullmatch(WRITTEN_COMMA_DECIMAL).any()
        for c in file.frame.columns) else "."
    for name in file.frame.columns:
        values = file.frame[name]
        if commas and decimal_commas(values):
            # profiled (and checked for leaks) as the numbers they are; the draft says decimal: ","
            file.options["decimal"] = ","
            values = file.frame[name] = values.str.replace(",", ".", regex=False)
        else:
            # $1,200,000.00 or 12.5 %: numbers too (not an id of unique strings, nor text); the
            # draft says thousands: "," where digits are grouped
            written = written_numbers(values, decimal)
            if written is not None:
                values = file.frame[name] = written[0]
                if written[1] is not None:
                    file.options["thousands"] = written[1]
                if decimal == ",":
                    file.options["decimal"] = ","
        filled = values[values != ""]
        counts = filled.value_counts()
        kind = _kind(values, file.rows)
        note = sentinel_note(filled) if kind == "numeric" else ""
        if kind == "numeric" and (serial := excel_serial_note(name, filled)):
            note = serial  # a date column saved as numbers: drafted ignore, with this note
        repeats = len(filled) - int(filled.nunique())
        if kind != "id" and id_named(name) and len(filled) == file.rows > 50 \
                and 0 < repeats <= ID_REPEATS * file.rows:
            # a lead id that repeats on a few rows (a lead exported twice) is still the id; a
            # row number in its place would make two leads of one and lose the CRM's id
            kind = "id"
            note = (f"{repeats:,} of its values repeat: ingest takes identical rows once and "
                    "stops on differing ones, naming their lines")
        is_personal = personal(name, kind, filled)
        file.columns.append(Column(
            name=name, kind=kind, fill=len(filled) / rows,
            distinct=int(filled.nunique()), personal=is_personal,
            top=[] if is_personal else [(str(v), int(n)) for v, n in counts.head(3).items()],
            note=note,
        ))


def leak_suspects(file: FileProfile, outcome: str | None, positive: list[str],
                  negative: list[str], outcome_date: str | None) -> None:
    """Add each column's leak reasons to ``column.leaks``."""
    frame = file.frame
    y = None
    if outcome is not None:
        raw = frame[outcome].str.lower()
        positives = [p.lower() for p in positive]
        negatives = [n.lower() for n in negative]
        decided = raw.isin(positives) | (raw.isin(negatives) if negatives else raw != "")
        y = raw[decided].isin(positives).to_numpy().astype(int)
    for column in file.columns:
        if column.name == outcome:
            continue
        # "Last Name" is a person, never a post-contact field: it is ignored anyway
        if named_with(column.name, POST_CONTACT_TOKENS) and not column.personal:
            column.leaks.append("named like a post-contact field: check when it is filled")
        if outcome is None or column.kind == "empty":
            continue
        values = frame[column.name]
        blank = values == ""
        by_outcome = blank.groupby(frame[outcome]).mean()
        if len(by_outcome) > 1 and 0 < blank.mean() < 1:
            always_blank = sorted(str(v) for v, r in by_outcome.items() if r == 1.0)
            never_blank = sorted(str(v) for v, r in by_outcome.items() if r == 0.0)
            if always_blank:
                column.leaks.append(f"blank for every {outcome} = {', '.join(always_blank)}")
            elif never_blank and len(never_blank) < len(by_outcome) and \
                    by_outcome.drop(never_blank, errors="ignore").min() > 0.5:
                column.leaks.append(f"filled only for {outcome} = {', '.join(never_blank)}")
        if y is None or y.min() == y.max() or column.kind in ("id", "text"):
            continue
        kept = values[decided]
        auc = single_column_auc(kept.reset_index(drop=True), y, column.kind)
        if auc >= AUC_LEAK:
            column.leaks.append(f"decides {outcome} alone: single-column ROC-AUC {auc:.2f}")
        elif column.kind == "categorical":
            stats = pd.DataFrame({"v": kept.to_numpy(), "y": y}).groupby("v")["y"].agg(
                ["mean", "count"])
            pure = stats[(stats["count"] >= 30) & ((stats["mean"] >= PURE_SHARE) |
                                                   (stats["mean"] <= 1 - PURE_SHARE))]
            share = pure["count"].sum() / len(kept)
            # values that are nearly all the common outcome are what a strong fit signal looks
            # like (students never buy); a value nearly all the rarer outcome is what a verdict
            # written after it looks like
            rare = pure["mean"] >= PURE_SHARE if y.mean() <= 0.5 else pure["mean"] <= 1 - PURE_SHARE
            if share >= PURE_COVERAGE and len(pure) >= 2 and rare.any():
                column.leaks.append(f"{len(pure)} of its values decide {outcome} (>= 95 % one "
                                    f"way), covering {share:.0%} of rows")
        # the MQL date is filled for every lead that passed MQL, the converted ones included:
        # it dates the scoring moment (drafted mql_at), never the outcome
        if column.kind == "date" and not outcome_date and positive and \
                not named_for_mql(column.name) and (hint := outcome_date_hint(
                column.name, blank, raw.isin(positives), outcome, positive)):
            column.leaks.append(hint)
        if outcome_date and column.kind == "date" and column.name != outcome_date:
            when, done = instants(values), instants(frame[outcome_date])
            both = when.notna() & done.notna()
            if both.any() and (when[both] > done[both]).mean() > 0.5:
                column.leaks.append(f"dated after {outcome_date} in most rows")


@dataclass
class Inspection:
    """What ``inspect`` found: the files (main one first-class), the outcome and the text."""

    files: list[FileProfile]
    main: FileProfile
    outcome: str | None
    positive: list[str]
    text: str
    negative: list[str] = field(default_factory=list)
    outcome_date: str | None = None


def inspect(paths: list[Path], outcome: str | None = None, positive: list[str] | None = None,
            negative: list[str] | None = None, outcome_date: str | None = None,
            sheet: str | None = None) -> Inspection:
    """Profile every file, flag leak suspects in the main one and propose roles."""
    from features.inspect_draft import propose  # it imports this module

    files = [read_file(p, sheet) for p in discover([Path(p) for p in paths])]
    for file in files:
        profile(file)
    _names_inside(files)
    main = _main_file(files, outcome)
    # a stage history of the main file's leads: the outcome may be one of its columns
    history = next(((f, *found) for f in files if f is not main
                    and (found := history_of(f, files)) and found[0] is main), None)
    holder = main
    if history is not None and outcome is not None and outcome not in main.frame.columns:
        holder = history[0]
    if outcome is not None and (refused := outcome_rows_sentence(files, main, outcome,
                                                                          positive)):
        raise LeadscoreError(refused)
    if outcome is not None and outcome not in holder.frame.columns:
        raise LeadscoreError(f"--outcome {outcome!r} is not a column of any file given; name the "
                             f"outcome column as its header reads{did_you_mean(outcome, files)}.")
    if outcome_date is not None and outcome_date not in main.frame.columns:
        raise LeadscoreError(outcome_date_sentence(files, main, outcome_date) or (
            f"--outcome-date {outcome_date!r} is not a column of {main.path.name}; name it as "
            f"its header reads{did_you_mean(outcome_date, [main])}."))
    if outcome is not None:
        positive = chosen_positive(holder, outcome, positive or [], negative or [],
                                   POSITIVE_GUESSES)
    rows = outcome_rows(files, main) if outcome is None else None
    if rows is not None:  # no --outcome, but a file's rows are one: check the leads against it
        leak_suspects(dataclasses.replace(main, frame=rows[1]), rows[0], ["present"], [], None)
    elif holder is not main:  # each lead's outcome from its stage history
        per_lead = outcome_per_lead(main, holder, history[2], history[3], outcome, positive or [])
        leak_suspects(dataclasses.replace(main, frame=per_lead), outcome, positive or [],
                      negative or [], None)
    else:
        leak_suspects(main, outcome, positive or [], negative or [], outcome_date)
    propose(files, main, outcome, positive or [], negative or [])
    ad_rows_note(main)
    text = render(files, main, rows[0] if rows else outcome,
                  ["present"] if rows else positive or [], negative or [])
    return Inspection(files, main, outcome, list(positive or []), text, list(negative or []),
                      outcome_date)


def _names_inside(files: list[FileProfile]) -> None:
    """Mark personal a text column whose values hold the export's people's names."""
    frames = [(f.frame, [c.name for c in f.columns if c.personal and c.kind != "id"],
               [c.name for c in f.columns if not c.personal and c.kind in ("categorical", "text")])
              for f in files]
    for index, name in names_inside(frames):
        column = next(c for c in files[index].columns if c.name == name)
        column.personal, column.top = True, []


def _main_file(files: list[FileProfile], outcome: str | None) -> FileProfile:
    """The file holding ``outcome``, else the largest; but the leads it is a history of where
    it has several rows per lead of another file (a stage history beside its leads)."""
    chosen = next((f for f in files if outcome is not None and outcome in f.frame.columns),
                  None) or max(files, key=lambda f: f.rows)
    history = history_of(chosen, files)
    return history[0] if history is not None else chosen
