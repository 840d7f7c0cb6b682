"""A checkout copied elsewhere writes only into itself: its SQLite store is re-pointed at its own
``mlruns/artifacts`` before MLflow opens it. Real reviews, in real processes, in two folders."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.slow, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _review(project: Path, cycle: str, as_of: str) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MLFLOW_TRACKING_URI", "LEADSCORE_STORE", "LEADSCORE_CONFIG")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "review", "--cycle", cycle, "--as-of", as_of,
         "--config", "config.yaml"],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr


def test_a_review_in_a_copied_checkout_leaves_the_original_mlruns_byte_identical(tmp_path):
    from features.ingest import ingest_paths
    from generator import generate_export

    original = tmp_path / "original"
    (original / "data").mkdir(parents=True)
    generate_export(n_leads=3000, seed=5, out_dir=tmp_path / "export", fmt="parquet",
                    progress=False)
    ingest_paths([tmp_path / "export"], store=original / "data" / "leadscore.duckdb",
                 mapping=None)
    # the shipped relative locations: sqlite:///mlruns/mlflow.db, mlruns/artifacts
    (original / "config.yaml").write_text(yaml.safe_dump({"cycle": {
        "lightgbm": {"n_estimators": 30}, "bootstrap_rounds": 20}}))
    _review(original, "2026-W40", "2026-10-01")

    copy = tmp_path / "copy"
    shutil.copytree(original, copy)
    before = _tree_digest(original / "mlruns")

    _review(copy, "2026-W44", "2026-11-01")

    assert _tree_digest(original / "mlruns") == before
    with sqlite3.connect(copy / "mlruns" / "mlflow.db") as con:
        rows = con.execute("SELECT artifact_uri FROM runs").fetchall()
        locations = con.execute("SELECT artifact_location FROM experiments").fetchall()
        sources = con.execute("SELECT source, storage_location FROM model_versions").fetchall()
    for (value,) in rows + locations:
        assert str(original) not in value and str(copy / "mlruns") in value
    for values in sources:
        assert not any(str(original) in (v or "") for v in values)
    runs = [p for p in (copy / "mlruns" / "artifacts").rglob("*") if p.is_dir()]
    assert len({p.relative_to(copy / "mlruns" / "artifacts").parts[:2] for p in runs}) >= 2
