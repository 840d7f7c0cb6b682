"""``leadscore backtest``: replay review cycles on the same store and score what came next.

For cycle ``i`` the review date is ``start + i * every``. As of that date a review is replayed
exactly as ``leadscore review`` runs it (``training.cycle.train_and_evaluate``: labels known then,
features as of each lead's scoring moment, gates, the refit that would be deployed), without
touching the registry. The leads that became scoreable in the following period,
``[as_of, as_of + every)``, are then scored by

- ``trained_once``: the model deployed by the first cycle, never retrained;
- ``retrained``: the model deployed by this cycle's review, whatever its gates said;
- ``champion``: the model the gates would have kept (the first cycle's model only once a cycle
  passed every gate; before any promotion there is no champion and its row is empty).

Every period is scored against the labels a review builds as of the later of the store's data
horizon (its last record, or a declared export date: ``features.horizon``) and the day the last
period's maturity windows close, so every verdict the store holds counts as in the review
(``training.backtest_labels``). A replayed review reads labels as of its own date, as it would
have then; where verdicts recorded later drop leads of its validation cohort, the table's notes
say how many, since its gates (and so the champion column) judged labels the store no longer
holds. Maturity follows the review's rule: a period lead whose window ends after the horizon is
unknown, not a "no conversion" negative, so it is left out, and the notes say how many.

Each model scores at its own threshold. Per cycle and on average: ROC-AUC, PR-AUC, Brier score,
calibration error, conversion at the threshold against the band, MQLs per week. Everything is
logged to one MLflow run (``backtest``): per-cycle metrics as steps, means as
``mean.<model>.<metric>``, and the table as ``backtest.csv``. Each model's mean ROC-AUC comes
with a 95 % bootstrap interval (each period resampled within itself), and the output says when it
includes 0.5: then that model ranked the periods no better than chance beyond noise. The verdict
on retraining (retrained against trained_once in mean Brier score) comes with a paired 95 %
bootstrap interval of the gap, each period's leads resampled within it: "better" or "worse" is
said only when the interval excludes 0, otherwise the two do not differ beyond noise.
"""

from __future__ import annotations

import math
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from features.label_policy import load_policy
from features.store import connect
from leadscore.errors import LeadscoreError
from scoring.bundle import score_frame
from training import cycle_guard
from training.backtest_labels import later_dropped, read_outcomes
from training.backtest_verdicts import (
    brier_gap_interval,
    chance_sentence,
    mean_roc_interval,
    one_outcome_sentence,
    retraining_sentence,
    thin_period_sentence,
)
from training.cycle import band_of, train_and_evaluate
from training.dataset import aligned_frame
from training.evaluate import evaluate
from training.model import check_lightgbm
from training.report_figures import positive_name
from training.review_console import weekly
from training.threshold import band_text
from training.tracking import quiet_mlflow, setup_tracking

__all__ = ["Backtest", "brier_gap_interval", "chance_sentence", "mean_roc_interval",
           "retraining_sentence", "run_backtest"]

MODELS = ("trained_once", "retrained", "champion")
METRICS = (("roc_auc", "ROC-AUC", "{:.3f}"), ("pr_auc", "PR-AUC", "{:.3f}"),
           ("brier", "Brier", "{:.4f}"), ("ece", "Cal. error", "{:.3f}"),
           ("conversion_at_threshold", "Conv. at thr.", "{:.1%}"),
           ("mqls_per_week", "MQLs/week", None))
MIN_PERIOD_LEADS = 20
_EVERY = re.compile(r"^\s*(\d+)\s*([dw])\s*$", re.IGNORECASE)


def parse_every(text: str) -> timedelta:
    """``4w`` or ``28d`` as a timedelta.

    Raises:
        LeadscoreError: anything else.
    """
    match = _EVERY.match(str(text))
    if not match or int(match.group(1)) < 1:
        raise LeadscoreError(
            f"--every {text!r} is not a period: give weeks or days, e.g. 4w or 28d.")
    n = int(match.group(1))
    return timedelta(weeks=n) if match.group(2).lower() == "w" else timedelta(days=n)


