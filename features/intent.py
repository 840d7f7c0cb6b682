"""Intent: what the lead did, counted from its activities up to the scoring moment ``as_of``.

Only activities with ``occurred_at <= as_of`` count; anything later does not exist for a feature.
A window of W days is the half-open interval ``(as_of - W days, as_of]``: an activity exactly at
``as_of`` counts, one exactly W days earlier does not.

Both paths measure time in integer microseconds since the Unix epoch (UTC), so a window edge or a
"days since" value is the same number in DuckDB and in Python:

* online: ``intent_features`` loops over one lead's activities in plain Python, and
  ``intent_matrix`` runs the same loop, compiled, over the activities of a whole request;
* batch: ``intent_sql`` aggregates integer ages in SQL (counts per age bucket, last ages, active
  days), ``pivot_counts`` sums buckets into windows, and ``days`` / ``trend`` turn the integers
  into floats with the same arithmetic the online path uses.

Recency and frequency are given to the model raw (counts per window, days since); the model learns
how intent decays, nobody sets a half-life by hand.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numba import njit

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


def intent_feature_names(windows: Sequence[int]) -> list[str]:
    """The fixed intent features in registry order (attributes come after them)."""
    names = [count_name(t, w) for t in ACTIVITY_TYPES for w in windows]
    return names + [
        f"n_other_{OTHER_WINDOW_DAYS}d",
        "days_since_high_intent",
        "days_since_last_activity",
        "active_days_30d",
        "active_days_90d",
        "trend_7_30",
    ]


SAFE_AGE_US = 2**53
"""Below this (285 years) an age converts to a double exactly, so ``age / DAY_US`` computed on
doubles is the correctly rounded quotient Python's ``int / int`` gives."""


def intent_matrix(
    lead_start: np.ndarray,
    type_id: np.ndarray,
    at_us: np.ndarray,
    as_of_us: np.ndarray,
    windows: Sequence[int],
    is_high: np.ndarray,
) -> np.ndarray:
    """``intent_features`` of many leads at once, compiled: row i equals, value for value,
    ``intent_features`` of lead i, in ``intent_feature_names(windows)`` order.

    Args:
        lead_start: ``(n + 1,)`` int64 offsets: lead i's activities are ``lead_start[i]`` up to
            ``lead_start[i + 1]`` in the arrays below.
        type_id: int64 per activity: the index into ``ACTIVITY_TYPES`` for a known type, a larger
            number for any other type (one number per distinct type key).
        at_us: int64 per activity, epoch microseconds. Within each lead the activities must be
            sorted by ``(at_us, type_id)`` with repeated pairs removed (``np.lexsort`` and a
            neighbour comparison do both).
        as_of_us: ``(n,)`` int64 scoring moments.
        windows: count windows in days.
        is_high: bool per type id: whether it is a high-intent type.

    Returns:
        An ``(n, len(intent_feature_names(windows)))`` float64 matrix.
    """
    n = len(as_of_us)
    # a window longer than any age (2**62 us is 146,000 years) counts every past activity
    limits = np.asarray([min(w * DAY_US, 2**62) for w in windows], dtype=np.int64)
    n_known = len(ACTIVITY_TYPES)
    counts = np.zeros((n, n_known * len(limits) + 5), dtype=np.int64)
    ages = np.full((n, 2), -1, dtype=np.int64)  # last activity, last high-intent activity
    _intent_loop(lead_start, type_id, at_us, as_of_us, limits, is_high, n_known, counts, ages)
    n_counts = n_known * len(limits)
    out = np.empty((n, n_counts + 6), dtype=np.float64)
    out[:, :n_counts + 1] = counts[:, :n_counts + 1]  # per type and window, then n_other_30d
    out[:, n_counts + 1] = _days(ages[:, 1])
    out[:, n_counts + 2] = _days(ages[:, 0])
    out[:, n_counts + 3] = counts[:, n_counts + 1]
    out[:, n_counts + 4] = counts[:, n_counts + 2]
    n_short, n_long = counts[:, n_counts + 3], counts[:, n_counts + 4]
    # trend(n_short, n_long) with Python's arithmetic: small integers are exact doubles
    earlier = (n_long - n_short) * TREND_SHORT_DAYS
    out[:, n_counts + 5] = (n_short + 1) / (earlier / (TREND_LONG_DAYS - TREND_SHORT_DAYS) + 1)
    return out


def _days(age_us: np.ndarray) -> np.ndarray:
    """``days`` of int64 ages, -1 standing for None (ages are never negative)."""
    known = age_us >= 0
    if not known.any() or age_us.max() < SAFE_AGE_US:
        return np.where(known, age_us / DAY_US, math.nan)
    return np.array([days(int(a) if a >= 0 else None) for a in age_us], dtype=np.float64)


@njit(cache=True, nogil=True)
def _intent_loop(lead_start, type_id, at_us, as_of_us, limits, is_high, n_known, counts,
                 ages):  # pragma: no cover - compiled
    # counts columns: type x window, n_other_30d, active_days_30d, active_days_90d, n_short,
    # n_long. Activities are sorted by time within a lead, so distinct days are value changes.
    n_limits = len(limits)
    base = n_known * n_limits
    other_limit = OTHER_WINDOW_DAYS * DAY_US
    short_limit, long_limit = TREND_SHORT_DAYS * DAY_US, TREND_LONG_DAYS * DAY_US
    limit_30, limit_90 = 30 * DAY_US, 90 * DAY_US
    for i in range(len(as_of_us)):
        as_of = as_of_us[i]
        seen_30 = seen_90 = False
        day_30 = day_90 = 0
        for k in range(lead_start[i], lead_start[i + 1]):
            age = as_of - at_us[k]
            if age < 0:
                continue
            t = type_id[k]
            if t < n_known:
                for w in range(n_limits):
                    if age < limits[w]:
                        counts[i, t * n_limits + w] += 1
            elif age < other_limit:
                counts[i, base] += 1
            if age < short_limit:
                counts[i, base + 3] += 1
            if age < long_limit:
                counts[i, base + 4] += 1
            if age < limit_90:
                day = at_us[k] // DAY_US
                if not seen_90 or day != day_90:
                    counts[i, base + 2] += 1
                    seen_90, day_90 = True, day
                if age < limit_30 and (not seen_30 or day != day_30):
                    counts[i, base + 1] += 1
                    seen_30, day_30 = True, day
            if ages[i, 0] < 0 or age < ages[i, 0]:
                ages[i, 0] = age
            if is_high[t] and (ages[i, 1] < 0 or age < ages[i, 1]):
                ages[i, 1] = age


