"""The outcome-lag distribution, and a review that stops when the window cuts positives."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from features.ingest import ingest_paths
from features.outcome_lag import check_window, lag_distribution, review_lag
from generator import generate_export
from leadscore.errors import LeadscoreError
from training.review import run_review


def test_the_distribution_counts_positives_later_than_the_window():
    start = datetime(2024, 1, 1)
    lags = [1, 2, 3, 10, 20, 40, 50, 60, 90, 120]
    lag = lag_distribution([start] * 10, [start + timedelta(days=d) for d in lags], 30)
    assert lag.positives == 10 and lag.later == 5 and lag.share_later == 0.5
    assert lag.p50 == pytest.approx(30.0) and lag.p90 == pytest.approx(93.0)
    assert lag.proposed_window == 93
    with pytest.raises(LeadscoreError) as info:
        check_window(lag, accept=False)
    assert str(info.value).startswith("The 30-day maturity window would cut 50.0% of eventual "
                                      "positives (5 of 10 arrive later)")
    assert "labels.maturity_days to 93" in str(info.value)
    check_window(lag, accept=True)


def test_a_short_cycle_passes_and_no_positives_say_so():
    start = datetime(2024, 1, 1)
    lag = lag_distribution([start] * 20, [start + timedelta(days=d % 5) for d in range(20)], 30)
    check_window(lag, accept=False)
    assert lag.later == 0
    empty = lag_distribution([], [], 30)
    assert empty.positives == 0 and "no positive outcomes yet" in empty.line()
    check_window(empty, accept=False)


def test_outcomes_dated_by_the_mapping_are_no_measured_lag():
    # an export without outcome dates: each outcome is dated created_at + after_days (0 here)
    start = datetime(2024, 1, 1)
    created = [start + timedelta(hours=7 * i) for i in range(30)]
    lag = lag_distribution(created, created, 30)
    assert lag.constant and lag.line().startswith(
        "outcome lag: all 30 eventual positives come exactly 0 days after becoming scoreable, as "
        "outcomes dated by a mapping's after_days (not by the export) do")
    one_day = lag_distribution(created, [c + timedelta(days=1) for c in created], 30)
    assert "come exactly 1 day after becoming scoreable" in one_day.line()
    measured = lag_distribution(created, [c + timedelta(days=i % 3) for i, c in
                                          enumerate(created)], 30)
    assert not measured.constant and "p50" in measured.line()
    assert not lag_distribution([start], [start], 30).constant  # one positive shows no pattern


@pytest.fixture(scope="module")
def long_cycle_store(tmp_path_factory) -> Path:
    """Generated data whose outcomes and dispositions arrive 60 to 200 days later."""
    root = tmp_path_factory.mktemp("long-cycle")
    generate_export(1500, seed=5, out_dir=root / "export", progress=False)
    for name, column in (("outcomes", "occurred_at"), ("dispositions", "dispositioned_at")):
        path = root / "export" / f"{name}.csv"
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        shift = pd.to_timedelta(60 + (frame.index.to_series() * 7919) % 140, unit="D")
        frame[column] = (pd.to_datetime(frame[column]) + shift).dt.strftime("%Y-%m-%d %H:%M:%S")
        frame.to_csv(path, index=False)
    store = root / "long.duckdb"
    ingest_paths([root / "export"], store)
    return store


def test_a_review_on_a_long_sales_cycle_stops_with_the_lag_sentence(long_cycle_store,
                                                                    mlflow_config, tmp_path):
    config = {**mlflow_config, "store": str(long_cycle_store)}
    with pytest.raises(LeadscoreError) as info:
        run_review("2027-W30", "2027-07-30", config)
    message = str(info.value)
    assert message.startswith("The 30-day maturity window would cut ")
    assert "of eventual positives" in message and "--accept-window" in message
    assert message.count(". ") == 0 and message.endswith(".")
    assert not (tmp_path / "mlruns" / "mlflow.db").exists()  # stopped before MLflow


def test_accepting_the_window_lets_the_check_pass(long_cycle_store, mlflow_config):
    config = {**mlflow_config, "store": str(long_cycle_store)}
    config["labels"] = {**config["labels"], "accept_maturity_window": True}
    lag = review_lag(config, datetime(2027, 7, 30))
    assert lag.cuts_too_much and lag.share_later > 0.5
