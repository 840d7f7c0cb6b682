"""``changes`` and the merge of a request's lead with what the stores hold (no server)."""

from __future__ import annotations

from datetime import datetime

import pytest

from features.live_store import live_dispositions
from leadscore.config import default_config
from serving.gateway import RequestRejected
from serving.live import LiveLoop, changes, merge
from serving.live_schemas import DispositionsRequest, EventsRequest
from serving.schemas import Lead


def _reason(feature: str, impact: float) -> dict:
    return {"feature": feature, "label": feature.replace("_", " "), "group": "intent",
            "impact": impact}


def test_the_first_score_has_no_previous_one():
    now = {"score": 0.2, "grade": "B2", "reasons": [_reason("x", 0.1)]}
    assert changes(now, None) == {"previous": None, "moved": [],
                                  "summary": "first score of this lead"}


def test_the_reasons_that_moved_most_come_first_with_the_grade_change():
    before = {"score": 0.1, "grade": "C3", "model_version": "2",
              "scored_at": datetime(2026, 10, 30, 9), "reasons": [_reason("a", 0.5),
                                                                  _reason("b", -0.2)]}
    now = {"score": 0.6, "grade": "A1", "reasons": [_reason("a", 0.4), _reason("demo", 1.2)]}
    out = changes(now, before)
    assert out["previous"] == {"score": 0.1, "grade": "C3", "model_version": "2",
                               "scored_at": "2026-10-30T09:00:00Z"}
    assert [m["feature"] for m in out["moved"]] == ["demo", "b", "a"]
    assert out["summary"] == "demo; grade C3 -> A1"


def test_sent_fields_win_and_sent_activities_join_the_stored_history_once():
    lead = Lead(lead_id="x", title="CEO", activities=[
        {"activity_type": "pricing_view", "occurred_at": "2026-10-30T10:00:00Z"}])
    stored = {"title": "Intern", "country": "US", "attributes": {"k": "v"}}
    history = [{"activity_type": "pricing_view", "occurred_at": datetime(2026, 10, 30, 10)},
               {"activity_type": "page_view", "occurred_at": datetime(2026, 10, 29)}]
    record = merge(lead, stored, history)
    assert (record["title"], record["country"], record["attributes"]) == ("CEO", "US", {"k": "v"})
    assert [a["activity_type"] for a in record["activities"]] == ["pricing_view", "page_view"]


@pytest.mark.parametrize(("verdict", "field", "words"), [
    ({"status": "rejected", "reason_code": "made_up"}, "reason_code", "not a reason code"),
    ({"status": "rejected"}, "reason_code", "needs a reason code"),
    ({"status": "made_up"}, "status", "not a status"),
])
def test_a_verdict_the_label_policy_does_not_know_is_a_422_naming_its_field(
        tmp_path, monkeypatch, verdict, field, words):
    monkeypatch.setenv("LEADSCORE_LIVE_URL", f"sqlite:///{tmp_path / 'live.db'}")
    loop = LiveLoop(default_config())
    try:
        request = DispositionsRequest(dispositions=[
            {"lead_id": "x", "dispositioned_at": "2026-11-01", **verdict}])
        with pytest.raises(RequestRejected) as caught:
            loop.dispositions(request)
        assert caught.value.status == 422
        assert caught.value.body["field"] == f"dispositions[0].{field}"
        assert words in caught.value.body["error"] and "made_up" not in caught.value.body["error"]
        assert loop.store.table(live_dispositions).empty  # nothing half-written
    finally:
        loop.close()


