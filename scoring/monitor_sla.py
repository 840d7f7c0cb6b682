"""The monitor's SLA check: were served MQLs touched, and dispositioned, in time?

An MQL's clock starts at its first MQL score since the review (``t0``). Its first touch is due
within ``sla.high_intent_hours`` when a high-intent activity came before the touch (or before now,
untouched), else within ``sla.other_hours``; a disposition is due within
``sla.disposition_hours``. Only MQLs past a deadline are judged; the overdue lists hold lead ids
only. ``scoring.monitor`` runs it with the other four checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from features.messages import percent
from scoring.monitor_labels import as_times, beyond_verdicts, count_beyond, verdicts_end

if TYPE_CHECKING:
    from scoring.monitor import MonitorInputs


def sla(mqls: pd.DataFrame, inputs: MonitorInputs, config: Mapping[str, Any]) -> dict[str, Any]:
    """First touch within the SLA and a disposition within ``sla.disposition_hours`` of ``t0``."""
    settings, hours = config["monitor"], config["sla"]
    if mqls.empty:
        return {"mqls": 0, "first_touch_due": 0, "first_touch_missed": 0,
                "first_touch_missed_share": None, "disposition_due": 0, "disposition_missed": 0,
                "disposition_missed_share": None, "sla_hours": _sla_hours(hours),
                "overdue": {"first_touch": [], "disposition": []}, "status": "no_data",
                "why": "no MQL was served since the review"}
    recorded = inputs.recorded
    if recorded is not None and not recorded.get("dispositions"):
        # an export without rep verdicts: "100% missed the SLA" would be a false alarm
        return {"mqls": len(mqls), "first_touch_due": 0, "first_touch_missed": 0,
                "first_touch_missed_share": None, "disposition_due": 0,
                "disposition_missed": 0, "disposition_missed_share": None,
                "sla_hours": _sla_hours(hours), "overdue": {"first_touch": [], "disposition": []},
                "status": "no_data",
                "why": "the stores hold no disposition for any lead (the export carries no rep "
                       "verdicts and the API received none), so when MQLs were touched is "
                       "unknown"}
    no_touches = recorded is not None and not recorded.get("first_touches")
    now = pd.Timestamp(inputs.now)
    d = inputs.dispositions
    d = d[as_times(d["dispositioned_at"]) <= now]
    touches = as_times(d["first_touch_at"])
    touch = d.assign(ft=touches)[touches <= now].groupby("lead_id")["ft"].min()
    first_disp = d.assign(at=as_times(d["dispositioned_at"])).groupby("lead_id")["at"].min()
    ids = mqls["lead_id"]
    t0 = mqls["t0"].reset_index(drop=True)
    touched = _lookup(ids, touch)
    upto = touched.fillna(now)
    high_acts = inputs.high_intent.assign(at=as_times(inputs.high_intent["occurred_at"]))
    first_high = high_acts.groupby("lead_id")["at"].min()
    high = (_lookup(ids, first_high) <= upto).to_numpy()
    limit = pd.to_timedelta(np.where(high, hours["high_intent_hours"], hours["other_hours"]),
                            unit="h")
    deadline = t0 + limit
    # a deadline after the stores' verdicts end is not judged: the export does not reach it
    judged_to = verdicts_end(inputs)
    due = (deadline <= judged_to).to_numpy()
    missed = due & ~((touched.notna()) & (touched <= deadline)).to_numpy()
    disp_deadline = t0 + pd.Timedelta(hours=float(hours["disposition_hours"]))
    disposed = _lookup(ids, first_disp)
    disp_due = (disp_deadline <= judged_to).to_numpy()
    disp_missed = disp_due & ~((disposed.notna()) & (disposed <= disp_deadline)).to_numpy()
    lead_ids = ids.reset_index(drop=True)
    if no_touches:  # verdicts are recorded, first touches never: only dispositions are timed
        due, missed = np.zeros(len(ids), dtype=bool), np.zeros(len(ids), dtype=bool)
    out = {
        "mqls": len(mqls), "first_touch_due": int(due.sum()),
        "first_touch_missed": int(missed.sum()),
        "first_touch_missed_share": float(missed.sum() / due.sum()) if due.any() else None,
        "disposition_due": int(disp_due.sum()), "disposition_missed": int(disp_missed.sum()),
        "disposition_missed_share": (float(disp_missed.sum() / disp_due.sum())
                                     if disp_due.any() else None),
        "sla_hours": _sla_hours(hours),
        "overdue": {"first_touch": sorted(lead_ids[missed].astype(str)),
                    "disposition": sorted(lead_ids[disp_missed].astype(str))},
    }
    # an MQL is left unjudged when either of its deadlines ends past the verdicts: the 48 h
    # disposition deadline does more often than the first-touch one
    ends = pd.Series(disp_deadline).reset_index(drop=True)
    if not no_touches:
        first = pd.Series(deadline).reset_index(drop=True)
        past = (first > judged_to) & (first <= now)
        ends = first.where(past, ends)
    beyond = beyond_verdicts(ends, inputs, "deadline")
    out["unjudged"] = count_beyond(ends, inputs)
    if max(due.sum(), disp_due.sum()) < int(settings["min_due_mqls"]):
        return {**out, "status": "too_few",
                "why": f"too few MQLs past their deadlines to judge the SLA "
                       f"({int(max(due.sum(), disp_due.sum()))} of at least "
                       f"{settings['min_due_mqls']})" + (f"; {beyond}" if beyond else "")}
    measured = []
    for key, limit_key, text in (
            ("first_touch_missed_share", "max_first_touch_missed", "missed the first-touch SLA"),
            ("disposition_missed_share", "max_disposition_missed",
             f"had no disposition within {float(hours['disposition_hours']):g} h")):
        share = out[key]
        if share is not None:
            limit = float(settings[limit_key])
            measured.append((f"{percent(share)} of MQLs {text}", share > limit, percent(limit)))
    crossed = any(over for _, over, _ in measured)
    # beside a part that crossed, one within its limit says so: the sentence is the reason for
    # an early review, and a bare share there would read as one more
    parts = [said + (f" (limit {limit})" if over else
                     f" (within the {limit} allowed)" if crossed else "")
             for said, over, limit in measured]
    if no_touches:
        parts.append("first touches not timed: no disposition in the stores records one")
    if beyond:
        parts.append(beyond)
    return {**out, "status": "crossed" if crossed else "ok", "why": "; ".join(parts)}


def _lookup(ids: pd.Series, times: pd.Series) -> pd.Series:
    """Each id's time in ``times`` (NaT where it has none), positionally aligned with ``ids``."""
    if times.empty or ids.empty:  # mapping through an empty datetime Series fails in pandas
        return pd.Series(pd.NaT, index=range(len(ids)), dtype="datetime64[us]")
    return as_times(ids.map(times).reset_index(drop=True))


def _sla_hours(hours: Mapping[str, Any]) -> dict[str, float]:
    return {"high_intent": float(hours["high_intent_hours"]), "other": float(hours["other_hours"]),
            "disposition": float(hours["disposition_hours"])}
