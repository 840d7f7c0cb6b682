"""The leaders' report: one self-contained HTML page per cycle (``reports/<cycle>/index.html``).

``write_report(cycle, config, out_dir)`` reads the cycle's MLflow run (tag ``cycle``), the run
before it, and the store (read-only), writes the page and logs it on the run as the artifact
``report/index.html``, together with every figure it computed itself as ``report.*`` metrics.

The page opens offline: CSS inline, charts as inline SVG, no script, no external link. It holds
aggregates only (sources, campaigns, reason codes, grades), never a lead's personal data. Figures
are tagged with the metric they show (``training.report_figures``), so a test can compare the page
with the run.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from features.horizon import horizon_sentence
from leadscore.errors import LeadscoreError
from leadscore.files import write_whole
from training import charts
from training import report_duckdb as store
from training import report_mlflow as data
from training.cycle_name import check_cycle_name
from training.evaluate import metric_key
from training.report_figures import (
    Figures,
    a_or_an,
    plural,
    positive_name,
    sentence,
    words,
)
from training.report_glossary import glossary
from training.report_grades import flat_grade_parts, grade_rows
from training.report_model import conversion_section, model_section, weekly_format
from training.report_monitor import monitor_section
from training.report_sales import dispositions_section, high_intent_words, speed_section
from training.report_served import served_check, served_predictor
from training.report_signals import no_comparison

REPORT_ARTIFACT_DIR = "report"
TOP_SIGNALS = 12
MIN_SIGNAL_SHARE = 0.005
"""A signal is listed only when it carries at least this share of the total SHAP importance:
one with (near) zero impact says nothing about what predicts the outcome."""


def _band(config: dict[str, Any], run: data.CycleRun) -> tuple[float, float]:
    band = config["cycle"]["band"]
    lo = run.param("band_min")  # the names training.review_record.cycle_params writes
    hi = run.param("band_max")
    return (float(lo) if lo else float(band["min"]), float(hi) if hi else float(band["max"]))


def _signals(run: data.CycleRun, previous: data.CycleRun | None, figs: Figures,
             positive: str) -> dict[str, Any]:
    table = data.importance(run)
    if table is None:
        return {"available": False, "why": "the review logged no signal importance table"}
    # a last cycle whose model ranked no better than chance named no signal: its ranks are
    # noise, and "up from #6 last cycle" would compare with a ranking its report never gave
    chance = previous is not None and no_evidence({"gates": data.gates(previous)})
    prev = data.importance(previous) if previous is not None and not chance else None
    prev_rank = dict(zip(prev["feature"], prev["rank"], strict=True)) if prev is not None else {}
    total = float(table["importance"].sum()) or 1.0
    shares = {g: float(table.loc[table["group"] == g, "importance"].sum()) / total
              for g in ("fit", "intent")}
    rows = []
    for _, row in listed_signals(table).iterrows():
        key = f"report.signal.{metric_key(row['feature'])}"
        before = prev_rank.get(row["feature"])
        change = (before - row["rank"]) if before is not None else None
        rows.append({
            "label": row["label"], "group": row["group"], "direction": row["direction"],
            "rank": figs.put(key + ".rank", row["rank"], "count"),
            "previous": figs.put(key + ".previous_rank", before, "count") if before else "new",
            "change": change,
        })
    if not rows:
        return {"available": False,
                "why": "no signal carries a measurable share of the score this cycle"}
    moved = [r for r in rows if r["change"]]
    return {
        "available": True, "first_cycle": previous is None or prev is None, "rows": rows,
        **no_comparison(previous, chance),
        "fit_share": _share(figs, "fit", shares["fit"]),
        "intent_share": _share(figs, "intent", shares["intent"]),
        # a group with no weight at all (an export without activity has no intent signal) is
        # said in words, never as "explains 0.0%"
        "silent_group": next((g for g in ("intent", "fit") if _share_value(figs, g, shares[g])
                              <= 0.0), None),
        "top": table.iloc[0]["label"], "top_previous": prev_rank.get(table.iloc[0]["feature"]),
        "moved": moved,
        # the chart shows what the table lists: a zero-impact bar would name it a signal too
        "chart": charts.importance_chart(listed_signals(table), positive),
        "share_chart": charts.group_share_chart(shares),
    }


def listed_signals(table: pd.DataFrame, top: int = TOP_SIGNALS,
                   min_share: float = MIN_SIGNAL_SHARE) -> pd.DataFrame:
    """The strongest ``top`` signals whose share of the total importance is at least
    ``min_share`` (the table is sorted strongest first)."""
    total = float(table["importance"].sum())
    if total <= 0:
        return table.head(0)
    return table[table["importance"] / total >= min_share].head(top)


def _share_value(figs: Figures, group: str, computed: float) -> float:
    """The group's share as a number, from the same source ``_share`` shows."""
    logged = figs.value(f"importance.{group}")
    return logged if math.isfinite(logged) else computed


