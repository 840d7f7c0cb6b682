"""`leadscore rescore` on a real DuckDB store and a real MLflow SQLite registry.

The store holds a small generated export; the registry two versions (a tiny LightGBM bundle, then
a tiny logistic one), v1 promoted, then v2. Every test gets its own live store (score log).
The changed list is checked against a direct comparison: the open leads, found here from the
export files with the label policy, scored by both versions through MLflow's pyfunc.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cli.main import cli
from features.label_policy import load_policy
from features.live_store import LiveStore
from features.store import connect
from leadscore.config import default_config
from leadscore.errors import LeadscoreError
from tests.training.made_up import train_tiny_bundle
from training import rescore as rescore_module
from training.registry import promote_version
from training.rescore import rescore
from training.rescore_changes import CHANGED_COLUMNS, RescoreResult, compare, rescore_command
from training.tournament import ModelChoice

pytestmark = pytest.mark.integration

AS_OF = "2026-11-01"
MATURITY = 30


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A generated store, and a registry with v1 then v2 promoted (v1 is the previous champion)."""
    from features.ingest import ingest_paths
    from generator import generate_export
    from scoring.pyfunc import LeadScorePyfunc
    from training.tracking import setup_tracking

    root = tmp_path_factory.mktemp("rescore")
    export = root / "export"
    generate_export(n_leads=2500, seed=5, out_dir=export, fmt="parquet", progress=False)
    config = default_config()
    config["store"] = str(root / "leadscore.duckdb")
    config["mlflow"]["tracking_uri"] = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    ingest_paths([export], store=Path(config["store"]), mapping=None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", config["mlflow"]["tracking_uri"])
        mlflow.set_tracking_uri(config["mlflow"]["tracking_uri"])
        experiment = setup_tracking(config)
        for i, bundle in enumerate((train_tiny_bundle(), train_tiny_bundle(ModelChoice(
                family="logistic", C=0.5, bins=5))), start=1):
            # logged and registered as the review does: the pyfunc with the bundle inside
            with mlflow.start_run(experiment_id=experiment, run_name=f"tiny {i}"):
                mlflow.pyfunc.log_model(
                    name="model", python_model=LeadScorePyfunc(),
                    artifacts={"bundle": str(bundle.save(root / "models" / f"v{i}"))},
                    registered_model_name="leadscore")
        promote_version(1, config)
        promote_version(2, config)
    return {"root": root, "export": export, "config": config}


@pytest.fixture
def config(world, tmp_path, monkeypatch):
    """The world's config with a live store (score log) of this test's own."""
    live = f"sqlite:///{tmp_path / 'live.db'}"
    monkeypatch.setenv("LEADSCORE_LIVE_URL", live)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", world["config"]["mlflow"]["tracking_uri"])
    mlflow.set_tracking_uri(world["config"]["mlflow"]["tracking_uri"])
    return dict(world["config"], live={**world["config"]["live"], "url": live})


# ---- the direct comparison ------------------------------------------------------------------
def _open_leads(export: Path, as_of: datetime) -> pd.DataFrame:
    """Open leads computed here from the export files: created by ``as_of``, inside the window,
    no positive event, and no definite or excluded verdict among the latest ones."""
    policy = load_policy()
    leads = pd.read_parquet(export / "leads.parquet")
    dispositions = pd.read_parquet(export / "dispositions.parquet")
    outcomes = pd.read_parquet(export / "outcomes.parquet")
    reason = dispositions["reason_code"].where(dispositions["reason_code"].notna(), None)
    family = [policy.reason_codes[r.strip()] if isinstance(r, str) and r.strip() else
              policy.statuses[s.strip()] for r, s in zip(reason, dispositions["status"],
                                                         strict=True)]
    events = pd.concat([
        pd.DataFrame({"lead_id": dispositions["lead_id"], "at": dispositions["dispositioned_at"],
                      "family": family}),
        pd.DataFrame({"lead_id": outcomes["lead_id"], "at": outcomes["occurred_at"],
                      "family": outcomes["stage"].str.strip().map(policy.outcome_stages)}),
    ])
    events = events[pd.to_datetime(events["at"]) <= as_of]
    positive = set(events.loc[events["family"] == "positive", "lead_id"])
    others = events[events["family"] != "positive"]
    latest = others[pd.to_datetime(others["at"]) == others.groupby("lead_id")["at"]
                    .transform("max").pipe(pd.to_datetime)]
    definite = set(latest.loc[latest["family"] != "open", "lead_id"])
    created = pd.to_datetime(leads["created_at"])
    mql = pd.to_datetime(leads["mql_at"])
    scoreable = mql.where(mql.notna() & (mql <= as_of), created)
    keep = ((created <= as_of) & (scoreable + timedelta(days=MATURITY) > as_of)
            & ~leads["lead_id"].isin(positive | definite))
    return leads[keep].sort_values("lead_id").reset_index(drop=True)


def _pyfunc_rows(export: Path, leads: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    activities = pd.read_parquet(export / "activities.parquet")
    activities = activities[activities["lead_id"].isin(leads["lead_id"])]
    by_lead = {lead: json.dumps([{"activity_type": t, "occurred_at": pd.Timestamp(o).isoformat()}
                                 for t, o in zip(g["activity_type"], g["occurred_at"],
                                                 strict=True)])
               for lead, g in activities.groupby("lead_id")}
    fields = [c for c in ("lead_id", "source", "title", "company_size", "industry", "country",
                          "email", "email_domain") if c in leads.columns]
    rows = leads[fields].assign(activities=leads["lead_id"].map(by_lead),
                                          as_of=as_of.isoformat())
    return rows.astype(object).where(rows.notna(), None)


def test_the_changed_list_equals_a_direct_comparison_of_the_two_models(world, config, tmp_path):
    as_of = datetime.fromisoformat(AS_OF)
    open_leads = _open_leads(world["export"], as_of)
    assert 50 < len(open_leads) < 1000  # the export is a year; the open ones are its last month
    rows = _pyfunc_rows(world["export"], open_leads, as_of)
    old = mlflow.pyfunc.load_model("models:/leadscore/1").predict(rows)
    new = mlflow.pyfunc.load_model("models:/leadscore/2").predict(rows)
    differs = (old["is_mql"] != new["is_mql"]) | (old["grade"] != new["grade"])
    assert differs.sum() > 5 and (old["is_mql"] != new["is_mql"]).sum() > 0  # a real difference

    out = tmp_path / "changed.csv"
    result = rescore(config, as_of=AS_OF, out=out, workers=2, chunk=40)

    changed = pd.read_csv(out, dtype={"lead_id": str, "old_model_version": str,
                                      "new_model_version": str})
    expected = open_leads["lead_id"][differs]
    assert result.open_leads == len(open_leads)
    assert list(changed["lead_id"]) == list(expected)
    at = differs[differs].index
    np.testing.assert_allclose(changed["old_score"], old.loc[at, "score"], rtol=1e-9)
    np.testing.assert_allclose(changed["new_score"], new.loc[at, "score"], rtol=1e-9)
    assert list(changed["old_grade"]) == list(old.loc[at, "grade"])
    assert list(changed["new_grade"]) == list(new.loc[at, "grade"])
    assert list(changed["old_is_mql"]) == list(old.loc[at, "is_mql"])
    assert list(changed["new_is_mql"]) == list(new.loc[at, "is_mql"])
    flag = (old["is_mql"] != new["is_mql"])
    assert result.flag_changed == flag.sum()
    assert result.became_mql == (flag & new["is_mql"]).sum()
    assert result.grade_changed == (old["grade"] != new["grade"]).sum()
    assert set(changed["old_source"]) == {"previous_champion"}
    assert set(changed["old_model_version"]) == {"1"} and set(changed["new_model_version"]) == {"2"}
    assert all(len(json.loads(r)) >= 1 for r in changed["reasons"])
    assert list(changed.columns) == CHANGED_COLUMNS
    assert not changed.astype(str).apply(lambda c: c.str.contains("@")).any().any()
    text = str(result)
    assert text.startswith(f"Rescored {len(open_leads):,} open leads with model v2 as of "
                           "2026-11-01 00:00 UTC: ")
    assert f"{flag.sum():,} changed MQL flag" in text and str(out) in text
    # the summary names the score log it wrote to (a rescore run outside the project folder
    # logged into a new data/live.db there, and said only "added to the score log")
    log = Path(config["live"]["url"].removeprefix("sqlite:///")).absolute()
    assert f"{len(open_leads):,} new scores added to the score log at {log}." in text

    # every new score is in the score log; so a second rescore finds nothing changed
    logged = LiveStore(config["live"]["url"]).scores()
    assert len(logged) == len(open_leads) and set(logged["source"]) == {"rescore"}
    np.testing.assert_allclose(logged.sort_values("lead_id")["score"], new["score"], rtol=1e-9)
    again = rescore(config, as_of=AS_OF, out=tmp_path / "again.parquet", workers=1)
    assert again.listed == 0 and again.old_from == {"score_log": len(open_leads),
                                                    "previous_champion": 0, "none": 0}
    assert pd.read_parquet(tmp_path / "again.parquet").empty


def test_the_old_score_is_the_latest_logged_one_when_there_is_one(config, tmp_path):
    first = rescore(config, as_of=AS_OF, out=tmp_path / "first.csv", workers=1)
    scores = LiveStore(config["live"]["url"]).scores()
    lead = scores.iloc[0]
    # the CRM was later sent another score for this lead (a made-up one, from "v9")
    LiveStore(config["live"]["url"]).log_scores([{
        "lead_id": lead["lead_id"], "scored_at": datetime(2026, 11, 2), "model_version": "9",
        "score": 0.001, "grade": "D4", "is_mql": not lead["is_mql"], "reasons": [],
        "source": "api"}])

    second = rescore(config, as_of=AS_OF, out=tmp_path / "second.csv", workers=1)

    changed = pd.read_csv(tmp_path / "second.csv", dtype={"lead_id": str,
                                                            "old_model_version": str})
    assert first.open_leads == second.open_leads
    assert list(changed["lead_id"]) == [lead["lead_id"]]
    row = changed.iloc[0]
    assert (row["old_score"], row["old_grade"], row["old_model_version"], row["old_source"]) == (
        0.001, "D4", "9", "score_log")
    assert row["new_grade"] == lead["grade"] and bool(row["flag_changed"])
    assert second.flag_changed == 1 and second.old_from["score_log"] == second.open_leads


def test_a_verdict_posted_to_the_api_closes_its_lead(world, config, tmp_path):
    store = tmp_path / "copy.duckdb"
    shutil.copy(world["config"]["store"], store)
    config = dict(config, store=str(store))
    before = rescore(config, as_of=AS_OF, out=tmp_path / "a.csv", workers=1)
    lead = LiveStore(config["live"]["url"]).scores().iloc[0]["lead_id"]
    LiveStore(config["live"]["url"]).write(dispositions=[{
        "lead_id": lead, "dispositioned_at": datetime(2026, 10, 30), "status": "rejected",
        "reason_code": "wrong_title"}])

    after = rescore(config, as_of=AS_OF, out=tmp_path / "b.csv", workers=1)

    assert after.open_leads == before.open_leads - 1
    assert "Live store merged: 0 leads, 0 activities, 1 disposition, 0 outcomes." in str(after)


# ---- nothing half-written, and one sentence per user error --------------------------------------
def test_a_failure_while_logging_leaves_no_file_and_no_score(config, tmp_path, monkeypatch):
    real = rescore_module.log_rows
    calls = []

    def fails_on_the_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk gone")
        return real(*args, **kwargs)

    monkeypatch.setattr(rescore_module, "log_rows", fails_on_the_second_batch)
    out = tmp_path / "out" / "changed.csv"
    with pytest.raises(RuntimeError, match="disk gone"):
        rescore(config, as_of=AS_OF, out=out, workers=1, chunk=30)
    assert len(calls) == 2
    assert list(out.parent.iterdir()) == []
    assert LiveStore(config["live"]["url"]).scores().empty


def test_the_score_log_keeps_every_batch_or_none(tmp_path):
    store = LiveStore(f"sqlite:///{tmp_path / 'live.db'}")
    row = {"lead_id": "L1", "scored_at": datetime(2026, 11, 1), "model_version": "2",
           "score": 0.5, "grade": "A1", "is_mql": True, "reasons": [{"label": "x"}],
           "source": "rescore"}

    def refuse() -> None:
        raise OSError("no room for the file")

    with pytest.raises(OSError, match="no room"):
        store.log_scores_atomically([[row], [dict(row, lead_id="L2")]], refuse)
    assert store.scores().empty
    assert store.log_scores_atomically([[row], [dict(row, lead_id="L2")]]) == 2
    kept = store.scores()
    assert list(kept["lead_id"]) == ["L1", "L2"] and kept["reasons"][0] == [{"label": "x"}]
    assert store.log_scores([dict(row, lead_id="L3")]) == 1  # the store is usable afterwards


def test_no_store_an_empty_store_and_a_bad_out_are_one_sentence(config, tmp_path):
    with pytest.raises(LeadscoreError, match=r"^No store at .*missing.duckdb: ingest an export"):
        rescore(dict(config, store=str(tmp_path / "missing.duckdb")))
    empty = tmp_path / "empty.duckdb"
    with connect(empty):
        pass  # the schema, no leads
    with pytest.raises(LeadscoreError, match=r"^The store .*empty.duckdb holds no leads: ingest"):
        rescore(dict(config, store=str(empty)))
    with pytest.raises(LeadscoreError, match=r"^--out .*changed.json must end in .csv or"):
        rescore(config, out=tmp_path / "changed.json")
    with pytest.raises(LeadscoreError, match=r"^--as-of 'soon' is not a date"):
        rescore(config, as_of="soon")
    assert not (tmp_path / "rescores").exists()


def test_no_champion_is_one_sentence(world, config, tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    empty = dict(config, mlflow={**config["mlflow"], "tracking_uri": uri})
    with pytest.raises(LeadscoreError, match=r"^No champion model yet: run `leadscore review`"):
        rescore(empty, as_of=AS_OF)


def test_no_open_lead_writes_an_empty_list_and_says_why(config, tmp_path):
    from features.store import connect

    # the generated export ends on 2026-10-31: a window closing after that is still open as far
    # as the store knows, however late the rescore runs
    late = rescore(config, as_of="2027-06-01", out=tmp_path / "late.csv", workers=1)
    assert late.open_leads > 0
    # declared final (taken on 2027-05-01), every lead created by then is decided
    with connect(config["store"]) as con:
        con.execute("INSERT INTO store_metadata VALUES ('exported_at', '2027-05-01')")
    try:
        result = rescore(config, as_of="2027-06-01", out=tmp_path / "none.csv", workers=1)
    finally:
        with connect(config["store"]) as con:
            con.execute("DELETE FROM store_metadata")
    assert result.open_leads == 0 and pd.read_csv(tmp_path / "none.csv").empty
    assert str(result).startswith("No lead is open as of 2027-06-01 00:00 UTC (the newest lead "
                                  "was created 2026-10-31; every lead created by then has a "
                                  "verdict or is past its 30-day maturity window)")


# ---- the command line -----------------------------------------------------------------------
def test_the_command_rescores_and_promote_prints_it(world, config, tmp_path):
    runner = CliRunner()
    store = world["config"]["store"]
    out = tmp_path / "changed.parquet"
    done = runner.invoke(cli, ["rescore", "--store", store, "--as-of", AS_OF, "--out", str(out),
                               "--workers", "1"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("Rescored ") and f"listed in {out}." in done.output
    assert len(done.output.strip().splitlines()) == 2
    assert set(pd.read_parquet(out).columns) == set(CHANGED_COLUMNS)

    missing = runner.invoke(cli, ["rescore", "--store", str(tmp_path / "nope.duckdb")])
    assert missing.exit_code == 1
    assert missing.output.startswith("error: No store at ") and "Traceback" not in missing.output

    again = runner.invoke(cli, ["promote", "2"])
    assert again.exit_code == 0 and "leadscore rescore" not in again.output  # nothing moved
    back = runner.invoke(cli, ["promote", "1"])
    try:
        assert back.exit_code == 0, back.output
        assert back.output.splitlines()[-1].endswith(": leadscore rescore")
    finally:
        promote_version(2, world["config"])


# ---- the comparison on its own ----------------------------------------------------------------
def test_compare_lists_flag_and_grade_changes_and_leads_without_an_old_score():
    new = pd.DataFrame({
        "lead_id": ["a", "b", "c", "d"], "score": [0.5, 0.2, 0.3, 0.9],
        "fit_score": [0.4] * 4, "intent_score": [0.3] * 4, "grade": ["A1", "B2", "C3", "A1"],
        "is_mql": [True, False, False, True],
        "reasons": [json.dumps([{"label": f"r{i}", "group": "fit", "impact": 1.0}])
                    for i in range(4)],
        "model_version": "2"})
    old = pd.DataFrame({
        "lead_id": ["a", "b", "c"], "old_score": [0.1, 0.2, 0.3], "old_grade": ["A1", "B2", "C2"],
        "old_is_mql": [False, False, False], "old_model_version": ["1", "1", "1"],
        "old_scored_at": [pd.NaT] * 3, "old_source": ["score_log", "score_log",
                                                      "previous_champion"]}).set_index("lead_id")

    out = compare(new, old)

    assert list(out["lead_id"]) == ["a", "c", "d"]  # b: same flag, same grade
    assert list(out["flag_changed"]) == [True, False, True]
    assert list(out["grade_changed"]) == [False, True, True]
    assert list(out["old_source"]) == ["score_log", "previous_champion", "none"]
    assert out["old_score"].isna().tolist() == [False, False, True]
    assert list(out["top_reasons"]) == ["r0", "r2", "r3"]


def test_the_printed_command_carries_the_reviews_options():
    assert rescore_command() == "leadscore rescore"
    assert rescore_command(as_of="2026-11-01", store="s.duckdb",
                                          config_path="my.yaml") == (
        "leadscore rescore --as-of 2026-11-01 --store s.duckdb --config my.yaml")


def test_the_first_champion_s_summary_counts_the_mqls_a_crm_gets_for_the_first_time():
    # the first promotion: no lead had a score, so none "changed flag", yet 106 are MQLs now
    result = RescoreResult(as_of=datetime(2009, 5, 4), version="2", open_leads=1058,
                           listed=1058, first_mql=106, old_from={"none": 1058},
                           out=Path("changed.csv"), logged=1058)
    text = str(result)
    # "0 changed MQL flag (0 became MQL, 0 no longer MQL) ...; 1,058 listed" read as a contradiction
    assert "changed MQL flag" not in text
    assert ("Rescored 1,058 open leads with model v2 as of 2009-05-04 00:00 UTC: none had an old "
            "score to compare with (no logged score, no earlier champion), so every one is a "
            "first score, 106 of them MQLs; 1,058 listed in changed.csv.") in text
    # some leads with an old score, some without: the changes are counted over the first kind
    some = RescoreResult(as_of=datetime(2009, 5, 4), version="2", open_leads=10, listed=6,
                         flag_changed=2, became_mql=2, first_mql=1,
                         old_from={"none": 4, "score_log": 6}, out=Path("changed.csv"))
    assert ("v2 as of 2009-05-04 00:00 UTC: of the 6 with an old score, 2 changed MQL flag"
            in str(some))
    assert ("1,058 had none (no logged score, no earlier champion): listed with empty old "
            "columns, 106 of them MQLs now.") in text


def test_a_previous_version_that_is_not_there_is_one_sentence_before_any_work(config, tmp_path):
    # --previous 99 read the live store, wrote the open leads and logged nothing, then stopped
    # with "Cannot load the model models:/leadscore/99 (Model Version (name=leadscore,
    # version=99) not found): check the URI, e.g. models:/leadscore@champion" (no URI was given)
    out = tmp_path / "changed.csv"
    with pytest.raises(LeadscoreError, match=r"^--previous 99: model 'leadscore' has no version "
                                             r"99; choose one of v1, v2\.$"):
        rescore(config, as_of=AS_OF, out=out, previous=99)
    # the champion itself gives no old score: every lead would read unchanged
    with pytest.raises(LeadscoreError, match=r"^--previous 2 is the champion itself"):
        rescore(config, as_of=AS_OF, out=out, previous=2)
    assert not out.exists()
