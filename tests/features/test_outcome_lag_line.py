"""The outcome-lag line ingest and review print, counted as people say it."""

from __future__ import annotations

from datetime import datetime, timedelta

from features.outcome_lag import lag_distribution


def test_one_eventual_positive_is_said_in_the_singular():
    # the ingest of a week-5 export with its first booked meeting said "(days from scoreable to
    # first positive, 1 eventual positives)"
    start = datetime(2026, 1, 5)
    line = lag_distribution([start], [start + timedelta(days=55)], 30).line()
    assert line == ("outcome lag (days from scoreable to first positive, 1 eventual positive): "
                    "p50 55, p90 55, p99 55; 100.0% arrive later than maturity_days (30)")
    two = lag_distribution([start] * 2, [start + timedelta(days=d) for d in (3, 50)], 30).line()
    assert "2 eventual positives)" in two
