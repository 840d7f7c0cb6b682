"""The two review cycles test_review.py and test_review_versions.py share: constants and helpers
(the ``reviewed`` and ``env`` fixtures are in conftest.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from leadscore.config import default_config

N_LEADS = 8000
CYCLES = (("2026-W40", "2026-10-01"), ("2026-W44", "2026-11-01"))
HEADLINE = ("roc_auc", "pr_auc", "brier", "ece", "lift_top_decile", "conversion_at_threshold",
            "volume_at_threshold", "mqls_per_week", "threshold", "threshold_ci_low",
            "threshold_ci_high")
REPO = Path(__file__).resolve().parents[2]


def small_config(root: Path) -> dict:
    """The shipped config on the test's store, with few trees so a cycle takes seconds."""
    config = default_config()
    config["store"] = str(root / "store.duckdb")
    config["mlflow"]["tracking_uri"] = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    config["cycle"]["lightgbm"].update(n_estimators=40, num_leaves=15)
    config["cycle"]["bootstrap_rounds"] = 50
    config["cycle"]["tournament"].update(trials=3, max_rounds=200)
    return config


def run_of(client: MlflowClient, run_id: str):
    return client.get_run(run_id)


def champion_version(client: MlflowClient) -> int | None:
    aliases = client.get_registered_model("leadscore").aliases
    return int(aliases["champion"]) if "champion" in aliases else None


def model_files_digest(client: MlflowClient, version: int) -> str:
    """A digest of every file of a registered version, as the artifact store holds them."""
    source = client.get_model_version("leadscore", str(version)).source
    path = Path(mlflow.artifacts.download_artifacts(artifact_uri=source))
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()
