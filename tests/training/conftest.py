"""Shared fixtures for the review-cycle tests: a private MLflow store per test."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from leadscore.config import default_config
from tests.training.made_up import train_tiny_bundle
from tests.training.review_cycles import CYCLES, N_LEADS, small_config


@pytest.fixture
def mlflow_config(tmp_path, monkeypatch):
    """The shipped config on a SQLite MLflow store inside ``tmp_path`` (never the working tree)."""
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    config = default_config()
    config["mlflow"]["tracking_uri"] = uri
    return config


@pytest.fixture(scope="session")
def tiny_bundle():
    """A real ScoringBundle trained in a second on made-up leads (no store, no MLflow)."""
    return train_tiny_bundle()


@pytest.fixture(scope="session")
def reviewed(tmp_path_factory):
    """Generated store + two review cycles + a --no-promote rerun of the first, shared by
    test_review.py and test_review_versions.py (which runs after it: the tests of both see the
    registry as the earlier ones left it)."""
    from features.ingest import ingest_paths
    from generator import generate_export
    from training.review import run_review

    root = tmp_path_factory.mktemp("review")
    config = small_config(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", config["mlflow"]["tracking_uri"])
        mp.chdir(root)  # reports/ lands here
        generate_export(n_leads=N_LEADS, seed=7, out_dir=root / "export", fmt="csv",
                        progress=False)
        ingest_paths([root / "export"], store=Path(config["store"]), mapping=None)
        summaries = [run_review(cycle, as_of, config, promote=True) for cycle, as_of in CYCLES]
        rerun = run_review("2026-W40-rerun", CYCLES[0][1], config, promote=False)
    # the working folder and MLFLOW_TRACKING_URI are back before any test: ``env`` sets them
    # per test, so the rest of the session never runs inside this store
    return {"root": root, "config": config, "summaries": summaries, "rerun": rerun,
            "client": MlflowClient(config["mlflow"]["tracking_uri"])}


@pytest.fixture
def env(reviewed, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", reviewed["config"]["mlflow"]["tracking_uri"])
    monkeypatch.chdir(reviewed["root"])
    mlflow.set_tracking_uri(reviewed["config"]["mlflow"]["tracking_uri"])
    return reviewed


@pytest.fixture(scope="module")
def spark():
    """A Spark ``local[2]`` session for one test module (the Spark engine's tests skip without
    Java), stopped after it."""
    from training.spark_score import spark_session

    session = spark_session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "2")
    yield session
    session.stop()
