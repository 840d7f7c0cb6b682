"""The first step of a review cycle: train the challenger and judge it, without side effects.

``train_and_evaluate`` reads the store, splits by weekly cohort, trains the challenger on every
week before the validation cohort, sets the threshold from the agreed band on the newest matured
cohort, evaluates challenger, champion and the two baselines on that same cohort, explains the
challenger with SHAP and runs the gates. It writes nothing: logging
(``training.review.log_cycle``) and the registry (``training.review.register``) come after it, so
a failure here leaves no trace but a FAILED run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from features.horizon import horizon_sentence
from features.intent import high_intent_types
from features.label_policy import LabelPolicy, load_policy
from features.store import connect
from leadscore.errors import LeadscoreError
from scoring.bundle import ScoringBundle, score_frame
from training import dataset, deploy, explain
from training.baselines import fit_logistic, points_model
from training.champion_compare import (
    challenger_pr_auc,
    champion_on,
    pr_auc_gap,
    registry_champion,
)
from training.evaluate import calibration_noise, evaluate_on, ranking_intervals
from training.gates import GateDecision, decide, evidence_gate
from training.model import MIN_CATEGORY_COUNT, increasing_features, lightgbm_params
from training.report_figures import positive_plural
from training.threshold import ThresholdDecision, choose_threshold
from training.tournament import TournamentResult, run_tournament, tournament_settings

HEADLINE = ("roc_auc", "pr_auc", "brier", "ece", "lift_top_decile", "conversion_at_threshold",
            "mqls_per_week")


@dataclass
class CycleResult:
    """Everything one cycle learned and judged, before anything is logged or registered.

    Attributes:
        bundle: the model the ranking gates judged (trained on every week before the validation
            cohort, calibrated on out-of-sample margins of the ``calib`` weeks, see
            ``training.deploy.train_judged``); ``deployed`` is what is registered and served
            (refit on all matured weeks, see ``training.deploy``), ``bundle`` itself when no
            refit was made.
        deployment: how the deployed model was made and measured; its cross-fitted scores of the
            validation cohort set the threshold and the calibration gate.
        scores: the judged model's scores of ``valid`` (``score``, ..., ``is_mql``).
        challenger: its ranking and calibration metrics on ``valid``; the figures at the
            threshold (conversion, volume, MQLs a week, per source) are the deployed scores',
            since those decide who is an MQL.
        champion_version, champion, champion_note: the current champion on the same cohort,
            on the weeks of it the champion never learned from
            (``training.champion_compare``); the note says when that is not every week.
        baselines: ``{"logistic": metrics, "points": metrics}``.
        tournament: the model tournament that chose the challenger's family (None: it was
            switched off, or the training weeks gave no usable fold).
    """

    cycle: str
    as_of: datetime
    policy: LabelPolicy
    data: dataset.CycleData
    train: pd.DataFrame
    calib: pd.DataFrame
    valid: pd.DataFrame
    window: dict[str, str]
    weeks: int
    bundle: ScoringBundle
    scores: pd.DataFrame
    decision: ThresholdDecision
    challenger: dict[str, float]
    champion_version: int | None
    champion: dict[str, float] | None
    champion_note: str | None
    baselines: dict[str, dict[str, float]]
    importance: pd.DataFrame
    groups: dict[str, float]
    gates: GateDecision
    deployment: deploy.Deployment | None = None
    tournament: TournamentResult | None = None
    evidence: dict[str, float] = field(default_factory=dict)

    @property
    def deployed(self) -> ScoringBundle:
        """The model that is registered and served (the judged one when no refit was made)."""
        return self.deployment.bundle if self.deployment is not None else self.bundle

    @property
    def insufficient_evidence(self) -> bool:
        return any(g.name == "evidence" and not g.passed for g in self.gates.gates)

    @property
    def labels(self) -> np.ndarray:
        return self.valid["label"].to_numpy()

    @property
    def headline(self) -> dict[str, float]:
        return {k: self.challenger[k] for k in HEADLINE if k in self.challenger}


def _cohort_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return pd.Timestamp(value).date().isoformat()


def data_window(train: pd.DataFrame, calib: pd.DataFrame, valid: pd.DataFrame) -> dict[str, str]:
    """First and last weekly cohort of each part of the split."""
    out = {}
    for name, part in (("train", train), ("calib", calib), ("valid", valid)):
        out[f"{name}_first_cohort"] = _cohort_text(part["cohort"].min())
        out[f"{name}_last_cohort"] = _cohort_text(part["cohort"].max())
    out["data_window_start"] = out["train_first_cohort"]
    out["data_window_end"] = out["valid_last_cohort"]
    return out


def baselines_on(train: pd.DataFrame, valid: pd.DataFrame, specs, config: dict[str, Any],
                 weeks: float) -> dict[str, dict[str, float]]:
    """Logistic and points baselines on ``valid``, each at its own threshold from the band, the
    share limit and the capacity fallback the challenger's threshold follows (``threshold_on``),
    so the table compares conversion at the same rules."""
    out = {}
    cohort_labels = valid["label"].to_numpy()
    seed = int(config["cycle"]["seed"])
    for model in (fit_logistic(train, specs, seed=seed), points_model(specs, train)):
        scores = np.asarray(model.predict_proba(valid), dtype=np.float64)
        decision = threshold_on(scores, cohort_labels, weeks, config, rounds=0)
        cut = decision.threshold if math.isfinite(decision.threshold) else math.inf
        metrics = evaluate_on(scores, valid, cut, weeks)
        metrics["threshold"] = decision.threshold
        out[model.name] = metrics
    return out


def threshold_on(scores: np.ndarray, labels: np.ndarray, weeks: int, config: dict[str, Any],
                 rounds: int) -> ThresholdDecision:
    """The threshold from the agreed band, with the config's fallback and share limit."""
    cycle_config = config["cycle"]
    capacity = cycle_config.get("capacity_per_week")
    return choose_threshold(scores, labels, weeks, band_of(config), rounds=rounds,
                            seed=int(cycle_config["seed"]),
                            capacity_per_week=float(capacity) if capacity else None,
                            max_share=float(cycle_config.get("max_mql_share", 0.5)))


