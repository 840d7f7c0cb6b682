"""Unit tests of request validation and authentication (no model, no server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from serving.auth import api_keys, bearer_token, is_authorized, is_loopback
from serving.gateway import RequestRejected, post_routes, validate_request
from serving.schemas import field_path
from serving.service import LeadScorer

EMAIL = "jane.doe@example-corp.test"
SCORE_ROUTE = post_routes(LeadScorer)["/score"]


def rejected(body) -> RequestRejected:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(RequestRejected) as info:
        validate_request(raw, SCORE_ROUTE)
    return info.value


def test_field_path_reads_like_the_request():
    assert field_path(("leads", 3, "activities", 0, "occurred_at")) == \
        "leads[3].activities[0].occurred_at"
    assert field_path(("reasons",)) == "reasons"


def test_a_minimal_lead_is_valid_and_unknown_lead_fields_are_ignored():
    request = validate_request(json.dumps(
        {"leads": [{"lead_id": 7, "company_size": 250, "first_name": "Jane", "hs_id": 1}]}
    ).encode(), SCORE_ROUTE)
    lead = request.leads[0]
    assert lead.lead_id == "7" and lead.company_size == "250"
    # kept aside, never a field: only a column the served model learned from is read from there
    assert "first_name" not in vars(lead) and "hs_id" not in vars(lead)
    assert request.reasons is True and lead.activities == [] and lead.as_of is None


def test_timestamps_without_zone_are_utc_and_dates_are_accepted():
    request = validate_request(json.dumps({"leads": [{
        "lead_id": "a", "as_of": "2026-11-01", "created_at": "2026-10-01T10:00:00",
        "activities": [{"activity_type": "x", "occurred_at": "2026-10-30T10:00:00+02:00"}],
    }]}).encode(), SCORE_ROUTE)
    lead = request.leads[0]
    assert lead.as_of == datetime(2026, 11, 1, tzinfo=UTC)
    assert lead.created_at == datetime(2026, 10, 1, 10, tzinfo=UTC)
    # an activity keeps its offset (feature building reads instants); the instant is the same
    assert lead.activities[0]["occurred_at"] == datetime(2026, 10, 30, 8, tzinfo=UTC)


def test_an_empty_lead_timestamp_is_none_as_an_empty_cell_of_a_file_is():
    request = validate_request(json.dumps({"leads": [{
        "lead_id": "a", "as_of": "", "created_at": " ", "mql_at": "",
    }]}).encode(), SCORE_ROUTE)
    lead = request.leads[0]
    assert lead.as_of is None and lead.created_at is None and lead.mql_at is None
    with pytest.raises(RequestRejected) as caught:  # an activity's time is never optional
        validate_request(json.dumps({"leads": [{"lead_id": "a", "activities": [
            {"activity_type": "x", "occurred_at": ""}]}]}).encode(), SCORE_ROUTE)
    assert caught.value.body["field"] == "leads[0].activities[0].occurred_at"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"leads": [{"lead_id": "a", "activities": [{"activity_type": "x", "occurred_at": "soon"}]},
                    ], "reasons": True}, 422, "leads[0].activities[0].occurred_at"),
        ({"leads": [{"lead_id": "a"}, {"lead_id": "b", "as_of": "0001-01-01T00:00:00"}]},
         422, "leads[1].as_of"),
        ({"leads": [{"lead_id": "a", "activities": "many"}]}, 422, "leads[0].activities"),
        ({"leads": [{"title": "CEO"}]}, 422, "leads[0].lead_id"),
        ({"leads": []}, 422, "leads"),
        # a key the client chose is never repeated (it may be an e-mail address): <key>
        ({"leads": [{"lead_id": "a"}], "reason": False}, 422, "<key>"),
        ({"leads": [{"lead_id": "a"}], "reasons": "maybe"}, 422, "reasons"),
        ({"leads": [{"lead_id": str(i)} for i in range(1001)]}, 413, "leads"),
    ],
)
def test_bad_input_names_the_field(body, status, field):
    error = rejected(body)
    assert error.status == status
    assert error.body["field"] == field
    assert field in error.body["error"]


def test_malformed_json_and_a_non_object_are_4xx():
    assert rejected(b'{"leads": [').status == 400
    assert rejected(b"").status == 400
    assert rejected(b"[1, 2]").status == 422


def test_rejected_values_are_never_echoed():
    error = rejected({"leads": [{"lead_id": "a", "as_of": EMAIL, "email": ["list"],
                                 "activities": [{"activity_type": EMAIL, "occurred_at": EMAIL}]}]})
    assert error.status == 422
    assert EMAIL not in json.dumps(error.body)
    assert len(error.body["errors"]) >= 3


def test_api_keys_are_comma_separated_and_compared_exactly():
    keys = api_keys({"LEADSCORE_API_KEYS": " k1, k2 ,,"})
    assert keys == ("k1", "k2")
    assert api_keys({}) == ()
    assert is_authorized("Bearer k2", keys)
    assert is_authorized("bearer k1", keys)
    assert not is_authorized("Bearer k3", keys)
    assert not is_authorized("Bearer k", keys)
    assert not is_authorized("Basic k1", keys)
    assert not is_authorized(None, keys)
    assert bearer_token("Bearer   ") is None


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("10.0.0.5", False), ("example.com", False), ("", False),
])
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


def test_a_null_list_or_object_reads_as_empty():
    """CRM webhooks send null for every empty property: null activities, attributes, leads."""
    request = validate_request(json.dumps({"leads": [
        {"lead_id": "a", "activities": None, "attributes": None}]}).encode(), SCORE_ROUTE)
    assert request.leads[0].activities == [] and request.leads[0].attributes == {}
    events = validate_request(b'{"leads": null, "activities": null}',
                              post_routes(LeadScorer)["/events"])
    assert events.leads == [] and events.activities == []


def test_the_openapi_schema_says_null_is_accepted_and_keeps_the_limits():
    lead = SCORE_ROUTE.model.model_json_schema()["$defs"]["Lead"]["properties"]
    kinds = {s.get("type") for s in lead["activities"]["anyOf"]}
    assert kinds == {"array", "null"}
    assert [s["maxItems"] for s in lead["activities"]["anyOf"] if "maxItems" in s] == [10_000]
    assert {s.get("type") for s in lead["attributes"]["anyOf"]} == {"object", "null"}


@pytest.mark.parametrize("lead", [
    {"lead_id": "a", "title": "CEO\u0000"},
    {"lead_id": "a\u0000"},
    {"lead_id": "a", "activities": [{"activity_type": "x\u0000", "occurred_at": "2026-10-01"}]},
    {"lead_id": "a", "attributes": {"k": "v\u0000"}},
])
def test_a_nul_character_is_a_422_naming_the_field(lead):
    """PostgreSQL cannot store NUL in text: a live store on it answered 503 'retry later' (to
    a request no retry fixes) or, looking a lead id up, 500. Refused up front, on every store."""
    error = rejected({"leads": [lead]})
    assert error.status == 422
    assert "NUL" in error.body["error"] and error.body["field"].startswith("leads[0].")
    events = post_routes(LeadScorer)["/events"]
    with pytest.raises(RequestRejected) as info:
        validate_request(json.dumps({"activities": [
            {"lead_id": "a\u0000", "activity_type": "x", "occurred_at": "2026-10-01"}]}).encode(),
            events)
    assert info.value.status == 422 and "NUL" in info.value.body["error"]
