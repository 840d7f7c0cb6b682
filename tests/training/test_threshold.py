"""The threshold: the lowest cut-off whose conversion reaches the band's minimum."""

import math

import numpy as np
import pytest

from training.threshold import choose_threshold

BAND = {"min": 0.25, "max": 0.50}


def _cohort(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    scores = rng.uniform(0, 1, n)
    labels = (rng.uniform(0, 1, n) < scores**3).astype(int)
    return scores, labels


def test_lowest_cut_off_meeting_the_minimum():
    scores, labels = _cohort()
    # no share limit here: the lowest cut-off passes most of this cohort
    d = choose_threshold(scores, labels, 4.0, BAND, rounds=0, seed=1, max_share=1.0)
    assert d.feasible
    passed = scores >= d.threshold
    assert labels[passed].mean() >= BAND["min"]
    assert d.expected_conversion == pytest.approx(labels[passed].mean())
    # every lower cut-off (with enough MQLs) misses the minimum: volume is as large as it can be
    for cut in np.unique(scores[scores < d.threshold]):
        mask = scores >= cut
        assert labels[mask].mean() < BAND["min"]
    assert d.mqls == passed.sum()
    assert d.mqls_per_week == pytest.approx(passed.sum() / 4.0)
    assert d.share_of_leads == pytest.approx(passed.mean())
    assert d.mean_score == pytest.approx(scores[passed].mean())
    assert "inside the 25%-50% band" in d.message


def test_small_worked_example():
    scores = [0.9, 0.8, 0.2, 0.1] * 10
    labels = [1, 0, 0, 0] * 10
    d = choose_threshold(scores, labels, 2.0, {"min": 0.4, "max": 0.6}, rounds=0, seed=0,
                         min_mqls=5)
    assert (d.threshold, d.expected_conversion, d.mqls, d.mqls_per_week) == (0.8, 0.5, 20, 10.0)
    # at 25 % every lead could pass, but the share limit keeps the top half
    d = choose_threshold(scores, labels, 2.0, BAND, rounds=0, seed=0, min_mqls=5)
    assert (d.threshold, d.mqls, d.too_broad) == (0.8, 20, False)
    d = choose_threshold(scores, labels, 2.0, BAND, rounds=0, seed=0, min_mqls=5, max_share=1)
    assert (d.threshold, d.mqls) == (0.1, 40)


def test_bootstrap_interval_is_seeded_and_brackets_the_estimate():
    scores, labels = _cohort()
    a = choose_threshold(scores, labels, 4.0, BAND, rounds=200, seed=7)
    b = choose_threshold(scores, labels, 4.0, BAND, rounds=200, seed=7)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert a.ci_low < a.expected_conversion < a.ci_high
    assert a.ci_high - a.ci_low < 0.2


def test_infeasible_band_is_its_own_outcome_naming_the_best_conversion_and_volume():
    scores, labels = _cohort()
    d = choose_threshold(scores, labels, 4.0, {"min": 0.99, "max": 1.0}, rounds=50, seed=1)
    assert not d.feasible and d.outcome == "infeasible" and d.fallback == "best_conversion"
    best = f"{100 * d.expected_conversion:.1f}%"
    assert d.message.startswith("Band infeasible: no cut-off reaches the 99% minimum; the best "
                                f"achievable is {best} conversion at the top ")
    assert f"{d.mqls / 4.0:,.0f} MQLs a week" in d.message
    assert d.expected_conversion < 0.99
    assert math.isnan(d.ci_low)


def test_infeasible_band_on_rare_conversions_names_figures_as_measured():
    # 3 conversions in 600 leads, all at the bottom: the best any cut-off does is the whole
    # cohort's 0.5%, which a whole percentage would print as "0%" (or 1%); over a year, 600
    # leads are 11.5 a week, and 30 leads over 52 weeks are 0.6 MQLs a week, not "1"
    scores = np.linspace(1, 0, 600)
    labels = np.r_[np.zeros(597), np.ones(3)].astype(int)
    d = choose_threshold(scores, labels, 52.0, {"min": 0.125, "max": 0.5}, rounds=0, seed=0)
    assert "reaches the 12.5% minimum; the best achievable is 0.5% conversion" in d.message
    assert ", 12 MQLs a week." in d.message
    scores, labels = np.linspace(1, 0, 30), np.r_[np.zeros(29), np.ones(1)].astype(int)
    d = choose_threshold(scores, labels, 52.0, BAND, rounds=0, seed=0)
    assert "best achievable is 3.3% conversion at the top 100% of leads, 0.6 MQLs a week" \
        in d.message


def test_infeasible_band_falls_back_to_sales_capacity():
    scores, labels = _cohort()
    d = choose_threshold(scores, labels, 4.0, {"min": 0.99, "max": 1.0}, rounds=0, seed=1,
                         capacity_per_week=30)
    assert d.fallback == "capacity" and d.mqls <= 120
    assert "falls back to sales capacity (cycle.capacity_per_week = 30)" in d.message
    # the lowest cut-off within capacity: one more tie run would exceed 120 MQLs
    assert (scores >= d.threshold).sum() == d.mqls


def test_the_threshold_stays_within_the_share_limit_when_the_band_allows():
    rng = np.random.default_rng(3)
    scores = rng.random(400)
    labels = (rng.random(400) < 0.6).astype(int)  # 60 % convert whatever the score
    d = choose_threshold(scores, labels, 4.0, BAND, rounds=0, seed=0)
    assert d.feasible and not d.too_broad and d.share_of_leads <= 0.5
    assert "capped at cycle.max_mql_share" in d.message
    d = choose_threshold(scores, labels, 4.0, BAND, rounds=0, seed=0, max_share=1.0)
    assert d.share_of_leads == 1.0 and not d.too_broad


def test_a_capped_threshold_above_the_band_does_not_claim_a_cut_off_inside_it():
    # 90% convert whatever the score: every cut-off is above the 50% maximum
    rng = np.random.default_rng(5)
    scores = rng.random(400)
    labels = (rng.random(400) < 0.9).astype(int)
    d = choose_threshold(scores, labels, 4.0, BAND, rounds=0, seed=0)
    assert d.outcome == "above_band" and d.share_of_leads <= 0.5
    assert "reaches the band too" not in d.message
    assert "a lower cut-off also reaches the 25% minimum but would pass more than 50%" \
        in d.message


def test_a_threshold_that_must_pass_most_leads_is_flagged_too_broad():
    # an inverted ranking: only the whole cohort reaches the band's minimum
    scores = np.linspace(1, 0, 200)
    labels = np.r_[np.zeros(100), np.ones(100)].astype(int)
    d = choose_threshold(scores, labels, 4.0, BAND, rounds=0, seed=0)
    assert d.feasible and d.too_broad and d.share_of_leads > 0.5
    assert "more than the 50% allowed (cycle.max_mql_share)" in d.message


def test_a_fractional_capacity_reads_as_configured():
    scores, labels = _cohort()
    d = choose_threshold(scores, labels, 4.0, {"min": 0.99, "max": 1.0}, rounds=0, seed=1,
                         capacity_per_week=2.5)
    assert "(cycle.capacity_per_week = 2.5): " in d.message and d.mqls <= 10


def test_a_threshold_the_share_limit_set_says_so_on_the_console_and_in_the_report(tmp_path):
    # a wide 5%-95% band: every cut-off reaches 5%, so max_mql_share, not the band, set the
    # threshold; the console's "Threshold 0.123: conversion 39.0% ... 49.8% of leads" and the
    # report's "The threshold is 0.123 ..." said nothing of it
    import json
    from datetime import datetime

    from training.report import _threshold_note
    from training.report_mlflow import CycleRun
    from training.review_console import ReviewSummary

    rng = np.random.default_rng(3)
    scores = rng.random(400)
    labels = (rng.random(400) < scores * 0.6).astype(int)
    wide = choose_threshold(scores, labels, 4.0, {"min": 0.05, "max": 0.95}, rounds=0, seed=0)
    assert wide.feasible and wide.capped and wide.share_of_leads <= 0.5
    plain = choose_threshold(scores, labels, 4.0, {"min": 0.5, "max": 0.7}, rounds=0, seed=0)
    assert plain.feasible and not plain.capped
    summary = ReviewSummary(
        cycle="W1", as_of=datetime(2026, 8, 1), run_id="r1" * 8, labels={},
        split={"train_first_cohort": "a", "calib_first_cohort": "b", "calib_last_cohort": "c",
               "valid_first_cohort": "d", "valid_last_cohort": "e", "train_leads": 1,
               "calib_leads": 1, "valid_leads": 1, "valid_positives": 1},
        threshold=wide.as_dict(), models={}, signals=[], group_shares={},
        gates={"passed": True, "gates": []}, version=1, champion_before=None,
        champion_after=1, promote=True)
    line = [s for s in str(summary).splitlines() if s.startswith("Threshold ")][0]
    assert line.endswith("of leads, capped at cycle.max_mql_share: a lower cut-off also reaches "
                         "the 5% minimum but would pass more than 50% of leads.")
    (tmp_path / "threshold.json").write_text(json.dumps(wide.as_dict()))
    run = CycleRun("r1", "W1", datetime(2026, 8, 1), {}, {}, {})
    run.artifacts = tmp_path
    assert "capped at cycle.max_mql_share" in _threshold_note(run)
    (tmp_path / "threshold.json").write_text(json.dumps(plain.as_dict()))
    assert _threshold_note(run) == ""


def test_a_band_threshold_above_sales_capacity_says_so():
    # capacity_per_week: 10 with a feasible 25%-50% band: the review passed 49 MQLs a week and
    # said nothing of the 10 sales can work (capacity sets the threshold only when the band
    # cannot be met, as documented, but the user set it to be told)
    from datetime import datetime

    from training.review_console import ReviewSummary

    scores, labels = _cohort()
    d = choose_threshold(scores, labels, 4.0, BAND, rounds=0, seed=0, capacity_per_week=5)
    assert d.feasible and d.mqls_per_week > 5 and d.over_capacity
    assert d.message.endswith(
        "That is more than the 5 MQLs a week sales can work (cycle.capacity_per_week), which "
        "sets the threshold only when no cut-off meets the band.")
    summary = ReviewSummary(
        cycle="W1", as_of=datetime(2026, 8, 1), run_id="r1" * 8, labels={},
        split={"train_first_cohort": "a", "calib_first_cohort": "b", "calib_last_cohort": "c",
               "valid_first_cohort": "d", "valid_last_cohort": "e", "train_leads": 1,
               "calib_leads": 1, "valid_leads": 1, "valid_positives": 1},
        threshold=d.as_dict(), models={}, signals=[], group_shares={},
        gates={"passed": True, "gates": []}, version=1, champion_before=None,
        champion_after=1, promote=True)
    line = [s for s in str(summary).splitlines() if s.startswith("Threshold ")][0]
    assert "more than the 5 MQLs a week sales can work (cycle.capacity_per_week" in line
    within = choose_threshold(scores, labels, 4.0, BAND, rounds=0, seed=0,
                              capacity_per_week=10_000)
    assert not within.over_capacity and "capacity" not in within.message
