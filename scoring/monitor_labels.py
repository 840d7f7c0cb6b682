"""Which served leads the monitor counts, and which of them are decided.

A lead counts from its first score served since the champion's review (``first_scores``; an
MQL from its first score at or above the threshold). It is *decided* once its maturity window
from that moment has passed (``decide``), by the label policy's precedence: a positive outcome or
verdict inside the window converts, one before the lead was served drops it (nothing was left to
predict; a positive dated at midnight, as a date-only export dates it, counts from the start of
the day the lead was served), an excluded latest verdict drops it, anything else is a
non-conversion. Earlier
verdicts are mostly quick rejections, so undecided leads are never counted as negatives.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features.messages import plural

if TYPE_CHECKING:
    from features.label_policy import LabelPolicy
    from scoring.monitor import MonitorInputs


def as_times(values: pd.Series) -> pd.Series:
    """Timestamps as naive datetime64[us] (the stores keep naive UTC)."""
    return pd.to_datetime(values, utc=False).astype("datetime64[us]")


def first_scores(served: pd.DataFrame, since: datetime, *, mql: bool) -> pd.DataFrame:
    """Each lead's first score since ``since`` (with ``mql``: its first MQL score); ``t0`` is
    when it was served."""
    rows = served[as_times(served["scored_at"]) >= pd.Timestamp(since)]
    if mql:
        rows = rows[rows["is_mql"].fillna(False).astype(bool)]
    # the score log's ``source`` says who scored (api, batch), not where the lead came from
    rows = rows.rename(columns={"source": "scored_by"})
    rows = rows.assign(t0=as_times(rows["scored_at"])).sort_values(["t0", "lead_id"])
    return rows.drop_duplicates("lead_id").reset_index(drop=True)


def verdicts_end(inputs: MonitorInputs) -> pd.Timestamp:
    """The moment up to which a missing verdict means something: ``now``, or the end of the
    stores' verdicts when that comes first (``MonitorInputs.verdicts_to``)."""
    now = pd.Timestamp(inputs.now)
    end = inputs.verdicts_to
    return now if end is None else min(now, pd.Timestamp(end))


def count_beyond(ends: pd.Series, inputs: MonitorInputs) -> int:
    """How many of ``ends`` (deadlines, maturity windows) fall after the stores' verdicts end and
    by ``now``: those are not judged, since the export does not reach them."""
    end = verdicts_end(inputs)
    return int(((ends > end) & (ends <= pd.Timestamp(inputs.now))).sum())


def beyond_verdicts(ends: pd.Series, inputs: MonitorInputs, what: str) -> str | None:
    """The clause naming the MQLs whose ``what`` (a deadline, a maturity window) ended after the
    stores' verdicts do and by ``now`` (``count_beyond``); None when there are none."""
    end = verdicts_end(inputs)
    n = count_beyond(ends, inputs)
    if not n:
        return None
    return (f"{plural(n, 'MQL')} whose {what} ended after the stores' verdicts do "
            f"({end.date().isoformat()}, the store's {inputs.verdicts_source or 'last record'}) "
            f"{'is' if n == 1 else 'are'} not judged: ingest a newer export")


def decide(first: pd.DataFrame, inputs: MonitorInputs, maturity_days: int) -> pd.Series:
    """Each lead's label (1, 0, or NaN while undecided) once its window from ``t0`` has passed,
    by the label policy's precedence (docs: features/label_policy.yaml)."""
    policy, now = inputs.policy, pd.Timestamp(inputs.now)
    window = pd.Timedelta(days=maturity_days)
    d = inputs.dispositions[as_times(inputs.dispositions["dispositioned_at"]) <= now]
    o = inputs.outcomes[as_times(inputs.outcomes["occurred_at"]) <= now]
    fam = families(d, policy)
    positive = pd.concat([
        pd.DataFrame({"lead_id": d["lead_id"][fam == "positive"],
                      "at": as_times(d["dispositioned_at"][fam == "positive"])}),
        pd.DataFrame({"lead_id": o["lead_id"], "at": as_times(o["occurred_at"]),
                      "keep": [policy.stage_family(s) == "positive" for s in o["stage"]]})
        .query("keep").drop(columns="keep"),
    ])
    keyed = first[["lead_id", "t0"]].reset_index()
    hits = keyed.merge(positive, on="lead_id")
    start = _served_from(hits["at"], hits["t0"])
    inside = hits[(hits["at"] >= start) & (hits["at"] <= hits["t0"] + window)]["index"]
    before = hits[hits["at"] < start]["index"]
    latest = (d.assign(family=fam, at=as_times(d["dispositioned_at"]))
              .sort_values(["at", "status"]).drop_duplicates("lead_id", keep="last")
              .set_index("lead_id")["family"])
    # a window that ends after the verdicts do is not decided: "no verdict" there is no news
    matured = (keyed["t0"] + window <= verdicts_end(inputs)).to_numpy()
    family = keyed["lead_id"].map(latest).to_numpy(dtype=object)
    label = np.where(matured, 0.0, np.nan)
    label[family == "excluded"] = np.nan
    # only a lead whose window has passed is decided, converted or not: counting the young
    # leads that converted early while their young peers stay undecided inflates the rate
    label[keyed["index"].isin(inside).to_numpy() & matured] = 1.0
    label[keyed["index"].isin(before).to_numpy()] = np.nan  # converted before it was served
    return pd.Series(label, index=first.index)


def _served_from(at: pd.Series, t0: pd.Series) -> pd.Series:
    """When a positive counts as after the score: ``t0``, or the start of ``t0``'s day for a
    positive stamped at midnight exactly.

    An export that keeps dates only (the outcome of a call on 5 April is ``2009-04-05 00:00``)
    cannot say whether the outcome came before or after a score served at 09:30 that day; the
    review's labels count it (they start at the lead's scoreable moment), so the monitor does
    too, instead of dropping every same-day conversion as "converted before it was served".
    """
    midnight = at == at.dt.normalize()
    return t0.where(~midnight, t0.dt.normalize())


def families(dispositions: pd.DataFrame, policy: LabelPolicy) -> pd.Series:
    """The label policy's family of each disposition row (asked once per distinct verdict)."""
    # a missing status or reason code is a key of its own: pandas strings keep it missing
    # through astype(str), and factorize would code it -1, a group that shifts every answer
    keys = (dispositions["status"].astype(object).fillna("\x01").astype(str) + "\x00"
            + dispositions["reason_code"].astype(object).fillna("\x01").astype(str))
    codes, uniques = pd.factorize(keys)
    first = pd.Series(range(len(keys))).groupby(codes).first().to_numpy() if len(keys) else []
    answers = np.array([policy.family(dispositions["status"].iloc[i],
                                      dispositions["reason_code"].iloc[i]) for i in first],
                       dtype=object)
    return pd.Series(answers[codes] if len(keys) else [], index=dispositions.index, dtype=object)
