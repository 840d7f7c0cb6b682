"""A live store that fails while the API reads it (a PostgreSQL that went down, a table gone) is
a 503 with the live store's sentence, as a failed write is, never a 500."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from tests.serving.conftest import API_KEY

HEADERS = {"Authorization": f"Bearer {API_KEY}"}


def test_score_by_id_with_a_live_store_that_cannot_be_read_is_a_503_not_a_500(api):
    assert api.post("/score", json={"lead_id": "u1"}, headers=HEADERS).status_code == 200
    engine = sa.create_engine(os.environ["LEADSCORE_LIVE_URL"])
    with engine.begin() as con:  # the store fails under the worker (as a PostgreSQL going down)
        con.execute(sa.text("ALTER TABLE live_activities RENAME TO gone"))
    try:
        response = api.post("/score", json={"lead_id": "u1"}, headers=HEADERS)
        assert response.status_code == 503
        assert response.json()["error"].startswith("The live store is not available")
    finally:
        with engine.begin() as con:
            con.execute(sa.text("ALTER TABLE gone RENAME TO live_activities"))
        engine.dispose()
    assert api.post("/score", json={"lead_id": "u1"}, headers=HEADERS).status_code == 200


@pytest.mark.parametrize(("path", "field", "limit", "item"), [
    ("/events", "leads", 1_000, {"lead_id": "x"}),
    ("/events", "activities", 10_000,
     {"lead_id": "x", "activity_type": "web_visit", "occurred_at": "2026-11-30T10:00:00Z"}),
    ("/dispositions", "dispositions", 1_000,
     {"lead_id": "x", "dispositioned_at": "2026-11-30", "status": "rejected",
      "reason_code": "no_budget"}),
    ("/outcomes", "outcomes", 1_000, {"lead_id": "x", "stage": "sql", "occurred_at": "2026-11-30"}),
])
def test_a_live_batch_over_its_limit_is_the_413_sentence_score_gives(api, path, field, limit,
                                                                     item):
    response = api.post(path, json={field: [item] * (limit + 1)}, headers=HEADERS)
    assert response.status_code == 413
    assert response.json() == {
        "error": f"Too many {field}: send at most {limit:,} per request (split the batch).",
        "field": field}
