"""The review's first step: what the API received joins the DuckDB store, by natural key.

Lead upserts, activities, dispositions and outcomes posted over HTTP live in the live store
(``features.live_store``); a review cycle reads the DuckDB store. ``merge_live`` copies the live
rows into it with the same keys a file ingest uses, so running it twice, or ingesting a file that
holds the same rows, changes nothing:

* activities: a row already there is kept;
* dispositions, outcomes: the row with the same key is replaced (as a re-ingest does);
* leads: the fields the API received replace the stored ones, the others are kept. A lead the
  store does not know yet needs a ``created_at`` (the contract's key date); one without it waits
  in the live store until an event or a file ingest brings it.

A row dated more than ``FUTURE_TOLERANCE`` after the clock (the API refuses one, but a live store
written before it did may hold one) waits in the live store until its date comes: merged, it
would move the store's data horizon (``features.horizon``) past today.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from features.contract import TABLES
from features.live_store import (
    live_activities,
    live_dispositions,
    live_leads,
    live_outcomes,
    live_url,
    open_existing,
)
from features.messages import plural
from features.store import connect, publish_lookup
from features.timestamps import FUTURE_TOLERANCE

_LEAD_FIELDS = ("created_at", "source", "title", "company_size", "industry", "country",
                "email_domain", "mql_at", "campaign")


@dataclass(frozen=True)
class LiveMerge:
    """How many live rows the merge wrote into the store (new, or different from the stored
    row), per table; ``unchanged``: the rows offered that the store held already (a rescore or
    an earlier review merged them), which change nothing and are not counted as merged."""

    leads: int
    leads_waiting: int
    activities: int
    dispositions: int
    outcomes: int
    unchanged: int = 0
    future: int = 0

    def line(self) -> str:
        activities = "activity" if self.activities == 1 else "activities"
        text = (f"Live store merged: {plural(self.leads, 'lead')}, {self.activities:,} "
                f"{activities}, {plural(self.dispositions, 'disposition')}, "
                f"{plural(self.outcomes, 'outcome')}")
        if not (self.leads or self.activities or self.dispositions or self.outcomes):
            text = "Live store: nothing new to merge"  # not a list of zeros
        if self.unchanged:
            text += (f"; {plural(self.unchanged, 'row')} "
                     f"{'was' if self.unchanged == 1 else 'were'} in the store already")
        if self.leads_waiting:
            waits = "waits" if self.leads_waiting == 1 else "wait"
            text += f"; {plural(self.leads_waiting, 'lead')} without created_at {waits} for one"
        if self.future:
            text += (f"; {plural(self.future, 'row')} dated more than "
                     f"{plural(FUTURE_TOLERANCE.days, 'day')} after now "
                     f"{'waits' if self.future == 1 else 'wait'} in the live store until "
                     "that date")
        return text + "."


def _json(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value) or value == {}:
        return None
    return json.dumps(value)


def merge_live(config: dict[str, Any]) -> LiveMerge | None:
    """Merge the live store into the DuckDB store; None when there is no live store or store."""
    if not Path(config["store"]).exists():
        return None
    live = open_existing(live_url(config))
    if live is None:
        return None
    try:
        frames = {t.name: live.table(t) for t in
                  (live_leads, live_activities, live_dispositions, live_outcomes)}
    finally:
        live.close()
    frames, future = _dated_so_far(frames, datetime.now(UTC).replace(tzinfo=None))
    if all(frame.empty for frame in frames.values()):
        # nothing to write: the store is not even opened
        return LiveMerge(0, 0, 0, 0, 0, future=future)
    with connect(config["store"]) as con:
        counts = _merge(con, frames)
        publish_lookup(con, config["store"])
    return replace(counts, future=future)


_DATES = {"live_leads": ("created_at", "mql_at"), "live_activities": ("occurred_at",),
          "live_dispositions": ("dispositioned_at",), "live_outcomes": ("occurred_at",)}
"""Each live table's columns that date a record (the ones the data horizon reads)."""


