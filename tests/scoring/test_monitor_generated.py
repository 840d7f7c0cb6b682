"""The monitor on generated data with planted changes after the review (generator ground truth),
and ``leadscore monitor``'s exit codes and ``--json`` document (docs/review-cycle.md)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cli.main import cli
from features.live_store import LIVE_URL_ENV, LiveStore
from generator.monitor_plants import plant_changes
from leadscore.errors import LeadscoreError
from scoring.monitor import CHECKS, SCHEMA
from scoring.monitor_data import run_monitor
from tests.scoring.monitor_world import END, REVIEW, build_world, generate_frames, scenario

NOW = pd.Timestamp(END).to_pydatetime()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_world(tmp_path_factory.mktemp("monitor-world"))


@pytest.fixture(scope="module")
def scenarios(world):
    return {"clean": scenario(world, "clean", sla_misses=12),
            "drop": scenario(world, "drop", conversion_drop=0.8),
            "drift": scenario(world, "drift", drift=["company_size_band", "free_email"])}


def _monitor(world, found):
    # the scenario's own score log (tests/conftest.py points LEADSCORE_LIVE_URL elsewhere)
    live = LiveStore(found.config["live"]["url"])
    try:
        return run_monitor(found.config, world.bundle.manifest, model_version=world.version,
                           now=NOW, live=live)
    finally:
        live.close()


def test_the_review_stores_the_training_profile_and_every_served_score_its_bins(world, scenarios):
    profile = world.bundle.manifest["training_profile"]
    assert [f["name"] for f in profile["features"]] == world.bundle.feature_names
    served = scenarios["clean"].served
    assert served["feature_bins"].str.len().eq(len(profile["features"])).all()


def test_a_planted_conversion_drop_after_the_review_is_flagged(world, scenarios):
    dropped = _monitor(world, scenarios["drop"])
    clean = _monitor(world, scenarios["clean"])
    assert scenarios["drop"].planted.dropped_conversions  # something was planted
    assert dropped.figures["conversion"]["status"] == "crossed"
    assert dropped.figures["conversion"]["ci_high"] < world.bundle.manifest["band"]["min"]
    assert "below the agreed band" in dropped.recommendation
    assert dropped.exit_code == 3
    # the false version: the same leads without the drop convert inside the band
    assert clean.figures["conversion"]["status"] == "ok"
    assert clean.figures["conversion"]["decided"] >= 30 <= dropped.figures["conversion"]["decided"]


def test_planted_input_drift_names_the_drifted_features(world, scenarios):
    drifted = _monitor(world, scenarios["drift"]).figures["drift"]
    planted = scenarios["drift"].planted.drifted_features
    assert drifted["status"] == "crossed"
    assert set(planted) <= set(drifted["drifted"])
    assert {m["feature"] for m in drifted["top_movers"][:2]} == set(planted)
    clean = _monitor(world, scenarios["clean"]).figures["drift"]
    assert clean["status"] == "ok" and not set(planted) & set(clean["drifted"])


def test_the_overdue_list_equals_the_planted_sla_misses(world, scenarios):
    found = scenarios["clean"]
    sla = _monitor(world, found).figures["sla"]
    mqls = set(found.served["lead_id"][found.served["is_mql"]])
    touch = sorted(set(found.planted.first_touch_misses) & mqls)
    disposition = sorted(set(found.planted.disposition_misses) & mqls)
    assert touch and disposition  # the planted misses include served MQLs
    assert sla["overdue"]["first_touch"] == touch
    assert sla["overdue"]["disposition"] == disposition
    assert not set(sla["overdue"]["first_touch"]) & set(sla["overdue"]["disposition"])


def test_planting_refuses_what_it_cannot_plant():
    export = generate_frames(200, 1, end=END)
    with pytest.raises(LeadscoreError, match="Cannot plant drift on title"):
        plant_changes(export, REVIEW, drift=["title"])


def _config_file(tmp_path, found, monkeypatch) -> str:
    config = found.config
    monkeypatch.setenv(LIVE_URL_ENV, config["live"]["url"])
    path = tmp_path / "monitor.yaml"
    path.write_text(yaml.safe_dump({"store": config["store"],
                                    "live": {"url": config["live"]["url"]},
                                    "mlflow": config["mlflow"]}))
    return str(path)


def test_exit_codes_and_the_json_document(world, scenarios, tmp_path, monkeypatch):
    monkeypatch.delenv("LEADSCORE_STORE", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", world.config["mlflow"]["tracking_uri"])
    runner = CliRunner()
    drop = _config_file(tmp_path, scenarios["drop"], monkeypatch)
    crossed = runner.invoke(cli, ["monitor", "--json", "--as-of", END, "--config", drop])
    assert crossed.exit_code == 3, crossed.output
    document = json.loads(crossed.output)
    assert document["schema"] == SCHEMA and document["exit_code"] == 3
    assert set(CHECKS) <= set(document) and "conversion" in document["crossed"]
    assert document["model_version"] == world.version and document["since"].startswith(REVIEW)
    for name in CHECKS:
        assert document[name]["status"] in ("ok", "crossed", "too_few", "no_data")
        assert isinstance(document[name]["why"], str)
    assert document["recommendation"].startswith("Review early")

    text = runner.invoke(cli, ["monitor", "--as-of", END, "--config", drop])
    assert text.exit_code == 3
    assert text.output.strip().splitlines()[-1] == document["recommendation"]

    ok = runner.invoke(cli, ["monitor", "--as-of", END,
                             "--config", _config_file(tmp_path, scenarios["clean"], monkeypatch)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip().endswith("No limit crossed: no early review needed.")

    bad = runner.invoke(cli, ["monitor", "--as-of", "soon",
                              "--config", _config_file(tmp_path, scenarios["clean"], monkeypatch)])
    assert bad.exit_code == 1 and "is not a date" in bad.output
    usage = runner.invoke(cli, ["monitor", "--jsn"])
    assert usage.exit_code == 2


def test_judged_weeks_after_the_export_ends_nothing_new_is_missed(world, scenarios):
    # the clean scenario judged at the export's end, then 40 days later with no newer export:
    # the verdicts still end where the export does, so the same MQLs are late and no more
    found = scenarios["clean"]
    live = LiveStore(found.config["live"]["url"])
    try:
        later = run_monitor(found.config, world.bundle.manifest, model_version=world.version,
                            now=NOW + pd.Timedelta(days=40), live=live)
    finally:
        live.close()
    at_end = _monitor(world, found)
    assert later.figures["sla"]["overdue"] == at_end.figures["sla"]["overdue"]
    assert later.figures["sla"]["first_touch_due"] == at_end.figures["sla"]["first_touch_due"]
    assert later.figures["conversion"]["decided"] == at_end.figures["conversion"]["decided"]
    assert "ended after the stores' verdicts do" in later.figures["sla"]["why"]
