"""Mapping v2, column by column: placeholders, encodings, lookups, derived parts, unnamed and
personal columns, day-first dates and renamed files, each on a tiny file written in the test."""

from __future__ import annotations

import json
import textwrap

import duckdb
import pytest

from features.ingest import ingest_paths
from features.inspect import inspect
from tests.features.test_mapping_v2 import WON_FILE, _fails, _mapping, _write


def test_unknown_stays_a_category_unless_the_mapping_lists_it(tmp_path):
    folder = _write(tmp_path / "x", {"leads.csv": """
        Id,Created,Channel
        a,2024-01-01,unknown
        b,2024-01-02,web
        c,2024-01-03,Select
        d,2024-01-04,
    """})
    columns = """
        Id: id
        Created: {role: timestamp, as: created_at}
        Channel: {role: fit, kind: categorical}
    """
    ingest_paths([folder / "leads.csv"], tmp_path / "a.duckdb", mapping=_mapping(folder, columns))
    kept = duckdb.connect(str(tmp_path / "a.duckdb"), read_only=True).execute(
        "SELECT lead_id, attributes->>'Channel' FROM leads ORDER BY 1").fetchall()
    assert kept == [("a", "unknown"), ("b", "web"), ("c", "Select"), ("d", None)]
    listed = _mapping(folder, columns, 'missing: ["", "unknown", "Select"]')
    report = ingest_paths([folder / "leads.csv"], tmp_path / "b.duckdb", mapping=listed)
    emptied = duckdb.connect(str(tmp_path / "b.duckdb"), read_only=True).execute(
        "SELECT lead_id, attributes->>'Channel' FROM leads ORDER BY 1").fetchall()
    assert emptied == [("a", None), ("b", "web"), ("c", None), ("d", None)]
    assert "lists as missing read as missing: Channel (2 values)" in str(report)


def test_a_v1_mapping_still_empties_the_default_list_but_says_so(tmp_path):
    folder = _write(tmp_path / "x", {"leads.csv": """
        Id,Channel
        1,unknown
        2,web
        3,Select
    """})
    v1 = tmp_path / "v1.yaml"
    v1.write_text("name: a\nversion: 1\ncreated_at: {from_order: Id, start: 2020-01-01, "
                  "end: 2020-12-31}\ncolumns: {Id: id, Channel: {role: fit, kind: categorical}}\n")
    report = ingest_paths([folder / "leads.csv"], tmp_path / "a.duckdb", mapping=v1)
    assert "the default missing-value list" in str(report)
    assert "'unknown'" in str(report) and "Channel (2 values)" in str(report)


def test_a_latin1_file_read_as_utf8_names_the_encoding_option(tmp_path):
    folder = _write(tmp_path / "x", {"leads.csv": "Id,Created,City\na,2024-01-01,Zürich\n"
                                     .encode("latin-1")})
    mapping = _mapping(folder, """
        Id: id
        Created: {role: timestamp, as: created_at}
        City: {role: fit, kind: categorical}
    """)
    message = _fails([folder / "leads.csv"], tmp_path / "s.duckdb", mapping)
    assert "not UTF-8" in message and "encoding: cp1252 under files: leads:" in message
    with_encoding = mapping.read_text().replace("kind: main", "kind: main\n    encoding: cp1252")
    mapping.write_text(with_encoding)
    ingest_paths([folder / "leads.csv"], tmp_path / "s.duckdb", mapping=mapping)


def test_lookup_columns_become_attributes_and_derived_parts_are_computed(tmp_path):
    folder = _write(tmp_path / "x", {
        "leads.csv": """
            Id,Created,Product
            a,2024-03-04 15:30:00,GTXPro
            b,2024-07-06 09:00:00,MG
        """,
        "products.csv": """
            name,series,price
            GTX Pro,GTX,"4.821,5"
            MG,MG,55
        """,
    })
    extra = """
      products:
        path: products.csv
        kind: lookup
        decimal: ","
        key: name
        joins: Product
        columns: {name: key, series: {role: fit, kind: categorical},
                  price: {role: fit, kind: numeric}}
    """
    mapping = _mapping(folder, """
        Id: id
        Created: {role: timestamp, as: created_at}
        Product: {role: fit, kind: categorical, replace: {GTXPro: GTX Pro}}
    """, extra=textwrap.indent(textwrap.dedent(extra), "  "))
    mapping.write_text(mapping.read_text().replace(
        "    columns:\n", "    derived:\n      month: {from: Created, part: month, role: fit}\n"
        "      weekday: {from: Created, part: weekday, role: fit}\n"
        "      hour: {from: Created, part: hour, role: intent, kind: numeric}\n    columns:\n", 1))
    ingest_paths([folder], tmp_path / "a.duckdb", mapping=mapping)
    con = duckdb.connect(str(tmp_path / "a.duckdb"), read_only=True)
    got = con.execute("SELECT lead_id, attributes FROM leads ORDER BY 1").fetchall()
    first = json.loads(got[0][1])
    assert first["Product"] == "GTX Pro" and first["series"] == "GTX"
    assert first["price"] == 4821.5
    assert (first["month"], first["weekday"], first["hour"]) == ("3", "Monday", 15.0)
    roles = dict(con.execute("SELECT name, role FROM attribute_roles").fetchall())
    assert roles["hour"] == "intent" and roles["series"] == "fit"


