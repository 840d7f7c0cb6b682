"""Nothing known only after the scoring moment reaches a feature.

* Activities (and dispositions, outcomes) dated after ``as_of`` can be added, removed or changed
  without moving any feature, in the batch path and in the online path.
* Post-outcome columns of a flat export (X Education's Tags, Lead Quality, Last Activity ...) never
  become features, whatever the store holds.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.batch import attribute_roles, build_batch
from features.definitions import ATTRIBUTE_PREFIX, feature_specs, slug
from features.store import create_schema
from leadscore.config import default_config
from tests.features.reference import build_online

CONFIG = default_config()
AS_OF = datetime(2026, 3, 10, 12, 0, 0)
TYPES = ("demo_request", "pricing_view", "content_download", "webinar_attended", "email_click",
         "page_view", "chat_started")
REPO = Path(__file__).resolve().parents[2]
X_EDUCATION = REPO.parent / "shared/datasets/x-education/Leads.csv"
X_MAPPING = REPO / "features/mappings/x-education.yaml"
LEAKY = ("tags", "lead_quality", "lead_profile", "last_activity", "last_notable_activity")


def _activity(after: bool):
    """(type, moment) strictly after as_of, or at / before it."""
    micros = st.integers(1, 200 * 86_400_000_000) if after else st.integers(0, 200 * 86_400_000_000)
    sign = 1 if after else -1
    return st.tuples(
        st.sampled_from(TYPES),
        micros.map(lambda us: AS_OF + sign * timedelta(microseconds=us)),
    )


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (isinstance(a[k], float) and math.isnan(a[k]) and isinstance(b[k], float)
         and math.isnan(b[k])) or a[k] == b[k]
        for k in a
    )


def _online(activities):
    lead = {"lead_id": "L1", "title": "VP Sales", "company_size": "250", "industry": "Software",
            "country": "US", "email": "jane@acme.com", "source": "Webinar",
            "activities": [{"activity_type": t, "occurred_at": at} for t, at in activities]}
    return build_online(lead, AS_OF, CONFIG)


def _store(activities, after_verdicts: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    create_schema(con)
    con.execute("INSERT INTO leads (lead_id, created_at, source, title, company_size, industry, "
                "country, email_domain) VALUES ('L1', '2025-12-01', 'Webinar', 'VP Sales', "
                "'250', 'Software', 'US', 'acme.com')")
    rows = sorted({(t, at) for t, at in activities})
    if rows:
        con.executemany("INSERT INTO activities VALUES ('L1', ?, ?)",
                        [(at, t) for t, at in rows])
    if after_verdicts:
        later = AS_OF + timedelta(days=2)
        con.execute("INSERT INTO dispositions (lead_id, dispositioned_at, status, reason_code) "
                    "VALUES ('L1', ?, 'meeting_booked', 'meeting_booked')", [later])
        con.execute("INSERT INTO outcomes (lead_id, stage, occurred_at) VALUES ('L1', 'sql', ?)",
                    [later])
    return con


def _batch(activities, after_verdicts: bool = False) -> dict:
    con = _store(activities, after_verdicts)
    points = pd.DataFrame({"lead_id": ["L1"], "as_of": [AS_OF]})
    row = build_batch(con, points, CONFIG).iloc[0].to_dict()
    con.close()
    return row


_HISTORIES = {
    "known": st.lists(_activity(after=False), max_size=12),
    "future": st.lists(_activity(after=True), min_size=1, max_size=12),
    "changed": st.lists(_activity(after=True), max_size=12),
}


@settings(max_examples=100, deadline=None)
@given(**_HISTORIES)
def test_online_ignores_activities_after_as_of(known, future, changed):
    base = _online(known)
    assert _same(_online(known + future), base)  # added
    assert _same(_online(known + changed), base)  # changed or removed


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**_HISTORIES)
def test_batch_ignores_activities_and_verdicts_after_as_of(known, future, changed):
    base = _batch(known)
    assert _same(_batch(known + future, after_verdicts=True), base)
    assert _same(_batch(known + changed), base)
    features = {k: v for k, v in base.items() if k not in ("lead_id", "as_of")}
    assert _same(features, _online(known))


def test_activity_just_after_as_of_changes_nothing_but_at_as_of_does():
    at = [("demo_request", AS_OF)]
    just_after = [("demo_request", AS_OF + timedelta(microseconds=1))]
    assert not _same(_online(at), _online([]))
    assert _same(_online(just_after), _online([]))
    assert _same(_batch(just_after), _batch([]))
    assert not _same(_batch(at), _batch([]))


def test_generated_follow_up_activity_after_mql_never_leaks():
    """The generator plants extra activity after a converting lead's mql_at: a trap."""
    from generator import generate_frames

    export = generate_frames(400, 3)
    leads = export.leads
    points = pd.DataFrame({
        "lead_id": leads["lead_id"],
        "as_of": leads["mql_at"].fillna(leads["created_at"]),
    })
    full = duckdb.connect()
    create_schema(full)
    pruned = duckdb.connect()
    create_schema(pruned)
    acts = export.activities.drop_duplicates(["lead_id", "occurred_at", "activity_type"])
    moments = acts["lead_id"].map(dict(zip(points["lead_id"], points["as_of"], strict=True)))
    for con, frame in ((full, acts), (pruned, acts[acts["occurred_at"] <= moments])):
        con.register("l", leads)
        con.execute("INSERT INTO leads (lead_id, created_at, source, title, company_size, "
                    "industry, country, mql_at) SELECT lead_id, created_at, source, title, "
                    "company_size, industry, country, mql_at FROM l")
        con.register("a", frame)
        con.execute("INSERT INTO activities SELECT lead_id, occurred_at, activity_type FROM a")
    assert len(acts) > (acts["occurred_at"] <= moments).sum()  # the trap is really there
    pd.testing.assert_frame_equal(build_batch(full, points, CONFIG),
                                  build_batch(pruned, points, CONFIG))


