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
    d = choose_threshold(scores, labels, 4.0, BAND, rounds=0, seed=1)
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
    # at 25 % every lead passes: the lowest cut-off wins
    d = choose_threshold(scores, labels, 2.0, BAND, rounds=0, seed=0, min_mqls=5)
    assert (d.threshold, d.mqls) == (0.1, 40)


def test_bootstrap_interval_is_seeded_and_brackets_the_estimate():
    scores, labels = _cohort()
    a = choose_threshold(scores, labels, 4.0, BAND, rounds=200, seed=7)
    b = choose_threshold(scores, labels, 4.0, BAND, rounds=200, seed=7)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert a.ci_low < a.expected_conversion < a.ci_high
    assert a.ci_high - a.ci_low < 0.2


def test_infeasible_band_says_so_and_keeps_the_champion():
    scores, labels = _cohort()
    d = choose_threshold(scores, labels, 4.0, {"min": 0.99, "max": 1.0}, rounds=50, seed=1)
    assert not d.feasible
    assert d.message.startswith("No cut-off reaches the 99% minimum: the best is ")
    assert d.message.endswith("keep the champion.")
    assert d.expected_conversion < 0.99
    assert math.isnan(d.ci_low)


def test_too_few_mqls_cannot_set_a_threshold():
    # the top 10 leads all convert, but 10 MQLs are too few to trust
    scores = np.linspace(1, 0, 200)
    labels = np.r_[np.ones(10), np.zeros(190)].astype(int)
    d = choose_threshold(scores, labels, 1.0, BAND, rounds=0, seed=0)
    assert d.feasible  # 20 MQLs at 50 % conversion
    assert d.mqls >= 20
    d = choose_threshold(scores[:15], labels[:15], 1.0, BAND, rounds=0, seed=0)
    assert not d.feasible and "keep the champion" in d.message


def test_conversion_above_the_band_is_reported():
    scores = np.linspace(1, 0, 100)
    labels = np.ones(100, dtype=int)
    labels[::4] = 0
    d = choose_threshold(scores, labels, 1.0, BAND, rounds=0, seed=0)
    assert d.feasible and d.share_of_leads == 1.0
    assert "above the 50% maximum" in d.message


def test_ties_pass_together():
    scores = np.r_[np.full(30, 0.7), np.full(70, 0.1)]
    labels = np.r_[np.ones(12), np.zeros(88)].astype(int)
    d = choose_threshold(scores, labels, 1.0, BAND, rounds=0, seed=0)
    assert d.threshold == 0.7 and d.mqls == 30
    assert d.expected_conversion == pytest.approx(0.4)
