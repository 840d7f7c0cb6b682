"""Review cycles for the report and notebook tests: a small generated store and two MLflow runs.

``reviewed_cycles(root)`` builds, once per test session, a DuckDB store from generated demo data
and an MLflow store with two cycles. With ``real=True`` the cycles come from the real review
(``training.review.run_review``); otherwise two runs are logged by hand with the metrics and
artifacts the review logs (``fake_cycle_run``), which keeps the report's own tests fast and
independent of training.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.ingest import ingest_paths
from generator import generate_export
from leadscore.config import default_config

N_LEADS = 3000
SEED = 7
CYCLES = (("2026-W35", "2026-09-01"), ("2026-W40", "2026-10-01"))
_BUILT: dict[tuple[str, bool], Cycles] = {}


@dataclass
class Cycles:
    root: Path
    config: dict[str, Any]
    store: Path
    tracking_uri: str
    cycles: tuple[tuple[str, str], ...]
    real: bool

    def use(self, monkeypatch) -> Cycles:
        """Point MLflow and the store at these cycles for one test (``monkeypatch`` undoes it)."""
        monkeypatch.setenv("MLFLOW_TRACKING_URI", self.tracking_uri)
        monkeypatch.setenv("LEADSCORE_STORE", str(self.store))
        return self

    @property
    def env(self) -> dict[str, str]:
        """The environment a notebook or command needs to find this store and registry."""
        return {"LEADSCORE_STORE": str(self.store), "MLFLOW_TRACKING_URI": self.tracking_uri,
                "LEADSCORE_CYCLE": self.cycles[-1][0],
                "LEADSCORE_COMPARE_CYCLE": self.cycles[0][0]}


@contextlib.contextmanager
def environment(values: dict[str, str]):
    """Set environment variables for a block, then put back what was there.

    Needed because ``mlflow.set_tracking_uri`` also writes ``MLFLOW_TRACKING_URI`` into the
    environment, and the environment wins over the config: without this, the first store a test
    session opens would capture every later one.
    """
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def config_for(root: Path) -> dict[str, Any]:
    config = default_config()
    config["store"] = str(root / "leadscore.duckdb")
    config["mlflow"]["tracking_uri"] = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    config["cycle"]["bootstrap_rounds"] = 20
    config["cycle"]["lightgbm"]["n_estimators"] = 60
    return config


def build_store(path: Path, n_leads: int = N_LEADS, seed: int = SEED) -> Path:
    """Generated demo data ingested into a fresh store by the real ingestion."""
    export = path.parent / "export"
    generate_export(n_leads=n_leads, seed=seed, out_dir=export, fmt="parquet")
    ingest_paths([export], store=path, mapping=None)
    return path


def _keys(name: str) -> list[str]:
    from features.contract import TABLES

    return list(TABLES[name].key)


def fake_cycle_run(config: dict[str, Any], cycle: str, as_of: str, *, seed: int,
                   promoted: bool, with_scores: bool = True) -> str:
    """Log one run shaped like the review's: metrics, params, tags and artifacts. Returns its id."""
    import mlflow

    from features.label_policy import load_policy
    from features.labels import build_labels
    from features.store import connect
    from training.evaluate import calibration_table, evaluate
    from training.tracking import setup_tracking

    experiment_id = setup_tracking(config)
    with connect(config["store"], read_only=True) as con:
        labels = build_labels(con, datetime.fromisoformat(as_of), load_policy(), 30)
    valid = labels[labels["matured"]].tail(800).reset_index(drop=True)
    rng = np.random.default_rng(seed)
    score = np.clip(0.12 + 0.35 * valid["label"] + rng.normal(0, 0.15, len(valid)), 0.01, 0.99)
    valid["source"] = valid["source"].str.strip().str.lower().str.replace(" ", "_")
    metrics = evaluate(score, valid["label"], threshold=0.3, sources=valid["source"], weeks=4.0)
    metrics |= {"threshold": 0.3, "threshold_ci_low": metrics["conversion_at_threshold"] - 0.05,
                "threshold_ci_high": metrics["conversion_at_threshold"] + 0.05}
    metrics |= {f"champion.{k}": v - 0.02 for k, v in metrics.items()
                if k in ("roc_auc", "pr_auc", "brier", "ece", "conversion_at_threshold")}
    metrics |= {"baseline.logistic.roc_auc": 0.7, "baseline.points.roc_auc": 0.6}
    features = ["n_pricing_view_7d", "seniority", "icp_match", "n_demo_request_30d", "source",
                "company_size_band", "days_since_last_activity", "free_email"]
    weights = rng.permutation(np.linspace(0.05, 0.6, len(features)))
    importance = pd.DataFrame({
        "feature": features,
        "group": ["intent", "fit", "fit", "intent", "fit", "fit", "intent", "fit"],
        "label": ["Pricing views, last 7 days", "Title seniority", "Matches the ICP",
                  "Demo requests, last 30 days", "Source", "Company size",
                  "Days since the last activity", "Free e-mail domain"],
        "mean_abs_shap": weights,
        "direction": ["higher raises the score", "vp raises it most", "yes raises the score",
                      "higher raises the score", "referral raises it most", "mixed",
                      "higher lowers the score", "yes lowers the score"],
    }).sort_values("mean_abs_shap", ascending=False)
    gates = {"passed": promoted, "gates": [
        {"name": "band", "passed": True, "sentence": "A threshold meets the band."},
        {"name": "calibration", "passed": True, "sentence": "Scores read as probabilities."},
        {"name": "pr_auc", "passed": promoted, "sentence": "PR-AUC compared with the champion."},
    ]}
    grades = np.array([f"{'ABCD'[min(3, int(4 * (1 - s)))]}{1 + rng.integers(0, 4)}"
                       for s in score])
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"review {cycle}") as run:
        mlflow.set_tags({"cycle": cycle, "promoted": str(promoted).lower()})
        mlflow.log_params({"as_of": as_of, "data_window_start": "2025-11-01",
                           "policy_hash": "fake", "band_min": 0.25, "band_max": 0.5})
        mlflow.log_metrics({k: v for k, v in metrics.items() if math.isfinite(v)})
        mlflow.log_dict({"threshold": 0.3, "message": "Threshold 0.300 meets the band."},
                        "threshold.json")
        mlflow.log_dict(gates, "evaluation/gates.json")
        mlflow.log_dict({"unmatured_open_leads": 120, "maturity_days": 30},
                        "evaluation/label_summary.json")
        mlflow.log_text(calibration_table(score, valid["label"]).to_csv(index=False),
                        "evaluation/calibration.csv")
        mlflow.log_text(importance.to_csv(index=False), "evaluation/importance.csv")
        if with_scores:
            scored = valid[["lead_id", "source", "label"]].assign(score=score, grade=grades)
            mlflow.log_text(scored.to_csv(index=False), "evaluation/valid_scores.csv")
        return run.info.run_id


def reviewed_cycles(root: Path, *, real: bool = False) -> Cycles:
    """Build (once per session and kind) the store and the two cycles under ``root``."""
    key = (str(root), real)
    if key in _BUILT:
        return _BUILT[key]
    root.mkdir(parents=True, exist_ok=True)
    config = config_for(root)
    build_store(Path(config["store"]))
    # the review writes its report under ./reports: keep it inside root
    env = {"MLFLOW_TRACKING_URI": config["mlflow"]["tracking_uri"],
           "LEADSCORE_STORE": config["store"]}
    with contextlib.chdir(root), environment(env):
        for i, (cycle, as_of) in enumerate(CYCLES):
            if real:
                from training.review import run_review

                run_review(cycle=cycle, as_of=as_of, config=config, promote=True)
            else:
                fake_cycle_run(config, cycle, as_of, seed=i, promoted=i == 1)
    built = Cycles(root, config, Path(config["store"]), config["mlflow"]["tracking_uri"],
                   CYCLES, real)
    _BUILT[key] = built
    return built


def session_cycles(tmp_path_factory) -> Cycles:
    """Cycles from the real review, shared by every test of the session."""
    return reviewed_cycles(tmp_path_factory.getbasetemp() / "report-cycles-real", real=True)
