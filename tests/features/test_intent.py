"""Intent windows, recency and the directions intent features must move in."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import duckdb
import pandas as pd
import pytest

from features import intent
from features.batch import build_batch
from features.store import create_schema
from leadscore.config import default_config
from leadscore.errors import LeadscoreError
from tests.features.reference import build_online

CONFIG = default_config()
AS_OF = datetime(2026, 3, 10, 12, 0, 0)
US = timedelta(microseconds=1)


def _online(activities, as_of=AS_OF, **lead):
    acts = [{"activity_type": t, "occurred_at": at} for t, at in activities]
    return build_online({"lead_id": "L1", **lead, "activities": acts}, as_of, CONFIG)


def _batch(activities, as_of=AS_OF):
    con = duckdb.connect()
    create_schema(con)
    con.execute("INSERT INTO leads (lead_id, created_at) VALUES ('L1', '2026-01-01')")
    if activities:
        con.executemany("INSERT INTO activities VALUES ('L1', ?, ?)",
                        [(at, t) for t, at in activities])
    points = pd.DataFrame({"lead_id": ["L1"], "as_of": [as_of]})
    row = build_batch(con, points, CONFIG).iloc[0].to_dict()
    con.close()
    return row


@pytest.fixture(params=["online", "batch"])
def build(request):
    return _online if request.param == "online" else _batch


def test_activity_exactly_at_as_of_counts(build):
    features = build([("pricing_view", AS_OF)])
    for w in (1, 7, 30, 90):
        assert features[f"n_pricing_view_{w}d"] == 1.0
    assert features["days_since_high_intent"] == 0.0


def test_activity_exactly_w_days_before_does_not_count(build):
    features = build([("pricing_view", AS_OF - timedelta(days=7))])
    assert features["n_pricing_view_7d"] == 0.0
    assert features["n_pricing_view_30d"] == 1.0
    features = build([("pricing_view", AS_OF - timedelta(days=7) + US)])
    assert features["n_pricing_view_7d"] == 1.0


def test_activity_after_as_of_is_ignored(build):
    features = build([("demo_request", AS_OF + US)])
    assert features["n_demo_request_90d"] == 0.0
    assert math.isnan(features["days_since_high_intent"])
    assert math.isnan(features["days_since_last_activity"])
    assert features["trend_7_30"] == 1.0


def test_recency_in_days(build):
    features = build([
        ("demo_request", AS_OF - timedelta(days=2, hours=12)),
        ("page_view", AS_OF - timedelta(hours=6)),
    ])
    assert features["days_since_high_intent"] == 2.5
    assert features["days_since_last_activity"] == 0.25


def test_unknown_types_count_as_other(build):
    features = build([("chat_started", AS_OF - timedelta(days=3)),
                      ("chat_started", AS_OF - timedelta(days=40))])
    assert features["n_other_30d"] == 1.0
    assert all(features[f"n_{t}_90d"] == 0.0 for t in ("page_view", "pricing_view"))
    assert features["days_since_last_activity"] == 3.0


def test_active_days_are_distinct_utc_calendar_days(build):
    features = build([
        ("page_view", datetime(2026, 3, 10, 1, 0)),
        ("pricing_view", datetime(2026, 3, 10, 11, 0)),
        ("page_view", datetime(2026, 3, 9, 23, 59)),
        ("page_view", datetime(2026, 1, 20, 9, 0)),  # 49 days before: 90d only
    ])
    assert features["active_days_30d"] == 2.0
    assert features["active_days_90d"] == 3.0


def test_trend_compares_last_week_with_the_three_before(build):
    recent = [("page_view", AS_OF - timedelta(days=1, minutes=i)) for i in range(3)]
    earlier = [("page_view", AS_OF - timedelta(days=10, minutes=i)) for i in range(23)]
    features = build(recent + earlier)
    assert features["trend_7_30"] == pytest.approx((3 + 1) / (23 * 7 / 23 + 1))
    assert intent.trend(0, 0) == 1.0


def test_online_reads_iso_strings_with_offsets_and_type_spelling():
    features = _online([
        ("Pricing View", "2026-03-10T13:00:00+01:00"),  # = AS_OF in UTC
        ("pricing-view", "2026-03-10T11:00:00Z"),
    ])
    assert features["n_pricing_view_1d"] == 2.0
    assert features["days_since_high_intent"] == 0.0


def test_online_repeated_activity_counts_once_like_the_store():
    features = _online([("page_view", AS_OF), ("page_view", AS_OF)])
    assert features["n_page_view_1d"] == 1.0


def test_online_as_of_may_be_aware_or_a_string():
    aware = AS_OF.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=-5)))
    acts = [("demo_request", AS_OF - timedelta(days=1))]
    assert _online(acts, aware) == _online(acts, AS_OF) == _online(acts, "2026-03-10T12:00:00Z")


def test_online_default_as_of_is_now():
    features = _online([("page_view", datetime.now(UTC) - timedelta(hours=1))], as_of=None)
    assert 0.0 < features["days_since_last_activity"] < 0.1


@pytest.mark.parametrize(
    ("activities", "field"),
    [
        ([{"activity_type": "page_view", "occurred_at": "yesterday"}], "activities[0].occurred_at"),
        ([{"activity_type": "", "occurred_at": "2026-01-01"}], "activities[0].activity_type"),
        (["page_view"], "activities[0]"),
        ("page_view", "activities"),
    ],
)
def test_malformed_activity_names_the_field(activities, field):
    with pytest.raises(LeadscoreError) as err:
        build_online({"lead_id": "L1", "activities": activities}, AS_OF, CONFIG)
    assert field in str(err.value)


def test_malformed_as_of_is_a_clear_error():
    with pytest.raises(LeadscoreError, match="as_of"):
        build_online({"lead_id": "L1"}, "soon", CONFIG)


# ---- directions ---------------------------------------------------------------------------------

BASE = [
    ("page_view", AS_OF - timedelta(days=1)),
    ("pricing_view", AS_OF - timedelta(days=20)),
    ("demo_request", AS_OF - timedelta(days=45)),
]


@pytest.mark.parametrize("days_ago", [0.0, 0.5, 3.0, 10.0, 60.0, 200.0])
def test_more_pricing_views_never_lower_pricing_counts(days_ago):
    before = _online(BASE)
    after = _online(BASE + [("pricing_view", AS_OF - timedelta(days=days_ago, seconds=1))])
    for w in (1, 7, 30, 90):
        assert after[f"n_pricing_view_{w}d"] >= before[f"n_pricing_view_{w}d"]
    assert after["days_since_high_intent"] <= before["days_since_high_intent"]
    assert after["active_days_90d"] >= before["active_days_90d"]


@pytest.mark.parametrize("later", [timedelta(hours=1), timedelta(days=3), timedelta(days=100)])
def test_later_as_of_only_ages_the_activity(later):
    now = _online(BASE)
    then = _online(BASE, AS_OF + later)
    shift = later / timedelta(days=1)
    assert then["days_since_last_activity"] == pytest.approx(
        now["days_since_last_activity"] + shift, abs=1e-9)
    assert then["days_since_high_intent"] == pytest.approx(
        now["days_since_high_intent"] + shift, abs=1e-9)
    for name, value in now.items():
        if name.startswith(("n_", "active_days_")):
            assert then[name] <= value, name
