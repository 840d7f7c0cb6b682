"""A generated world for the monitor tests: one real review, then scenarios served after it.

One export (``generate_frames``) is reviewed once as of ``REVIEW`` into a temporary MLflow store;
each scenario plants changes (``generator.monitor_plants``) on the leads after the review, lands
in its own DuckDB store, and has every lead scoreable between the review and ``END`` scored by
the champion at the moment it became scoreable, into its own score log, as the API would have.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from features.batch import build_batch
from features.ingest import ingest_paths
from features.live_store import LiveStore
from features.store import connect
from generator import generate_frames as generate_frames
from generator.monitor_plants import PlantedChanges, plant_changes
from leadscore.config import default_config
from scoring.bundle import ScoringBundle
from scoring.drift import feature_bins
from tests.serving.model_factory import working_directory

N_LEADS = 4000
SEED = 11
REVIEW = "2026-08-01"
END = "2026-11-01"


@dataclass
class World:
    folder: Path
    config: dict[str, Any]
    version: str
    bundle: ScoringBundle


@dataclass
class Scenario:
    config: dict[str, Any]
    planted: PlantedChanges
    served: pd.DataFrame


def base_config(folder: Path) -> dict[str, Any]:
    config = default_config()
    config["store"] = str(folder / "review.duckdb")
    config["live"]["url"] = f"sqlite:///{folder / 'review.live.db'}"
    config["mlflow"]["tracking_uri"] = f"sqlite:///{folder / 'mlruns' / 'mlflow.db'}"
    config["mlflow"]["artifact_location"] = str(folder / "mlruns" / "artifacts")
    config["cycle"]["tournament"]["enabled"] = False
    config["cycle"]["bootstrap_rounds"] = 20
    config["cycle"]["lightgbm"].update(n_estimators=120, learning_rate=0.08)
    return config


def write_export(export: Any, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("leads", "activities", "dispositions", "outcomes"):
        getattr(export, name).to_csv(folder / f"{name}.csv", index=False)
    return folder


def build_world(folder: Path) -> World:
    """Generate, ingest and review once (the champion every scenario is monitored against)."""
    from training.registry import CHAMPION, alias_version, load_bundle, promote_version
    from training.review import run_review
    from training.tracking import client

    config = base_config(folder)
    ingest_paths([write_export(generate_frames(N_LEADS, SEED, end=END), folder / "export")],
                 store=Path(config["store"]))
    before = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = config["mlflow"]["tracking_uri"]
    try:
        with working_directory(folder):
            run_review(cycle="2026-W31", as_of=REVIEW, config=config, promote=True)
        name = config["mlflow"]["registered_model"]
        version = alias_version(client(config), name, CHAMPION)
        if version is None:  # a small export may miss a gate: promote by hand, as a person would
            version = alias_version(client(config), name, "challenger")
            promote_version(version, config)
        bundle, _ = load_bundle(None, config)
    finally:
        if before is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = before
    return World(folder, config, str(version), bundle)


def serve(store: Path, bundle: ScoringBundle, config: dict[str, Any], version: str,
          since: str, until: str) -> list[dict[str, Any]]:
    """Score-log rows of every lead scoreable in [since, until), scored at that moment."""
    with connect(store, read_only=True) as con:
        points = con.execute(
            "SELECT lead_id, as_of FROM (SELECT lead_id, coalesce(mql_at, created_at) AS as_of "
            "FROM leads) WHERE as_of >= $since AND as_of < $until ORDER BY as_of, lead_id",
            {"since": since, "until": until}).df()
        frame = build_batch(con, points, {**config, **bundle.feature_config})
    X = bundle.encoder.transform(frame)
    scores = bundle.score_encoded(X)
    bins = feature_bins(X, bundle.manifest.get("training_profile")) or [None] * len(X)
    return [{"lead_id": lead, "scored_at": pd.Timestamp(at).to_pydatetime(),
             "model_version": version, "score": float(s), "fit_score": float(f),
             "intent_score": float(i), "grade": g, "is_mql": bool(m), "reasons": [],
             "feature_hash": None, "source": "api", "feature_bins": b}
            for lead, at, s, f, i, g, m, b in zip(
                points["lead_id"], points["as_of"], scores.score, scores.fit_score,
                scores.intent_score, scores.grade, scores.is_mql, bins, strict=True)]


def scenario(world: World, name: str, **plants: Any) -> Scenario:
    """The export with ``plants`` (``plant_changes``) after the review, stored and served."""
    folder = world.folder / name
    planted = plant_changes(generate_frames(N_LEADS, SEED, end=END), REVIEW, end=END,
                            seed=SEED, **plants)
    config = {**world.config, "store": str(folder / "store.duckdb"),
              "live": {**world.config["live"], "url": f"sqlite:///{folder / 'live.db'}"}}
    ingest_paths([write_export(planted.export, folder / "export")], store=Path(config["store"]))
    rows = serve(Path(config["store"]), world.bundle, config, world.version, REVIEW, END)
    live = LiveStore(config["live"]["url"])
    try:
        live.log_scores(rows)
    finally:
        live.close()
    return Scenario(config, planted, pd.DataFrame(rows))
