"""`leadscore score EXPORT --mapping M.yaml` against the store path, on a real DuckDB store, a
real review and a real MLflow SQLite registry.

An export (flat v1, then several-file v2, in shapes no shipped data set has) is ingested and
reviewed; `leadscore rescore` then scores the open leads from the store and logs their scores.
The same rows, as a file of new leads (no verdict columns, no won-deals file), scored through the
mapping must get exactly those scores. X Education too when its file is present.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner

from cli.main import cli
from features.ingest import ingest_paths
from leadscore.config import default_config
from tests.features.crm_exports import (
    FLAT_MAPPING,
    V2_MAPPING,
    VERDICT_COLUMNS,
    flat_export,
    v2_export,
)
from training.batch_score import FILE_COLUMNS

pytestmark = [pytest.mark.slow, pytest.mark.integration]

AS_OF = "2026-11-01"
REPO = Path(__file__).resolve().parents[2]
X_EDUCATION = REPO.parent / "shared" / "datasets" / "x-education" / "Leads.csv"


def _config(root: Path) -> dict:
    """The shipped config on the test's own store, registry and live store, few trees."""
    config = default_config()
    config["store"] = str(root / "store.duckdb")
    config["mlflow"]["tracking_uri"] = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    config["live"]["url"] = f"sqlite:///{root / 'live.db'}"
    config["cycle"]["lightgbm"].update(n_estimators=40, num_leaves=15)
    config["cycle"]["bootstrap_rounds"] = 50
    config["cycle"]["tournament"].update(trials=3, max_rounds=200)
    return config


def _reviewed(root: Path, export: list[Path], mapping: Path, config: dict, as_of: str,
              rescore_as_of: str | None = None) -> dict:
    """Ingest, review as of ``as_of``, make v1 the champion, rescore the open leads as of
    ``rescore_as_of`` (default: ``as_of``)."""
    from training.registry import promote_version
    from training.rescore import rescore
    from training.review import run_review

    ingest_paths(export, store=Path(config["store"]), mapping=mapping, labels=config["labels"])
    run_review("first", as_of, config, promote=True)
    promote_version(1, config)  # whatever the gates said: this test is about scoring
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    rescore(config, as_of=rescore_as_of or as_of, out=root / "changed.csv")
    engine = sa.create_engine(config["live"]["url"])
    with engine.connect() as con:
        logged = pd.read_sql("SELECT lead_id, score, grade, is_mql FROM score_log "
                             "WHERE source = 'rescore'", con).set_index("lead_id")
    engine.dispose()
    return {"root": root, "config": config, "mapping": mapping, "rescored": logged}


@pytest.fixture(scope="module")
def flat_world(tmp_path_factory):
    root = tmp_path_factory.mktemp("flat-export")
    frame = flat_export(1500, seed=8)
    frame.to_csv(root / "crm.csv", index=False)
    (root / "tiny.yaml").write_text(FLAT_MAPPING)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)  # the review's report lands here
        mp.delenv("LEADSCORE_LIVE_URL", raising=False)
        mp.setenv("MLFLOW_TRACKING_URI", _config(root)["mlflow"]["tracking_uri"])
        world = _reviewed(root, [root / "crm.csv"], root / "tiny.yaml", _config(root), AS_OF)
    return {**world, "frame": frame}


@pytest.fixture(scope="module")
def v2_world(tmp_path_factory):
    root = tmp_path_factory.mktemp("v2-export")
    export = v2_export(root / "export", 1500, seed=9)
    (root / "v2.yaml").write_text(V2_MAPPING)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.delenv("LEADSCORE_LIVE_URL", raising=False)
        mp.setenv("MLFLOW_TRACKING_URI", _config(root)["mlflow"]["tracking_uri"])
        world = _reviewed(root, [export], root / "v2.yaml", _config(root), AS_OF)
    return {**world, "export": export}


@pytest.fixture
def in_world(monkeypatch):
    def enter(world: dict) -> dict:
        monkeypatch.chdir(world["root"])
        monkeypatch.delenv("LEADSCORE_LIVE_URL", raising=False)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", world["config"]["mlflow"]["tracking_uri"])
        mlflow.set_tracking_uri(world["config"]["mlflow"]["tracking_uri"])
        return world
    return enter


def _score(world: dict, target: Path, out: Path, *extra: str):
    return CliRunner().invoke(cli, ["score", str(target), "--mapping", str(world["mapping"]),
                                    "--out", str(out), "--as-of", AS_OF, "--config",
                                    str(world["root"] / "config.yaml"), *extra])


def _same_as_rescored(world: dict, scored: pd.DataFrame) -> None:
    rescored = world["rescored"]
    assert len(rescored) >= 30  # enough open leads for the comparison to mean something
    joined = rescored.reset_index().merge(scored, on="lead_id", how="left",
                                          suffixes=("", "_file"))
    assert joined["score_file"].notna().all()
    assert (joined["score"] == joined["score_file"]).all()  # exact, not approximate
    assert (joined["grade"] == joined["grade_file"]).all()


