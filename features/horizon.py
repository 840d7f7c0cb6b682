"""The store's data horizon: the day the evidence in the store runs to.

A lead with no verdict becomes a "no conversion" negative once its maturity window has closed. An
export only shows what had happened when it was taken, so a window that closes after that day is
not closed by the export: a conversion on a later day is simply not in it. Labels therefore judge
maturity as of ``min(review date, horizon)`` (``features.labels``); the leads in between stay
unknown, as a lead inside its window does.

The horizon is, by default, the store's last record: the latest lead created or made an MQL,
activity, verdict or outcome. An export taken later than its last record (a final snapshot, a
quiet month) is declared with ``exported_at:`` in the mapping or ``leadscore ingest
--exported-at DATE``: its outcomes are final up to the end of that day. The declaration lives in
the store (``store_metadata``) and only ever moves forward: an older export ingested later does
not pull it back.

Nothing moves the horizon past today: the live endpoints refuse a record dated more than
``features.timestamps.FUTURE_TOLERANCE`` after the server's clock, the review's merge
(``features.live_sync``) leaves one a live store already holds waiting there until its date, and
a record an export brought in dated after the clock (a typo'd year) is left out of the last
record until its date comes (``future_records`` counts them; ingest says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd

from features.messages import plural
from features.timestamps import FUTURE_TOLERANCE
from leadscore.errors import LeadscoreError

__all__ = ["EXPORTED_AT", "Horizon", "clock_limit", "data_horizon", "declared_export",
           "future_note", "future_records", "horizon_sentence", "last_record",
           "recorded_columns", "store_horizon"]

EXPORTED_AT = "exported_at"
LAST_RECORD, DECLARED = "last record", "declared export date"
# every contract column that dates something the export recorded
_RECORDED = (("leads", "created_at"), ("leads", "mql_at"), ("activities", "occurred_at"),
             ("dispositions", "dispositioned_at"), ("outcomes", "occurred_at"))


@dataclass(frozen=True)
class Horizon:
    """Where the store's evidence ends (``at``) and why (``source``)."""

    at: datetime
    source: str  # LAST_RECORD or DECLARED
    last_record: datetime
    declared: date | None = None

    @property
    def runs_to(self) -> date:
        """The day the evidence runs to, as people say it (the declared day, or the last
        record's)."""
        return self.declared if self.source == DECLARED and self.declared else self.at.date()

    def judged(self, as_of: datetime) -> datetime:
        """The moment maturity is judged at for a review as of ``as_of``."""
        return min(as_of, self.at)


def _naive(value: Any) -> datetime:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()


def end_of(day: date) -> datetime:
    # an export taken on a day holds that day's records: its evidence runs to the day's end
    return datetime(day.year, day.month, day.day) + timedelta(days=1)


def last_record(con: duckdb.DuckDBPyConnection,
                columns: list[tuple[str, str]] | None = None,
                until: datetime | None = None) -> datetime | None:
    """The latest moment the store records (or the given ``(relation, column)`` pairs do), of
    the records dated up to ``until`` (None: every record)."""
    columns = list(_RECORDED) if columns is None else columns
    if not columns:
        return None
    where = "" if until is None else f" WHERE {{column}} <= TIMESTAMP '{until:%Y-%m-%d %H:%M:%S}'"
    parts = ", ".join(f"(SELECT max({column}) FROM {relation}{where.format(column=column)})"
                      for relation, column in columns)
    try:
        value = con.execute(f"SELECT greatest({parts})").fetchone()[0]
    except duckdb.CatalogException:
        return None  # not a leadscore store: the label code says so in its own words
    return None if value is None else _naive(value)


def future_records(con: duckdb.DuckDBPyConnection,
                   now: datetime | None = None) -> tuple[int, datetime | None]:
    """How many records are dated more than ``FUTURE_TOLERANCE`` after ``now`` (default: the
    clock), and the latest of them: a typo'd year (2062 for 2026) or a scheduled event exported
    as done. They stay in the store, but the horizon leaves them out until their date."""
    cut = clock_limit(now)
    count, latest = 0, None
    for relation, column in _RECORDED:
        try:
            n, top = con.execute(f"SELECT count(*), max({column}) FROM {relation} "
                                 f"WHERE {column} > ?", [cut]).fetchone()
        except duckdb.CatalogException:
            continue
        count += int(n)
        if top is not None and (latest is None or _naive(top) > latest):
            latest = _naive(top)
    return count, latest


