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
from scoring.bundle import ScoringBundle
from scoring.pyfunc import LeadScorePyfunc, output_signature, score_lead_frame
from training import cycle_guard, explain, registry
from training.cycle import CycleResult, band_of, train_and_evaluate
from training.cycle_name import check_cycle_name
from training.evaluate import calibration_table
from training.model import check_lightgbm
from training.report import MIN_SIGNAL_SHARE, write_report
from training.report_figures import positive_plural
from training.review_console import COMPARED_METRICS, ReviewSummary
from training.review_record import (
    cycle_metrics,
    cycle_params,
    deployment_params,
    version_description,
    version_tags,
    write_artifacts,
)
from training.threshold import band_text
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


def pyfunc_model(bundle_dir: Path, as_of: datetime,
                 attribute_columns: Sequence[str] = ()) -> dict[str, Any]:
    """What a review logs as the pyfunc model (``mlflow.pyfunc.log_model``'s or ``save_model``'s
    arguments but the name and requirements): the model, its bundle, its input example, and a
    signature of its outputs only (``scoring.pyfunc.output_signature``): the pyfunc checks the
    leads itself, as ``leadscore score`` does."""
    example = input_example(as_of, attribute_columns)
    output = score_lead_frame(ScoringBundle.load(bundle_dir), example.iloc[:1], now=as_of).frame()
    return {"python_model": LeadScorePyfunc(), "artifacts": {"bundle": str(bundle_dir)},
            "input_example": example, "signature": output_signature(output)}


# ---- the steps after training: log, register, summarise ------------------------------------

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
    cycle = check_cycle_name(cycle)  # before anything is read or written
    review_date = parse_as_of(as_of)
    check_lightgbm(config)
    with connect(config["store"], read_only=True):
        pass  # no store, no run: say so before MLflow creates anything
    lag = review_lag(config, review_date)  # stops here when the window cuts too many positives
    # one review per registry at a time; what killed reviews left behind is tidied under the lock
    with cycle_guard.review_lock(config):
        live = merge_live(config)  # what the API received joins this cycle's data, by key
        experiment_id = setup_tracking(config)
        cycle_guard.close_killed_runs(mlflow_client(config), experiment_id)
        before = _finished_reviews(mlflow_client(config), experiment_id)
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
    summary.notes.extend(order_notes(before, cycle, review_date, version,
                                     matured=int(result.data.summary.get(
                                         "assembled_leads", len(result.data.frame))),
                                     maturity_days=int(config["labels"]["maturity_days"])))
    changed = band_note(before, review_date, band_of(config))
    if changed:
        summary.notes.append(changed)
    # "won deals": the config's name, else named from the positives' verdicts, as the report
    summary.positives = positive_plural(config, result.data.summary)
    summary.notes.insert(0, lag.line())
    if live is not None:
        summary.notes.insert(0, live.line())
    summary.report = _write_report(cycle, config, summary)
    return summary


def _finished_reviews(client, experiment_id: str) -> list:
    """The registry's completed review runs, newest first."""
    runs = client.search_runs([experiment_id], filter_string="attributes.status = 'FINISHED'",
                              order_by=["attributes.start_time DESC"], max_results=500)
    return [r for r in runs if "cycle" in r.data.tags]


def order_notes(before: Sequence, cycle: str, review_date: datetime, version: int,
                matured: int | None = None, maturity_days: int | None = None) -> list[str]:
    """What a review says of the reviews before it: the same cycle reviewed again, a date
    earlier than the last review's (a typo in --as-of, or a deliberate replay), or, dated after
    it, fewer ``matured`` leads than it learned from (a store re-created from a smaller export,
    or a longer ``maturity_days`` than the last review's, which the note then names)."""
    notes = []
    same = [r for r in reversed(before) if r.data.tags["cycle"] == cycle]
    if same:
        earlier = ", ".join(f"v{r.data.tags['model_version']}" for r in same
                            if r.data.tags.get("model_version")) or "no version registered"
        notes.append(f"Cycle {cycle} was reviewed before ({earlier}); this review registers "
                     f"v{version}, and `leadscore report --cycle {cycle}` now reports this one.")
    last = before[0] if before else None
    day = review_date.date().isoformat()
    if last is not None and (last.data.tags.get("as_of") or "") > day:
        notes.append(f"This review is dated {day}, before the last review (cycle "
                     f"{last.data.tags['cycle']}, as of {last.data.tags['as_of']}): it learns "
                     "from less evidence than that one did, and its report compares it with the "
                     "last cycle dated on or before it.")
    elif last is not None and matured is not None:
        learned = last.data.metrics.get("labels.matured_leads")
        if learned is not None and matured < learned:
            name = last.data.tags["cycle"]
            when = "after" if last.data.tags.get("as_of", "") < day else "the same day as"
            head = (f"This review, dated {when} the last one (cycle {name}, as of "
                    f"{last.data.tags.get('as_of')}), learns from fewer matured leads than it did "
                    f"({matured:,} against {learned:,.0f})")
            then = last.data.params.get("maturity_days")
            if maturity_days is not None and then is not None and str(then) != str(maturity_days):
                notes.append(f"{head}: labels.maturity_days is {maturity_days} now, {then} then, "
                             "so fewer leads have had their window pass; its comparisons with "
                             f"cycle {name} read labels matured under another window.")
            else:
                notes.append(f"{head}: the store holds less history than it did then "
                             "(re-created from a smaller export?), so check that nothing was lost "
                             f"before reading its comparisons with cycle {name}.")
    return notes


def band_note(before: Sequence, review_date: datetime, band: dict[str, float]) -> str | None:
    """A sentence when the agreed band differs from the one the last review dated on or before
    this one was held to: its threshold, conversion and gate answered another target."""
    day = review_date.date().isoformat()
    last = next((r for r in before if (r.data.tags.get("as_of") or "") <= day), None)
    if last is None:
        return None
    try:
        then = (float(last.data.params["band_min"]), float(last.data.params["band_max"]))
    except (KeyError, ValueError):
        return None
    now = (float(band["min"]), float(band["max"]))
    if all(math.isclose(a, b) for a, b in zip(then, now, strict=True)):
        return None
    return (f"The agreed band changed since the last review (cycle {last.data.tags['cycle']}, "
            f"as of {last.data.tags.get('as_of')}): {band_text(*then)} then, "
            f"{band_text(*now)} now (cycle.band), so the two reviews' thresholds and conversions "
            "answer different targets.")


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
    summary = result.data.summary  # where the store's evidence ends, findable in the runs list
    mlflow.set_tags({"data_horizon": summary.get("horizon_day") or "none",
                     "data_horizon_source": summary.get("horizon_source") or "none"})
    if result.tournament is not None:
        log_tournament(result.tournament)
    mlflow.log_metrics(cycle_metrics(result))
    comparison = pd.DataFrame({
        name: {key: metrics.get(key, math.nan) for key, _, _ in COMPARED_METRICS}
        for name, metrics in compared_models(result).items()
    })
    with tempfile.TemporaryDirectory(prefix=cycle_guard.temp_prefix("review")) as tmp:
        folder = Path(tmp) / "evaluation"
        write_artifacts(
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
            **pyfunc_model(bundle_dir, result.as_of, [
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
