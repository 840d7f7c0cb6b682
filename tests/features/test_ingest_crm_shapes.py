"""Ingest of CRM export shapes through a v2 mapping (Salesforce's currency and grouped numbers,
HubSpot's percentages, a European save's euro amounts, tasks dated without a time, won deals
joined through the lead, a cp1252 export): tiny inline files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from features.export_files import sniff_delimiter
from features.ingest import ingest_paths
from features.inspect import inspect
from leadscore.errors import LeadscoreError
from tests.features.test_inspect_crm_shapes import _drafted, _write

NUMBERS_V2 = """\
leadscore_mapping: 2
name: numbers
version: 1
files:
  leads:
    path: leads.csv
    kind: main
    {options}
    columns:
      Id: id
      Created: {{role: timestamp, as: created_at}}
      Revenue: {{role: fit, kind: numeric}}
      Open Rate: {{role: intent, kind: numeric}}
"""


def _numbers(tmp_path: Path, rows: list[tuple[str, str]], options: str) -> tuple[Path, Path]:
    folder = tmp_path / "export"
    _write(folder / "leads.csv", pd.DataFrame({
        "Id": [f"L{i}" for i in range(len(rows))], "Created": "2026-03-01",
        "Revenue": [r for r, _ in rows], "Open Rate": [o for _, o in rows]}))
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(NUMBERS_V2.format(options=options))
    return folder, mapping


def _attributes(store: Path, name: str) -> dict[str, float | None]:
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute(f"SELECT lead_id, attributes->>'{name}' FROM leads").fetchall()
    return {lead: None if v is None else float(v) for lead, v in rows}


def test_currency_percent_and_grouped_numbers_read_as_numbers_under_thousands(tmp_path):
    folder, mapping = _numbers(tmp_path, [("$1,200,000.00", "12.5%"), ("€ 950", "0 %"),
                                          ("-1,250.5", "100%"), ("42", "")], 'thousands: ","')
    ingest_paths([folder], tmp_path / "s.duckdb", mapping=mapping)
    assert _attributes(tmp_path / "s.duckdb", "Revenue") == {"L0": 1200000, "L1": 950,
                                                             "L2": -1250.5, "L3": 42}
    assert _attributes(tmp_path / "s.duckdb", "Open Rate") == {"L0": 12.5, "L1": 0, "L2": 100,
                                                               "L3": None}


def test_grouping_is_read_only_in_groups_of_three_and_only_when_the_mapping_says_so(tmp_path):
    folder, mapping = _numbers(tmp_path, [("1,5", "1%")], 'thousands: ","')
    with pytest.raises(LeadscoreError, match=r"'1,5' is not a number.*thousands: \",\""):
        ingest_paths([folder], tmp_path / "s.duckdb", mapping=mapping)
    folder, mapping = _numbers(tmp_path / "b", [("$1,200", "1%")], "")
    with pytest.raises(LeadscoreError,
                       match=r"line 2, column Revenue: '1,200' is not a number.*thousands: \",\""):
        ingest_paths([folder], tmp_path / "b" / "s.duckdb", mapping=mapping)


def test_inspect_reads_currency_and_percent_columns_as_numbers_and_drafts_thousands(tmp_path):
    # Salesforce's "Annual Revenue" ($1,200,000.00, unique per lead) was profiled as an id and
    # drafted ignore without a word; HubSpot's rates (12.5%) as text, ignore
    n = 120
    frame = pd.DataFrame({
        "Id": [f"00Q{i:05d}" for i in range(n)],
        "Created Date": [f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(n)],
        "Annual Revenue": [f"${1000 * i + 17:,}.{i % 100:02d}" for i in range(n)],
        "Marketing emails opened": [f"{i % 40 + 0.5}%" for i in range(n)],
        "IsConverted": ["TRUE" if i % 3 == 0 else "FALSE" for i in range(n)],
    })
    folder = tmp_path / "export"
    _write(folder / "Leads.csv", frame)
    found = inspect([folder], "IsConverted", ["TRUE"])
    kinds = {c.name: (c.kind, c.role) for c in found.main.columns}
    assert kinds["Annual Revenue"] == ("numeric", "fit numeric")
    assert kinds["Marketing emails opened"] == ("numeric", "intent numeric")
    mapping = _drafted(tmp_path, found)
    assert 'thousands: ","' in mapping.read_text()
    ingest_paths([folder], tmp_path / "s.duckdb", mapping=mapping)
    assert _attributes(tmp_path / "s.duckdb", "Annual Revenue")["00Q00001"] == 1017.01
    assert _attributes(tmp_path / "s.duckdb", "Marketing emails opened")["00Q00001"] == 1.5


def test_a_european_save_reads_decimal_commas_beside_euro_and_percent_signs(tmp_path):
    n = 120
    frame = pd.DataFrame({
        "Id": [f"L{i}" for i in range(n)],
        "Created": [f"{1 + i % 28:02d}.{1 + i % 12:02d}.2026 14:15" for i in range(n)],
        "Umsatz": [f"{1000 * i + 17:,}".replace(",", ".") + f",{i % 10}0 €" for i in range(n)],
        "Rate": [f"{i % 40},5 %" for i in range(n)],
        "Won": ["ja" if i % 3 == 0 else "nein" for i in range(n)],
    })
    folder = tmp_path / "export"
    _write(folder / "deals.csv", frame, sep=";")
    found = inspect([folder], "Won", ["ja"])
    assert {c.name: c.kind for c in found.main.columns}["Umsatz"] == "numeric"
    mapping = _drafted(tmp_path, found)
    assert 'decimal: ","' in mapping.read_text()
    ingest_paths([folder], tmp_path / "s.duckdb", mapping=mapping)
    assert _attributes(tmp_path / "s.duckdb", "Umsatz")["L2"] == 2017.2
    assert _attributes(tmp_path / "s.duckdb", "Rate")["L2"] == 2.5


def test_tasks_equal_only_as_stored_are_not_called_exact_duplicates(tmp_path):
    # two calls with one lead on one day (Salesforce's ActivityDate has no time), differing in
    # their Subject: one activity as stored, which the report said was an "exact duplicate"
    folder = tmp_path / "export"
    _write(folder / "Leads.csv", pd.DataFrame({"Id": ["00Q1", "00Q2"],
                                                 "Created Date": ["3/13/2026", "3/14/2026"]}))
    _write(folder / "Tasks.csv", pd.DataFrame({
        "WhoId": ["00Q1", "00Q1", "00Q2"], "ActivityDate": ["3/15/2026", "3/15/2026", "3/16/2026"],
        "Type": ["Call", "Call", "Email"], "Subject": ["Call 1", "Call 2", "Intro"]}))
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("""\
leadscore_mapping: 2
name: sf
version: 1
files:
  leads: {path: Leads.csv, kind: main, columns: {Id: id, Created Date: {role: timestamp}}}
  tasks:
    path: Tasks.csv
    kind: activities
    key: WhoId
    columns: {WhoId: key, ActivityDate: {as: occurred_at}, Type: {as: activity_type},
              Subject: ignore}
