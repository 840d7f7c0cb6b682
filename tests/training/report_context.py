"""A report context small enough to read: the pieces the report-truth tests build sentences from."""

from __future__ import annotations

import html
import re
from datetime import datetime

import pandas as pd

from training.report_figures import Figures
from training.report_mlflow import CycleRun
from training.report_opening import summary

TEXT = re.compile(r"<[^>]+>")


def _run(tags=None, params=None, metrics=None) -> CycleRun:
    metrics = {"conversion_at_threshold": 0.3, "mqls_per_week": 260.0, "threshold": 0.21,
               **(metrics or {})}
    return CycleRun("r1", "2026-W44", datetime(2026, 11, 1), params or {}, metrics, tags or {})


def _ctx(run: CycleRun, *, promoted=False, gates=None, champion=None, cohort=None,
         positive="booked meeting") -> dict:
    figs = Figures(run.run_id, run.metrics)
    gates = gates or {"passed": False, "gates": [
        {"name": "band", "passed": False, "sentence": "No threshold meets the band."}]}
    return {
        "figs": figs, "run": run, "previous": None, "promoted": promoted,
        "champion_after": champion, "positive": positive,
        "threshold": {"conversion_at_threshold": figs.show("conversion_at_threshold", "pct"),
                      "mqls_per_week": figs.show("mqls_per_week", "count"),
                      "threshold": figs.show("threshold", "ratio")},
        "conversion": {"band_min": "25%", "band_max": "50%"},
        "model": {"gates": gates},
        "signals": {"available": True, "first_cycle": True,
                    "rows": [{"label": "Title seniority", "group": "fit"}],
                    "fit_share": "60%", "intent_share": "40%", "top_previous": None},
        "dispositions": {"available": False}, "speed": {"available": False},
        "grades": {"available": False},
        "cohort": cohort or {"verdict": "first cycle"},
    }


def _text(ctx) -> list[str]:
    return [html.unescape(TEXT.sub("", str(line))) for line in summary(ctx)]


def _dispositioned(engaged: list[bool], verdicts: list[str]) -> pd.DataFrame:
    n = len(engaged)
    return pd.DataFrame({
        "source": ["webinar", "event"] * (n // 2) + ["webinar"] * (n % 2),
        "campaign": ["(none)"] * n, "engaged": engaged, "verdict": verdicts,
        "accepted": [v in ("booked", "accepted") for v in verdicts],
        "reason_code": ["wrong_title" if v == "rejected_fit" else "meeting_booked"
                        for v in verdicts],
    })