def test_two_upserts_of_one_lead_in_one_events_request_keep_both_fields(tmp_path, monkeypatch):
    """A webhook batch often carries several change events of one lead: each sets the fields it
    carries, as if posted one after the other (the later wins a field both set)."""
    monkeypatch.setenv("LEADSCORE_LIVE_URL", f"sqlite:///{tmp_path / 'live.db'}")
    loop = LiveLoop(default_config())
    try:
        stored = loop.events(EventsRequest(leads=[
            {"lead_id": "d1", "title": "CEO", "country": "US"},
            {"lead_id": "d1", "industry": "Retail", "country": "DE"},
            {"lead_id": "d2", "title": "Intern"}]))
        assert stored["leads"] == 3
        fields = {lead_id: f for lead_id, (f, _) in loop.store.leads(["d1", "d2"]).items()}
        assert {k: fields["d1"].get(k) for k in ("title", "industry", "country")} == \
            {"title": "CEO", "industry": "Retail", "country": "DE"}
        assert fields["d2"]["title"] == "Intern"
    finally:
        loop.close()


def test_a_verdict_with_an_unknown_status_is_refused_even_with_a_known_reason_code(
        tmp_path, monkeypatch):
    """The review refuses a store holding a status the policy does not know, whatever its
    reason code: the API stored {"status": "Rejected", "reason_code": "no_budget"} and the
    next `leadscore review` / `rescore` stopped on it."""
    monkeypatch.setenv("LEADSCORE_LIVE_URL", f"sqlite:///{tmp_path / 'live.db'}")
    loop = LiveLoop(default_config())
    try:
        request = DispositionsRequest(dispositions=[
            {"lead_id": "x", "dispositioned_at": "2026-11-01", "status": "rejected",
             "reason_code": "no_budget"},
            {"lead_id": "y", "dispositioned_at": "2026-11-01", "status": "Rejected",
             "reason_code": "no_budget"}])
        with pytest.raises(RequestRejected) as caught:
            loop.dispositions(request)
        assert caught.value.status == 422
        assert caught.value.body["field"] == "dispositions[1].status"
        assert "not a status" in caught.value.body["error"]
        assert "rejected" in caught.value.body["error"]  # the known statuses are listed
        assert loop.store.table(live_dispositions).empty
    finally:
        loop.close()


def test_a_live_store_that_cannot_be_opened_at_start_is_retried_not_fatal(monkeypatch):
    """A worker started during a database outage must start (BentoML would restart it forever);
    the store is opened on a later request, at most every REOPEN_S."""
    from features.live_store import LiveStoreUnavailable
    from serving import live as live_module
    from tests.serving.server import free_port

    dead = f"postgresql+psycopg://leadscore@127.0.0.1:{free_port()}/postgres"
    monkeypatch.setenv("LEADSCORE_LIVE_URL", dead)
    loop = LiveLoop(default_config())
    try:
        for _ in range(2):  # at once (within REOPEN_S), then after a real retry
            with pytest.raises(LiveStoreUnavailable):
                loop.events(EventsRequest(leads=[{"lead_id": "x"}]))
            monkeypatch.setattr(live_module, "REOPEN_S", 0.0)
    finally:
        loop.close()


def test_a_null_field_of_a_later_event_keeps_what_an_earlier_one_stored(tmp_path, monkeypatch):
    """CRM webhooks send null for every empty property; the API reads null as absent. A second
    change event of a lead, {"title": null, "attributes": null, "country": "DE"}, wiped the
    title and attributes the first stored, until then kept only in the live store."""
    monkeypatch.setenv("LEADSCORE_LIVE_URL", f"sqlite:///{tmp_path / 'live.db'}")
    loop = LiveLoop(default_config())
    try:
        loop.events(EventsRequest(leads=[{"lead_id": "n", "title": "VP Marketing",
                                          "country": "US", "attributes": {"Lead Origin": "API"},
                                          "created_at": "2026-10-01"}]))
        loop.events(EventsRequest(leads=[{"lead_id": "n", "title": None, "country": "DE",
                                          "attributes": None, "created_at": ""}]))
        fields, _ = loop.store.leads(["n"])["n"]
        assert fields == {"title": "VP Marketing", "country": "DE",
                          "attributes": {"Lead Origin": "API"},
                          "created_at": datetime(2026, 10, 1)}
    finally:
        loop.close()
