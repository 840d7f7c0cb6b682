"""A moved `champion` alias is picked up by a running server without dropping a request."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from mlflow.tracking import MlflowClient

from tests.serving.conftest import AUTH, sqlite_uri
from tests.serving.leads import lead, score_body
from tests.serving.model_factory import log_bundle
from tests.serving.server import server_env, start_server

pytestmark = pytest.mark.integration

RELOAD_S = 1.0
SWAP_DEADLINE_S = 30.0  # a few reload intervals plus the download, on a busy CI machine


def test_champion_moves_without_a_failed_request(tmp_path, bundle_dir):
    uri = sqlite_uri(tmp_path / "mlruns")
    first = log_bundle(bundle_dir, uri)
    server = start_server(server_env(uri, reload_s=RELOAD_S), tmp_path / "bentoml.log")
    results: list[tuple[float, int, str | None]] = []
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            while not stop.is_set():
                try:
                    response = http.post("/score", json=score_body([lead()]), headers=AUTH)
                    version = response.json().get("model_version")
                    results.append((time.monotonic(), response.status_code, version))
                except httpx.HTTPError as exc:
                    results.append((time.monotonic(), 0, type(exc).__name__))

    thread = threading.Thread(target=client, daemon=True)
    try:
        thread.start()
        time.sleep(1.0)
        second = log_bundle(bundle_dir, uri, alias=None)  # a new version, registered now
        moved_at = time.monotonic()
        MlflowClient(tracking_uri=uri, registry_uri=uri).set_registered_model_alias(
            "leadscore", "champion", second)
        while time.monotonic() - moved_at < SWAP_DEADLINE_S:
            if any(v == second for _, _, v in results[-5:]):
                break
            time.sleep(0.2)
        time.sleep(1.0)  # keep going on the new model for a while
    finally:
        stop.set()
        thread.join(timeout=30)
        server.stop()

    statuses = {status for _, status, _ in results}
    assert statuses == {200}, [r for r in results if r[1] != 200][:5]
    versions = [v for _, _, v in results]
    assert versions[0] == first
    assert second in versions, f"still on v{first} {SWAP_DEADLINE_S} s after the alias moved"
    switch = versions.index(second)
    assert set(versions[switch:]) == {second}  # once swapped, never back
    swapped_at = results[switch][0]
    assert swapped_at - moved_at < SWAP_DEADLINE_S
    assert "Champion moved: v1 -> v2" in server.log()
