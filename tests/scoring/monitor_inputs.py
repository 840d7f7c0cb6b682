"""Tiny monitor inputs the monitor tests share: a training profile and served MQLs with
their verdicts."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from features.label_policy import load_policy
from scoring.drift import training_profile
from scoring.monitor import MonitorInputs

SINCE = datetime(2026, 9, 1)


FEATURES = [{"name": "pricing_views", "kind": "numeric"}, {"name": "industry",
                                                           "kind": "categorical"}]


def profile_of(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, dict]:
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.poisson(2.0, n).astype(float), rng.integers(0, 4, n).astype(float)])
    X[::10, 0] = np.nan
    return X, training_profile(X, FEATURES, {"industry": 4})


def inputs_of(mqls: int, converted: int, *, manifest: dict | None = None, touches=None,
            now: datetime | None = None) -> MonitorInputs:
    ids = [f"L{i:03d}" for i in range(mqls)]
    t0 = [SINCE + timedelta(hours=i) for i in range(mqls)]
    served = pd.DataFrame({"lead_id": ids, "scored_at": t0, "model_version": "3",
                           "score": 0.5, "grade": "A1", "is_mql": True, "feature_bins": None,
                           "source": "api"})
    disp = pd.DataFrame({"lead_id": ids, "dispositioned_at": [t + timedelta(minutes=30)
                                                              for t in t0],
                         "status": ["meeting_booked" if i < converted else "rejected"
                                    for i in range(mqls)],
                         "reason_code": ["meeting_booked" if i < converted else "no_budget"
                                         for i in range(mqls)],
                         "first_touch_at": touches or [t + timedelta(minutes=5) for t in t0]})
    return MonitorInputs(
        served=served, leads=pd.DataFrame({"lead_id": ids, "source": "webinar"}),
        dispositions=disp, outcomes=pd.DataFrame(columns=["lead_id", "stage", "occurred_at"]),
        high_intent=pd.DataFrame({"lead_id": ids[:1],
                                  "occurred_at": [SINCE - timedelta(days=1)] * len(ids[:1])}),
        manifest=manifest if manifest is not None else {
            "band": {"min": 0.25, "max": 0.5}, "deployed_metrics": {"mqls_per_week": 5.0}},
        policy=load_policy(None), since=SINCE, now=now or SINCE + timedelta(days=70),
        model_version="3", cycle="2026-W35")


def verdicts_end(inputs: MonitorInputs, end: datetime) -> MonitorInputs:
    """``inputs`` as an export taken at ``end`` shows them: no disposition after it."""
    from dataclasses import replace

    return replace(inputs, verdicts_to=end, verdicts_source="last record",
                   dispositions=inputs.dispositions[inputs.dispositions["dispositioned_at"]
                                                    <= end])
