"""Excel workbooks (.xlsx) as exports: built here with openpyxl (no binary file is committed),
ingested, inspected and mapped like the same CSV; a broken or odd workbook is one sentence and
leaves nothing behind."""

from __future__ import annotations

import re
import textwrap
from datetime import datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest
from click.testing import CliRunner

from cli.main import cli
from features.ingest import ingest_paths
from features.inspect import inspect
from features.inspect_draft import draft
from leadscore.errors import LeadscoreError

HEADER = ["lead_id", "created_at", "source", "title", "company_size", "industry", "country"]
CSV = textwrap.dedent("""\
    lead_id,created_at,source,title,company_size,industry,country
    L1,2024-03-05 14:22,web,VP Sales,250,Retail,US
    L2,2024-03-05,event,CTO,12,Software,UK
    L3,2024-03-06 09:12,web,Analyst,51-200,Retail,US
    """)
ACTIVITIES_CSV = textwrap.dedent("""\
    lead_id,occurred_at,activity_type
    L1,2024-03-06 10:00,pricing_view
    L2,2024-03-07,demo_request
    """)


def _workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _leads_rows() -> list[list]:
    """The rows of ``CSV`` as a workbook holds them: a real date cell, a date typed as text,
    whole numbers stored as numbers (250.0), a blank row amid the rows."""
    return [HEADER,
            ["L1", datetime(2024, 3, 5, 14, 22), "web", "VP Sales", 250.0, "Retail", "US"],
            ["L2", "2024-03-05", "event", "CTO", 12, "Software", "UK"],
            [],
            ["L3", "2024-03-06 09:12", "web", "Analyst", "51-200", "Retail", "US"]]


def _stored(store: Path) -> tuple[list, list]:
    with duckdb.connect(str(store), read_only=True) as con:
        leads = con.execute("SELECT lead_id, created_at, source, title, company_size, industry, "
                            "country FROM leads ORDER BY lead_id").fetchall()
        activities = con.execute("SELECT lead_id, occurred_at, activity_type FROM activities "
                                 "ORDER BY lead_id").fetchall()
    return leads, activities


def test_a_folder_of_workbooks_lands_the_rows_the_same_csv_files_land(tmp_path):
    csv_folder = tmp_path / "csv"
    csv_folder.mkdir()
    (csv_folder / "leads.csv").write_text(CSV)
    (csv_folder / "activities.csv").write_text(ACTIVITIES_CSV)
    folder = tmp_path / "xlsx"
    leads = _workbook(folder / "Leads.xlsx", {"Leads": _leads_rows()})
    book = openpyxl.load_workbook(leads)
    book["Leads"]["C12"].number_format = "0.00"  # formatted but empty rows below the data
    book.save(leads)
    _workbook(folder / "activities.xlsx", {"Sheet1": [
        ["lead_id", "occurred_at", "activity_type"],
        ["L1", datetime(2024, 3, 6, 10, 0), "pricing_view"],
        ["L2", datetime(2024, 3, 7), "demo_request"]]})
    (folder / "~$Leads.xlsx").write_bytes(b"\x00owner")  # Excel's lock file beside an open book

    report = ingest_paths([folder], tmp_path / "x.duckdb")
    ingest_paths([csv_folder], tmp_path / "c.duckdb")

    assert report.tables["leads"].new == 3 and report.tables["activities"].new == 2
    assert _stored(tmp_path / "x.duckdb") == _stored(tmp_path / "c.duckdb")
    assert _stored(tmp_path / "x.duckdb")[0][0][4] == "250"  # 250.0 in the cell, as Excel shows


def test_the_first_sheet_is_read_unless_one_is_named(tmp_path):
    other = [HEADER, ["Z9", "2024-04-01", "web", "CEO", "10", "Retail", "US"]]
    path = _workbook(tmp_path / "leads.xlsx", {"Leads": _leads_rows(), "Other": other})

    report = ingest_paths([path], tmp_path / "a.duckdb")
    assert report.tables["leads"].new == 3
    assert ("leads.xlsx: sheet 'Leads' read, not 'Other' (--sheet or a mapping's sheet: "
            "chooses)") in report.notes
    assert ingest_paths([path], tmp_path / "b.duckdb", sheet="other").tables["leads"].new == 1
    with pytest.raises(LeadscoreError, match=r"^leads.xlsx has no sheet 'Nope': its sheets are "
                                             r"'Leads', 'Other'; name one of them and re-run.$"):
        ingest_paths([path], tmp_path / "c.duckdb", sheet="Nope")
    assert not (tmp_path / "c.duckdb").exists()


