"""``leadscore review --cycle ID``: one retrain-evaluate-gate-register pass, as one MLflow run.

labels + features as of the review date -> time-ordered split -> train the challenger -> score the
newest matured cohort -> threshold from the agreed band -> evaluate challenger, champion and the two
baselines on that same cohort -> SHAP importance -> gates -> log everything -> register the version
-> move the aliases.

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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.outcome_lag import review_lag
from leadscore.errors import LeadscoreError
from training import cycle_guard
from training.review_console import COMPARED_METRICS, ReviewSummary

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


def aligned_frame(frame: pd.DataFrame, feature_names: list[str]) -> pd.DataFrame:
    """``frame`` with every column a model needs; a feature this cycle lacks is missing (NaN)."""
    missing = [n for n in feature_names if n not in frame.columns]
    if not missing:
        return frame
    extra = pd.DataFrame({n: np.nan for n in missing}, index=frame.index)
    return pd.concat([frame, extra], axis=1)


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


# ---- the cycle ----------------------------------------------------------------------------------

def _evaluate(scores: np.ndarray, valid: pd.DataFrame, threshold: float, weeks: int) -> dict:
    from training.evaluate import evaluate

    return evaluate(scores, valid["label"].to_numpy(), threshold=threshold,
                    sources=valid["source"].to_numpy(dtype=object), weeks=weeks)


def _champion(config: dict[str, Any], valid: pd.DataFrame, weeks: int):
    """The current champion's version and its metrics on ``valid`` (None, None without one).

    A champion that cannot be loaded or scored (say, logged by an incompatible release) does not
    stop the cycle: its metrics are NaN, so the PR-AUC gate fails and nothing is promoted
    automatically; the note says why.
    """
    from scoring.bundle import score_frame
    from training import registry
    from training.tracking import client

    name = registry.model_name(config)
    version = registry.alias_version(client(config), name, registry.CHAMPION)
    if version is None:
        return None, None, None
    try:
        bundle, _ = registry.load_bundle(f"models:/{name}/{version}", config)
        scores = score_frame(bundle, aligned_frame(valid, bundle.feature_names))["score"]
        metrics = _evaluate(scores.to_numpy(), valid, bundle.threshold, weeks)
        return version, metrics, None
    except Exception as exc:  # noqa: BLE001 - see docstring
        note = (f"the champion v{version} could not be evaluated ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:160] if str(exc) else ''}); it is kept until a "
                "person promotes a version")
        return version, {"pr_auc": math.nan, "ece": math.nan}, note


def _baselines(train, valid, specs, seed, weeks, band) -> dict[str, dict[str, float]]:
    """Logistic and points baselines on ``valid``, each at its own band threshold."""
    from training.baselines import fit_logistic, points_model
    from training.threshold import choose_threshold

    out = {}
    cohort_labels = valid["label"].to_numpy()
    for model in (fit_logistic(train, specs, seed=seed), points_model(specs, train)):
        scores = np.asarray(model.predict_proba(valid), dtype=np.float64)
        decision = choose_threshold(scores, cohort_labels, weeks, band, rounds=0, seed=seed)
        cut = decision.threshold if math.isfinite(decision.threshold) else math.inf
        metrics = _evaluate(scores, valid, cut, weeks)
        metrics["threshold"] = decision.threshold
        out[model.name] = metrics
    return out


def _write_artifacts(folder: Path, *, decision, gates, label_summary, specs, valid, scores,
                     importance, groups, comparison, calibration) -> None:
    from training import explain

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
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for package in ("mlflow", "lightgbm", "numpy", "pandas", "pyyaml"):
        try:
            out.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            out.append(package)
    return out


def run_review(
    cycle: str, as_of: str | datetime | None, config: dict[str, Any], promote: bool = True
) -> ReviewSummary:
    """Run one review cycle end to end; return what it found and did.

    Args:
        cycle: the cycle's name (``2026-W47``); tags the MLflow run.
        as_of: the review date (``YYYY-MM-DD``); None means today.
        config: the leadscore config.
        promote: move ``champion`` when every gate passes (False: register and tag only).

    Raises:
        LeadscoreError: a problem the user can fix (no store, unknown codes, too little data); the
            run is marked FAILED and the registry is untouched.
    """
    import mlflow

    from training.tracking import client as tracking_client
    from training.tracking import quiet_mlflow, setup_tracking

    if not cycle or not str(cycle).strip():
        raise LeadscoreError("--cycle is empty: name the review cycle, e.g. 2026-W47.")
    cycle = str(cycle).strip()
    review_date = parse_as_of(as_of)
    from features.store import connect

    with connect(config["store"], read_only=True):
        pass  # no store, no run: say so before MLflow creates anything
    lag = review_lag(config, review_date)  # stops here when the window cuts too many positives
    # one review per registry at a time; what killed reviews left behind is tidied under the lock
    with cycle_guard.review_lock(config):
        experiment_id = setup_tracking(config)
        cycle_guard.close_killed_runs(tracking_client(config), experiment_id)
        cycle_guard.remove_orphan_folders()
        tags = {"cycle": cycle, "as_of": review_date.date().isoformat(),
                "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                **cycle_guard.owner_tags()}
        with quiet_mlflow(), mlflow.start_run(experiment_id=experiment_id,
                                              run_name=f"review {cycle}", tags=tags) as run:
            mlflow.log_metrics({f"outcome_lag_{k}": float(v) for k, v in lag.as_dict().items()
                                if v is not None})
            summary = _run_cycle(run.info.run_id, cycle, review_date, config, promote)
    summary.notes.insert(0, lag.line())
    summary.report = _write_report(cycle, config, summary)
    return summary


def _run_cycle(run_id: str, cycle: str, as_of: datetime, config: dict[str, Any],
               promote: bool) -> ReviewSummary:
    import mlflow

    from features.labels import load_policy
    from features.store import connect
    from scoring.bundle import score_frame
    from scoring.pyfunc import LeadScorePyfunc
    from training import dataset, explain, registry
    from training.evaluate import calibration_table
    from training.gates import decide
    from training.model import lightgbm_params, train_bundle
    from training.threshold import choose_threshold
    from training.tracking import client as mlflow_client

    cycle_config = config["cycle"]
    seed = int(cycle_config["seed"])
    band = {"min": float(cycle_config["band"]["min"]), "max": float(cycle_config["band"]["max"])}

    # 1. data: labels + features as of the review date, split by cohort
    policy = load_policy(config["labels"].get("policy"))
    with connect(config["store"], read_only=True) as con:
        data = dataset.assemble(con, as_of, config, policy)
    train, calib, valid = dataset.split(data, int(cycle_config["validation_weeks"]))
    window = data_window(train, calib, valid)
    weeks = int(valid["cohort"].nunique())

    # 2. the challenger
    meta = {
        "cycle": cycle,
        "trained_at": as_of.isoformat(),  # deterministic: the wall-clock time is a run tag
        "as_of": as_of.isoformat(),
        "label_policy_hash": policy.hash,
        "label_policy_version": policy.version,
        "data_window": window,
    }
    bundle = train_bundle(train, calib, data.specs, config, seed=seed, meta=meta,
                          attribute_roles=data.attribute_roles)
    scores = score_frame(bundle, valid)

    # 3. the threshold from the band, on the newest matured cohort
    labels = valid["label"].to_numpy()
    decision = choose_threshold(scores["score"].to_numpy(), labels, weeks, band,
                                rounds=int(cycle_config["bootstrap_rounds"]), seed=seed)
    threshold = decision.threshold if math.isfinite(decision.threshold) else 1.0
    bundle.manifest["threshold"] = float(threshold)
    scores["is_mql"] = scores["score"] >= threshold

    # 4. challenger, champion and baselines on the same cohort
    challenger = _evaluate(scores["score"].to_numpy(), valid, threshold, weeks)
    challenger.update(
        threshold=decision.threshold, threshold_ci_low=decision.ci_low,
        threshold_ci_high=decision.ci_high, expected_conversion=decision.expected_conversion,
        share_of_leads=decision.share_of_leads, threshold_feasible=float(decision.feasible),
    )
    champion_version, champion, champion_note = _champion(config, valid, weeks)
    baselines = _baselines(train, valid, data.specs, seed, weeks, band)

    # 5. why: SHAP on the validation cohort
    X_valid = bundle.encoder.transform(valid)
    importance = explain.global_importance(bundle, X_valid, valid)
    groups = explain.group_importance(importance)

    # 6. gates (pure)
    gates = decide(challenger, champion, feasible=decision.feasible,
                   threshold_message=decision.message,
                   band=(band["min"], band["max"]), gates_config=cycle_config["gates"])

    headline = {k: challenger[k] for k in ("roc_auc", "pr_auc", "brier", "ece",
                                           "lift_top_decile", "conversion_at_threshold",
                                           "mqls_per_week") if k in challenger}
    bundle.manifest.update(
        threshold_decision=decision.as_dict(),
        threshold_feasible=bool(decision.feasible),
        metrics=headline,
        gates=gates.as_dict(),
    )

    # 7. log everything on the run
    names = {"challenger": challenger}
    if champion is not None:
        names[f"champion v{champion_version}"] = champion
    names.update({f"{k} baseline": v for k, v in baselines.items()})
    comparison = pd.DataFrame({
        name: {key: metrics.get(key, math.nan) for key, _, _ in COMPARED_METRICS}
        for name, metrics in names.items()
    })
    lgb_params, rounds = lightgbm_params(config, seed)
    params: dict[str, Any] = {
        "cycle": cycle,
        "as_of": as_of.date().isoformat(),
        "label_policy_hash": policy.hash,
        "label_policy_version": policy.version,
        "maturity_days": config["labels"]["maturity_days"],
        "validation_weeks": cycle_config["validation_weeks"],
        "seed": seed,
        "band_min": band["min"],
        "band_max": band["max"],
        "bootstrap_rounds": cycle_config["bootstrap_rounds"],
        **{f"gates.{k}": v for k, v in cycle_config["gates"].items()},
        **window,
        "train_leads": len(train),
        "calib_leads": len(calib),
        "valid_leads": len(valid),
        "n_features": len(data.specs),
        "features": param_text([s.name for s in data.specs]),
        "features.fit": param_text([s.name for s in data.specs if s.group == "fit"]),
        "features.intent": param_text([s.name for s in data.specs if s.group == "intent"]),
        **{f"lightgbm.{k}": v for k, v in lgb_params.items()},
        "lightgbm.num_boost_round": rounds,
        "champion_version_before": champion_version if champion_version is not None else "none",
    }
    mlflow.log_params(params)
    metrics = metric_items("", challenger)
    if champion is not None:
        metrics.update(metric_items("champion", champion))
    for name, values in baselines.items():
        metrics.update(metric_items(f"baseline.{name}", values))
    metrics.update({f"importance.{g}": s for g, s in groups.items()})
    metrics.update({f"gate.{g.name}": float(g.passed) for g in gates.gates})
    metrics.update({
        "labels.matured_leads": float(data.summary.get("assembled_leads", len(data.frame))),
        "labels.positives": float(data.summary.get("assembled_positives", 0)),
        "labels.unmatured_open_leads": float(data.summary.get("unmatured_open_leads", 0)),
        "labels.unmatured_open_cohorts": float(data.summary.get("unmatured_open_cohorts", 0)),
        "train_leads": float(len(train)),
        "valid_leads": float(len(valid)),
        "valid_positives": float(labels.sum()),
    })
    mlflow.log_metrics(metrics)

    will_promote = bool(gates.passed and promote)
    with tempfile.TemporaryDirectory(prefix=cycle_guard.temp_prefix("review")) as tmp:
        tmp = Path(tmp)
        _write_artifacts(
            tmp / "evaluation", decision=decision, gates=gates, label_summary=data.summary,
            specs=data.specs, valid=valid, scores=scores, importance=importance, groups=groups,
            comparison=comparison, calibration=calibration_table(scores["score"], labels),
        )
        mlflow.log_artifacts(str(tmp / "evaluation"))
        bundle_dir = bundle.save(tmp / "bundle")
        model_info = mlflow.pyfunc.log_model(
            name="model",
            python_model=LeadScorePyfunc(),
            artifacts={"bundle": str(bundle_dir)},
            input_example=input_example(as_of, [
                column for column, (role, _) in sorted(data.attribute_roles.items())
                if role in ("fit", "intent")
            ]),
            registered_model_name=registry.model_name(config),
            pip_requirements=_pip_requirements(),
        )
    version = int(model_info.registered_model_version)
    mlflow.set_tags({
        "model_version": str(version),
        "gates_passed": str(gates.passed).lower(),
        "promoted": str(will_promote).lower(),
        "promote_requested": str(promote).lower(),
        "trained_at_wall": datetime.now(UTC).isoformat(timespec="seconds"),
        **{f"gate.{g.name}": "pass" if g.passed else "fail" for g in gates.gates},
    })

    # 8. the registry, last: the aliases move only when everything above succeeded
    client = mlflow_client(config)
    name = registry.model_name(config)
    registry.set_challenger(client, name, version)
    champion_after = champion_version
    if will_promote:
        registry.set_champion(client, name, version)
        champion_after = version

    split_counts = dict(window, train_leads=len(train), calib_leads=len(calib),
                        valid_leads=len(valid), valid_positives=int(labels.sum()))
    models = {"challenger": challenger}
    if champion is not None:
        models[f"champion v{champion_version}"] = champion
    models.update({f"{k} baseline": v for k, v in baselines.items()})
    signals = importance.head(TOP_SIGNALS)[["feature", "label", "group", "direction"]]
    return ReviewSummary(
        cycle=cycle, as_of=as_of, run_id=run_id, labels=data.summary, split=split_counts,
        threshold=decision.as_dict(), models=models, signals=signals.to_dict(orient="records"),
        group_shares=groups, gates=gates.as_dict(), version=version,
        champion_before=champion_version, champion_after=champion_after, promote=promote,
        notes=[champion_note] if champion_note else [],
    )


def _write_report(cycle: str, config: dict[str, Any], summary: ReviewSummary) -> str | None:
    """The leaders' report, when ``training.report`` is installed; its failure is only a note."""
    try:
        from training.report import write_report
    except ImportError:
        return None
    try:
        return str(write_report(cycle, config, out_dir=Path("reports")))
    except Exception as exc:  # noqa: BLE001 - the cycle itself succeeded; say what went wrong
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        summary.notes.append(f"the report could not be written ({first}); "
                             f"run `leadscore report --cycle {cycle}` to retry")
        return None
