"""A worker that starts while the PostgreSQL live store is down (BentoML replacing a killed one,
a container restarted during a database outage) starts, answers the live routes with the live
store's 503 sentence, and serves them again once the database is back, without a restart.

Before, the worker failed to open the store, BentoML started another, which failed alike: a crash
loop, every request to that server left unanswered, until someone restarted it."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from serving.service import LIVE_UNAVAILABLE
from tests.pg import postgres_control
from tests.serving.conftest import AUTH
from tests.serving.server import server_env, start_server
from tests.serving.test_worker_kill import _workers

pytestmark = pytest.mark.integration
EVENT = {"activities": [{"lead_id": "outage", "activity_type": "pricing_view",
                         "occurred_at": "2026-11-01T10:00:00Z"}]}


def _until(predicate, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def _events(client: httpx.Client) -> httpx.Response | None:
    try:
        return client.post("/events", json=EVENT)
    except httpx.HTTPError:
        return None  # no worker answering yet


def test_a_worker_restarted_while_postgresql_is_down_answers_503_then_recovers(registry,
                                                                                tmp_path):
    with postgres_control() as pg:
        server = start_server(server_env(registry.tracking_uri, live_url=pg.url),
                              tmp_path / "server.log")
        client = httpx.Client(base_url=server.url, timeout=30, headers=AUTH)
        try:
            assert client.post("/events", json=EVENT).status_code == 200
            pg.stop()
            worker, = _workers(server)
            os.kill(worker.pid, signal.SIGKILL)
            assert _until(lambda: "stopped unexpectedly" in server.log())
            answer = _until(lambda: (r := _events(client)) is not None and r.status_code == 503
                            and r)
            assert answer, server.log()[-3000:]
            assert answer.json()["error"] == LIVE_UNAVAILABLE
            assert client.get("/readyz").status_code == 200  # the model is served meanwhile
            time.sleep(3)
            # one replacement, not a crash loop
            assert server.log().count("stopped unexpectedly") == 1, server.log()[-3000:]
            assert "Traceback" not in server.log()
            pg.start()
            back = _until(lambda: (r := _events(client)) is not None and r.status_code == 200
                          and r)
            assert back, server.log()[-3000:]
            assert back.json()["already_stored"]["activities"] == 1
        finally:
            client.close()
            server.stop()
