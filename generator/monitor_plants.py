"""Planted changes for the monitor (``leadscore monitor``), with their ground truth.

``plant_changes(export, after, ...)`` takes a generated export (``generate_frames``) and changes
what happens to the leads that become scoreable (MQL, else creation) at or after ``after``:

conversion drop   a share of the leads that converted do not: their outcome rows go, and their
                  "meeting_booked" verdicts become "rejected / no_budget".
input drift       named features move: ``company_size_band`` (companies of 1-10), ``seniority``
                  (students), ``industry`` (education), ``free_email`` (a free-mail address), each
                  for ``DRIFT_SHARE`` of the leads.
SLA misses        every lead is touched 10 minutes and dispositioned 20 minutes after it became
                  scoreable, except ``sla_misses`` leads first touched after 30 hours (beyond both
                  first-touch SLAs, dispositioned within 48 hours) and ``sla_misses`` leads first
                  dispositioned after 60 hours (touched at once). Both lists are the ground truth.

Leads chosen for SLA misses became scoreable at least ``SLA_MARGIN_DAYS`` before the export's
end, so that their deadlines have passed there. Seeded: the same arguments plant the same leads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from generator.export import GeneratedExport
from leadscore.errors import LeadscoreError

DRIFT_SHARE = 0.8
DRIFTS = {"company_size_band": ("company_size", "1-10"), "seniority": ("title", "Student"),
          "industry": ("industry", "Education"), "free_email": ("email", None)}
"""Planted drift per model feature: the raw field set, and its value (free_email: a free-mail
address made from the lead id)."""
TOUCH_AFTER = pd.Timedelta(minutes=10)
WORKED_AFTER = pd.Timedelta(minutes=20)
LATE_TOUCH = pd.Timedelta(hours=30)
LATE_DISPOSITION = pd.Timedelta(hours=60)
SLA_MARGIN_DAYS = 4


@dataclass
class PlantedChanges:
    """The changed export and what was planted (lead ids, never personal data)."""

    export: GeneratedExport
    after: pd.Timestamp
    dropped_conversions: list[str] = field(default_factory=list)
    drifted_features: list[str] = field(default_factory=list)
    first_touch_misses: list[str] = field(default_factory=list)
    disposition_misses: list[str] = field(default_factory=list)


def scoreable_at(leads: pd.DataFrame) -> pd.Series:
    """When each lead became scoreable: its MQL moment, else its creation."""
    return pd.to_datetime(leads["mql_at"]).fillna(pd.to_datetime(leads["created_at"]))


def plant_changes(export: GeneratedExport, after: str | pd.Timestamp, *,
                  conversion_drop: float = 0.0, drift: Sequence[str] = (),
                  sla_misses: int = 0, seed: int = 0,
                  end: str | pd.Timestamp = "2026-11-01") -> PlantedChanges:
    """Plant the changes on the leads scoreable at or after ``after`` (see the module docstring);
    ``end`` is the export's end (``generate_frames``'s), when the SLA deadlines are judged.

    Raises:
        LeadscoreError: for a drift feature it cannot plant, or a share outside [0, 1].
    """
    unknown = sorted(set(drift) - set(DRIFTS))
    if unknown:
        raise LeadscoreError(f"Cannot plant drift on {', '.join(unknown)}: choose from "
                             f"{', '.join(DRIFTS)}.")
    if not 0.0 <= conversion_drop <= 1.0:
        raise LeadscoreError(f"conversion_drop={conversion_drop} is not a share: give 0 to 1.")
    rng = np.random.default_rng(seed)
    after = pd.Timestamp(after)
    leads = export.leads.copy()
    at = scoreable_at(leads)
    late = leads["lead_id"][at >= after]
    planted = PlantedChanges(export, after, drifted_features=list(drift))
    dispositions, outcomes = export.dispositions.copy(), export.outcomes.copy()

    if conversion_drop > 0:
        converted = sorted(set(outcomes["lead_id"][outcomes["lead_id"].isin(late)])
                           | set(dispositions["lead_id"][dispositions["lead_id"].isin(late)
                                                          & (dispositions["status"]
                                                             == "meeting_booked")]))
        chosen = sorted(rng.choice(converted, int(round(conversion_drop * len(converted))),
                                   replace=False).tolist()) if converted else []
        outcomes = outcomes[~outcomes["lead_id"].isin(chosen)]
        booked = dispositions["lead_id"].isin(chosen) & (dispositions["status"]
                                                         == "meeting_booked")
        dispositions.loc[booked, ["status", "reason_code"]] = ["rejected", "no_budget"]
        planted.dropped_conversions = chosen

    for feature in drift:
        column, value = DRIFTS[feature]
        hit = (at >= after) & (rng.random(len(leads)) < DRIFT_SHARE)
        leads.loc[hit, column] = (value if value is not None
                                  else "lead." + leads.loc[hit, "lead_id"].str.lower()
                                  + "@gmail.com")

    if sla_misses > 0:
        end = pd.Timestamp(end)
        dispositions, planted.first_touch_misses, planted.disposition_misses = _plant_sla(
            leads, at, after, end, dispositions, sla_misses, rng)
    planted.export = replace(export, leads=leads, dispositions=dispositions.reset_index(
        drop=True), outcomes=outcomes.reset_index(drop=True))
    return planted


def _plant_sla(leads: pd.DataFrame, at: pd.Series, after: pd.Timestamp, end: pd.Timestamp,
               dispositions: pd.DataFrame, misses: int, rng: np.random.Generator):
    by_id = pd.Series(at.to_numpy(), index=leads["lead_id"].to_numpy())
    late = by_id[by_id >= after]
    eligible = late[late <= end - pd.Timedelta(days=SLA_MARGIN_DAYS)].index.to_numpy()
    if len(eligible) < 2 * misses:
        raise LeadscoreError(f"Only {len(eligible)} leads can carry planted SLA misses: plant "
                             f"fewer than {len(eligible) // 2 + 1}, or move `after` earlier.")
    picked = rng.choice(eligible, 2 * misses, replace=False)
    touch_late, disposition_late = set(picked[:misses]), set(picked[misses:])

    rows = dispositions[dispositions["lead_id"].isin(late.index)].copy()
    rest = dispositions[~dispositions["lead_id"].isin(late.index)]
    t0 = rows["lead_id"].map(late)
    touch_is_late = rows["lead_id"].isin(touch_late).to_numpy()
    touch = t0 + np.where(touch_is_late, LATE_TOUCH.to_timedelta64(), TOUCH_AFTER.to_timedelta64())
    first_row = np.where(rows["lead_id"].isin(disposition_late), t0 + LATE_DISPOSITION, touch)
    rows["first_touch_at"] = touch
    rows["dispositioned_at"] = np.maximum(pd.to_datetime(rows["dispositioned_at"]), first_row)
    # every lead gets a "working" row: at once, after the late touch, or after 60 hours
    worked = pd.DataFrame({"lead_id": late.index})
    wt0 = worked["lead_id"].map(late)
    is_late = worked["lead_id"].isin(touch_late).to_numpy()
    waits = np.where(is_late, (LATE_TOUCH + pd.Timedelta(hours=1)).to_timedelta64(),
                     WORKED_AFTER.to_timedelta64())
    waits = np.where(worked["lead_id"].isin(disposition_late).to_numpy(),
                     LATE_DISPOSITION.to_timedelta64(), waits)
    worked = worked.assign(
        dispositioned_at=wt0 + waits, status="working", reason_code=None, rep_id="rep_01",
        attempts=1, first_touch_at=wt0 + np.where(is_late, LATE_TOUCH.to_timedelta64(),
                                                  TOUCH_AFTER.to_timedelta64()))
    # nothing dated at or after the export's end exists yet
    worked = worked[worked["dispositioned_at"] < end]
    rows = rows[rows["dispositioned_at"] < end]
    merged = pd.concat([rest, rows, worked[list(dispositions.columns)]], ignore_index=True)
    merged = merged.drop_duplicates(["lead_id", "dispositioned_at", "status"], keep="last")
    return merged, sorted(touch_late), sorted(disposition_late)