def test_a_file_the_mapping_names_must_be_given(tmp_path):
    folder = _write(tmp_path / "x", {"leads.csv": "Id,Created\na,2024-01-01\n"})
    mapping = _mapping(folder, """
        Id: id
        Created: {role: timestamp, as: created_at}
    """, extra=WON_FILE)
    message = _fails([folder / "leads.csv"], tmp_path / "s.duckdb", mapping)
    assert "names file(s) 'won.csv' that are not among the files given" in message
    assert not (tmp_path / "s.duckdb").exists()


def test_derived_parts_ignore_the_stand_in_for_a_blank_date(tmp_path):
    folder = _write(tmp_path / "x", {"leads.csv": "Id,Engaged\na,2024-03-04\nb,\n"})
    mapping = _mapping(folder, """
        Id: id
        Engaged: {role: timestamp, as: created_at, if_blank: "2024-12-31"}
    """)
    mapping.write_text(mapping.read_text().replace(
        "    columns:\n", "    derived:\n      month: {from: Engaged, part: month, role: fit}\n"
        "    columns:\n", 1))
    ingest_paths([folder / "leads.csv"], tmp_path / "a.duckdb", mapping=mapping)
    con = duckdb.connect(str(tmp_path / "a.duckdb"), read_only=True)
    assert con.execute("SELECT lead_id, CAST(created_at AS DATE)::VARCHAR, attributes->>'month' "
                       "FROM leads ORDER BY 1").fetchall() == [("a", "2024-03-04", "3"),
                                                              ("b", "2024-12-31", None)]


def test_an_unnamed_empty_column_from_trailing_delimiters_is_passed_over(tmp_path):
    # spreadsheets often save a trailing delimiter on every line: unnamed, empty columns
    folder = _write(tmp_path / "x", {"leads.csv": "Id;Channel;;\na;web;;\nb;mail;;\n"})
    mapping = _mapping(folder, """
        Id: id
        Channel: {role: fit, kind: categorical}
    """, extra='created_at: {from_order: Id, start: "2020-01-01", end: "2020-12-31"}\n')
    ingest_paths([folder / "leads.csv"], tmp_path / "s.duckdb", mapping=mapping)
    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM leads").fetchone()[0] == 2
    profiled = [c.name for c in inspect([folder / "leads.csv"]).main.columns]
    assert profiled == ["Id", "Channel"]


def test_an_unnamed_column_that_holds_values_is_an_error_naming_it(tmp_path):
    folder = _write(tmp_path / "x", {"leads.csv": "Id,Channel,\na,web,x\nb,mail,\n"})
    mapping = _mapping(folder, """
        Id: id
        Channel: {role: fit, kind: categorical}
    """, extra='created_at: {from_order: Id, start: "2020-01-01", end: "2020-12-31"}\n')
    message = _fails([folder / "leads.csv"], tmp_path / "s.duckdb", mapping)
    assert "column 3" in message and "no name" in message and "line 2" in message
    assert not (tmp_path / "s.duckdb").exists()


@pytest.mark.parametrize("day_first", ["", ", day_first: true"])
def test_day_month_two_digit_year_dates_are_never_read_as_iso_years(tmp_path, day_first):
    # 20-10-16 casts to 0020-10-16 in DuckDB; spreadsheets write it for 20 October 2016
    folder = _write(tmp_path / "x", {"leads.csv": "Id,Created\na,20-10-16\nb,05-04-17\n"})
    mapping = _mapping(folder, f"""
        Id: id
        Created: {{role: timestamp, as: created_at{day_first}}}
    """)
    ingest_paths([folder / "leads.csv"], tmp_path / "s.duckdb", mapping=mapping)
    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    assert [str(d) for (d,) in con.execute("SELECT created_at FROM leads ORDER BY lead_id")
            .fetchall()] == ["2016-10-20 00:00:00", "2017-04-05 00:00:00"]


