"""The promotion gates: may the challenger replace the champion? Pure functions, no I/O.

Four gates, each with a pass/fail and one plain sentence a leader can read:

- ``evidence``: the challenger ranks better than chance beyond noise: the 95 % bootstrap interval of
  its ROC-AUC lies above 0.5 and that of its PR-AUC above the cohort's base rate. When it fails the
  review says "insufficient evidence" and the report leads with it.
- ``band``: a threshold exists whose expected MQL-to-SQL conversion reaches the agreed band, and it
  marks no more than ``cycle.max_mql_share`` of leads as MQLs.
- ``calibration``: the deployed calibration's expected calibration error is at most
  ``max_calibration_error`` (its scores can be read as probabilities), or within what perfectly
  calibrated scores show by chance on a cohort that small.
- ``pr_auc``: on the same validation cohort the challenger's PR-AUC is at least the champion's minus
  ``pr_auc_tolerance`` (it ranks converting leads no worse). Passes when there is no champion.

The challenger is promoted only when every gate passes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from training.threshold import band_text
from training.tournament_result import distinct


@dataclass(frozen=True)
class Gate:
    """One gate's verdict."""

    name: str
    passed: bool
    sentence: str
    value: float | None = None
    limit: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GateDecision:
    """Every gate's verdict; ``passed`` only when all of them pass."""

    gates: tuple[Gate, ...]

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)

    @property
    def failed(self) -> list[Gate]:
        return [g for g in self.gates if not g.passed]

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "gates": [g.as_dict() for g in self.gates]}


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def band_gate(feasible: bool, message: str, band: tuple[float, float],
              too_broad: bool = False, above: bool = False) -> Gate:
    """Pass when the threshold search met the agreed conversion band with a selective threshold.

    ``above``: the threshold converts above the band's maximum (every cut-off the MQL share
    allows does, as where most leads convert); it passes, since sales get better leads than
    agreed, but the sentence never says the threshold is inside the band.
    """
    lo, hi = band
    if feasible and not too_broad and above:
        sentence = (f"The threshold reaches the agreed {band_text(lo, hi)} MQL conversion band's "
                    f"minimum but converts above its maximum. {message}")
    elif feasible and not too_broad:
        # the threshold's own message is printed beside the gates; no need to repeat it here
        sentence = f"A threshold meets the agreed {band_text(lo, hi)} MQL conversion band."
    elif feasible:
        sentence = f"The threshold reaches the {band_text(lo, hi)} band only by passing too many " \
                   f"leads, so this review promotes nothing. {message}"
    else:
        sentence = (
            f"No threshold meets the agreed {band_text(lo, hi)} MQL conversion band, "
            f"so this review promotes nothing. {message}"
        )
    return Gate("band", bool(feasible and not too_broad), sentence.strip())


INSUFFICIENT_EVIDENCE = "Insufficient evidence"


def evidence_gate(roc_interval: tuple[float, float], pr_interval: tuple[float, float],
                  base_rate: float) -> Gate:
    """Pass when the ROC-AUC interval lies above 0.5 and the PR-AUC interval above the base rate.

    Args:
        roc_interval, pr_interval: 95 % bootstrap intervals on the validation cohort.
        base_rate: the cohort's SQL rate (what a random ranking's PR-AUC is on average).
    """
    (roc_lo, roc_hi), (pr_lo, pr_hi) = roc_interval, pr_interval
    if _missing(roc_lo) or _missing(pr_lo):
        return Gate("evidence", False,
                    f"{INSUFFICIENT_EVIDENCE}: the ranking could not be measured on the "
                    "validation cohort (too few leads or only one outcome), so nothing is "
                    "promoted.")
    chance_roc = roc_lo <= 0.5
    chance_pr = pr_lo <= base_rate
    if not (chance_roc or chance_pr):
        return Gate("evidence", True,
                    f"The model ranks better than chance beyond noise: ROC-AUC 95% interval "
                    f"{roc_lo:.3f}-{roc_hi:.3f} (chance 0.5), PR-AUC {pr_lo:.3f}-{pr_hi:.3f} "
                    f"(base rate {base_rate:.3f}).", float(roc_lo), 0.5)
    parts = []
    if chance_roc:
        parts.append(f"its ROC-AUC 95% interval {roc_lo:.3f}-{roc_hi:.3f} includes 0.5 (chance)")
    if chance_pr:
        parts.append(f"its PR-AUC interval {pr_lo:.3f}-{pr_hi:.3f} includes the base rate "
                     f"{base_rate:.3f}")
    return Gate("evidence", False,
                f"{INSUFFICIENT_EVIDENCE}: the model does not rank leads better than chance beyond "
                f"noise ({' and '.join(parts)}), so this review promotes nothing.",
                float(roc_lo), 0.5)


