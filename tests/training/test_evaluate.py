"""Evaluation metrics: ranking, calibration, threshold yield, per source."""

import math
import re

import numpy as np
import pytest

from training.evaluate import (
    calibration_noise,
    calibration_table,
    evaluate,
    expected_calibration_error,
    metric_key,
    oracle_auc,
)

MLFLOW_KEY = re.compile(r"^[A-Za-z0-9_\-. /]+$")


def _cohort(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.beta(1, 4, n)
    y = (rng.uniform(size=n) < p).astype(int)
    return p, y


def test_perfectly_calibrated_scores():
    p, y = _cohort()
    m = evaluate(p, y, threshold=0.4, weeks=4)
    assert 0.7 < m["roc_auc"] < 0.9
    assert m["roc_auc"] == pytest.approx(oracle_auc(p, y))
    assert m["ece"] < 0.03
    assert m["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert m["lift_top_decile"] > 2
    assert m["volume_at_threshold"] == (p >= 0.4).sum()
    assert m["conversion_at_threshold"] == pytest.approx(y[p >= 0.4].mean())
    assert m["mqls_per_week"] == pytest.approx((p >= 0.4).sum() / 4)
    assert (m["n"], m["positives"]) == (len(p), y.sum())


def test_miscalibration_shows_in_ece_not_auc():
    p, y = _cohort()
    good = evaluate(p, y, threshold=0.5)
    bad = evaluate(p**0.5, y, threshold=0.5)
    assert bad["roc_auc"] == pytest.approx(good["roc_auc"])
    assert bad["ece"] > good["ece"] + 0.1
    assert bad["brier"] > good["brier"]


def test_calibration_table_equal_frequency():
    p, y = _cohort(1000)
    table = calibration_table(p, y, bins=10)
    assert list(table.columns) == ["bin", "mean_predicted", "observed", "n"]
    assert list(table["n"]) == [100] * 10
    assert table["mean_predicted"].is_monotonic_increasing
    small = calibration_table([0.1, 0.2, 0.3], [0, 0, 1], bins=10)
    assert len(small) == 3


def test_per_source_metrics_have_mlflow_keys():
    p, y = _cohort(600)
    sources = np.array(["paid_search", "Webinar (EU)", None] * 200, dtype=object)
    y_one_class = y.copy()
    y_one_class[sources == "Webinar (EU)"] = 0
    m = evaluate(p, y_one_class, threshold=0.3, sources=sources)
    assert all(MLFLOW_KEY.match(k) for k in m)
    assert "source.paid_search.roc_auc" in m
    assert "source.unknown.volume_at_threshold" in m
    assert "source.Webinar _EU_.roc_auc" not in m  # one class: AUC undefined, skipped
    assert m["source.Webinar _EU_.conversion_at_threshold"] == 0.0
    total = sum(v for k, v in m.items() if k.endswith(".volume_at_threshold"))
    assert total == m["volume_at_threshold"]


def test_one_class_and_empty_threshold():
    m = evaluate([0.1, 0.2], [0, 0], threshold=0.9)
    assert math.isnan(m["roc_auc"]) and math.isnan(m["conversion_at_threshold"])
    assert m["volume_at_threshold"] == 0


def test_metric_key():
    assert metric_key("Paid Search!") == "Paid Search_"
    assert metric_key(float("nan")) == "unknown"


def test_calibration_noise_brackets_what_perfect_scores_show_and_not_what_biased_ones_do():
    rng = np.random.default_rng(4)
    scores = rng.beta(1.2, 2.0, 1500)
    low, high = calibration_noise(scores, seed=1)
    assert 0 < low < high < 0.06
    perfect = [expected_calibration_error(scores, rng.random(1500) < scores) for _ in range(200)]
    inside = np.mean([(low <= e <= high) for e in perfect])
    assert 0.8 <= inside <= 0.97  # a 5th-95th percentile range
    # scores 0.08 too high are beyond chance on the same leads
    biased = expected_calibration_error(scores + 0.08, rng.random(1500) < scores)
    assert biased > high
    # more leads, less noise
    assert calibration_noise(np.tile(scores, 10), seed=1)[1] < high / 2
    assert all(math.isnan(v) for v in calibration_noise([]))


def test_the_paired_pr_auc_gap_is_zero_for_one_model_and_positive_for_a_better_one():
    from training.evaluate import pr_auc_gap_interval

    rng = np.random.default_rng(5)
    labels = (rng.random(400) < 0.4).astype(int)
    good = labels + rng.normal(0, 0.6, 400)
    poor = labels + rng.normal(0, 3.0, 400)
    assert pr_auc_gap_interval(good, good, labels, rounds=50, seed=0) == (0.0, 0.0)
    low, high = pr_auc_gap_interval(good, poor, labels, rounds=200, seed=0)
    assert 0 < low < high
    # on a handful of leads two close models cannot be told apart
    close = labels + rng.normal(0, 0.7, 400)
    low, high = pr_auc_gap_interval(good[:40], close[:40], labels[:40], rounds=200, seed=0)
    assert low < 0 < high
