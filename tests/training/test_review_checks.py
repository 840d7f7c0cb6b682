"""Review checks that need no review run: settings refused before anything is read or written,
and the notes comparing a review with the last one (``training.review.order_notes``)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from leadscore.errors import LeadscoreError


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