""")
    text = str(ingest_paths([folder], tmp_path / "s.duckdb", mapping=mapping))
    assert "exact duplicate" not in text
    assert ("1 row(s) of activities equal to another in every column the store keeps (lead_id, "
            "occurred_at, activity_type), counted once") in text


def test_a_cp1252_file_is_told_what_reads_it_not_promised_a_mapping_everywhere(tmp_path):
    # `leadscore score` takes no mapping: the sentence said "state its encoding in a v2 mapping"
    # to a user scoring a Salesforce export saved as cp1252
    path = tmp_path / "Leads.csv"
    path.write_bytes("lead_id,title\n00Q1,Directeur général\n".encode("cp1252"))
    with pytest.raises(LeadscoreError) as info:
        sniff_delimiter(path)
    assert str(info.value) == (
        "Leads.csv is not UTF-8 text: save it as UTF-8 CSV and re-run (`leadscore ingest` "
        "through a v2 mapping can instead state its encoding: latin-1 or cp1252; "
        "`leadscore score` reads UTF-8 only).")


SALESFORCE_WON = """\
leadscore_mapping: 2
name: sf
version: 1
files:
  leads:
    path: Leads.csv
    kind: main
    columns:
      Id: id
      Created Date: {role: timestamp}
      ConvertedOpportunityId: {role: post_outcome}
  opportunities:
    path: Opportunities.csv
    kind: outcomes
    key: Id
    joins: JOINS
    columns:
      Id: key
      StageName: {as: stage, values: {Closed Won: closed_won, Closed Lost: closed_lost}}
      CloseDate: {as: occurred_at}
      Amount: {as: amount}