@dataclass
class Backtest:
    """The backtest's table (one row per cycle and model) and its means."""

    rows: pd.DataFrame
    band: dict[str, float]
    run_id: str | None = None
    notes: list[str] = field(default_factory=list)
    labels_as_of: datetime | None = None  # the review date the scored labels are built as of
    horizon: str = ""  # the day the store's evidence runs to, and why (features.horizon)
    horizon_source: str = ""
    # each model's 95 % bootstrap interval of its mean ROC-AUC over the periods it scored
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    # retrained minus trained_once in mean Brier score, and its paired 95 % bootstrap interval
    brier_gap: tuple[float, float, float] | None = None

    @property
    def means(self) -> pd.DataFrame:
        """Each model's mean over the cycles it scored (``cycles`` says how many).

        A model scored a cycle when it has any figure there (the champion has none before the
        first promotion). A figure missing in one of those cycles (conversion where a threshold
        marked no lead) leaves its mean missing too: a mean over fewer cycles than the row says
        would not compare with the others.
        """
        keys = [k for k, _, _ in METRICS]
        out = {}
        for model, group in self.rows.groupby("model", sort=False):
            scored = group.loc[group[keys].notna().any(axis=1), keys]
            out[model] = pd.Series({**scored.mean(skipna=False).to_dict(),
                                    "cycles": float(len(scored))})
        return pd.DataFrame(out).T[[*keys, "cycles"]]

    def mean(self, model: str, metric: str) -> float:
        return float(self.means.loc[model, metric])

    def wins(self, model: str, other: str, metric: str) -> tuple[int, int]:
        """In how many cycles after the first ``model`` scored lower ``metric`` than ``other``."""
        table = self.rows.pivot(index="cycle", columns="model", values=metric).iloc[1:]
        both = table[[model, other]].dropna()
        return int((both[model] < both[other]).sum()), len(both)

    def __str__(self) -> str:
        buffer = StringIO()
        console = Console(file=buffer, width=140, force_terminal=False, color_system=None,
                          highlight=False, soft_wrap=True)
        band = band_text(self.band["min"], self.band["max"])
        table = Table(title=f"Backtest: the period after each review (band {band})",
                      title_justify="left", show_edge=False, pad_edge=False)
        for column in ("cycle", "as of", "leads", "model", *(t for _, t, _ in METRICS), "band"):
            table.add_column(column, justify="left" if column in ("model", "band") else "right")
        for _, row in self.rows.iterrows():
            table.add_row(str(row["cycle"]), row["as_of"], f"{int(row['leads']):,}",
                          row["model"], *_cells(row), row["in_band"])
        total = int(self.rows["cycle"].nunique())
        for model, means in self.means.iterrows():
            k = int(means["cycles"])
            table.add_row("mean", f"{k} of {_cycles(total)}" if k < total else _cycles(total),
                          "", model, *_cells(means), "")
        console.print(table)
        retrained, once = self.mean("retrained", "brier"), self.mean("trained_once", "brier")
        wins, later = self.wins("retrained", "trained_once", "brier")
        if total == 1:
            console.print("One cycle replays one review, where the model retrained every cycle "
                          "and the one trained once are the same model: give --cycles 2 or more "
                          "to compare them.")
        elif later == 0:
            # in the first cycle the two are one model: no cycle says anything about retraining
            console.print("No cycle after the first had leads to score, so nothing tells "
                          "retraining every cycle from training once; give the backtest a span "
                          "the store's history covers (an earlier --from, or fewer cycles).")
        elif math.isfinite(retrained) and math.isfinite(once):
            console.print(retraining_sentence(retrained, once, wins, later, self.brier_gap))
        chance = chance_sentence(self.intervals)
        if chance:
            console.print(chance)
        if "gates_passed" in self.rows and not self.rows["gates_passed"].any():
            console.print("No replayed review passed every gate, so the gates would have "
                          "promoted no model: the champion's rows are blank.")
        for note in self.notes:
            console.print(note)
        if self.run_id:
            console.print(f"MLflow run {self.run_id[:12]} (backtest).")
        return buffer.getvalue().rstrip()


def _cycles(n: int) -> str:
    return f"{n} cycle{'' if n == 1 else 's'}"


def _cells(row) -> list[str]:
    out = []
    for key, _, fmt in METRICS:
        value = row.get(key)
        if value is None or not math.isfinite(value):
            out.append("-")
        else:  # MQLs a week: a decimal below 10, so 0.4 a week is not "0"
            out.append(weekly(value) if fmt is None else fmt.format(value))
    return out


def _in_band(conversion: float, band: dict[str, float]) -> str:
    if not math.isfinite(conversion):
        return "-"
    if conversion < band["min"]:
        return "below"
    return "above" if conversion > band["max"] else "in band"


def score_period(bundle, period: pd.DataFrame,
                 weeks: float) -> tuple[dict[str, float], np.ndarray]:
    """One model's metrics on a period's matured leads, at the model's own threshold, and its
    scores."""
    scores = score_frame(bundle, aligned_frame(period, bundle.feature_names))["score"].to_numpy()
    return (evaluate(scores, period["label"].to_numpy(), threshold=bundle.threshold,
                     weeks=weeks), scores)


