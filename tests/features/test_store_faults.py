"""The store under an aborted batch and a second program: its file and its error sentence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import features.ingest as ingest
from features.store import connect
from generator import generate_export
from leadscore.errors import LeadscoreError

BIG_ROWS = 300_000  # above DuckDB's row group (122,880): large appends are written early


@pytest.fixture
def store(tmp_path) -> Path:
    generate_export(n_leads=300, seed=3, out_dir=tmp_path / "small", fmt="parquet",
                    progress=False)
    path = tmp_path / "store.duckdb"
    ingest.ingest_paths([tmp_path / "small"], store=path)
    return path


def _big_activities(store: Path, folder: Path) -> Path:
    folder.mkdir()
    con = duckdb.connect()
    con.execute(f"ATTACH '{store}' AS s (READ_ONLY)")
    con.execute(f"""
        COPY (SELECT l.lead_id, TIMESTAMP '2025-01-01' + to_seconds(r.i * 60) AS occurred_at,
                     'page_view' AS activity_type
              FROM s.leads l, range({BIG_ROWS // 300 + 1}) r(i))
        TO '{folder / "activities.parquet"}' (FORMAT parquet)""")
    con.close()
    return folder


def test_an_aborted_batch_leaves_the_store_file_as_it_was(store, tmp_path, monkeypatch):
    batch = _big_activities(store, tmp_path / "big")
    size = store.stat().st_size
    with connect(store, read_only=True) as con:
        before = con.execute("SELECT count(*) FROM activities").fetchone()

    def interrupted(con, part):  # Ctrl+C after the rows went in, before COMMIT
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest, "_record_roles", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest.ingest_paths([batch], store=store)

    assert store.stat().st_size == size
    with connect(store, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM activities").fetchone() == before


def test_a_store_held_by_another_program_is_one_plain_sentence(store):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('open', flush=True); time.sleep(60)", str(store)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        for read_only in (True, False):
            with pytest.raises(LeadscoreError) as caught:
                with connect(store, read_only=read_only):
                    pass
            message = str(caught.value)
            assert message == (f"The store {store} is in use by another program (process "
                               f"{holder.pid}): wait for that ingest, review or notebook to "
                               "finish (or close it) and re-run.")
    finally:
        holder.kill()
        holder.wait()
