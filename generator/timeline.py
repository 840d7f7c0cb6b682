"""The calendar of the demo CRM: the export window, when leads arrive, which campaigns run.

Times are whole seconds since the Unix epoch (int64), naive UTC, everywhere in the generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from generator.catalog import (
    LIST_VENDORS,
    SOURCE_KEYS,
    STANDING_CAMPAIGNS,
    WEBINAR_TOPICS,
)
from leadscore.errors import LeadscoreError

DAY = 86_400
HOUR = 3_600
GROWTH = 0.5  # lead volume at the end of the window is 1 + GROWTH times that at its start
LATE_FRACTION = 0.6  # "Climate Tech" companies appear after this fraction of the window
# Relative arrival rate by hour of day (UTC: Europe's and the Americas' working days overlap).
_HOURLY = np.array([0.25, 0.2, 0.2, 0.2, 0.25, 0.3, 0.45, 0.7, 0.9, 1.0, 1.0, 1.0,
                    1.0, 1.1, 1.2, 1.2, 1.1, 1.0, 0.9, 0.8, 0.65, 0.5, 0.4, 0.3])
_WEEKDAY = np.array([1.0, 1.05, 1.05, 1.0, 0.85, 0.3, 0.25])  # Monday first


def _parse_time(value: str, name: str) -> int:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise LeadscoreError(
            f"{name}={value!r} is not a date: write it as YYYY-MM-DD, e.g. 2025-11-01."
        ) from None
    if stamp is pd.NaT:
        raise LeadscoreError(f"{name} is empty: write it as YYYY-MM-DD, e.g. 2025-11-01.")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return int(stamp.floor("s").value // 10**9)


@dataclass(frozen=True)
class Window:
    """The export window [start, end): leads are created in it and nothing at/after end is shown."""

    start: int
    end: int

    @classmethod
    def parse(cls, start: str, end: str) -> Window:
        s, e = _parse_time(start, "start"), _parse_time(end, "end")
        if e - s < 7 * DAY:
            raise LeadscoreError(
                f"The window {start} to {end} is shorter than a week: pass an end at least "
                "7 days after start."
            )
        return cls(s, e)

    @property
    def span(self) -> int:
        return self.end - self.start

    def at(self, fraction: float) -> int:
        return self.start + int(round(fraction * self.span))


class Arrivals:
    """Lead creation times: growing volume, a weekly and daily rhythm, a holiday dip.

    Lead ``j`` of ``n`` is created at the ``(j + u) / n`` quantile of the arrival distribution
    (``u`` uniform per lead), so ids increase with creation time and any chunk of ids can be
    generated on its own.
    """

    def __init__(self, window: Window):
        edges = np.arange(window.start, window.end, HOUR, dtype=np.int64)
        widths = np.minimum(edges + HOUR, window.end) - edges
        stamp = edges.astype("datetime64[s]")
        hour = (edges // HOUR) % 24
        weekday = (stamp.astype("datetime64[D]").view("int64") + 3) % 7  # 1970-01-01: Thursday
        month_day = pd.DatetimeIndex(stamp)
        holiday = ((month_day.month == 12) & (month_day.day >= 22)) | (
            (month_day.month == 1) & (month_day.day <= 2)
        )
        growth = 1.0 + GROWTH * (edges - window.start) / window.span
        rate = growth * _HOURLY[hour] * _WEEKDAY[weekday] * np.where(holiday, 0.45, 1.0)
        mass = rate * widths / HOUR
        self._edges = edges
        self._widths = widths
        self._share = mass / mass.sum()
        self._cdf = np.cumsum(self._share)
        self._end = window.end

    def times(self, quantiles: np.ndarray) -> np.ndarray:
        """Creation times (int64 seconds) at the given quantiles in [0, 1)."""
        b = np.minimum(np.searchsorted(self._cdf, quantiles, side="right"), len(self._cdf) - 1)
        below = np.where(b > 0, self._cdf[np.maximum(b - 1, 0)], 0.0)
        inside = (quantiles - below) / self._share[b]
        t = self._edges[b] + np.floor(np.clip(inside, 0.0, 1.0) * self._widths[b]).astype(np.int64)
        return np.minimum(t, self._end - 1)


def _month_starts(window: Window) -> list[pd.Timestamp]:
    first = pd.Timestamp(window.start, unit="s").to_period("M").to_timestamp()
    months = pd.date_range(first, pd.Timestamp(window.end, unit="s"), freq="MS")
    return list(months)


@dataclass(frozen=True)
class Campaign:
    source: int
    name: str
    active_from: int
    active_to: int  # exclusive; a large number for always-on campaigns


def campaigns(window: Window) -> list[Campaign]:
    """Every campaign that runs in the window: standing ones, monthly webinars, quarterly lists."""
    forever = np.iinfo(np.int64).max
    out = [
        Campaign(SOURCE_KEYS.index(src), name, window.at(frac), forever)
        for src, name, frac in STANDING_CAMPAIGNS
    ]
    webinar = SOURCE_KEYS.index("webinar")
    bought = SOURCE_KEYS.index("purchased_list")
    months = _month_starts(window)
    for i, month in enumerate(months):
        nxt = month + pd.offsets.MonthBegin(1)
        lo, hi = int(month.value // 10**9), int(nxt.value // 10**9)
        topic = WEBINAR_TOPICS[(month.year * 12 + month.month) % len(WEBINAR_TOPICS)]
        out.append(Campaign(webinar, f"Webinar | {month:%Y-%m} | {topic}", lo, hi))
        if month.month % 3 == 1 or i == 0:
            quarter = (month.month - 1) // 3 + 1
            q_end = pd.Timestamp(year=month.year, month=3 * quarter, day=1)
            q_end += pd.offsets.MonthBegin(1)
            vendor = LIST_VENDORS[(month.year * 4 + quarter) % len(LIST_VENDORS)]
            out.append(
                Campaign(bought, f"List | {vendor} | {month.year} Q{quarter}", lo,
                         int(q_end.value // 10**9))
            )
    return out


REPS_AT_START = 14
REPS_TOTAL = 20  # rep_15 .. rep_20 join halfway through the window


def rep_ids(created_at: np.ndarray, window: Window, rng: np.random.Generator) -> np.ndarray:
    """The rep (1-based number) each lead is routed to; the team grows halfway through."""
    n_reps = np.where(created_at >= window.at(0.5), REPS_TOTAL, REPS_AT_START)
    return 1 + np.floor(rng.random(len(created_at)) * n_reps).astype(np.int64)
