"""The planted ground truth: how likely each lead is to become an SQL, and why.

    logit   = fit_logit + intent_term
    fit_logit   = BASELINE + seniority + company size band + free e-mail + industry
    intent_term = INTENT_SCALE * log1p(sum over activities before mql_at of
                                       INTENT_WEIGHTS[type] * 0.5 ** (age_days / HALF_LIFE_DAYS))
    true_p  = sigmoid(logit)

``true_p`` is the probability that the lead becomes an SQL within 30 days of ``mql_at``. The
fit effects read the lead's fields *after* information-destroying dirt (a missing title counts as
seniority "unknown"), so a model that sees the export can in principle reach the oracle. Region,
department and source have no effect of their own (they are decoys; source only shifts the mix of
who arrives and how engaged they are). There is no hidden noise: the only randomness between
``true_p`` and the outcome is the Bernoulli draw.
"""

from __future__ import annotations

import numpy as np

from generator.catalog import INDUSTRIES, LATE_INDUSTRY, SENIORITY_KEYS, SIZE_BAND_KEYS

BASELINE = -2.55

SENIORITY_EFFECT: dict[str, float] = {
    "c_level": 0.9,
    "vp": 1.1,
    "director": 0.9,
    "manager": 0.35,
    "individual": -0.5,
    "student": -2.6,
    "unknown": -0.7,
}
SIZE_EFFECT: dict[str, float] = {
    "1-10": -1.4,
    "11-50": -0.3,
    "51-200": 0.5,
    "201-1000": 0.6,
    "1001-5000": 0.2,
    "5001+": 0.0,
    "unknown": -0.4,
}
FREE_EMAIL_EFFECT = -0.9  # a free-mail address (gmail.com, ...); a missing address counts as 0
INDUSTRY_EFFECT: dict[str, float] = {
    "software": 0.5,
    "financial services": 0.5,
    "healthcare": 0.5,
    "manufacturing": 0.5,
    "climate tech": 0.3,
    "education": -0.5,
    "government": -0.4,
    "non-profit": -0.7,
    "unknown": -0.3,
}  # any other industry: 0

INTENT_WEIGHTS: dict[str, float] = {
    "demo_request": 6.0,
    "pricing_view": 2.5,
    "webinar_attended": 1.2,
    "content_download": 0.7,
    "email_click": 0.3,
    "page_view": 0.1,
}
INTENT_SCALE = 1.0
HALF_LIFE_DAYS = 14.0

PLANTED_SIGNALS: dict[str, list[str]] = {
    "fit": ["seniority", "company_size_band", "free_email", "industry"],
    "intent": ["demo_request", "pricing_view"],
}
"""The signals that drive ``true_p``, strongest first within each group. Region, department and
source are decoys with no planted effect."""

# ---- rejection causes -------------------------------------------------------------------------
# A lead that does not convert is rejected for fit with probability
#   sigmoid(CAUSE_SLOPE * (intent_term - fit_effects) + CAUSE_OFFSET)
# where fit_effects = fit_logit - BASELINE: low fit -> fit reason, low intent -> intent reason.
CAUSE_SLOPE = 1.3
CAUSE_OFFSET = -0.9
ALREADY_CUSTOMER_WEIGHT = 0.15  # among fit reasons, beside the weakest-attribute weights
INTENT_REASONS: dict[str, float] = {
    "no_response": 0.30,  # plus NO_RESPONSE_NO_INTENT when the lead did nothing before mql_at
    "bad_timing": 0.22,
    "no_budget": 0.18,
    "no_active_need": 0.20,
    "competitor": 0.10,
}
NO_RESPONSE_NO_INTENT = 0.60

SENIORITY_CODES = (*SENIORITY_KEYS, "unknown")
SIZE_CODES = (*SIZE_BAND_KEYS, "unknown")
INDUSTRY_CODES = (*(name.lower() for name, _ in INDUSTRIES), LATE_INDUSTRY.lower(), "unknown")
ACTIVITY_CODES = tuple(INTENT_WEIGHTS)

_SENIORITY_VEC = np.array([SENIORITY_EFFECT[k] for k in SENIORITY_CODES])
_SIZE_VEC = np.array([SIZE_EFFECT[k] for k in SIZE_CODES])
_INDUSTRY_VEC = np.array([INDUSTRY_EFFECT.get(k, 0.0) for k in INDUSTRY_CODES])
_INTENT_VEC = np.array([INTENT_WEIGHTS[k] for k in ACTIVITY_CODES])


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def fit_parts(
    seniority: np.ndarray, size: np.ndarray, industry: np.ndarray, free_email: np.ndarray
) -> dict[str, np.ndarray]:
    """Each fit effect per lead, from codes into SENIORITY_CODES, SIZE_CODES, INDUSTRY_CODES."""
    return {
        "seniority": _SENIORITY_VEC[seniority],
        "company_size_band": _SIZE_VEC[size],
        "industry": _INDUSTRY_VEC[industry],
        "free_email": np.where(free_email, FREE_EMAIL_EFFECT, 0.0),
    }


def intent_term(
    lead: np.ndarray, activity: np.ndarray, age_days: np.ndarray, n_leads: int
) -> np.ndarray:
    """INTENT_SCALE * log1p(decayed, weighted activity before mql_at), per lead.

    Args:
        lead: the lead (row number in the chunk) of each activity.
        activity: each activity's code into ACTIVITY_CODES.
        age_days: mql_at minus occurred_at, in days; only positive ages count.
        n_leads: number of leads in the chunk.
    """
    before = age_days > 0
    weight = _INTENT_VEC[activity[before]] * 0.5 ** (age_days[before] / HALF_LIFE_DAYS)
    total = np.bincount(lead[before], weights=weight, minlength=n_leads)
    return INTENT_SCALE * np.log1p(total)
