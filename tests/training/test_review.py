"""The review cycle end to end on generated data: a real DuckDB store and a real MLflow registry.

One module-wide setup generates ~8,000 leads, ingests them and runs two cycles a month apart
(2026-W40, 2026-W44), then reruns the first with --no-promote to check determinism. The tests read
what those runs left behind; the ones that change the registry (failures, rollback) check only
what they themselves changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from leadscore.config import default_config
from leadscore.errors import LeadscoreError

pytestmark = [pytest.mark.slow, pytest.mark.integration]

N_LEADS = 8000
CYCLES = (("2026-W40", "2026-10-01"), ("2026-W44", "2026-11-01"))
HEADLINE = ("roc_auc", "pr_auc", "brier", "ece", "lift_top_decile", "conversion_at_threshold",
            "volume_at_threshold", "mqls_per_week", "threshold", "threshold_ci_low",
            "threshold_ci_high")
REPO = Path(__file__).resolve().parents[2]


def _small_config(root: Path) -> dict:
    """The shipped config on the test's store, with few trees so a cycle takes seconds."""
    config = default_config()
    config["store"] = str(root / "store.duckdb")
    config["mlflow"]["tracking_uri"] = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    config["cycle"]["lightgbm"].update(n_estimators=40, num_leaves=15)
    config["cycle"]["bootstrap_rounds"] = 50
    config["cycle"]["tournament"].update(trials=3, max_rounds=200)
    return config


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    """Generated store + two review cycles + a --no-promote rerun of the first."""
    from features.ingest import ingest_paths
    from generator import generate_export
    from training.review import run_review

    root = tmp_path_factory.mktemp("review")
    config = _small_config(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", config["mlflow"]["tracking_uri"])
        mp.chdir(root)  # reports/ lands here
        generate_export(n_leads=N_LEADS, seed=7, out_dir=root / "export", fmt="csv",
                        progress=False)
        ingest_paths([root / "export"], store=Path(config["store"]), mapping=None)
        summaries = [run_review(cycle, as_of, config, promote=True) for cycle, as_of in CYCLES]
        rerun = run_review("2026-W40-rerun", CYCLES[0][1], config, promote=False)
        yield {"root": root, "config": config, "summaries": summaries, "rerun": rerun,
               "client": MlflowClient(config["mlflow"]["tracking_uri"])}


@pytest.fixture
def env(reviewed, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", reviewed["config"]["mlflow"]["tracking_uri"])
    monkeypatch.chdir(reviewed["root"])
    mlflow.set_tracking_uri(reviewed["config"]["mlflow"]["tracking_uri"])
    return reviewed


def _run(client: MlflowClient, run_id: str):
    return client.get_run(run_id)


def _champion(client: MlflowClient) -> int | None:
    aliases = client.get_registered_model("leadscore").aliases
    return int(aliases["champion"]) if "champion" in aliases else None


def _model_files_digest(client: MlflowClient, version: int) -> str:
    """A digest of every file of a registered version, as the artifact store holds them."""
    source = client.get_model_version("leadscore", str(version)).source
    path = Path(mlflow.artifacts.download_artifacts(artifact_uri=source))
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def test_two_cycles_register_two_versions_with_aliases_as_the_gates_decided(env):
    client = env["client"]
    first, second = env["summaries"]
    assert (first.version, second.version) == (1, 2)

    runs = [_run(client, s.run_id) for s in (first, second)]
    for run, (cycle, as_of), summary in zip(runs, CYCLES, (first, second), strict=True):
        assert run.info.status == "FINISHED"
        assert run.data.tags["cycle"] == cycle and run.data.tags["as_of"] == as_of
        assert run.data.tags["model_version"] == str(summary.version)
        gates = json.loads(Path(client.download_artifacts(run.info.run_id, "gates.json"))
                           .read_text())
        assert run.data.tags["gates_passed"] == str(gates["passed"]).lower()
        assert run.data.tags["promoted"] == str(gates["passed"]).lower()
        assert {g["name"] for g in gates["gates"]} == {"evidence", "band", "calibration",
                                                       "pr_auc"}
        for gate in gates["gates"]:
            assert run.data.metrics[f"gate.{gate['name']}"] == float(gate["passed"])

    # first cycle: no champion to beat, so only band and calibration can keep it out
    assert not any(k.startswith("champion.") for k in runs[0].data.metrics)
    # each later run is compared with whatever was champion when it started, on its cohort
    later = [(runs[1], 1 if first.promoted else None),
             (_run(client, env["rerun"].run_id), second.champion_after)]
    for run, champion_then in later:
        assert ("champion.pr_auc" in run.data.metrics) is (champion_then is not None)
        assert run.data.params["champion_version_before"] == str(champion_then or "none")

    expected_champion = 2 if second.promoted else (1 if first.promoted else None)
    rerun_version = env["rerun"].version
    model = client.get_registered_model("leadscore")
    assert int(model.aliases["challenger"]) == rerun_version  # the latest registered version
    if expected_champion is None:
        assert "champion" not in model.aliases
    else:
        assert _champion(client) == expected_champion


def test_the_run_records_params_metrics_and_artifacts(env):
    client = env["client"]
    run = _run(client, env["summaries"][1].run_id)
    params, metrics = run.data.params, run.data.metrics
    assert len(params["label_policy_hash"]) == 64
    for key in ("train_first_cohort", "train_last_cohort", "valid_first_cohort",
                "valid_last_cohort", "features", "features.fit", "features.intent", "seed",
                "band_min", "band_max", "lightgbm.learning_rate", "lightgbm.num_boost_round"):
        assert params[key] not in (None, ""), key
    assert params["valid_first_cohort"] > params["train_last_cohort"]
    for key in HEADLINE:
        assert key in metrics, key
    for prefix in ("baseline.logistic.", "baseline.points.", "champion."):
        assert f"{prefix}pr_auc" in metrics and f"{prefix}roc_auc" in metrics
    assert metrics["importance.fit"] + metrics["importance.intent"] == pytest.approx(1.0)
    assert any(k.startswith("source.") for k in metrics)

    listed = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"threshold.json", "gates.json", "label_summary.json", "features.json", "tables",
            "plots"} <= listed
    # MLflow 3 keeps the model as a LoggedModel linked to the run, not among its artifacts
    version = client.get_model_version("leadscore", "2")
    assert version.run_id == run.info.run_id
    assert version.source.startswith("models:/m-")
    assert client.get_logged_model(version.source.removeprefix("models:/")).name == "model"
    tables = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "tables")}
    assert {"calibration.csv", "per_source.csv", "importance.csv", "valid_scores.parquet",
            "comparison.csv"} <= tables
    # the MQL flag follows the scores that ship (the deployed calibration), not the judged ones
    scored = pd.read_parquet(client.download_artifacts(run.info.run_id,
                                                       "tables/valid_scores.parquet"))
    assert {"score", "deployed_score", "is_mql"} <= set(scored.columns)
    assert (scored["is_mql"] == (scored["deployed_score"] >= metrics["threshold"])).all()
    plots = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"importance.png", "fit_vs_intent.png", "calibration.png", "beeswarm.png"} <= plots

    # the bundle inside the registered model carries the threshold the run logged
    from training.registry import load_bundle

    bundle, loaded = load_bundle("models:/leadscore/2", env["config"])
    assert int(loaded.version) == 2
    assert bundle.threshold == pytest.approx(metrics["threshold"])
    assert bundle.manifest["cycle"] == "2026-W44"
    assert bundle.manifest["band"] == {"min": 0.25, "max": 0.5}
    assert "pr_auc" in bundle.manifest["metrics"]


