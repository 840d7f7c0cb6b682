"""The one timestamp rule of the API, batch, Spark and the pyfunc (``features.timestamps``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from features.timestamps import TIMESTAMP_RULE, TimestampError, in_range_us, parse_timestamp

NOV_2 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("value", [
    "2026-11-02T09:30:00Z", "2026-11-02T11:30:00+02:00", "2026-11-02 09:30:00",
    " 2026-11-02T09:30:00Z ", 1793611800, "1793611800", 1793611800.0,
    datetime(2026, 11, 2, 9, 30), pd.Timestamp("2026-11-02T09:30:00Z"),
])
def test_iso_unix_seconds_and_datetimes_are_one_instant_in_utc(value):
    assert parse_timestamp(value) == NOV_2
    assert parse_timestamp(value).tzinfo == UTC


def test_a_date_alone_is_midnight_utc():
    assert parse_timestamp("2026-11-02") == datetime(2026, 11, 2, tzinfo=UTC)


@pytest.mark.parametrize("value", [
    "20261102",  # a compact date is digits: Unix seconds in 1970, never read as 1970
    "1999-12-31T23:59:59Z", datetime(1999, 1, 1), "2200-01-01", "2026-W44-1", "yesterday",
    "", True, {"at": 1}, 0,
])
def test_everything_else_is_refused_with_the_rule(value):
    with pytest.raises(TimestampError) as info:
        parse_timestamp(value)
    assert str(info.value) == TIMESTAMP_RULE
    assert "20261102" in TIMESTAMP_RULE and "2026-11-02" in TIMESTAMP_RULE


def test_the_range_check_on_epoch_microseconds_matches_the_parser():
    assert in_range_us(946_684_800 * 10**6) and not in_range_us(946_684_800 * 10**6 - 1)
    assert not in_range_us(0)


def test_a_spreadsheet_date_is_told_its_format_first_not_a_year_range():
    # Zoho's 19/07/2025 03:38 PM was refused with "must be a timestamp in 2000..2199 (UTC)",
    # which reads as if 2025 were out of range
    with pytest.raises(TimestampError) as caught:
        parse_timestamp("19/07/2025 03:38 PM")
    said = str(caught.value)
    assert said.startswith("must be a timestamp written as ISO 8601 (2026-11-02T09:30:00Z")
    assert "a spreadsheet's date such as 02/11/2026" in said
    assert said.index("ISO 8601") < said.index("2000..2199")
