"""Mapping v2 end to end: a generated export rewritten the way real CRMs write files ingests into
exactly the tables its clean form does, and every failure the issue lists works or fails short."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from features.ingest import ingest_paths
from features.inspect import inspect
from features.mapping_v2 import load_any
from generator import generate_export
from leadscore.errors import MAX_MESSAGE, LeadscoreError
from tests.features.test_ingest import dump

PLACEHOLDER_LIST = '["", "select", "n/a", "na", "none", "null", "-", "unknown", "not provided"]'
TIMESTAMPS = {"leads": ("created_at", "mql_at"), "activities": ("occurred_at",),
              "dispositions": ("dispositioned_at", "first_touch_at"),
              "outcomes": ("occurred_at",)}

ROUND_TRIP = f"""
leadscore_mapping: 2
name: rewritten
version: 1
options: {{delimiter: ";", encoding: latin-1, decimal: ",", day_first: true,
          missing: {PLACEHOLDER_LIST}}}
files:
  leads:
    path: leads.csv
    kind: main
    id: {{from_row: true}}
    columns:
      created_at: {{role: timestamp, as: created_at}}
      mql_at: {{role: timestamp, as: mql_at}}
      source: {{role: fit, kind: categorical, as: source}}
      title: {{role: fit, kind: categorical, as: title}}
      company_size: {{role: fit, kind: categorical, as: company_size}}
      industry: {{role: fit, kind: categorical, as: industry}}
      country: {{role: fit, kind: categorical, as: country}}
      campaign: {{role: fit, kind: categorical, as: campaign}}
      email: {{role: fit, kind: categorical, as: email}}
  activities:
    path: activities.csv
    kind: activities
    delimiter: auto
    key: lead_ref
    columns: {{lead_ref: key, occurred_at: {{as: occurred_at}},
              activity_type: {{as: activity_type}}}}
  dispositions:
    path: dispositions.csv
    kind: dispositions
    key: lead_ref
    columns:
      lead_ref: key
      dispositioned_at: {{as: dispositioned_at}}
      status: {{as: status}}
      reason_code: {{as: reason_code}}
      rep_id: {{as: rep_id}}
      attempts: {{as: attempts}}
      first_touch_at: {{as: first_touch_at}}
  outcomes:
    path: won_and_lost.csv
    kind: outcomes
    key: lead_ref
    columns: {{lead_ref: key, stage: {{as: stage}}, occurred_at: {{as: occurred_at}},
              amount: {{as: amount}}}}
