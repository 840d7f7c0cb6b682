"""`leadscore demo`, the README's first command: its closing lines are true whether the API runs,
and the whole journey runs end to end (without the final `serve`, which never returns)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from cli.demo import where_things_are
from cli.main import cli
from leadscore.config import default_config
from tests.serving.server import free_port

ROOT = Path(__file__).resolve().parent.parent


def _lines(*, served: bool, start_service: bool) -> str:
    return "\n".join(where_things_are(
        report=Path("/r/index.html"), store=Path("/s.duckdb"), config=default_config(),
        key="demo-k", served=served, start_service=start_service))


def test_the_closing_lines_offer_a_call_only_to_an_api_that_will_be_listening():
    serving = _lines(served=True, start_service=True)
    assert "scoring API   http://127.0.0.1:3000" in serving and "Try it:" in serving
    assert "Bearer demo-k" in serving
    # --no-serve: nothing listens, so the lines say how to start it with the key the curl uses
    stopped = _lines(served=True, start_service=False)
    assert "not started (--no-serve)" in stopped and "http://127.0.0.1:3000  (" not in stopped
    assert "LEADSCORE_API_KEYS=demo-k" in stopped and "Bearer demo-k" in stopped
    # no champion: no server can start, so there is no call to try
    none = _lines(served=False, start_service=True)
    assert "no champion to serve" in none and "curl" not in none and "demo-k" not in none


def test_a_taken_port_is_said_before_any_work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["demo", "--no-serve", "--leads", "1000",
                                          "--port", str(port)])
    assert result.exit_code == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in result.output and "--port" in result.output
    assert list(tmp_path.iterdir()) == []  # nothing generated, nothing ingested


def test_the_demo_journey_runs_end_to_end_in_a_fresh_folder(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("MLFLOW_TRACKING_URI", "LEADSCORE_STORE", "LEADSCORE_API_KEYS",
                        "LEADSCORE_CONFIG", "LEADSCORE_LIVE_URL")}
    env.update(PYTHONPATH=str(ROOT), BENTOML_HOME=str(tmp_path / "bentoml"),
               BENTOML_DO_NOT_TRACK="true")
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "demo", "--no-serve", "--leads", "3000",
         "--port", str(port)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for step in ("Review cycle 2026-W40", "Review cycle 2026-W44", "The live loop",
                 "The monitor since the last review", "Done. Where things are:"):
        assert step in out, step
    assert (tmp_path / "reports" / "2026-W44" / "index.html").is_file()
    assert (tmp_path / "data" / "leadscore.duckdb").is_file()
    # the closing lines match what happened: a champion was served in the live loop, or not
    if "POST /events" in out:
        assert "not started (--no-serve)" in out and f"127.0.0.1:{port}/score" in out
    else:
        assert "no champion to serve" in out and "curl" not in out
    assert "Traceback" not in done.stderr
