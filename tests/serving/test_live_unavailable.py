"""A live store that fails while the API reads it (a PostgreSQL that went down, a table gone) is
a 503 with the live store's sentence, as a failed write is, never a 500."""

from __future__ import annotations

import os

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
