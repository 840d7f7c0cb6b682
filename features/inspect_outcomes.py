"""``leadscore inspect`` on an export whose outcome is a file of its own: a row for each lead
that converted (Olist's closed deals beside its qualified leads, by ``mql_id``), none for the
others. Such a file is the outcome, not a lookup: its rows name some leads only, and every column
of it but the lead and the outcome's date exists only for converted leads, so it is known only
after the outcome and never a model input. Also: the hint that a date column is the day of the
outcome, when inspect was not told one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pandas as pd

from features.contract import name_tokens
from features.messages import capped
from leadscore.errors import LeadscoreError

if TYPE_CHECKING:
    from features.inspect import Column, FileProfile

def unique_keys(file: FileProfile) -> Iterator[tuple[Column, set[str]]]:
    """Each column of ``file`` whose non-blank values are all different, with those values:
    the columns that can name one row each of another file."""
    for column in file.columns:
        filled = file.frame[column.name]
        filled = filled[filled != ""]
        if not filled.empty and filled.is_unique:
            yield column, set(filled)


OUTCOME_ROWS_SHARE = 0.95
"""A file whose key names main-file rows, one row each, this share of its keys found there, and
fewer rows than the main file, holds something that happened to some leads only: an outcome."""


def outcome_rows_key(file: FileProfile, main: FileProfile) -> tuple[Column, str, int] | None:
    """(the column of ``file`` naming main-file rows, the main file's id column, how many main
    rows it names) when ``file`` has one row for some of the main file's leads, as a won-deals
    export beside its leads (Olist's closed deals by ``mql_id``), else None."""
    ids = [c for c in main.columns if c.kind == "id"]
    for column, keys in unique_keys(file):
        for id_column in ids:
            named = len(keys & _values(main, id_column.name))
            if named >= OUTCOME_ROWS_SHARE * len(keys) and named < main.rows:
                return column, id_column.name, named
    return None


def outcome_date_sentence(files: list[FileProfile], main: FileProfile,
                          outcome_date: str) -> str | None:
    """Why ``--outcome-date`` names no column of ``main`` when it is a column of an outcomes
    file beside it (whose first date the draft already dates the outcome by), or None."""
    for file in files:
        rows = None if file is main else outcome_rows_key(file, main)
        if rows is not None and outcome_date in file.frame.columns:
            return (f"--outcome-date {outcome_date!r} is a column of {file.path.name}, whose "
                    f"rows are the outcome of {main.path.name}'s leads: the draft dates each "
                    "outcome by that file's first date column already, so drop --outcome-date "
                    "(and check that column in the draft) and re-run.")
    return None


def outcome_rows_sentence(files: list[FileProfile], holder: FileProfile, outcome: str,
                          positive: list[str] | None = None) -> str | None:
    """Why ``--outcome`` cannot be a column of ``holder`` when ``holder`` is another file's
    outcome rows (one row for some of its leads), or None: its leads without a row are the
    negatives, which no value of the column can say. None too where the column holds, beside
    the ``positive`` values named, others (a Pipedrive deals export's status: won, lost, open):
    its rows are then not all outcomes, and ``holder`` is the main file (one row per deal)."""
    if positive and outcome in holder.frame.columns:
        named = {p.lower() for p in positive}
        values = {v.lower() for v in holder.frame[outcome].unique() if v}
        if values & named and values - named:
            return None
    for other in files:
        rows = None if other is holder else outcome_rows_key(holder, other)
        if rows is not None:
            return (f"--outcome {outcome!r} is a column of {holder.path.name}, which has one row "
                    f"for each of {rows[2]:,} of the {other.rows:,} leads of {other.path.name} "
                    f"(by {rows[0].name}), so its rows are the outcome and the leads without one "
                    "the negatives: run inspect without --outcome, and the draft reads that file "
                    "as the outcomes file (a row present is the outcome).")
    return None


def propose_outcome_rows(file: FileProfile, key: Column, main: FileProfile, named: int) -> None:
    """An outcomes file's roles: its key, its first date as the outcome's time; every other
    column exists only for the leads it names, so it is known only after their outcome."""
    dates = [c for c in file.columns if c.kind == "date"]
    after = [c.name for c in file.columns if c is not key and not (dates and c is dates[0])]
    file.options["said"] = [
        f"{file.path.name}: one row for each of {named:,} of the {main.rows:,} leads of "
        f"{main.path.name} (by {key.name}): drafted as their outcome, a row present meaning "
        "the outcome happened (leads without one are negatives once their window passes)",
        f"leak suspects in {file.path.name}: filled only for the leads it names, so known only "
        f"after their outcome, drafted ignore: {capped(after)}"] if after else [
        f"{file.path.name}: one row for each of {named:,} of the {main.rows:,} leads of "
        f"{main.path.name} (by {key.name}): drafted as their outcome"]
    only = "only for the leads this file names: known after their outcome, never an input"
    for column in file.columns:
        if column is key:
            column.role = column.spec = "key"
        elif dates and column is dates[0]:
            column.role, column.spec = "occurred_at", "{as: occurred_at}"
        else:
            column.role, column.spec = "ignore (post-outcome)", "ignore"
            column.leaks.append(only)


def _values(file: FileProfile, name: str) -> set[str]:
    return set(file.frame[name].unique()) - {""}


def outcome_rows(files: list[FileProfile], main: FileProfile) -> tuple[str, pd.DataFrame] | None:
    """The outcome an outcomes file beside ``main`` gives its leads, for the main file's leak
    checks: (its name, ``main``'s frame with it as a column: "present" for a lead the file
    names, "absent" for the others), or None without such a file. A main-file column filled only
    for leads with a row there is as post-outcome as the file's own columns."""
    for file in files:
        rows = None if file is main else outcome_rows_key(file, main)
        if rows is not None:
            name = f"row in {file.path.name}"
            named = main.frame[rows[1]].isin(_values(file, rows[0].name))
            return name, main.frame.assign(**{name: named.map({True: "present",
                                                               False: "absent"})})
    return None


def outcome_date_hint(name: str, blank: pd.Series, won: pd.Series, outcome: str,
                      positive: list[str]) -> str | None:
    """The hint that a date column filled for (nearly) every positive row and blank for most
    others is the day of the outcome (a CRM's "Converted Date", "Close Date"), when no
    --outcome-date was given: without one, outcomes are dated at creation."""
    if not won.any() or (~won).sum() == 0:
        return None
    if blank[won].mean() > 0.05 or blank[~won].mean() < 0.5:
        return None
    return (f"filled when {outcome} is {' or '.join(positive)}: if it is the day of that outcome, "
            f"re-run inspect with --outcome-date {name!r} (without one, outcomes are dated "
            "at the lead's creation)")


OPEN_WORDS = re.compile(r"\b(open|working|in progress|new|contacted|nurtur\w*|pending|attempt\w*|"
                        r"qualifying|follow[ -]?up|engaged)\b")
"""Words of an outcome value that reads like a lead still being worked (Salesforce's "Open - Not
Contacted", "Working - Contacted"; HubSpot's "In Progress", "Attempting to contact")."""


def open_values_note(values, positive: list[str], negative: list[str]) -> list[str]:
    """The draft's comment above an outcome column on values that are no verdict yet: named
    neither positive nor negative (with --negative), or, without --negative, read like a lead
    still being worked. Mapped ``none``, such a lead becomes a negative once its window passes."""
    named = {v.lower() for v in [*positive, *negative]}
    open_values = [str(v) for v in values if v != "" and str(v).lower() not in named
                   and (negative or OPEN_WORDS.search(str(v).lower()))]
    if not open_values:
        return []
    one = len(open_values) == 1
    if negative:
        said = f"{'is' if one else 'are'} neither positive nor negative"
    else:
        said = "reads like a lead" if one else "read like leads"
        said += " still being worked"
    return [f"      # {', '.join(open_values)} {said}: as none, a lead becomes a negative once "
            "its window passes.",
            "      # If such leads are still open, declare this column a disposition_reason with "
            "reason code still_open (no label; docs/ingestion.md, Maven CRM)"
            + ("." if negative else ", or re-run inspect with --negative naming the closed, "
               "lost values.")]


def one_value_sentence(holder: FileProfile, outcome: str) -> str:
    """Why an outcome column holding one value for every lead can be no outcome yet."""
    value = next(v for v in holder.frame[outcome].unique() if v)
    return (f"Every filled row of {outcome} in {holder.path.name} reads {value!r}, so no lead "
            "has an outcome in this export yet (an export of open leads only): run inspect "
            f"without --outcome, map {outcome} in the draft ({value}: none, beside the values "
            "your CRM writes for a won or lost lead), and review once an export holds outcomes.")


AGGREGATE_WORDS = frozenset({"impressions", "clicks", "spent", "spend", "cost", "reach", "ctr",
                             "cpc", "cpm"})
"""Names of an ad's or a campaign's totals: beside a count outcome they say what a row is."""


def ad_rows_note(main: FileProfile) -> None:
    """Note on an audience count (Impressions, Reach) beside clicks or spend: the rows are ads or
    campaigns (Facebook's ad conversions table), which inspect would otherwise draft as leads."""
    numeric = [c for c in main.columns if c.kind == "numeric"]
    audience = next((c for c in numeric if name_tokens(c.name) & {"impressions", "reach"}), None)
    beside = [c.name for c in numeric if c is not audience
              and name_tokens(c.name) & AGGREGATE_WORDS - {"impressions", "reach"}]
    if audience is None or not beside:
        return
    audience.note = "; ".join(n for n in (audience.note, (
        f"counts an audience: with {', '.join(beside[:3])} beside it, each row looks like an ad "
        "or a campaign, not a lead; leadscore learns from one row per lead, so export the leads "
        "themselves (the ad or campaign each came from a column of it)")) if n)


def counts_sentence(holder: FileProfile, outcome: str) -> None:
    """Refuse an outcome column of whole numbers with more than two values, unless
    ``--positive`` says which mean a success: read as "1 positive, the rest negative", an ad
    with 21 conversions (Facebook's ad conversions table, one row per ad) would be a lead that
    did not convert.

    Raises:
        LeadscoreError: the sentence naming the numbers, and what a row of counts is.
    """
    filled = holder.frame[outcome][holder.frame[outcome] != ""].str.strip()
    if filled.empty or not filled.str.fullmatch(r"\d+").all():
        return
    numbers = filled.astype(int)
    if numbers.nunique() < 3:
        return
    beside = [c.name for c in holder.columns
              if c.name != outcome and name_tokens(c.name) & AGGREGATE_WORDS]
    totals = (f" ({', '.join(beside[:4])} beside it are an ad's or a campaign's totals)"
              if beside else "")
    raise LeadscoreError(
        f"{outcome} in {holder.path.name} holds whole numbers from {numbers.min()} to "
        f"{numbers.max()} ({numbers.nunique()} different values; {(numbers > 1).sum():,} of its "
        f"{len(holder.frame):,} rows read more than 1), not one lead's outcome: if they count "
        f"conversions, each row adds up many people{totals}, and leadscore learns from one row "
        "per lead, so export the leads themselves (the ad or campaign each came from a column "
        "of it); if they are codes, name the positive one(s) with --positive.")


def chosen_positive(holder: FileProfile, outcome: str, positive: list[str],
                    negative: list[str], guesses: tuple[str, ...]) -> list[str]:
    """The positive value(s) of ``outcome`` in ``holder``: those given, checked against the
    column's values, else the first value that reads as one of ``guesses``.

    Raises:
        LeadscoreError: a column of one value (no outcome yet), a value given that the column
            does not hold, or no positive given or guessed (the sentence lists the values).
    """
    values = holder.frame[outcome].str.lower()
    present = {v for v in values.unique() if v}
    if len(present) == 1:
        raise LeadscoreError(one_value_sentence(holder, outcome))
    for option, given in (("--positive", positive), ("--negative", negative)):
        for value in given:
            if value.lower() not in present:
                shown = ", ".join(sorted(v for v in holder.frame[outcome].unique() if v)[:10])
                raise LeadscoreError(f"{option} {value!r} is not a value of {outcome} (its "
                                     f"values include {shown}); name one as it is written.")
    if not positive:
        counts_sentence(holder, outcome)
    positive = positive or [v for v in values.unique() if v in guesses][:1]
    if not positive:
        shown = capped([repr(v) for v in holder.frame[outcome].value_counts().index if v])
        raise LeadscoreError(f"Name the positive value(s) of {outcome} with --positive (its "
                             f"values: {shown}); none reads as yes, 1, won or converted.")
    return positive
