"""The report's monitor section: what ``leadscore monitor`` said about the model that served
between the previous review and this one (``scoring.monitor``), judged as of this review.

Left out, with one line saying why, on a first cycle, when no champion served before this review,
when that champion cannot be loaded, or when no score was served in between. Its figures are
logged on the run as ``report.monitor.*`` like every other figure of the report.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from markupsafe import Markup

from scoring.monitor import CHECKS
from scoring.monitor_data import run_monitor
from training import report_mlflow as data
from training.report_figures import Figures

STATUS_WORDS = {"ok": "within limits", "crossed": "limit crossed", "too_few": "too few to judge",
                "no_data": "no data"}
TITLES = {"conversion": "Conversion of served MQLs", "volume": "MQLs a week",
          "sla": "SLA: first touch and disposition", "drift": "Input drift (PSI)",
          "inversions": "Grade inversions"}


def _unavailable(why: str) -> dict[str, Any]:
    return {"available": False, "why": why}


def _figures(name: str, check: dict[str, Any], figs: Figures) -> list[Any]:
    """The tagged figures of one check's row (logged as ``report.monitor.<check>.*``)."""
    key = f"report.monitor.{name}"
    if name == "conversion":
        return [figs.put(key + ".rate", check["rate"], "pct"),
                figs.put(key + ".decided", check["decided"], "count")]
    if name == "volume":
        return [figs.put(key + ".per_week", check["per_week"], _weekly(check["per_week"])),
                figs.put(key + ".forecast", check["forecast"], _weekly(check["forecast"]))]
    if name == "sla":
        return [figs.put(key + ".first_touch_missed_share", check["first_touch_missed_share"],
                         "pct"),
                figs.put(key + ".disposition_missed_share", check["disposition_missed_share"],
                         "pct")]
    if name == "drift":
        top = max(check["psi"].values(), default=None)
        return [figs.put(key + ".max_psi", top, "ratio"),
                figs.put(key + ".drifted", len(check["drifted"]), "count")]
    return [figs.put(key + ".count", len(check["pairs"]), "count")]


def _weekly(value: float | None) -> str:
    """MQLs a week as the page reads them: whole from 10 up, one decimal below unless it is 0."""
    if value is None or not math.isfinite(float(value)):
        return "count"
    return "num1" if abs(value) < 10 and round(value, 1) != round(value) else "count"


def nothing_served(version: str, since: str, as_of: datetime) -> str:
    """Why the section is left out when the log holds no score between the two reviews.

    The dates make it true whatever the clock: a score served this morning, after a review dated
    today, is not "between" the two; two reviews of the same date have no time between them.
    """
    if since >= f"{as_of:%Y-%m-%d}":
        return (f"v{version} was reviewed on {since}, the date of this review, so there was no "
                "time between the two to serve in")
    return (f"no score was served (API or leadscore score) between v{version}'s review on "
            f"{since} and this review's date, {as_of:%Y-%m-%d %H:%M}")


def monitor_section(config: dict[str, Any], run: data.CycleRun,
                    previous: data.CycleRun | None, figs: Figures) -> dict[str, Any]:
    """The section's context: a row per check, the recommendation, or why it is left out."""
    from training.registry import load_bundle, model_name

    if previous is None:
        return _unavailable("this is the first cycle, so no model served before this review")
    version = run.param("champion_version_before")
    if version in (None, "", "none") or run.as_of is None:
        return _unavailable("no champion served between the previous review and this one")
    try:
        bundle = load_bundle(f"models:/{model_name(config)}/{version}", config)[0]
        result = run_monitor(config, bundle.manifest, model_version=str(version), now=run.as_of,
                             sources=bundle.vocabulary().get("source", ()))
    except Exception as exc:  # noqa: BLE001 - the rest of the report still stands
        return _unavailable(f"the monitor of v{version} could not be computed "
                            f"({type(exc).__name__})")
    f = result.figures
    if not f["served"]["scores"]:
        return _unavailable(nothing_served(str(version), f["since"][:10], run.as_of))
    rows = [{"title": TITLES[name], "status": STATUS_WORDS[f[name]["status"]],
             "crossed": f[name]["status"] == "crossed", "why": f[name]["why"],
             "figures": _figures(name, f[name], figs)} for name in CHECKS]
    figs.add("report.monitor.limits_crossed", len(result.crossed))
    return {
        "available": True, "version": version, "since": f["since"][:10],
        "scores": figs.put("report.monitor.scores_served", f["served"]["scores"], "count"),
        "mqls": figs.put("report.monitor.mqls_served", f["served"]["mqls"], "count"),
        "rows": rows,
        # this review is the review the monitor asks for: say what it saw, not "review early"
        "recommendation": ("Limits crossed before this review: "
                           + "; ".join(f[name]["why"] for name in result.crossed) + "."
                           if result.crossed else None),
        "overdue": overdue_sentence(len(set(f["sla"]["overdue"]["first_touch"])
                                        | set(f["sla"]["overdue"]["disposition"]))),
    }


def overdue_sentence(n: int) -> Markup | None:
    """How many served MQLs were overdue, as people read the number (1,283, not 1283)."""
    if not n:
        return None
    return Markup("{} {} overdue for a first touch or a disposition; <code>leadscore monitor "
                  "--json</code> lists their lead ids.").format(
        f"{n:,} MQL{'' if n == 1 else 's'}", "was" if n == 1 else "were")