def test_an_if_blank_stand_in_does_not_spoil_reading_day_first_dates(tmp_path):
    folder = _write(tmp_path / "x", {"leads.csv": "Id,Created\na,20-10-16\nb,\nc,13-01-17\n"})
    mapping = _mapping(folder, """
        Id: id
        Created: {role: timestamp, as: created_at, if_blank: "2017-12-31"}
    """)
    report = ingest_paths([folder / "leads.csv"], tmp_path / "s.duckdb", mapping=mapping)
    assert "read day first" in str(report)
    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    assert [str(d) for (d,) in con.execute("SELECT created_at FROM leads ORDER BY lead_id")
            .fetchall()] == ["2016-10-20 00:00:00", "2017-12-31 00:00:00", "2017-01-13 00:00:00"]


def test_a_column_named_like_a_person_is_never_stored_as_a_feature(tmp_path):
    # names are personal data: a "Lead Owner" column declared a feature would reach the store,
    # the model's reasons and the report
    folder = _write(tmp_path / "x", {"leads.csv": """
        Id,Created,Lead Owner,Do Not Email,Channel
        a,2026-01-02,Jane Doe,Yes,web
        b,2026-01-03,John Roe,No,mail
    """})
    mapping = _mapping(folder, """
        Id: id
        Created: {role: timestamp, as: created_at}
        Lead Owner: {role: fit, kind: categorical}
        Do Not Email: post_outcome
        Channel: {role: fit, kind: categorical}
    """)
    message = _fails([folder / "leads.csv"], tmp_path / "s.duckdb", mapping)
    assert "column Lead Owner" in message and "named like personal data" in message
    assert "Jane" not in message and "ignore" in message
    assert not (tmp_path / "s.duckdb").exists()
    mapping.write_text(mapping.read_text().replace("Lead Owner: {role: fit, kind: categorical}",
                                                   "Lead Owner: ignore"))
    ingest_paths([folder / "leads.csv"], tmp_path / "s.duckdb", mapping=mapping)  # yes/no flag ok


@pytest.mark.parametrize(("name", "personal"), [
    ("Lead Owner", True), ("sales_agent", True), ("Sales Rep", True), ("Contact Name", True),
    ("Account Owner", True), ("Mobile", True), ("ContactEmail", True), ("Manager", True),
    ("Company Name", False), ("Campaign Name", False), ("Account Name", False),
    ("Contact Method", False), ("User Type", False), ("Channel", False), ("Industry", False),
    ("StageName", False), ("Stage Name", False), ("Pipeline Name", False),
    ("Lead Source Name", False), ("Owner Name", True), ("Deal - Owner", True),
    ("Created By", True), ("Last Modified By", True), ("Assigned To", True),
    ("Account Executive", True), ("SDR", True), ("Number of Employees", False),
    # an API's joined names; a person entity's fields are judged by the field's own words
    ("firstname", True), ("properties.mobilephone", True), ("Person - Name", True),
    ("Person - Email", True), ("Contact: Phone", True), ("Person - Job title", False),
    ("Person - Organization", False),
])
def test_a_name_that_names_a_thing_or_a_kind_is_not_personal(name, personal):
    from features.contract import named_like_personal

    assert named_like_personal(name) is personal


def test_a_company_name_or_contact_method_feature_is_stored(tmp_path):
    folder = _write(tmp_path / "x", {"leads.csv": """
        Id,Created,Company Name,Contact Method
        a,2026-01-02,Acme,phone
        b,2026-01-03,Globex,web form
    """})
    mapping = _mapping(folder, """
        Id: id
        Created: {role: timestamp, as: created_at}
        Company Name: {role: fit, kind: categorical}
        Contact Method: {role: fit, kind: categorical}
    """)
    ingest_paths([folder / "leads.csv"], tmp_path / "s.duckdb", mapping=mapping)
    assert (tmp_path / "s.duckdb").exists()


def test_a_blank_creation_date_points_to_if_blank(tmp_path):
    # Maven's Prospecting deals have no engage_date: the fix is if_blank, not dropping them
    folder = _write(tmp_path / "x", {"leads.csv": "Id,Engaged\na,2017-01-02\nb,\n"})
    mapping = _mapping(folder, """
        Id: id
        Engaged: {role: timestamp, as: created_at}
    """)
    message = _fails([folder / "leads.csv"], tmp_path / "s.duckdb", mapping)
    assert "leads.csv line 3, column Engaged: no value" in message and "if_blank:" in message


def test_a_renamed_file_is_named_beside_the_one_the_mapping_expects(tmp_path):
    # the folder was given: the file is there under another name, so say which
    folder = _write(tmp_path / "x", {"Leads (export 2).csv": "Id,Created\na,2024-01-01\n"})
    mapping = _mapping(folder, """
        Id: id
        Created: {role: timestamp, as: created_at}
    """)
    message = _fails([folder], tmp_path / "s.duckdb", mapping)
    assert "'leads.csv'" in message and "'Leads (export 2).csv'" in message
    assert "path:" in message