def _share(figs: Figures, group: str, computed: float):
    """The group's share of the score: the review's ``importance.<group>`` metric when logged."""
    key = f"importance.{group}"
    if math.isfinite(figs.value(key)):
        return figs.show(key, "pct")
    return figs.put(f"report.signals.{group}_share", computed, "pct")


def _grades(run, config, con, policy, client, figs: Figures) -> dict[str, Any]:
    scored = data.valid_scores(run)
    origin = "the review's scored validation cohort"
    if scored is None and run.as_of is not None:
        try:
            bundle = _bundle_of(client, config, run)
            scored = store.score_validation_cohort(con, bundle, policy, config, run.as_of)
            origin = "the cycle's model re-scoring the newest matured cohorts"
            if (bundle.manifest.get("deployment") or {}).get("refit"):
                origin += (" (it was refit on them too, so grades may look better here than "
                           "on new leads)")
        except Exception as exc:  # noqa: BLE001 - the rest of the report still stands
            return {"available": False, "why": f"could not score the validation cohort ({exc})"}
    if scored is None or scored.empty:
        return {"available": False, "why": "no scored validation cohort"}
    table = store.grade_table(scored)
    rows = grade_rows(table, figs)
    inversions = store.grade_inversions(table)
    figs.add("report.grade.inversions", len(inversions))
    return {"available": True, "rows": rows, "inversions": inversions, "origin": origin,
            "compared": store.grades_compared(table), "min_leads": store.MIN_GRADE_LEADS,
            "flat": flat_grade_parts(scored["grade"]),
            "count": figs.show("report.grade.inversions", "count"),
            "chart": charts.grade_chart(table)}


def _bundle_of(client, config, run: data.CycleRun):
    from training.registry import load_bundle, model_name

    name = model_name(config)
    found = client.search_model_versions(f"name = '{name}' and run_id = '{run.run_id}'")
    uri = f"models:/{name}/{found[0].version}" if found else f"runs:/{run.run_id}/model"
    return load_bundle(uri, config)[0]


def _unmatured(summary: dict[str, Any], figs: Figures):
    """The newer leads inside their maturity window, not counted yet: open ones and those
    already decided (they wait for their cohort to mature too; older runs did not log them)."""
    counts = []
    for key in ("unmatured_open_leads", "unmatured_decided_leads"):
        value = figs.value(f"labels.{key}")
        counts.append(value if math.isfinite(value) else float(summary.get(key) or 0))
    total = sum(counts)
    return figs.put("report.unmatured_leads", total, "count") if total else None


def _threshold_note(run: data.CycleRun) -> str:
    """The threshold's own sentence where the figures alone mislead: a band no cut-off meets,
    a threshold the share limit set (every lower cut-off also reached a wide band), or one that
    passes more MQLs a week than ``cycle.capacity_per_week``."""
    decision = data.threshold(run)
    feasible = decision.get("feasible", run.metrics.get("threshold_feasible", 1.0))
    shown = not feasible or decision.get("capped") or decision.get("over_capacity")
    return str(decision.get("message", "")) if shown else ""


def _cohort(check: store.CohortCheck, figs: Figures) -> dict[str, Any]:
    # every key the template reads, in every state (a weekly cycle has no matured "after" side)
    out: dict[str, Any] = {"verdict": check.verdict, "check": check, "chart": None,
                           "first_matures": None, "none_since": False, "since_n": None}
    if check.verdict == "first cycle":
        return out
    if check.split is not None and check.after_end is not None and check.after_end <= check.split:
        # nothing scored since the last review has matured: no window to name, only when one
        # opens, counted from the first lead that came in (none came in: nothing will open)
        if check.since_n is not None:
            out["since_n"] = figs.put("report.cohort.since_n", check.since_n, "count")
        out["none_since"] = check.since_n == 0
        first = check.first_after if check.first_after is not None else (
            check.split if check.since_n is None else None)
        if first is not None:
            out["first_matures"] = (pd.Timestamp(first) + timedelta(days=check.days)).strftime(
                "%Y-%m-%d %H:%M" if check.first_after is not None else "%Y-%m-%d")
    for name, fmt in (("days", "count"), ("after_n", "count"), ("after_rate", "pct"),
                      ("predicted", "pct"), ("diff", "pp"), ("ci_low", "pp"), ("ci_high", "pp"),
                      ("p_value", "p")):
        out[name] = figs.put(f"report.cohort.{name}", getattr(check, name), fmt)
    if check.after_n and math.isfinite(check.predicted):
        # the verdict's interval, moved onto the prediction: where the observed rate would land
        # by chance alone if the scores were right
        chance = (check.predicted + check.ci_low - check.diff,
                  check.predicted + check.ci_high - check.diff)
        out["chart"] = charts.cohort_chart(check.predicted, chance, check.after_rate,
                                           check.after_n)
    return out


