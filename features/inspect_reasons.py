"""``leadscore inspect`` on a column of the reps' reasons ("Reason Unqualified", "Lost Reason",
"Disqualification Reason"): the draft keeps it out of the model (it is written after contact),
and offers, commented out, the ``disposition_reason`` block that would teach the model from it,
each value's reason code guessed from its words.

The reasons are what leadscore exists to learn from: a "no budget" rejection says the lead's
timing or intent was wrong, a "wrong title" one that the lead does not fit, and "junk" that the
row says nothing. A guess is only a guess: the block is commented out, every line says so, and a
value no rule recognises is marked ``CHOOSE``, which the mapping refuses until a person picks its
code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from features.inspect_values import named_with, quote, quote_always
from features.label_policy import load_policy
from features.mapping import CHOOSE

if TYPE_CHECKING:
    from features.inspect import Column, FileProfile

REASON_NAMES = frozenset({"reason", "reasons", "disqualification", "disqualified", "unqualified",
                          "rejection", "rejected", "lost", "disposition", "verdict"})
MAX_REASONS = 60
"""A reasons column is a short pick-list; more distinct values are free text, not codes."""

GUESSES: tuple[tuple[str, str], ...] = (
    # order matters: the first rule whose words appear decides ("no budget" before "no")
    (r"\b(meeting|demo)\b.*\b(booked|set|scheduled)\b", "meeting_booked"),
    (r"\b(junk|spam|fake|test lead|gibberish)\b", "junk_contact"),
    (r"\b(invalid|bounced?|wrong (number|e-?mail|phone)|bad (e-?mail|phone|data))\b",
     "invalid_contact"),
    (r"\b(duplicate|dupe|already in (crm|system))\b", "duplicate"),
    (r"\b(budget|price|pricing|expensive|cost|afford)", "no_budget"),
    (r"\b(timing|later|next (quarter|year|month)|not now|timeline|future)\b", "bad_timing"),
    (r"\b(competitor|competition|lost to|went with|chose another|other vendor)\b", "competitor"),
    (r"\b(no response|unresponsive|no answer|unreachable|not reachable|ghost|ringing|"
     r"no contact|could not reach|couldn't reach|no reply)\b", "no_response"),
    (r"\b(not interested|no interest|uninterested)\b", "not_interested"),
    (r"\b(no need|no active need|no project|no use case|nothing to buy)\b", "no_active_need"),
    (r"\b(wrong (contact|title|person|role)|not (a |the )?decision maker|no authority|"
     r"wrong department)\b", "wrong_title"),
    (r"\b(too small|too large|too big|company size|size)\b", "wrong_company_size"),
    (r"\b(region|geograph|country|territory|location)", "wrong_geography"),
    (r"\bstudents?\b", "student"),
    (r"\b(existing|already a|current) (customer|client)\b", "already_customer"),
    (r"\b(not a fit|bad fit|poor fit|no fit|out of icp|not icp|not qualified|unqualified|"
     r"not eligible)\b", "out_of_icp"),
    (r"\b(nurture|recycled?)\b", "recycled"),
    (r"\b(no longer interested|lost interest)\b", "not_interested"),
    (r"\b(cannot|can't|unable to|could not) (contact|reach)\b", "no_response"),
    # Dynamics 365's "Qualified", Salesforce's "Closed - Converted": the lead's positive verdict
    # (after the rules above, so "not qualified" is out_of_icp and "not converted" no guess)
    (r"(?<!not )\b(qualified|converted)\b", "converted"),
    (r"\bnot (qualified|converted)\b", ""),
    # a lead still being worked ("New", "Contacted", "Open - Not Contacted"): no verdict yet
    (r"\b(new|open|contacted|working|in progress|attempting|attempted)\b", "in_progress"),
)
STATUS_OF = {"positive": "converted", "fit_negative": "rejected", "intent_negative": "rejected",
             "excluded": "disqualified", "open": "working"}


STATUS_NAMES = frozenset({"status"})
REJECTED_FAMILIES = frozenset({"fit_negative", "intent_negative"})


def is_reasons(column: Column, outcome: str | None, values: Iterable[str] = ()) -> bool:
    """Whether ``column`` reads as the reps' reasons: a short pick-list named like one, or a
    status whose values are reasons (HubSpot's "Lead Status": "Unqualified - Budget", "Bad
    Timing"), at least two of its ``values`` a rejection's reason."""
    if not (outcome is not None and column.name != outcome and column.kind == "categorical"
            and 2 <= column.distinct <= MAX_REASONS and not column.personal):
        return False
    if named_with(column.name, REASON_NAMES):
        return True
    if not named_with(column.name, STATUS_NAMES):
        return False
    families = load_policy().reason_codes
    rejections = {code for value in set(values)
                  if (code := guess(value)) and families.get(code) in REJECTED_FAMILIES}
    return len(rejections) >= 2


def guess(value: str) -> str | None:
    """The label policy's reason code a reason's words point to, or None."""
    text = value.lower().replace("_", " ").replace("-", " ")
    return next((code for pattern, code in GUESSES if re.search(pattern, text)), None) or None


def reasons_block(file: FileProfile, column: Column, policy: dict[str, str]) -> list[str]:
    """The commented-out ``disposition_reason`` block for ``column``: each value with its
    guessed status and reason code (``policy``: reason code -> family), ``CHOOSE`` where no
    rule matched."""
    values = [v for v in file.frame[column.name].value_counts().index if v][:MAX_REASONS]
    dated = reasons_date(file, column)
    when = f"      #   date: {dated}" if dated else "      #   after_days: 0"
    lines = [f"      # {column.name} reads like the reps' reasons. To teach the model from them "
             "(fit vs intent rejections, junk left out), replace the line below with this block:",
             "      # check every guessed code (features/label_policy.yaml) and give each "
             "CHOOSE one.",
             f"      # {quote(column.name)}:",
             "      #   role: disposition_reason",
             "      #   keep: post_outcome",
             when,
             "      #   values:"]
    lines += [f"      #     {quote_always(value)}: {drafted_value(value, policy)}"
              for value in values]
    return lines


def reasons_date(file: FileProfile, column: Column) -> str | None:
    """The date column filled on every row that gives a reason and blank on most that give
    none (Pipedrive's "Lost time" beside "Lost reason"): the day the verdict was given, which
    dates it, where ``after_days: 0`` would date it at the lead's creation, before it happened.
    A column drafted as a timestamp of the lead (created, MQL) dates the lead, not the verdict."""
    given = file.frame[column.name] != ""
    if not given.any() or given.all():
        return None
    for other in file.columns:
        if other.kind != "date" or other.role.startswith("timestamp"):
            continue
        filled = file.frame[other.name] != ""
        if filled[given].all() and not filled[~given].mean() > 0.5:
            return other.name
    return None


def drafted_value(value: str, policy: Mapping[str, str]) -> str:
    """The status and reason code a reason value is drafted as (``policy``: reason code ->
    family): its guessed code with the status of its family (a positive one ``converted``, a
    lead still worked ``working``), else ``rejected`` and ``CHOOSE`` for a person to pick."""
    code = guess(value)
    if code is None or code not in policy:
        return f"{{status: rejected, reason_code: {CHOOSE}}}"
    status = "recycled" if code == "recycled" else STATUS_OF.get(policy[code], "rejected")
    return f"{{status: {status}, reason_code: {code}}}"

