"""Start and stop a real ``bentoml serve serving.service:LeadScorer`` for integration tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningServer:
    process: subprocess.Popen
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def server_env(tracking_uri: str, *, keys: str | None = "testkey", reload_s: float = 1.0,
               workers: int = 1) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "MLFLOW_TRACKING_URI": tracking_uri,
        "LEADSCORE_RELOAD_INTERVAL_S": str(reload_s),
        "LEADSCORE_WORKERS": str(workers),
        "BENTOML_DO_NOT_TRACK": "true",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(ROOT),
    })
    env.pop("LEADSCORE_CONFIG", None)
    if keys is None:
        env.pop("LEADSCORE_API_KEYS", None)
    else:
        env["LEADSCORE_API_KEYS"] = keys
    return env


def bentoml_command(port: int) -> list[str]:
    return [sys.executable, "-m", "bentoml", "serve", "serving.service:LeadScorer",
            "--host", "127.0.0.1", "--port", str(port)]


def leadscore_command(port: int) -> list[str]:
    """``leadscore serve``, as a user starts it (its own BentoML home and Prometheus folder)."""
    return [sys.executable, "-m", "cli.main", "serve", "--host", "127.0.0.1",
            "--port", str(port)]


def start_server(env: dict[str, str], log_path: Path, *, wait_ready: bool = True,
                 command=bentoml_command) -> RunningServer:
    """Start the service on a free loopback port; wait until /readyz answers 200 (or /livez)."""
    port = free_port()
    log = log_path.open("wb")
    process = subprocess.Popen(
        command(port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = RunningServer(process, f"http://127.0.0.1:{port}", log_path)
    probe = "/readyz" if wait_ready else "/livez"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"bentoml serve exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(server.url + probe, timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"bentoml serve was not ready in {START_TIMEOUT_S} s:\n{server.log()}")
