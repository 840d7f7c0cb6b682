"""Opening the MLflow store: reading creates no experiment, and a moved store is re-pointed at its
own files whichever experiment the config names."""

from __future__ import annotations

import shutil
import sqlite3

from mlflow.tracking import MlflowClient

from training.tracking import client, setup_tracking


def _experiments(db) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT name, artifact_location FROM experiments").fetchall()


def test_reading_the_store_under_another_experiment_creates_none(mlflow_config):
    setup_tracking(mlflow_config)  # a review's store, experiment "leadscore"
    other = {**mlflow_config, "mlflow": {**mlflow_config["mlflow"], "experiment": "typo"}}
    client(other).search_registered_models()
    db = mlflow_config["mlflow"]["tracking_uri"].removeprefix("sqlite:///")
    assert "typo" not in {name for name, _ in _experiments(db)}


def test_a_moved_store_is_repointed_even_when_the_config_names_another_experiment(tmp_path):
    before, after = tmp_path / "laptop" / "mlruns", tmp_path / "server" / "mlruns"
    config = {"mlflow": {"tracking_uri": f"sqlite:///{before / 'mlflow.db'}",
                         "artifact_location": "mlruns/artifacts", "experiment": "leadscore",
                         "registered_model": "leadscore"}}
    setup_tracking(config)
    after.parent.mkdir()
    shutil.move(before, after)

    moved = {"mlflow": {**config["mlflow"], "tracking_uri": f"sqlite:///{after / 'mlflow.db'}",
                        "experiment": "leadscore-eu"}}
    client(moved)
    locations = dict(_experiments(after / "mlflow.db"))
    assert str(before) not in locations["leadscore"]
    assert locations["leadscore"].endswith(str(after / "artifacts"))
    assert "leadscore-eu" not in locations
    assert isinstance(client(moved), MlflowClient)
