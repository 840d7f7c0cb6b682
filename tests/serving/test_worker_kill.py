"""A worker killed by a signal: its replacement says so in the log, and the others keep scoring."""

from __future__ import annotations

import logging
import os
import signal
import time

import httpx
import psutil
import pytest

from serving.workers import note_worker_start
from tests.serving.conftest import AUTH
from tests.serving.server import server_env, start_server

LEAD = {"leads": [{"lead_id": "a", "title": "VP Marketing", "as_of": "2026-11-01T00:00:00Z"}]}


def test_a_worker_that_replaces_a_dead_one_says_so(tmp_path, caplog):
    logger = logging.getLogger("test.workers")
    with caplog.at_level(logging.INFO, logger="test.workers"):
        first = note_worker_start(logger, 1, str(tmp_path))
        again = note_worker_start(logger, 1, str(tmp_path))  # the same live process
        (tmp_path / "leadscore-worker-1.pid").write_text(str(_dead_pid()))
        replaced = note_worker_start(logger, 1, str(tmp_path))
    assert first == again == f"Scoring worker 1 started (pid {os.getpid()})."
    assert "stopped unexpectedly" in replaced and f"pid {os.getpid()} replaces it" in replaced
    assert caplog.records[-1].levelno == logging.WARNING


def _dead_pid() -> int:
    process = psutil.Popen(["true"])
    process.wait()
    return process.pid


def _workers(server) -> list[psutil.Process]:
    found = []
    for process in psutil.Process(server.process.pid).children(recursive=True):
        try:
            if "--worker-id" in process.cmdline() and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except psutil.NoSuchProcess:
            continue
    return found


@pytest.mark.slow
@pytest.mark.integration
def test_a_killed_worker_is_replaced_and_logged(registry, tmp_path):
    server = start_server(server_env(registry.tracking_uri, workers=2), tmp_path / "server.log")
    try:
        workers = _workers(server)
        assert len(workers) == 2, [p.cmdline() for p in workers]
        victim = workers[0].pid
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "stopped unexpectedly" not in server.log():
            assert httpx.post(server.url + "/score", json=LEAD, headers=AUTH,
                              timeout=30).status_code == 200
            time.sleep(0.5)
        assert f"(pid {victim}) stopped unexpectedly" in server.log()
        assert victim not in [p.pid for p in _workers(server)]
    finally:
        server.stop()