def band_of(config: dict[str, Any]) -> dict[str, float]:
    band = config["cycle"]["band"]
    return {"min": float(band["min"]), "max": float(band["max"])}


def choose_model(train: pd.DataFrame, calib: pd.DataFrame, specs, config: dict[str, Any],
                 seed: int) -> TournamentResult | None:
    """The model tournament on every week before the validation cohort (``train`` and
    ``calib``); None when ``cycle.tournament.enabled`` is false or no fold is usable."""
    if not tournament_settings(config)["enabled"]:
        return None
    base, _ = lightgbm_params(config, seed)
    base = {k: v for k, v in base.items()
            if k not in ("learning_rate", "num_leaves", "min_child_samples", "reg_lambda",
                         "colsample_bytree", "feature_fraction", "lambda_l2", "min_data_in_leaf")}
    return run_tournament(pd.concat([train, calib], ignore_index=True), specs, config,
                          base_params=base, increasing=increasing_features(specs, config),
                          seed=seed, min_category_count=MIN_CATEGORY_COUNT)


def load_cycle_data(as_of: datetime, config: dict[str, Any]):
    """The label policy and the cycle's data as of ``as_of``, split by weekly cohort."""
    policy = load_policy(config["labels"].get("policy"))
    with connect(config["store"], read_only=True) as con:
        data = dataset.assemble(con, as_of, config, policy)
    try:
        train, calib, valid = dataset.split(data, int(config["cycle"]["validation_weeks"]),
                                            positives=positive_plural(config, data.summary))
    except LeadscoreError as exc:
        # too few matured leads: when the review date is after the store's evidence, that may be
        # why, and declaring the export's date is the other fix
        note = horizon_sentence(data.summary)
        if note is None:
            raise
        raise LeadscoreError(f"{exc} {note}") from None
    return policy, data, train, calib, valid