"""


def _salesforce_won(tmp_path: Path, joins: str) -> tuple[Path, Path]:
    # the won deal is an Opportunity, which names no lead: the lead names it, in
    # ConvertedOpportunityId; before, such an outcome could not be mapped at all
    folder = tmp_path / "export"
    _write(folder / "Leads.csv", pd.DataFrame({
        "Id": ["00Q1", "00Q2", "00Q3"], "Created Date": ["3/13/2026", "3/14/2026", "3/15/2026"],
        "ConvertedOpportunityId": ["006A", "", "006B"]}))
    _write(folder / "Opportunities.csv", pd.DataFrame({
        "Id": ["006A", "006B", "006Z"], "StageName": ["Closed Won", "Closed Lost", "Closed Won"],
        "CloseDate": ["4/20/2026", "4/21/2026", "4/22/2026"], "Amount": ["1200", "800", "50"]}))
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(SALESFORCE_WON.replace("JOINS", joins))
    return folder, mapping


def test_an_outcomes_file_joins_its_leads_through_a_main_file_column(tmp_path):
    folder, mapping = _salesforce_won(tmp_path, "ConvertedOpportunityId")
    report = str(ingest_paths([folder], tmp_path / "s.duckdb", mapping=mapping))
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT lead_id, stage, CAST(occurred_at AS DATE)::VARCHAR, amount "
                           "FROM outcomes ORDER BY lead_id").fetchall()
    assert rows == [("00Q1", "closed_won", "2026-04-20", 1200.0),
                    ("00Q3", "closed_lost", "2026-04-21", 800.0)]
    assert ("Opportunities.csv: 1 row passed over (no main-file ConvertedOpportunityId holds "
            "its Id: no lead here)") in report


def test_an_outcomes_file_joined_on_a_column_holding_other_ids_is_one_sentence(tmp_path):
    folder, mapping = _salesforce_won(tmp_path, "Id")
    with pytest.raises(LeadscoreError) as info:
        ingest_paths([folder], tmp_path / "s.duckdb", mapping=mapping)
    assert str(info.value).startswith(
        "Opportunities.csv joins the main file on Id = Id, but not one of its 3 Id values is "
        "found in Id: the two hold different ids.")
    assert not (tmp_path / "s.duckdb").exists()
    folder, mapping = _salesforce_won(tmp_path / "b", "Converted")
    with pytest.raises(LeadscoreError, match="joins on 'Converted', which is not declared"):
        ingest_paths([folder], tmp_path / "b" / "s.duckdb", mapping=mapping)


def test_a_timestamp_with_a_spaced_utc_offset_is_a_date_read_in_utc(tmp_path):
    # Freshsales (a Rails app) writes "2025-07-01 09:00:00 +0530": inspect profiled Created at
    # as an id (every value unique) and drafted it ignore, leaving the leads to be dated by
    # their id's order over a period the user had to make up
    n = 60
    frame = pd.DataFrame({
        "Lead ID": [str(3000000000 + 7 * i) for i in range(n)],
        "Created at": [f"2025-07-{1 + i % 28:02d} 09:{i % 60:02d}:00 +0530" for i in range(n)],
        "Lead stage": [["Won", "Unqualified"][i % 2] for i in range(n)],
    })
    export = _write(tmp_path / "export" / "leads_export.csv", frame)
    found = inspect([export], "Lead stage", ["Won"])
    column = next(c for c in found.main.columns if c.name == "Created at")
    assert (column.kind, column.role) == ("date", "timestamp (created_at)")
    store = tmp_path / "s.duckdb"
    ingest_paths([export], store, mapping=_drafted(tmp_path, found))
    with duckdb.connect(str(store), read_only=True) as con:
        first = con.execute("SELECT created_at FROM leads WHERE lead_id = '3000000000'").fetchone()
    assert str(first[0]) == "2025-07-01 03:30:00"  # 09:00 at +05:30 is 03:30 UTC
