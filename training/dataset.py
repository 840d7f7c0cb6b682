"""The review cycle's data: matured labels joined to features as of each lead's scoring moment.

``assemble`` reads the store once: the label policy applied as of the review date, only the matured
cohorts kept (an unmatured cohort's early verdicts are mostly quick rejections, so learning from
them would teach "nobody converts"), and every feature computed at the moment the lead became
scoreable, so nothing known only later reaches training.

``split`` is time-ordered by weekly cohort: validate on the newest matured weeks, calibrate on the
weeks before them, train on everything older. A review cycle therefore always tests the model on
leads that arrived after every lead it learned from, as it will be used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from features.batch import attribute_roles as store_attribute_roles
from features.batch import build_batch
from features.definitions import FeatureSpec, feature_specs
from features.labels import build_labels, check_codes, label_summary
from leadscore.errors import LeadscoreError

KEY_COLUMNS = ("lead_id", "scoreable_at", "cohort", "source", "campaign", "label", "cause",
               "reason_code")
"""Columns of a cycle frame besides the features (``source`` is the normalised fit feature)."""
MIN_TRAIN_LEADS, MIN_TRAIN_SQLS = 200, 20
MIN_VALID_LEADS, MIN_VALID_SQLS = 50, 5


@dataclass
class CycleData:
    """Everything a review cycle learns from.

    Attributes:
        frame: one row per matured, labelled lead, ordered by ``scoreable_at``: ``lead_id``,
            ``scoreable_at``, ``cohort`` (Monday of its week), ``source``, ``campaign``,
            ``label`` (1 = SQL), ``cause``, ``reason_code``, then every feature column (raw).
        specs: the features, in model column order.
        attribute_roles: ``{column: (role, kind)}`` of the store's extra lead columns.
        summary: ``features.labels.label_summary`` plus the assembled counts.
        as_of: the review date.
    """

    frame: pd.DataFrame
    specs: list[FeatureSpec]
    attribute_roles: dict[str, tuple[str, str]]
    summary: dict[str, Any] = field(default_factory=dict)
    as_of: datetime | None = None

    @property
    def feature_names(self) -> list[str]:
        return [s.name for s in self.specs]


def _campaigns(con: duckdb.DuckDBPyConnection, lead_ids: pd.Series) -> pd.Series:
    """Each lead's campaign (None when the export has none), aligned with ``lead_ids``."""
    ids = pd.DataFrame({"lead_id": lead_ids.astype(str).to_numpy()})
    view = "_leadscore_cycle_ids"
    con.register(view, ids)
    try:
        found = con.execute(
            f"SELECT v.lead_id, l.campaign FROM {view} AS v JOIN leads AS l USING (lead_id)"
        ).fetch_df()
    finally:
        con.unregister(view)
    lookup = dict(zip(found["lead_id"], found["campaign"], strict=True))
    return pd.Series([lookup.get(i) for i in ids["lead_id"]], index=lead_ids.index, dtype=object)


def assemble(
    con: duckdb.DuckDBPyConnection, as_of: datetime, config: dict[str, Any], policy
) -> CycleData:
    """Matured labels as of ``as_of`` joined to features built at each lead's ``scoreable_at``.

    Args:
        con: an open store.
        as_of: the review date; nothing created, dispositioned or reached after it is read.
        config: the leadscore config (``labels.maturity_days``, ``features``, ``icp``).
        policy: the label policy (``features.labels.load_policy``).

    Raises:
        LeadscoreError: when the store holds codes the policy does not know.
    """
    check_codes(con, policy)
    maturity = int(config["labels"]["maturity_days"])
    labels = build_labels(con, as_of, policy, maturity)
    summary = dict(label_summary(con, as_of, policy, maturity))
    labelled = labels[labels["matured"]].reset_index(drop=True)
    roles = store_attribute_roles(con)
    specs = feature_specs(roles, config)

    points = pd.DataFrame({"lead_id": labelled["lead_id"], "as_of": labelled["scoreable_at"]})
    features = build_batch(con, points, config).drop(columns=["lead_id", "as_of"])
    frame = pd.concat(
        [
            labelled[["lead_id", "scoreable_at", "cohort"]],
            pd.DataFrame({"campaign": _campaigns(con, labelled["lead_id"])}),
            labelled[["label", "cause", "reason_code"]],
            features,  # carries the normalised `source` fit feature
        ],
        axis=1,
    )
    frame = frame[[*KEY_COLUMNS, *(s.name for s in specs if s.name != "source")]]
    summary.update(
        assembled_leads=len(frame),
        assembled_positives=int(frame["label"].sum()),
        assembled_cohorts=int(frame["cohort"].nunique()),
        first_cohort=str(frame["cohort"].min()) if len(frame) else None,
        last_cohort=str(frame["cohort"].max()) if len(frame) else None,
    )
    return CycleData(frame=frame, specs=specs, attribute_roles=roles, summary=summary, as_of=as_of)


