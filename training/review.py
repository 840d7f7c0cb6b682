"""``leadscore review --cycle ID``: one retrain-evaluate-gate-register pass, as one MLflow run.

Named steps, each a function:

1. ``training.cycle.train_and_evaluate -> CycleResult``: labels + features as of the review date,
   time-ordered split, the challenger, the threshold from the agreed band, challenger, champion and
   the two baselines on the same cohort, SHAP importance, gates. Writes nothing.
2. ``log_cycle``: params, metrics and evaluation artifacts on the MLflow run.
3. ``register``: the model version, then the aliases (last).
4. ``summarize``: the one-screen summary; then the leaders' report.

Failure safety: everything that can fail (reading the store, training, evaluating, logging) happens
before the registry changes; the aliases move in the very last step. If anything raises, the run
ends FAILED and ``champion`` (and its model) is untouched. A process killed part-way leaves a run
that never finished and the same untouched champion.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

from features.live_sync import merge_live
from features.outcome_lag import review_lag
from features.store import connect
from leadscore.errors import LeadscoreError
from scoring.pyfunc import LeadScorePyfunc
from training import cycle_guard, explain, registry
from training.cycle import CycleResult, train_and_evaluate
from training.evaluate import calibration_table
from training.model import lightgbm_params
from training.report import MIN_SIGNAL_SHARE, write_report
from training.review_console import COMPARED_METRICS, ReviewSummary
from training.tournament_log import log_tournament
from training.tracking import client as mlflow_client
from training.tracking import quiet_mlflow, setup_tracking

EXAMPLE_ROWS = 3
TOP_SIGNALS = 5

# ---- small pure steps ---------------------------------------------------------------------------

def parse_as_of(text: str | datetime | None) -> datetime:
    """The review date as a naive UTC datetime (the store's convention); None means today.

    Raises:
        LeadscoreError: when the text is not a date.
    """
    if text is None:
        return datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    if isinstance(text, datetime):
        value = text
    else:
        try:
            value = datetime.fromisoformat(str(text).strip())
        except ValueError:
            raise LeadscoreError(
                f"--as-of {text!r} is not a date: give it as YYYY-MM-DD, e.g. 2026-11-01."
            ) from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def input_example(as_of: datetime, attribute_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Made-up lead rows that show the pyfunc model's input (no customer data in the artifact).

    Every column but ``lead_id`` has a missing value somewhere, so MLflow's inferred signature
    marks it optional, as the API does. MLflow drops columns its signature lacks, so ``email``
    and the store's fit/intent attribute columns are there too, empty (typed "Any").
    """
    at = as_of.replace(microsecond=0)
    activities = [
        {"activity_type": "pricing_view", "occurred_at": (at - pd.Timedelta(days=2)).isoformat()},
        {"activity_type": "demo_request", "occurred_at": (at - pd.Timedelta(days=1)).isoformat()},
    ]
    rows = [
        {"lead_id": "example-1", "created_at": (at - pd.Timedelta(days=3)).isoformat(),
         "source": "webinar", "title": "VP Marketing", "company_size": "201-1000",
         "industry": "Software", "country": "US", "email_domain": "example.com",
         "campaign": "q4-webinar", "activities": json.dumps(activities), "attributes": "{}",
         "as_of": at.isoformat()},
        {"lead_id": "example-2", "created_at": (at - pd.Timedelta(days=10)).isoformat(),
         "source": "paid_search", "title": "Student", "company_size": "1-10",
         "industry": "Education", "country": "India", "email_domain": "gmail.com",
         "campaign": None, "activities": "[]", "attributes": None, "as_of": None},
        {"lead_id": "example-3", "created_at": None, "source": None, "title": None,
         "company_size": None, "industry": None, "country": None, "email_domain": None,
         "campaign": None, "activities": None, "attributes": None, "as_of": at.isoformat()},
    ]
    frame = pd.DataFrame(rows[:EXAMPLE_ROWS], dtype=object)
    for column in ("email", *attribute_columns):
        if column not in frame.columns:
            frame[column] = pd.Series([None] * len(frame), dtype=object)
    return frame


def param_text(values: Sequence[str], limit: int = 6000) -> str:
    """Names joined by commas, cut to MLflow's parameter size (the full list is an artifact)."""
    text = ",".join(values)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def metric_items(prefix: str, metrics: dict[str, float]) -> dict[str, float]:
    """``metrics`` under ``prefix.`` (no prefix when empty), every value a float."""
    head = f"{prefix}." if prefix else ""
    return {f"{head}{k}": float(v) for k, v in metrics.items() if v is not None}


# ---- the steps after training: log, register, summarise ------------------------------------

def _write_artifacts(folder: Path, *, decision, gates, label_summary, specs, valid, scores,
                     importance, groups, comparison, calibration) -> None:
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


def _pip_requirements() -> list[str]:
    out = []
    for package in ("mlflow", "lightgbm", "numpy", "pandas", "pyyaml"):
        try:
            out.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            out.append(package)
    return out


def run_review(
    cycle: str, as_of: str | datetime | None, config: dict[str, Any], promote: bool = True
) -> ReviewSummary:
    """Run one review cycle end to end; return what it found and did.

    The steps: ``train_and_evaluate`` (read, train, judge; writes nothing) -> ``log_cycle``
    (params, metrics, artifacts on the run) -> ``register`` (the model version, then the aliases,
    last) -> ``summarize`` -> the leaders' report.

    Args:
        cycle: the cycle's name (``2026-W47``); tags the MLflow run.
        as_of: the review date (``YYYY-MM-DD``); None means today.
        config: the leadscore config.
        promote: move ``champion`` when every gate passes (False: register and tag only).

    Raises:
        LeadscoreError: a problem the user can fix (no store, unknown codes, too little data); the
            run is marked FAILED and the registry is untouched.
    """
    if not cycle or not str(cycle).strip():
        raise LeadscoreError("--cycle is empty: name the review cycle, e.g. 2026-W47.")
    cycle = str(cycle).strip()
    review_date = parse_as_of(as_of)
    with connect(config["store"], read_only=True):
        pass  # no store, no run: say so before MLflow creates anything
    lag = review_lag(config, review_date)  # stops here when the window cuts too many positives
    # one review per registry at a time; what killed reviews left behind is tidied under the lock
    with cycle_guard.review_lock(config):
        live = merge_live(config)  # what the API received joins this cycle's data, by key
        experiment_id = setup_tracking(config)
        cycle_guard.close_killed_runs(mlflow_client(config), experiment_id)
        cycle_guard.remove_orphan_folders()
        tags = {"cycle": cycle, "as_of": review_date.date().isoformat(),
                "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                **cycle_guard.owner_tags()}
        with quiet_mlflow(), mlflow.start_run(experiment_id=experiment_id,
                                              run_name=f"review {cycle}", tags=tags) as run:
            mlflow.log_metrics({f"outcome_lag_{k}": float(v) for k, v in lag.as_dict().items()
                                if v is not None})
            result = train_and_evaluate(cycle, review_date, config)
            log_cycle(result, config)
            will_promote = bool(result.gates.passed and promote)
            version = register(result, config, promote=will_promote)
            mlflow.set_tag("promote_requested", str(promote).lower())
            summary = summarize(result, run.info.run_id, version, promote)
    summary.notes.insert(0, lag.line())
    if live is not None:
        summary.notes.insert(0, live.line())
    summary.report = _write_report(cycle, config, summary)
    return summary


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
            "recency_weighting": info.get("recency_weighting", "none")}


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
        "train_leads": float(len(result.train)),
        "valid_leads": float(len(result.valid)),
        "valid_positives": float(result.labels.sum()),
    })
    return metrics