def _quoted(values: Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values) or "NULL"


def bucket_edges(windows: Sequence[int]) -> tuple[int, ...]:
    """Window edges in days that the batch path counts into: the configured windows plus the
    fixed ones (``n_other_30d``, ``trend_7_30``)."""
    return tuple(sorted({*windows, OTHER_WINDOW_DAYS, TREND_SHORT_DAYS, TREND_LONG_DAYS}))


def _hits(points: str) -> str:
    # every (point, activity) pair with the activity at or before the point's as_of
    return f"""WITH hits AS (
    SELECT p._pid, a.activity_type AS t, CAST(a.occurred_at AS DATE) AS day,
           p.as_of_us - epoch_us(a.occurred_at) AS age_us
    FROM {points} AS p
    JOIN activities AS a
      ON a.lead_id = p.lead_id AND epoch_us(a.occurred_at) <= p.as_of_us
)"""


def intent_sql(
    windows: Sequence[int], high_intent: Sequence[str], points: str = "points"
) -> tuple[str, str]:
    """The two DuckDB queries that aggregate activities for a table of scoring points.

    ``points`` must have columns ``_pid`` (row id), ``lead_id`` and ``as_of_us`` (epoch
    microseconds). Only points with activity up to their ``as_of`` appear in the results.

    Returns:
        ``(counts, recency)``.
        ``counts``: one row per point, activity type and age bucket: ``_pid``, ``type_code``
        (index into ``ACTIVITY_TYPES``; ``len(ACTIVITY_TYPES)`` for any other type), ``bucket``
        (index of the first edge of ``bucket_edges(windows)`` the age is below) and ``n``.
        A window's count is the sum of its bucket and the buckets before it (``pivot_counts``).
        ``recency``: one row per point: ``_pid``, ``last_age_us``, ``last_high_age_us`` (integer
        ages, NULL when none), ``active_days_30d``, ``active_days_90d``.

    Few aggregates over plain columns keep this fast (about 1 s per million activities on two
    cores) and portable to a warehouse.
    """
    edges = bucket_edges(windows)
    other = len(ACTIVITY_TYPES)
    type_case = " ".join(f"WHEN '{t}' THEN {i}" for i, t in enumerate(ACTIVITY_TYPES))
    bucket_case = " ".join(
        f"WHEN age_us < {edge * DAY_US} THEN {i}" for i, edge in enumerate(edges)
    )
    counts = f"""{_hits(points)}
SELECT _pid, CASE t {type_case} ELSE {other} END AS type_code,
       CASE {bucket_case} END AS bucket, count(*) AS n
FROM hits
WHERE age_us < {edges[-1] * DAY_US}
GROUP BY 1, 2, 3
"""
    recency = f"""{_hits(points)},
days AS (
    SELECT _pid, day, min(age_us) AS age_us,
           min(age_us) FILTER (WHERE t IN ({_quoted(high_intent)})) AS high_age_us
    FROM hits
    GROUP BY _pid, day
)
SELECT _pid, min(age_us) AS last_age_us, min(high_age_us) AS last_high_age_us,
       count(*) FILTER (WHERE age_us < {30 * DAY_US}) AS active_days_30d,
       count(*) FILTER (WHERE age_us < {90 * DAY_US}) AS active_days_90d
FROM days
GROUP BY _pid
"""
    return counts, recency


def pivot_counts(
    pid: np.ndarray,
    type_code: np.ndarray,
    bucket: np.ndarray,
    n: np.ndarray,
    n_points: int,
    windows: Sequence[int],
) -> dict[str, np.ndarray]:
    """Window counts per point from the ``counts`` query's rows (``pid`` in ``0..n_points-1``).

    Returns ``n_<type>_<W>d`` for every type and window, ``n_other_30d``, ``n_all_7d`` and
    ``n_all_30d`` as float64 arrays of length ``n_points``.
    """
    edges = bucket_edges(windows)
    n_types = len(ACTIVITY_TYPES) + 1
    flat = (pid.astype(np.int64) * n_types + type_code.astype(np.int64)) * len(edges) + bucket
    size = n_points * n_types * len(edges)
    grid = np.bincount(flat, weights=n.astype(np.float64), minlength=size)
    grid = np.cumsum(grid.reshape(n_points, n_types, len(edges)), axis=2)
    out = {}
    for i, activity_type in enumerate(ACTIVITY_TYPES):
        for w in windows:
            out[count_name(activity_type, w)] = grid[:, i, edges.index(w)]
    out[f"n_other_{OTHER_WINDOW_DAYS}d"] = grid[:, n_types - 1, edges.index(OTHER_WINDOW_DAYS)]
    all_types = grid.sum(axis=1)
    out["n_all_7d"] = all_types[:, edges.index(TREND_SHORT_DAYS)]
    out["n_all_30d"] = all_types[:, edges.index(TREND_LONG_DAYS)]
    return out
