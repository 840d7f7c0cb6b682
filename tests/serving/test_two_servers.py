"""Two scoring servers on one machine, started one after the other with ``leadscore serve``: the
second must not reset the first one's Prometheus counters or break its ``/metrics``."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.serving.conftest import AUTH
from tests.serving.server import leadscore_command, server_env, start_server

pytestmark = [pytest.mark.slow, pytest.mark.integration]

LEAD = {"leads": [{"lead_id": "a", "title": "VP Marketing", "as_of": "2026-11-01T00:00:00Z"}]}


def _score_requests(url: str) -> float:
    response = httpx.get(url + "/metrics", timeout=10)
    assert response.status_code == 200, response.text[:300]
    total = 0.0
    for line in response.text.splitlines():
        if line.startswith("bentoml_service_request_total") and 'endpoint="/score"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_a_second_server_leaves_the_first_ones_metrics_alone(registry, tmp_path):
    env = server_env(registry.tracking_uri)
    env.pop("BENTOML_HOME", None)  # both on the user's default home, as on a real machine
    env["HOME"] = str(tmp_path / "home")
    first = start_server(env, tmp_path / "first.log", command=leadscore_command)
    second = None
    try:
        for _ in range(5):
            assert httpx.post(first.url + "/score", json=LEAD, headers=AUTH,
                              timeout=30).status_code == 200
        before = _score_requests(first.url)
        assert before >= 5

        second = start_server(env, tmp_path / "second.log", command=leadscore_command)
        assert httpx.post(second.url + "/score", json=LEAD, headers=AUTH,
                          timeout=30).status_code == 200

        assert httpx.post(first.url + "/score", json=LEAD, headers=AUTH,
                          timeout=30).status_code == 200
        after = _score_requests(first.url)
        assert after >= before + 1
        assert re.search(r"bentoml_service_request_total", httpx.get(
            second.url + "/metrics", timeout=10).text)
    finally:
        first.stop()
        if second is not None:
            second.stop()
