"""Where MLflow keeps runs and models, and getting it ready before a review cycle logs anything.

The default is a SQLite store under ``mlruns/`` (``sqlite:///mlruns/mlflow.db``) with artifacts in
``mlruns/artifacts``; ``MLFLOW_TRACKING_URI`` (or the config's ``mlflow.tracking_uri``) points
elsewhere. Any other SQLite store keeps its artifacts in an ``artifacts`` folder beside its database
file, so a test's temporary store never writes into the working tree. A tracking server (``http``)
decides its own artifact location.

MLflow 3.13+ refuses the plain ``./mlruns`` file store, hence SQLite.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from leadscore.errors import LeadscoreError
from leadscore.mlflow_store import (  # noqa: F401 - re-exported: the commands import them here
    DEFAULT_TRACKING_URI,
    artifact_location,
    relocate_store,
    sqlite_path,
    tracking_uri,
)


def _open(config: dict[str, Any]) -> str:
    """Point MLflow at the configured store (its folder made, a moved store re-pointed at its own
    files); return the URI."""
    import mlflow

    uri = tracking_uri(config)
    db = sqlite_path(uri)
    if db is not None:
        db.resolve().parent.mkdir(parents=True, exist_ok=True)
        relocate_store(config)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def _cannot_open(uri: str, exc: Exception) -> LeadscoreError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return LeadscoreError(f"Cannot open the MLflow store {uri} ({first[:200]}): "
                          "check MLFLOW_TRACKING_URI or mlflow.tracking_uri in your config.")


def setup_tracking(config: dict[str, Any]) -> str:
    """Point MLflow at the store, create it and the experiment when missing; return its id.

    Raises:
        LeadscoreError: when the store cannot be opened (an unwritable folder, a broken file).
    """
    from mlflow.tracking import MlflowClient

    uri = _open(config)
    name = config["mlflow"]["experiment"]
    try:
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            return client.create_experiment(name, artifact_location=artifact_location(config, uri))
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        return experiment.experiment_id
    except Exception as exc:  # noqa: BLE001 - any store failure reads the same to a user
        raise _cannot_open(uri, exc) from None


def missing_store(config: dict[str, Any]) -> Path | None:
    """The configured SQLite store's file when it does not exist yet (no review ever logged
    there), else None. Commands that only read the registry check this first, so that asking
    about a model in an empty folder never leaves an empty ``mlruns/mlflow.db`` behind."""
    db = sqlite_path(tracking_uri(config))
    return db if db is not None and not db.exists() else None


def client(config: dict[str, Any]):
    """An ``MlflowClient`` on the configured store (tracking and registry), the store created if
    needed. It creates no experiment: reading the registry or scoring under a config that names
    another experiment must not leave an empty one behind (``setup_tracking`` creates it for
    the commands that log runs)."""
    from mlflow.tracking import MlflowClient

    uri = _open(config)
    try:
        opened = MlflowClient(tracking_uri=uri, registry_uri=uri)
        opened.search_experiments(max_results=1)  # a broken store fails here, in one sentence
    except Exception as exc:  # noqa: BLE001 - any store failure reads the same to a user
        raise _cannot_open(uri, exc) from None
    return opened


@contextmanager
def quiet_mlflow() -> Iterator[None]:
    """MLflow without download progress bars and its pickling advice, for one block.

    The command line prints one summary; MLflow's tqdm bars and its warning that a Python
    ``python_model`` is pickled (it is ours, loaded from our own registry) are noise there.
    """
    import logging

    key = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
    before = os.environ.get(key)
    os.environ[key] = "false"
    loggers = [logging.getLogger(name) for name in ("mlflow.pyfunc", "mlflow.models.model")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