def _served(counts: dict[str, int] | None, figs: Figures) -> dict[str, Any] | None:
    """The after-cohort by the MQL flag reps were shown (the score log), as figures."""
    if not counts or not counts["served"]:
        return None
    out: dict[str, Any] = {name: figs.put(f"report.cohort.served.{name}", counts[name], "count")
                           for name in ("leads", "served", "unserved", "mql_n", "rest_n")}
    out["raw"] = counts
    for part in ("mql", "rest"):
        n = counts[f"{part}_n"]
        out[f"{part}_rate"] = figs.put(f"report.cohort.served.{part}_sql_rate",
                                       counts[f"{part}_sqls"] / n if n else None, "pct")
    return out


def _champion_now(client, config: dict[str, Any]) -> int | None:
    """The version the champion alias points at as the report is written (after a promote or
    rollback it is no longer the review's)."""
    from training.registry import alias_version, model_name

    return alias_version(client, model_name(config), "champion")


def _predictor(client, config: dict[str, Any], run: data.CycleRun, con):
    """The serving model's scores for labelled rows: the champion this cycle started with."""
    from training.registry import load_bundle, model_name

    version = run.param("champion_version_before")
    if version is None or version == "none":
        return None
    try:
        bundle = load_bundle(f"models:/{model_name(config)}/{version}", config)[0]
    except Exception:  # noqa: BLE001 - without the model there is no prediction to compare
        return None
    return lambda rows: store.score_rows(con, bundle, config, rows)


def no_evidence(model: dict[str, Any]) -> bool:
    """True when the evidence gate failed: then no signal may be called predictive."""
    return any(g.get("name") == "evidence" and not g.get("passed")
               for g in (model.get("gates") or {}).get("gates", []))


def omitted(ctx: dict[str, Any]) -> dict[str, str]:
    """Sections left out for want of data, each with one line saying why."""
    titles = {"signals": "Signals", "dispositions": "Dispositions",
              "speed": "Speed to lead", "monitor": "Between reviews (the monitor)"}
    return {key: f"{title} left out: {ctx[key].get('why', 'no data this cycle')}."
            for key, title in titles.items() if key in ctx and not ctx[key].get("available")}


