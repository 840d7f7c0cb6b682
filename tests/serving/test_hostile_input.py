"""Personal data a client puts where it does not belong never comes back: not in a reason label,
not in an error. The API on a real champion (``Service.to_asgi()``), then the schema's edges."""

from __future__ import annotations

import json

import pytest

from features.timestamps import TIMESTAMP_RULE
from serving.gateway import RequestRejected, post_routes, validate_request
from serving.service import LeadScorer
from tests.serving.conftest import AUTH

EMAIL, NAME, PHONE = "jane.doe@example.com", "Jane Marple Doe", "+1 415 555 0199"
PII = (EMAIL, NAME, PHONE)
STRING_FIELDS = ("source", "title", "company_size", "industry", "country", "email",
                 "email_domain", "campaign")


def _hostile_leads() -> list[dict]:
    leads = []
    for i, text in enumerate(PII):
        lead = {field: text for field in STRING_FIELDS}
        lead.update(lead_id=f"L{i}", created_at="2026-10-01T00:00:00Z",
                    as_of="2026-11-01T00:00:00Z",
                    activities=[{"activity_type": text, "occurred_at": "2026-10-30T00:00:00Z"},
                                {"activity_type": "pricing_view",
                                 "occurred_at": "2026-10-31T00:00:00Z"}],
                    attributes={text: text, "plan": text})
        leads.append(lead)
    return leads


def _assert_no_pii(text: str) -> None:
    for value in PII:
        assert value not in text
        assert value.lower() not in text.lower()
    for piece in ("jane", "marple", "example.com", "415 555"):
        assert piece not in text.lower()


def test_personal_data_in_every_string_field_never_comes_back(api):
    response = api.post("/score", json={"leads": _hostile_leads(), "reasons": True},
                        headers=AUTH)
    assert response.status_code == 200, response.text
    _assert_no_pii(response.text)
    labels = [r["label"] for s in response.json()["scores"] for r in s["reasons"]]
    assert labels  # reasons were given, just without the free text


def test_a_category_the_model_never_learned_is_labelled_other(api):
    lead = {"lead_id": "x", "industry": EMAIL, "title": NAME, "company_size": PHONE,
            "country": NAME, "source": PHONE, "as_of": "2026-11-01T00:00:00Z"}
    response = api.post("/score", json={"leads": [lead]}, headers=AUTH)
    assert response.status_code == 200
    labels = [r["label"] for r in response.json()["scores"][0]["reasons"]]
    assert any(label.endswith(": other") or "other" in label.lower() for label in labels), labels
    _assert_no_pii(response.text)


@pytest.mark.parametrize("body", [
    {"leads": [{"lead_id": "a", "attributes": {EMAIL: [1]}}]},
    {"leads": [{"lead_id": "a", "attributes": {EMAIL: "x" * 1200}}]},
    {"leads": [{"lead_id": "a", "attributes": {EMAIL * 20: "x"}}]},
    {"leads": [{"lead_id": "a"}], EMAIL: 1},
    {"leads": [{"lead_id": "a"}], NAME: PHONE},
])
def test_an_error_never_quotes_a_key_or_value_the_client_chose(api, body):
    response = api.post("/score", json=body, headers=AUTH)
    assert response.status_code == 422
    _assert_no_pii(response.text)
    assert "<key>" in response.json()["field"]


@pytest.mark.parametrize("value", [0, 1, "true", "yes", None])
def test_reasons_takes_only_a_json_boolean(value):
    with pytest.raises(RequestRejected) as caught:
        validate_request(json.dumps({"leads": [{"lead_id": "a"}], "reasons": value}).encode(),
                         post_routes(LeadScorer)["/score"])
    assert caught.value.body["field"] == "reasons"


@pytest.mark.parametrize("as_of", ["20261101", 20261101, "1999-12-31T23:59:59Z", "2200-01-01"])
def test_a_compact_date_or_a_year_out_of_range_is_refused_not_read_as_1970(as_of):
    with pytest.raises(RequestRejected) as caught:
        validate_request(json.dumps({"leads": [{"lead_id": "a", "as_of": as_of}]}).encode(),
                         post_routes(LeadScorer)["/score"])
    assert caught.value.body["field"] == "leads[0].as_of"
    assert caught.value.body["error"] == f"leads[0].as_of: {TIMESTAMP_RULE}."  # batch's too
    assert "2000..2199" in TIMESTAMP_RULE and "write it 2026-11-02" in TIMESTAMP_RULE


@pytest.mark.parametrize("as_of", ["2026-11-01", "2026-11-01T09:30:00+02:00", 1793491200,
                                   "1793491200"])
def test_iso_dates_and_unix_seconds_are_taken(as_of):
    validate_request(json.dumps({"leads": [{"lead_id": "a", "as_of": as_of}]}).encode(),
                     post_routes(LeadScorer)["/score"])


def test_the_openapi_document_declares_the_timestamp_range(api):
    document = api.get("/docs.json").json()
    schemas = json.dumps(document)
    assert "2000-01-01T00:00:00Z" in schemas and "2200-01-01T00:00:00Z" in schemas
    request = document["components"]["schemas"]
    reasons = next(s["properties"]["reasons"] for s in request.values()
                   if "reasons" in s.get("properties", {}) and "leads" in s["properties"])
    assert reasons["type"] == "boolean"
