"""Small synthetic cycle frames for the training unit tests (no store, no generator).

The frame has every feature of ``feature_specs({}, default_config())`` with a planted truth:
seniority, company size, free e-mail, demo requests and pricing views drive ``true_p``; region,
department and the other activities are noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.definitions import feature_specs
from leadscore.config import default_config

SENIORITY = {"c_level": 0.9, "vp": 1.1, "director": 0.9, "manager": 0.3, "individual": -0.5,
             "student": -2.5, "unknown": -0.7}
SIZE = {"1-10": -1.3, "11-50": -0.3, "51-200": 0.5, "201-1000": 0.6, "1001-5000": 0.2,
        "5001+": 0.0, "unknown": -0.4}
ACTIVITIES = ("demo_request", "pricing_view", "content_download", "webinar_attended",
              "email_click", "page_view")
RATE_90D = {"demo_request": 0.25, "pricing_view": 1.0, "content_download": 0.8,
            "webinar_attended": 0.3, "email_click": 1.5, "page_view": 4.0}
START = pd.Timestamp("2026-01-05")  # a Monday


def config() -> dict:
    cfg = default_config()
    cfg["cycle"]["lightgbm"].update(n_estimators=80, learning_rate=0.1)  # small and quick
    return cfg


def specs():
    return feature_specs({}, config())


def leads(n: int = 3000, seed: int = 0, weeks: int = 20) -> pd.DataFrame:
    """A cycle frame: key columns, every feature (raw), ``label`` and the planted ``true_p``."""
    rng = np.random.default_rng(seed)
    seniority = rng.choice(list(SENIORITY), n, p=[0.08, 0.1, 0.14, 0.22, 0.3, 0.08, 0.08])
    size = rng.choice(list(SIZE), n, p=[0.15, 0.2, 0.2, 0.2, 0.1, 0.1, 0.05])
    free = (rng.uniform(size=n) < 0.3).astype(float)
    frame = {
        "lead_id": [f"L{i:06d}" for i in range(n)],
        "source": rng.choice(["paid_search", "webinar", "organic", "referral"], n),
        "seniority": seniority,
        "department": rng.choice(["sales", "marketing", "it", "finance", "unknown"], n),
        "company_size_band": size,
        "industry": rng.choice(["software", "healthcare", "education", "retail"], n),
        "country": rng.choice(["united states", "germany", "india"], n),
        "region": rng.choice(["north_america", "europe", "apac"], n),
        "free_email": free,
        "icp_match": (np.isin(size, ["51-200", "201-1000", "1001-5000"])
                      & np.isin(seniority, ["c_level", "vp", "director", "manager"])).astype(float),
        "completeness": rng.choice([0.5, 0.67, 0.83, 1.0], n),
    }
    engaged = rng.gamma(1.0, 1.0, n)  # some leads are busier than others
    for activity in ACTIVITIES:
        n90 = rng.poisson(RATE_90D[activity] * engaged)
        n30 = rng.binomial(n90, 0.5)
        n7 = rng.binomial(n30, 0.4)
        n1 = rng.binomial(n7, 0.2)
        for window, count in ((1, n1), (7, n7), (30, n30), (90, n90)):
            frame[f"n_{activity}_{window}d"] = count.astype(float)
    total30 = sum(frame[f"n_{a}_30d"] for a in ACTIVITIES)
    total7 = sum(frame[f"n_{a}_7d"] for a in ACTIVITIES)
    frame["n_other_30d"] = rng.poisson(0.2, n).astype(float)
    high = (frame["n_demo_request_90d"] + frame["n_pricing_view_90d"]) > 0
    frame["days_since_high_intent"] = np.where(high, rng.uniform(0, 90, n), np.nan)
    any90 = sum(frame[f"n_{a}_90d"] for a in ACTIVITIES) > 0
    frame["days_since_last_activity"] = np.where(any90, rng.uniform(0, 60, n), np.nan)
    frame["active_days_30d"] = np.minimum(total30, 30).astype(float)
    frame["active_days_90d"] = np.minimum(sum(frame[f"n_{a}_90d"] for a in ACTIVITIES), 90)
    frame["trend_7_30"] = (total7 + 1) / ((total30 - total7) * 7 / 23 + 1)

    logit = (-2.4 + np.vectorize(SENIORITY.get)(seniority) + np.vectorize(SIZE.get)(size)
             - 0.9 * free
             + np.log1p(6 * frame["n_demo_request_30d"] + 2.5 * frame["n_pricing_view_7d"]))
    true_p = 1 / (1 + np.exp(-logit))
    label = (rng.uniform(size=n) < true_p).astype(np.int64)
    week = np.sort(rng.integers(0, weeks, n))
    scoreable = START + pd.to_timedelta(week * 7 + rng.uniform(0, 6.9, n), unit="D")
    out = pd.DataFrame(frame)
    for name in ("source", "seniority", "department", "company_size_band", "industry", "country",
                 "region"):
        out[name] = out[name].astype("str")
    out.insert(1, "scoreable_at", scoreable)
    out.insert(2, "cohort", START + pd.to_timedelta(week * 7, unit="D"))
    out.insert(3, "campaign", None)
    out["label"] = label
    out["cause"] = np.where(label == 1, "positive", "no_conversion")
    out["true_p"] = true_p
    missing = [s.name for s in specs() if s.name not in out.columns]
    assert not missing, missing
    return out


def split(frame: pd.DataFrame, weeks: int = 4):
    """Train / calib / valid by cohort, as ``training.dataset.split`` does."""
    cohorts = sorted(frame["cohort"].unique())
    valid = frame["cohort"].isin(cohorts[-weeks:])
    calib = frame["cohort"].isin(cohorts[-2 * weeks:-weeks])
    return (frame[~valid & ~calib].reset_index(drop=True), frame[calib].reset_index(drop=True),
            frame[valid].reset_index(drop=True))
