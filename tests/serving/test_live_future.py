"""A record dated in the future is refused by the live loop's endpoints: stored, it would move
the store's data horizon past today (``features.timestamps.future_problem``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from features.live_store import live_activities, live_dispositions, live_leads, live_outcomes
from leadscore.config import default_config
from serving.gateway import RequestRejected
from serving.live import LiveLoop
from serving.live_schemas import DispositionsRequest, EventsRequest, OutcomesRequest

NOW = datetime.now(UTC)
PAST = (NOW - timedelta(days=2)).isoformat()
SKEWED = (NOW + timedelta(hours=20)).isoformat()  # a sender's clock ahead: inside the tolerance
NEXT_YEAR = (NOW + timedelta(days=365)).isoformat()


@pytest.fixture
def loop(tmp_path, monkeypatch):
    monkeypatch.setenv("LEADSCORE_LIVE_URL", f"sqlite:///{tmp_path / 'live.db'}")
    live = LiveLoop(default_config())
    yield live
    live.close()


def _refused(call, request) -> dict:
    with pytest.raises(RequestRejected) as caught:
        call(request)
    assert caught.value.status == 422
    return caught.value.body


def _activity(lead_id: str, at: str) -> dict:
    return {"lead_id": lead_id, "activity_type": "pricing_view", "occurred_at": at}


@pytest.mark.parametrize(("body", "field"), [
    ({"activities": [_activity("a", PAST), _activity("b", NEXT_YEAR)]},
     "activities[1].occurred_at"),
    ({"leads": [{"lead_id": "a", "created_at": NEXT_YEAR}]}, "leads[0].created_at"),
    ({"leads": [{"lead_id": "a", "mql_at": NEXT_YEAR}]}, "leads[0].mql_at"),
    ({"leads": [{"lead_id": "a", "activities": [
        {"activity_type": "demo_request", "occurred_at": PAST},
        {"activity_type": "demo_request", "occurred_at": NEXT_YEAR}]}]},
     "leads[0].activities[1].occurred_at"),
])
def test_an_event_dated_next_year_is_refused_and_nothing_of_its_batch_is_stored(loop, body,
                                                                               field):
    body = {"leads": [{"lead_id": "ok", "created_at": PAST}], **body}
    refused = _refused(loop.events, EventsRequest(**body))
    assert refused["field"] == field
    assert refused["error"].startswith(f"{field}: is dated after the server's clock (")
    assert "1 day allowed for clock skew" in refused["error"]
    assert refused["error"].endswith("nothing of this request was stored.")
    assert loop.store.table(live_leads).empty and loop.store.table(live_activities).empty


def test_a_sender_clock_a_few_hours_ahead_is_within_the_tolerance(loop):
    stored = loop.events(EventsRequest(activities=[_activity("a", SKEWED)]))
    assert stored["activities"] == 1


@pytest.mark.parametrize(("verdict", "field"), [
    ({"dispositioned_at": NEXT_YEAR}, "dispositions[1].dispositioned_at"),
    ({"dispositioned_at": PAST, "first_touch_at": NEXT_YEAR}, "dispositions[1].first_touch_at"),
])
def test_a_verdict_dated_next_year_is_refused(loop, verdict, field):
    ok = {"lead_id": "a", "dispositioned_at": PAST, "status": "rejected",
          "reason_code": "wrong_title"}
    request = DispositionsRequest(dispositions=[ok, {**ok, "lead_id": "b", **verdict}])
    assert _refused(loop.dispositions, request)["field"] == field
    assert loop.store.table(live_dispositions).empty


def test_an_outcome_dated_next_year_is_refused(loop):
    request = OutcomesRequest(outcomes=[{"lead_id": "a", "stage": "sql", "occurred_at": PAST},
                                        {"lead_id": "b", "stage": "sql",
                                         "occurred_at": NEXT_YEAR}])
    assert _refused(loop.outcomes, request)["field"] == "outcomes[1].occurred_at"
    assert loop.store.table(live_outcomes).empty


def test_the_endpoint_answers_the_422_sentence(api):
    from tests.serving.conftest import AUTH

    response = api.post("/events", json={"activities": [_activity("f", NEXT_YEAR)]},
                        headers=AUTH)
    assert response.status_code == 422
    assert response.json()["field"] == "activities[0].occurred_at"
    assert "nothing of this request was stored" in response.json()["error"]
