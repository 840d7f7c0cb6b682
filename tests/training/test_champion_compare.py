"""The champion is judged only on the validation weeks it never learned from."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest

from leadscore.config import default_config
from scoring.bundle import score_frame
from tests.features.reference import build_online
from tests.training.made_up import made_up_leads
from training.champion_compare import challenger_pr_auc, champion_on, learned_through
from training.evaluate import evaluate_on
from training.gates import decide

WEEKS = pd.date_range("2026-08-03", periods=6, freq="7D")


@pytest.fixture(scope="module")
def cohort():
    """600 made-up leads over six weekly cohorts, with labels the tiny bundle can rank."""
    config = default_config()
    leads = made_up_leads(600, seed=11)
    frame = pd.DataFrame([build_online(lead, lead["as_of"], config) for lead in leads])
    rng = np.random.default_rng(11)
    signal = frame["n_demo_request_30d"].fillna(0) + (frame["seniority"] == "vp")
    frame["label"] = (rng.random(len(frame)) < 0.1 + 0.4 * (signal > 0)).astype(int)
    frame["cohort"] = np.repeat(WEEKS, 100)
    return frame


def _champion(tiny, window: dict, refit: bool | None):
    """The tiny bundle (a shallow copy, the session's is shared) with the given manifest."""
    bundle = copy.copy(tiny)
    manifest = dict(bundle.manifest)
    manifest["data_window"] = window
    manifest.pop("deployment", None)
    if refit is not None:
        manifest["deployment"] = {"refit": refit}
    bundle.manifest = manifest
    return 3, bundle, None


def test_a_refit_champion_is_compared_only_on_the_weeks_after_its_last(tiny_bundle, cohort):
    champion = _champion(tiny_bundle, {"calib_last_cohort": "2026-07-27",
                                       "valid_last_cohort": "2026-08-17"}, refit=True)
    check = champion_on(champion, cohort, weeks=6)
    assert learned_through(champion[1]) == pd.Timestamp("2026-08-17")
    newer = (cohort["cohort"] > "2026-08-17").to_numpy()
    assert (check.rows == newer).all() and newer.sum() == 300
    part = cohort.loc[newer]
    scores = score_frame(tiny_bundle, part)["score"].to_numpy()
    assert check.metrics["pr_auc"] == pytest.approx(
        evaluate_on(scores, part, tiny_bundle.threshold, 3)["pr_auc"])
    everything = evaluate_on(score_frame(tiny_bundle, cohort)["score"].to_numpy(), cohort,
                             tiny_bundle.threshold, 6)
    assert check.metrics["pr_auc"] != pytest.approx(everything["pr_auc"])
    assert (check.metrics["compared_weeks"], check.metrics["compared_leads"]) == (3.0, 300.0)
    assert "3 weeks the champion never learned from (2026-08-24..2026-09-07, 300 leads)" in (
        check.scope)
    assert "learned from this cohort's weeks through 2026-08-17" in check.note
    # one week left: its date, not a range of one day ("2026-09-07..2026-09-07")
    one = champion_on(_champion(tiny_bundle, {"calib_last_cohort": "2026-08-10",
                                              "valid_last_cohort": "2026-08-31"}, refit=True),
                      cohort, weeks=6)
    assert "on the 1 week the champion never learned from (the week of 2026-09-07, 100 leads)" in (
        one.scope)
    # the gate reads the challenger on the same leads as the champion
    challenger = np.linspace(0, 1, len(cohort))
    assert challenger_pr_auc(challenger, cohort["label"].to_numpy(), check, 0.0) == pytest.approx(
        evaluate_on(challenger[newer], part, 0.5, 3)["pr_auc"])
    gate = decide({"pr_auc": check.metrics["pr_auc"], "ece": 0.01}, check.metrics,
                  feasible=True, threshold_message="", band=(0.2, 0.5),
                  gates_config={"max_calibration_error": 0.05, "pr_auc_tolerance": 0.01},
                  champion_scope=check.scope).gates[-1]
    assert gate.passed and check.scope in gate.sentence


def test_a_champion_deployed_as_judged_learned_through_its_calibration_weeks(tiny_bundle,
                                                                             cohort):
    champion = _champion(tiny_bundle, {"calib_last_cohort": "2026-08-03",
                                       "valid_last_cohort": "2026-08-31"}, refit=None)
    check = champion_on(champion, cohort, weeks=6)
    assert check.rows.sum() == 500 and "2026-08-10..2026-09-07" in check.scope


def test_a_champion_that_learned_every_week_is_not_compared_and_is_kept(tiny_bundle, cohort):
    champion = _champion(tiny_bundle, {"valid_last_cohort": "2026-09-07"}, refit=True)
    check = champion_on(champion, cohort, weeks=6)
    assert math.isnan(check.metrics["pr_auc"])
    assert "learned from every week of this validation cohort (through 2026-09-07)" in check.note
    challenger = np.linspace(0, 1, len(cohort))
    assert challenger_pr_auc(challenger, cohort["label"].to_numpy(), check, 0.7) == 0.7
    gates = decide({"pr_auc": 0.9, "ece": 0.01}, check.metrics, feasible=True,
                   threshold_message="", band=(0.2, 0.5),
                   gates_config={"max_calibration_error": 0.05, "pr_auc_tolerance": 0.01},
                   champion_scope=check.scope)
    assert not gates.passed
    assert gates.gates[-1].sentence == (
        "The champion's PR-AUC could not be measured on any week it did not learn from (it "
        "learned through 2026-09-07), so the two cannot be compared.")


def test_a_champion_whose_manifest_has_no_window_is_compared_on_every_week(tiny_bundle,
                                                                           cohort):
    champion = _champion(tiny_bundle, {}, refit=True)
    check = champion_on(champion, cohort, weeks=6)
    assert check.rows is None and check.note is None and check.scope == ""  # None: every lead
