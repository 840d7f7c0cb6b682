"""The batch online path (``build_online_many``, ``FeatureEncoder.transform_columns``) equals the
per-lead reference exactly, on fixed batches, errors and extremes (random batches:
``test_online_random.py``; the intent kernel alone: ``test_intent_matrix.py``).

``build_online`` is the plain-Python reference. For every lead of a batch the batch path must give
the same keys in the same order, values of the same types, floats bit for bit (NaN where the
reference has NaN), and the same errors with the index of the lead that caused them.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta, tzinfo

import numpy as np
import pandas as pd
import pytest

from features import intent
from features.definitions import feature_specs
from features.encoding import FeatureEncoder
from features.online import LeadFeatureError
from leadscore.errors import LeadscoreError
from tests.features.online_checks import (
    AS_OF,
    CONFIG,
    CONFIGS,
    CUSTOM,
    DAY,
    DAY_US,
    EDGE_DAYS,
    HUGE_AS_OF,
    HUGE_AT,
    ROLES,
    US,
    act,
    assert_batch_matches_reference,
    assert_columns_encode_like_records,
    aware,
    build_online_many,
    fitted_encoder,
)
from tests.features.reference import build_online

# ---- fixed batches ------------------------------------------------------------------------------

def _edge_activities(as_of: datetime) -> list[dict]:
    """Activities exactly at and 1 us around every window edge, plus one after ``as_of``."""
    out = []
    for days in EDGE_DAYS:
        for delta in (-US, timedelta(0), US):
            out.append(act("pricing_view", as_of - days * DAY + delta))
    out.append(act("demo_request", as_of + US))
    return out


def _fixed_batch() -> tuple[list[dict], list]:
    """A messy batch covering every kind of lead the reference handles."""
    leads = [
        {  # edges, spellings, duplicates (same instant in other forms), unknown types
            "lead_id": "L0", "title": "VP Sales", "company_size": "250", "industry": " Software ",
            "country": "US", "email": "jo@acme.com", "source": "Paid Search",
            "activities": [
                *_edge_activities(AS_OF),
                act("Pricing View", AS_OF - 2 * DAY),
                act(" pricing_view ", (AS_OF - 2 * DAY).isoformat() + "Z"),  # duplicate
                act("pricing-view", aware(AS_OF - 2 * DAY, -5)),  # duplicate again
                act("page_view", "2026-03-10T13:00:00+01:00"),  # = AS_OF
                act("Page View", AS_OF),  # duplicate of the line above
                act("chat_started", AS_OF - 3 * DAY),
                act("Chat Started", AS_OF - 3 * DAY),  # duplicate
                act("chat_started", AS_OF - 40 * DAY),  # outside n_other_30d
                act("sms_reply", "2026-03-01"),  # date only
                act("webinar_attended", aware(AS_OF - 5 * DAY, 5.5)),
                act("EMAIL CLICK", " 2026-02-20 08:15:00.123456-03:00 "),
                act(7, AS_OF - 6 * DAY),  # a non-text type is its text
            ],
            "attributes": {"Budget": "1,200", "Lead Quality": " Very  hot ", "Visits": 4,
                           "Channel": "Web", "Tags": "won", "Notes": "x"},
        },
        {"lead_id": "L1", "title": "Founder & CEO", "email_domain": "gmail.com",
         "Budget": 3.5, "Lead Quality": 2.0},  # no activities key; attributes at top level
        {"lead_id": "L2", "title": "Select", "activities": None, "Visits": "yes",
         "attributes": {"Channel": None}},
        {"lead_id": "L3", "activities": [], "attributes": {"Budget": "abc", "Channel": True}},
        {  # a tuple of activities, pandas timestamps (nanoseconds floor to microseconds)
            "lead_id": "L4", "company_size": "5000+", "country": "Germany",
            "activities": (
                act("demo_request", pd.Timestamp("2026-03-09T10:00:00.000000999+02:00")),
                act("content_download", pd.Timestamp("2026-02-01T00:00:00")),
            ),
        },
        {  # before 1970: negative epochs, days must floor
            "lead_id": "L5",
            "activities": [
                act("page_view", datetime(1969, 12, 31, 23, 0)),
                act("page_view", "1970-01-01T01:00:00Z"),
                act("pricing_view", datetime(1969, 12, 31, 0, 0)),
                act("email_click", datetime(1969, 12, 30, 23, 59, 59, 999999)),
                act("demo_request", datetime(1969, 10, 1, 12, 0)),
            ],
        },
        {  # ages beyond 2**53 us, next to a recent activity
            "lead_id": "L6",
            "activities": [act("pricing_view", HUGE_AT), act("page_view", datetime(1, 1, 1))],
        },
        {"lead_id": "L7", "activities": [act("demo_request", AS_OF + DAY)]},  # all in future
    ]
    as_ofs = [
        AS_OF,
        "2026-03-10T12:00:00Z",
        aware(AS_OF, -8),
        AS_OF.isoformat(),
        aware(AS_OF, 9),
        "1970-01-01T06:00:00+00:00",
        HUGE_AS_OF,
        AS_OF,
    ]
    return leads, as_ofs


@pytest.mark.parametrize("roles", [None, ROLES], ids=["no-roles", "roles"])
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_fixed_batch_equals_build_online_lead_by_lead(config, roles):
    leads, as_ofs = _fixed_batch()
    batch = assert_batch_matches_reference(leads, as_ofs, config, roles)
    # the batch really covered activity: counts, recency and active days are not all trivial
    assert batch.record(0)["days_since_last_activity"] == 0.0
    assert batch.record(5)["days_since_last_activity"] == 5 / 24
    assert batch.columns["active_days_90d"][0] >= 3.0
    assert math.isnan(batch.record(7)["days_since_last_activity"])
    if roles:
        assert batch.record(0)["attr_budget"] == 1200.0
        assert batch.record(0)["attr_lead_quality"] == "Very hot"
        assert batch.record(1)["attr_lead_quality"] == "2"
        assert "attr_tags" not in batch.names and "attr_notes" not in batch.names


def test_windows_and_high_intent_types_come_from_the_config():
    leads, as_ofs = _fixed_batch()
    batch = assert_batch_matches_reference(leads, as_ofs, CUSTOM)
    record = batch.record(0)
    assert [n for n in record if n.startswith("n_pricing_view_")] == [
        "n_pricing_view_3d", "n_pricing_view_14d"]
    # edges at 0 days (at as_of and 1 us before; 1 us after is in the future), at 1 day (all
    # three) and at 3 days (only 1 us inside: the window is half-open), and 2 days ago, counted
    # once in three spellings
    assert record["n_pricing_view_3d"] == 2 + 3 + 1 + 1
    # high intent here is chat_started (3 days ago) or demo_request (only after as_of)
    assert record["days_since_high_intent"] == 3.0
    chat_only = [{"activities": [act("Chat Started", AS_OF - 3 * DAY)]}]
    batch = assert_batch_matches_reference(chat_only, [AS_OF], CUSTOM)
    assert batch.record(0)["days_since_high_intent"] == 3.0
    batch = assert_batch_matches_reference(chat_only, [AS_OF], CONFIG)
    assert math.isnan(batch.record(0)["days_since_high_intent"])


def test_repeated_activities_count_once():
    at = AS_OF - DAY / 2
    lead = {"activities": [act("pricing_view", at), act("Pricing View", at.isoformat()),
                           act("pricing_view", aware(at, 3)), act("pricing_view", at)]}
    batch = assert_batch_matches_reference([lead, lead], [AS_OF, AS_OF], CONFIG)
    for i in range(2):
        assert batch.record(i)["n_pricing_view_1d"] == 1.0
        assert batch.record(i)["trend_7_30"] == 2.0


class _NoOffset(tzinfo):
    """A tzinfo that knows no offset: the datetime counts as naive (UTC)."""

    def utcoffset(self, dt):
        return None


def test_the_inline_activity_path_reads_every_form_like_the_reference():
    # build_online_many reads the usual activity (dict, aware datetime, a type text seen before
    # in the batch) inline; every other form of the same text must give the same features
    at = AS_OF - DAY / 3
    forms = [act("pricing_view", aware(at, 2)), act("pricing_view", at),
             act("pricing_view", at.replace(tzinfo=_NoOffset()) - DAY),
             act("pricing_view", pd.Timestamp(at - 2 * DAY, tz="UTC")),
             act("pricing_view", (at - 3 * DAY).isoformat() + "Z"),
             act(" Pricing View ", aware(at - 4 * DAY, -5)),
             act("pricing_view", aware(at - 5 * DAY, 0))]
    leads = [{"activities": forms}, {"activities": forms[::-1]},
             {"activities": [act("webinar_attended", aware(at, 1))] + forms[2:4]}]
    batch = assert_batch_matches_reference(leads, [AS_OF] * 3, CONFIG)
    assert batch.record(0)["n_pricing_view_7d"] == 6.0  # the first two are one instant


def test_active_days_floor_before_1970():
    lead = {"activities": [act("page_view", datetime(1969, 12, 31, 23, 0)),
                           act("page_view", datetime(1970, 1, 1, 1, 0))]}
    batch = assert_batch_matches_reference([lead], [datetime(1970, 1, 1, 6)], CONFIG)
    # -1h and +1h around the epoch are two UTC calendar days (truncation would make them one)
    assert batch.record(0)["active_days_30d"] == 2.0


def test_ages_beyond_2_53_us_divide_like_python_ints():
    age = intent.to_epoch_us(HUGE_AS_OF) - intent.to_epoch_us(HUGE_AT)
    assert age >= intent.SAFE_AGE_US and float(age) / DAY_US != age / DAY_US  # a case that bites
    leads = [{"activities": [act("pricing_view", HUGE_AT)]},
             {"activities": [act("page_view", HUGE_AS_OF - DAY / 4)]}]
    batch = assert_batch_matches_reference(leads, [HUGE_AS_OF, HUGE_AS_OF], CONFIG)
    assert batch.record(0)["days_since_high_intent"] == age / DAY_US
    assert batch.record(0)["days_since_last_activity"] == age / DAY_US
    assert batch.record(1)["days_since_last_activity"] == 0.25


# ---- leads without activity, empty batches ------------------------------------------------

def test_leads_without_activity():
    leads = [{"lead_id": "a"}, {"lead_id": "b", "activities": None},
             {"lead_id": "c", "activities": []}, {"lead_id": "d", "activities": ()},
             {"lead_id": "e", "activities": [act("page_view", AS_OF)]}, {}]
    for as_ofs in ([AS_OF] * len(leads), [None] * len(leads)):  # None: now (no activity to age)
        batch = assert_batch_matches_reference(leads[:4] + leads[5:], as_ofs[:5], CONFIG)
        for i in range(5):
            record = batch.record(i)
            assert math.isnan(record["days_since_last_activity"])
            assert record["trend_7_30"] == 1.0 and record["n_page_view_90d"] == 0.0
    assert_batch_matches_reference(leads, [AS_OF] * len(leads), CUSTOM, ROLES)


@pytest.mark.parametrize("roles", [None, ROLES], ids=["no-roles", "roles"])
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_empty_batch_is_an_empty_online_batch(config, roles):
    batch = build_online_many([], [], config, roles)
    names = [spec.name for spec in feature_specs(roles, config)]
    assert len(batch) == 0 and batch.records() == []
    assert list(batch.names) == names
    assert all(len(batch.columns[name]) == 0 for name in names)
    encoder = FeatureEncoder(feature_specs(roles, config), min_count=1).fit(
        pd.DataFrame([build_online({}, AS_OF, config, roles)]))
    assert encoder.transform_columns(batch.columns, 0).shape == (0, len(names))


# ---- errors -------------------------------------------------------------------------------------

_GOOD = {"lead_id": "ok", "activities": [act("page_view", AS_OF - DAY)]}
BAD_ACTIVITIES = {
    "occurred_at-text": [act("page_view", "yesterday")],
    "occurred_at-missing": [{"activity_type": "page_view"}],
    "occurred_at-number": [act("page_view", 1_700_000_000)],
    "occurred_at-date": [act("page_view", date(2026, 3, 1))],
    "occurred_at-datetime64": [act("page_view", np.datetime64("2026-03-01T00:00:00"))],
    "second-type-blank": [act("page_view", AS_OF), act("  ", AS_OF)],
    "second-type-missing": [act("page_view", AS_OF), {"occurred_at": AS_OF}],
    "not-an-object": [act("page_view", AS_OF), "page_view"],
    "a-string": "page_view",
    "an-object": {"activity_type": "page_view", "occurred_at": AS_OF},
    "a-number": 3,
}


def _error_of(lead, as_of, config=CONFIG, roles=None) -> str:
    with pytest.raises(LeadscoreError) as err:
        build_online(lead, as_of, config, roles)
    return str(err.value)


@pytest.mark.parametrize("activities", BAD_ACTIVITIES.values(), ids=BAD_ACTIVITIES.keys())
def test_a_malformed_activity_names_its_lead_and_field(activities):
    bad = {"lead_id": "bad", "activities": activities}
    later_bad = {"lead_id": "worse", "activities": [act("page_view", "soon")]}
    leads = [_GOOD, {"lead_id": "empty"}, bad, later_bad, _GOOD]
    as_ofs = [AS_OF, "2026-03-10T12:00:00Z", AS_OF, AS_OF, AS_OF]
    expected = _error_of(bad, AS_OF)
    assert "activities" in expected
    with pytest.raises(LeadFeatureError) as err:
        build_online_many(leads, as_ofs, CUSTOM, ROLES)
    assert err.value.index == 2
    assert str(err.value) == expected == _error_of(bad, AS_OF, CUSTOM, ROLES)
    assert isinstance(err.value, LeadscoreError)


@pytest.mark.parametrize("as_of", ["soon", "2026-13-01", "", 1_700_000_000, date(2026, 3, 1)],
                         ids=["text", "month-13", "empty", "number", "date"])
def test_a_malformed_as_of_names_its_lead(as_of):
    # lead 2 has a bad activity too: as_of is read first, in both paths
    bad = {"lead_id": "bad", "activities": [act("page_view", "yesterday")]}
    leads = [_GOOD, _GOOD, bad, _GOOD]
    expected = _error_of(bad, as_of)
    assert expected.startswith("as_of is not an ISO-8601 timestamp")
    with pytest.raises(LeadFeatureError) as err:
        build_online_many(leads, [AS_OF, AS_OF, as_of, "later"], CONFIG)
    assert err.value.index == 2 and str(err.value) == expected


def test_the_first_bad_lead_is_reported():
    leads = [{"activities": [act("page_view", "x")]}, {"activities": "x"}]
    with pytest.raises(LeadFeatureError) as err:
        build_online_many(leads, [AS_OF, "never"], CONFIG)
    assert err.value.index == 0
    assert str(err.value) == _error_of(leads[0], AS_OF)


@pytest.mark.parametrize(("n_leads", "n_as_ofs"), [(3, 2), (2, 3), (0, 1), (1, 0)])
def test_leads_and_as_ofs_must_have_the_same_length(n_leads, n_as_ofs):
    with pytest.raises(ValueError):
        build_online_many([_GOOD] * n_leads, [AS_OF] * n_as_ofs, CONFIG)


# ---- encoding -----------------------------------------------------------------------------------

@pytest.mark.parametrize("roles", [None, ROLES], ids=["no-roles", "roles"])
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_transform_columns_equals_transform_lead_by_lead(config, roles):
    leads, as_ofs = _fixed_batch()
    batch = build_online_many(leads, as_ofs, config, roles)
    records = [build_online(lead, as_of, config, roles)
               for lead, as_of in zip(leads, as_ofs, strict=True)]
    encoder = fitted_encoder(records, config, roles)
    matrix = assert_columns_encode_like_records(encoder, batch.columns, records)
    np.testing.assert_array_equal(matrix, encoder.transform(pd.DataFrame(records)))
    assert np.isnan(matrix).any() and not np.isnan(matrix).all()


def test_transform_columns_with_missing_and_loosely_typed_columns():
    leads, as_ofs = _fixed_batch()
    batch = build_online_many(leads, as_ofs, CONFIG, ROLES)
    n = len(batch)
    records = batch.records()
    encoder = fitted_encoder(records, CONFIG, ROLES, min_count=1)
    columns = dict(batch.columns)
    del columns["seniority"], columns["trend_7_30"]  # absent: NaN, as an absent record key
    numeric = [None, "3", "2.5", "x", 4, np.float64(1.5), True, float("nan")]
    categorical = [7, None, float("nan"), "Web", pd.NA, np.str_("Web"), 2.0, "unseen"]
    columns["attr_budget"] = numeric  # a numeric column as a list of anything
    columns["attr_channel"] = categorical
    columns["n_page_view_1d"] = np.asarray(batch.columns["n_page_view_1d"], dtype=np.float32)
    columns["free_email"] = np.asarray(batch.columns["free_email"], dtype=object)
    loose = []
    for i, record in enumerate(records):
        record = {k: v for k, v in record.items() if k not in ("seniority", "trend_7_30")}
        record.update(attr_budget=numeric[i], attr_channel=categorical[i],
                      n_page_view_1d=columns["n_page_view_1d"][i])
        loose.append(record)
    assert n == len(numeric) == len(categorical)
    matrix = assert_columns_encode_like_records(encoder, columns, loose)
    j = encoder.feature_names_.index
    assert np.isnan(matrix[:, j("seniority")]).all() and np.isnan(matrix[:, j("trend_7_30")]).all()
    assert matrix[:4, j("attr_budget")][1:3].tolist() == [3.0, 2.5]
    assert matrix[1, j("attr_channel")] != matrix[1, j("attr_channel")]  # None -> NaN
    assert matrix[3, j("attr_channel")] == matrix[5, j("attr_channel")]  # "Web" either way


# ---- extremes -----------------------------------------------------------------------------------

def test_huge_windows_do_not_overflow():
    config = {**CONFIG, "features": {"windows_days": [200_000_000]}}
    lead = {"activities": [act("page_view", AS_OF - DAY)]}
    assert_batch_matches_reference([lead], [AS_OF], config)


@pytest.mark.parametrize("where", ["as_of", "occurred_at"])
def test_nat_is_not_a_timestamp_in_either_path(where):
    as_of = pd.NaT if where == "as_of" else AS_OF
    occurred = pd.NaT if where == "occurred_at" else AS_OF - DAY
    lead = {"activities": [{"activity_type": "page_view", "occurred_at": occurred}]}
    field = "as_of" if where == "as_of" else "activities[0].occurred_at"
    with pytest.raises(LeadscoreError, match=re.escape(field)):
        build_online(lead, as_of, CONFIG)
    with pytest.raises(LeadFeatureError, match=re.escape(field)) as caught:
        build_online_many([{}, lead], [AS_OF, as_of], CONFIG)
    assert caught.value.index == 1