def train_and_evaluate(cycle: str, as_of: datetime, config: dict[str, Any], *,
                       champion=None, explain_model: bool = True) -> CycleResult:
    """Train the challenger on the older weeks and judge it on the newest matured cohort.

    Args:
        champion: ``(version, bundle, note)`` to compare with; None reads the registry's.
        explain_model: compute SHAP importance (the backtest skips it: nobody reads it there).
    """
    cycle_config = config["cycle"]
    seed = int(cycle_config["seed"])
    band = band_of(config)
    policy, data, train, calib, valid = load_cycle_data(as_of, config)
    window = data_window(train, calib, valid)
    weeks = dataset.calendar_weeks(valid["cohort"])

    meta = {
        "cycle": cycle,
        "trained_at": as_of.isoformat(),  # deterministic: the wall-clock time is a run tag
        "as_of": as_of.isoformat(),
        "label_policy_hash": policy.hash,
        "label_policy_version": policy.version,
        "data_window": window,
    }
    tournament = choose_model(train, calib, data.specs, config, seed)
    # the judged model learns from every week before the validation cohort
    bundle = deploy.train_judged(train, calib, data, config, meta=meta,
                                 choice=tournament.choice if tournament else None)
    judged = score_frame(bundle, valid)
    labels = valid["label"].to_numpy()
    rounds = int(cycle_config["bootstrap_rounds"])
    (roc_lo, roc_hi), (pr_lo, pr_hi) = ranking_intervals(
        judged["score"].to_numpy(), labels, rounds=rounds, seed=seed)
    evidence = {"roc_auc_ci_low": roc_lo, "roc_auc_ci_high": roc_hi, "pr_auc_ci_low": pr_lo,
                "pr_auc_ci_high": pr_hi, "base_rate": float(labels.mean())}

    # the deployed model: refit on every matured week, calibrated on the newest cohort; its
    # cross-fitted scores of that cohort set the threshold that ships
    deployment = deploy.refit(bundle, judged["score"].to_numpy(), train, calib, valid, data,
                              config)
    decision = threshold_on(deployment.scores, labels, weeks, config, rounds)
    threshold = decision.threshold if math.isfinite(decision.threshold) else 1.0
    deployment.decision = decision
    deployment.metrics = evaluate_on(deployment.scores, valid, threshold, weeks)
    for model in {id(bundle): bundle, id(deployment.bundle): deployment.bundle}.values():
        model.manifest["threshold"] = float(threshold)
    # who is an MQL, and how many a week, is decided by the scores that ship; both scores are
    # kept, so a reader of valid_scores.parquet sees which one the MQL flag follows
    judged["deployed_score"] = deployment.scores
    judged["is_mql"] = deployment.scores >= threshold

    challenger = evaluate_on(judged["score"].to_numpy(), valid, threshold, weeks)
    challenger = {k: v for k, v in challenger.items()
                  if "at_threshold" not in k and k != "mqls_per_week"}
    challenger.update({k: v for k, v in deployment.metrics.items()
                       if "at_threshold" in k or k == "mqls_per_week"})
    challenger.update(
        threshold=decision.threshold, threshold_ci_low=decision.ci_low,
        threshold_ci_high=decision.ci_high, expected_conversion=decision.expected_conversion,
        share_of_leads=decision.share_of_leads, threshold_feasible=float(decision.feasible),
        threshold_too_broad=float(decision.too_broad), **evidence,
    )
    check = champion_on(registry_champion(config) if champion is None else champion, valid,
                        weeks)
    champion_version, champion_metrics, champion_note = check.version, check.metrics, check.note
    # the baselines learn from the same weeks as the judged model
    baselines = baselines_on(pd.concat([train, calib], ignore_index=True), valid, data.specs,
                             config, weeks)

    if explain_model:
        # directions read over every matured lead (the deployed model learned from them all):
        # the cohort alone holds too few of most categories to name the one that raises it most
        matured = pd.concat([train, calib, valid], ignore_index=True)
        if len(matured) > explain.DIRECTION_LEADS:
            matured = matured.sample(explain.DIRECTION_LEADS, random_state=seed)
        importance = explain.global_importance(bundle, bundle.encoder.transform(valid), valid,
                                               high_intent_types(config),
                                               direction_frame=matured)
        groups = explain.group_importance(importance)
    else:
        importance, groups = pd.DataFrame(), {}

    # ranking gates judge the model that never saw the cohort; the calibration gate judges the
    # calibration that ships (cross-fitted on the newest cohort)
    noise = calibration_noise(deployment.scores, seed=seed)
    deployment.metrics.update(ece_chance_low=noise[0], ece_chance_high=noise[1])
    # the PR-AUC gate compares the two on the same leads: those the champion never learned from
    gates = decide({**challenger, "ece": deployment.metrics["ece"],
                    "pr_auc": challenger_pr_auc(judged["score"].to_numpy(), labels, check,
                                                challenger["pr_auc"])},
                   champion_metrics, champion_scope=check.scope,
                   feasible=decision.feasible, threshold_message=decision.message,
                   band=(band["min"], band["max"]), gates_config=cycle_config["gates"],
                   too_broad=decision.too_broad, above_band=decision.outcome == "above_band",
                   evidence=evidence_gate((roc_lo, roc_hi), (pr_lo, pr_hi),
                                          evidence["base_rate"]),
                   calibration_noise=noise,
                   pr_auc_gap=pr_auc_gap(judged["score"].to_numpy(), labels, check,
                                         rounds=rounds, seed=seed))
    result = CycleResult(
        cycle=cycle, as_of=as_of, policy=policy, data=data, train=train, calib=calib,
        valid=valid, window=window, weeks=weeks, bundle=bundle, scores=judged, decision=decision,
        challenger=challenger, champion_version=champion_version, champion=champion_metrics,
        champion_note=champion_note, baselines=baselines, importance=importance, groups=groups,
        gates=gates, deployment=deployment, evidence=evidence, tournament=tournament,
    )
    for model in {id(bundle): bundle, id(deployment.bundle): deployment.bundle}.values():
        model.manifest.update(
            threshold_decision=decision.as_dict(),
            threshold_feasible=bool(decision.feasible),
            metrics=result.headline,
            deployed_metrics={k: deployment.metrics[k] for k in HEADLINE
                              if k in deployment.metrics},
            gates=gates.as_dict(),
        )
    return result

