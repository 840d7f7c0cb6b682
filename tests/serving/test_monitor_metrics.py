"""The monitor's figures as Prometheus gauges on a real ``bentoml serve``'s /metrics."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.serving.conftest import API_KEY, AUTH
from tests.serving.leads import lead
from tests.serving.server import server_env, start_server


def _gauge(text: str, name: str, labels: str = "") -> float | None:
    found = re.search(rf"^leadscore_monitor_{name}(\{{{labels}[^}}]*\}})?\s+(\S+)$", text, re.M)
    return float(found.group(2)) if found else None


def _wait_for(url: str, name: str, want, timeout_s: float = 30.0) -> str:
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        text = httpx.get(url + "/metrics", timeout=5).text
        value = _gauge(text, name)
        if value is not None and want(value):
            return text
        time.sleep(0.5)
    raise AssertionError(f"leadscore_monitor_{name} never as expected:\n" + "\n".join(
        line for line in text.splitlines() if line.startswith("leadscore_monitor_")))


@pytest.fixture(scope="module")
def monitored(registry, tmp_path_factory):
    """A server whose monitor refreshes every second and judges drift from one score on."""
    folder = tmp_path_factory.mktemp("monitored")
    config = folder / "config.yaml"
    config.write_text("monitor: {refresh_s: 1, min_drift_scores: 1}\n")
    env = server_env(registry.tracking_uri, keys=API_KEY)
    env["LEADSCORE_CONFIG"] = str(config)
    running = start_server(env, folder / "bentoml.log")
    try:
        yield running
    finally:
        running.stop()


def test_metrics_carry_the_monitor_and_follow_the_scores_served(monitored):
    text = _wait_for(monitored.url, "scores_served", lambda v: v == 0)
    assert _gauge(text, "judged", 'check="conversion"') == 0.0  # nothing to judge yet
    assert _gauge(text, "limit_crossed", 'check="drift"') == 0.0
    assert _gauge(text, "mqls_per_week_forecast") > 0  # the review's forecast, from the bundle

    body = {"leads": [lead(f"M-{i}") for i in range(3)]}
    answer = httpx.post(monitored.url + "/score", json=body, headers=AUTH, timeout=30)
    assert answer.status_code == 200
    text = _wait_for(monitored.url, "scores_served", lambda v: v == 3)
    psi = re.findall(r'^leadscore_monitor_feature_psi\{feature="([^"]+)"\}\s+(\S+)$', text, re.M)
    assert {"seniority", "company_size_band"} <= {name for name, _ in psi}
    assert all(float(value) >= 0 for _, value in psi)
    # three identical leads are far from the training mix: drift is judged and flagged
    assert _gauge(text, "judged", 'check="drift"') == 1.0
    assert _gauge(text, "limit_crossed", 'check="drift"') == 1.0
    assert "jane.doe" not in text  # no personal data in the gauges