def future_note(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> str | None:
    """What ingest says of records dated after the clock (``future_records``), or None."""
    count, latest = future_records(con, now)
    if not count:
        return None
    them = "it" if count == 1 else "them"
    return (f"{plural(count, 'record')} of the store {'is' if count == 1 else 'are'} dated after "
            f"today (the latest {latest:%Y-%m-%d}): kept, but the store's data horizon leaves "
            f"{them} out until that day comes; check the export's dates (a year typed wrong?)")


def clock_limit(now: datetime | None = None) -> datetime:
    """The latest moment a record may be dated and have happened: ``now`` (default: the clock)
    plus ``FUTURE_TOLERANCE``."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    return now + FUTURE_TOLERANCE


def recorded_columns(table: str) -> list[str]:
    """The columns of a contract table that date something the export recorded."""
    return [column for name, column in _RECORDED if name == table]


def declared_export(con: duckdb.DuckDBPyConnection) -> date | None:
    """The export date declared at ingest, if any (a store from before declarations has none)."""
    try:
        row = con.execute("SELECT value FROM store_metadata WHERE key = ?",
                          [EXPORTED_AT]).fetchone()
    except duckdb.CatalogException:
        return None
    return None if row is None else date.fromisoformat(row[0])


def data_horizon(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> Horizon | None:
    """The store's horizon: the end of the declared export day or the last record, the later of
    the two (a record proves the evidence runs at least that far); None for an empty store. A
    record dated more than ``FUTURE_TOLERANCE`` after ``now`` (default: the clock) has not
    happened yet: it does not count (``future_records``)."""
    last = last_record(con, until=clock_limit(now))
    if last is None:
        return None
    declared = declared_export(con)
    if declared is not None and end_of(declared) >= last:
        return Horizon(end_of(declared), DECLARED, last, declared)
    return Horizon(last, LAST_RECORD, last, declared)


def store_horizon(con: duckdb.DuckDBPyConnection) -> Horizon:
    """``data_horizon`` of a store that must hold something.

    Raises:
        LeadscoreError: the store holds no lead.
    """
    horizon = data_horizon(con)
    if horizon is None:
        raise LeadscoreError("The store holds no leads: ingest an export into it first "
                             "(leadscore ingest PATH).")
    return horizon


def horizon_sentence(summary: dict[str, Any]) -> str | None:
    """The one sentence a review says when its date is after the store's horizon; None when it
    is not (``summary`` is ``features.labels.label_summary``'s)."""
    horizon, as_of = summary.get("horizon"), summary.get("as_of")
    if not horizon or not as_of or datetime.fromisoformat(as_of) <= datetime.fromisoformat(
            horizon):
        return None
    open_leads = int(summary.get("past_horizon_leads") or 0)
    decided = int(summary.get("past_horizon_decided_leads") or 0)
    if not open_leads and not decided:
        return None  # no lead's window ends between the two: the date costs no evidence
    source = summary.get("horizon_source") or LAST_RECORD
    runs_to = summary.get("horizon_day") or (  # a summary logged before horizon_day existed
        datetime.fromisoformat(horizon).date() - timedelta(days=1 if source == DECLARED else 0)
    ).isoformat()
    days = int(summary.get("maturity_days") or 0)
    # the open and the decided leads are different leads: each count is said of its own
    lost = []
    if open_leads:
        lost.append(f"{plural(open_leads, 'open lead')} {'is' if open_leads == 1 else 'are'} left "
                    "unlabelled, not counted as no conversion")
    if decided:
        lost.append(f"{plural(decided, 'lead')} with a verdict {'is' if decided == 1 else 'are'} "
                    "not learned from yet")
    return (f"The store's evidence runs to {runs_to} (its {source}), before the "
            f"review date {datetime.fromisoformat(as_of).date().isoformat()}; of the leads whose "
            f"{days}-day window ends between the two, {' and '.join(lost)}; if the export was "
            "taken later, declare it with `exported_at:` in the mapping or "
            "`leadscore ingest --exported-at`.")
