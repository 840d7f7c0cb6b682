"""Mapping v2 end to end: a generated export rewritten the way real CRMs write files ingests into
exactly the tables its clean form does, and every failure the issue lists works or fails short."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from features.ingest import ingest_paths
from features.mapping_v2 import load_any
from generator import generate_export
from leadscore.errors import MAX_MESSAGE, LeadscoreError
from tests.features.test_ingest import dump

PLACEHOLDER_LIST = '["", "select", "n/a", "na", "none", "null", "-", "unknown", "not provided"]'
TIMESTAMPS = {"leads": ("created_at", "mql_at"), "activities": ("occurred_at",),
              "dispositions": ("dispositioned_at", "first_touch_at"),
              "outcomes": ("occurred_at",)}

# a won-deals file beside the leads, keyed by lead, as a mapping's extra file entry
WON_FILE = textwrap.indent(textwrap.dedent("""
    won:
      path: won.csv
      kind: outcomes
      key: Lead
      stage: closed_won
      columns: {Lead: key, Won Date: {as: occurred_at}}
"""), "  ")
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
    mapping = _mapping(folder, """
        Id: id
        Created: {role: timestamp, as: created_at}
        Won On: ignore
    """, extra=WON_FILE)
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
    assert "values the mapping" in message
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
