"""The review cycle end to end on generated data: a real DuckDB store and a real MLflow registry.

One setup (conftest's ``reviewed``, shared with test_review_versions.py) generates ~8,000 leads,
ingests them and runs two cycles a month apart (2026-W40, 2026-W44), then reruns the first with
--no-promote to check determinism. The tests read what those runs left behind; the ones that
change the registry (failures, rollback) check only what they themselves changed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml

from leadscore.errors import LeadscoreError
from tests.training.review_cycles import (
    CYCLES,
    HEADLINE,
    REPO,
    champion_version,
    model_files_digest,
    run_of,
)

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_two_cycles_register_two_versions_with_aliases_as_the_gates_decided(env):
    client = env["client"]
    first, second = env["summaries"]
    assert (first.version, second.version) == (1, 2)

    runs = [run_of(client, s.run_id) for s in (first, second)]
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
             (run_of(client, env["rerun"].run_id), second.champion_after)]
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
        assert champion_version(client) == expected_champion


def test_the_run_records_params_metrics_and_artifacts(env):
    client = env["client"]
    run = run_of(client, env["summaries"][1].run_id)
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
    parent = run_of(env["client"], run_id)
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
    first = run_of(client, env["summaries"][0].run_id).data.metrics
    rerun = run_of(client, env["rerun"].run_id).data.metrics
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
    champion = champion_version(client)
    assert champion is not None
    digest = model_files_digest(client, champion)
    versions_before = len(client.search_model_versions("name = 'leadscore'"))

    def broken(*args, **kwargs):
        raise RuntimeError("SHAP exploded")

    monkeypatch.setattr(explain, "global_importance", broken)
    with pytest.raises(RuntimeError, match="SHAP exploded"):
        run_review("2026-W45-broken", "2026-11-01", env["config"], promote=True)

    assert champion_version(client) == champion
    assert model_files_digest(client, champion) == digest
    assert len(client.search_model_versions("name = 'leadscore'")) == versions_before
    run = client.search_runs([client.get_experiment_by_name("leadscore").experiment_id],
                             "tags.cycle = '2026-W45-broken'")[0]
    assert run.info.status == "FAILED"


def test_an_unknown_reason_code_is_a_user_error_and_changes_nothing(env, tmp_path):
    from training.review import run_review

    client = env["client"]
    champion = champion_version(client)
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

    assert champion_version(client) == champion
    run = client.search_runs([client.get_experiment_by_name("leadscore").experiment_id],
                             "tags.cycle = '2026-W45-corrupt'")[0]
    assert run.info.status == "FAILED"


def test_a_killed_review_leaves_the_champion_untouched(env, tmp_path):
    client = env["client"]
    champion = champion_version(client)
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

    assert champion_version(client) == champion
    assert len(client.search_model_versions("name = 'leadscore'")) == versions_before
    run = client.search_runs([experiment], "tags.cycle = '2026-W45-killed'")[0]
    assert run.info.status == "RUNNING"  # never finished; nothing after it happened


def test_rollback_moves_the_champion_back_to_v1(env):
    from training.registry import champion_history, promote_version, rollback_champion

    client = env["client"]
    config = env["config"]
    if champion_history(client, "leadscore")[-2:] != [1, 2] or champion_version(client) != 2:
        promote_version(1, config)  # e.g. a cycle's gates kept v1 out: set the history up
        promote_version(2, config)
    assert champion_version(client) == 2

    assert rollback_champion(config) == "champion: v2 -> v1"

    assert int(client.get_model_version_by_alias("leadscore", "champion").version) == 1
    assert pd.notna(client.get_registered_model("leadscore").tags.get("champion_history"))


def test_promote_and_rollback_rewrite_the_reports_that_name_the_champion(env, tmp_path):
    # a report said "v2 scores leads" (or "nothing scores leads until a version is promoted");
    # after `leadscore promote` it stayed so until `leadscore report` was run by hand
    from click.testing import CliRunner

    from cli.main import cli
    from training.registry import promote_version, versions

    client, config = env["client"], env["config"]
    champion = champion_version(client)
    rerun = next(v for v in versions(client, "leadscore")
                 if client.get_model_version("leadscore", str(v)).tags.get("cycle")
                 == "2026-W40-rerun")
    # the champion that review left (an earlier test may have moved it since, by the API)
    left = client.get_run(client.get_model_version("leadscore", str(rerun)).run_id
                          ).data.params["champion_version_before"]
    report = Path("reports/2026-W40-rerun/index.html")
    assert report.is_file() and "scores leads now" not in report.read_text()
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump({"store": config["store"]}))
    try:
        moved = CliRunner().invoke(cli, ["promote", str(rerun), "--config", str(config_file)])
        assert moved.exit_code == 0, moved.output
        assert "Report rewritten to name the champion now: " in moved.output
        assert "reports/2026-W40-rerun/index.html" in moved.output
        assert (f"Since this review the champion has moved from v{left} to v{rerun}"
                in report.read_text())
        back = CliRunner().invoke(cli, ["rollback", "--config", str(config_file)])
        assert back.exit_code == 0, back.output
        assert "reports/2026-W40-rerun/index.html" in back.output
        assert f"v{rerun} scores leads now" not in report.read_text()
    finally:
        if champion_version(client) != champion:
            promote_version(champion, config)
