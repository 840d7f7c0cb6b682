"""The live loop against real ``bentoml serve`` processes, on SQLite and on a real PostgreSQL.

One server per store for the module (and a second one on the same PostgreSQL for the two-replica
test); a kill -9 test starts its own.
"""

from __future__ import annotations

import shutil
import signal
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest
import sqlalchemy as sa

from features.live_store import LiveStore, live_activities
from tests.pg import postgres_server
from tests.serving.conftest import AUTH
from tests.serving.leads import EMAIL, NAME, lead
from tests.serving.server import server_env, start_server

pytestmark = pytest.mark.integration
AS_OF = "2026-11-01T00:00:00Z"
SCORED = ("score", "fit_score", "intent_score", "grade", "is_mql", "reasons")


def _review_store(registry) -> Path:
    """The DuckDB store the champion's review cycle read (beside its MLflow store)."""
    return Path(registry.tracking_uri.removeprefix("sqlite:///")).parents[1] / "leadscore.duckdb"


@pytest.fixture(scope="module")
def postgres_url():
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request, registry, tmp_path_factory):
    """A server on one live store, with a copy of the review's DuckDB store behind it."""
    folder = tmp_path_factory.mktemp(f"live-{request.param}")
    store = folder / "leadscore.duckdb"
    shutil.copy(_review_store(registry), store)
    lookup = _review_store(registry).with_name("leadscore.duckdb.lookup")
    shutil.copy(lookup, folder / lookup.name)  # the snapshot the ingest published
    url = (f"sqlite:///{folder / 'live.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    env = server_env(registry.tracking_uri, live_url=url, store=str(store))
    server = start_server(env, folder / "server.log")
    client = httpx.Client(base_url=server.url, timeout=30, headers=AUTH)
    try:
        yield request.param, client, url, store, env
    finally:
        client.close()
        server.stop()
        assert EMAIL not in server.log() and NAME not in server.log()


def _scores(response: httpx.Response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["scores"]


def test_events_then_score_by_id_equals_the_lead_scored_with_its_history_inline(live):
    kind, http, url, _, _ = live
    full = lead(f"{kind}-inline")
    fields = {k: v for k, v in full.items() if k not in ("lead_id", "activities", "as_of")}
    stored = http.post("/events", json={
        "leads": [{"lead_id": f"{kind}-known", **fields, "activities": full["activities"][:1]}],
        "activities": [{"lead_id": f"{kind}-known", **full["activities"][1]}],
    })
    assert stored.status_code == 200, stored.text
    assert stored.json()["activities"] == 2
    by_id = _scores(http.post("/score", json={"lead_id": f"{kind}-known", "as_of": AS_OF}))[0]
    inline = _scores(http.post("/score", json={"leads": [full]}))[0]
    bare = _scores(http.post("/score", json={"lead_id": f"{kind}-unknown", "as_of": AS_OF}))[0]
    assert {k: by_id[k] for k in SCORED} == {k: inline[k] for k in SCORED}
    assert by_id["score"] != bare["score"]  # the stored history made the difference


def test_a_lead_of_the_duckdb_store_is_scored_from_its_stored_history(live, registry):
    import duckdb

    _, http, _, store, _ = live
    with duckdb.connect(str(store), read_only=True) as con:
        lead_id, = con.execute("SELECT lead_id FROM activities GROUP BY lead_id "
                               "ORDER BY count(*) DESC, lead_id LIMIT 1").fetchone()
    by_id = _scores(http.post("/score", json={"lead_id": lead_id, "as_of": AS_OF}))[0]
    bare = _scores(http.post("/score", json={"lead_id": "nobody-knows-me", "as_of": AS_OF}))[0]
    assert by_id["reasons"] != bare["reasons"]


def test_the_same_event_posted_twice_is_stored_once(live):
    kind, http, url, _, _ = live
    body = {"activities": [{"lead_id": f"{kind}-twice", "activity_type": "pricing_view",
                            "occurred_at": "2026-10-30T10:00:00+02:00"}]}
    answers = [http.post("/events", json=body) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert [(a.json()["new"]["activities"], a.json()["already_stored"]["activities"])
            for a in answers] == [(1, 0), (0, 1)]  # the retry is told apart
    store = LiveStore(url)
    with store.engine.connect() as con:
        n = con.execute(sa.select(sa.func.count()).select_from(live_activities).where(
            live_activities.c.lead_id == f"{kind}-twice")).scalar()
    store.close()
    assert n == 1


def test_every_score_is_logged_and_carries_what_changed_since_the_previous_one(live):
    kind, http, url, _, _ = live
    lead_id = f"{kind}-changes"
    first = _scores(http.post("/score", json={"leads": [lead(lead_id, activities=[])]}))[0]
    assert first["changes"]["previous"] is None
    http.post("/events", json={"activities": [
        {"lead_id": lead_id, "activity_type": t, "occurred_at": f"2026-10-3{d}T10:00:00Z"}
        for d, t in ((0, "pricing_view"), (1, "demo_request"), (1, "pricing_view"))]})
    second = _scores(http.post("/score", json={"leads": [lead(lead_id, activities=[])]}))[0]
    assert second["score"] != first["score"]
    previous = second["changes"]["previous"]
    assert previous["score"] == first["score"] and previous["grade"] == first["grade"]
    assert second["changes"]["moved"] and second["changes"]["summary"]
    store = LiveStore(url)
    log = store.scores(lead_id=lead_id)
    store.close()
    assert list(log["score"]) == [first["score"], second["score"]]
    assert log["feature_hash"].nunique() == 2 and set(log["source"]) == {"api"}


def test_a_disposition_posted_over_http_is_a_label_in_the_next_review(live, monkeypatch):
    import duckdb

    from features.labels import build_labels, load_policy
    from features.live_sync import merge_live
    from leadscore.config import default_config
    from training.review import parse_as_of

    kind, http, url, store, _ = live
    as_of = parse_as_of("2026-11-01")
    policy = load_policy(None)
    with duckdb.connect(str(store), read_only=True) as con:
        before = build_labels(con, as_of, policy, 30)
        lead_id, created = con.execute(
            "SELECT lead_id, COALESCE(mql_at, created_at) + INTERVAL 1 DAY FROM leads "
            "WHERE lead_id NOT IN (SELECT lead_id FROM dispositions) "
            "AND lead_id NOT IN (SELECT lead_id FROM outcomes) AND created_at < "
            "TIMESTAMP '2026-09-01' ORDER BY lead_id LIMIT 1").fetchone()
    assert before.loc[before["lead_id"] == lead_id, "label"].sum() == 0
    verdict = {"lead_id": lead_id, "dispositioned_at": f"{created:%Y-%m-%dT%H:%M:%S}Z",
               "status": "rejected", "reason_code": "no_such_code"}
    bad = http.post("/dispositions", json={"dispositions": [verdict]})
    assert bad.status_code == 422
    assert bad.json()["field"] == "dispositions[0].reason_code"
    assert "no_such_code" not in bad.text
    good = http.post("/dispositions", json={"dispositions": [
        {**verdict, "status": "meeting_booked", "reason_code": None}]})
    assert good.status_code == 200, good.text
    config = default_config()
    config["store"] = str(store)
    monkeypatch.setenv("LEADSCORE_LIVE_URL", url)
    merge_live(config)
    merge_live(config)  # idempotent
    with duckdb.connect(str(store), read_only=True) as con:
        after = build_labels(con, as_of, policy, 30)
        n = con.execute("SELECT count(*) FROM dispositions WHERE lead_id = ?",
                        [lead_id]).fetchone()[0]
    row = after[after["lead_id"] == lead_id].iloc[0]
    assert (row["label"], row["reason_code"], n) == (1, "meeting_booked", 1)


@pytest.mark.parametrize("live", ["postgresql"], indirect=True, scope="module")
def test_two_api_processes_on_one_postgresql_agree(live, tmp_path):
    # the two-replica deployment is PostgreSQL's: SQLite's live store is one process's
    _, http, url, _, env = live
    other = start_server(dict(env), tmp_path / "second.log")
    try:
        with httpx.Client(base_url=other.url, timeout=30, headers=AUTH) as second:
            full = lead("replica-inline")
            fields = {k: v for k, v in full.items() if k not in ("lead_id", "as_of")}
            assert http.post("/events", json={"leads": [{"lead_id": "replica", **fields}]}
                             ).status_code == 200
            by_id = _scores(second.post("/score", json={"lead_id": "replica", "as_of": AS_OF}))
            inline = _scores(http.post("/score", json={"leads": [full]}))
            assert {k: by_id[0][k] for k in SCORED} == {k: inline[0][k] for k in SCORED}
            again = _scores(http.post("/score", json={"lead_id": "replica", "as_of": AS_OF}))
            assert again[0]["changes"]["previous"]["score"] == by_id[0]["score"]
    finally:
        other.stop()


def _workers(pid: int) -> list[psutil.Process]:
    return [p for p in psutil.Process(pid).children(recursive=True)
            if "worker" in " ".join(p.cmdline())]


def test_kill_9_of_a_worker_loses_no_acknowledged_event(registry, tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    server = start_server(server_env(registry.tracking_uri, live_url=url), tmp_path / "s.log")
    acknowledged: list[str] = []
    stop = threading.Event()

    def stream() -> None:
        with httpx.Client(base_url=server.url, timeout=5, headers=AUTH) as client:
            i = 0
            while not stop.is_set():
                i += 1
                event = {"lead_id": f"k-{i}", "activity_type": "page_view",
                         "occurred_at": "2026-10-30T10:00:00Z"}
                try:
                    if client.post("/events", json={"activities": [event]}).status_code == 200:
                        acknowledged.append(event["lead_id"])
                except httpx.HTTPError:
                    time.sleep(0.05)

    thread = threading.Thread(target=stream)
    try:
        workers = _workers(server.process.pid)
        assert workers, "no worker process found"
        thread.start()
        while len(acknowledged) < 50:
            time.sleep(0.01)
        for worker in workers:
            worker.send_signal(signal.SIGKILL)
        killed_at = len(acknowledged)
        time.sleep(3)
    finally:
        stop.set()
        thread.join()
        server.stop()
    store = LiveStore(url)
    with store.engine.connect() as con:
        stored = {r[0] for r in con.execute(sa.select(live_activities.c.lead_id))}
    store.close()
    assert killed_at >= 50
    assert set(acknowledged) <= stored


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/events", {"activities": [{"lead_id": "x", "activity_type": "page_view",
                                 "occurred_at": EMAIL}]}, "activities[0].occurred_at"),
    ("/events", {"activity": []}, "<key>"),  # a key the client chose is never echoed
    ("/dispositions", {"dispositions": [{"lead_id": "x", "status": "rejected"}]},
     "dispositions[0].dispositioned_at"),
    ("/outcomes", {"outcomes": [{"lead_id": "x", "stage": EMAIL,
                                 "occurred_at": "2026-11-01"}]}, "outcomes[0].stage"),
])
def test_the_live_endpoints_have_the_gateways_keys_and_clear_4xx(live, path, body, field):
    _, http, _, _, _ = live
    assert httpx.post(str(http.base_url.join(path)), json=body).status_code == 401
    response = http.post(path, json=body)
    assert response.status_code == 422 and response.json()["field"] == field
    assert EMAIL not in response.text
    assert {"/events", "/dispositions", "/outcomes"} <= set(http.get("/docs.json").json()["paths"])
