"""The intent definition is the one place an intent feature is added.

A feature appended to ``intent_definition`` (and to nothing else) is computed by the generated SQL
and by the generated kernel, with equal values that an independent count over the activities
confirms, and it is in the feature registry with the texts it was declared with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import definitions, intent, online, plan
from features.batch import build_batch
from features.intent import IntentFeature
from leadscore.config import default_config
from tests.features.test_parity import load_store, online_lead, scoring_points, synthetic_export

CONFIG = default_config()
EXTRA = (
    IntentFeature("n_pricing_view_14d", "count", "pricing_view", 14,
                  label="Viewed pricing {times} in the last 14 days",
                  definition="Number of pricing_view activities in (as_of - 14 days, as_of].",
                  zero_label="No pricing views in the last 14 days"),
    IntentFeature("days_since_page_view", "days_since", "page_view",
                  label="Last page view {days} ago",
                  definition="Days from the last page_view activity to as_of (NaN if none).",
                  missing_label="No page view yet"),
    IntentFeature("active_days_7d", "active_days", intent.ALL, 7,
                  label="Active on {n} day{s} in the last 7 days"),
)


@pytest.fixture
def extended(monkeypatch):
    shipped = intent.intent_definition
    monkeypatch.setattr(intent, "intent_definition", lambda windows: (*shipped(windows), *EXTRA))
    for cached in (plan.plan_of_keys, online._many_builder):
        cached.cache_clear()
    yield
    monkeypatch.undo()
    for cached in (plan.plan_of_keys, online._many_builder):
        cached.cache_clear()


def test_a_feature_added_to_the_definition_reaches_sql_kernel_and_registry(tmp_path, extended):
    export = synthetic_export(300, seed=5)
    points = scoring_points(export, seed=2)
    con = load_store(tmp_path, export)
    batch = build_batch(con, points, CONFIG, chunk_size=100)
    con.close()

    specs = {s.name: s for s in definitions.feature_specs({}, CONFIG)}
    assert specs["n_pricing_view_14d"].label == "Viewed pricing {times} in the last 14 days"
    assert specs["days_since_page_view"].missing_label == "No page view yet"
    assert list(batch.columns)[-3:] == [f.name for f in EXTRA]

    by_lead = dict(tuple(export["activities"].groupby("lead_id")))
    empty = export["activities"].iloc[:0]
    leads = [online_lead(row, by_lead.get(row["lead_id"], empty), iso=False)
             for row in export["leads"].drop(columns=["created_at"]).to_dict("records")]
    by_id = {lead["lead_id"]: lead for lead in leads}
    records = [by_id[str(i)] if str(i) in by_id else {"lead_id": str(i)}
               for i in points["lead_id"]]
    kernel = online.online_many_builder(CONFIG)(records, list(points["as_of"]))
    for feature in EXTRA:
        np.testing.assert_array_equal(kernel.columns[feature.name], batch[feature.name],
                                      err_msg=feature.name)

    # an independent count, straight from the activities
    acts = export["activities"].assign(
        at=pd.to_datetime(export["activities"]["occurred_at"], utc=True, format="ISO8601"),
        kind=export["activities"]["activity_type"].str.strip().str.lower()
        .str.replace(r"[^0-9a-z]+", "_", regex=True).str.strip("_"))
    acts = acts.drop_duplicates(["lead_id", "at", "kind"])
    expected = []
    for lead_id, as_of in zip(points["lead_id"], points["as_of"], strict=True):
        as_of = pd.Timestamp(as_of).tz_localize("UTC") if pd.Timestamp(as_of).tz is None \
            else pd.Timestamp(as_of)
        mine = acts[(acts["lead_id"] == lead_id) & (acts["kind"] == "pricing_view")]
        age = as_of - mine["at"]
        expected.append(float(((age >= pd.Timedelta(0)) & (age < pd.Timedelta(days=14))).sum()))
    np.testing.assert_array_equal(batch["n_pricing_view_14d"], expected)
    assert batch["n_pricing_view_14d"].sum() > 0 and batch["days_since_page_view"].notna().any()