def calibration_gate(ece: float | None, max_error: float,
                     noise: tuple[float, float] | None = None) -> Gate:
    """Pass when the expected calibration error is at most ``max_error``, or when it is within
    what perfectly calibrated scores show by chance on the cohort (``noise``: the 5th-95th
    percentile range of ``training.evaluate.calibration_noise``).

    On a small cohort chance alone can push a perfectly calibrated model past the limit; failing
    it then would block every promotion for want of leads, not for bad scores, so the sentence
    says the cohort is too small to tell instead.
    """
    if _missing(ece):
        return Gate("calibration", False,
                    "The calibration error could not be measured on the validation cohort.",
                    None, max_error)
    usable = noise is not None and not any(_missing(v) for v in noise)
    chance = (f" (perfectly calibrated scores would show {noise[0]:.3f}-{noise[1]:.3f} on "
              "this cohort by chance)") if usable else ""
    if ece <= max_error:
        return Gate("calibration", True,
                    f"Scores read as probabilities: calibration error {ece:.3f} is within the "
                    f"{max_error:.3f} allowed{chance}.", float(ece), max_error)
    if usable and ece <= noise[1]:
        return Gate("calibration", True,
                    f"Calibration error {ece:.3f} is above the {max_error:.3f} allowed, but "
                    f"perfectly calibrated scores would show up to {noise[1]:.3f} on a cohort "
                    "this small by chance: too few leads to call the scores off.",
                    float(ece), max_error)
    return Gate("calibration", False,
                f"Scores are off as probabilities: calibration error {ece:.3f} exceeds the "
                f"{max_error:.3f} allowed{chance}.", float(ece), max_error)


def pr_auc_gate(challenger: float | None, champion: float | None, tolerance: float,
                scope: str = "", gap: tuple[float, float] | None = None) -> Gate:
    """Pass when the challenger's PR-AUC is at least the champion's minus ``tolerance``.

    ``scope`` names the leads both were measured on when that is not the whole validation cohort
    (the weeks the champion never learned from, ``training.champion_compare``). ``gap`` is the
    paired 95 % interval of challenger minus champion on those leads: a failing gap that it
    shows to be within noise (the interval reaches 0) keeps the champion, but is not called
    "ranks worse" (on 77 leads a 0.011 gap says nothing).
    """
    if _missing(challenger):
        return Gate("pr_auc", False,
                    "The challenger's PR-AUC could not be measured on the validation cohort.")
    if champion is None:
        return Gate("pr_auc", True,
                    # said of the review, not of now: the report of an old cycle rereads it
                    f"No champion to compare with at this review; the challenger's PR-AUC is "
                    f"{challenger:.3f}.",
                    float(challenger), None)
    if _missing(champion):
        return Gate("pr_auc", False,
                    f"The champion's PR-AUC could not be measured {scope or 'on the same cohort'}"
                    ", so the two cannot be compared.", float(challenger), None)
    limit = champion - tolerance
    # "at least as well as" only when it is so: a challenger a hair below the champion passes
    # on the tolerance, and says that
    verb = ("ranks converting leads at least as well as the champion" if challenger >= champion
            else "ranks converting leads a little below the champion, within the tolerance"
            if challenger >= limit else "ranks worse than the champion")
    ours, theirs = distinct(challenger, champion, digits=3)
    noise = gap is not None and not _missing(gap[0]) and not _missing(gap[1]) and gap[1] >= 0
    if challenger < limit and noise:
        verb = "falls short of the champion by more than the tolerance"
    sentence = (f"The challenger {verb}: PR-AUC {ours} vs {theirs} "
                f"(tolerance {tolerance:.3f}){' ' + scope if scope else ''}.")
    if challenger < limit and noise:
        sentence += (f" The gap is within noise on these leads (95% interval of the difference "
                     f"{gap[0]:+.3f} to {gap[1]:+.3f}), so it is not shown to rank worse; the "
                     "champion is kept until a comparison on more leads tells them apart.")
    return Gate("pr_auc", challenger >= limit, sentence, float(challenger), float(limit))


def decide(
    challenger: Mapping[str, float],
    champion: Mapping[str, float] | None,
    *,
    feasible: bool,
    threshold_message: str,
    band: tuple[float, float],
    gates_config: Mapping[str, float],
    too_broad: bool = False,
    evidence: Gate | None = None,
    calibration_noise: tuple[float, float] | None = None,
    champion_scope: str = "",
    above_band: bool = False,
    pr_auc_gap: tuple[float, float] | None = None,
) -> GateDecision:
    """Run every gate on one cycle's figures.

    Args:
        challenger: the challenger's metrics on the validation cohort (``pr_auc``, ``ece``).
        champion: the champion's metrics on the same cohort, or None when there is no champion.
        feasible: whether the threshold search met the band; ``threshold_message`` says why.
        band: the agreed (min, max) conversion band.
        gates_config: ``cycle.gates`` from the config (``pr_auc_tolerance``,
            ``max_calibration_error``).
        too_broad: the threshold marks more than ``cycle.max_mql_share`` of leads as MQLs.
        evidence: the ``evidence_gate`` verdict, first when given.
        calibration_noise: the calibration error's chance range on the cohort, if measured.
        champion_scope: the leads the champion and ``challenger["pr_auc"]`` were measured on,
            when not the whole cohort (``pr_auc_gate``'s ``scope``).
        above_band: the threshold converts above the band's maximum (``band_gate``'s ``above``).
        pr_auc_gap: the paired interval of challenger minus champion PR-AUC (``pr_auc_gate``).
    """
    return GateDecision((
        *((evidence,) if evidence is not None else ()),
        band_gate(feasible, threshold_message, band, too_broad, above_band),
        calibration_gate(challenger.get("ece"), float(gates_config["max_calibration_error"]),
                         calibration_noise),
        pr_auc_gate(
            challenger.get("pr_auc"),
            None if champion is None else champion.get("pr_auc", float("nan")),
            float(gates_config["pr_auc_tolerance"]),
            champion_scope,
            pr_auc_gap,
        ),
    ))
