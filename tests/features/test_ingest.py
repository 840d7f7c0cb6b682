"""Ingestion of contract-table exports: validation, normalisation, atomicity, idempotent upserts."""

from __future__ import annotations

import re
import textwrap
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from cli.main import cli
from features.ingest import ingest_paths
from features.timestamps import TIMESTAMP_RULE, YEARS
from leadscore.errors import LeadscoreError

LEADS = """\
lead_id,created_at,source,title,company_size,industry,country,email,First Name,phone,Colour
L1,2026-01-05T10:00:00Z, Webinar ,VP Marketing,51-200,Software,US,Ann.Lee@Acme.IO,Ann,555-0101,blue
L2,01/06/2026 09:30,Select,  Engineer ,1-10,Retail,N/A,bob@gmail.com,Bob,555-0102,Select
L3,2026-01-07,paid_search,CTO,201-1000,Software,DE,,Cyd,,green
"""
ACTIVITIES = """\
lead_id,occurred_at,activity_type
L1,2026-01-05T11:00:00,Pricing View
L1,2026-01-05T11:00:00,Pricing View
L2,2026-01-06T12:00:00+02:00,demo_request
L3,2026-01-08 08:00:00,Webinar Attended
"""
DISPOSITIONS = """\
lead_id,dispositioned_at,status,reason_code,attempts
L2,2026-01-08T09:00:00,Rejected,Wrong Title,3
"""
OUTCOMES = """\
lead_id,stage,occurred_at,amount
L1,SQL,2026-01-10,
"""
EXPORT = {"leads.csv": LEADS, "activities.csv": ACTIVITIES, "dispositions.csv": DISPOSITIONS,
          "outcomes.csv": OUTCOMES}
TABLES = ("leads", "activities", "dispositions", "outcomes", "attribute_roles")


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text))
    return folder


