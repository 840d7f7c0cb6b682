"""The real X Education export through its shipped mapping; skipped where the data is absent."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from features.ingest import ingest_paths
from features.mapping import fold

REPO = Path(__file__).resolve().parents[2]
LEADS_CSV = REPO.parent / "shared/datasets/x-education/Leads.csv"
MAPPING = REPO / "features/mappings/x-education.yaml"


@pytest.fixture(scope="module")
def export() -> pd.DataFrame:
    if not LEADS_CSV.is_file():
        pytest.skip(f"X Education data set not found at {LEADS_CSV} (it is never shipped)")
    return pd.read_csv(LEADS_CSV, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def store(export, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("x-education") / "x.duckdb"
    ingest_paths([LEADS_CSV], path, MAPPING)
    return path


def count(store: Path, sql: str) -> int:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_every_lead_lands(export, store):
    assert count(store, "SELECT count(*) FROM leads") == len(export) == 9240
    distinct = count(store, "SELECT count(DISTINCT lead_id) FROM leads")
    assert distinct == export["Lead Number"].nunique()


def test_every_non_blank_tag_with_a_verdict_is_a_disposition(export, store):
    values = yaml.safe_load(MAPPING.read_text())["columns"]["Tags"]["values"]
    no_row = {fold(k) for k, v in values.items() if v in (None, "none")}
    tags = export["Tags"].str.strip()
    expected = ((tags != "") & ~tags.map(fold).isin(no_row)).sum()
    assert count(store, "SELECT count(*) FROM dispositions") == expected


def test_every_conversion_is_a_closed_won_outcome(export, store):
    converted = (export["Converted"].str.strip() == "1").sum()
    assert count(store, "SELECT count(*) FROM outcomes WHERE stage = 'closed_won'") == converted
    assert count(store, "SELECT count(*) FROM outcomes") == converted


def test_leaky_columns_are_post_outcome_and_nothing_is_undeclared(store):
    assert count(store, "SELECT count(*) FROM attribute_roles WHERE name = 'Tags' "
                        "AND role = 'post_outcome'") == 1
    assert count(store, "SELECT count(*) FROM attribute_roles WHERE name LIKE 'Asymmetrique%' "
                        "AND role <> 'post_outcome'") == 0
    assert count(store, "SELECT count(*) FROM attribute_roles WHERE role = 'ignore'") == 0


def test_ingesting_it_again_changes_nothing(store):
    report = ingest_paths([LEADS_CSV], store, MAPPING)
    assert {name: (c.new, c.updated) for name, c in report.tables.items()} == {
        "leads": (0, 0), "dispositions": (0, 0), "outcomes": (0, 0)}
