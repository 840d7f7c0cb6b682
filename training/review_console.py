"""The one-screen summary of a review cycle, in plain words (what `leadscore review` prints)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from features.horizon import horizon_sentence
from features.labels import CONVERTED_BEFORE_SCOREABLE
from features.messages import per_week
from training.deploy import calibrated_as, measured_on, weighting_clause
from training.threshold import band_text, configured_share, over_capacity_sentence

COMPARED_METRICS = (
    ("roc_auc", "ROC-AUC", "{:.3f}"),
    ("pr_auc", "PR-AUC", "{:.3f}"),
    ("brier", "Brier score", "{:.4f}"),
    ("ece", "Calibration error", "{:.3f}"),
    ("lift_top_decile", "Lift, top 10%", "{:.2f}x"),
    ("conversion_at_threshold", "Conversion at threshold", "{:.1%}"),
    ("mqls_per_week", "MQLs per week", "{:,.0f}"),
)


@dataclass
class ReviewSummary:
    """What one review cycle found and did; ``str()`` is the one-screen summary."""

    cycle: str
    as_of: datetime
    run_id: str
    labels: dict[str, Any]
    split: dict[str, Any]
    threshold: dict[str, Any]
    models: dict[str, dict[str, float]]
    signals: list[dict[str, Any]]
    group_shares: dict[str, float]
    gates: dict[str, Any]
    version: int
    champion_before: int | None
    champion_after: int | None
    promote: bool
    notes: list[str] = field(default_factory=list)
    report: str | None = None
    deployment: dict[str, Any] = field(default_factory=dict)
    positives: str = "SQLs"
    """What a converted lead is called, plural (``labels.positive_name``: "won deals")."""

    @property
    def headline(self) -> str | None:
        """The sentence that leads: insufficient evidence, when the evidence gate failed."""
        for gate in self.gates.get("gates", []):
            if gate["name"] == "evidence" and not gate["passed"]:
                return gate["sentence"]
        return None

    @property
    def promoted(self) -> bool:
        return self.champion_after == self.version and self.champion_before != self.version

    def registry_sentence(self) -> str:
        before = f"v{self.champion_before}" if self.champion_before is not None else "(none)"
        moved = f"challenger -> v{self.version}"
        if self.promoted:
            return f"{moved}; champion: {before} -> v{self.version} (every gate passed)."
        if not self.gates.get("passed"):
            failed = [g["name"] for g in self.gates["gates"] if not g["passed"]]
            why = f"failed gate{'s' if len(failed) > 1 else ''}: {', '.join(failed)}"
        elif not self.promote:
            why = "--no-promote"
        else:
            why = "nothing to move"
        return f"{moved}; champion stays {before} ({why})."

    def __str__(self) -> str:
        from io import StringIO

        from rich.console import Console
        from rich.table import Table

        buffer = StringIO()
        # long sentences stay on one line (the terminal wraps them); the table keeps its width
        console = Console(file=buffer, width=120, force_terminal=False, color_system=None,
                          highlight=False, soft_wrap=True)
        lab, sp, th = self.labels, self.split, self.threshold
        console.print(f"Review cycle {self.cycle}, as of {self.as_of.date().isoformat()}"
                      f"  (MLflow run {self.run_id[:12]})")
        if self.headline:
            console.print(self.headline)
        console.print(
            f"Data: {lab.get('assembled_leads', 0):,} matured labelled leads "
            f"({lab.get('assembled_positives', 0):,} {self.positives}) in "
            f"{_cohorts(lab.get('assembled_cohorts', 0))}{_not_learned_from(lab)}. "
            f"Label policy {lab.get('policy_hash', '?')}."
        )
        past_horizon = horizon_sentence(lab)  # the review date is after the store's evidence
        if past_horizon:
            console.print(past_horizon)
        one = sp["calib_first_cohort"] == sp["calib_last_cohort"]
        console.print(
            f"Split: train {sp['train_first_cohort']}..{sp['calib_last_cohort']} "
            f"({sp['train_leads'] + sp['calib_leads']:,}; calibrated on its newest "
            f"{_weeks(sp['calib_first_cohort'], sp['calib_last_cohort'])} "
            f"({sp['calib_leads']:,}), scored by a model trained on the weeks before "
            f"{'it' if one else 'them'}), validate "
            f"{_span(sp['valid_first_cohort'], sp['valid_last_cohort'])} "
            f"({sp['valid_leads']:,} leads, {sp['valid_positives']:,} {self.positives})."
        )
        weighted = weighting_clause(self.deployment.get("recency_weighting", "none"))
        if self.deployment.get("refit"):
            console.print(
                "Judged vs deployed: the gates judged the challenger trained on every week before "
                f"the validation cohort{weighted}; "
                "the deployed version is refit on every matured week with the same "
                f"{'parameters, trees and weighting' if weighted else 'parameters and trees'}, "
                f"{calibrated_as(self.deployment.get('calibration_method', 'platt'))} "
                "on the validation cohort (its column shows "
                f"{measured_on(self.deployment.get('cross_fitted', True))}).")
        elif weighted:
            console.print(f"Deployed as judged (cycle.refit: false): the challenger trained on "
                          f"every week before the validation cohort{weighted}.")
        # a model measured on nothing (a champion that learned from every week of the cohort)
        # gets no column of "-", as in the report: the notes say why it is not compared
        models = {name: m for name, m in self.models.items()
                  if any(_measured(m.get(key)) for key, _, _ in COMPARED_METRICS)}
        title = "Same validation cohort, every model"
        scoped = [(name, m["compared_weeks"]) for name, m in models.items()
                  if m.get("compared_weeks") is not None]
        for name, weeks in scoped:  # a champion that learned from the cohort's older weeks
            title += (f" (the {name}: only the {weeks:.0f} week{'s' if weeks != 1 else ''} "
                      "it never learned from)")
        table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
        table.add_column("")
        for name in models:
            table.add_column(name, justify="right")
        for key, title, fmt in COMPARED_METRICS:
            cells = []
            for metrics in models.values():
                value = metrics.get(key)
                cells.append("-" if not _measured(value) else weekly(value)
                             if key == "mqls_per_week" else fmt.format(value))
            table.add_row(title, *cells)
        console.print(table)
        band = band_text(th["band_min"], th["band_max"])
        if th["feasible"]:
            console.print(
                f"Threshold {th['threshold']:.3f}: conversion {th['expected_conversion']:.1%} "
                f"(95% interval {th['ci_low']:.1%}-{th['ci_high']:.1%}) against the agreed "
                f"{band} band; {weekly(th['mqls_per_week'])} MQLs per week, "
                f"{th['share_of_leads']:.1%} of leads{_capped(th)}."
                + (f" {over_capacity_sentence(th['capacity_per_week'])}"
                   if th.get("over_capacity") else "")
            )
        else:
            console.print(f"Threshold: none meets the agreed {band} band. {th['message']}")
        if self.headline is not None:
            # as in the report: a model no better than chance has no signals worth naming
            console.print("Top signals: none named, since the model does not rank better than "
                          "chance beyond noise.")
        else:
            console.print(f"Top signals ({_shares_text(self.group_shares)}):")
            for i, s in enumerate(self.signals, 1):
                console.print(f"  {i}. {s['label']} ({s['group']}): {s['direction']}")
        console.print("Gates:")
        for gate in self.gates["gates"]:
            console.print(f"  {'PASS' if gate['passed'] else 'FAIL'}  {gate['name']}: "
                          f"{gate['sentence']}")
        console.print(f"Registry: {self.registry_sentence()}")
        for note in self.notes:
            console.print(f"Note: {note}")
        if self.report:
            console.print(f"Report: {self.report}")
        return buffer.getvalue().rstrip()


weekly = per_week


def _measured(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _shares_text(shares: dict[str, float]) -> str:
    """The fit / intent split as the report says it: a group with no weight in words (an
    export without activity: "fit explains all of the score: no intent signal carried any
    weight"), never "intent 0%", and a small share that is not zero never rounded to 0%."""
    silent = [g for g, s in shares.items() if s <= 0.0]
    carried = [g for g, s in shares.items() if s > 0.0]
    if silent and len(carried) == 1:
        return (f"{carried[0]} explains all of the score: no {' or '.join(silent)} signal "
                "carried any weight")

    def share(value: float) -> str:
        if 0.0 < value < 0.005:
            return "under 1%"
        if 0.995 < value < 1.0:
            return "over 99%"
        return f"{value:.0%}"

    return "share of the score: " + ", ".join(f"{g} {share(s)}" for g, s in shares.items())
"""MQLs a week as people read them (``features.messages.per_week``)."""


def _span(first: str, last: str) -> str:
    """``2026-05-11..2026-06-01``, or the one week's date."""
    return first if first == last else f"{first}..{last}"


def _weeks(first: str, last: str) -> str:
    """``weeks 2026-05-11..2026-06-01``, or ``week 2026-06-01``."""
    return f"week {first}" if first == last else f"weeks {first}..{last}"


def _capped(th: dict[str, Any]) -> str:
    """The clause saying the share limit, not the band, set the threshold (a wide band)."""
    if not th.get("capped"):
        return ""
    return (f", capped at cycle.max_mql_share: a lower cut-off also reaches the "
            f"{configured_share(th['band_min'])} minimum but would pass more than "
            f"{configured_share(th['max_share'])} of leads")


def _cohorts(n: int) -> str:
    return f"{n:,} weekly cohort{'s' if n != 1 else ''}"


def _not_learned_from(lab: dict[str, Any]) -> str:
    """The leads a cycle did not learn from, naming only the kinds there were."""
    decided, still_open = lab.get("unmatured_decided_leads", 0), lab.get("unmatured_open_leads", 0)
    excluded = sum((lab.get("excluded") or {}).values())
    parts = []
    if decided + still_open:
        cohorts = lab.get("unmatured_cohorts", lab.get("unmatured_open_cohorts", 0))
        parts.append(f"{decided + still_open:,} leads inside their maturity window "
                     f"({decided:,} decided, {still_open:,} open) in {_cohorts(cohorts)}")
    if excluded:
        parts.append(f"{excluded:,} the label policy excludes ({_why_excluded(lab['excluded'])})")
    return "; not learned from: " + ", and ".join(parts) if parts else ""


EARLY = "converted before becoming scoreable"


def _why_excluded(excluded: dict[str, int], shown: int = 3) -> str:
    """The deciding codes of the excluded leads, largest first: "still_open: 2,089"."""
    pairs = sorted(((c, n) for c, n in excluded.items() if n), key=lambda cn: (-cn[1], cn[0]))
    words = [f"{EARLY if code == CONVERTED_BEFORE_SCOREABLE else code}: {n:,}"
             for code, n in pairs[:shown]]
    rest = pairs[shown:]
    if rest:
        words.append(f"and {sum(n for _, n in rest):,} with {len(rest)} other "
                     f"code{'s' if len(rest) > 1 else ''}")
    return ", ".join(words)
