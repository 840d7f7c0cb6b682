"""What a review cycle records in MLflow: the run's params and metrics, its evaluation artifacts,
and the tags and one-line description of the model version it registers.

``training.review`` calls these while it logs and registers; every key here is one the report
(``training.report_mlflow``) and the registry (``scoring.champion_status``) read back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from training import explain
from training.cycle import CycleResult
from training.deploy import calibrated_as, weighting_clause
from training.model import lightgbm_params


def param_text(values: Sequence[str], limit: int = 6000) -> str:
    """Names joined by commas, cut to MLflow's parameter size (the full list is an artifact)."""
    text = ",".join(values)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def metric_items(prefix: str, metrics: dict[str, float]) -> dict[str, float]:
    """``metrics`` under ``prefix.`` (no prefix when empty), every value a float."""
    head = f"{prefix}." if prefix else ""
    return {f"{head}{k}": float(v) for k, v in metrics.items() if v is not None}


def write_artifacts(folder: Path, *, decision, gates, label_summary, specs, valid, scores,
                    importance, groups, comparison, calibration) -> None:
    """The evaluation artifacts of a cycle's run: threshold, gates, labels, features, tables
    (calibration, importance, fit vs intent, comparison, per source, validation scores), charts."""
    tables, plots = folder / "tables", folder / "plots"
    tables.mkdir(parents=True)
    plots.mkdir()
    (folder / "threshold.json").write_text(json.dumps(decision.as_dict(), indent=2, default=str))
    (folder / "gates.json").write_text(json.dumps(gates.as_dict(), indent=2))
    (folder / "label_summary.json").write_text(json.dumps(label_summary, indent=2, default=str))
    (folder / "features.json").write_text(json.dumps(
        [{"name": s.name, "group": s.group, "kind": s.kind} for s in specs], indent=2))
    calibration.to_csv(tables / "calibration.csv", index=False)
    importance.to_csv(tables / "importance.csv", index=False)
    pd.DataFrame([{"group": g, "share": s} for g, s in groups.items()]).to_csv(
        tables / "fit_vs_intent.csv", index=False)
    comparison.to_csv(tables / "comparison.csv")
    per_source = (
        valid.assign(score=scores["score"].to_numpy(), is_mql=scores["is_mql"].to_numpy())
        .groupby("source", dropna=False)
        .agg(leads=("label", "size"), sqls=("label", "sum"), mean_score=("score", "mean"),
             mqls=("is_mql", "sum"))
        .reset_index()
    )
    per_source["sql_rate"] = per_source["sqls"] / per_source["leads"]
    per_source["mql_conversion"] = [
        valid.loc[(valid["source"] == s).to_numpy() & scores["is_mql"].to_numpy(), "label"].mean()
        if m else math.nan
        for s, m in zip(per_source["source"], per_source["mqls"], strict=True)
    ]
    per_source.to_csv(tables / "per_source.csv", index=False)
    keep = [c for c in ("lead_id", "cohort", "scoreable_at", "source", "campaign", "label",
                        "cause", "reason_code") if c in valid.columns]
    pd.concat([valid[keep].reset_index(drop=True), scores.reset_index(drop=True)], axis=1) \
        .to_parquet(tables / "valid_scores.parquet", index=False)
    explain.plot_importance(importance, plots / "importance.png")
    explain.plot_group_importance(groups, plots / "fit_vs_intent.png")
    explain.plot_calibration(calibration, plots / "calibration.png")


def cycle_params(result: CycleResult, config: dict[str, Any]) -> dict[str, Any]:
    """The run's parameters: what the cycle was asked to do and on which data."""
    cycle_config = config["cycle"]
    seed = int(cycle_config["seed"])
    specs = result.data.specs
    # the settings the challenger was trained with (tuned when the tournament ran)
    lgb_params = dict(result.bundle.manifest.get("lightgbm") or lightgbm_params(config, seed)[0])
    rounds = lgb_params.pop("num_boost_round", None) or lightgbm_params(config, seed)[1]
    return {
        "cycle": result.cycle,
        "as_of": result.as_of.date().isoformat(),
        "label_policy_hash": result.policy.hash,
        "label_policy_version": result.policy.version,
        "maturity_days": config["labels"]["maturity_days"],
        # where the store's evidence ends: maturity is judged at min(as_of, horizon)
        "data_horizon": result.data.summary.get("horizon_day") or "none",
        "data_horizon_source": result.data.summary.get("horizon_source") or "none",
        "validation_weeks": cycle_config["validation_weeks"],
        "seed": seed,
        "band_min": result.decision.band_min,
        "band_max": result.decision.band_max,
        "bootstrap_rounds": cycle_config["bootstrap_rounds"],
        **{f"gates.{k}": v for k, v in cycle_config["gates"].items()},
        **result.window,
        "train_leads": len(result.train),
        "calib_leads": len(result.calib),
        "valid_leads": len(result.valid),
        "n_features": len(specs),
        "features": param_text([s.name for s in specs]),
        "features.fit": param_text([s.name for s in specs if s.group == "fit"]),
        "features.intent": param_text([s.name for s in specs if s.group == "intent"]),
        **{f"lightgbm.{k}": v for k, v in lgb_params.items()},
        "lightgbm.num_boost_round": rounds,
        "model_family": result.bundle.family,
        "champion_version_before": (result.champion_version
                                    if result.champion_version is not None else "none"),
        "max_mql_share": cycle_config.get("max_mql_share", 0.5),
        "capacity_per_week": cycle_config.get("capacity_per_week") or "none",
        "threshold_fallback": result.decision.fallback or "none",
        **{f"deployed.{k}": v for k, v in deployment_params(result).items()},
    }