def _digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_a_flat_file_of_new_leads_scores_as_the_store_scores_the_same_leads(flat_world, in_world):
    world = in_world(flat_world)
    new = world["root"] / "new-leads.csv"
    world["frame"].drop(columns=VERDICT_COLUMNS).to_csv(new, index=False)
    before = _digest(world["config"]["store"])
    result = _score(world, new, world["root"] / "scored.csv")
    assert result.exit_code == 0, result.output
    assert "Scored 1,500 leads with model v1 (cycle first)" in result.output
    # the progress bar stays off stdout: the summary is its first line, not a blank one
    assert result.stdout.startswith("Scored 1,500 leads")
    scored = pd.read_csv(world["root"] / "scored.csv", dtype={"lead_id": str})
    assert list(scored.columns) == FILE_COLUMNS
    assert scored["lead_id"].tolist() == world["frame"]["Lead No"].tolist()
    _same_as_rescored(world, scored)
    assert _digest(world["config"]["store"]) == before  # the store is never touched
    text = (world["root"] / "scored.csv").read_text()
    assert "@" not in text and not any(name in text for name in ("Ann Lee", "Raj Patel"))


def test_blank_verdicts_score_as_absent_ones(flat_world, in_world):
    world = in_world(flat_world)
    blank = world["frame"].assign(**{"Status": "", "Call Summary": ""})
    blank.to_csv(world["root"] / "blank.csv", index=False)
    result = _score(world, world["root"] / "blank.csv", world["root"] / "blank.parquet")
    assert result.exit_code == 0, result.output
    _same_as_rescored(world, pd.read_parquet(world["root"] / "blank.parquet"))


def test_a_missing_column_the_model_needs_is_refused_and_nothing_is_written(flat_world, in_world):
    world = in_world(flat_world)
    thin = world["root"] / "thin.csv"
    world["frame"].drop(columns=["Plan", *VERDICT_COLUMNS]).to_csv(thin, index=False)
    out = world["root"] / "thin-out.csv"
    result = _score(world, thin, out)
    assert result.exit_code == 1
    assert result.output.startswith("error: thin.csv lacks column(s) the mapping")
    assert "Plan (the model scores from it)" in result.output and "Traceback" not in result.output
    assert not out.exists() and not list(world["root"].glob(".thin-out.csv.*"))


def test_spark_with_a_mapping_is_one_sentence(flat_world, in_world):
    world = in_world(flat_world)
    out = world["root"] / "spark-out.parquet"
    result = _score(world, world["root"] / "crm.csv", out, "--engine", "spark")
    assert result.exit_code == 1 and not out.exists()
    assert result.output.strip() == ("error: --mapping reads the export on this machine, which "
                                     "--engine spark does not do: drop --engine spark (the local "
                                     "engine scores on every core) and re-run.")


def test_a_v2_export_of_new_leads_scores_as_the_store_scores_them(v2_world, in_world):
    world = in_world(v2_world)
    new = world["root"] / "new"
    new.mkdir()
    for name in ("leads.csv", "companies.csv", "events.csv"):  # no won.csv: nothing is won yet
        shutil.copy(world["export"] / name, new / name)
    leads = pd.read_csv(new / "leads.csv", sep=";", dtype=str, keep_default_na=False)
    leads.drop(columns=["Stage", "Closed"]).to_csv(new / "leads.csv", sep=";", index=False)
    result = _score(world, new, world["root"] / "v2-scored.csv")
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(world["root"] / "v2-scored.csv", dtype={"lead_id": str})
    assert scored["lead_id"].tolist() == leads["Ref"].tolist()
    assert "delimiter ';' (as the mapping says)" in result.output
    _same_as_rescored(world, scored)


def test_a_v2_export_needs_its_activities_to_score_intent(v2_world, in_world):
    world = in_world(v2_world)
    bare = world["root"] / "bare"
    bare.mkdir()
    for name in ("leads.csv", "companies.csv"):
        shutil.copy(world["export"] / name, bare / name)
    result = _score(world, bare, world["root"] / "bare.csv")
    assert result.exit_code == 1 and "'events.csv'" in result.output
    assert not (world["root"] / "bare.csv").exists()


@pytest.mark.skipif(not X_EDUCATION.is_file(), reason="the X Education file is not present")
def test_x_education_rows_score_as_the_store_scores_them(tmp_path, monkeypatch):
    config = _config(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEADSCORE_LIVE_URL", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", config["mlflow"]["tracking_uri"])
    config["labels"]["maturity_days"] = 30
    config["cycle"].update(validation_weeks=10, band={"min": 0.60, "max": 0.85})
    mapping = tmp_path / "x-education.yaml"
    shutil.copy(REPO / "features" / "mappings" / "x-education.yaml", mapping)
    # reviewed as its README says; rescored as of mid-December 2015, when the newest leads
    # (the file's first rows) were still open
    world = _reviewed(tmp_path, [X_EDUCATION], mapping, config, "2016-03-01", "2015-12-20")
    raw = pd.read_csv(X_EDUCATION, dtype=str, keep_default_na=False, nrows=400)
    raw.drop(columns=["Converted", "Tags", "Lead Quality"]).to_csv(tmp_path / "new.csv",
                                                                  index=False)
    result = CliRunner().invoke(cli, ["score", str(tmp_path / "new.csv"), "--mapping",
                                      str(mapping), "--out", str(tmp_path / "s.csv"),
                                      "--config", str(tmp_path / "config.yaml")])
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(tmp_path / "s.csv", dtype={"lead_id": str})
    assert scored["lead_id"].tolist() == raw["Lead Number"].tolist()
    both = world["rescored"].reset_index().merge(scored, on="lead_id", suffixes=("", "_file"))
    assert len(both) >= 30 and (both["score"] == both["score_file"]).all()
