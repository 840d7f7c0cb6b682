"""The one timestamp rule of every scoring path: the API, ``leadscore score``, Spark and the pyfunc;
ingestion holds what it stores to the same range (``YEARS``).

A timestamp (a lead's ``created_at``, ``mql_at`` and ``as_of``, an activity's ``occurred_at``) is

* ISO 8601 text: ``2026-11-02T09:30:00Z``, ``2026-11-02T11:30:00+02:00``, ``2026-11-02`` (a
  value without a zone is UTC), or
* Unix seconds, as a number or as digits (``1762075800``; beyond 2e10 pydantic reads
  milliseconds), or a datetime,

and falls in 2000..2199 (UTC). The range is what keeps a compact date out: ``"20261102"`` is
digits, so Unix seconds, so 1970-08-23, which is refused with a sentence saying how to write it
rather than read as 1970 in silence. Years before 2000 are typos in a lead-scoring export, and
years past 2199 overflow the window arithmetic.

The API validates with pydantic-core (``serving.schemas.EventTime`` is built from ``EARLIEST``
and ``LATEST``); batch rows arrive as text or Parquet values and go through ``parse_timestamp``,
which runs the same pydantic-core validator, so both read every value alike and refuse it with
``TIMESTAMP_RULE``. Ingestion reads more spellings (``03/01/2026 14:05``, a v2 mapping's
formats) but stores only what falls in the same range, and says so with ``YEARS``
(``features.ingest_sql.timestamp``): nothing it stores is later refused by a scoring path, and a
score-by-id request merging the stored history checks it against this rule all the same
(``serving.live``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
YEARS = f"{EARLIEST.year}..{LATEST.year - 1} (UTC)"
"""The range every path states, ingestion's included."""
TIMESTAMP_RULE = (
    "must be a timestamp written as ISO 8601 (2026-11-02T09:30:00Z or 2026-11-02) or as Unix "
    f"seconds, in {YEARS}: a spreadsheet's date such as 02/11/2026 or 11/02/2026 2:30 PM is not "
    "read (which is the day?), and a compact date such as 20261102 reads as Unix seconds "
    "(1970), so write it 2026-11-02"
)
"""What every path says about a timestamp it refuses, after the field's name. The format comes
first: most refused values are a CRM's spreadsheet dates, not years out of range, and a sentence
leading with the range read as if 19/07/2025 were outside it."""

_MONTH_DATES = ("%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%d %b %Y", "%d %B %Y", "%d-%b-%y",
                "%d-%b-%Y")
MONTH_NAME_FORMATS = tuple(f"{day}{clock}" for day in _MONTH_DATES
                           for clock in ("", " %I:%M %p", " %I:%M:%S %p", " %H:%M", " %H:%M:%S"))
"""Dates written with the month's English name (Zoho CRM's default "Mar 12, 2021 04:15 PM",
"12 Mar 2021", "12-Mar-21"), as strptime formats: one reading each, with no day/month order to
choose. Ingestion through a v2 mapping reads them besides the numeric forms
(``features.export_v2``); every scoring path still takes ISO 8601 only."""

_ADAPTER: TypeAdapter[datetime] = TypeAdapter(
    Annotated[datetime, Field(ge=EARLIEST, lt=LATEST, strict=False)]
)


class TimestampError(ValueError):
    """A value that is no timestamp under the rule; its message is ``TIMESTAMP_RULE``."""

    def __init__(self) -> None:
        super().__init__(TIMESTAMP_RULE)


def parse_timestamp(value: Any) -> datetime:
    """``value`` as a UTC datetime under the module's rule (what the API's validation gives).

    Raises:
        TimestampError: when the value is not a timestamp or falls outside 2000..2199.
    """
    if isinstance(value, str):
        value = value.strip()
    elif isinstance(value, bool):  # pydantic would take True as 1 second past 1970
        raise TimestampError()
    elif isinstance(value, datetime) and type(value) is not datetime:
        value = datetime.fromisoformat(value.isoformat())  # pandas' Timestamp, as a datetime
    try:
        parsed = _ADAPTER.validate_python(value)
    except (ValidationError, TypeError, ValueError, OverflowError):
        raise TimestampError() from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


FUTURE_TOLERANCE = timedelta(days=1)
"""How far after the server's clock a posted record may be dated: room for a sender's clock that
runs ahead or a time zone written wrong, never a date that has not come."""


def future_problem(value: datetime | None, now: datetime | None = None) -> str | None:
    """What the live loop says of a record dated more than ``FUTURE_TOLERANCE`` after ``now``
    (default: the clock), after the field's name; None when it is not.

    A record tells what has happened: one dated a year ahead (a typo, a sender's clock, a
    scheduled webinar posted as attended) would move the store's data horizon
    (``features.horizon``) past today, and reviews would judge maturity against evidence that
    does not exist yet.
    """
    if value is None:
        return None
    clock = (now or datetime.now(UTC)).astimezone(UTC)
    at = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if at <= clock + FUTURE_TOLERANCE:
        return None
    return (f"is dated after the server's clock ({clock:%Y-%m-%d %H:%M} UTC) by more than the "
            f"{FUTURE_TOLERANCE.days} day allowed for clock skew: post a record once it has "
            "happened, and check the sender's clock and time zone")


def in_range_us(at_us: int) -> bool:
    """Whether epoch microseconds ``at_us`` fall in the rule's range (a parsed value's check)."""
    return _EARLIEST_US <= at_us < _LATEST_US


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EARLIEST_US = (EARLIEST - _EPOCH) // timedelta(microseconds=1)
_LATEST_US = (LATEST - _EPOCH) // timedelta(microseconds=1)


def stored_history_problem(fields: Mapping[str, Any],
                           activities: Sequence[Mapping[str, Any]]) -> str | None:
    """What of a lead's stored history (its stored fields and activities, as score-by-id merges
    them) the rule refuses, as one sentence's middle, or None when all of it passes.

    Ingestion and the API store only timestamps under the rule, but a store ingested before
    ingestion held to it may hold earlier years; batch scoring refuses them in a file, so a
    lead scored by id must not be scored from them in silence.
    """
    for key in HISTORY_TIMESTAMPS:
        if fields.get(key) is not None and not _within(fields[key]):
            return f"its stored {key} is outside {YEARS}"
    for activity in activities:
        if not _within(activity.get("occurred_at")):
            return f"a stored activity's occurred_at is outside {YEARS}"
    return None


HISTORY_TIMESTAMPS = ("created_at", "mql_at")
"""The timestamps among a stored lead's fields (``features.store.SCORING_LEAD_COLUMNS``)."""


def _within(value: Any) -> bool:
    if type(value) is datetime:  # what the stores give: naive UTC, checked without a parse
        at = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return EARLIEST <= at < LATEST
    try:
        parse_timestamp(value)
    except TimestampError:
        return False
    return True
