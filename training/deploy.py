"""The judged model and the deployed model: each calibrated on weeks its boosters never saw.

The gates judge a model that never saw the validation cohort (the newest ``validation_weeks``
matured weeks). ``train_judged`` trains it on **every** week before that cohort: its newest
weeks are the ones that matter most under drift, so none of them is held out of training. Its
calibration still comes from weeks the model did not learn from: a model with the same settings
is trained on the weeks before the calibration weeks (the ``validation_weeks`` weeks just before
the validation cohort), its margins there are out-of-sample, and the Platt map fitted on them is
applied to the judged model's margins.

The version that is registered and served (``refit``) is then refit on ALL matured data, with the
same family, parameters and number of trees, and calibrated on the newest matured cohort:

1. the judged model's margins of the validation cohort are out-of-sample ("out-of-fold") for
   that cohort, since it learned from every week before it;
2. the calibration method is chosen by measurement: Platt scaling, isotonic regression and the
   mean of the two maps are each cross-fitted week by week (every week of the cohort is scored by
   a map fitted on the other weeks); the one with the lower cross-fitted calibration error wins
   (on a tie the one with fewer parameters: Platt, then isotonic). Platt's two parameters miss
   a cohort whose conversion does not follow a sigmoid of the margin; isotonic's steps follow
   any shape but each rests on a few dozen leads; their mean trades the one error for the other
   (on X Education's review and backtest cohorts it measured lower than either, with the best
   Brier score and log-loss of the three). All keep the order of the margins, so ranking and
   Brier's refinement part are the same; what differs is how well the scores read as
   probabilities. Venn-ABERS is not offered: it gives an interval per lead, which the score
   contract (one probability) has no place for. On a cohort of a few thousand leads the
   calibration error itself is noisy: a perfectly calibrated model would show about 0.02 on
   1,651 leads (``training.evaluate.calibration_noise``), and the review prints that range
   beside the measured figure;
3. the chosen method is fitted on the whole cohort's out-of-sample margins and applied to the
   refit model's margins. The cross-fitted scores are what the deployed calibration was measured
   on: the calibration gate and the threshold read them.

Optional recency weighting (``cycle.recency_half_life_weeks``): a lead ``w`` weeks older than the
newest cohort a model learns from counts ``0.5 ** (w / half_life)``; null (the default) weighs
every lead the same. The judged model and the refit use the same weighting, so what was judged
is what was deployed, bar the newest weeks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from scoring.bundle import BOOSTERS, ScoringBundle, calibrate
from training.calibration import platt
from training.evaluate import evaluate
from training.model import train_bundle
from training.threshold import ThresholdDecision
from training.tournament import ModelChoice

METHODS = ("platt", "isotonic", "platt-isotonic-mean")
"""The calibration methods, fewest parameters first (the order breaks a tie)."""
MIN_ISOTONIC_LEADS, MIN_ISOTONIC_EACH = 1000, 100
"""Isotonic regression is a step per block of leads: on a small cohort its lowest block is a
few dozen leads with no conversion, read as a probability of 0.0001 for every lead below it
(0 of 50 is not 1 in 10,000), and its blocks tie leads the margins told apart. It (and the mean
that holds it) is offered only on a cohort of at least 1,000 leads (scikit-learn's guidance)
holding 100 of each outcome; a smaller one gets Platt's two parameters."""
ISOTONIC_FLOOR = 1e-4
"""Isotonic steps are kept inside [1e-4, 1 - 1e-4]: a score is never exactly 0 or 1."""


@dataclass
class Deployment:
    """What was deployed and how it was measured.

    Attributes:
        bundle: the registered and served model.
        refit: True when refit on all matured data; False when the judged model is deployed.
        method: the calibration method of the ``full`` booster (one of ``METHODS``).
        measured: cross-fitted Brier score and calibration error of each method on the cohort.
        scores: the cross-fitted calibrated scores of the validation cohort (what the
            deployed calibration was measured on), aligned with the cohort's rows.
        metrics: ``training.evaluate.evaluate`` of ``scores`` at the deployed threshold.
        decision: the threshold decision on ``scores`` (set by the caller).
    """

    bundle: ScoringBundle
    refit: bool
    method: str = "platt"
    measured: dict[str, dict[str, float]] = field(default_factory=dict)
    scores: np.ndarray | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    decision: ThresholdDecision | None = None
    weighting: str = "none"
    cross_fitted: bool = True
    """False when the cohort could not be cross-fitted (one week, or a week whose others hold one
    outcome): ``scores`` are then the deployed calibration's in-sample scores of the cohort."""

    def as_dict(self) -> dict[str, Any]:
        return {"refit": self.refit, "calibration_method": self.method,
                "calibration_measured": self.measured, "recency_weighting": self.weighting,
                "cross_fitted": self.cross_fitted}


def fit_calibration(method: str, margin: np.ndarray, y: np.ndarray) -> Any:
    """Stored calibration parameters (see ``scoring.bundle.calibrate``) fitted on one cohort."""
    if method == "platt":
        return list(platt(margin, y))
    if method not in METHODS:
        raise ValueError(f"unknown calibration method {method!r}; one of {', '.join(METHODS)}")
    model = IsotonicRegression(y_min=ISOTONIC_FLOOR, y_max=1 - ISOTONIC_FLOOR,
                               out_of_bounds="clip").fit(margin, y)
    steps = {"method": "isotonic", "x": [float(v) for v in model.X_thresholds_],
             "y": [float(v) for v in model.y_thresholds_]}
    if method == "isotonic":
        return steps
    return {**steps, "method": method, "platt": list(platt(margin, y))}


def calibrated_as(method: str) -> str:
    """How a sentence says the deployed model was calibrated ("Platt-calibrated", ...)."""
    return {"platt": "Platt-calibrated", "isotonic": "isotonic-calibrated",
            "platt-isotonic-mean": "calibrated by the mean of a Platt and an isotonic map"}.get(
        method, f"{method}-calibrated")


def cross_fitted(method: str, margin: np.ndarray, y: np.ndarray,
                 fold: np.ndarray) -> np.ndarray | None:
    """Each lead's calibrated score from a map fitted on the other folds (None if impossible)."""
    out = np.empty(len(y), dtype=np.float64)
    if len(np.unique(fold)) < 2:
        return None
    for k in np.unique(fold):
        fit_rows, score_rows = fold != k, fold == k
        if y[fit_rows].min(initial=1) == y[fit_rows].max(initial=0) or not score_rows.any():
            return None
        params = fit_calibration(method, margin[fit_rows], y[fit_rows])
        out[score_rows] = calibrate(params, margin[score_rows])
    return out


def choose_method(margin: np.ndarray, y: np.ndarray, cohort: pd.Series):
    """The calibration method with the lower cross-fitted calibration error, and what was measured.

    Each weekly cohort is a fold, so a week's leads are never scored by a map fitted on that same
    week. Isotonic and the mean take part only on a cohort of ``MIN_ISOTONIC_LEADS`` leads with
    ``MIN_ISOTONIC_EACH`` of each outcome. Returns ``(method, measured, cross-fitted scores of
    the winner)``.
    """
    weeks = pd.Index(sorted(pd.unique(cohort)))
    fold = weeks.get_indexer(cohort).astype(int)
    measured, scores = {}, {}
    positives = int(np.sum(y))
    enough = (len(y) >= MIN_ISOTONIC_LEADS
              and min(positives, len(y) - positives) >= MIN_ISOTONIC_EACH)
    for method in METHODS if enough else ("platt",):
        s = cross_fitted(method, margin, y, fold)
        if s is None:
            continue
        scores[method] = s
        m = evaluate(s, y, threshold=math.inf)
        measured[method] = {"brier": float(m["brier"]), "ece": float(m["ece"])}
    if not measured:
        return "platt", {}, None
    best = min(measured, key=lambda k: (round(measured[k]["ece"], 4), METHODS.index(k)))
    return best, measured, scores[best]


def weighting_text(half_life_weeks: float | None) -> str:
    """``"half-life 4 weeks"``, or ``"none"`` when every lead weighs the same."""
    if not half_life_weeks:
        return "none"
    return f"half-life {float(half_life_weeks):g} week{'' if half_life_weeks == 1 else 's'}"


def weighting_clause(weighting: str) -> str:
    """What a sentence about the deployed model adds for its recency weighting ("" for none)."""
    if not weighting or weighting == "none":
        return ""
    return f", older weeks weighed down ({weighting})"


def measured_on(cross_fitted: bool) -> str:
    """What the deployed version's figures on the validation cohort are."""
    if cross_fitted:
        return "cross-fitted scores of that cohort"
    return "in-sample scores of that cohort, whose weeks could not be cross-fitted"


def recency_weight(frame: pd.DataFrame, half_life_weeks: float | None) -> np.ndarray | None:
    """``0.5 ** (weeks before the newest cohort / half_life)`` per lead; None: no half-life."""
    if not half_life_weeks:
        return None
    cohorts = pd.to_datetime(frame["cohort"])
    age_weeks = (cohorts.max() - cohorts).dt.days.to_numpy(dtype=np.float64) / 7.0
    return 0.5 ** (age_weeks / float(half_life_weeks))


def train_judged(train: pd.DataFrame, calib: pd.DataFrame, data, config: dict[str, Any], *,
                 meta: dict[str, Any], choice: ModelChoice | None) -> ScoringBundle:
    """The model the gates judge: trained on ``train`` and ``calib`` (every week before the
    validation cohort), Platt-calibrated on out-of-sample margins of the ``calib`` weeks.

    Args:
        train, calib: the older weeks of the cycle's split, oldest first.
        data: the cycle's ``training.dataset.CycleData`` (feature specs, attribute roles).
        meta: metadata for the manifest; ``choice``: the tournament's winner (None: fixed
            LightGBM).
    """
    seed = int(config["cycle"]["seed"])
    half_life = config["cycle"].get("recency_half_life_weeks")
    older = pd.concat([train, calib], ignore_index=True)
    common = {"seed": seed, "meta": meta, "attribute_roles": data.attribute_roles,
              "choice": choice}
    early = train_bundle(train, calib, data.specs, config,
                         weight=recency_weight(train, half_life), **common)
    early_margins = early.margins(early.encoder.transform(calib))
    y_calib = calib["label"].to_numpy(dtype=np.float64)
    judged = train_bundle(older, calib, data.specs, config,
                          weight=recency_weight(older, half_life), **common,
                          calibration={name: list(platt(early_margins[name], y_calib))
                                       for name in BOOSTERS})
    judged.manifest["training"]["calibration"] = (
        "Platt, on out-of-sample margins of the calibration weeks from a model trained on the "
        "weeks before them")
    return judged


def refit(judged: ScoringBundle, judged_scores: np.ndarray, train: pd.DataFrame,
          calib: pd.DataFrame, newest: pd.DataFrame, data, config: dict[str, Any]) -> Deployment:
    """Refit the judged model on every matured week and calibrate it on the newest cohort.

    Args:
        judged: the model the gates judged (``train_judged``: it learned from every week before
            ``newest``); ``judged_scores`` its scores of ``newest``.
        train, calib, newest: the cycle's split (``newest`` is the validation cohort).
        data: the cycle's ``training.dataset.CycleData`` (feature specs, attribute roles).
        config: the leadscore config; with ``cycle.refit: false`` the judged model itself is
            deployed and its scores of the validation cohort stand as measured.
    """
    cycle_config = config["cycle"]
    half_life = cycle_config.get("recency_half_life_weeks")
    if not cycle_config.get("refit", True):
        # the judged model was trained with the same weighting (``train_judged``)
        return Deployment(bundle=judged, refit=False, scores=np.asarray(judged_scores),
                          weighting=weighting_text(half_life))
    seed = int(cycle_config["seed"])
    older = pd.concat([train, calib], ignore_index=True)
    every = pd.concat([older, newest], ignore_index=True)
    meta = {k: v for k, v in judged.manifest.items()
            if k in ("cycle", "trained_at", "as_of", "label_policy_hash", "label_policy_version",
                     "data_window")}
    specs, roles = data.specs, data.attribute_roles
    # the refit is the same family with the same settings as the judged model
    stored = judged.manifest.get("model_choice")
    choice = ModelChoice.from_dict(stored) if stored else None

    # 1. out-of-sample margins of the newest cohort: the judged model learned from every week
    #    before it, with the same family, settings and weighting
    oof = judged.margins(judged.encoder.transform(newest))
    y = newest["label"].to_numpy(dtype=np.float64)

    # 2. the method, by measurement on the full booster's margins
    method, measured, cross = choose_method(oof["full"], y, newest["cohort"])

    # 3. the refit on everything, calibrated on the newest cohort with the chosen method
    bundle = train_bundle(every, newest, specs, config, seed=seed, meta=meta,
                          attribute_roles=roles, weight=recency_weight(every, half_life),
                          choice=choice,
                          calibration={name: fit_calibration(method, oof[name], y)
                                       for name in BOOSTERS})
    weighting = weighting_text(half_life)
    bundle.manifest["deployment"] = {
        "refit": True, "calibration_method": method, "calibration_measured": measured,
        "recency_weighting": weighting, "refit_leads": len(every),
        "calibration_cohort": [str(newest["cohort"].min()), str(newest["cohort"].max())],
    }
    bundle.manifest["deployment"]["cross_fitted"] = cross is not None
    if cross is None:  # one week cannot be cross-fitted: measured in-sample, as the flag says
        cross = calibrate(bundle.manifest["calibration"]["full"], oof["full"])
    return Deployment(bundle=bundle, refit=True, method=method, measured=measured,
                      scores=cross, weighting=weighting,
                      cross_fitted=bundle.manifest["deployment"]["cross_fitted"])
