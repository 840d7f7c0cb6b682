"""``changes`` and the merge of a request's lead with what the stores hold (no server)."""

from __future__ import annotations

from datetime import datetime

from serving.live import changes, merge
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
