"""The Maven CRM multi-file export through its shipped v2 mapping; skipped where it is absent.

Expectations are computed from the files themselves, never typed in."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from features.ingest import ingest_paths
from features.labels import build_labels, load_policy
from leadscore.config import default_config

REPO = Path(__file__).resolve().parents[2]
FOLDER = REPO.parent / "shared/datasets/maven-crm"
MAPPING = REPO / "features/mappings/maven-crm.yaml"


@pytest.fixture(scope="module")
def pipeline() -> pd.DataFrame:
    if not (FOLDER / "sales_pipeline.csv").is_file():
        pytest.skip(f"Maven CRM data set not found at {FOLDER} (it is never shipped)")
    return pd.read_csv(FOLDER / "sales_pipeline.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def ingested(pipeline, tmp_path_factory):
    store = tmp_path_factory.mktemp("maven") / "m.duckdb"
    report = ingest_paths([FOLDER], store, MAPPING, labels=default_config()["labels"])
    return store, report


def test_every_opportunity_lands_decided_or_open(pipeline, ingested):
    store, report = ingested
    decided = pipeline["deal_stage"].isin(["Won", "Lost"])
    con = duckdb.connect(str(store), read_only=True)
    assert con.execute("SELECT count(*) FROM leads").fetchone()[0] == len(pipeline) == 8800
    by_code = dict(con.execute("SELECT reason_code, count(*) FROM dispositions GROUP BY 1")
                   .fetchall())
    assert by_code["converted"] == (pipeline["deal_stage"] == "Won").sum()
    assert by_code["converted"] + by_code["not_interested"] == decided.sum() == 6711
    assert by_code["still_open"] == (~decided).sum() == 2089
    assert "data_dictionary.csv" in str(report)


def test_open_deals_are_unknown_never_negative(pipeline, ingested):
    store, _ = ingested
    open_ids = set(pipeline.loc[~pipeline["deal_stage"].isin(["Won", "Lost"]), "opportunity_id"])
    con = duckdb.connect(str(store), read_only=True)
    labels = build_labels(con, datetime(2018, 6, 30), load_policy(None), maturity_days=140)
    assert not open_ids & set(labels["lead_id"])
    won = set(pipeline.loc[pipeline["deal_stage"] == "Won", "opportunity_id"])
    assert set(labels.loc[labels["label"] == 1, "lead_id"]) == won


def test_product_spellings_join_and_post_outcome_columns_are_no_features(pipeline, ingested):
    store, _ = ingested
    con = duckdb.connect(str(store), read_only=True)
    series = dict(con.execute("SELECT attributes->>'product', any_value(attributes->>'series') "
                              "FROM leads GROUP BY 1").fetchall())
    assert series["GTX Pro"] == "GTX" and "GTXPro" not in series
    assert all(series.values())
    roles = dict(con.execute("SELECT name, role FROM attribute_roles").fetchall())
    assert roles["close_value"] == "post_outcome"
    assert "close_date" not in roles and "engage_date" not in roles


def test_agent_and_manager_names_are_stored_nowhere(pipeline, ingested):
    store, report = ingested
    teams = pd.read_csv(FOLDER / "sales_teams.csv", dtype=str)
    names = set(teams["sales_agent"]) | set(teams["manager"])
    con = duckdb.connect(str(store), read_only=True)
    text = " ".join(str(row) for table in ("leads", "dispositions", "attribute_roles",
                                           "ingest_log")
                    for row in con.execute(f"SELECT * FROM {table}").fetchall())
    assert not [n for n in names if n in text]
    assert not [n for n in names if n in str(report)]


def test_the_ingest_prints_and_logs_the_outcome_lag(pipeline, ingested):
    store, report = ingested
    closed = pipeline[pipeline["deal_stage"] == "Won"]
    days = (pd.to_datetime(closed["close_date"]) - pd.to_datetime(closed["engage_date"])).dt.days
    share = (days > 30).mean()
    assert f"{share:.1%} arrive later than maturity_days (30)" in str(report)
    con = duckdb.connect(str(store), read_only=True)
    logged = con.execute("SELECT summary->'outcome_lag'->>'positives' FROM ingest_log").fetchone()
    assert int(logged[0]) == len(closed)
