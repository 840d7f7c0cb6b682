"""Score-by-id merges a lead's stored history: the API holds it to the scoring contract, as batch
scoring holds a file's rows (``features.timestamps``), through the real ASGI app."""

from __future__ import annotations

import textwrap

import pytest

from features.ingest import ingest_paths
from features.store import connect, publish_lookup
from tests.serving.conftest import API_KEY, AUTH, _asgi_client

AS_OF = "2026-11-01T00:00:00Z"
LEADS = textwrap.dedent("""\
    lead_id,created_at,source,title,company_size,industry,country
    L-ok,2026-10-01,webinar,VP Sales,250,Software,US
    L-old-activity,2026-10-01,webinar,VP Sales,250,Software,US
    L-old-lead,2026-10-01,webinar,VP Sales,250,Software,US
    """)
ACTIVITIES = textwrap.dedent("""\
    lead_id,occurred_at,activity_type
    L-ok,2026-10-20T10:00:00,pricing_view
    L-old-activity,2026-10-20T10:00:00,pricing_view
    L-old-activity,2026-10-21T10:00:00,demo_request
    """)


@pytest.fixture(scope="module")
def api_on_old_store(registry, tmp_path_factory):
    """The app over a store ingested before ingest held to 2000..2199: two of its leads carry
    a year scoring refuses."""
    folder = tmp_path_factory.mktemp("old-store")
    (folder / "leads.csv").write_text(LEADS)
    (folder / "activities.csv").write_text(ACTIVITIES)
    store = folder / "leadscore.duckdb"
    ingest_paths([folder / "leads.csv", folder / "activities.csv"], store)
    with connect(store) as con:
        con.execute("UPDATE activities SET occurred_at = TIMESTAMP '1999-10-21 10:00' "
                    "WHERE lead_id = 'L-old-activity' AND activity_type = 'demo_request'")
        con.execute("UPDATE leads SET created_at = TIMESTAMP '1026-10-01' "
                    "WHERE lead_id = 'L-old-lead'")
        publish_lookup(con, store)
    yield from _asgi_client(registry.tracking_uri, API_KEY, store=store)


@pytest.mark.parametrize(("lead_id", "says"), [
    ("L-old-activity", "a stored activity's occurred_at is outside 2000..2199 (UTC)"),
    ("L-old-lead", "its stored created_at is outside 2000..2199 (UTC)"),
])
def test_score_by_id_refuses_a_stored_history_outside_the_rule(api_on_old_store, lead_id, says):
    ok = api_on_old_store.post("/score", headers=AUTH, json={"lead_id": "L-ok", "as_of": AS_OF})
    assert ok.status_code == 200, ok.text
    assert ok.json()["scores"][0]["reasons"]  # its stored history was read

    response = api_on_old_store.post("/score", headers=AUTH, json={"leads": [
        {"lead_id": "L-ok", "as_of": AS_OF}, {"lead_id": lead_id, "as_of": AS_OF}]})

    assert response.status_code == 422
    assert response.json()["error"] == (
        f"leads[1]: {says}, which every scoring path refuses; correct it in the export and "
        "ingest it again.")