def _dated_so_far(frames: dict[str, pd.DataFrame], now: datetime
                  ) -> tuple[dict[str, pd.DataFrame], int]:
    """The live rows dated up to ``now`` plus the tolerance, and how many are dated later."""
    latest = pd.Timestamp(now + FUTURE_TOLERANCE)
    out, later = {}, 0
    for name, frame in frames.items():
        ahead = pd.Series(False, index=frame.index)
        for column in _DATES[name]:
            ahead |= pd.to_datetime(frame[column]) > latest
        later += int(ahead.sum())
        out[name] = frame[~ahead] if ahead.any() else frame
    return out, later


def _insert(con: Any, table: str, frame: pd.DataFrame, verb: str) -> int:
    """Insert (or replace) the live rows of ``table``; how many were new or differed from the
    stored row with their key (a row equal in every column changes nothing)."""
    if frame.empty:
        return 0
    columns = list(TABLES[table].columns)
    con.register("live_rows", frame[columns])
    try:
        same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM l.{c}" for c in columns)
        fresh = con.execute(f"SELECT count(*) FROM live_rows l WHERE NOT EXISTS "
                            f"(SELECT 1 FROM {table} t WHERE {same})").fetchone()[0]
        con.execute(f"INSERT {verb} INTO {table} ({', '.join(columns)}) "
                    f"SELECT {', '.join(columns)} FROM live_rows")
    finally:
        con.unregister("live_rows")
    return int(fresh)


def _merge(con: Any, frames: dict[str, pd.DataFrame]) -> LiveMerge:
    leads = frames["live_leads"]
    known = set()
    written = 0
    if not leads.empty:
        con.register("live_ids", pd.DataFrame({"lead_id": leads["lead_id"]}))
        known = {r[0] for r in con.execute(
            "SELECT lead_id FROM leads WHERE lead_id IN (SELECT lead_id FROM live_ids)").fetchall()}
        con.unregister("live_ids")
    mergeable = leads[leads["lead_id"].isin(known) | leads["created_at"].notna()].copy()
    if not mergeable.empty:
        mergeable["attributes"] = mergeable["attributes"].map(_json)
        mergeable["known"] = mergeable["lead_id"].isin(known)
        con.register("live_rows", mergeable[["lead_id", "known", *_LEAD_FIELDS, "attributes"]])
        fields = (*_LEAD_FIELDS, "attributes")
        con.execute(
            f"INSERT INTO leads (lead_id, {', '.join(fields)}) "
            f"SELECT lead_id, {', '.join(_LEAD_FIELDS)}, attributes::JSON FROM live_rows "
            "WHERE NOT known")
        merged = {c: f"COALESCE(live_rows.{c}{'::JSON' if c == 'attributes' else ''}, leads.{c})"
                  for c in fields}
        changed = con.execute(
            "SELECT count(*) FROM live_rows JOIN leads USING (lead_id) WHERE live_rows.known "
            "AND (" + " OR ".join(f"{v} IS DISTINCT FROM leads.{c}" for c, v in merged.items())
            + ")").fetchone()[0]
        written = int((~mergeable["known"]).sum()) + int(changed)
        sets = ", ".join(f"{c} = {v}" for c, v in merged.items())
        con.execute(f"UPDATE leads SET {sets} FROM live_rows "
                    "WHERE live_rows.known AND leads.lead_id = live_rows.lead_id")
        con.unregister("live_rows")
    counts = {"activities": _insert(con, "activities", frames["live_activities"], "OR IGNORE"),
              "dispositions": _insert(con, "dispositions", frames["live_dispositions"],
                                      "OR REPLACE"),
              "outcomes": _insert(con, "outcomes", frames["live_outcomes"], "OR REPLACE")}
    offered = len(mergeable) + sum(len(frames[f"live_{t}"]) for t in counts)
    return LiveMerge(leads=written, leads_waiting=len(leads) - len(mergeable), **counts,
                     unchanged=offered - written - sum(counts.values()))
