"""Each promotion gate on its own, then the decision that needs all of them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.gates import band_gate, calibration_gate, decide, evidence_gate, pr_auc_gate
from training.threshold import choose_threshold

GATES = {"pr_auc_tolerance": 0.01, "max_calibration_error": 0.05}
BAND = (0.25, 0.50)


def test_band_gate_passes_when_feasible_and_fails_when_not():
    ok = band_gate(True, "Threshold 0.4 ...", BAND)
    no = band_gate(False, "No cut-off reaches the 25% minimum.", BAND)
    assert ok.passed and not no.passed
    assert "25%-50%" in no.sentence and "this review promotes nothing" in no.sentence
    assert no.sentence.endswith("minimum.")


def test_a_threshold_above_the_band_is_never_said_to_meet_it():
    # most leads convert (66 %): every cut-off the MQL share allows converts above 50 %
    message = ("Threshold 0.708 passes the top 50% of leads, converting at 76.0%, above the 50% "
               "maximum.")
    gate = band_gate(True, message, BAND, above=True)
    assert gate.passed and "meets" not in gate.sentence
    assert "converts above its maximum" in gate.sentence and gate.sentence.endswith(message)
    decision = decide({"pr_auc": 0.8, "ece": 0.01}, None, feasible=True,
                      threshold_message=message, band=BAND, gates_config=GATES, above_band=True)
    assert "meets" not in decision.gates[0].sentence


@pytest.mark.parametrize(
    ("ece", "passed"), [(0.0, True), (0.05, True), (0.0501, False), (0.3, False)]
)
def test_calibration_gate_limit_is_inclusive(ece, passed):
    gate = calibration_gate(ece, 0.05)
    assert gate.passed is passed
    assert gate.value == ece and gate.limit == 0.05
    assert ("within" in gate.sentence) is passed


def test_calibration_within_chance_on_a_small_cohort_passes_and_says_why():
    # above the limit, but perfectly calibrated scores show up to 0.081 on this cohort
    small = calibration_gate(0.07, 0.05, noise=(0.03, 0.081))
    assert small.passed
    assert "too few leads to call the scores off" in small.sentence and "0.081" in small.sentence
    # beyond chance it fails, and the sentence gives the chance range
    off = calibration_gate(0.09, 0.05, noise=(0.03, 0.081))
    assert not off.passed and "exceeds" in off.sentence and "0.030-0.081" in off.sentence
    within = calibration_gate(0.026, 0.05, noise=(0.013, 0.032))
    assert within.passed and "0.013-0.032 on this cohort by chance" in within.sentence
    # an unmeasured range is no excuse
    assert not calibration_gate(0.07, 0.05, noise=(math.nan, math.nan)).passed


def test_calibration_gate_fails_when_unmeasurable():
    assert not calibration_gate(math.nan, 0.05).passed
    assert not calibration_gate(None, 0.05).passed


@pytest.mark.parametrize(
    ("challenger", "champion", "passed"),
    [(0.40, 0.40, True), (0.391, 0.40, True), (0.389, 0.40, False), (0.50, 0.40, True)],
)
def test_pr_auc_gate_allows_the_tolerance_and_no_more(challenger, champion, passed):
    gate = pr_auc_gate(challenger, champion, 0.01)
    assert gate.passed is passed
    assert gate.limit == pytest.approx(champion - 0.01)
    assert f"{challenger:.3f}" in gate.sentence and f"{champion:.3f}" in gate.sentence


def test_pr_auc_gate_passes_without_a_champion():
    gate = pr_auc_gate(0.2, None, 0.01)
    assert gate.passed and "No champion to compare with" in gate.sentence


def test_the_no_champion_sentence_stays_true_once_a_champion_exists():
    """The sentence is stored with the run and read back whenever the cycle's report is
    rewritten: after a later promotion "There is no champion yet" would be false."""
    sentence = pr_auc_gate(0.353, None, 0.01).sentence
    assert sentence == ("No champion to compare with at this review; the challenger's PR-AUC "
                        "is 0.353.")
    assert "yet" not in sentence and "There is" not in sentence


def test_pr_auc_gate_fails_when_either_side_is_unmeasurable():
    assert not pr_auc_gate(math.nan, 0.4, 0.01).passed
    assert not pr_auc_gate(0.4, math.nan, 0.01).passed


def test_decide_needs_every_gate():
    good = {"pr_auc": 0.45, "ece": 0.02}
    first = decide(good, None, feasible=True, threshold_message="", band=BAND, gates_config=GATES)
    assert first.passed and [g.name for g in first.gates] == ["band", "calibration", "pr_auc"]

    worse = decide(good, {"pr_auc": 0.50}, feasible=True, threshold_message="", band=BAND,
                   gates_config=GATES)
    assert not worse.passed and [g.name for g in worse.failed] == ["pr_auc"]

    infeasible = decide(good, None, feasible=False, threshold_message="", band=BAND,
                        gates_config=GATES)
    assert not infeasible.passed and [g.name for g in infeasible.failed] == ["band"]

    record = worse.as_dict()
    assert record["passed"] is False and record["gates"][2]["passed"] is False


def test_a_too_broad_threshold_fails_the_band_gate():
    gate = band_gate(True, "This threshold marks 80% of leads as MQLs.", (0.25, 0.5), True)
    assert not gate.passed and "passing too many leads" in gate.sentence


def test_evidence_gate_fails_when_an_interval_includes_chance():
    ok = evidence_gate((0.70, 0.80), (0.30, 0.40), 0.10)
    assert ok.passed
    roc = evidence_gate((0.48, 0.60), (0.30, 0.40), 0.10)
    assert not roc.passed and roc.sentence.startswith("Insufficient evidence: ")
    assert "includes 0.5" in roc.sentence and "base rate" not in roc.sentence
    pr = evidence_gate((0.55, 0.60), (0.60, 0.70), 0.62)
    assert not pr.passed and "includes the base rate 0.620" in pr.sentence
    assert not evidence_gate((math.nan, math.nan), (math.nan, math.nan), 0.1).passed


def test_a_challenger_a_hair_below_the_champion_is_not_said_to_rank_at_least_as_well():
    # a challenger below the champion passes on the tolerance; "at least as well as ...: PR-AUC
    # 0.829 vs 0.829" (as X Education's replayed cycle x-3 printed two figures 0.00002 apart)
    # would be false
    gate = pr_auc_gate(0.82880, 0.82912, 0.01)
    assert gate.passed
    assert gate.sentence == ("The challenger ranks converting leads a little below the champion, "
                             "within the tolerance: PR-AUC 0.8288 vs 0.8291 (tolerance 0.010).")
    better = pr_auc_gate(0.840, 0.829, 0.01)
    assert better.sentence.startswith("The challenger ranks converting leads at least as well "
                                      "as the champion: PR-AUC 0.840 vs 0.829")
    worse = pr_auc_gate(0.800, 0.829, 0.01)
    assert not worse.passed and "ranks worse than the champion" in worse.sentence


def test_a_gap_within_noise_keeps_the_champion_without_calling_the_challenger_worse():
    # X Education, replayed review x-7: compared on the one week the champion never learned
    # from (77 leads), 0.830 vs 0.841 read "The challenger ranks worse than the champion"
    gate = pr_auc_gate(0.830, 0.841, 0.01, "on the 1 week the champion never learned from "
                       "(2015-12-28..2015-12-28, 77 leads)", gap=(-0.094, 0.061))
    assert not gate.passed
    assert "ranks worse" not in gate.sentence
    assert gate.sentence.startswith("The challenger falls short of the champion by more than "
                                    "the tolerance: PR-AUC 0.830 vs 0.841 (tolerance 0.010)")
    assert ("The gap is within noise on these leads (95% interval of the difference -0.094 to "
            "+0.061), so it is not shown to rank worse") in gate.sentence
    # worse beyond noise: said plainly
    gate = pr_auc_gate(0.780, 0.841, 0.01, gap=(-0.09, -0.03))
    assert not gate.passed and "ranks worse than the champion" in gate.sentence


def test_a_band_with_a_fractional_bound_reads_as_configured_in_every_sentence():
    from training.threshold import choose_threshold

    gate = band_gate(True, "", (0.125, 0.3))
    assert gate.sentence == "A threshold meets the agreed 12.5%-30% MQL conversion band."
    assert "13%" not in band_gate(False, "", (0.125, 0.3)).sentence
    scores = np.linspace(1, 0, 400)
    labels = (np.arange(400) % 5 == 0).astype(int)  # 20% whatever the score
    d = choose_threshold(scores, labels, 4.0, {"min": 0.125, "max": 0.3}, rounds=0, seed=0)
    assert "inside the 12.5%-30% band" in d.message


def test_failed_gate_sentences_say_what_the_review_did_not_what_is_so_now():
    """Stored with the run and reread by the report: after `leadscore promote 2` the Maven CRM
    report's "..., so nothing is promoted." stood above "v2 scores leads now"."""
    sentences = [
        evidence_gate((0.48, 0.60), (0.30, 0.40), 0.10).sentence,
        band_gate(False, "No cut-off reaches the 25% minimum.", BAND).sentence,
        band_gate(True, "Capped.", BAND, too_broad=True).sentence,
        choose_threshold(np.linspace(1, 0, 10), np.ones(10), 4.0, {"min": 0.2, "max": 0.5},
                         rounds=0, seed=0).message,
    ]
    for sentence in sentences:
        assert "so this review promotes nothing" in sentence, sentence
        assert "nothing is promoted" not in sentence
