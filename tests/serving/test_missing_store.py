"""A worker whose DuckDB store (or its lookup snapshot) is missing says so in one log line.

Found starting ``leadscore serve`` as an ops engineer would (qa11-serving): from another folder
(the config's store is a relative path) or after the store was moved, the server logged nothing,
and every ``POST /score`` by lead id silently scored the lead from the request alone (a stored X
Education lead 0.053 before, 0.019 after: none of its ingested fields read).
"""

from __future__ import annotations

import logging

import pytest

from features.store import lookup_path
from leadscore.config import default_config
from serving.live import LiveLoop
from serving.schemas import Lead


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("LEADSCORE_LIVE_URL", f"sqlite:///{tmp_path / 'live.db'}")
    return {**default_config(), "store": str(tmp_path / "gone" / "leadscore.duckdb")}


def _lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "by lead id" in r.getMessage()]


def test_a_missing_store_is_said_once_at_start_and_when_it_comes_back(config, caplog, tmp_path):
    caplog.set_level(logging.INFO, logger="leadscore.serving")
    loop = LiveLoop(config)
    try:
        [line] = _lines(caplog)
        assert str(tmp_path / "gone" / "leadscore.duckdb") in line
        assert "does not exist" in line and "leadscore ingest" in line
        loop.records([Lead(lead_id="a")])
        assert len(_lines(caplog)) == 1  # not once per request

        snapshot = lookup_path(config["store"])
        snapshot.parent.mkdir()
        snapshot.write_bytes(b"")  # published (its content is not read here)
        loop.records([Lead(lead_id="a")])
        assert "reads the store's snapshot again" in _lines(caplog)[-1]

        snapshot.unlink()
        loop.records([Lead(lead_id="a")])
        assert "it was there before" in _lines(caplog)[-1]
        assert len(_lines(caplog)) == 3
    finally:
        loop.close()


def test_no_line_when_the_store_is_not_read(config, caplog):
    caplog.set_level(logging.INFO, logger="leadscore.serving")
    loop = LiveLoop({**config, "live": {**config["live"], "read_store": False}})
    loop.close()
    assert _lines(caplog) == []
