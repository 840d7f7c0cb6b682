"""The report's sections on the model: conversion at the threshold against the agreed band, by
source, and the model table (challenger, deployed version, champion, baselines) with the gates.

Every figure is the review's metric on the run (``training.report_figures``).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from training import charts
from training import report_mlflow as data
from training.deploy import calibrated_as, measured_on, weighting_clause
from training.evaluate import calibration_table
from training.report_figures import Figures, words
from training.report_sales import MIN_SOURCE_LEADS


def conversion_section(run: data.CycleRun, band: tuple[float, float],
                       figs: Figures) -> dict[str, Any]:
    sources = sorted({k.split(".")[1] for k in run.metrics
                      if k.startswith("source.") and k.endswith(".conversion_at_threshold")})
    rows = [{"name": "all sources", "key": "conversion_at_threshold",
             "conversion": run.metric("conversion_at_threshold")}]
    for src in sources if len(sources) > 1 else ():  # one source's row repeats the total
        rows.append({"name": words(src), "key": f"source.{src}.conversion_at_threshold",
                     "conversion": run.metric(f"source.{src}.conversion_at_threshold"),
                     "volume_key": f"source.{src}.volume_at_threshold"})
    for row in rows:
        row["figure"] = figs.show(row["key"], "pct")
        volume_key = row.get("volume_key", "volume_at_threshold")
        row["volume"] = figs.show(volume_key, "count")
        value, mqls = row["conversion"], run.metric(volume_key)
        # a source's handful of MQLs says nothing about the band: 0 of 1 is not "below band"
        # (all sources together are what the band gate judged, whatever their number)
        row["judged"] = math.isfinite(value) and ("volume_key" not in row or not (
            math.isfinite(mqls) and mqls < MIN_SOURCE_LEADS))
        row["status"] = ("n/a" if not math.isfinite(value)
                         else f"too few MQLs to judge (under {MIN_SOURCE_LEADS})"
                         if not row["judged"] else "below band" if value < band[0]
                         else "above band" if value > band[1] else "in band")
    frame = pd.DataFrame(rows)
    figs.add("report.band_min", band[0])
    figs.add("report.band_max", band[1])
    return {
        "rows": rows, "band_min": figs.show("report.band_min", "share"),
        "band_max": figs.show("report.band_max", "share"),
        "chart": charts.conversion_band_chart(frame, band),
    }


def model_section(run: data.CycleRun, figs: Figures) -> dict[str, Any]:
    names = (("roc_auc", "ROC-AUC", "ratio"), ("pr_auc", "PR-AUC", "ratio"),
             ("brier", "Brier score", "ratio"), ("ece", "Calibration error", "ratio"),
             ("lift_top_decile", "Lift in the top 10%", "times"),
             ("conversion_at_threshold", "Conversion at the threshold", "pct"))
    columns = [("challenger (this cycle)", "")]
    weeks = run.metrics.get("champion.compared_weeks")
    before = run.param("champion_version_before")
    champion = f"champion v{before}" if before and before.isdigit() else "champion"
    if weeks is not None:  # it learned from the cohort's older weeks
        champion += f" (only the {weeks:.0f} week{'s' if weeks != 1 else ''} it never learned from)"
    # the version registered and served, when it is not the challenger the gates judged: the
    # calibration gate reads its column, so the table must show it
    refit = str(run.param("deployed.refit")).lower() == "true"
    deployed = "deployed (refit)" if refit else "deployed"
    for prefix, title in (("deployed.", deployed), ("champion.", champion),
                          ("baseline.logistic.", "logistic baseline"),
                          ("baseline.points.", "points baseline")):
        # a column of n/a says nothing (a champion that learned from every week of the cohort
        # is not measured on it): left out, the gate's sentence says why
        if any(math.isfinite(figs.value(prefix + key)) for key, _, _ in names):
            columns.append((title, prefix))
    rows = [{"name": label, "cells": [figs.show(p + key, fmt) for _, p in columns]}
            for key, label, fmt in names]
    table = data.calibration(run)
    deployed_table = _deployed_calibration(run) if refit and table is not None else None
    note = None
    if any(prefix == "deployed." for _, prefix in columns):
        method = run.param("deployed.calibration_method") or "platt"
        weighted = weighting_clause(run.param("deployed.recency_weighting") or "none")
        cross = str(run.param("deployed.cross_fitted")).lower() != "false"
        note = ("The deployed column is the version this cycle registered, the one that serves "
                "once it is champion" + (
            f": refit on every matured week with the same settings{weighted}, "
            f"{calibrated_as(method)} on the newest cohort, its figures from "
            f"{measured_on(cross)}" if refit
            else f": the challenger itself (cycle.refit: false){weighted}" if weighted else "")
            + ". The gates judged the challenger, except the calibration gate, which judges the "
            "deployed version's calibration error.")
    return {"columns": [c for c, _ in columns], "rows": rows, "gates": data.gates(run),
            "deployed_note": note,
            "refit": refit and note is not None,
            "cross_fitted": str(run.param("deployed.cross_fitted")).lower() != "false",
            "calibration_chart": (charts.calibration_chart(table, deployed_table)
                                  if table is not None else None),
            "deployed_in_chart": deployed_table is not None}


def _deployed_calibration(run: data.CycleRun) -> pd.DataFrame | None:
    """The refit version's calibration table on the cohort (its cross-fitted scores, the ones
    the calibration gate judged), when the review logged them beside the challenger's."""
    scored = data.valid_scores(run)
    if scored is None or "deployed_score" not in scored.columns:
        return None
    known = scored[["deployed_score", "label"]].dropna()
    if known.empty:
        return None
    return calibration_table(known["deployed_score"], known["label"])


def weekly_format(run: data.CycleRun) -> str:
    """MQLs a week as a whole number, or with a decimal below 10 (0.4 a week is not "0") unless
    that decimal is 0 (6, not 6.0)."""
    value = run.metric("mqls_per_week")
    fractional = math.isfinite(value) and round(value, 1) != round(value)
    return "num1" if abs(value) < 10 and fractional else "count"
