"""Batch and online feature paths agree, lead by lead, on a realistic messy export.

The online path receives the lead as the API would: the raw export row (untrimmed text, "Select"
placeholders, an e-mail address instead of a domain) plus *all* of its raw activities, including
those after ``as_of``. The batch path reads the same export from a DuckDB store. Integers must be
equal, floats within 1e-9, categories identical; the encoder must then give identical rows.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from features.batch import attribute_roles, build_batch
from features.definitions import feature_specs
from features.encoding import FeatureEncoder
from features.ingest import ingest_paths
from features.store import create_schema
from generator import generate_frames
from leadscore.config import default_config
from tests.features.reference import build_online, encode_record

CONFIG = default_config()
N_LEADS = 1000

_TITLES = ("Chief Revenue Officer", "CEO", "Founder & CEO", "SVP Sales", "VP of Marketing",
           "Head of Marketing", "Director, IT", "Sr. Manager", "Sales Manager", "Marketing Intern",
           "Student", "Account Executive", " software engineer ", "Select", "N/A", "", None)
_SIZES = ("250", "51-200", "5000+", "10,000", "1,001 - 5,000", "1-10 employees", "11 - 50",
          "3", "Select", "", None)
_INDUSTRIES = ("Software", " software ", "Financial  Services", "HEALTHCARE", "Retail",
               "Non-Profit", "Select", None)
_COUNTRIES = ("US", "USA", "United States", "U.S.", "UK", "Great Britain", "Germany", "DE",
              "India", "Brazil", "UAE", "Atlantis", "Select", None)
_SOURCES = ("Paid Search", "paid_search", "PAID SEARCH", "Webinar", " Webinar", "Organic",
            "Referral", "Event ", "Select", None)
_DOMAINS = ("gmail.com", "yahoo.co.uk", "acme.com", "brightlane.io", "GMX.de", "stone.co.uk")
_TYPES = ("demo_request", "pricing_view", "content_download", "webinar_attended", "email_click",
          "page_view", "chat_started", "Pricing View")
_EPOCH = datetime(2025, 1, 1)


def synthetic_export(n_leads: int, seed: int) -> dict[str, pd.DataFrame]:
    """A messy contract export (leads + activities) with edge cases planted around windows."""
    rng = np.random.default_rng(seed)
    created = [_EPOCH + timedelta(seconds=int(s)) for s in rng.integers(0, 300 * 86400, n_leads)]
    emails = []
    domains = []
    for i in range(n_leads):
        domain = _DOMAINS[rng.integers(len(_DOMAINS))]
        kind = rng.random()
        emails.append(f"person{i}@{domain}" if kind < 0.5 else None)
        domains.append(domain if 0.5 <= kind < 0.9 else None)
    leads = pd.DataFrame({
        "lead_id": [f"L{i:05d}" for i in range(n_leads)],
        "created_at": created,
        "source": rng.choice(np.array(_SOURCES, dtype=object), n_leads),
        "title": rng.choice(np.array(_TITLES, dtype=object), n_leads),
        "company_size": rng.choice(np.array(_SIZES, dtype=object), n_leads),
        "industry": rng.choice(np.array(_INDUSTRIES, dtype=object), n_leads),
        "country": rng.choice(np.array(_COUNTRIES, dtype=object), n_leads),
        "email": emails,
        "email_domain": domains,
    })
    rows = []
    for lead_id, start in zip(leads["lead_id"], created, strict=True):
        for _ in range(rng.poisson(8)):
            offset_us = int(rng.integers(-10 * 86400, 150 * 86400)) * 1_000_000
            offset_us += int(rng.integers(0, 1_000_000)) if rng.random() < 0.3 else 0
            rows.append((lead_id, start + timedelta(microseconds=offset_us),
                         _TYPES[rng.integers(len(_TYPES))]))
    activities = pd.DataFrame(rows, columns=["lead_id", "occurred_at", "activity_type"])
    activities = activities.drop_duplicates(["lead_id", "occurred_at", "activity_type"])
    return {"leads": leads, "activities": activities}


def scoring_points(export: dict[str, pd.DataFrame], seed: int) -> pd.DataFrame:
    """One random as-of moment per lead; some sit exactly on an activity or a window edge."""
    rng = np.random.default_rng(seed + 1)
    leads, activities = export["leads"], export["activities"]
    first_activity = activities.groupby("lead_id")["occurred_at"].min()
    as_of = []
    for lead_id, created in zip(leads["lead_id"], pd.to_datetime(leads["created_at"]),
                                strict=True):
        moment = created.to_pydatetime() + timedelta(seconds=int(rng.integers(-86400, 90 * 86400)))
        roll = rng.random()
        if lead_id in first_activity.index and roll < 0.3:
            edge = pd.Timestamp(first_activity[lead_id]).to_pydatetime()
            moment = edge + timedelta(days=int(rng.choice([0, 1, 7, 30, 90])))
        as_of.append(moment)
    return pd.DataFrame({"lead_id": leads["lead_id"], "as_of": as_of})


def load_store(path: Path, export: dict[str, pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    """The export in a DuckDB store, through the real ingestion (CSV files)."""
    store = path / "store.duckdb"
    paths = []
    for name, frame in export.items():
        if name in ("leads", "activities", "dispositions", "outcomes"):
            paths.append(path / f"{name}.csv")
            frame.to_csv(paths[-1], index=False)
    ingest_paths(paths, store, None)
    return duckdb.connect(str(store))


def online_lead(lead_row: dict, activities: pd.DataFrame, iso: bool) -> dict:
    """The lead as an API request carries it: raw fields plus every raw activity."""
    lead = {k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in lead_row.items()}
    lead["activities"] = [
        {"activity_type": t,
         "occurred_at": pd.Timestamp(at).isoformat() if iso else pd.Timestamp(at).to_pydatetime()}
        for t, at in zip(activities["activity_type"], activities["occurred_at"], strict=True)
    ]
    return lead


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def assert_same_features(batch_row: dict, online: dict, specs) -> None:
    for spec in specs:
        b, o = batch_row[spec.name], online[spec.name]
        where = f"{batch_row['lead_id']} {spec.name}: batch {b!r} online {o!r}"
        if spec.kind == "categorical":
            assert (_missing(b) and _missing(o)) or (b == o and isinstance(o, str)), where
        elif spec.name.startswith(("n_", "active_days_")):
            assert b == o and float(o).is_integer(), where
        else:
            assert (_missing(b) and _missing(o)) or abs(b - o) <= 1e-9, where


def _export(source: str) -> dict[str, pd.DataFrame]:
    if source == "synthetic":
        return synthetic_export(N_LEADS, seed=7)
    generated = generate_frames(N_LEADS, 11)
    return {name: getattr(generated, name)
            for name in ("leads", "activities", "dispositions", "outcomes")}


@pytest.mark.parametrize("source", ["synthetic", "generated"])
def test_batch_and_online_agree(tmp_path, source):
    export = _export(source)
    points = scoring_points(export, seed=3)
    con = load_store(tmp_path, export)
    roles = attribute_roles(con)
    batch = build_batch(con, points, CONFIG, chunk_size=300)  # several chunks
    con.close()
    specs = feature_specs(roles, CONFIG)
    assert list(batch.columns) == ["lead_id", "as_of", *[s.name for s in specs]]
    assert batch["lead_id"].tolist() == points["lead_id"].tolist()

    encoder = FeatureEncoder(specs, min_count=3).fit(batch)
    matrix = encoder.transform(batch)
    by_lead = dict(tuple(export["activities"].groupby("lead_id")))
    empty = export["activities"].iloc[:0]
    lead_fields = export["leads"].drop(columns=["created_at"]).to_dict("records")
    checked_activity = 0
    for i, (lead_row, as_of) in enumerate(zip(lead_fields, points["as_of"], strict=True)):
        activities = by_lead.get(lead_row["lead_id"], empty)
        online = build_online(online_lead(lead_row, activities, iso=i % 2 == 0),
                              as_of, CONFIG, roles)
        assert list(online) == [s.name for s in specs]
        assert_same_features(batch.iloc[i].to_dict(), online, specs)
        np.testing.assert_array_equal(encode_record(encoder, online), matrix[i])
        checked_activity += online["days_since_last_activity"] == online[
            "days_since_last_activity"]
    assert checked_activity > N_LEADS // 3  # the comparison covered leads with activity


def test_batch_handles_leads_missing_from_the_store_and_repeated_points(tmp_path):
    export = synthetic_export(20, seed=1)
    con = load_store(tmp_path, export)
    lead_id = export["leads"]["lead_id"].iloc[0]
    points = pd.DataFrame({
        "lead_id": [lead_id, "NOPE", lead_id],
        "as_of": ["2025-06-01T00:00:00", "2025-06-01T00:00:00", "2025-06-01T00:00:00+02:00"],
    })
    batch = build_batch(con, points, CONFIG)
    con.close()
    assert len(batch) == 3
    ghost = build_online({"lead_id": "NOPE"}, "2025-06-01T00:00:00", CONFIG)
    assert_same_features(batch.iloc[1].to_dict(), ghost, feature_specs(None, CONFIG))
    assert batch.iloc[2]["days_since_last_activity"] != batch.iloc[0]["days_since_last_activity"] \
        or _missing(batch.iloc[0]["days_since_last_activity"])


def test_batch_rejects_points_without_as_of(tmp_path):
    from leadscore.errors import LeadscoreError

    con = duckdb.connect()
    create_schema(con)
    with pytest.raises(LeadscoreError, match="as_of"):
        build_batch(con, pd.DataFrame({"lead_id": ["L1"]}), CONFIG)
    with pytest.raises(LeadscoreError, match="as_of"):
        build_batch(con, pd.DataFrame({"lead_id": ["L1"], "as_of": [None]}), CONFIG)
