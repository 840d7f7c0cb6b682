"""`leadscore backtest` on generated data with planted drift: retraining beats training once."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from mlflow.tracking import MlflowClient

from cli.main import cli
from leadscore.config import default_config
from leadscore.errors import LeadscoreError
from training.backtest import METRICS, MODELS, Backtest, parse_every, run_backtest


def test_every_reads_weeks_and_days_and_rejects_anything_else():
    assert parse_every("4w") == timedelta(weeks=4)
    assert parse_every(" 28D ") == timedelta(days=28)
    for bad in ("4", "0w", "four weeks", "-2w"):
        with pytest.raises(LeadscoreError, match="is not a period: give weeks or days"):
            parse_every(bad)


def test_backtest_without_a_store_is_one_sentence(tmp_path):
    result = CliRunner().invoke(cli, ["backtest", "--from", "2026-03-01", "--cycles", "2",
                                      "--store", str(tmp_path / "none.duckdb")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "none.duckdb" in result.output


def test_a_from_that_is_not_a_date_is_named_as_from(tmp_path):
    result = CliRunner().invoke(cli, ["backtest", "--from", "March 2026",
                                      "--store", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "--from 'March 2026' is not a date" in result.output
    assert "--as-of" not in result.output


def test_a_mean_covers_the_cycles_a_model_scored_and_says_how_many():
    rows = []
    for cycle in (1, 2, 3):
        for model in MODELS:
            figures = {k: 0.1 * cycle for k, _, _ in METRICS}
            if model == "champion" and cycle < 3:  # no champion before the third cycle
                figures = {k: np.nan for k in figures}
            if model == "retrained" and cycle == 2:  # a threshold that marked no lead
                figures["conversion_at_threshold"] = np.nan
            rows.append({"cycle": cycle, "as_of": f"2026-0{cycle}-01", "leads": 100,
                         "model": model, "in_band": "-", **figures})
    backtest = Backtest(pd.DataFrame(rows), {"min": 0.25, "max": 0.5})
    means = backtest.means
    assert means.loc["champion", "cycles"] == 1 and means.loc["trained_once", "cycles"] == 3
    assert means.loc["champion", "brier"] == pytest.approx(0.3)  # its one cycle, and says so
    assert means.loc["trained_once", "brier"] == pytest.approx(0.2)
    # a figure missing in a scored cycle is not averaged over the others
    assert math.isnan(means.loc["retrained", "conversion_at_threshold"])
    assert means.loc["retrained", "brier"] == pytest.approx(0.2)
    mean_rows = [line for line in str(backtest).splitlines() if line.strip().startswith("mean")]
    assert any("1 of 3 cycles" in line and "champion" in line for line in mean_rows)
    assert any("3 cycles" in line and "trained_once" in line for line in mean_rows)


@pytest.mark.slow
@pytest.mark.integration
def test_on_drifted_data_retraining_every_cycle_beats_training_once(tmp_path, monkeypatch):
    from features.ingest import ingest_paths
    from generator import generate_export

    generate_export(n_leads=8000, seed=11, out_dir=tmp_path / "export", fmt="csv",
                    progress=False, drift=True)
    store = tmp_path / "store.duckdb"
    ingest_paths([tmp_path / "export"], store=store, mapping=None)
    config = default_config()
    config["store"] = str(store)
    config["mlflow"]["tracking_uri"] = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config["mlflow"]["artifact_location"] = str(tmp_path / "artifacts")
    config["cycle"]["lightgbm"].update(n_estimators=40)
    config["cycle"]["bootstrap_rounds"] = 30
    monkeypatch.setenv("MLFLOW_TRACKING_URI", config["mlflow"]["tracking_uri"])

    backtest = run_backtest(config, "2026-03-01", timedelta(weeks=8), 3)
    assert len(backtest.rows) == 3 * len(MODELS)
    assert (backtest.rows["leads"] > 100).all()
    # the planted base rate rises: the model trained once falls behind in Brier score
    assert backtest.mean("retrained", "brier") < backtest.mean("trained_once", "brier")
    # the first cycle's deployed model is both the once-trained and the retrained one
    first = backtest.rows[backtest.rows["cycle"] == 1].set_index("model")
    assert first.loc["trained_once", "brier"] == first.loc["retrained", "brier"]
    text = str(backtest)
    assert "Retraining every cycle is better than training once in mean Brier score" in text
    assert "cycles after the first" in text

    run = MlflowClient(config["mlflow"]["tracking_uri"]).get_run(backtest.run_id)
    assert run.data.tags["kind"] == "backtest"
    assert run.data.metrics["mean.retrained.brier"] == pytest.approx(
        backtest.mean("retrained", "brier"))
    history = MlflowClient(config["mlflow"]["tracking_uri"]).get_metric_history(
        backtest.run_id, "trained_once.roc_auc")
    assert sorted(m.step for m in history) == [1, 2, 3]


def test_no_verdict_on_retraining_when_no_cycle_after_the_first_was_scored():
    # the later cycles had no leads to score: the two models are one model in the first cycle
    rows = []
    for cycle in (1, 2, 3):
        for model in MODELS:
            figures = {k: (0.12 if cycle == 1 else np.nan) for k, _, _ in METRICS}
            rows.append({"cycle": cycle, "as_of": f"2026-0{cycle}-01",
                         "leads": 280 if cycle == 1 else 0, "model": model, "in_band": "-",
                         **figures})
    text = str(Backtest(pd.DataFrame(rows), {"min": 0.25, "max": 0.5}))
    assert "is not better than" not in text and "is better than" not in text
    assert "No cycle after the first had leads to score" in text


def _two_cycles(once_brier: float, retrained_brier: float) -> Backtest:
    rows = []
    for cycle in (1, 2):
        for model in MODELS:
            figures = {k: 0.2 for k, _, _ in METRICS}
            figures["mqls_per_week"] = 0.4
            if cycle == 2:
                figures["brier"] = {"trained_once": once_brier}.get(model, retrained_brier)
            rows.append({"cycle": cycle, "as_of": f"2026-0{cycle}-01", "leads": 100,
                         "model": model, "in_band": "-", **figures})
    return Backtest(pd.DataFrame(rows), {"min": 0.25, "max": 0.5})


def test_the_retraining_verdict_says_worse_when_it_was_worse():
    text = str(_two_cycles(once_brier=0.15, retrained_brier=0.17))
    assert "Retraining every cycle is worse than training once in mean Brier score" in text
    assert "lower in 0 of the 1 cycle after the first" in text
    assert "is no better than" in str(_two_cycles(once_brier=0.15, retrained_brier=0.15))
    # a few MQLs a week keep their decimal
    assert " 0.4 " in text and " 0 │" not in text


def test_the_retraining_verdict_needs_its_interval_to_exclude_zero():
    from training.backtest import brier_gap_interval, retraining_sentence

    rng = np.random.default_rng(4)
    y = (rng.random(2000) < 0.3).astype(float)
    noise = rng.normal(0, 0.02, 2000)
    good = np.clip(0.3 + 0.4 * (y - 0.3) + noise, 0.01, 0.99)  # ranks and reads well
    # two models that differ only by noise: the gap's interval straddles 0
    twin = np.clip(good + rng.normal(0, 0.02, 2000), 0.01, 0.99)
    gap = brier_gap_interval([(good, twin, y)], rounds=300, seed=0)
    assert gap[1] < 0 < gap[2]
    text = retraining_sentence(0.2001, 0.2000, 1, 1, gap)
    assert text.startswith("Retraining every cycle and training once do not differ in mean "
                           "Brier score beyond noise")
    assert "better" not in text and "worse" not in text
    # a retrained model that tracks a moved base rate beats a stale one beyond noise
    stale = np.clip(good - 0.15, 0.01, 0.99)
    gap = brier_gap_interval([(stale, good, y)], rounds=300, seed=0)
    assert gap[2] < 0
    assert retraining_sentence(0.15, 0.18, 1, 1, gap).startswith(
        "Retraining every cycle is better than training once in mean Brier score, beyond noise")
    gap = brier_gap_interval([(good, stale, y)], rounds=300, seed=0)
    assert gap[1] > 0
    assert "is worse than training once in mean Brier score, beyond noise" in \
        retraining_sentence(0.18, 0.15, 0, 1, gap)
    # the point estimate is the gap in mean Brier score the table shows
    assert gap[0] == pytest.approx(np.mean((stale - y) ** 2) - np.mean((good - y) ** 2))
    assert brier_gap_interval([(good, stale, y)], rounds=0, seed=0) is None


def test_a_small_brier_gap_on_rare_conversions_is_printed_as_measured():
    from training.backtest import retraining_sentence

    # a 1 % base rate: Brier scores near 0.009, a gap of 0.00004 beyond noise
    text = retraining_sentence(0.00889, 0.00885, 0, 2, (0.00004, 0.000012, 0.00007))
    assert not re.search(r"\+0\.0000\b", text) and "0.0089 vs 0.0088" not in text
    assert "0.00889 vs 0.00885 (retrained minus once +0.00004, 95% bootstrap interval " \
           "+0.00001 to +0.00007)" in text
    # figures that four decimals show keep four
    assert "0.1500 vs 0.1800" in retraining_sentence(0.15, 0.18, 1, 1, (-0.03, -0.04, -0.02))


def test_a_period_with_one_outcome_says_why_its_ranking_figures_are_missing():
    from training.backtest_verdicts import one_outcome_sentence

    assert one_outcome_sentence([(1, 500, 80), (2, 480, 70)], "booked meeting") is None
    text = one_outcome_sentence([(1, 500, 80), (3, 103, 0)], "booked meeting")
    assert text == ("The period after cycle 3 (103 leads) holds no booked meeting: ROC-AUC and "
                    "PR-AUC need both outcomes, so they are not measured there, and their means "
                    "over the cycles are left out.")
    text = one_outcome_sentence([(2, 90, 0), (3, 60, 0), (4, 40, 40)], "won deal")
    assert text.startswith("The periods after cycles 2 and 3 (90, 60 leads) hold no won deal; "
                           "the period after cycle 4 (40 leads) holds only won deals: ")


def test_one_cycle_asks_for_a_second_not_for_fewer():
    rows = [{"cycle": 1, "as_of": "2026-01-01", "leads": 280, "model": model, "in_band": "-",
             **{k: 0.12 for k, _, _ in METRICS}} for model in MODELS]
    text = str(Backtest(pd.DataFrame(rows), {"min": 0.25, "max": 0.5}))
    assert "fewer cycles" not in text and "No cycle after the first" not in text
    assert "give --cycles 2 or more to compare them." in text
    assert "1 cycles" not in text and " 1 cycle " in text


def test_a_period_too_small_to_score_says_why_its_rows_are_blank():
    # weeks without leads: the period after cycle 1 held 13 leads, its three rows showed only
    # dashes, and nothing said why
    from training.backtest_verdicts import thin_period_sentence

    assert thin_period_sentence([(1, 20), (2, 480)], 20) is None
    assert thin_period_sentence([(1, 13), (2, 225), (3, 110)], 20) == (
        "The period after cycle 1 (13 leads) is not scored: a period needs 20 leads or more, so "
        "its rows are blank.")
    assert thin_period_sentence([(1, 0), (3, 1)], 20) == (
        "The periods after cycles 1 and 3 (0, 1 lead) are not scored: a period needs 20 leads or "
        "more, so their rows are blank.")


def test_a_backtest_whose_reviews_never_passed_their_gates_says_why_the_champion_is_blank():
    # 2 % of leads converting: no replayed review passed every gate, the champion's rows were
    # dashes in every cycle ("0 of 3 cycles") and nothing said that no model would have served
    rows = [{"cycle": c, "as_of": f"2026-0{c}-01", "leads": 450, "model": model, "in_band": "-",
             "gates_passed": False,
             **{k: (np.nan if model == "champion" else 0.1) for k, _, _ in METRICS}}
            for c in (1, 2, 3) for model in MODELS]
    text = str(Backtest(pd.DataFrame(rows), {"min": 0.25, "max": 0.5}))
    assert ("No replayed review passed every gate, so the gates would have promoted no model: "
            "the champion's rows are blank.") in text
    rows[-1]["gates_passed"] = True
    assert "passed every gate" not in str(Backtest(pd.DataFrame(rows), {"min": 0.25, "max": 0.5}))


def test_a_later_from_is_not_advised_when_the_store_holds_no_later_lead(tmp_path, monkeypatch):
    # every lead created in one week of March, all matured by the backtest's first date: the
    # error advised "a later --from gives the first cycle more matured history", which it cannot
    from features.ingest import ingest_paths
    from generator import generate_frames

    export = generate_frames(400, seed=3, start="2026-03-02", end="2026-03-09")
    (tmp_path / "export").mkdir()
    for name in ("leads", "activities", "dispositions", "outcomes"):
        getattr(export, name).to_csv(tmp_path / "export" / f"{name}.csv", index=False)
    store = tmp_path / "store.duckdb"
    ingest_paths([tmp_path / "export"], store=store, mapping=None)
    config = default_config()
    config["store"] = str(store)
    config["mlflow"]["tracking_uri"] = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", config["mlflow"]["tracking_uri"])
    with pytest.raises(LeadscoreError) as info:
        run_backtest(config, "2026-07-01", timedelta(weeks=4), 2)
    # every period after July is empty: said before any review is replayed, with the fix
    assert str(info.value) == (
        "--from 2026-07-01 is after the store's last lead (created 2026-03-08), so no period "
        "after a replayed review has a lead to score: give an earlier --from.")
    assert "a later --from" not in str(info.value)
    assert not (tmp_path / "mlflow.db").exists()
    # a first date before the history ends keeps the advice: later leads are there to mature
    with pytest.raises(LeadscoreError, match="a later --from gives the first cycle more"):
        run_backtest(config, "2026-03-05", timedelta(weeks=4), 2)
