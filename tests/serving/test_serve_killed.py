"""A server whose supervisor is killed with SIGKILL (the OOM killer, ``kill -9``) leaves nothing
serving behind it: its workers stop, the port is free, and ``leadscore serve`` starts again.

Before, BentoML's workers outlived a killed ``bentoml serve``: they went on answering with no
supervisor (nothing restarted them, nothing stopped them), and a restart failed with "address
already in use" against processes no ``ps`` of the server showed."""

from __future__ import annotations

import os
import signal
import socket
import time

import psutil
import pytest

from tests.serving.server import leadscore_command, server_env, start_server

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _port_taken(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as s:
        return s.connect_ex((host, int(port))) == 0


def _wait_free(url: str, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while _port_taken(url) and time.monotonic() < deadline:
        time.sleep(0.5)
    return not _port_taken(url)


@pytest.mark.parametrize("victim", ["launcher", "launcher and bentoml"])
def test_a_killed_server_leaves_no_worker_holding_the_port(empty_registry, tmp_path, victim):
    server = start_server(server_env(empty_registry), tmp_path / "serve.log", wait_ready=False,
                          command=leadscore_command)
    launcher = psutil.Process(server.process.pid)
    family = [launcher, *launcher.children(recursive=True)]
    try:
        os.kill(launcher.pid, signal.SIGKILL)
        if victim != "launcher":
            for child in launcher.children() or family[1:2]:
                os.kill(child.pid, signal.SIGKILL)
        server.process.wait(timeout=30)
        assert _wait_free(server.url), server.log()
        gone, alive = psutil.wait_procs(family, timeout=30)
        assert not alive, server.log()
    finally:
        for process in family:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
