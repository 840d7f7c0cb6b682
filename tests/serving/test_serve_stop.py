"""``leadscore serve`` stopped by SIGTERM (``kill PID``, a process manager) stops its server too:
nothing is left holding the port, and its private BentoML home is removed."""

from __future__ import annotations

import os
import signal
import socket
import tempfile
import time

import pytest

from tests.serving.server import leadscore_command, server_env, start_server

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _port_taken(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as s:
        return s.connect_ex((host, int(port))) == 0


def test_sigterm_to_leadscore_serve_stops_the_server_it_started(empty_registry, tmp_path):
    env = server_env(empty_registry)
    server = start_server(env, tmp_path / "serve.log", wait_ready=False,
                          command=leadscore_command)
    temp = tempfile.gettempdir()
    try:
        os.kill(server.process.pid, signal.SIGTERM)  # the launcher only, not its group
        server.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _port_taken(server.url) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _port_taken(server.url), server.log()
        home = f"leadscore-serve-{server.process.pid}-"
        assert not [h for h in os.listdir(temp) if h.startswith(home)]
    finally:
        try:
            os.killpg(server.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
