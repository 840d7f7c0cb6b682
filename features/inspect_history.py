"""``leadscore inspect`` on a stage history beside its leads: one row per lead per stage change
(``LeadId, Stage, ChangedAt``), as Salesforce's LeadHistory or OpportunityHistory and a CRM's
"stage changes" report export it.

Such a file is the larger one, and has no column of one value per row, so inspect took it for
the leads: every stage change a lead of its own, dated by row number, the lead's id a numeric
fit feature. It is the leads' outcomes over time instead: the file with one row per id is the
main one, and the history is drafted as an outcomes file, each row's stage mapped to a contract
stage (or none) and dated by its change date.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from features.contract import name_tokens
from features.inspect_outcomes import unique_keys
from features.inspect_values import may_name_records, positive_stage

if TYPE_CHECKING:
    from features.inspect import Column, FileProfile

HISTORY_SHARE = 0.95
"""A file is a history of another's leads when this share of its key's values are their ids."""

STAGE_TOKENS = frozenset({"stage", "status", "lifecyclestage", "stagename"})


def history_of(file: FileProfile, files: list[FileProfile]
               ) -> tuple[FileProfile, Column, str] | None:
    """(the leads file, the column of ``file`` naming its leads, the leads file's id column)
    when ``file`` has several rows for some leads of another file, one row per id there, and
    no id column of its own; else None."""
    if any(c.kind == "id" for c in file.columns):
        return None
    for other in files:
        if other is file:
            continue
        for id_column, ids in unique_keys(other):
            if id_column.kind != "id":  # a unique date or amount names no lead
                continue
            for column in filter(may_name_records, file.columns):
                values = set(file.frame[column.name].unique()) - {""}
                if (values and len(values) < file.rows
                        and len(values & ids) >= HISTORY_SHARE * len(values)):
                    return other, column, id_column.name
    return None


def stage_column(file: FileProfile, key: Column, outcome: str | None) -> Column | None:
    """The history's stage: ``--outcome`` where it names a column of it, else a category
    named like a stage or status."""
    for column in file.columns:
        if column is key:
            continue
        if column.name == outcome or (outcome is None and column.kind == "categorical"
                                      and name_tokens(column.name) & STAGE_TOKENS):
            return column
    return None


def outcome_per_lead(main: FileProfile, history: FileProfile, key: Column, id_column: str,
                     stage: str, positive: list[str]) -> pd.DataFrame:
    """``main``'s frame with ``stage`` as a column: a positive value where any of the lead's
    history rows holds one, else its last row's value, blank for a lead without history; so the
    main file's columns can be checked for leaks against it."""
    rows = history.frame[[key.name, stage]]
    lowered = {p.lower() for p in positive}
    hit = rows[rows[stage].str.lower().isin(lowered)].drop_duplicates(key.name)
    last = rows.drop_duplicates(key.name, keep="last")
    per_lead = pd.concat([hit, last]).drop_duplicates(key.name).set_index(key.name)[stage]
    return main.frame.assign(**{stage: main.frame[id_column].map(per_lead).fillna("")})


def propose_history(history: FileProfile, main: FileProfile, key: Column, stage: Column,
                    positive: list[str]) -> None:
    """A stage history's roles: its key, its first date the stage's time, its stage mapped to
    the stage each positive value names (``positive_stage``: sql, opportunity, else closed_won)
    and none for the others (to check), the rest ignored
    (a history row says what happened to the lead, never who it is)."""
    dates = [c for c in history.columns if c.kind == "date" and c is not key]
    leads = history.frame[key.name].replace("", pd.NA).dropna()
    history.options.update(key=key.name, kind="outcomes", history=True)
    said = (f"{history.path.name}: {len(history.frame):,} rows for {leads.nunique():,} of the "
            f"{main.rows:,} leads of {main.path.name} (by {key.name}), several per lead: a "
            "history of stage changes, drafted as the leads' outcomes")
    lowered = {p.lower() for p in positive}
    values = [v for v in history.frame[stage.name].value_counts().index if v != ""][:30]
    mapped = ", ".join(f'"{v}": {positive_stage(v) if v.lower() in lowered else "none"}'
                       for v in values)
    stage.role, stage.spec = "stage", f"{{as: stage, values: {{{mapped}}}}}"
    stage.note = ("map each value to a stage (sql, opportunity, closed_won, closed_lost) or "
                  "none" + ("" if lowered & {v.lower() for v in values} else
                            "; none reads positive: name it with --outcome "
                            f"{stage.name} --positive VALUE"))
    said += (f", each dated by {dates[0].name}" if dates else
             ", with no date: give the stage's time by hand")
    said += f": map each {stage.name} value to a stage in the draft"
    history.options["said"] = [said]
    for column in history.columns:
        if column is key:
            column.role = column.spec = "key"
        elif dates and column is dates[0]:
            column.role, column.spec = "occurred_at", "{as: occurred_at}"
        elif column is not stage:
            column.role, column.spec = "ignore", "ignore"