ROLES = {
    "Lead Origin": ("fit", "categorical"),
    "TotalVisits": ("intent", "numeric"),
    "Tags": ("post_outcome", "categorical"),
    "Lead Quality": ("post_outcome", "categorical"),
    "Lead Profile": ("post_outcome", "categorical"),
    "Last Activity": ("post_outcome", "categorical"),
    "Last Notable Activity": ("post_outcome", "categorical"),
    "Asymmetrique Activity Index": ("post_outcome", "categorical"),
    "Asymmetrique Profile Score": ("post_outcome", "numeric"),
    "Prospect ID": ("ignore", "categorical"),
}


def _leaky(names) -> list[str]:
    slugs = [n[len(ATTRIBUTE_PREFIX):] for n in names if n.startswith(ATTRIBUTE_PREFIX)]
    return [s for s in slugs if s in LEAKY or s.startswith("asymmetrique") or s == "prospect_id"]


def test_post_outcome_and_ignored_attributes_never_become_features():
    names = [s.name for s in feature_specs(ROLES, CONFIG)]
    assert _leaky(names) == []
    assert {"attr_lead_origin", "attr_totalvisits"} <= set(names)


def test_post_outcome_attributes_stay_out_of_both_paths():
    con = duckdb.connect()
    create_schema(con)
    con.executemany("INSERT INTO attribute_roles VALUES (?, ?, ?)",
                    [(k, role, kind) for k, (role, kind) in ROLES.items()])
    attributes = {k: "x" for k in ROLES} | {"TotalVisits": 4}
    con.execute("INSERT INTO leads (lead_id, created_at, attributes) "
                "VALUES ('L1', '2026-01-01', ?)", [json.dumps(attributes)])
    batch = build_batch(con, pd.DataFrame({"lead_id": ["L1"], "as_of": [AS_OF]}), CONFIG)
    online = build_online({"lead_id": "L1", "attributes": attributes}, AS_OF, CONFIG,
                          attribute_roles(con))
    assert _leaky(batch.columns) == [] and _leaky(online) == []
    assert batch.loc[0, "attr_totalvisits"] == online["attr_totalvisits"] == 4.0
    assert batch.loc[0, "attr_lead_origin"] == online["attr_lead_origin"] == "x"


def test_x_education_leaky_columns_never_become_features(tmp_path):
    if not X_EDUCATION.is_file():
        pytest.skip(f"dataset not found at {X_EDUCATION}")
    from features.ingest import ingest_paths

    store = tmp_path / "x.duckdb"
    ingest_paths([X_EDUCATION], store, X_MAPPING)
    con = duckdb.connect(str(store))
    roles = attribute_roles(con)
    names = [s.name for s in feature_specs(roles, CONFIG)]
    assert roles, "the mapping declared no extra columns"
    assert _leaky(names) == [], _leaky(names)
    assert not any(slug(n).startswith("asymmetrique") for n in names)
    ids = con.execute("SELECT lead_id FROM leads LIMIT 200").fetchdf()["lead_id"]
    batch = build_batch(con, pd.DataFrame({"lead_id": ids, "as_of": AS_OF}), CONFIG)
    con.close()
    assert _leaky(batch.columns) == []
