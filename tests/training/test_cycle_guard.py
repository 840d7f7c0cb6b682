"""Review cycles under kills, at a weekly cadence and two at once: real DuckDB, MLflow, processes.

One module-wide store (generated leads, ingested) serves every test; each test has its own MLflow
registry, so what one test's kills and locks leave behind never reaches another.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
import yaml
from click.testing import CliRunner
from mlflow.tracking import MlflowClient

from cli.main import cli
from leadscore.config import default_config
from leadscore.errors import LeadscoreError
from training import cycle_guard

pytestmark = [pytest.mark.slow, pytest.mark.integration]

N_LEADS = 4000
REPO = Path(__file__).resolve().parents[2]
WEEKLY = (("2026-W40", "2026-10-01"), ("2026-W41", "2026-10-08"), ("2026-W42", "2026-10-15"))


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    from features.ingest import ingest_paths
    from generator import generate_export

    root = tmp_path_factory.mktemp("guard-store")
    generate_export(n_leads=N_LEADS, seed=11, out_dir=root / "export", fmt="parquet",
                    progress=False)
    ingest_paths([root / "export"], store=root / "store.duckdb", mapping=None)
    return root / "store.duckdb"


@pytest.fixture
def project(store, tmp_path, monkeypatch):
    """A project folder with its own registry on the shared store; the tests run inside it."""
    config = default_config()
    config["store"] = str(store)
    config["mlflow"]["tracking_uri"] = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    config["cycle"]["lightgbm"].update(n_estimators=30, num_leaves=7)
    config["cycle"]["bootstrap_rounds"] = 20
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump({
        "store": config["store"], "cycle": {"lightgbm": config["cycle"]["lightgbm"],
                                            "bootstrap_rounds": 20},
    }))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", config["mlflow"]["tracking_uri"])
    # MLflow's own globals, per test (a client without registry_uri reads the global one)
    mlflow.set_tracking_uri(config["mlflow"]["tracking_uri"])
    mlflow.set_registry_uri(config["mlflow"]["tracking_uri"])
    monkeypatch.chdir(tmp_path)
    return {"root": tmp_path, "config": config, "file": config_file,
            "client": MlflowClient(config["mlflow"]["tracking_uri"],
                                   registry_uri=config["mlflow"]["tracking_uri"]),
            "env": dict(os.environ, MLFLOW_TRACKING_URI=config["mlflow"]["tracking_uri"],
                        PYTHONPATH=str(REPO))}


def _review_process(project, cycle: str, as_of: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "review", "--cycle", cycle, "--as-of", as_of,
         "--config", str(project["file"])],
        env=project["env"], cwd=project["root"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )


def _experiment(client) -> str:
    return client.get_experiment_by_name("leadscore").experiment_id


def _runs(client, cycle: str):
    return client.search_runs([_experiment(client)], f"tags.cycle = '{cycle}'")


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_three_weekly_cycles_and_a_same_date_rerun_each_get_a_report(project):
    from training.report import build_context
    from training.review import run_review

    config = project["config"]
    summaries = [run_review(cycle, as_of, config) for cycle, as_of in WEEKLY]
    summaries.append(run_review("2026-W42-again", WEEKLY[-1][1], config, promote=False))
    for summary in summaries:
        assert not [n for n in summary.notes if "could not be written" in n], summary.notes
        assert summary.report and Path(summary.report).is_file()
    ctx, _, _ = build_context("2026-W42", config, project["client"])
    assert ctx["previous"].cycle == "2026-W41"
    assert ctx["cohort"]["verdict"] == "insufficient evidence"  # a week: nothing matured yet
    assert ctx["cohort"]["first_matures"]  # says when, never a window that ends before it starts
    page = " ".join(re.sub(r"<[^>]+>", " ", Path(summaries[2].report).read_text()).split())
    assert "has had its 30 days to convert yet; the first will have on 2026-11-07" in page
    result = CliRunner().invoke(cli, ["report", "--cycle", "2026-W42-again", "--out",
                                      str(project["root"] / "out"), "--config",
                                      str(project["file"])])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def test_after_a_killed_review_the_report_compares_with_the_last_completed_cycle(project):
    from training.report import build_context
    from training.review import run_review

    config, client = project["config"], project["client"]
    run_review(*WEEKLY[0], config)
    process = _review_process(project, "2026-W41-killed", "2026-10-08")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if _runs(client, "2026-W41-killed"):
                break
            time.sleep(0.2)
        assert process.poll() is None, "the review finished before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    orphan = Path(os.environ.get("TMPDIR", "/tmp")) / f"leadscore-review-{_dead_pid()}-x1"
    (orphan / "bundle").mkdir(parents=True)
    (orphan / "bundle" / "model.txt").write_text("left by a killed review")

    summary = run_review("2026-W42", "2026-10-15", config)

    assert _runs(client, "2026-W41-killed")[0].info.status == "KILLED"
    assert not orphan.exists()
    ctx, _, _ = build_context("2026-W42", config, client)
    assert ctx["previous"].cycle == WEEKLY[0][0]
    assert ctx["cohort"]["verdict"] != "first cycle"
    assert not ctx["signals"]["first_cycle"]
    assert summary.report and Path(summary.report).is_file()


def test_a_version_whose_review_was_killed_is_never_promoted_or_rolled_back_to(project):
    from training.registry import promote_version, rollback_champion, set_champion
    from training.review import run_review

    config, client = project["config"], project["client"]
    first = run_review(*WEEKLY[0], config)
    # a review killed between registering its version and moving the aliases
    run = client.create_run(_experiment(client), tags={
        "cycle": "2026-W41", cycle_guard.PID_TAG: str(_dead_pid()),
        cycle_guard.HOST_TAG: socket.gethostname()})
    source = client.get_model_version_download_uri("leadscore", str(first.version))
    orphan = int(client.create_model_version("leadscore", source, run_id=run.info.run_id).version)
    second = run_review(*WEEKLY[2], config)  # closes the dead run
    assert client.get_run(run.info.run_id).info.status == "KILLED"

    with pytest.raises(LeadscoreError, match=f"Version {orphan} .* did not finish"):
        promote_version(orphan, config)
    # a history that holds it anyway (an alias moved by hand): rollback steps over it
    for version in (first.version, orphan, second.version):
        set_champion(client, "leadscore", version)
    assert rollback_champion(config) == f"champion: v{second.version} -> v{first.version}"


def test_two_reviews_started_together_never_gate_against_the_same_champion(project):
    from training.registry import promote_version
    from training.review import run_review

    config, client = project["config"], project["client"]
    first = run_review(*WEEKLY[0], config)
    promote_version(first.version, config)
    processes = [_review_process(project, cycle, as_of) for cycle, as_of in WEEKLY[1:]]
    for process in processes:
        process.wait(timeout=600)
        assert process.returncode == 0, process.stderr.read()
    runs = sorted((_runs(client, cycle)[0] for cycle, _ in WEEKLY[1:]),
                  key=lambda r: r.info.start_time)
    # one after the other: the second started only once the first had finished
    assert runs[0].info.end_time <= runs[1].info.start_time
    assert runs[0].data.params["champion_version_before"] == str(first.version)
    champion_after_first = (runs[0].data.tags["model_version"]
                            if runs[0].data.tags["promoted"] == "true" else str(first.version))
    assert runs[1].data.params["champion_version_before"] == champion_after_first
    promoted = [r.data.params["champion_version_before"] for r in runs
                if r.data.tags["promoted"] == "true"]
    assert len(promoted) == len(set(promoted))


def test_a_second_review_that_cannot_get_the_lock_stops_with_one_sentence(project):
    from training.review import run_review

    config = project["config"]
    config["cycle"]["lock_wait_s"] = 1
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from training import cycle_guard; import yaml\n"
         "from leadscore.config import load_config\n"
         "config = load_config(sys.argv[1])\n"
         "with cycle_guard.review_lock(config):\n"
         "    print('held', flush=True); time.sleep(60)\n", str(project["file"])],
        env=project["env"], cwd=project["root"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LeadscoreError) as caught:
            run_review(*WEEKLY[0], config)
        message = str(caught.value)
        assert message.startswith(f"Another review (process {holder.pid}) is running")
        assert "\n" not in message and "cycle.lock_wait_s" in message
    finally:
        holder.kill()
        holder.wait()
    experiment = project["client"].get_experiment_by_name("leadscore")
    assert experiment is None or not project["client"].search_runs([experiment.experiment_id])
