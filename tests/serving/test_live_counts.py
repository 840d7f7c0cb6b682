"""The live endpoints' answer says how many rows were new and how many already stored, so a
retried batch is told apart from a fresh one (the counts received alone were the same)."""

from __future__ import annotations

import pytest

from leadscore.config import default_config
from serving.live import LiveLoop
from serving.live_schemas import DispositionsRequest, EventsRequest, OutcomesRequest, Stored

AT = "2026-10-30T10:00:00+02:00"


@pytest.fixture
def loop(tmp_path, monkeypatch):
    monkeypatch.setenv("LEADSCORE_LIVE_URL", f"sqlite:///{tmp_path / 'live.db'}")
    live = LiveLoop(default_config())
    yield live
    live.close()


def _counts(leads=0, activities=0, dispositions=0, outcomes=0) -> dict:
    return {"leads": leads, "activities": activities, "dispositions": dispositions,
            "outcomes": outcomes}


def test_a_retried_events_batch_is_all_already_stored(loop):
    body = {"leads": [{"lead_id": "a", "title": "VP"}, {"lead_id": "a", "country": "US"}],
            "activities": [{"lead_id": "a", "activity_type": "pricing_view", "occurred_at": AT},
                           {"lead_id": "a", "activity_type": "pricing_view", "occurred_at": AT},
                           {"lead_id": "b", "activity_type": "demo_request", "occurred_at": AT}]}
    first = loop.events(EventsRequest(**body))
    assert first == {**_counts(2, 3), "new": _counts(1, 2), "already_stored": _counts()}
    again = loop.events(EventsRequest(**body))
    assert again == {**_counts(2, 3), "new": _counts(), "already_stored": _counts(1, 2)}
    Stored(**again)  # the documented schema
    # one new activity beside a stored one, the same instant written in another zone
    more = loop.events(EventsRequest(activities=[
        {"lead_id": "a", "activity_type": "pricing_view", "occurred_at": "2026-10-30T08:00:00Z"},
        {"lead_id": "a", "activity_type": "page_view", "occurred_at": AT}]))
    assert (more["new"]["activities"], more["already_stored"]["activities"]) == (1, 1)


def test_verdicts_and_outcomes_say_which_replaced_a_stored_row(loop):
    verdict = {"lead_id": "a", "dispositioned_at": "2026-11-01", "status": "rejected",
               "reason_code": "wrong_title"}
    assert loop.dispositions(DispositionsRequest(dispositions=[verdict]))["new"] == \
        _counts(dispositions=1)
    again = loop.dispositions(DispositionsRequest(dispositions=[
        {**verdict, "reason_code": "no_budget"}, {**verdict, "lead_id": "b"}]))
    assert (again["dispositions"], again["new"], again["already_stored"]) == (
        2, _counts(dispositions=1), _counts(dispositions=1))
    outcome = {"lead_id": "a", "stage": "sql", "occurred_at": "2026-11-02"}
    loop.outcomes(OutcomesRequest(outcomes=[outcome]))
    assert loop.outcomes(OutcomesRequest(outcomes=[outcome]))["already_stored"] == \
        _counts(outcomes=1)
