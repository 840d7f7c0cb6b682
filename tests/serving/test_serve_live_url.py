"""``leadscore serve`` with a live store it cannot open (a wrong DSN, a PostgreSQL that is down)
stops at once with one sentence, before any worker starts.

Before, every worker failed at start with a traceback, BentoML restarted it, it failed again (200
tracebacks in 20 s, each replacement logged as "stopped unexpectedly (killed?)"), and clients'
requests hung: nothing said the URL was wrong."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.serving.server import ROOT, free_port, server_env

pytestmark = pytest.mark.integration


def test_a_live_store_that_cannot_be_opened_stops_serve_with_one_sentence(empty_registry):
    dead = f"postgresql+psycopg://leadscore@127.0.0.1:{free_port()}/postgres"  # nothing listens
    env = server_env(empty_registry, live_url=dead)
    done = subprocess.run([sys.executable, "-m", "cli.main", "serve", "--port", str(free_port())],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.strip().splitlines() == [
        f"error: Cannot open the live store {dead} (OperationalError): check the URL and that "
        "the database is up."]
    assert "Scoring API on" not in done.stdout  # refused before it started anything
