"""Intent: what the lead did, counted from its activities up to the scoring moment ``as_of``.

Only activities with ``occurred_at <= as_of`` count; anything later does not exist for a feature.
A window of W days is the half-open interval ``(as_of - W days, as_of]``: an activity exactly at
``as_of`` counts, one exactly W days earlier does not.

One declarative definition, ``intent_definition(windows)``: a tuple of ``IntentFeature`` (a
count of an activity type in a window, the days since the last activity of a kind, the active
days in a window, the trend between two windows). Both paths are generated from it:

* online: ``features.intent_kernel.intent_matrix`` runs one compiled kernel over the activities
  of a whole request, driven by the definition's arrays (operation, window, which activity
  types);
* batch: ``intent_sql`` is one DuckDB query with one aggregate per feature, written from the
  definition.

Both produce the same integers (counts, ages in microseconds since the Unix epoch, UTC) and
``finish`` turns them into features with one arithmetic, so a window edge or a "days since" value
is the same number in DuckDB and in Python. Adding an intent feature is one line in
``intent_definition`` (docs/features.md); ``tests/features/reference.py`` holds the plain-Python
reference both paths are tested against.

Recency and frequency are given to the model raw (counts per window, days since); the model learns
how intent decays, nobody sets a half-life by hand.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

import numpy as np

from features.contract import ACTIVITY_TYPES
from leadscore.errors import LeadscoreError

DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1)
EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
OTHER_WINDOW_DAYS = 30
TREND_SHORT_DAYS = 7
TREND_LONG_DAYS = 30


def activity_type_key(raw: Any) -> str:
    """An activity type in lower snake case, as ingestion stores it ("Page View" -> "page_view")."""
    return re.sub(r"[^0-9a-z]+", "_", str(raw).strip().lower()).strip("_")


def to_epoch_us(value: datetime | str) -> int:
    """Microseconds since the Unix epoch (UTC) of a datetime or an ISO-8601 string.

    A naive value is read as UTC, as the store keeps every timestamp.

    Raises:
        ValueError: when a string is not an ISO-8601 timestamp.
        TypeError: when the value is neither a datetime nor a string.
    """
    if type(value) is not datetime:
        if isinstance(value, str):
            value = datetime.fromisoformat(value.strip())
        elif not isinstance(value, datetime):
            raise TypeError(
                f"expected a datetime or an ISO-8601 string, got {type(value).__name__}"
            )
    if value.tzinfo is None or value.utcoffset() is None:
        us = (value - _EPOCH) // ONE_US
    else:
        us = (value - EPOCH_UTC) // ONE_US  # aware: the difference of the two instants
    if type(us) is not int:  # pandas' NaT passes for a datetime and gives NaN
        raise ValueError("not a timestamp")
    return us


def days(age_us: int | None) -> float:
    """An age in microseconds as days (float); NaN when there is no age."""
    if age_us is None:
        return math.nan
    return age_us / DAY_US


def trend(n_short: int, n_long: int) -> float:
    """Activity in the last 7 days against the 23 before, both scaled to 7 days, smoothed by +1.

    > 1 means the lead is warming up, < 1 cooling down, 1 no change (or no activity at all).
    """
    earlier = n_long - n_short
    return (n_short + 1) / (earlier * TREND_SHORT_DAYS / (TREND_LONG_DAYS - TREND_SHORT_DAYS) + 1)


def windows_days(config: Mapping[str, Any]) -> tuple[int, ...]:
    """The configured count windows (``features.windows_days``), validated.

    Raises:
        LeadscoreError: when a window is not a positive whole number of days.
    """
    raw = (config.get("features") or {}).get("windows_days") or (1, 7, 30, 90)
    out = []
    for w in raw:
        if isinstance(w, bool) or not isinstance(w, int | float) or w != int(w) or w <= 0:
            raise LeadscoreError(
                f"features.windows_days holds {w!r}: use positive whole numbers of days, "
                "for example [1, 7, 30, 90]."
            )
        out.append(int(w))
    return tuple(sorted(set(out)))


def high_intent_types(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The activity types whose recency is ``days_since_high_intent``."""
    raw = (config.get("features") or {}).get("high_intent_activities")
    if raw is None:
        raw = ("demo_request", "pricing_view")
    return tuple(activity_type_key(t) for t in raw)


def count_name(activity_type: str, window: int) -> str:
    return f"n_{activity_type}_{window}d"


# ---- the definition -----------------------------------------------------------------------------

