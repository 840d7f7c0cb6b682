"""The deployed model: refit on every matured week, calibrated on the newest matured cohort.

The gates judge a model trained on the older weeks (``training.cycle``), because only a model that
never saw the validation cohort can be judged on it. Under drift the newest weeks matter most, so
the version that is registered and served is then refit on ALL matured data, with the same
LightGBM parameters and the same number of trees, and calibrated on the newest matured cohort:

1. a model with the same parameters is trained on every week before the validation cohort; its
   margins on the validation cohort are out-of-sample ("out-of-fold") for that cohort;
2. the calibration method is chosen by measurement: Platt scaling and isotonic regression are each
   cross-fitted week by week (every week of the cohort is scored by a map fitted on the other
   weeks); the one with the lower cross-fitted calibration error wins (Platt on a tie: it has two
   parameters). Both keep the order of the margins, so ranking and Brier's refinement part are
   the same; what differs is how well the scores read as probabilities. On X Education the
   margin-to-probability curve is not a logistic one: Platt's calibration error stays at 0.036
   even fitted in-sample, isotonic's cross-fitted one is 0.015 (the noise floor of the measure on
   1,651 leads is about 0.02). Venn-ABERS is not offered: it gives an interval per lead, which
   the score contract (one probability) has no place for;
3. the chosen method is fitted on the whole cohort's out-of-sample margins and applied to the
   refit model's margins. The cross-fitted scores are what the deployed calibration was measured
   on: the calibration gate and the threshold read them.

Optional recency weighting (``cycle.recency_half_life_weeks``): a lead ``w`` weeks older than the
newest matured cohort counts ``0.5 ** (w / half_life)`` in the refit; null (the default) weighs
every lead the same.
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

METHODS = ("platt", "isotonic")
ISOTONIC_FLOOR = 1e-4
"""Isotonic steps are kept inside [1e-4, 1 - 1e-4]: a score is never exactly 0 or 1."""


@dataclass
class Deployment:
    """What was deployed and how it was measured.

    Attributes:
        bundle: the registered and served model.
        refit: True when refit on all matured data; False when the judged model is deployed.
        method: the calibration method of the ``full`` booster (``platt`` or ``isotonic``).
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

    def as_dict(self) -> dict[str, Any]:
        return {"refit": self.refit, "calibration_method": self.method,
                "calibration_measured": self.measured, "recency_weighting": self.weighting}


def fit_calibration(method: str, margin: np.ndarray, y: np.ndarray) -> Any:
    """Stored calibration parameters (see ``scoring.bundle.calibrate``) fitted on one cohort."""
    if method == "platt":
        return list(platt(margin, y))
    model = IsotonicRegression(y_min=ISOTONIC_FLOOR, y_max=1 - ISOTONIC_FLOOR,
                               out_of_bounds="clip").fit(margin, y)
    return {"method": "isotonic", "x": [float(v) for v in model.X_thresholds_],
            "y": [float(v) for v in model.y_thresholds_]}


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
    week. Returns ``(method, measured, cross-fitted scores of the winner)``.
    """
    weeks = pd.Index(sorted(pd.unique(cohort)))
    fold = weeks.get_indexer(cohort).astype(int)
    measured, scores = {}, {}
    for method in METHODS:
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


def recency_weight(frame: pd.DataFrame, half_life_weeks: float | None) -> np.ndarray | None:
    """``0.5 ** (weeks before the newest cohort / half_life)`` per lead; None: no half-life."""
    if not half_life_weeks:
        return None
    cohorts = pd.to_datetime(frame["cohort"])
    age_weeks = (cohorts.max() - cohorts).dt.days.to_numpy(dtype=np.float64) / 7.0
    return 0.5 ** (age_weeks / float(half_life_weeks))


def refit(judged: ScoringBundle, judged_scores: np.ndarray, train: pd.DataFrame,
          calib: pd.DataFrame, newest: pd.DataFrame, data, config: dict[str, Any]) -> Deployment:
    """Refit the judged model on every matured week and calibrate it on the newest cohort.

    Args:
        judged: the model the gates judged; ``judged_scores`` its scores of ``newest``.
        train, calib, newest: the cycle's split (``newest`` is the validation cohort).
        data: the cycle's ``training.dataset.CycleData`` (feature specs, attribute roles).
        config: the leadscore config; with ``cycle.refit: false`` the judged model itself is
            deployed and its scores of the validation cohort stand as measured.
    """
    cycle_config = config["cycle"]
    if not cycle_config.get("refit", True):
        return Deployment(bundle=judged, refit=False, scores=np.asarray(judged_scores))
    seed = int(cycle_config["seed"])
    half_life = cycle_config.get("recency_half_life_weeks")
    older = pd.concat([train, calib], ignore_index=True)
    every = pd.concat([older, newest], ignore_index=True)
    meta = {k: v for k, v in judged.manifest.items()
            if k in ("cycle", "trained_at", "as_of", "label_policy_hash", "label_policy_version",
                     "data_window")}
    specs, roles = data.specs, data.attribute_roles
    # the refit is the same family with the same settings as the judged model
    stored = judged.manifest.get("model_choice")
    choice = ModelChoice.from_dict(stored) if stored else None

    # 1. out-of-sample margins of the newest cohort, from every week before it
    before = train_bundle(older, newest, specs, config, seed=seed, meta=meta,
                          attribute_roles=roles, weight=recency_weight(older, half_life),
                          choice=choice)
    oof = before.margins(before.encoder.transform(newest))
    y = newest["label"].to_numpy(dtype=np.float64)

    # 2. the method, by measurement on the full booster's margins
    method, measured, cross = choose_method(oof["full"], y, newest["cohort"])

    # 3. the refit on everything, calibrated on the newest cohort with the chosen method
    bundle = train_bundle(every, newest, specs, config, seed=seed, meta=meta,
                          attribute_roles=roles, weight=recency_weight(every, half_life),
                          choice=choice)
    bundle.manifest["calibration"] = {
        name: fit_calibration(method, oof[name], y) for name in BOOSTERS
    }
    probs = bundle.calibrated(bundle.margins(bundle.encoder.transform(every)))
    bundle.manifest["grade_cuts"] = {
        group: [float(q) for q in np.quantile(probs[group], [0.75, 0.5, 0.25])]
        for group in ("fit", "intent")
    }
    weighting = f"half-life {half_life} weeks" if half_life else "none"
    bundle.manifest["deployment"] = {
        "refit": True, "calibration_method": method, "calibration_measured": measured,
        "recency_weighting": weighting, "refit_leads": len(every),
        "calibration_cohort": [str(newest["cohort"].min()), str(newest["cohort"].max())],
    }
    bundle.manifest["deployment"]["cross_fitted"] = cross is not None
    if cross is None:  # one week cannot be cross-fitted: measured in-sample, as the flag says
        cross = calibrate(bundle.manifest["calibration"]["full"], oof["full"])
    return Deployment(bundle=bundle, refit=True, method=method, measured=measured,
                      scores=cross, weighting=weighting)