def dump(store: Path, *, log: bool = False) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: two stores are equal when their dumps are."""
    if not store.exists():
        return {}
    con = duckdb.connect(str(store), read_only=True)
    try:
        names = TABLES + (("ingest_log",) if log else ())
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in names}
    finally:
        con.close()


def rows(store: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def run_cli(*args: str):
    return CliRunner().invoke(cli, ["ingest", *args])


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write(tmp_path / "export", EXPORT)


def test_the_same_export_twice_leaves_identical_tables(export: Path, tmp_path: Path):
    store = tmp_path / "store.duckdb"
    first = ingest_paths([export], store)
    after_first = dump(store)
    second = ingest_paths([export], store)

    assert dump(store) == after_first
    assert [len(after_first[t]) for t in TABLES[:4]] == [3, 3, 1, 1]
    assert {name: c.new for name, c in first.tables.items()} == {
        "leads": 3, "activities": 3, "dispositions": 1, "outcomes": 1}
    assert all(c.new == 0 and c.updated == 0 for c in second.tables.values())
    assert {name: c.present for name, c in second.tables.items()} == {
        "leads": 3, "activities": 3, "dispositions": 1, "outcomes": 1}
    assert rows(store, "SELECT count(*) FROM ingest_log") == [(2,)]


def test_the_report_is_a_table_per_contract_table(export: Path, tmp_path: Path):
    store = tmp_path / "store.duckdb"
    text = str(ingest_paths([export], store))
    assert str(store) in text
    assert "rows read" in text and "already present" in text
    activities = next(line for line in text.splitlines() if line.strip().startswith("activities"))
    assert activities.split()[1:] == ["4", "3", "0", "0"]
    assert "1 row(s) of activities equal to another in every column the store keeps (lead_id, " \
           "occurred_at, activity_type), counted once" in text


def test_a_later_export_adds_exactly_its_new_dispositions_and_outcomes(export, tmp_path):
    store = tmp_path / "store.duckdb"
    ingest_paths([export], store)
    before = dump(store)
    later = write(tmp_path / "later", {
        "dispositions.csv": DISPOSITIONS + "L3,2026-01-09T10:00:00,meeting_booked,,1\n",
        "outcomes.csv": OUTCOMES + "L3,closed_won,2026-02-01,1200.50\n",
    })
    report = ingest_paths([later], store)
    after = dump(store)

    assert (report.tables["dispositions"].new, report.tables["dispositions"].present) == (1, 1)
    assert (report.tables["outcomes"].new, report.tables["outcomes"].present) == (1, 1)
    for table in ("leads", "activities", "attribute_roles"):
        assert after[table] == before[table]
    assert set(before["dispositions"]) < set(after["dispositions"])
    assert len(after["dispositions"]) == 2 and len(after["outcomes"]) == 2
    assert rows(store, "SELECT stage, amount FROM outcomes WHERE lead_id = 'L3'") == [
        ("closed_won", 1200.5)]


def test_a_changed_row_replaces_the_stored_one(export, tmp_path):
    store = tmp_path / "store.duckdb"
    ingest_paths([export], store)
    changed = write(tmp_path / "changed", {"leads.csv": LEADS.replace("VP Marketing", "CMO")})
    report = ingest_paths([changed / "leads.csv"], store)
    assert (report.tables["leads"].updated, report.tables["leads"].present) == (1, 2)
    assert rows(store, "SELECT title FROM leads WHERE lead_id = 'L1'") == [("CMO",)]
    assert rows(store, "SELECT count(*) FROM leads") == [(3,)]


def test_values_are_normalised(export, tmp_path):
    store = tmp_path / "store.duckdb"
    ingest_paths([export], store)
    leads = rows(store, "SELECT lead_id, created_at, source, title, country, email_domain "
                        "FROM leads ORDER BY lead_id")
    assert leads == [
        ("L1", datetime(2026, 1, 5, 10, 0), "Webinar", "VP Marketing", "US", "acme.io"),
        ("L2", datetime(2026, 1, 6, 9, 30), None, "Engineer", None, "gmail.com"),
        ("L3", datetime(2026, 1, 7), "paid_search", "CTO", "DE", None),
    ]
    assert rows(store, "SELECT lead_id, occurred_at, activity_type FROM activities "
                       "ORDER BY lead_id") == [
        ("L1", datetime(2026, 1, 5, 11, 0), "pricing_view"),
        ("L2", datetime(2026, 1, 6, 10, 0), "demo_request"),  # +02:00 stored as UTC
        ("L3", datetime(2026, 1, 8, 8, 0), "webinar_attended"),
    ]
    assert rows(store, "SELECT status, reason_code, attempts FROM dispositions") == [
        ("rejected", "wrong_title", 3)]
    assert rows(store, "SELECT stage, amount FROM outcomes") == [("sql", None)]


def test_email_is_reduced_to_its_domain_and_personal_columns_are_never_stored(export, tmp_path):
    store = tmp_path / "store.duckdb"
    report = ingest_paths([export], store)
    everything = repr(dump(store, log=True))
    for personal in ("Ann.Lee", "bob@", "Ann", "Bob", "Cyd", "555-0101", "555-0102"):
        assert personal not in everything
    assert b"Ann.Lee" not in store.read_bytes() and b"555-0101" not in store.read_bytes()
    assert "personal columns not stored: First Name, phone" in str(report)
    assert rows(store, "SELECT column_name FROM information_schema.columns "
                       "WHERE column_name IN ('email', 'phone', 'first_name')") == []


def test_extra_lead_columns_are_kept_as_ignored_attributes(export, tmp_path):
    store = tmp_path / "store.duckdb"
    ingest_paths([export], store)
    assert rows(store, "SELECT * FROM attribute_roles") == [
        ("Colour", "ignore", "categorical")]
    assert rows(store, "SELECT lead_id, attributes->>'Colour' FROM leads "
                       "ORDER BY lead_id") == [("L1", "blue"), ("L2", None), ("L3", "green")]


def test_parquet_files_with_typed_columns_are_read(tmp_path):
    folder = write(tmp_path / "export", {"leads.csv": LEADS})
    pq.write_table(pa.table({
        "lead_id": ["L1", "L3"],
        "occurred_at": pa.array([datetime(2026, 1, 5, 11), datetime(2026, 1, 9)],
                                pa.timestamp("us")),
        "activity_type": ["email_click", "page_view"],
    }), folder / "activities.parquet")
    store = tmp_path / "store.duckdb"
    ingest_paths([folder], store)
    assert rows(store, "SELECT lead_id, occurred_at FROM activities ORDER BY 1") == [
        ("L1", datetime(2026, 1, 5, 11)), ("L3", datetime(2026, 1, 9))]


# ---- one bad row fails the whole batch -----------------------------------------------------------

BAD_BATCHES = {
    "missing lead_id": (
        {"leads.csv": LEADS.replace("L3,2026-01-07", ",2026-01-07")},
        ["leads.csv line 4", "column lead_id"],
    ),
    "unparseable timestamp": (
        {"leads.csv": LEADS, "activities.csv": ACTIVITIES.replace(
            "L2,2026-01-06T12:00:00+02:00", "L2,yesterday")},
        ["activities.csv line 4", "column occurred_at", "'yesterday' is not a timestamp",
         "ISO 8601"],
    ),
    "a two-digit year is never read as year 20": (
        # DuckDB's cast reads 20-10-16 as 0020-10-16: a spreadsheet's day-month-year
        {"leads.csv": LEADS.replace("L3,2026-01-07", "L3,20-10-16")},
        ["leads.csv line 4", "column created_at", "'20-10-16' is not a timestamp"],
    ),
    "a year before scoring's 2000..2199 is refused as scoring refuses it": (
        {"leads.csv": LEADS.replace("L3,2026-01-07", "L3,1999-12-31 23:59")},
        ["leads.csv line 4", "column created_at", "'1999-12-31 23:59' is not a timestamp as "
         "ingest reads one: write it in ISO 8601", f"in {YEARS}, the years scoring accepts"],
    ),
    "a typo'd year past 2199 too, also in an export format": (
        {"leads.csv": LEADS, "activities.csv": ACTIVITIES.replace(
            "L2,2026-01-06T12:00:00+02:00", "L2,01/06/2206")},
        ["activities.csv line 4", "column occurred_at",
         "'01/06/2206' is not a timestamp as ingest reads one", f"in {YEARS}"],
    ),
    "a year first in two digits is never the year 16": (
        {"leads.csv": LEADS.replace("L3,2026-01-07", "L3,16/10/20")},
        ["leads.csv line 4", "column created_at", "'16/10/20' is not a timestamp"],
    ),
    "unknown table layout": (
        {"leads.csv": LEADS, "contacts.csv": LEADS},
        ["contacts.csv", "unknown table layout", "leads.csv, activities.csv, dispositions.csv"],
    ),
    "verdict for an unknown lead": (
        {"leads.csv": LEADS, "dispositions.csv": DISPOSITIONS
         + "L9,2026-01-09T08:00:00,Rejected,Wrong Title,1\n"},
        ["dispositions.csv line 3", "column lead_id", "'L9'", "neither in the store nor"],
    ),
    "not a whole number": (
        {"leads.csv": LEADS, "dispositions.csv": DISPOSITIONS.replace(",3", ",three")},
        ["dispositions.csv line 2", "column attempts", "'three' is not a whole number"],
    ),
    "not a number": (
        {"leads.csv": LEADS, "outcomes.csv": OUTCOMES.replace("2026-01-10,", "2026-01-10,1.2k")},
        ["outcomes.csv line 2", "column amount", "'1.2k' is not a number"],
    ),
    "one key, two different rows": (
        {"leads.csv": LEADS + "L1,2026-01-05,Webinar,CTO,51-200,Software,US,,,,\n"},
        ["leads.csv lines 2 and 5", "lead_id 'L1'", "keep one row per lead_id"],
    ),
    "missing required columns": (
        {"outcomes.csv": "lead_id,amount\nL1,3\n"},
        ["outcomes.csv", "stage, occurred_at"],
    ),
    "an e-mail address in a descriptive column": (
        {"leads.csv": LEADS.replace("CTO", "cyd@corp.example.com")},
        ["leads.csv line 4", "column title", "e-mail address"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_BATCHES))
def test_a_bad_row_fails_the_batch_naming_file_line_and_column(case, export, tmp_path):
    files, expected = BAD_BATCHES[case]
    store = tmp_path / "store.duckdb"
    ingest_paths([export], store)  # the store already holds data
    before = dump(store, log=True)
    bad = write(tmp_path / "bad", files)

    with pytest.raises(LeadscoreError) as caught:
        ingest_paths([bad], store)
    message = str(caught.value)
    for fragment in expected:
        assert fragment in message
    assert "\n" not in message and message.endswith(".")
    assert "cyd@" not in message
    assert dump(store, log=True) == before


@pytest.mark.parametrize("case", ["missing lead_id", "unparseable timestamp",
                                  "unknown table layout", "verdict for an unknown lead"])
def test_the_command_line_reports_a_bad_batch_in_one_line(case, export, tmp_path):
    files, expected = BAD_BATCHES[case]
    store = tmp_path / "store.duckdb"
    assert run_cli(str(export), "--store", str(store)).exit_code == 0
    before = dump(store, log=True)

    result = run_cli(str(write(tmp_path / "bad", files)), "--store", str(store))
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert expected[0] in result.output
    assert dump(store, log=True) == before


def test_a_failed_first_batch_leaves_no_store(tmp_path):
    files, _ = BAD_BATCHES["verdict for an unknown lead"]
    bad = write(tmp_path / "bad", files)
    before = sorted(tmp_path.rglob("*"))
    store = tmp_path / "new" / "sub" / "store.duckdb"
    result = run_cli(str(bad), "--store", str(store))
    assert result.exit_code == 1
    assert not store.exists()
    assert sorted(tmp_path.rglob("*")) == before  # no folder, WAL, temp or lookup file either


def test_a_failed_first_batch_keeps_a_folder_that_was_there(tmp_path):
    files, _ = BAD_BATCHES["verdict for an unknown lead"]
    bad = write(tmp_path / "bad", files)
    (tmp_path / "stores").mkdir()
    (tmp_path / "stores" / "notes.txt").write_text("mine")
    result = run_cli(str(bad), "--store", str(tmp_path / "stores" / "store.duckdb"))
    assert result.exit_code == 1
    assert [p.name for p in (tmp_path / "stores").iterdir()] == ["notes.txt"]


def test_the_command_line_ingests_twice_without_change(export, tmp_path):
    store = tmp_path / "store.duckdb"
    first = run_cli(str(export), "--store", str(store))
    after_first = dump(store)
    second = run_cli(str(export), "--store", str(store))
    assert first.exit_code == second.exit_code == 0
    assert dump(store) == after_first
    leads = next(line for line in second.output.splitlines() if line.strip().startswith("leads"))
    assert leads.split()[1:] == ["3", "0", "0", "3"]


def test_a_us_date_with_a_two_digit_year_reads_in_this_century(tmp_path):
    # %Y would take "26" as the year 26
    leads = LEADS.replace("01/06/2026 09:30", "01/06/26 09:30")
    folder = write(tmp_path / "x", {"leads.csv": leads})
    store = tmp_path / "store.duckdb"
    ingest_paths([folder], store)
    assert rows(store, "SELECT created_at FROM leads WHERE lead_id = 'L2'") == [
        (datetime(2026, 1, 6, 9, 30),)]


@pytest.mark.parametrize("value", ["1999-12-31T23:59:59", "2000-01-01T00:00:00",
                                   "2000-01-01T00:30:00+01:00", "2199-12-31T23:59:59",
                                   "2200-01-01", "12/31/1999"])
def test_ingest_stores_a_timestamp_exactly_when_scoring_accepts_it(value, tmp_path):
    """One range for both: a value ingest stores is never refused when its lead is scored."""
    from features.timestamps import TimestampError, parse_timestamp

    iso = "1999-12-31" if value == "12/31/1999" else value  # scoring reads ISO 8601 only
    try:
        parse_timestamp(iso)
        scoring_accepts = True
    except TimestampError:
        scoring_accepts = False
    folder = write(tmp_path / "export", {
        "leads.csv": f"lead_id,created_at,source,title,company_size,industry,country\n"
                     f"L1,{value},web,CTO,10,Retail,US\n"})
    if scoring_accepts:
        assert ingest_paths([folder], tmp_path / "s.duckdb").tables["leads"].new == 1
    else:
        refusal = ("is not a timestamp as ingest reads one: write it in ISO 8601 like "
                   "2026-03-01T14:05:00 (or, in a v2 mapping, state the column's format: or "
                   f"day_first: true), in {YEARS}")
        with pytest.raises(LeadscoreError, match=re.escape(refusal)):
            ingest_paths([folder], tmp_path / "s.duckdb")
    assert YEARS in TIMESTAMP_RULE