def test_an_empty_first_sheet_names_the_others(tmp_path):
    path = _workbook(tmp_path / "leads.xlsx", {"Cover": [], "Leads": _leads_rows()})
    with pytest.raises(LeadscoreError, match=r"^leads.xlsx \(sheet 'Cover'\) is empty: .*choose "
                                             r"another sheet with --sheet \(its sheets: Leads\)"):
        ingest_paths([path], tmp_path / "s.duckdb")


def test_a_title_and_filter_rows_above_the_header_are_passed_over_and_said(tmp_path):
    # a report export (Zoho, Salesforce) writes its name, often a merged cell, and its filters
    # above the column names: it was refused, telling the user to delete the rows by hand
    rows = [["Leads by source"], [], ["Filtered by", "Lead Status = Open"], *_leads_rows()]
    path = _workbook(tmp_path / "leads.xlsx", {"Report": rows})
    book = openpyxl.load_workbook(path)
    book["Report"].merge_cells("A1:G1")  # the title as report exports write it
    book.save(path)
    report = ingest_paths([path], tmp_path / "s.duckdb")
    assert report.tables["leads"].new == 3
    assert ("leads.xlsx: rows 1-3 above the column names (row 4: a title, a report's filters) "
            "passed over") in str(report)
    found = inspect([path])
    assert found.main.read == ("Excel workbook, sheet 'Report', column names in row 4 (rows "
                               "above them passed over)")
    assert [c.name for c in found.main.columns] == HEADER
    rows[5][1] = "next tuesday"  # errors still name the row Excel shows
    with pytest.raises(LeadscoreError, match=r"^leads.xlsx \(sheet 'Report'\) row 6, column "
                                             r"created_at: 'next tuesday'"):
        ingest_paths([_workbook(tmp_path / "b" / "leads.xlsx", {"Report": rows})],
                     tmp_path / "b.duckdb")


def test_a_bad_value_is_named_by_the_row_excel_shows(tmp_path):
    rows = _leads_rows()
    rows[4] = ["L3", "next tuesday", "web", "Analyst", "51-200", "Retail", "US"]
    path = _workbook(tmp_path / "leads.xlsx", {"Leads": rows})
    with pytest.raises(LeadscoreError, match=r"^leads.xlsx \(sheet 'Leads'\) row 5, column "
                                             r"created_at: 'next tuesday' is not a timestamp"):
        ingest_paths([path], tmp_path / "s.duckdb")


def test_an_unnamed_column_holding_values_is_named_by_its_letter(tmp_path):
    rows = _leads_rows()
    rows[1] = [*rows[1], None, "stray"]
    path = _workbook(tmp_path / "leads.xlsx", {"Leads": rows})
    with pytest.raises(LeadscoreError, match=r"^leads.xlsx \(sheet 'Leads'\) column I has no name "
                                             r"in the header row \(row 1\) but holds values "
                                             r"\(row 2\)"):
        ingest_paths([path], tmp_path / "s.duckdb")


@pytest.mark.parametrize(("content", "says"), [
    (b"PK\x03\x04 cut short", r"leads.xlsx is not a readable Excel workbook \(.xlsx\): it may be "
                              r"damaged or cut short; export it again"),
    (b"lead_id,created_at\n", r"leads.xlsx is not a readable Excel workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", r"leads.xlsx is password-protected, or a legacy .xls "
                                          r"workbook under an .xlsx name"),
])
def test_a_broken_workbook_is_one_sentence_and_the_store_stays_as_it_was(tmp_path, content, says):
    store = tmp_path / "s.duckdb"
    good = tmp_path / "good"
    good.mkdir()
    (good / "leads.csv").write_text(CSV)
    ingest_paths([good], store)
    before = _stored(store)
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "activities.csv").write_text(ACTIVITIES_CSV)
    (batch / "leads.xlsx").write_bytes(content)

    result = CliRunner().invoke(cli, ["ingest", str(batch), "--store", str(store)])

    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert re.match(f"error: {says}", result.output)
    assert _stored(store) == before  # not even the good activities file of the batch landed


