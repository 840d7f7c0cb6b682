"""A real champion for the serving tests: one small review cycle on generated data.

generate_export (CSVs) -> ingest_paths -> run_review, all inside a temporary folder with its own
DuckDB store and SQLite MLflow store. Tests may import ``training``; only ``serving`` may not.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

N_LEADS = 3000
SEED = 7
CYCLE = "2026-W44"
AS_OF = "2026-11-01"


@contextlib.contextmanager
def working_directory(path: Path):
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def config_for(workdir: Path, tracking_uri: str) -> dict[str, Any]:
    from leadscore.config import default_config

    config = default_config()
    config["store"] = str(workdir / "leadscore.duckdb")
    config["mlflow"]["tracking_uri"] = tracking_uri
    return config


def review_champion(workdir: Path, tracking_uri: str) -> str:
    """Generate, ingest and review one cycle into ``tracking_uri``; return the champion version.

    A cycle whose gates fail (a small export can miss the calibration gate) registers the model
    as challenger only; it is then promoted by hand, as `leadscore promote` would.
    """
    from features.ingest import ingest_paths
    from generator import generate_export
    from training.registry import CHAMPION, alias_version, promote_version
    from training.review import run_review
    from training.tracking import client

    config = config_for(workdir, tracking_uri)
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
    try:
        with working_directory(workdir):  # the review writes its report under ./reports
            generate_export(N_LEADS, SEED, workdir / "export", progress=False)
            ingest_paths([workdir / "export"], store=Path(config["store"]))
            run_review(cycle=CYCLE, as_of=AS_OF, config=config, promote=True)
            mlflow_client = client(config)
            name = config["mlflow"]["registered_model"]
            version = alias_version(mlflow_client, name, CHAMPION)
            if version is None:
                version = alias_version(mlflow_client, name, "challenger")
                promote_version(version, config)
    finally:
        if previous is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = previous
    return str(version)


def attribute_bundle(roles: dict[str, tuple[str, str]], fill, converts, *, seed: int,
                     cycle: str):
    """A tiny real bundle trained on 1,200 made-up leads: ``fill(lead, rng)`` sets each lead's
    export columns (a ``random.Random``); a lead for which ``converts(lead)`` holds converts far
    more often (65 % against 5 %), so those columns matter to the model. Threshold 0.3."""
    import random

    import numpy as np
    import pandas as pd

    from features.definitions import feature_specs
    from leadscore.config import default_config
    from tests.features.reference import build_online
    from tests.training.made_up import made_up_leads
    from training.model import train_bundle

    config = default_config()
    config["cycle"]["lightgbm"].update(n_estimators=20, min_child_samples=10)
    rng = random.Random(seed)
    leads = made_up_leads(1200, seed=seed)
    for lead in leads:
        fill(lead, rng)
    frame = pd.DataFrame([build_online(lead, lead["as_of"], config, roles) for lead in leads])
    strong = np.array([converts(lead) for lead in leads])
    frame["label"] = (np.random.default_rng(seed).random(len(frame)) < 0.05 + 0.6 * strong
                      ).astype(int)
    bundle = train_bundle(frame.iloc[:800], frame.iloc[800:], feature_specs(roles, config),
                          config, seed=1, attribute_roles=roles,
                          meta={"cycle": cycle, "trained_at": "2026-10-01T00:00:00"})
    bundle.manifest["threshold"] = 0.3
    return bundle


def download_bundle(tracking_uri: str, version: str, out_dir: Path) -> Path:
    """The bundle folder of a registered version, downloaded under ``out_dir``."""
    import mlflow.artifacts

    root = Path(mlflow.artifacts.download_artifacts(
        artifact_uri=f"models:/leadscore/{version}", dst_path=str(out_dir),
        tracking_uri=tracking_uri, registry_uri=tracking_uri))
    return next(root.rglob("manifest.json")).parent


def log_bundle(bundle_dir: Path, tracking_uri: str, *, model_name: str = "leadscore",
               alias: str | None = "champion") -> str:
    """Log a bundle folder as a new pyfunc version (as the review cycle logs its models); point
    ``alias`` at it; return the version."""
    import mlflow
    from mlflow.tracking import MlflowClient

    from scoring.pyfunc import LeadScorePyfunc
    from training.tracking import quiet_mlflow, setup_tracking

    config = config_for(bundle_dir, tracking_uri)
    experiment_id = setup_tracking(config)
    with quiet_mlflow(), mlflow.start_run(experiment_id=experiment_id):
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=LeadScorePyfunc(),
            artifacts={"bundle": str(bundle_dir)},
            registered_model_name=model_name,
            pip_requirements=["lightgbm", "numpy", "pandas"],
        )
    version = str(info.registered_model_version)
    if alias:
        MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri) \
            .set_registered_model_alias(model_name, alias, version)
    return version
