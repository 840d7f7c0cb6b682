"""The judged and the deployed model's calibration and recency weights, on small inline data."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from scoring.bundle import BOOSTERS, calibrate
from tests.training import synthetic_leads
from training.calibration import platt
from training.deploy import (
    ISOTONIC_FLOOR,
    calibrated_as,
    choose_method,
    fit_calibration,
    recency_weight,
    train_judged,
)
from training.model import train_bundle


def test_recency_weight_halves_every_half_life_and_is_off_by_default():
    frame = pd.DataFrame({"cohort": pd.to_datetime(["2026-01-05", "2026-01-19", "2026-02-02"])})
    assert recency_weight(frame, None) is None
    assert recency_weight(frame, 2) == pytest.approx([0.25, 0.5, 1.0])


def test_isotonic_calibration_is_monotone_bounded_and_read_by_the_bundle():
    margin = np.linspace(-3, 3, 200)
    y = (margin > 0.5).astype(float)
    params = fit_calibration("isotonic", margin, y)
    p = calibrate(params, margin)
    assert np.all(np.diff(p) >= 0)
    assert p.min() >= ISOTONIC_FLOOR and p.max() <= 1 - ISOTONIC_FLOOR
    a, b = fit_calibration("platt", margin, y)
    assert calibrate([a, b], np.array([0.0]))[0] == pytest.approx(1 / (1 + np.exp(-b)))


def test_the_mean_of_platt_and_isotonic_is_their_average_monotone_and_named_in_words():
    margin = np.linspace(-3, 3, 200)
    y = (np.random.default_rng(1).random(200) < 1 / (1 + np.exp(-2 * margin))).astype(float)
    mean = fit_calibration("platt-isotonic-mean", margin, y)
    both = 0.5 * (calibrate(fit_calibration("platt", margin, y), margin)
                  + calibrate(fit_calibration("isotonic", margin, y), margin))
    assert calibrate(mean, margin) == pytest.approx(both)
    # the Platt half is strictly increasing: leads the isotonic steps tie stay apart
    assert np.all(np.diff(calibrate(mean, margin)) > 0)
    assert calibrated_as("platt-isotonic-mean") == (
        "calibrated by the mean of a Platt and an isotonic map")
    assert calibrated_as("platt") == "Platt-calibrated"
    with pytest.raises(ValueError, match="unknown calibration method 'beta'"):
        fit_calibration("beta", margin, y)


def test_the_mean_takes_part_and_wins_where_platt_is_biased_and_isotonic_noisy():
    # conversion flat below margin 0 and a tanh above it: no sigmoid of the margin fits it, and
    # 150 leads a week leave isotonic's steps noisy
    rng = np.random.default_rng(0)
    n = 1500
    margin = rng.normal(size=n)
    p = np.clip(np.where(margin < 0, 0.2 + 0.05 * margin, 0.2 + 0.5 * np.tanh(margin)), 0.01, 1)
    y = (rng.random(n) < p).astype(float)
    cohort = pd.Series(np.repeat(pd.date_range("2026-01-05", periods=10, freq="7D"), n // 10))
    method, measured, scores = choose_method(margin, y, cohort)
    assert set(measured) == {"platt", "isotonic", "platt-isotonic-mean"}
    assert method == min(measured, key=lambda k: measured[k]["ece"]) == "platt-isotonic-mean"
    assert measured["platt-isotonic-mean"]["ece"] < measured["platt"]["ece"] - 0.01
    assert scores.shape == (n,)


def test_the_method_is_chosen_by_cross_fitted_calibration_error():
    rng = np.random.default_rng(0)
    n = 4000
    margin = rng.normal(size=n)
    cohort = pd.Series(np.repeat(pd.date_range("2026-01-05", periods=8, freq="7D"), n // 8))
    # a step, not a sigmoid: conversion jumps from 10 % to 60 % at margin 0
    step = (rng.random(n) < np.where(margin > 0, 0.6, 0.1)).astype(float)
    method, measured, scores = choose_method(margin, step, cohort)
    assert method == "isotonic" and measured["isotonic"]["ece"] < measured["platt"]["ece"]
    assert scores.shape == (n,)
    # the same step on 400 leads: isotonic would read its lowest blocks of a few dozen leads
    # without a conversion as a probability of 0.0001; too small a cohort gets Platt
    small = np.arange(0, n, 10)  # 400 leads over the same 8 weeks
    method, measured, scores = choose_method(margin[small], step[small], cohort[small])
    assert method == "platt" and set(measured) == {"platt"} and scores.min() > ISOTONIC_FLOOR
    # a single week cannot be cross-fitted: Platt, and nothing measured
    method, measured, scores = choose_method(margin, step, pd.Series(["w"] * n))
    assert (method, measured, scores) == ("platt", {}, None)


def test_the_judged_model_learns_from_every_older_week_and_is_calibrated_out_of_sample():
    train, calib, _ = synthetic_leads.split(synthetic_leads.leads(3000, seed=3))
    config = synthetic_leads.config()
    data = SimpleNamespace(specs=synthetic_leads.specs(), attribute_roles={})
    judged = train_judged(train, calib, data, config, meta={"cycle": "t"}, choice=None)
    assert judged.manifest["training"]["train_leads"] == len(train) + len(calib)

    # its calibration is the Platt map of a model that never saw the calibration weeks ...
    early = train_bundle(train, calib, data.specs, config, seed=int(config["cycle"]["seed"]),
                         meta={"cycle": "t"}, attribute_roles={})
    outside = early.margins(early.encoder.transform(calib))
    y = calib["label"].to_numpy(dtype=np.float64)
    for name in BOOSTERS:
        assert judged.manifest["calibration"][name] == pytest.approx(list(platt(outside[name], y)))
    # ... not the map its own (in-sample) margins of those weeks would give
    inside = judged.margins(judged.encoder.transform(calib))["full"]
    assert judged.manifest["calibration"]["full"] != pytest.approx(list(platt(inside, y)))


def test_recency_weighting_is_said_wherever_the_deployed_model_is_described():
    # cycle.recency_half_life_weeks: 4 changed the model (ROC-AUC 0.792 against 0.811 unweighted)
    # but neither the console, the version's description and tags nor the report said so, and
    # with cycle.refit: false the run logged deployed.recency_weighting "none" for a model trained
    # with the weights
    from datetime import datetime

    from tests.training.report_context import _run
    from training.deploy import Deployment, refit
    from training.report_figures import Figures
    from training.report_model import model_section
    from training.review_console import ReviewSummary
    from training.review_record import deployment_params, version_description, version_tags

    config = synthetic_leads.config()
    config["cycle"].update(refit=False, recency_half_life_weeks=4)
    judged = SimpleNamespace(family="lightgbm")
    as_judged = refit(judged, np.zeros(3), None, None, None, None, config)
    assert as_judged.weighting == "half-life 4 weeks"

    def result(deployment):
        gate = SimpleNamespace(name="band", passed=True)
        return SimpleNamespace(
            cycle="C4", as_of=datetime(2026, 6, 28), bundle=judged, deployment=deployment,
            gates=SimpleNamespace(gates=[gate], failed=[], passed=True),
            decision=SimpleNamespace(threshold=0.2), challenger={"roc_auc": 0.792})

    refitted = Deployment(bundle=judged, refit=True, weighting="half-life 4 weeks")
    for deployment in (as_judged, refitted):
        cycle = result(deployment)
        assert "older weeks weighed down (half-life 4 weeks)" in version_description(cycle)
        assert version_tags(cycle)["recency_weighting"] == "half-life 4 weeks"
        summary = ReviewSummary(
            cycle="C4", as_of=datetime(2026, 6, 28), run_id="r1" * 8, labels={},
            split={"train_first_cohort": "a", "calib_first_cohort": "b", "calib_last_cohort": "c",
                   "valid_first_cohort": "d", "valid_last_cohort": "e", "train_leads": 1,
                   "calib_leads": 1, "valid_leads": 1, "valid_positives": 1},
            threshold={"band_min": 0.25, "band_max": 0.5, "feasible": False, "message": "None."},
            models={}, signals=[], group_shares={}, gates={"passed": True, "gates": []},
            version=1, champion_before=None, champion_after=1, promote=True,
            deployment=deployment_params(cycle))
        assert "older weeks weighed down (half-life 4 weeks)" in str(summary)
        if deployment.refit:
            assert "same parameters, trees and weighting" in str(summary)
        run = _run(params={f"deployed.{k}": str(v) for k, v in deployment_params(cycle).items()},
                   metrics={"ece": 0.05, "deployed.ece": 0.04})
        note = model_section(run, Figures(run.run_id, run.metrics))["deployed_note"]
        assert "older weeks weighed down (half-life 4 weeks)" in note
    unweighted = result(Deployment(bundle=judged, refit=True))
    assert "weighed" not in version_description(unweighted)
    plain = ReviewSummary(
        cycle="C4", as_of=datetime(2026, 6, 28), run_id="r1" * 8, labels={},
        split={"train_first_cohort": "a", "calib_first_cohort": "b", "calib_last_cohort": "c",
               "valid_first_cohort": "d", "valid_last_cohort": "e", "train_leads": 1,
               "calib_leads": 1, "valid_leads": 1, "valid_positives": 1},
        threshold={"band_min": 0.25, "band_max": 0.5, "feasible": False, "message": "None."},
        models={}, signals=[], group_shares={}, gates={"passed": True, "gates": []},
        version=1, champion_before=None, champion_after=1, promote=True,
        deployment=deployment_params(unweighted))
    # no weighting was used: "the same ... weighting" would name one
    assert "with the same parameters and trees," in str(plain) and "weighting" not in str(plain)
    assert version_tags(unweighted)["recency_weighting"] == "none"


def test_a_cohort_that_cannot_be_cross_fitted_is_said_to_be_measured_in_sample():
    # cycle.validation_weeks: 1 on X Education: one week cannot be cross-fitted, so the deployed
    # figures and the calibration gate read in-sample scores, while the console said "its column
    # shows cross-fitted scores of that cohort" and the report "from cross-fitted scores"
    from scoring.bundle import score_frame
    from tests.training.report_context import _run
    from training.deploy import refit
    from training.report_figures import Figures
    from training.report_model import model_section
    from training.review_console import ReviewSummary

    train, calib, valid = synthetic_leads.split(synthetic_leads.leads(3000, seed=3), weeks=1)
    config = synthetic_leads.config()
    data = SimpleNamespace(specs=synthetic_leads.specs(), attribute_roles={})
    judged = train_judged(train, calib, data, config, meta={"cycle": "t"}, choice=None)
    scores = score_frame(judged, valid)["score"].to_numpy()
    deployment = refit(judged, scores, train, calib, valid, data, config)
    assert deployment.cross_fitted is False and deployment.as_dict()["cross_fitted"] is False
    summary = ReviewSummary(
        cycle="v1", as_of=pd.Timestamp("2026-06-01").to_pydatetime(), run_id="r1" * 8,
        labels={}, split={"train_first_cohort": "a", "calib_first_cohort": "b",
                          "calib_last_cohort": "c", "valid_first_cohort": "d",
                          "valid_last_cohort": "e", "train_leads": 1, "calib_leads": 1,
                          "valid_leads": 1, "valid_positives": 1},
        threshold={"band_min": 0.25, "band_max": 0.5, "feasible": False, "message": "None."},
        models={}, signals=[], group_shares={}, gates={"passed": True, "gates": []}, version=1,
        champion_before=None, champion_after=1, promote=True,
        deployment={"refit": True, "cross_fitted": False})
    text = str(summary)
    assert "its column shows in-sample scores of that cohort" in text
    assert "cross-fitted scores" not in text
    run = _run(params={"deployed.refit": "True", "deployed.cross_fitted": "False"},
               metrics={"ece": 0.05, "deployed.ece": 0.04})
    note = model_section(run, Figures(run.run_id, run.metrics))["deployed_note"]
    assert "its figures from in-sample scores of that cohort" in note
    run = _run(params={"deployed.refit": "True", "deployed.cross_fitted": "True"},
               metrics={"ece": 0.05, "deployed.ece": 0.04})
    assert "from cross-fitted scores" in model_section(run, Figures(run.run_id,
                                                                     run.metrics))["deployed_note"]


def test_a_one_week_split_is_said_in_the_singular():
    # validation_weeks: 1 printed "calibrated on its newest weeks 2015-12-21..2015-12-21 (173),
    # scored by a model trained on the weeks before them), validate 2015-12-28..2015-12-28"
    from training.review_console import ReviewSummary

    summary = ReviewSummary(
        cycle="v1", as_of=pd.Timestamp("2016-03-01").to_pydatetime(), run_id="r1" * 8,
        labels={}, split={"train_first_cohort": "2014-12-29", "calib_first_cohort": "2015-12-21",
                          "calib_last_cohort": "2015-12-21", "valid_first_cohort": "2015-12-28",
                          "valid_last_cohort": "2015-12-28", "train_leads": 8834,
                          "calib_leads": 173, "valid_leads": 77, "valid_positives": 29},
        threshold={"band_min": 0.6, "band_max": 0.85, "feasible": False, "message": "None."},
        models={}, signals=[], group_shares={}, gates={"passed": True, "gates": []}, version=1,
        champion_before=None, champion_after=1, promote=True)
    line = [s for s in str(summary).splitlines() if s.startswith("Split:")][0]
    assert line == ("Split: train 2014-12-29..2015-12-21 (9,007; calibrated on its newest week "
                    "2015-12-21 (173), scored by a model trained on the weeks before it), "
                    "validate 2015-12-28 (77 leads, 29 SQLs).")