def test_each_entrant_of_the_tournament_is_a_child_run_of_the_cycle(env):
    run_id = env["summaries"][1].run_id
    parent = _run(env["client"], run_id)
    children = mlflow.search_runs(
        experiment_ids=[parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{run_id}'")
    print(children[["tags.mlflow.runName", "metrics.mean_log_loss", "metrics.mean_roc_auc",
                    "metrics.seconds", "tags.winner"]].to_string())
    assert set(children["tags.entrant"]) == {"lightgbm", "logistic", "blend"}
    winner = parent.data.tags["tournament_winner"]
    assert children.set_index("tags.entrant").loc[winner, "tags.winner"] == "true"
    assert children["metrics.mean_log_loss"].notna().all()
    lightgbm = children.set_index("tags.entrant").loc["lightgbm", "run_id"]
    history = env["client"].get_metric_history(lightgbm, "trial_log_loss")
    assert len(history) == 3  # cycle.tournament.trials in this config
    assert parent.data.params["model_family"] == winner
    assert winner in parent.data.tags["tournament_sentence"]
    assert "tournament.md" in {a.path for a in env["client"].list_artifacts(run_id)}
    # the leaders' report says it in one sentence
    assert env["summaries"][1].report, env["summaries"][1].notes
    report = Path(env["summaries"][1].report).read_text()
    assert f"The {winner} model won this cycle" in report


def test_same_data_config_and_seed_give_the_same_metrics(env):
    client = env["client"]
    first = _run(client, env["summaries"][0].run_id).data.metrics
    rerun = _run(client, env["rerun"].run_id).data.metrics
    for key in HEADLINE:
        assert rerun[key] == first[key], key
    assert rerun["baseline.logistic.pr_auc"] == first["baseline.logistic.pr_auc"]


def test_summary_is_plain_words_on_one_screen(env):
    summary = env["summaries"][1]
    text = str(summary)
    assert "Review cycle 2026-W44, as of 2026-11-01" in text
    for phrase in ("matured labelled leads", "inside their maturity window", "challenger",
                   "logistic baseline", "points baseline", "Threshold", "MQLs per week",
                   "Top signals", "Gates:", "Registry:"):
        assert phrase in text, phrase
    if summary.champion_before is not None:
        assert f"champion v{summary.champion_before}" in text
    assert summary.registry_sentence() in text
    assert len(text.splitlines()) <= 40


def test_pyfunc_champion_returns_the_bundle_probabilities(env):
    from features.batch import build_batch
    from features.store import connect
    from scoring.bundle import score_frame
    from training.registry import load_bundle

    config = env["config"]
    bundle, _ = load_bundle(None, config)
    model = mlflow.pyfunc.load_model("models:/leadscore@champion")
    with connect(config["store"], read_only=True) as con:
        leads = con.execute(
            "SELECT lead_id, created_at, source, title, company_size, industry, country, "
            "email_domain, campaign, coalesce(mql_at, created_at) AS as_of FROM leads "
            "ORDER BY lead_id LIMIT 40"
        ).fetch_df()
        activities = con.execute(
            "SELECT lead_id, activity_type, occurred_at FROM activities "
            "WHERE lead_id IN (SELECT lead_id FROM leads ORDER BY lead_id LIMIT 40)"
        ).fetch_df()
        features = build_batch(con, leads[["lead_id", "as_of"]], bundle.manifest["feature_config"])
    by_lead = {
        lead: json.dumps([{"activity_type": t, "occurred_at": o.isoformat()}
                          for t, o in zip(g["activity_type"], g["occurred_at"], strict=True)])
        for lead, g in activities.groupby("lead_id")
    }
    rows = leads.assign(
        activities=leads["lead_id"].map(by_lead),
        as_of=leads["as_of"].map(lambda t: t.isoformat()),
        created_at=leads["created_at"].map(lambda t: t.isoformat()),
    ).astype(object).where(lambda f: f.notna(), None)

    out = model.predict(rows)

    assert out["score"].dtype == np.float64 and out["score"].nunique() > 5
    expected = score_frame(bundle, features)
    np.testing.assert_allclose(out["score"], expected["score"], rtol=1e-9)
    assert list(out["grade"]) == list(expected["grade"])


def test_a_failure_after_training_leaves_the_champion_untouched(env, monkeypatch):
    from training import explain
    from training.review import run_review

    client = env["client"]
    champion = _champion(client)
    assert champion is not None
    digest = _model_files_digest(client, champion)
    versions_before = len(client.search_model_versions("name = 'leadscore'"))

    def broken(*args, **kwargs):
        raise RuntimeError("SHAP exploded")

    monkeypatch.setattr(explain, "global_importance", broken)
    with pytest.raises(RuntimeError, match="SHAP exploded"):
        run_review("2026-W45-broken", "2026-11-01", env["config"], promote=True)

    assert _champion(client) == champion
    assert _model_files_digest(client, champion) == digest
    assert len(client.search_model_versions("name = 'leadscore'")) == versions_before
    run = client.search_runs([client.get_experiment_by_name("leadscore").experiment_id],
                             "tags.cycle = '2026-W45-broken'")[0]
    assert run.info.status == "FAILED"


def test_an_unknown_reason_code_is_a_user_error_and_changes_nothing(env, tmp_path):
    from training.review import run_review

    client = env["client"]
    champion = _champion(client)
    store = tmp_path / "corrupt.duckdb"
    shutil.copy(env["config"]["store"], store)
    con = duckdb.connect(str(store))
    lead = con.execute("SELECT lead_id FROM leads LIMIT 1").fetchone()[0]
    con.execute("INSERT INTO dispositions (lead_id, dispositioned_at, status, reason_code) "
                "VALUES (?, TIMESTAMP '2026-09-01 10:00:00', 'rejected', 'abducted_by_aliens')",
                [lead])
    con.close()
    config = dict(env["config"], store=str(store))

    with pytest.raises(LeadscoreError, match="abducted_by_aliens"):
        run_review("2026-W45-corrupt", "2026-11-01", config, promote=True)

    assert _champion(client) == champion
    run = client.search_runs([client.get_experiment_by_name("leadscore").experiment_id],
                             "tags.cycle = '2026-W45-corrupt'")[0]
    assert run.info.status == "FAILED"


def test_a_killed_review_leaves_the_champion_untouched(env, tmp_path):
    client = env["client"]
    champion = _champion(client)
    versions_before = len(client.search_model_versions("name = 'leadscore'"))
    config_file = tmp_path / "config.yaml"
    config = env["config"]
    config_file.write_text(yaml.safe_dump({
        "store": config["store"], "cycle": {"lightgbm": config["cycle"]["lightgbm"]},
    }))
    environ = dict(os.environ, MLFLOW_TRACKING_URI=config["mlflow"]["tracking_uri"],
                   PYTHONPATH=str(REPO))
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "review", "--cycle", "2026-W45-killed",
         "--as-of", "2026-11-01", "--config", str(config_file)],
        env=environ, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    experiment = client.get_experiment_by_name("leadscore").experiment_id
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if client.search_runs([experiment], "tags.cycle = '2026-W45-killed'"):
                break
            time.sleep(0.2)
        assert process.poll() is None, "the review finished before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    assert _champion(client) == champion
    assert len(client.search_model_versions("name = 'leadscore'")) == versions_before
    run = client.search_runs([experiment], "tags.cycle = '2026-W45-killed'")[0]
    assert run.info.status == "RUNNING"  # never finished; nothing after it happened


def test_rollback_moves_the_champion_back_to_v1(env):
    from training.registry import champion_history, promote_version, rollback_champion

    client = env["client"]
    config = env["config"]
    if champion_history(client, "leadscore")[-2:] != [1, 2] or _champion(client) != 2:
        promote_version(1, config)  # e.g. a cycle's gates kept v1 out: set the history up
        promote_version(2, config)
    assert _champion(client) == 2

    assert rollback_champion(config) == "champion: v2 -> v1"

    assert int(client.get_model_version_by_alias("leadscore", "champion").version) == 1
    assert pd.notna(client.get_registered_model("leadscore").tags.get("champion_history"))


def test_a_missing_store_is_one_sentence_and_creates_no_mlflow_store(tmp_path):
    from leadscore.config import load_config
    from training.review import run_review

    config = load_config()
    config["store"] = str(tmp_path / "absent.duckdb")
    config["mlflow"]["tracking_uri"] = f"sqlite:///{tmp_path}/mlflow.db"

    with pytest.raises(LeadscoreError, match="No store at .*absent.duckdb: ingest an export first"):
        run_review("2026-W45", "2026-11-01", config, promote=True)

    assert not (tmp_path / "mlflow.db").exists()
    assert not (tmp_path / "absent.duckdb").exists()


@pytest.mark.parametrize(("setting", "said"), [
    ({"num_leafs": 15}, "cycle.lightgbm.num_leafs is not a LightGBM parameter"),
    ({"n_estimators": 0}, "cycle.lightgbm.n_estimators is 0; it must be a whole number of trees"),
    ({"learning_rate": -0.1}, "LightGBM refuses (Check failed: (learning_rate) > (0.0))"),
    ({"num_threads": "many"}, "LightGBM refuses (invalid literal for int()"),
])
def test_lightgbm_settings_are_checked_before_anything_is_read_or_written(tmp_path, setting,
                                                                          said, capfd):
    """A misspelt parameter (num_leafs) trained with the default silently; n_estimators: 0 and
    learning_rate: -0.1 stopped the review with a LightGBM traceback after its run had started
    (a FAILED run), the backtest likewise."""
    from leadscore.config import load_config
    from training.backtest import parse_every, run_backtest
    from training.review import run_review

    config = load_config()
    config["store"] = str(tmp_path / "absent.duckdb")
    config["mlflow"]["tracking_uri"] = f"sqlite:///{tmp_path}/mlflow.db"
    config["cycle"]["lightgbm"].update(setting)
    with pytest.raises(LeadscoreError) as info:
        run_review("2026-W45", "2026-11-01", config, promote=True)
    assert said in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(LeadscoreError, match=re.escape(said)):
        run_backtest(config, "2026-03-01", parse_every("4w"), 2)
    assert not (tmp_path / "mlflow.db").exists()
    assert "[LightGBM]" not in capfd.readouterr().err  # the sentence says it, once


def test_every_version_explains_itself_with_tags_and_a_description(env):
    client = env["client"]
    for summary in (*env["summaries"], env["rerun"]):
        version = client.get_model_version("leadscore", str(summary.version))
        tags = version.tags
        assert tags["cycle"] == summary.cycle
        assert tags["refit"] == "true" and tags["calibration_method"] in ("platt", "isotonic")
        for gate in summary.gates["gates"]:
            assert tags[f"gate.{gate['name']}"] == ("pass" if gate["passed"] else "fail")
        assert float(tags["judged.roc_auc"]) == pytest.approx(
            summary.models["challenger"]["roc_auc"], abs=1e-4)
        assert version.description.startswith(f"Cycle {summary.cycle} (as of ")
        family = client.get_run(summary.run_id).data.params["model_family"]
        assert tags["model_family"] == family
        assert f": {family} model refit on all matured weeks" in version.description
        # the ROC-AUC is the judged model's: the refit learned from the validation cohort, so
        # "ROC-AUC 0.745 on the validation cohort" beside "refit" read as the version's own
        roc = summary.models["challenger"]["roc_auc"]
        assert (f"the model the gates judged (trained on the weeks before the validation cohort) "
                f"had ROC-AUC {roc:.3f} there") in version.description


def test_the_deployed_model_is_refit_on_every_matured_week(env):
    client = env["client"]
    summary = env["summaries"][-1]
    run = client.get_run(summary.run_id)
    from training.registry import load_bundle

    bundle, _ = load_bundle(f"models:/leadscore/{summary.version}", env["config"])
    deployment = bundle.manifest["deployment"]
    split = summary.split
    assert deployment["refit"] is True
    assert deployment["refit_leads"] == (split["train_leads"] + split["calib_leads"]
                                         + split["valid_leads"])
    # same parameters and number of trees as the judged model
    assert run.data.params["lightgbm.num_boost_round"] == str(
        bundle.manifest["lightgbm"]["num_boost_round"])
    assert bundle.boosters["full"].num_trees() == int(run.data.params["lightgbm.num_boost_round"])
    assert "deployed.ece" in run.data.metrics and "deployed (refit)" in summary.models


def test_a_champion_is_never_judged_on_weeks_it_learned_from(env):
    """The rerun of the first cycle meets a champion refit on every week of its cohort (v1 on
    the same weeks, or v2 on later ones): it is not compared, and the rerun cannot replace it."""
    client = env["client"]
    rerun = client.get_run(env["rerun"].run_id)
    if rerun.data.params["champion_version_before"] == "none":
        pytest.skip("neither cycle promoted a champion")
    gates = json.loads(Path(client.download_artifacts(rerun.info.run_id, "gates.json"))
                       .read_text())
    pr_auc = next(g for g in gates["gates"] if g["name"] == "pr_auc")
    assert not pr_auc["passed"]
    assert pr_auc["sentence"].startswith(
        "The champion's PR-AUC could not be measured on any week it did not learn from")
    assert np.isnan(rerun.data.metrics["champion.pr_auc"])
    # the second cycle's champion (v1, refit through the first cohort) saw none of its weeks
    second = client.get_run(env["summaries"][1].run_id)
    if "champion.pr_auc" in second.data.metrics:
        assert not np.isnan(second.data.metrics["champion.pr_auc"])


@pytest.mark.parametrize("name, why", [
    ("2026/W47", "cannot name a folder"),
    ("../../escape", "cannot name a folder"),
    ("line1\nline2", "control character"),
    ('the "final" one', "double quote"),
    ("w" * 101, "too long for a folder name"),
])
def test_a_cycle_name_the_report_cannot_use_is_refused_before_anything_is_written(env, name, why):
    """The review used to run to its end, register a version and then fail to write the report
    ('x/y'), or write a report under another name (a line break)."""
    from training.review import run_review

    client = env["client"]
    before = [v.version for v in client.search_model_versions("name = 'leadscore'")]
    runs = len(client.search_runs([client.get_experiment_by_name("leadscore").experiment_id]))
    with pytest.raises(LeadscoreError, match=why):
        run_review(name, CYCLES[-1][1], env["config"], promote=False)
    assert [v.version for v in client.search_model_versions("name = 'leadscore'")] == before
    assert len(client.search_runs([client.get_experiment_by_name("leadscore").experiment_id])) \
        == runs


def test_a_cycle_named_with_an_apostrophe_is_found_again_by_its_report(env, tmp_path):
    """The report's search dropped the apostrophe and said the cycle was never reviewed."""
    from training.report import write_report
    from training.review import run_review

    run_review("Anne's W41", CYCLES[-1][1], env["config"], promote=False)
    path = write_report("Anne's W41", env["config"], tmp_path)
    assert path.parent.name == "Anne's W41"
    assert "Lead scoring review: cycle Anne&#39;s W41" in path.read_text(encoding="utf-8")


def test_a_review_dated_before_the_last_one_says_so(env):
    """The module's rerun is dated 2026-10-01 after a review as of 2026-11-01; it ran in
    silence."""
    last_cycle, last_as_of = CYCLES[-1]
    expected = (f"This review is dated {CYCLES[0][1]}, before the last review (cycle {last_cycle}, "
                f"as of {last_as_of}): it learns from less evidence than that one did, and its "
                "report compares it with the last cycle dated on or before it.")
    assert expected in env["rerun"].notes
    assert not any("dated" in note and "before the last review" in note
                   for summary in env["summaries"] for note in summary.notes)


def test_a_cycle_reviewed_again_says_so(env):
    from training.review import run_review

    cycle, as_of = CYCLES[-1]
    first = env["summaries"][-1]
    again = run_review(cycle, as_of, env["config"], promote=False)
    assert (f"Cycle {cycle} was reviewed before (v{first.version}); this review registers "
            f"v{again.version}, and `leadscore report --cycle {cycle}` now reports this one."
            ) in again.notes


def test_a_review_of_a_store_that_holds_less_history_than_the_last_says_so():
    """A store re-created from half the export, reviewed a month after the last review: it
    learned from 982 matured leads against the last review's 1,721 and said nothing of it."""
    from mlflow.entities import Metric, Run, RunData, RunInfo, RunTag

    from training.review import order_notes

    info = RunInfo(run_id="r1", experiment_id="1", user_id="", status="FINISHED", start_time=0,
                   end_time=1, lifecycle_stage="active")
    last = Run(info, RunData(metrics=[Metric("labels.matured_leads", 1721.0, 0, 0)],
                             tags=[RunTag("cycle", "S1"), RunTag("as_of", "2026-08-01"),
                                   RunTag("model_version", "1")]))
    notes = order_notes([last], "S2", datetime(2026, 9, 1), 2, matured=982)
    assert notes == [
        "This review, dated after the last one (cycle S1, as of 2026-08-01), learns from fewer "
        "matured leads than it did (982 against 1,721): the store holds less history than it did "
        "then (re-created from a smaller export?), so check that nothing was lost before reading "
        "its comparisons with cycle S1."]
    assert order_notes([last], "S2", datetime(2026, 9, 1), 2, matured=1800) == []
    same_day = order_notes([last], "S2", datetime(2026, 8, 1), 2, matured=982)
    assert same_day[0].startswith("This review, dated the same day as the last one (cycle S1")


def test_fewer_matured_leads_under_a_longer_maturity_window_is_not_blamed_on_the_store():
    """labels.maturity_days raised from 30 to 75 between two reviews a week apart: the second
    learned from 2,789 matured leads against 3,402 and said "the store holds less history than
    it did then (re-created from a smaller export?)", which was false."""
    from mlflow.entities import Metric, Param, Run, RunData, RunInfo, RunTag

    from training.review import order_notes

    info = RunInfo(run_id="r1", experiment_id="1", user_id="", status="FINISHED", start_time=0,
                   end_time=1, lifecycle_stage="active")
    last = Run(info, RunData(metrics=[Metric("labels.matured_leads", 3402.0, 0, 0)],
                             params=[Param("maturity_days", "30")],
                             tags=[RunTag("cycle", "m1"), RunTag("as_of", "2026-08-01")]))
    notes = order_notes([last], "m2", datetime(2026, 8, 8), 2, matured=2789, maturity_days=75)
    assert notes == [
        "This review, dated after the last one (cycle m1, as of 2026-08-01), learns from fewer "
        "matured leads than it did (2,789 against 3,402): labels.maturity_days is 75 now, 30 "
        "then, so fewer leads have had their window pass; its comparisons with cycle m1 read "
        "labels matured under another window."]
    same = order_notes([last], "m2", datetime(2026, 8, 8), 2, matured=2789, maturity_days=30)
    assert "re-created from a smaller export?" in same[0]