def compared_models(result: CycleResult) -> dict[str, dict[str, float]]:
    """Challenger, champion (when there is one) and baselines, in the order they are shown."""
    models = {"challenger": result.challenger}
    if result.deployment is not None and result.deployment.refit:
        models["deployed (refit)"] = result.deployment.metrics
    if result.champion is not None:
        models[f"champion v{result.champion_version}"] = result.champion
    models.update({f"{k} baseline": v for k, v in result.baselines.items()})
    return models


def log_cycle(result: CycleResult, config: dict[str, Any]) -> None:
    """Log the cycle's params, metrics and evaluation artifacts on the active MLflow run."""
    mlflow.log_params(cycle_params(result, config))
    if result.tournament is not None:
        log_tournament(result.tournament)
    mlflow.log_metrics(cycle_metrics(result))
    comparison = pd.DataFrame({
        name: {key: metrics.get(key, math.nan) for key, _, _ in COMPARED_METRICS}
        for name, metrics in compared_models(result).items()
    })
    with tempfile.TemporaryDirectory(prefix=cycle_guard.temp_prefix("review")) as tmp:
        folder = Path(tmp) / "evaluation"
        _write_artifacts(
            folder, decision=result.decision, gates=result.gates,
            label_summary=result.data.summary, specs=result.data.specs, valid=result.valid,
            scores=result.scores, importance=result.importance, groups=result.groups,
            comparison=comparison,
            calibration=calibration_table(result.scores["score"], result.labels),
        )
        # shap's own beeswarm of the judged model on the validation cohort, beside our charts
        explained = explain.explanation(
            result.bundle, result.bundle.encoder.transform(result.valid), result.valid)
        explain.plot_beeswarm(explained, folder / "plots" / "beeswarm.png")
        mlflow.log_artifacts(str(folder))