ALL = "*"
"""Activity selector: every activity."""
OTHER = "*other*"
"""Activity selector: activities of a type outside the contract's ``ACTIVITY_TYPES``."""
HIGH = "*high*"
"""Activity selector: the configured high-intent types (``features.high_intent_activities``)."""
Kind = Literal["count", "days_since", "active_days", "trend"]
NO_WINDOW_US = 2**62
"""A window longer than any age (146,000 years): "every past activity"."""
NO_DAY = -(2**62)
"""No day seen yet (day numbers of real timestamps are far from it, before 1970 too)."""


@dataclass(frozen=True, eq=False)  # hashed by identity: a cache key on every request
class IntentFeature:
    """One intent feature, declared by what it computes from a lead's activities up to ``as_of``.

    Attributes:
        name: the feature's column name.
        kind: ``count`` (activities in the window), ``days_since`` (days since the last one; NaN
            when there is none), ``active_days`` (distinct UTC days with one in the window) or
            ``trend`` (``(n_short + 1) / ((n_long - n_short) * short / (long - short) + 1)``
            with ``window_days`` short and ``long_days`` long).
        activity: which activities count: an activity type key, ``ALL``, ``OTHER`` or ``HIGH``.
        window_days: the window ``(as_of - W days, as_of]``; None for no window.
        long_days: the long window of a ``trend``.
        label, definition, zero_label, missing_label: the reason texts and the documentation
            sentence (``features.definitions.FeatureSpec``); ``{high}`` becomes the configured
            high-intent activities in words. A count of a contract type takes its texts from
            ``features.definitions.count_spec``.
    """

    name: str
    kind: Kind
    activity: str = ALL
    window_days: int | None = None
    long_days: int | None = None
    label: str = ""
    definition: str = ""
    zero_label: str | None = None
    missing_label: str | None = None


@lru_cache(maxsize=64)
def intent_definition(windows: tuple[int, ...]) -> tuple[IntentFeature, ...]:
    """Every intent feature, in model column order: the one place an intent feature is added."""
    counts = tuple(IntentFeature(count_name(t, w), "count", t, w)
                   for t in ACTIVITY_TYPES for w in windows)
    other = OTHER_WINDOW_DAYS
    return (*counts,
        IntentFeature(f"n_other_{other}d", "count", OTHER, other,
                      label=f"Other activity {{times}} in the last {other} days",
                      definition=f"Activities of types outside the contract's list in the last "
                                 f"{other} days.",
                      zero_label=f"No other activity in the last {other} days"),
        IntentFeature("days_since_high_intent", "days_since", HIGH,
                      label="Last {high} {days} ago",
                      definition="Days from the last {high_types} activity to as_of (NaN if "
                                 "none; the config's features.high_intent_activities).",
                      missing_label="No {high} yet"),
        IntentFeature("days_since_last_activity", "days_since", ALL,
                      label="Last activity {days} ago",
                      definition="Days from the last activity of any type to as_of (NaN if none).",
                      missing_label="No activity yet"),
        IntentFeature("active_days_30d", "active_days", ALL, 30,
                      label="Active on {n} day{s} in the last 30 days",
                      definition="Distinct UTC calendar days with any activity in the last 30 "
                                 "days.",
                      zero_label="No activity in the last 30 days"),
        IntentFeature("active_days_90d", "active_days", ALL, 90,
                      label="Active on {n} day{s} in the last 90 days",
                      definition="Distinct UTC calendar days with any activity in the last 90 "
                                 "days.",
                      zero_label="No activity in the last 90 days"),
        IntentFeature("trend_7_30", "trend", ALL, TREND_SHORT_DAYS, TREND_LONG_DAYS,
                      label="Activity pace in the last 7 days: {value}x the 23 days before",
                      definition="(n_all_7d + 1) / ((n_all_30d - n_all_7d) * 7 / 23 + 1) over all "
                                 "activity types: above 1 the lead is warming up, below 1 "
                                 "cooling down."),
    )


def intent_feature_names(windows: Sequence[int]) -> list[str]:
    """The intent features in registry order (attributes come after them)."""
    return [f.name for f in intent_definition(tuple(windows))]


OPS = {"count": 0, "days_since": 1, "active_days": 2, "trend": 3}


def limit_us(days_: int | None) -> int:
    return NO_WINDOW_US if days_ is None else min(days_ * DAY_US, NO_WINDOW_US)


