"""The monitor for a person: one line per check (``leadscore monitor``), or one line in all (the
demo). The ``--json`` document is ``Monitor.as_dict`` (docs/review-cycle.md)."""

from __future__ import annotations

from scoring.monitor import CHECKS, Monitor

_TITLES = {"conversion": "conversion", "volume": "MQL volume", "sla": "SLA",
           "drift": "input drift", "inversions": "grades"}
_MARKS = {"ok": "ok", "crossed": "LIMIT", "too_few": "--", "no_data": "--"}


def monitor_text(result: Monitor) -> str:
    """The monitor as lines for a person: one per check, the overdue lists, the recommendation."""
    f = result.figures
    version = f"model v{f['model_version']}" if f["model_version"] else "the champion"
    cycle = f" (cycle {f['cycle']})" if f["cycle"] else ""
    lines = [f"Monitor of {version}{cycle} since its review on {f['since'][:10]}, as of "
             f"{f['as_of'][:16].replace('T', ' ')}: {_served(f)}."]
    for name in CHECKS:
        lines.append(f"  {_MARKS[f[name]['status']]:<6}{_TITLES[name]:<12} {f[name]['why']}")
    for name, ids in f["sla"]["overdue"].items():
        if ids:
            shown = ", ".join(ids[:20]) + (f" ... ({len(ids) - 20} more; --json lists all)"
                                            if len(ids) > 20 else "")
            what = "first touch" if name == "first_touch" else "disposition"
            lines.append(f"  overdue ({what}): {shown}")
    lines.append(result.recommendation or _all_clear(f))
    return "\n".join(lines)


def _all_clear(f: dict) -> str:
    """No limit crossed: an all-clear only when some check had the data to judge."""
    # verdicts that end before the moment judged left deadlines unjudged: a newer export helps
    left = f["sla"].get("unjudged") or f["conversion"].get("unjudged")
    end = (f.get("verdicts_to") or "")[:10] if left else ""
    if any(f[name]["status"] == "ok" for name in CHECKS):
        return ("No limit crossed: no early review needed." if not end else
                f"No limit crossed on what the stores' verdicts reach (they end {end}): no early "
                "review needed so far; ingest a newer export to judge what came after.")
    stale = f"ingest a newer export (the stores' verdicts end {end}), " if end else ""
    return ("No check had enough data to judge, so nothing says whether an early review is "
            f"needed; {stale}score new leads (API or leadscore score) and run it again.")


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _served(f: dict) -> str:
    served = f["served"]
    return (f"{_count(served['scores'], 'score')} served to {_count(served['leads'], 'lead')}, "
            f"{_count(served['mqls'], 'MQL')}")


def monitor_line(result: Monitor) -> str:
    """The monitor in one line (the demo prints it)."""
    f = result.figures
    head = f"Monitor since the review on {f['since'][:10]} ({_served(f)}): "
    if result.crossed:
        return head + (result.recommendation or "")
    judged = [_TITLES[n] for n in CHECKS if f[n]["status"] == "ok"]
    waiting = [_TITLES[n] for n in CHECKS if f[n]["status"] != "ok"]
    return (head + "no limit crossed"
            + (f"; within limits: {', '.join(judged)}" if judged else "")
            + (f"; too little data yet to judge {', '.join(waiting)}" if waiting else "") + ".")
