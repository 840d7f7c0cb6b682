"""Flat one-table exports through a declarative mapping (features/mapping.py, flat_export.py)."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from features.ingest import ingest_paths
from features.mapping import load_mapping
from leadscore.errors import LeadscoreError

REPO = Path(__file__).resolve().parents[2]

FLAT = """\
Lead Number,Prospect ID,Lead Source,Country,TotalVisits,Lead Quality,Tags,Converted
100,p-1,Google,India,3,High in Relevance,Ringing,0
9,p-2,Direct Traffic,Select,0,,,1
10,p-3, Google ,India,Select,Low in Relevance,Closed by Horizzon,1
1000,p-4,Reference,,12,Might be,interested  IN other courses,0
"""

MAPPING = """\
name: tiny-crm
version: 2
created_at: {from_order: Lead Number, start: "2020-01-01", end: "2020-01-31"}
columns:
  Lead Number: id
  Prospect ID: ignore
  Lead Source: {role: fit, kind: categorical, as: source}
  Country: {role: fit, kind: categorical}
  TotalVisits: {role: intent, kind: numeric}
  Lead Quality: post_outcome
  Tags:
    role: disposition_reason
    keep: post_outcome
    after_days: 1
    values:
      Ringing: {status: rejected, reason_code: no_response}
      Closed by Horizzon: {status: converted, reason_code: converted}
      Interested in other courses: {status: rejected, reason_code: wrong_product_interest}
      Spam: none
  Converted: {role: outcome, after_days: 2, values: {"1": closed_won, "0": none}}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def query(store: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def dump(store: Path) -> dict[str, list[str]]:
    tables = ("leads", "activities", "dispositions", "outcomes", "attribute_roles")
    return {t: sorted(map(repr, query(store, f"SELECT * FROM {t}"))) for t in tables}


@pytest.fixture
def flat(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path / "export.csv", FLAT), write(tmp_path / "tiny.yaml", MAPPING)


def test_a_flat_export_lands_as_leads_dispositions_and_outcomes(flat, tmp_path):
    export, mapping = flat
    store = tmp_path / "store.duckdb"
    report = ingest_paths([export], store, mapping)

    assert {name: c.new for name, c in report.tables.items()} == {
        "leads": 4, "dispositions": 3, "outcomes": 2}
    assert "tiny-crm v2" in str(report)
    assert query(store, "SELECT lead_id, source, country FROM leads ORDER BY lead_id") == [
        ("10", "Google", None), ("100", "Google", None), ("1000", "Reference", None),
        ("9", "Direct Traffic", None)]
    assert query(store, "SELECT lead_id, status, reason_code FROM dispositions ORDER BY 1") == [
        ("10", "converted", "converted"), ("100", "rejected", "no_response"),
        ("1000", "rejected", "wrong_product_interest")]
    assert query(store, "SELECT lead_id, stage FROM outcomes ORDER BY 1") == [
        ("10", "closed_won"), ("9", "closed_won")]


def test_created_at_is_spread_over_the_period_in_numeric_id_order(flat, tmp_path):
    export, mapping = flat
    store = tmp_path / "store.duckdb"
    ingest_paths([export], store, mapping)
    created = dict(query(store, "SELECT lead_id, created_at FROM leads"))
    start, step = datetime(2020, 1, 1), timedelta(days=30) / 3
    assert [created[i] for i in ("9", "10", "100", "1000")] == [
        start, start + step, start + 2 * step, datetime(2020, 1, 31)]
    assert query(store, "SELECT lead_id, dispositioned_at FROM dispositions WHERE lead_id = '10'"
                 ) == [("10", start + step + timedelta(days=1))]
    assert query(store, "SELECT occurred_at FROM outcomes WHERE lead_id = '9'") == [
        (start + timedelta(days=2),)]


def test_roles_decide_what_is_stored_and_post_outcome_columns_are_marked(flat, tmp_path):
    export, mapping = flat
    store = tmp_path / "store.duckdb"
    ingest_paths([export], store, mapping)
    assert query(store, "SELECT name, role, kind FROM attribute_roles ORDER BY name") == [
        ("Country", "fit", "categorical"), ("Lead Quality", "post_outcome", "categorical"),
        ("Tags", "post_outcome", "categorical"), ("TotalVisits", "intent", "numeric")]
    attrs = dict(query(store, "SELECT lead_id, CAST(attributes AS VARCHAR) FROM leads"))
    assert yaml.safe_load(attrs["100"]) == {
        "Country": "India", "TotalVisits": 3.0, "Lead Quality": "High in Relevance",
        "Tags": "Ringing"}
    assert yaml.safe_load(attrs["10"])["TotalVisits"] is None  # "Select" is no answer
    assert "p-1" not in repr(dump(store))  # ignore: not stored at all


def test_a_flat_export_ingested_twice_changes_nothing(flat, tmp_path):
    export, mapping = flat
    store = tmp_path / "store.duckdb"
    ingest_paths([export], store, mapping)
    before = dump(store)
    report = ingest_paths([export], store, mapping)
    assert dump(store) == before
    assert all(c.new == 0 and c.updated == 0 for c in report.tables.values())


def test_an_undeclared_column_is_an_error_listing_every_one(flat, tmp_path):
    export, mapping = flat
    wider = write(tmp_path / "wider.csv", FLAT.replace("Converted\n", "Converted,Notes,Owner\n")
                  .replace(",0\n", ",0,x,y\n").replace(",1\n", ",1,x,y\n"))
    with pytest.raises(LeadscoreError, match=r"2 columns .* do(es)? not declare: Notes, Owner"):
        ingest_paths([wider], tmp_path / "store.duckdb", mapping)
    assert not (tmp_path / "store.duckdb").exists()


def test_an_unmapped_value_is_an_error_listing_values_with_counts(flat, tmp_path):
    export, mapping = flat
    odd = write(tmp_path / "odd.csv", FLAT + "11,p-5,Google,India,1,,Lost to EINS,0\n"
                                             "12,p-6,Google,India,1,,Lost to EINS,0\n"
                                             "13,p-7,Google,India,1,,Busy,1\n")
    with pytest.raises(LeadscoreError) as caught:
        ingest_paths([odd], tmp_path / "store.duckdb", mapping)
    message = str(caught.value)
    assert "column Tags: 2 values" in message
    assert "'Lost to EINS' (2 rows), 'Busy' (1 row)" in message


def test_a_bad_value_in_a_flat_export_names_its_line_and_column(flat, tmp_path):
    export, mapping = flat
    bad = write(tmp_path / "bad.csv", FLAT.replace("Reference,,12", "Reference,,twelve"))
    with pytest.raises(LeadscoreError, match=r"bad\.csv line 5, column TotalVisits: 'twelve'"):
        ingest_paths([bad], tmp_path / "store.duckdb", mapping)


BAD_MAPPINGS = {
    "unknown role": ("Country: {role: fit, kind: categorical}", "Country: {role: feature}",
                     "role 'feature'"),
    "fit without kind": ("Country: {role: fit, kind: categorical}", "Country: fit",
                         "needs kind: categorical or kind: numeric"),
    "bad as": ("as: source", "as: revenue", "as: 'revenue'"),
    "second id": ("Prospect ID: ignore", "Prospect ID: id", "exactly one column with role id"),
    "no created_at": ('created_at: {from_order: Lead Number, start: "2020-01-01", '
                      'end: "2020-01-31"}', "", "say when each lead was created"),
    "unknown stage": ('"1": closed_won', '"1": won', "use a stage"),
    "no version": ("version: 2", "", "whole-number version"),
    "personal column": ("Prospect ID: ignore", "Prospect ID: ignore\n  Email: post_outcome",
                        "personal data"),
    "misspelt from_order": ("{from_order: Lead Number,", "{from_order: Lead Numbr,",
                            "created_at.from_order names 'Lead Numbr', a column the mapping's "
                            "columns: section does not declare; use one of its column names."),
}


@pytest.mark.parametrize("case", list(BAD_MAPPINGS))
def test_a_broken_mapping_is_a_clear_error(case, tmp_path):
    old, new, expected = BAD_MAPPINGS[case]
    assert old in MAPPING
    path = write(tmp_path / "broken.yaml", MAPPING.replace(old, new))
    with pytest.raises(LeadscoreError) as caught:
        load_mapping(path)
    assert str(path) in str(caught.value) and expected in str(caught.value)


def test_the_shipped_x_education_mapping_uses_only_policy_codes():
    mapping = load_mapping(REPO / "features/mappings/x-education.yaml")
    policy = yaml.safe_load((REPO / "features/label_policy.yaml").read_text())
    tags = mapping.columns["Tags"]
    verdicts = [v for v in tags.values.values() if v is not None]
    assert {status for status, _ in verdicts} <= set(policy["statuses"])
    assert {reason for _, reason in verdicts} <= set(policy["reason_codes"])
    stages = {v[0] for v in mapping.columns["Converted"].values.values() if v is not None}
    assert stages <= set(policy["outcome_stages"])
    leaky = {"Tags", "Lead Quality", "Lead Profile", "Last Activity", "Last Notable Activity",
             "Do Not Email", "Do Not Call", "Asymmetrique Activity Index",
             "Asymmetrique Profile Index", "Asymmetrique Activity Score",
             "Asymmetrique Profile Score"}
    for name in leaky:
        rule = mapping.columns[name]
        assert rule.role == "post_outcome" or rule.keep, name


def test_an_exact_duplicate_row_of_a_flat_export_without_dates_collapses_into_one(tmp_path):
    # the spread ranks leads, not rows: a repeated row gets its lead's one creation time
    lines = FLAT.splitlines()
    export = write(tmp_path / "export.csv", "\n".join([*lines, lines[2]]) + "\n")
    mapping = write(tmp_path / "tiny.yaml", MAPPING)
    store = tmp_path / "store.duckdb"
    report = ingest_paths([export], store, mapping)
    assert report.tables["leads"].new == 4
    created = dict(query(store, "SELECT lead_id, created_at FROM leads"))
    start, step = datetime(2020, 1, 1), timedelta(days=30) / 3
    assert [created[i] for i in ("9", "10", "100", "1000")] == [
        start, start + step, start + 2 * step, datetime(2020, 1, 31)]


def test_a_decimal_comma_under_v1_points_to_the_v2_option(tmp_path):
    text = FLAT.replace("100,p-1,Google,India,3,", '100,p-1,Google,India,"2,5",')
    export = write(tmp_path / "export.csv", text)
    mapping = write(tmp_path / "tiny.yaml", MAPPING)
    with pytest.raises(LeadscoreError) as info:
        ingest_paths([export], tmp_path / "store.duckdb", mapping)
    assert "'2,5' is not a number" in str(info.value)
    assert 'decimal: ","' in str(info.value)


def test_an_attribute_named_like_a_contract_column_fills_only_the_attribute(tmp_path):
    # a bank's "campaign" is how many calls this campaign made to the client, not its campaign
    export = write(tmp_path / "calls.csv", "Lead Number,campaign,y\n1,2,yes\n2,5,no\n")
    mapping = write(tmp_path / "calls.yaml", """\
        name: calls
        version: 1
        created_at: {from_order: Lead Number, start: "2020-01-01", end: "2020-01-31"}
        columns:
          Lead Number: id
          campaign: {role: fit, kind: numeric}
          y: {role: outcome, after_days: 0, values: {"yes": closed_won, "no": none}}
        """)
    store = tmp_path / "store.duckdb"
    ingest_paths([export], store, mapping)
    assert query(store, "SELECT lead_id, campaign, CAST(attributes->>'campaign' AS DOUBLE) "
                        "FROM leads ORDER BY lead_id") == [("1", None, 2.0), ("2", None, 5.0)]