def test_a_mapping_reads_a_named_sheet_of_a_dated_workbook(tmp_path):
    rows = [["Lead ID", "Created", "Lead Source", "Status"],
            ["00Q1", datetime(2024, 3, 5, 9, 0), "Web", "Open"],
            ["00Q2", datetime(2024, 3, 6), "Event", "Open"]]
    folder = tmp_path / "export"
    _workbook(folder / "leads-2024-03-07.xlsx", {"Summary": [["n", "2"], ["a", "b"]],
                                                  "Leads": rows})
    mapping = tmp_path / "m.yaml"
    mapping.write_text(textwrap.dedent("""\
        leadscore_mapping: 2
        name: crm
        version: 1
        files:
          leads:
            path: "leads-*.xlsx"
            kind: main
            sheet: Leads
            columns:
              Lead ID: id
              Created: {role: timestamp, as: created_at}
              Lead Source: {role: fit, kind: categorical, as: source}
              Status: ignore
        """))
    report = ingest_paths([folder], tmp_path / "s.duckdb", mapping=mapping)
    assert report.tables["leads"].new == 2
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT lead_id, created_at, source FROM leads ORDER BY 1").fetchall()
    assert stored == [("00Q1", datetime(2024, 3, 5, 9), "Web"),
                      ("00Q2", datetime(2024, 3, 6), "Event")]


def test_inspect_profiles_a_workbook_and_drafts_its_sheet(tmp_path):
    path = _workbook(tmp_path / "leads.xlsx", {"Leads": _leads_rows()})
    found = inspect([path])
    assert "leads.xlsx: 3 rows, 7 columns, Excel workbook, sheet 'Leads'" in found.text
    assert "    sheet: Leads\n" in draft(found)


def test_a_leads_file_lacking_a_field_under_a_crms_name_for_it_is_told_which_to_rename(tmp_path):
    header = ["lead_id", "Create Date", "source", "Job Title", "company_size", "industry",
              "country"]
    path = _workbook(tmp_path / "leads.xlsx", {"Leads": [header, ["L1", "2024-03-05", "web",
                                                                   "CTO", "10", "Retail", "US"]]})
    with pytest.raises(LeadscoreError, match=r"^leads.xlsx lacks required column\(s\) created_at, "
                                             r"title \(its 'Create Date' looks like created_at "
                                             r"and 'Job Title' looks like title: rename them "
                                             r"so\); add them"):
        ingest_paths([path], tmp_path / "s.duckdb")


def test_a_formula_error_cell_reads_as_blank_and_is_counted(tmp_path):
    rows = _leads_rows()
    rows[1][5] = "#N/A"  # a VLOOKUP that found no industry
    rows[2][5] = "#DIV/0!"
    path = _workbook(tmp_path / "leads.xlsx", {"Leads": rows})
    report = ingest_paths([path], tmp_path / "s.duckdb")
    assert "leads.xlsx: 2 formula error cell(s) (#N/A, #DIV/0!, ...) read as blank" in report.notes
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        assert con.execute("SELECT lead_id, industry FROM leads ORDER BY 1").fetchall() == [
            ("L1", None), ("L2", None), ("L3", "Retail")]


def test_inspect_reads_the_sheet_the_command_line_names(tmp_path):
    other = [["Id", "Stage"], ["1", "Won"], ["2", "Lost"]]
    path = _workbook(tmp_path / "export.xlsx", {"Leads": _leads_rows(), "Deals": other})
    out = tmp_path / "draft.yaml"
    result = CliRunner().invoke(cli, ["inspect", str(path), "--sheet", "Deals", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "export.xlsx: 2 rows, 2 columns, Excel workbook, sheet 'Deals'" in result.output
    assert "    sheet: Deals\n" in out.read_text()


def test_a_reports_totals_and_notes_below_the_rows_are_passed_over_and_said(tmp_path):
    # Salesforce's formatted report: after a blank row, "Grand Total (3 records)", then its
    # confidentiality and copyright lines, one value each. They were read as three more leads:
    # inspect profiled every column as "blank for every Converted = " (a leak suspect, drafted
    # post_outcome), and ingest refused row 9 for its blank created_at
    rows = [["Leads by source"], [], *_leads_rows(), [],
            ["Grand Total (3 records)"], [], ["Confidential Information - Do Not Distribute"],
            ["Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."]]
    path = _workbook(tmp_path / "leads.xlsx", {"Report": rows})
    report = ingest_paths([path], tmp_path / "s.duckdb")
    assert report.tables["leads"].read == 3
    assert ("leads.xlsx: rows 9-12 below the rows (one value each, after a blank row: a "
            "report's totals and notes) passed over") in str(report)
    found = inspect([path])
    assert found.main.rows == 3
    assert all(c.fill == 1.0 for c in found.main.columns)


def test_a_lead_with_only_its_first_cell_filled_is_still_a_lead(tmp_path):
    # no blank row above it: a row of the data, whatever it holds (ingest names what it lacks)
    rows = [*_leads_rows(), ["L4"]]
    with pytest.raises(LeadscoreError, match=r"row 6, column created_at: no value"):
        ingest_paths([_workbook(tmp_path / "leads.xlsx", {"Leads": rows})],
                     tmp_path / "s.duckdb")