def calendar_weeks(cohorts: pd.Series) -> int:
    """The calendar weeks weekly ``cohorts`` (their Mondays) span, from the first through the
    last, weeks without a lead included: what "MQLs a week" divides by, as the backtest divides
    by its period (a cohort of 4 weeks with leads over 5 weeks sent its leads in 5)."""
    days = pd.to_datetime(pd.Series(cohorts))
    if days.empty:
        return 0
    return int((days.max() - days.min()).days // 7) + 1


def _counts(part: pd.DataFrame) -> tuple[int, int]:
    return len(part), int(part["label"].sum())


def _weeks(n: int) -> str:
    return f"{n} week{'s' if n != 1 else ''}"


def _parts(frame: pd.DataFrame, cohorts: list, validation_weeks: int):
    """``(train, calib, valid)`` for ``validation_weeks``, cohorts ordered oldest first."""
    in_valid = frame["cohort"].isin(set(cohorts[-validation_weeks:]))
    in_calib = frame["cohort"].isin(set(cohorts[-2 * validation_weeks:-validation_weeks]))
    return frame[~in_valid & ~in_calib], frame[in_calib], frame[in_valid]


def _enough(train: pd.DataFrame, calib: pd.DataFrame, valid: pd.DataFrame) -> bool:
    (nt, pt), (nc, pc), (nv, pv) = _counts(train), _counts(calib), _counts(valid)
    return (nt >= MIN_TRAIN_LEADS and pt >= MIN_TRAIN_SQLS
            and nc >= MIN_VALID_LEADS and pc >= MIN_VALID_SQLS
            and nv >= MIN_VALID_LEADS and pv >= MIN_VALID_SQLS)


def _remedy(data: CycleData, cohorts: list, validation_weeks: int) -> str:
    """The fix that works on this store: a ``cycle.validation_weeks`` whose split meets every
    minimum (the one nearest the configured value), else more data; never a setting that cannot
    help (lowering the windows when they are what falls short, or below one week), nor waiting
    when no lead the review sees is still inside its maturity window."""
    frame = data.frame
    workable = [w for w in range(1, len(cohorts) // 2 + 1)
                if _enough(*_parts(frame, cohorts, w))]
    if workable:
        best = min(workable, key=lambda w: (abs(w - validation_weeks), w))
        return (f"set cycle.validation_weeks to {best} (this store meets every minimum with "
                f"windows of {_weeks(best)}), or ingest more history")
    summary = data.summary
    maturing = [summary.get(k) for k in ("unmatured_open_leads", "unmatured_decided_leads")]
    if None not in maturing and not sum(maturing) and data.as_of is not None:
        return (f"ingest more history (every lead created by {data.as_of.date().isoformat()} "
                "has matured, so waiting adds none)")
    return "ingest more history, or wait for more cohorts to mature"


def split(
    data: CycleData, validation_weeks: int, positives: str = "SQLs"
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Time-ordered split by weekly cohort: ``(train, calib, valid)``.

    ``valid`` is the newest ``validation_weeks`` matured cohorts, ``calib`` the
    ``validation_weeks`` cohorts before them, ``train`` everything older. ``positives`` is what
    the error calls converted leads (``labels.positive_name``, plural: "won deals").

    Raises:
        LeadscoreError: when training has fewer than 200 leads or 20 SQLs, or calibration or
            validation fewer than 50 leads or 5 SQLs.
    """
    if validation_weeks < 1:
        raise LeadscoreError(
            f"cycle.validation_weeks is {validation_weeks}: set it to 1 or more weeks."
        )
    frame = data.frame
    # order cohorts by their first lead, which holds whatever type the cohort key has
    cohorts = (
        frame.groupby("cohort", sort=False)["scoreable_at"].min().sort_values().index.tolist()
    )
    train, calib, valid = _parts(frame, cohorts, validation_weeks)
    (nt, pt), (nc, pc), (nv, pv) = _counts(train), _counts(calib), _counts(valid)
    if not _enough(train, calib, valid):
        n, p = _counts(frame)
        considered, days = data.summary.get("leads_considered"), data.summary.get("maturity_days")
        as_of = f" as of {data.as_of.date().isoformat()}" if data.as_of else ""
        if not n and considered == 0:
            by = f" by {data.as_of.date().isoformat()}" if data.as_of else ""
            raise LeadscoreError(
                f"Insufficient evidence: the store holds no lead created{by}, so there is "
                "nothing to learn from; review a later date, or ingest the export that covers "
                "this one."
            )
        if not n and considered and days:
            # more history of the same length would not help: the window outlasts all of it
            # the leads considered are those created by the review date, not the whole store
            who = (f"the {considered:,} leads created by {data.as_of.date().isoformat()}"
                   if data.as_of else f"the store's {considered:,} leads")
            raise LeadscoreError(
                f"Insufficient evidence: none of {who} has a matured "
                f"label{as_of} (labels.maturity_days is {days} days), so there is nothing to "
                "learn from; lower labels.maturity_days to how long outcomes take (ingest prints "
                "the outcome lag), or review later."
            )
        causes = data.summary.get("by_cause") or {}
        if n and not p and causes and not any(causes.get(c) for c in ("positive", "fit",
                                                                     "intent")):
            # every lead is a negative only because its window passed: no verdict, no outcome
            raise LeadscoreError(
                f"Insufficient evidence: none of the {n:,} leads matured{as_of} has a verdict "
                "or outcome (all are open leads, each a no-conversion only because its window "
                "passed), as in an export of open leads only: ingest a later export that "
                "holds outcomes, or check that the mapping's outcome or disposition column maps "
                "its positive value to a stage (or a positive reason code), and re-ingest."
            )
        if n and not p:
            # more history would not help: the mapping or the policy never yields a positive
            raise LeadscoreError(
                f"Insufficient evidence: the store has {n:,} matured labelled leads (0 "
                f"{positives}): no "
                "lead has a positive label, so check that the mapping maps the outcome's "
                "positive value to a stage (or a disposition to a positive reason code of the "
                "label policy) and re-ingest."
            )
        raise LeadscoreError(
            f"Insufficient evidence: the store has {n:,} matured labelled leads ({p:,} "
            f"{positives}) in {len(cohorts)} weekly cohorts, split into training {nt:,} ({pt:,} "
            f"{positives}), calibration {nc:,} ({pc:,}) and validation {nv:,} ({pv:,}), but a "
            f"review cycle needs at least {MIN_TRAIN_LEADS} leads and {MIN_TRAIN_SQLS} "
            f"{positives} to train on and {MIN_VALID_LEADS} leads and {MIN_VALID_SQLS} "
            f"{positives} in each of the calibration and validation windows of "
            f"{_weeks(validation_weeks)}; {_remedy(data, cohorts, validation_weeks)}."
        )
    return train.reset_index(drop=True), calib.reset_index(drop=True), valid.reset_index(drop=True)


def aligned_frame(frame: pd.DataFrame, feature_names: list[str]) -> pd.DataFrame:
    """``frame`` with every column a model needs; a feature this cycle lacks is missing (NaN)."""
    missing = [n for n in feature_names if n not in frame.columns]
    if not missing:
        return frame
    extra = pd.DataFrame({n: np.nan for n in missing}, index=frame.index)
    return pd.concat([frame, extra], axis=1)
