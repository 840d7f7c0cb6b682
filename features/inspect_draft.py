"""The proposed roles and the draft v2 mapping that ``leadscore inspect`` writes.

The draft is a starting point to edit, never to trust: every role is a guess from the data, leak
suspects are proposed as post_outcome (kept for reports, never features) with the reason in a
comment, and what cannot be guessed (the export's period without dates) is left for the user.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from features.contract import name_tokens
from features.created_order import MONTH_NAMES
from features.export_date import FROM_FILE_NAME, date_in_name, undated
from features.inspect import (
    MISSING_GUESSES,
    Column,
    FileProfile,
    Inspection,
    leak_suspects,
)
from features.inspect_activities import events_after_scoring, propose_activities
from features.inspect_history import history_of, propose_history, stage_column
from features.inspect_outcomes import (
    open_values_note,
    outcome_rows_key,
    propose_outcome_rows,
    unique_keys,
)
from features.inspect_reasons import is_reasons, reasons_block
from features.inspect_roles import (
    creation_date,
    email_role,
    lookup_role,
    main_role,
    positive_stage,
)
from features.inspect_values import day_first_lines, instants, may_name_records, quote, quote_always
from features.label_policy import load_policy


def _export_day(file: FileProfile, stored: list[str]) -> date | None:
    """The date in ``file``'s name, when it reads one way only (year first, or a day above 12)
    and no date of the ``stored`` columns is later: the day the export was likely taken."""
    taken = date_in_name(file.path.name)
    if taken is None:
        return None
    end = pd.Timestamp(taken, tz="UTC") + pd.Timedelta(days=1)
    for column in stored:  # what ingest dates by (an expected close date may lie ahead)
        if (instants(file.frame[column]) >= end).any():
            return None
    return taken if taken <= date.today() else None


def _undated(stem: str) -> str:
    """A file's stem without its date, lower-cased: the name of every month's export."""
    return undated(stem, "").strip(" -_.").lower() or stem.lower()


MATCH_SHARE = 0.5
"""A column joins another when at least this share of its distinct values are found there."""


def _values(file: FileProfile, name: str) -> set[str]:
    return set(file.frame[name].unique()) - {""}


def _share(values: set[str], among: set[str]) -> float:
    return len(values & among) / len(values) if values else 0.0


def _lookup_join(file: FileProfile, main: FileProfile) -> tuple[Column, str] | None:
    """The lookup key of ``file`` (one row per non-blank value) and the main-file column that
    joins it, chosen by values, not names: most of the main column's values must be keys
    (a Salesforce Lead.Id and Opportunity.Id share a name, never a value)."""
    best: tuple[float, bool, Column, str] | None = None
    joinable = [c for c in main.columns if may_name_records(c)]
    main_values: dict[str, set[str]] = {}
    for column, keys in unique_keys(file):
        for other in joinable:
            if other.name not in main_values:  # each main column's values read once
                main_values[other.name] = _values(main, other.name)
            share = _share(main_values[other.name], keys)
            candidate = (share, other.name.lower() == column.name.lower(), column, other.name)
            if share >= MATCH_SHARE and (best is None or candidate[:2] > best[:2]):
                best = candidate
    return None if best is None else (best[2], best[3])


def _named_alike(key: Column, joins: str) -> bool:
    """Whether a lookup's key and the main column joining it name the same thing
    ("Person - ID" and "Deal - Person ID"), beyond the word "id"."""
    return bool((name_tokens(key.name) & name_tokens(joins)) - {"id", "key"})


def _activity_key(file: FileProfile, main_ids: set[str]) -> Column | None:
    """The column of ``file`` naming main-file rows, several rows per value (Task.WhoId)."""
    for column in file.columns:
        values = _values(file, column.name)
        if main_ids and len(values) < file.rows and _share(values, main_ids) >= MATCH_SHARE:
            return column
    return None


def propose(files: list[FileProfile], main: FileProfile, outcome: str | None,
            positive: list[str], negative: list[str]) -> None:
    """Set every column's proposed role and mapping spec (lookups: key, fit or ignore;
    activity files: key, occurred_at, activity_type or ignore)."""
    state: dict = {"creation": creation_date(main.columns)}
    for column in main.columns:
        if column.name == outcome:
            column.role, column.spec = "outcome", "outcome"
            continue
        column.role, column.spec = main_role(column, state)
    main_ids = _values(main, state["id"]) if state.get("id") else set()
    for file in files:
        if file is main:
            continue
        pattern = undated(main.path.name)
        if (undated(file.path.name) == pattern != main.path.name
                and [c.name for c in file.columns] == [c.name for c in main.columns]):
            file.options["said"] = [f"{file.path.name}: another export of {pattern} (the same "
                                    "columns): ingest each export on its own, oldest first, "
                                    "through this mapping"]
            for column in file.columns:
                column.role = f"as in {main.path.name}"
            continue
        history = history_of(file, files)
        stage = stage_column(file, history[1], outcome) if history is not None else None
        if stage is not None and history[0] is main:  # one row per lead per stage change
            propose_history(file, main, history[1], stage, positive)
            continue
        join = _lookup_join(file, main)
        events = _activity_key(file, main_ids)
        if join is not None and events is not None and not _named_alike(*join):
            # several rows for each of most main ids: their event log, whose own row ids
            # only happen to hold another main column's values (Pipedrive numbers activities,
            # persons and deals alike from 1), not a lookup joined on them
            join = None
        file.options["key"] = join[0].name if join else None
        file.options["joins"] = join[1] if join else None
        file.options["kind"] = "lookup" if join else None
        if join is None:
            if events is not None:
                file.options.update(key=events.name, kind="activities")
                propose_activities(file, events)
                late = events_after_scoring(file, events, main, state.get("id"))
                file.options.update(said=[late] if late else [])
                continue
            rows = outcome_rows_key(file, main)
            if rows is not None:
                file.options.update(key=rows[0].name, kind="outcomes")
                propose_outcome_rows(file, rows[0], main, rows[2])
                continue
        if join is not None:
            _lookup_leaks(file, main, join, outcome, positive, negative)
            via = next(c for c in main.columns if c.name == join[1])
            if outcome is None and via.leaks:  # known once the column it joins on is filled
                # (with --outcome its columns are checked against the outcome as joined)
                for column in file.columns:
                    if column is not join[0]:
                        column.leaks.append(f"joined on {via.name}, itself a leak suspect")
        for column in file.columns:
            if join is not None and column is join[0]:
                column.role = column.spec = "key"
            elif join is not None and (drafted := email_role(column, state)) is not None:
                column.role, column.spec = drafted
            elif join is None or column.personal or column.kind in ("id", "text", "empty", "date"):
                column.role, column.spec = "ignore", "ignore"
            elif column.leaks:  # a lookup column is a fit attribute or nothing
                column.role, column.spec = "ignore (leak suspect)", "ignore"
            else:
                column.role, column.spec = lookup_role(column, state)


def _lookup_leaks(file: FileProfile, main: FileProfile, join: tuple[Column, str],
                  outcome: str | None, positive: list[str], negative: list[str]) -> None:
    """The leak checks of the main file, on the lookup's columns as each main row sees them
    (an Opportunity's StageName or Amount, joined to the lead it converted from)."""
    key, joins = join
    columns = [c for c in file.columns if c is not key]
    if outcome is None:
        leak_suspects(FileProfile(file.path, file.rows, file.read, file.options, columns,
                                  file.frame), None, [], [], None)
        return
    lookup = file.frame.drop_duplicates(key.name).set_index(key.name)[[c.name for c in columns]]
    joined = lookup.reindex(main.frame[joins].to_numpy()).fillna("").reset_index(drop=True)
    joined[outcome] = main.frame[outcome].to_numpy()
    leak_suspects(FileProfile(file.path, main.rows, file.read, file.options, columns, joined),
                  outcome, positive, negative, None)


def _month_column(file: FileProfile) -> str | None:
    """The first column whose every value names a month (may, Jun, September), or None."""
    for column in file.columns:
        values = file.frame[column.name]
        values = values[values != ""].str.lower()
        if column.kind == "categorical" and not values.empty and values.isin(MONTH_NAMES).all():
            return column.name
    return None


def _missing(file: FileProfile) -> list[str]:
    found = {v.lower(): v for c in file.columns for v in file.frame[c.name].unique()[:200]
             if isinstance(v, str) and v.lower() in MISSING_GUESSES}
    return ["", *sorted(found.values())]


def draft(found: Inspection) -> str:
    """The draft v2 mapping as YAML text, with a comment on every guess that needs a decision."""
    files, main, outcome, positive = found.files, found.main, found.outcome, found.positive
    names = ", ".join(f.path.name for f in files)
    lines = [f"# Draft mapping written by `leadscore inspect` from {names}.",
             "# Every role is a guess from the data: check each one before you ingest.",
             "leadscore_mapping: 2", f"name: {quote(_undated(main.path.stem))}", "version: 1"]
    stored = [c.name for c in main.columns if c.spec.startswith("{role: timestamp")]
    taken = _export_day(main, stored + ([found.outcome_date] if found.outcome_date else []))
    if taken is not None:
        # a snapshot's outcomes are final up to the day it was taken, not its last record
        # the path is drafted as a pattern every week's file matches: each file names its day
        lines.append(f"exported_at: {FROM_FILE_NAME}  # each export's day, the date in its file's "
                     f"name ({taken.isoformat()} in {main.path.name}): check it is the day the "
                     "export was taken (docs/ingestion.md, horizon)")
    lines.append("")
    id_column = next((c.name for c in main.columns if c.spec == "id"), None)
    created = any("created_at" in c.spec for c in main.columns)
    if not created:
        # a running number (X Education's Lead Number) tells the order leads arrived in; a
        # random id (a UUID) does not
        running = next((c.name for c in main.columns if c.kind == "id"
                        and main.frame[c.name].str.fullmatch(r"\d+").all()), None)
        if running or id_column:
            order = running or id_column
            how = [f"# check that this column grows with time ({order} was guessed)."]
        else:  # no id column either: ids are row numbers, and the rows' order is the time
            order = "row number"
            how = ["# no column tells the order, so the file's row order is used (row number, "
                   "as the id is): check that the rows are oldest first."]
        month = _month_column(main)
        within = f", month: {quote(month)}" if month else ""
        lines += ["# No date column: leads are spread over the export's period in the order of a "
                  "column;", how[0] + " Set start and end to the period the export covers."]
        if month:
            lines.append(f"# {month} names each row's month: the rows are dated within it, and "
                         "the year turns where the month goes back (dec, then mar).")
        lines += [f"created_at: {{from_order: {quote(order)}, start: \"YYYY-MM-DD\", "
                  f"end: \"YYYY-MM-DD\"{within}}}", ""]
    lines.append("files:")
    for file in sorted(files, key=lambda f: f is not main):
        lines += _file_lines(file, file is main, id_column, outcome, positive, found.negative,
                             found.outcome_date, exported=taken is not None)
    return "\n".join(lines) + "\n"


def _file_lines(file: FileProfile, is_main: bool, id_column, outcome, positive,
                negative, outcome_date, exported: bool = False) -> list[str]:
    key = file.options.get("key")
    if not is_main and key is None and file.options.get("said"):
        return [f"  # {line}" for line in file.options["said"]]
    if not is_main and key is None:
        return [f"  # {file.path.name}: no column of it holds the values of a main-file column "
                "(a lookup) or the main file's ids (activities); add it by hand if it belongs "
                "to the export"]
    dated = undated(file.path.name)
    path = (f"    path: {quote(dated)}  # matches the next export too ({file.path.name} today)"
            if dated != file.path.name else f"    path: {quote(file.path.name)}")
    out = [f"  {quote(_undated(Path(file.path.name).stem))}:", path,
           f"    kind: {'main' if is_main else file.options['kind']}"]
    if file.options.get("kind") == "outcomes" and file.options.get("history"):
        out[-1] += "  # a stage history: each row's stage, mapped below, is an outcome"
    elif file.options.get("kind") == "outcomes":
        out[-1] += ("  # a row present is the outcome: a lead without one is a negative once "
                    "its window passes")
        out.append("    stage: closed_won              # check: the stage a row of this file "
                   "means (sql, opportunity, closed_won)")
    if file.options.get("kind") == "activities":
        out += [f"    # {line}" for line in file.options.get("said", [])]
    if "sheet" in file.options:
        out.append(f"    sheet: {quote(file.options['sheet'])}")
    if "encoding" in file.options and file.options["encoding"] != "utf-8":
        out.append(f"    encoding: {file.options['encoding']}")
    if file.options.get("decimal") == ",":
        out.append('    decimal: ","                  # numbers like 2,5 read 2.5')
    if file.options.get("thousands"):
        separator = file.options["thousands"]
        example = f"1{separator}200{separator}000{file.options.get('decimal', '.')}50"
        out.append(f"    thousands: {quote_always(separator)}  # numbers like ${example} read "
                   "1200000.50 ($, € and % signs are dropped)")
    out += day_first_lines(file.frame, [c.name for c in file.columns if c.kind == "date"])
    missing = _missing(file)
    comment = "  # 'unknown' stays a category unless listed here" if is_main else ""
    out.append(f"    missing: [{', '.join(quote_always(v) for v in missing)}]{comment}")
    if is_main and id_column is None:
        out.append("    id: {from_row: true}            # no column has one value per row")
    if not is_main:
        out.append(f"    key: {quote(key)}")
        if file.options["kind"] == "lookup":
            out.append(f"    joins: {quote(file.options['joins'])}")
    out.append("    columns:")
    for column in file.columns:
        spec = column.spec
        note = f"  # {'; '.join([*column.leaks, column.note] if column.note else column.leaks)}" \
            if column.leaks or column.note else ""
        if column.personal:
            note = ("  # an e-mail address: only its domain is stored" if "as: email" in spec
                    else "  # named like personal data: never stored")
        if spec == "outcome":
            values = file.frame[column.name].value_counts().index[:30]
            lowered = {p.lower() for p in positive}
            mapped = ", ".join(
                f"{quote_always(v)}: {positive_stage(v) if v.lower() in lowered else 'none'}"
                for v in values if v != "")
            out += open_values_note(values, positive, negative)
            # dated by --outcome-date where given; else at creation, which the user must check
            when = f"date: {quote(outcome_date)}" if outcome_date else "after_days: 0"
            if not outcome_date and not exported:
                # a final snapshot's verdicts are final: without the export's day the store's
                # evidence ends at its last record, and the newest leads look still open
                out.append("      # no outcome date: if this column holds each lead's final "
                           "result, declare exported_at: (the day the export was taken), or "
                           "the leads of its last maturity_days stay unlabelled as if still open")
            out.append(f"      {quote(column.name)}: {{role: outcome, {when}, values: "
                       f"{{{mapped}}}}}  # outcome: map each value to a stage or none")
            continue
        if is_main and is_reasons(column, outcome, file.frame[column.name].unique()):
            out += reasons_block(file, column, load_policy().reason_codes)
        out.append(f"      {quote(column.name)}: {spec}{note}")
    return out