def deployment_params(result: CycleResult) -> dict[str, Any]:
    """What was deployed: refit or not, the calibration method chosen and the weighting."""
    info = result.deployment.as_dict() if result.deployment is not None else {"refit": False}
    return {"refit": info["refit"],
            "calibration_method": info.get("calibration_method", "platt"),
            "recency_weighting": info.get("recency_weighting", "none"),
            "cross_fitted": info.get("cross_fitted", True)}


def cycle_metrics(result: CycleResult) -> dict[str, float]:
    """The run's metrics: every model on the validation cohort, gates, importance, counts."""
    summary = result.data.summary
    metrics = metric_items("", result.challenger)
    if result.champion is not None:
        metrics.update(metric_items("champion", result.champion))
    for name, values in result.baselines.items():
        metrics.update(metric_items(f"baseline.{name}", values))
    if result.deployment is not None:
        metrics.update(metric_items("deployed", result.deployment.metrics))
        for method, measured in result.deployment.measured.items():
            metrics.update(metric_items(f"deployed.calibration.{method}", measured))
    metrics.update({f"importance.{g}": s for g, s in result.groups.items()})
    metrics.update({f"gate.{g.name}": float(g.passed) for g in result.gates.gates})
    metrics.update({
        "labels.matured_leads": float(summary.get("assembled_leads", len(result.data.frame))),
        "labels.positives": float(summary.get("assembled_positives", 0)),
        "labels.unmatured_open_leads": float(summary.get("unmatured_open_leads", 0)),
        "labels.unmatured_open_cohorts": float(summary.get("unmatured_open_cohorts", 0)),
        "labels.unmatured_decided_leads": float(summary.get("unmatured_decided_leads", 0)),
        "labels.past_horizon_leads": float(summary.get("past_horizon_leads", 0)),
        "train_leads": float(len(result.train)),
        "valid_leads": float(len(result.valid)),
        "valid_positives": float(result.labels.sum()),
    })
    return metrics


def version_tags(result: CycleResult) -> dict[str, str]:
    """Tags on the model version: its cycle, gate verdicts, headline metrics, refit or not."""
    deployed = deployment_params(result)
    tags = {"cycle": result.cycle, "as_of": result.as_of.date().isoformat(),
            "gates_passed": str(result.gates.passed).lower(),
            **{f"gate.{g.name}": "pass" if g.passed else "fail" for g in result.gates.gates},
            "refit": str(deployed["refit"]).lower(), "model_family": result.bundle.family,
            "calibration_method": deployed["calibration_method"],
            "recency_weighting": deployed["recency_weighting"],
            "threshold": f"{result.decision.threshold:.4f}"}
    for key in ("roc_auc", "pr_auc", "brier"):
        if math.isfinite(result.challenger.get(key, math.nan)):
            tags[f"judged.{key}"] = f"{result.challenger[key]:.4f}"
    if result.deployment is not None:
        ece = result.deployment.metrics.get("ece", math.nan)
        if math.isfinite(ece):
            tags["deployed.ece"] = f"{ece:.4f}"
    return tags


def version_description(result: CycleResult) -> str:
    """One line for the MLflow UI: cycle, what was deployed, headline metrics, verdict.

    The ROC-AUC is the judged model's (trained before the validation cohort); a refit learned
    from that cohort, so the line says whose figure it is rather than leave it to the refit."""
    deployed = deployment_params(result)
    family = result.bundle.family
    roc = result.challenger.get("roc_auc", math.nan)
    weighted = weighting_clause(deployed["recency_weighting"])
    if deployed["refit"]:
        how = (f"{family} model refit on all matured weeks{weighted}, "
               f"{calibrated_as(deployed['calibration_method'])} on the newest cohort; "
               "the model the gates judged (trained on the weeks before the validation cohort) "
               f"had ROC-AUC {roc:.3f} there")
    else:
        how = (f"{family} model trained on the weeks before the validation cohort{weighted}; "
               f"ROC-AUC {roc:.3f} on that cohort")
    failed = [g.name for g in result.gates.failed]
    verdict = ("every gate passed" if not failed
               else f"failed gate{'s' if len(failed) > 1 else ''}: {', '.join(failed)}")
    return f"Cycle {result.cycle} (as of {result.as_of.date().isoformat()}): {how}; {verdict}."
