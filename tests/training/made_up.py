"""Made-up leads and a tiny real bundle trained on them, for fast scoring tests (no store)."""

from __future__ import annotations

from leadscore.config import default_config

TITLES = ("VP Marketing", "Director of Sales", "Marketing Manager", "Student", "Developer", None)
SIZES = ("1-10", "51-200", "201-1000", "5000+", None)
INDUSTRIES = ("Software", "Healthcare", "Retail", None)
COUNTRIES = ("US", "UK", "India", None)
DOMAINS = ("acme.io", "gmail.com", None)


def made_up_leads(n: int, seed: int, as_of: str = "2026-10-01T00:00:00") -> list[dict]:
    """Lead rows as the API and batch scoring take them, with activities, all made up."""
    import random
    from datetime import datetime, timedelta

    rng = random.Random(seed)
    at = datetime.fromisoformat(as_of)
    leads = []
    for i in range(n):
        activities = [
            {"activity_type": rng.choice(("demo_request", "pricing_view", "page_view",
                                          "email_click", "webinar_attended")),
             "occurred_at": (at - timedelta(hours=rng.randint(1, 24 * 60))).isoformat()}
            for _ in range(rng.choice((0, 0, 1, 2, 5)))
        ]
        leads.append({
            "lead_id": f"T{i:05d}", "created_at": (at - timedelta(days=70)).isoformat(),
            "source": rng.choice(("webinar", "paid_search", "organic")),
            "title": rng.choice(TITLES), "company_size": rng.choice(SIZES),
            "industry": rng.choice(INDUSTRIES), "country": rng.choice(COUNTRIES),
            "email_domain": rng.choice(DOMAINS), "activities": activities, "as_of": as_of,
        })
    return leads


def train_tiny_bundle(choice=None):
    """A real ScoringBundle trained in a second on made-up leads (no store, no MLflow); ``choice``
    (``training.tournament.ModelChoice``) picks the family, LightGBM by default."""
    import numpy as np
    import pandas as pd

    from features.definitions import feature_specs
    from tests.features.reference import build_online
    from training.model import train_bundle

    config = default_config()
    config["cycle"]["lightgbm"].update(n_estimators=15, min_child_samples=10)
    specs = feature_specs({}, config)
    leads = made_up_leads(900, seed=3)
    frame = pd.DataFrame([build_online(lead, lead["as_of"], config) for lead in leads])
    rng = np.random.default_rng(3)
    signal = frame["n_demo_request_30d"].fillna(0) + (frame["seniority"] == "vp")
    frame["label"] = (rng.random(len(frame)) < 0.1 + 0.3 * (signal > 0)).astype(int)
    bundle = train_bundle(frame.iloc[:600], frame.iloc[600:], specs, config, seed=1,
                          meta={"cycle": "tiny", "trained_at": "2026-10-01T00:00:00"},
                          choice=choice)
    bundle.manifest["threshold"] = 0.3
    return bundle


ATTRIBUTE_ROLES = {"Lead Origin": ("fit", "categorical"), "TotalVisits": ("intent", "numeric")}
"""Two columns of an export beyond the contract, as a mapping declares them (X Education's)."""
ORIGINS = ("API", "Landing Page Submission", "Lead Import")


def train_attribute_bundle():
    """A tiny real bundle that also learned from ``ATTRIBUTE_ROLES``' columns: a landing-page
    origin converts far more often, so the attribute moves the score."""
    import random

    import numpy as np
    import pandas as pd

    from features.definitions import feature_specs
    from tests.features.reference import build_online
    from training.model import train_bundle

    config = default_config()
    config["cycle"]["lightgbm"].update(n_estimators=20, min_child_samples=10)
    rng = random.Random(4)
    leads = made_up_leads(1200, seed=4)
    for lead in leads:
        lead["attributes"] = {"Lead Origin": rng.choice(ORIGINS),
                              "TotalVisits": float(rng.randint(0, 9))}
    frame = pd.DataFrame([build_online(lead, lead["as_of"], config, ATTRIBUTE_ROLES)
                          for lead in leads])
    origin = np.array([lead["attributes"]["Lead Origin"] == ORIGINS[1] for lead in leads])
    noise = np.random.default_rng(4).random(len(frame))
    frame["label"] = (noise < 0.05 + 0.5 * origin + 0.2 * (frame["n_demo_request_30d"] > 0)
                      ).astype(int)
    bundle = train_bundle(frame.iloc[:800], frame.iloc[800:],
                          feature_specs(ATTRIBUTE_ROLES, config), config, seed=1,
                          meta={"cycle": "tiny-attributes", "trained_at": "2026-10-01T00:00:00"},
                          attribute_roles=ATTRIBUTE_ROLES)
    bundle.manifest["threshold"] = 0.3
    return bundle
