"""The labels a backtest scores each period against are the review's, as the store knows them now.

Tiny stores written inline: a period's lead whose window passed with no verdict, and which a
verdict recorded later excludes, is dropped as the review drops it (scoring it as a negative made
Maven CRM's still-open deals, findable by their blank account, look like a signal); a lead whose
window ends after the store's horizon is left out, as the review leaves it unlabelled, and counted
so the table can say so; a declared export date makes it a negative again, in both.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from features.horizon import store_horizon
from features.labels import build_labels, load_policy
from features.store import connect
from leadscore.config import default_config
from leadscore.errors import LeadscoreError
from training.backtest import Backtest, chance_sentence, mean_roc_interval
from training.backtest_labels import later_dropped, read_outcomes

T0 = datetime(2024, 1, 3, 15, 0)
MATURITY = 30
POLICY = load_policy()


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def _config(store) -> dict:
    config = default_config()
    config["store"] = str(store)
    config["labels"]["maturity_days"] = MATURITY
    return config


def _insert(con, leads, dispositions) -> None:
    for lead_id, created_at in leads:
        con.execute("INSERT INTO leads (lead_id, created_at, source) VALUES (?, ?, 'web')",
                    [lead_id, created_at])
    for lead_id, at, status, reason in dispositions:
        con.execute("INSERT INTO dispositions (lead_id, dispositioned_at, status, reason_code) "
                    "VALUES (?, ?, ?, ?)", [lead_id, at, status, reason])


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "store.duckdb"
    with connect(path) as con:
        _insert(
            con,
            leads=[("won", day(0)), ("lost", day(1)), ("stale", day(2)), ("late", day(60))],
            dispositions=[
                ("won", day(10), "converted", None),
                ("lost", day(5), "rejected", "not_interested"),
                # open past its window with no verdict, then exported as still open (excluded)
                ("stale", day(200), "working", "still_open"),
            ],
        )
    return path


def test_a_verdict_recorded_after_the_period_drops_the_lead_as_the_review_does(store):
    config = _config(store)
    with connect(store, read_only=True) as con:
        # a 7-day period from day 0: its windows close on day 37, the store's last record is 200
        outcomes = read_outcomes(con, config, POLICY, day(37))
        review = build_labels(con, store_horizon(con).at, POLICY, MATURITY)
    assert outcomes.horizon.at == outcomes.as_of == day(200)
    period = outcomes.period(day(0), day(7))
    # before, the labels were read as of day 37: "stale" had no verdict then and was scored as
    # a negative, though the review drops it
    assert dict(zip(period["lead_id"], period["label"], strict=True)) == {"won": 1, "lost": 0}
    assert outcomes.past_horizon(day(0), day(7)) == (0, 0)
    # the same leads and labels a review on the store's last day learns from
    matured = review[review["matured"]]
    assert dict(zip(matured["lead_id"], matured["label"], strict=True)) == {
        "won": 1, "lost": 0, "late": 0}


def test_a_window_ending_after_the_store_s_evidence_is_left_out_as_the_review_leaves_it(tmp_path):
    path = tmp_path / "store.duckdb"
    with connect(path) as con:
        _insert(con, leads=[("won", day(0)), ("quiet", day(10)), ("early", day(12)),
                            ("last", day(35))],
                dispositions=[("won", day(5), "converted", None),
                              ("early", day(13), "rejected", "no_budget")])
    with connect(path, read_only=True) as con:
        outcomes = read_outcomes(con, _config(path), POLICY, day(47))
        review = build_labels(con, day(47), POLICY, MATURITY)
    # the store ends on day 35; "quiet"'s window runs to day 40 with no verdict: before, the
    # backtest scored it as no conversion; now it is unknown, in the backtest as in the review,
    # and "early" (rejected, window to day 42) waits with its unmatured cohort, as in training
    period = outcomes.period(day(0), day(17))
    assert outcomes.as_of == day(47) and outcomes.horizon.at == day(35)
    assert dict(zip(period["lead_id"], period["label"], strict=True)) == {"won": 1}
    assert outcomes.past_horizon(day(0), day(17)) == (2, 1)  # "early" decided, "quiet" open
    assert "quiet" not in set(review["lead_id"])
    # the export declared taken on day 50: its outcomes are final, so "quiet" is a negative
    with connect(path) as con:
        con.execute("INSERT INTO store_metadata VALUES ('exported_at', ?)",
                    [day(50).date().isoformat()])
    with connect(path, read_only=True) as con:
        outcomes = read_outcomes(con, _config(path), POLICY, day(47))
        review = build_labels(con, day(47), POLICY, MATURITY)
    period = outcomes.period(day(0), day(17))
    assert dict(zip(period["lead_id"], period["label"], strict=True)) == {
        "won": 1, "quiet": 0, "early": 0}
    assert outcomes.past_horizon(day(0), day(17)) == (0, 0)
    assert review.set_index("lead_id").loc["quiet", "cause"] == "no_conversion"


def test_a_review_s_validation_leads_dropped_later_are_counted(store):
    with connect(store, read_only=True) as con:
        outcomes = read_outcomes(con, _config(store), POLICY, day(37))
    valid = pd.DataFrame({"lead_id": ["won", "lost", "stale"], "label": [1, 0, 0]})
    assert later_dropped(valid, outcomes) == (1, 1)


def test_an_empty_store_has_no_horizon_and_says_so_in_one_sentence(tmp_path):
    with connect(tmp_path / "store.duckdb") as con, \
            pytest.raises(LeadscoreError, match=r"^The store holds no leads: ingest") as info:
        store_horizon(con)
    assert str(info.value).count(". ") == 0


def test_the_table_prints_its_notes():
    rows = [{"cycle": 1, "as_of": "2024-01-01", "leads": 100, "model": model, "in_band": "-",
             "roc_auc": 0.5, "pr_auc": 0.5, "brier": 0.25, "ece": 0.1,
             "conversion_at_threshold": 0.5, "mqls_per_week": 3.0}
            for model in ("trained_once", "retrained", "champion")]
    note = "Cycle 1's review judged its gates on 3 leads labelled as of 2024-01-01."
    assert note in str(Backtest(pd.DataFrame(rows), {"min": 0.25, "max": 0.5}, notes=[note]))


def test_the_mean_roc_interval_includes_chance_only_for_a_model_that_does_not_rank():
    rng = np.random.default_rng(0)
    labels = [rng.integers(0, 2, 300) for _ in range(3)]
    noise = [(rng.random(300), y) for y in labels]
    ranked = [(y + rng.random(300), y) for y in labels]
    low, high = mean_roc_interval(noise, rounds=200, seed=7)
    assert low < 0.5 < high
    low, high = mean_roc_interval(ranked, rounds=200, seed=7)
    assert low > 0.9
    # a base rate that moves between periods is not ranking: each period resamples within itself
    shifted = [(np.full(300, float(i)), np.r_[np.zeros(300 - 50 * (i + 1)), np.ones(50 * (i + 1))])
               for i in range(3)]
    low, high = mean_roc_interval(shifted, rounds=100, seed=7)
    assert low == high == 0.5
    assert all(math.isnan(v) for v in mean_roc_interval(noise, rounds=0, seed=7))


def test_the_table_says_which_models_rank_no_better_than_chance():
    both = chance_sentence({"trained_once": (0.47, 0.53), "retrained": (0.46, 0.52)})
    assert both.endswith("Every interval includes 0.5: no model ranked the following periods "
                         "better than chance beyond noise.")
    assert "trained_once 0.470-0.530, retrained 0.460-0.520" in both
    one = chance_sentence({"trained_once": (0.47, 0.53), "retrained": (0.56, 0.62)})
    assert one.endswith("trained_once includes 0.5: no better than chance beyond noise.")
    assert "chance" not in chance_sentence({"retrained": (0.56, 0.62)})
    assert chance_sentence({"champion": (math.nan, math.nan)}) == ""