def register(result: CycleResult, config: dict[str, Any], *, promote: bool) -> int:
    """Log the deployed model, register it as a new version and move the aliases (last).

    ``promote`` moves ``champion`` too; the caller passes it only when every gate passed.
    """
    bundle = result.deployed or result.bundle
    with tempfile.TemporaryDirectory(prefix=cycle_guard.temp_prefix("review")) as tmp:
        bundle_dir = bundle.save(Path(tmp) / "bundle")
        model_info = mlflow.pyfunc.log_model(
            name="model",
            python_model=LeadScorePyfunc(),
            artifacts={"bundle": str(bundle_dir)},
            input_example=input_example(result.as_of, [
                column for column, (role, _) in sorted(result.data.attribute_roles.items())
                if role in ("fit", "intent")
            ]),
            registered_model_name=registry.model_name(config),
            pip_requirements=_pip_requirements(),
        )
    version = int(model_info.registered_model_version)
    client = mlflow_client(config)
    name = registry.model_name(config)
    client.update_model_version(name, str(version), description=version_description(result))
    for key, value in version_tags(result).items():
        client.set_model_version_tag(name, str(version), key, value)
    mlflow.set_tags({
        "model_version": str(version),
        "gates_passed": str(result.gates.passed).lower(),
        "promoted": str(promote).lower(),
        "trained_at_wall": datetime.now(UTC).isoformat(timespec="seconds"),
        **{f"gate.{g.name}": "pass" if g.passed else "fail" for g in result.gates.gates},
    })
    # the aliases move only when everything above succeeded
    registry.set_challenger(client, name, version)
    if promote:
        registry.set_champion(client, name, version)
    return version


def version_tags(result: CycleResult) -> dict[str, str]:
    """Tags on the model version: its cycle, gate verdicts, headline metrics, refit or not."""
    deployed = deployment_params(result)
    tags = {"cycle": result.cycle, "as_of": result.as_of.date().isoformat(),
            "gates_passed": str(result.gates.passed).lower(),
            **{f"gate.{g.name}": "pass" if g.passed else "fail" for g in result.gates.gates},
            "refit": str(deployed["refit"]).lower(),
            "calibration_method": deployed["calibration_method"],
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
    """One line for the MLflow UI: cycle, what was deployed, headline metrics, verdict."""
    deployed = deployment_params(result)
    how = ("refit on all matured weeks, " + deployed["calibration_method"] + "-calibrated on the "
           "newest cohort" if deployed["refit"]
           else "trained on the weeks before the validation cohort")
    roc = result.challenger.get("roc_auc", math.nan)
    failed = [g.name for g in result.gates.failed]
    verdict = "every gate passed" if not failed else "failed gate(s): " + ", ".join(failed)
    return (f"Cycle {result.cycle} (as of {result.as_of.date().isoformat()}): {how}; "
            f"ROC-AUC {roc:.3f} on the validation cohort; {verdict}.")


def listed(importance: pd.DataFrame) -> pd.DataFrame:
    """Signals worth naming: at least ``MIN_SIGNAL_SHARE`` of the total importance, as the
    report lists them."""
    if importance.empty:
        return importance
    share = importance["mean_abs_shap"] / (float(importance["mean_abs_shap"].sum()) or 1.0)
    return importance[share >= MIN_SIGNAL_SHARE]


def summarize(result: CycleResult, run_id: str, version: int, promote: bool) -> ReviewSummary:
    """What the cycle found and did, for the command line."""
    promoted = bool(result.gates.passed and promote)
    split_counts = dict(result.window, train_leads=len(result.train),
                        calib_leads=len(result.calib), valid_leads=len(result.valid),
                        valid_positives=int(result.labels.sum()))
    signals = listed(result.importance).head(TOP_SIGNALS)[["feature", "label", "group",
                                                             "direction"]]
    return ReviewSummary(
        cycle=result.cycle, as_of=result.as_of, run_id=run_id, labels=result.data.summary,
        split=split_counts, threshold=result.decision.as_dict(), models=compared_models(result),
        signals=signals.to_dict(orient="records"), group_shares=result.groups,
        gates=result.gates.as_dict(), version=version, champion_before=result.champion_version,
        champion_after=version if promoted else result.champion_version, promote=promote,
        notes=([result.champion_note] if result.champion_note else [])
        + ([result.tournament.sentence()] if result.tournament is not None else []),
        deployment=deployment_params(result),
    )


def _write_report(cycle: str, config: dict[str, Any], summary: ReviewSummary) -> str | None:
    """The leaders' report; its failure is only a note (the cycle itself succeeded)."""
    try:
        return str(write_report(cycle, config, out_dir=Path("reports")))
    except Exception as exc:  # noqa: BLE001 - the cycle itself succeeded; say what went wrong
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        summary.notes.append(f"the report could not be written ({first}); "
                             f"run `leadscore report --cycle {cycle}` to retry")
        return None
