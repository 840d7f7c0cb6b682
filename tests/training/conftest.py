"""Shared fixtures for the review-cycle tests: a private MLflow store per test."""

from __future__ import annotations

import pytest

from leadscore.config import default_config
from tests.training.made_up import train_tiny_bundle


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