def _day(value: datetime) -> str:
    return value.date().isoformat()


def _leads(n: int) -> str:
    return f"{n:,} lead" if n == 1 else f"{n:,} leads"


def run_backtest(config: dict[str, Any], start: str | datetime, every: timedelta,
                 cycles: int) -> Backtest:
    """Replay ``cycles`` reviews from ``start`` every ``every`` and score each next period.

    Raises:
        LeadscoreError: no store, a bad date, fewer than one cycle, or too little data for a
            cycle's review (the same sentence ``leadscore review`` gives).
    """
    if cycles < 1:
        raise LeadscoreError(f"--cycles {cycles} is too few: replay at least 1 cycle.")
    check_lightgbm(config)
    first = pd.Timestamp(start).to_pydatetime().replace(tzinfo=None)
    dates = [first + i * every for i in range(cycles)]
    if not _leads_after(config, first):
        # every period after a replayed review would be empty: say so before training anything
        raise LeadscoreError(
            f"--from {_day(first)} is after the store's last lead{_last_lead(config)}, so no "
            "period after a replayed review has a lead to score: give an earlier --from.")
    maturity = int(config["labels"]["maturity_days"])
    policy = load_policy(config["labels"].get("policy"))
    with connect(config["store"], read_only=True) as con:
        outcomes = read_outcomes(con, config, policy,
                                 dates[-1] + every + timedelta(days=maturity))
    horizon = outcomes.horizon
    notes = [f"Each period is scored against the labels a review as of {_day(outcomes.as_of)} "
             f"builds (maturity {maturity} days), so every verdict in the store counts; its "
             f"evidence runs to {horizon.runs_to.isoformat()} ({horizon.source})."]
    band = band_of(config)
    rows: list[dict[str, Any]] = []
    scored: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {m: [] for m in MODELS}
    pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # once, retrained, labels
    once = champion = None
    champion_version = None
    named_by = None  # the newest review's label summary: what its positives are called
    for i, as_of in enumerate(dates):
        try:
            result = train_and_evaluate(f"backtest-{i + 1}", as_of, config,
                                        champion=(champion_version, champion, None),
                                        explain_model=False)
        except LeadscoreError as exc:
            # a later first date helps only where the store holds leads created after this one
            later = (" For a backtest, a later --from gives the first cycle more matured history."
                     if _leads_after(config, as_of) else "")
            raise LeadscoreError(
                f"Backtest cycle {i + 1} (as of {_day(as_of)}): {exc}{later}") from None
        deployed, named_by = result.deployed, result.data.summary
        if once is None:
            once = deployed
        if result.gates.passed:
            champion, champion_version = deployed, i + 1
        period = outcomes.period(as_of, as_of + every)
        censored, unverdicted = outcomes.past_horizon(as_of, as_of + every)
        if censored:
            notes.append(
                f"Cycle {i + 1}: {_leads(censored)} of the period after {_day(as_of)} "
                f"{'is' if censored == 1 else 'are'} left out of its scoring, as a review leaves "
                f"{'it' if censored == 1 else 'them'}: {'its' if censored == 1 else 'their'} "
                f"{maturity}-day window ends after the store's evidence "
                f"({horizon.runs_to.isoformat()}, {horizon.source}), so "
                f"{'it has' if censored == 1 else 'they have'} not matured ({unverdicted:,} with "
                "no verdict, not counted as no conversion); if the export was taken later, "
                "declare it with `exported_at:` in the mapping or `leadscore ingest "
                "--exported-at`.")
        dropped, negatives = later_dropped(result.valid, outcomes)
        if dropped:
            notes.append(
                f"Cycle {i + 1}'s review judged its gates on {_leads(len(result.valid))} "
                f"labelled as of {_day(as_of)}; verdicts recorded later drop {dropped:,} of them "
                f"({negatives:,} it counted as negatives), so its gates"
                f"{' (and the champion it made)' if result.gates.passed else ''} read labels a "
                f"review as of {_day(outcomes.as_of)} would not.")
        weeks = every / timedelta(weeks=1)
        period_scores: dict[str, np.ndarray] = {}
        for name, bundle in (("trained_once", once), ("retrained", deployed),
                             ("champion", champion)):
            measured: dict[str, float] = {}
            if bundle is not None and len(period) >= MIN_PERIOD_LEADS:
                measured, scores = score_period(bundle, period, weeks)
                scored[name].append((scores, period["label"].to_numpy()))
                period_scores[name] = np.asarray(scores, dtype=np.float64)
            row = {"cycle": i + 1, "as_of": _day(as_of), "leads": len(period),
                   "positives": int(period["label"].sum()), "past_horizon": censored,
                   "model": name, "gates_passed": bool(result.gates.passed),
                   "review_valid_leads": len(result.valid), "review_valid_dropped": dropped,
                   **{k: float(measured.get(k, math.nan)) for k, _, _ in METRICS}}
            row["in_band"] = _in_band(row["conversion_at_threshold"], band)
            rows.append(row)
        if "trained_once" in period_scores and "retrained" in period_scores:
            pairs.append((period_scores["trained_once"], period_scores["retrained"],
                          period["label"].to_numpy(dtype=np.float64)))
    scored_periods = {(r["cycle"], r["leads"], r["positives"]) for r in rows
                      if r["leads"] >= MIN_PERIOD_LEADS}
    one_outcome = one_outcome_sentence(sorted(scored_periods), positive_name(config, named_by))
    if one_outcome:
        notes.append(one_outcome)
    thin = thin_period_sentence(sorted({(r["cycle"], r["leads"]) for r in rows}),
                                MIN_PERIOD_LEADS)
    if thin:
        notes.append(thin)
    rounds, seed = int(config["cycle"]["bootstrap_rounds"]), int(config["cycle"]["seed"])
    intervals = {m: mean_roc_interval(parts, rounds=rounds, seed=seed)
                 for m, parts in scored.items() if parts}
    out = Backtest(pd.DataFrame(rows), band, notes=notes, labels_as_of=outcomes.as_of,
                   horizon=horizon.runs_to.isoformat(), horizon_source=horizon.source,
                   intervals=intervals,
                   brier_gap=brier_gap_interval(pairs, rounds=rounds, seed=seed))
    out.run_id = log_backtest(out, config, dates, every)
    return out