"""


def _day_first(value: str) -> str:
    if not value:
        return value
    stamp = pd.Timestamp(value)
    return stamp.strftime("%d/%m/%Y %H:%M:%S")


def _decimal_comma(value: str) -> str:
    if not value:
        return value
    whole, _, fraction = value.partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    grouped = f"{int(digits):,}".replace(",", ".")
    return f"{sign}{grouped}" + (f",{fraction}" if fraction else "")


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> tuple[Path, Path]:
    """(clean folder, rewritten folder) of one generated export, lead ids = row numbers."""
    root = tmp_path_factory.mktemp("roundtrip")
    generate_export(400, seed=11, out_dir=root / "generated", progress=False)
    tables = {name: pd.read_csv(root / "generated" / f"{name}.csv", dtype=str,
                                keep_default_na=False) for name in TIMESTAMPS}
    ids = {old: str(i + 1) for i, old in enumerate(tables["leads"]["lead_id"])}
    for frame in tables.values():
        frame["lead_id"] = frame["lead_id"].map(ids)
    leads = tables["leads"]
    leads.loc[0, "country"] = "Côte d'Ivoire"  # latin-1 has it; the clean file is UTF-8
    leads.loc[1, "title"] = "Directeur Général"
    leads.loc[2, "industry"] = "unknown"  # the clean export's default list empties it
    clean, rewritten = root / "clean", root / "rewritten"
    clean.mkdir()
    rewritten.mkdir()
    for name, frame in tables.items():
        frame.to_csv(clean / f"{name}.csv", index=False)
        out = frame.copy()
        for column in TIMESTAMPS[name]:
            out[column] = out[column].map(_day_first)
        if name == "outcomes":
            out["amount"] = out["amount"].map(_decimal_comma)
        if name == "leads":
            out = out.drop(columns=["lead_id"])  # the file without an id column
        else:
            out = out.rename(columns={"lead_id": "lead_ref"})
        target = "won_and_lost.csv" if name == "outcomes" else f"{name}.csv"
        out.to_csv(rewritten / target, index=False, sep=";", encoding="latin-1")
    (root / "rewritten.yaml").write_text(ROUND_TRIP)
    return clean, rewritten


def test_a_rewritten_export_ingests_into_exactly_the_clean_exports_tables(exports, tmp_path):
    clean, rewritten = exports
    ingest_paths([clean], tmp_path / "clean.duckdb")
    raw = (rewritten / "leads.csv").read_bytes()
    assert b";" in raw.splitlines()[0] and "Côte".encode("latin-1") in raw
    assert b"lead_id" not in raw.splitlines()[0]
    report = ingest_paths([rewritten], tmp_path / "rewritten.duckdb",
                          mapping=rewritten.parent / "rewritten.yaml")
    expected, got = dump(tmp_path / "clean.duckdb"), dump(tmp_path / "rewritten.duckdb")
    assert {t: len(r) for t, r in got.items()} == {t: len(r) for t, r in expected.items()}
    assert got == expected
    assert all(len(rows) for name, rows in got.items() if name != "attribute_roles")
    text = str(report)
    assert "activities.csv: delimiter ';' (sniffed), encoding latin-1" in text
    assert "leads.csv: delimiter ';' (as the mapping says)" in text


def _write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = folder / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip())
    return folder


def _fails(paths, store, mapping) -> str:
    with pytest.raises(LeadscoreError) as info:
        ingest_paths(paths, store, mapping=mapping)
    message = str(info.value)
    assert len(message) <= MAX_MESSAGE and "\n" not in message
    return message


FLAT_V2 = """
leadscore_mapping: 2
name: tiny
version: 1
files:
  leads:
    path: leads.csv
    kind: main
    {id_line}
    columns:
{columns}
"""


def _mapping(folder: Path, columns: str, id_line: str = "", extra: str = "") -> Path:
    block = textwrap.indent(textwrap.dedent(columns), " " * 6)
    text = FLAT_V2.format(id_line=id_line, columns=block)
    path = folder / "mapping.yaml"
    path.write_text(text + extra)
    return path


def test_day_first_dates_that_read_both_ways_are_an_error_naming_two_rows(tmp_path):
    folder = _write(tmp_path / "x", {"leads.csv": """
        Id,Created,Channel
        a,01-02-2018,web
        b,03-04-2018,web
        c,05-06-2018,mail
    """})
    mapping = _mapping(folder, """
        Id: id
        Created: {role: timestamp, as: created_at}
        Channel: {role: fit, kind: categorical}
    """)
    message = _fails([folder / "leads.csv"], tmp_path / "s.duckdb", mapping)
    assert "both day first and month first" in message
    assert "line 2: '01-02-2018'" in message and "line 3: '03-04-2018'" in message
    assert "day_first: true" in message
    mapping.write_text(mapping.read_text().replace("as: created_at}",
                                                   "as: created_at, day_first: true}"))
    ingest_paths([folder / "leads.csv"], tmp_path / "s.duckdb", mapping=mapping)
    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    assert str(con.execute("SELECT created_at FROM leads WHERE lead_id = 'a'").fetchone()[0]) \
        == "2018-02-01 00:00:00"


def test_a_format_reads_a_date_and_v1_points_to_v2_for_it(tmp_path):
    folder = _write(tmp_path / "x", {"leads.csv": "Id,Created\na,13-02-2018\nb,01-12-2018\n"})
    mapping = _mapping(folder, """
        Id: id
        Created: {role: timestamp, as: created_at, format: "%d-%m-%Y"}
    """)
    ingest_paths([folder / "leads.csv"], tmp_path / "s.duckdb", mapping=mapping)
    v1 = tmp_path / "v1.yaml"
    v1.write_text("name: a\nversion: 1\nformat: x\ncolumns: {Id: id}\n")
    with pytest.raises(LeadscoreError, match="belong to a v2 mapping") as info:
        load_any(v1)
    assert len(str(info.value)) <= MAX_MESSAGE


def test_a_semicolon_file_gets_a_delimiter_hint_in_v1_and_is_sniffed_in_v2(tmp_path):
    text = 'age;"job";"marital";"y"\n30;"admin";"single";"no"\n'
    folder = _write(tmp_path / "x", {"leads.csv": text})
    v1 = tmp_path / "v1.yaml"
    v1.write_text("name: a\nversion: 1\ncreated_at: {from_order: age, start: 2020-01-01, "
                  "end: 2020-12-31}\ncolumns: {age: id, job: ignore, marital: ignore, y: ignore}\n")
    message = _fails([folder / "leads.csv"], tmp_path / "s.duckdb", v1)
    assert "';'-delimited" in message and "delimiter" in message
    mapping = _mapping(folder, """
        age: id
        job: {role: fit, kind: categorical}
        marital: {role: fit, kind: categorical}
        y: ignore
    """, extra='created_at: {from_order: age, start: "2020-01-01", end: "2020-12-31"}\n')
    report = ingest_paths([folder / "leads.csv"], tmp_path / "s.duckdb", mapping=mapping)
    assert "delimiter ';' (sniffed)" in str(report)


def test_a_file_without_an_id_column_is_numbered_by_row_or_keyed_by_columns(tmp_path):
    folder = _write(tmp_path / "x", {"leads.csv": """
        Region,Seq,Created
        north,1,2024-01-01
        north,2,2024-01-02
        south,1,2024-01-03
    """})
    columns = """
        Region: {role: fit, kind: categorical}
        Seq: {role: fit, kind: numeric}
        Created: {role: timestamp, as: created_at}
    """
    ingest_paths([folder / "leads.csv"], tmp_path / "a.duckdb",
                 mapping=_mapping(folder, columns, "id: {from_row: true}"))
    ingest_paths([folder / "leads.csv"], tmp_path / "b.duckdb",
                 mapping=_mapping(folder, columns, "id: [Region, Seq]"))
    by_row = duckdb.connect(str(tmp_path / "a.duckdb"), read_only=True)
    composite = duckdb.connect(str(tmp_path / "b.duckdb"), read_only=True)
    assert [r[0] for r in by_row.execute("SELECT lead_id FROM leads ORDER BY 1").fetchall()] == \
        ["1", "2", "3"]
    assert [r[0] for r in composite.execute("SELECT lead_id FROM leads ORDER BY 1").fetchall()] \
        == ["north|1", "north|2", "south|1"]


def test_outcomes_from_a_second_file_or_a_non_blank_column(tmp_path):
    folder = _write(tmp_path / "x", {
        "leads.csv": """
            Id,Created,Won On
            a,2024-01-01,2024-03-01
            b,2024-01-02,
            c,2024-01-03,
        """,
        "won.csv": """
            Lead,Won Date
            a,2024-03-01
            c,2024-02-10
        """,
    })
    extra = """
      won:
        path: won.csv
        kind: outcomes
        key: Lead
        stage: closed_won
        columns: {Lead: key, Won Date: {as: occurred_at}}
    """
    mapping = _mapping(folder, """
        Id: id
        Created: {role: timestamp, as: created_at}
        Won On: ignore
    """, extra=textwrap.indent(textwrap.dedent(extra), "  "))
    ingest_paths([folder], tmp_path / "a.duckdb", mapping=mapping)
    con = duckdb.connect(str(tmp_path / "a.duckdb"), read_only=True)
    assert con.execute("SELECT lead_id, stage, CAST(occurred_at AS DATE)::VARCHAR FROM outcomes "
                       "ORDER BY 1").fetchall() == [("a", "closed_won", "2024-03-01"),
                                                   ("c", "closed_won", "2024-02-10")]
    filled = _mapping(folder, """
        Id: id
        Created: {role: timestamp, as: created_at}
        Won On: {role: outcome, when: filled, stage: closed_won, date: Won On}
    """)
    ingest_paths([folder / "leads.csv"], tmp_path / "b.duckdb", mapping=filled)
    con = duckdb.connect(str(tmp_path / "b.duckdb"), read_only=True)
    assert con.execute("SELECT lead_id, CAST(occurred_at AS DATE)::VARCHAR FROM outcomes"
                       ).fetchall() == [("a", "2024-03-01")]


def test_a_timestamp_column_mapped_as_outcome_gets_a_capped_error(tmp_path):
    lines = ["Id,Created,Closed"] + [f"l{i},2024-01-01,2024-02-{i % 28 + 1:02d} 10:{i % 60:02d}"
                                     for i in range(900)]
    folder = _write(tmp_path / "x", {"leads.csv": "\n".join(lines) + "\n"})
    mapping = _mapping(folder, """
        Id: id
        Created: {role: timestamp, as: created_at}
        Closed: {role: outcome, after_days: 1, values: {"yes": closed_won}}
    """)
    message = _fails([folder / "leads.csv"], tmp_path / "s.duckdb", mapping)
    assert "value(s) the mapping" in message
    assert message.count(" (1 row)") + message.count(" rows)") == 10
    assert "more" in message and "when: filled" in message


def test_an_error_listing_thousands_of_columns_stays_short(tmp_path):
    header = ",".join(["Id", "Created"] + [f"extra column number {i}" for i in range(3000)])
    folder = _write(tmp_path / "x", {"leads.csv": header + "\n" + "a,2024-01-01" + ",x" * 3000
                                     + "\n"})
    mapping = _mapping(folder, """
        Id: id
        Created: {role: timestamp, as: created_at}
    """)
    message = _fails([folder / "leads.csv"], tmp_path / "s.duckdb", mapping)
    assert "3000 column(s)" in message and "and 2,990 more" in message


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
    assert "not UTF-8" in message and "encoding: latin-1" in message
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
    import json

    first = json.loads(got[0][1])
    assert first["Product"] == "GTX Pro" and first["series"] == "GTX"
    assert first["price"] == 4821.5
    assert (first["month"], first["weekday"], first["hour"]) == ("3", "Monday", 15.0)
    roles = dict(con.execute("SELECT name, role FROM attribute_roles").fetchall())
    assert roles["hour"] == "intent" and roles["series"] == "fit"


def test_a_file_the_mapping_names_must_be_given(tmp_path):
    folder = _write(tmp_path / "x", {"leads.csv": "Id,Created\na,2024-01-01\n"})
    extra = """
      won:
        path: won.csv
        kind: outcomes
        key: Lead
        stage: closed_won
        columns: {Lead: key, Won Date: {as: occurred_at}}
    """
    mapping = _mapping(folder, """
        Id: id
        Created: {role: timestamp, as: created_at}
    """, extra=textwrap.indent(textwrap.dedent(extra), "  "))
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
