"""Every 422 of the POST routes names the problem and the fix in the API's words (no server).

Found by calling a running ``leadscore serve`` as a CRM would (qa11-serving): a negative
``attempts`` was answered with the timestamp sentence, and several shapes still got Pydantic's
own words ("Input should be a valid array"), which say nothing of what to send.
"""

from __future__ import annotations

import json

import pytest

from serving.gateway import RequestRejected, post_routes, validate_request
from serving.service import LeadScorer

ROUTES = post_routes(LeadScorer)
VERDICT = {"lead_id": "1", "dispositioned_at": "2026-11-01", "status": "working"}
OUTCOME = {"lead_id": "1", "stage": "sql", "occurred_at": "2026-11-01"}


def refusal(path: str, body) -> RequestRejected:
    with pytest.raises(RequestRejected) as info:
        validate_request(json.dumps(body).encode(), ROUTES[path])
    return info.value


@pytest.mark.parametrize("attempts", [-1, 10_001, "three", 2.5])
def test_attempts_out_of_range_or_not_whole_is_said_as_such(attempts):
    err = refusal("/dispositions", {"dispositions": [{**VERDICT, "attempts": attempts}]})
    assert err.status == 422 and err.body["field"] == "dispositions[0].attempts"
    assert "timestamp" not in err.body["error"]  # it was the timestamp rule for -1
    assert "whole number from 0 to 10,000" in err.body["error"] and "null" in err.body["error"]


@pytest.mark.parametrize("amount", ["1,200", "NaN", "twelve"])
def test_an_amount_that_is_no_finite_number_says_how_to_write_it(amount):
    err = refusal("/outcomes", {"outcomes": [{**OUTCOME, "amount": amount}]})
    assert err.body["field"] == "outcomes[0].amount"
    assert err.body["error"].startswith("outcomes[0].amount: must be a finite number")


def test_a_timestamp_bound_still_gets_the_timestamp_rule():
    err = refusal("/dispositions",
                  {"dispositions": [{**VERDICT, "dispositioned_at": "1999-12-31"}]})
    assert "must be a timestamp" in err.body["error"]


PYDANTIC_WORDS = ("Input should", "List should", "String should", "Value should")


@pytest.mark.parametrize(("path", "body", "field", "says"), [
    ("/score", {"leads": []}, "leads", "at least one"),
    ("/score", {"leads": None}, "leads", "list"),
    ("/score", {"leads": {"lead_id": "1"}}, "leads", "list"),
    ("/score", {"leads": [None]}, "leads[0]", "object"),
    ("/score", {"leads": [7]}, "leads[0]", "object"),
    ("/score", {"leads": [{"lead_id": "1"}], "reasons": "true"}, "reasons", "true or false"),
    ("/score", {"leads": [{"lead_id": "1", "activities": [
        {"activity_type": "", "occurred_at": "2026-11-01"}]}]},
     "leads[0].activities[0].activity_type", "empty"),
    ("/dispositions", {"dispositions": []}, "dispositions", "at least one"),
    ("/dispositions", {"dispositions": None}, "dispositions", "list"),
    ("/dispositions", {"dispositions": [{**VERDICT, "status": ""}]}, "dispositions[0].status",
     "empty"),
    ("/outcomes", {"outcomes": []}, "outcomes", "at least one"),
    ("/outcomes", {"outcomes": [{**OUTCOME, "stage": ""}]}, "outcomes[0].stage", "empty"),
    ("/events", {"leads": "x"}, "leads", "list"),
    ("/events", {"activities": [{"lead_id": "1", "activity_type": "",
                                 "occurred_at": "2026-11-01"}]},
     "activities[0].activity_type", "empty"),
])
def test_a_refused_shape_says_what_to_send_not_pydantics_words(path, body, field, says):
    err = refusal(path, body)
    assert err.status == 422 and err.body["field"] == field
    sentence = err.body["error"]
    assert sentence.startswith(f"{field}: ") and says in sentence
    assert not any(words in sentence for words in PYDANTIC_WORDS), sentence
    assert sentence.count(". ") == 0 and sentence.endswith(".")  # one sentence


@pytest.mark.parametrize(("path", "items"), [("/score", "leads"), ("/events", "events"),
                                              ("/dispositions", "verdicts"),
                                              ("/outcomes", "outcomes")])
def test_a_body_that_is_not_json_is_told_what_the_route_takes(path, items):
    """Every route answered "Send the leads as JSON": /dispositions takes no leads."""
    from starlette.testclient import TestClient

    from serving.gateway import Gateway

    async def app(scope, receive, send):  # never reached
        raise AssertionError("the gateway let the body through")

    client = TestClient(Gateway(app, keys=("k",), routes=ROUTES))
    response = client.post(path, content=b"lead_id,status\n1,working\n",
                           headers={"Authorization": "Bearer k", "Content-Type": "text/csv"})
    assert response.status_code == 415
    error = response.json()["error"]
    assert error.startswith(f"Send the {items} as JSON") and ROUTES[path].example in error