def _leads_after(config: dict[str, Any], as_of: datetime) -> int:
    """How many of the store's leads were created after ``as_of``."""
    with connect(config["store"], read_only=True) as con:
        row = con.execute("SELECT count(*) FROM leads WHERE created_at > $at",
                          {"at": as_of}).fetchone()
    return int(row[0]) if row else 0


def _last_lead(config: dict[str, Any]) -> str:
    """`` (created 2026-10-31)``: when the store's newest lead was created ("" for none)."""
    with connect(config["store"], read_only=True) as con:
        row = con.execute("SELECT max(created_at) FROM leads").fetchone()
    return f" (created {pd.Timestamp(row[0]).date().isoformat()})" if row and row[0] else ""


def log_backtest(backtest: Backtest, config: dict[str, Any], dates: list[datetime],
                 every: timedelta) -> str:
    """One MLflow run: per-cycle metrics as steps, the means, the table as an artifact."""
    experiment_id = setup_tracking(config)
    with quiet_mlflow(), mlflow.start_run(experiment_id=experiment_id, run_name="backtest",
                                          tags={"kind": "backtest"}) as run:
        mlflow.log_params({"from": dates[0].date().isoformat(), "every_days": every.days,
                           "labels_as_of": (_day(backtest.labels_as_of) if backtest.labels_as_of
                                            else ""),
                           "data_horizon": backtest.horizon, "data_horizon_source":
                           backtest.horizon_source,
                           "cycles": len(dates), "band_min": backtest.band["min"],
                           "band_max": backtest.band["max"]})
        for _, row in backtest.rows.iterrows():
            mlflow.log_metrics({f"{row['model']}.{k}": row[k] for k, _, _ in METRICS
                                if math.isfinite(row[k])}, step=int(row["cycle"]))
        means = {(f"{model}.cycles_scored" if k == "cycles" else f"mean.{model}.{k}"): float(v)
                 for model, values in backtest.means.iterrows()
                 for k, v in values.items() if np.isfinite(v)}
        for model, (low, high) in backtest.intervals.items():
            if math.isfinite(low) and math.isfinite(high):
                means.update({f"mean.{model}.roc_auc_ci_low": low,
                              f"mean.{model}.roc_auc_ci_high": high})
        if backtest.brier_gap is not None:
            means.update(zip(("mean.brier_gap", "mean.brier_gap_ci_low",
                              "mean.brier_gap_ci_high"), backtest.brier_gap, strict=True))
        mlflow.log_metrics(means)
        with tempfile.TemporaryDirectory(prefix=cycle_guard.temp_prefix("backtest")) as tmp:
            path = Path(tmp) / "backtest.csv"
            backtest.rows.to_csv(path, index=False)
            mlflow.log_artifact(str(path))
        return run.info.run_id