def finish(definition: Sequence[IntentFeature], first: np.ndarray,
           second: np.ndarray) -> np.ndarray:
    """The features from the integers both paths aggregate: ``(n, len(definition))`` float64.

    ``first[:, j]`` is feature j's count, last age in microseconds (-1 when none) or active days;
    ``second[:, j]`` a trend's long-window count. Integers below 2**53 are exact doubles, so this
    arithmetic gives, bit for bit, what Python's ``int / int`` gives in the reference.
    """
    plain, ages, trends, short, long = _finish_plan(tuple(definition))
    out = np.empty(first.shape, dtype=np.float64)
    out[:, plain] = first[:, plain]
    if len(ages):
        out[:, ages] = _days(first[:, ages])
    if len(trends):
        n_short, n_long = first[:, trends], second[:, trends]
        out[:, trends] = (n_short + 1) / ((n_long - n_short) * short / (long - short) + 1)
    return out


@lru_cache(maxsize=64)
def _finish_plan(definition: tuple[IntentFeature, ...]) -> tuple[np.ndarray, ...]:
    """Which columns ``finish`` copies, turns into days, or into a trend (with its windows)."""
    kinds = [f.kind for f in definition]
    plain = np.array([j for j, k in enumerate(kinds) if k in ("count", "active_days")],
                     dtype=np.intp)
    ages = np.array([j for j, k in enumerate(kinds) if k == "days_since"], dtype=np.intp)
    trends = np.array([j for j, k in enumerate(kinds) if k == "trend"], dtype=np.intp)
    short = np.array([definition[j].window_days for j in trends], dtype=np.int64)
    long = np.array([definition[j].long_days for j in trends], dtype=np.int64)
    return plain, ages, trends, short, long


# ---- days, as both paths compute them -----------------------------------------------------------

SAFE_AGE_US = 2**53
"""Below this (285 years) an age converts to a double exactly, so ``age / DAY_US`` computed on
doubles is the correctly rounded quotient Python's ``int / int`` gives."""


def _days(age_us: np.ndarray) -> np.ndarray:
    """``days`` of int64 ages (any shape), -1 standing for None (ages are never negative)."""
    known = age_us >= 0
    if not known.any() or age_us.max() < SAFE_AGE_US:
        return np.where(known, age_us / DAY_US, math.nan)
    return np.array([days(int(a) if a >= 0 else None) for a in age_us.ravel().tolist()],
                    dtype=np.float64).reshape(age_us.shape)


# ---- batch: the SQL -----------------------------------------------------------------------------

def _quoted(values: Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values) or "NULL"


def _selects_sql(activity: str, high_intent: Sequence[str]) -> str:
    if activity == ALL:
        return "TRUE"
    if activity == OTHER:
        return f"t NOT IN ({_quoted(ACTIVITY_TYPES)})"
    if activity == HIGH:
        return f"t IN ({_quoted(high_intent)})"
    return f"t = {_quoted([activity])}"


def intent_sql(
    windows: Sequence[int], high_intent: Sequence[str], points: str = "points"
) -> str:
    """The DuckDB query that aggregates activities for a table of scoring points, written from
    ``intent_definition(windows)``.

    ``points`` must have columns ``_pid`` (row id), ``lead_id`` and ``as_of_us`` (epoch
    microseconds). Only points with activity up to their ``as_of`` appear in the result: one row
    per point, ``_pid`` and, for feature j, ``a{j}`` (its count, last age in microseconds or NULL,
    or active days) and for a trend ``b{j}`` (the long window's count): the integers ``finish``
    takes. Plain filtered aggregates over one join keep it portable to a warehouse.
    """
    columns = []
    for j, feature in enumerate(intent_definition(tuple(windows))):
        chosen = _selects_sql(feature.activity, high_intent)
        window = f"age_us < {limit_us(feature.window_days)}"
        if feature.kind == "count":
            columns.append(f"count(*) FILTER (WHERE {window} AND {chosen}) AS a{j}")
        elif feature.kind == "days_since":
            columns.append(f"min(age_us) FILTER (WHERE {chosen}) AS a{j}")
        elif feature.kind == "active_days":
            columns.append(f"count(DISTINCT day) FILTER (WHERE {window} AND {chosen}) AS a{j}")
        else:
            columns.append(f"count(*) FILTER (WHERE {window} AND {chosen}) AS a{j}")
            columns.append(f"count(*) FILTER (WHERE age_us < {limit_us(feature.long_days)} "
                           f"AND {chosen}) AS b{j}")
    aggregates = ",\n       ".join(columns)
    return f"""WITH hits AS (
    SELECT p._pid, a.activity_type AS t, CAST(a.occurred_at AS DATE) AS day,
           p.as_of_us - epoch_us(a.occurred_at) AS age_us
    FROM {points} AS p
    JOIN activities AS a
      ON a.lead_id = p.lead_id AND epoch_us(a.occurred_at) <= p.as_of_us
)
SELECT _pid,
       {aggregates}
FROM hits
GROUP BY _pid
"""