def build_context(cycle: str, config: dict[str, Any], client) -> tuple[dict[str, Any], Figures,
                                                                         data.CycleRun]:
    """Everything the template shows, and the figures to log on the run."""
    from features.label_policy import load_policy
    from features.labels import build_labels
    from features.store import connect
    from training.report_opening import outcome, previous_line, summary

    run = data.download(client, data.find_cycle_run(client, config, cycle))
    previous = data.previous_run(client, config, run)
    if previous is not None:
        data.download(client, previous)
    figs = Figures(run.run_id, run.metrics)
    as_of = run.as_of or run.started
    start = data.parse_time(run.param(*data.WINDOW_START_PARAMS))
    band = _band(config, run)
    policy = load_policy(config["labels"].get("policy"))
    maturity = int(config["labels"]["maturity_days"])
    positive = positive_name(config, data.label_summary(run))  # "won deal": as the review said
    with connect(config["store"], read_only=True) as con:
        frame = store.dispositioned_leads(con, policy, config, start, as_of)
        labels = build_labels(con, as_of, policy, maturity)
        labels = labels[labels["matured"]]
        ctx: dict[str, Any] = {
            "signals": _signals(run, previous, figs, positive),
            "dispositions": dispositions_section(
                frame, figs, positive, high_intent_words(config),
                store_dispositions=store.disposition_count(con),
                outcome_only=store.undispositioned_positives(con, policy, start, as_of)),
            "conversion": conversion_section(run, band, figs),
            "grades": _grades(run, config, con, policy, client, figs),
            "speed": speed_section(frame, labels, config, figs),
            "cohort": _cohort(store.cohort_check(con, policy, as_of,
                                                 previous.as_of if previous else None, maturity,
                                                 served_predictor(
                                                     _predictor(client, config, run, con),
                                                     config, until=as_of)),
                              figs),
        }
        ctx["cohort"]["served"] = _served(served_check(con, config, policy, as_of,
                                                       ctx["cohort"]["check"]), figs)
    ctx["model"] = model_section(run, figs)
    ctx["monitor"] = monitor_section(config, run, previous, figs)
    if no_evidence(ctx["model"]):
        ctx["signals"] = {"available": False, "why": (
            "the model does not rank leads better than chance beyond noise, so no signal "
            f"predicted {a_or_an(positive)}")}
    ctx.update(
        previous_line=previous_line(previous, data.later_dated_before(client, config, run),
                                    data.earlier_reviews(client, config, run)),
        cycle=cycle, run=run, previous=previous, band=band, as_of=as_of, window_start=start,
        promoted=data.promoted(run), figs=figs, positive=positive,
        high_intent=high_intent_words(config),
        champion_after=data.champion_after(run),
        champion_now=_champion_now(client, config),
        threshold={k: figs.show(k, f) for k, f in (
            ("threshold", "ratio"), ("threshold_ci_low", "pct"), ("threshold_ci_high", "pct"),
            ("conversion_at_threshold", "pct"), ("mqls_per_week", weekly_format(run)),
            ("volume_at_threshold", "count"))},
        # the review's own sentence, shown when no cut-off met the band (it says why)
        threshold_message=_threshold_note(run),
        # an infeasible band has no bootstrap interval: no "(95% interval n/a-n/a)"
        threshold_ci=all(math.isfinite(run.metric(k))
                         for k in ("threshold_ci_low", "threshold_ci_high")),
        no_evidence=no_evidence(ctx["model"]),
        maturity=figs.put("report.maturity_days", maturity, "count"),
        unmatured=_unmatured(data.label_summary(run), figs),
        unmatured_n=figs.value("report.unmatured_leads"),
        # the review date after the store's evidence: what that left unlabelled, in one line
        horizon_note=(horizon_sentence(data.label_summary(run)) or "").replace("`", ""),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    ctx["omitted"] = omitted(ctx)
    ctx["glossary"] = glossary(ctx)
    ctx["summary"] = summary(ctx)
    ctx["outcome_line"] = outcome(ctx)
    return ctx, figs, run


def render(ctx: dict[str, Any]) -> str:
    """The page's HTML from the context (``templates/report.html.j2``)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("training", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["words"] = words
    env.filters["a_or_an"] = a_or_an
    env.filters["plural"] = plural
    return env.get_template("report.html.j2").render(**ctx, sentence=sentence)


def _log(client, run_id: str, metrics: dict[str, float], path: Path) -> None:
    from mlflow.entities import Metric

    now = int(datetime.now(UTC).timestamp() * 1000)
    items = [Metric(k, float(v), now, 0) for k, v in sorted(metrics.items()) if math.isfinite(v)]
    for i in range(0, len(items), 500):
        client.log_batch(run_id, metrics=items[i:i + 500])
    client.log_artifact(run_id, str(path), REPORT_ARTIFACT_DIR)


def write_report(cycle: str, config: dict[str, Any], out_dir: Path | str = Path("reports")) -> Path:
    """Write ``<out_dir>/<cycle>/index.html`` for a review cycle and log it on the cycle's run.

    Raises:
        LeadscoreError: when the cycle has no run, or the store cannot be read.
    """
    from training.tracking import client as mlflow_client
    from training.tracking import missing_store

    cycle = check_cycle_name(cycle)
    from jinja2 import TemplateError

    if missing_store(config) is not None:  # nothing was reviewed here: do not create a store
        raise LeadscoreError(
            f"No review run for cycle {cycle!r}: there is no MLflow store at "
            f"{missing_store(config)} yet; run `leadscore review --cycle {cycle}` first.")
    client = mlflow_client(config)
    ctx, figs, run = build_context(cycle, config, client)
    try:
        html = render(ctx)
    except TemplateError as exc:  # a state the page does not cover: one sentence, no traceback
        raise LeadscoreError(
            f"The report for cycle {cycle!r} could not be rendered ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:160] if str(exc) else ''}): please report this, with "
            "the cycle's run id."
        ) from None
    path = Path(out_dir) / cycle / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, html)  # a full disk or a locked folder leaves the old page whole
    _log(client, run.run_id, figs.new, path)
    return path
