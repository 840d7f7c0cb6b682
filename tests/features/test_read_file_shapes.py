"""File shapes as users save them: UTF-16 text (Excel's "Unicode Text"), JSON documents, a
totals row under the data. Tiny inline files, read by ``leadscore inspect`` and ingest alike."""

from __future__ import annotations

import codecs
from pathlib import Path

import duckdb
import pytest

from features.export_files import discover
from features.ingest import ingest_paths
from features.inspect import inspect
from features.inspect_draft import draft
from leadscore.errors import LeadscoreError

LEADS = "lead_id,created_at,source,title,company_size,industry,country\n" + "".join(
    f"L{i},2026-03-{1 + i % 28:02d},{['Web', 'Zoë Partner'][i % 2]},VP Sales,50,Retail,France\n"
    for i in range(30))


def _drafted(tmp_path: Path, found) -> Path:
    out = tmp_path / "mapping.yaml"
    out.write_text(draft(found), encoding="utf-8")
    return out


def _stored(store: Path) -> list[tuple]:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute("SELECT lead_id, source FROM leads ORDER BY lead_id").fetchall()


def test_a_utf16_file_is_read_by_its_byte_order_mark(tmp_path):
    # read as UTF-8, then cp1252, every other byte was a NUL: inspect said its last line had
    # fewer values than the header (not true), and ingest called it not UTF-8
    export = tmp_path / "export"
    export.mkdir()
    (export / "leads.csv").write_text(LEADS, encoding="utf-16")
    ingest_paths([export], tmp_path / "plain.duckdb")
    rows = _stored(tmp_path / "plain.duckdb")
    assert len(rows) == 30 and ("L1", "Zoë Partner") in rows
    tabbed = tmp_path / "tabbed"
    tabbed.mkdir()
    (tabbed / "leads.tsv").write_bytes(codecs.BOM_UTF16_BE
                                      + LEADS.replace(",", "\t").encode("utf-16-be"))
    found = inspect([tabbed])
    assert found.main.read == "delimiter '\\t' (sniffed), encoding utf-16"
    ingest_paths([tabbed], tmp_path / "v2.duckdb", mapping=_drafted(tmp_path, found))
    assert _stored(tmp_path / "v2.duckdb") == rows


def test_a_txt_file_is_told_how_to_be_read(tmp_path):
    path = tmp_path / "leads.txt"
    path.write_text(LEADS.replace(",", "\t"), encoding="utf-16")
    with pytest.raises(LeadscoreError, match=r"Unicode Text.*rename it to \.tsv"):
        discover([path])


def _records() -> list[dict]:
    return [{"lead_id": f"L{i}", "created_at": f"2026-03-{1 + i % 28:02d}", "source": "Web",
             "title": "VP Sales", "company_size": 50 + i, "industry": None, "country": "France"}
            for i in range(30)]


@pytest.mark.parametrize("shape", ["array", "api page"])
def test_a_json_document_of_records_ingests_like_json_lines(tmp_path, shape):
    # APIs dump an array of objects, or a page holding one ({"data": [...], paging ...}): it
    # was refused with "export the records as JSON Lines"
    import json

    records = _records()
    document = records if shape == "array" else {
        "success": True, "data": records, "additional_data": {"pagination": {"start": 0}}}
    (tmp_path / "json").mkdir()
    (tmp_path / "json" / "leads.json").write_text(json.dumps(document, indent=2))
    (tmp_path / "jsonl").mkdir()
    (tmp_path / "jsonl" / "leads.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records))
    ingest_paths([tmp_path / "json"], tmp_path / "a.duckdb")
    ingest_paths([tmp_path / "jsonl"], tmp_path / "b.duckdb")
    query = "SELECT lead_id, created_at, company_size, industry FROM leads ORDER BY lead_id"
    with duckdb.connect(str(tmp_path / "a.duckdb"), read_only=True) as a, \
            duckdb.connect(str(tmp_path / "b.duckdb"), read_only=True) as b:
        assert a.execute(query).fetchall() == b.execute(query).fetchall()
    found = inspect([tmp_path / "json"])
    assert found.main.read == "JSON" and found.main.rows == 30


@pytest.mark.parametrize(("text", "says"), [
    ('{"a": [{"x": 1}], "b": [{"y": 2}]}', "holds more than one array of records"),
    ('{"total": 3}', "holds no array of records"),
    ('[{"lead_id": "L1"}, 3]', "record 2 is not a JSON object"),
    ('[{"lead_id": "L1", "owner": {"emails": ["x"]}}]', "record 1, field owner.emails: a list"),
    ('[{"lead_id": "L1", "a": {"b": 1}, "a.b": 2}]', "record 1: the field a.b is there twice"),
    ('[{"lead_id": "L1"', r"is not a JSON document \(line 1\)"),
])
def test_a_json_document_that_holds_no_records_is_one_sentence(tmp_path, text, says):
    path = tmp_path / "leads.json"
    path.write_text(text)
    with pytest.raises(LeadscoreError, match=says):
        ingest_paths([path], tmp_path / "s.duckdb")
    assert not (tmp_path / "s.duckdb").exists()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_inspect_refuses_a_totals_row_as_ingest_does(tmp_path, suffix):
    # profiled, the "Total" under the ids made the id column numeric: the draft proposed no id
    # (rows numbered instead) and ingest then refused the file the draft was written from
    import pandas as pd

    frame = pd.DataFrame({"Deal - ID": [str(1000 + i) for i in range(60)] + ["Total"],
                          "Deal - Value": [str(10 * i) for i in range(60)] + ["17700"]})
    path = tmp_path / f"deals{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_excel(path, index=False)
    unit = "line" if suffix == ".csv" else "row"
    with pytest.raises(LeadscoreError, match=rf"^deals{suffix} {unit} 62, the last row, looks "
                                             r"like a totals row"):
        inspect([path])


def test_delimiter_only_rows_a_spreadsheet_saves_are_no_leads(tmp_path):
    # Excel saves the formatted but empty rows under the data as ",,,,,,": read as leads they
    # made every column part-blank (inspect drafted no id and every column a leak suspect), and
    # ingest stopped at a lead without an id
    export = tmp_path / "export"
    export.mkdir()
    lines = LEADS.splitlines()
    empty = "," * 6
    (export / "leads.csv").write_text("\n".join([*lines[:10], empty, *lines[10:], empty, empty,
                                                 " , ,,,,,", "", ""]) + "\n")
    ingest_paths([export], tmp_path / "s.duckdb")
    assert len(_stored(tmp_path / "s.duckdb")) == 30
    found = inspect([export])
    assert found.main.rows == 30
    assert {c.name: c.fill for c in found.main.columns}["lead_id"] == 1.0
    (export / "leads.csv").write_text("\n".join([*lines, "Total,,,,,,", empty]) + "\n")
    with pytest.raises(LeadscoreError, match="looks like a totals row"):
        ingest_paths([export], tmp_path / "t.duckdb")


def test_a_hidden_sheet_is_not_named_as_a_sheet_passed_over(tmp_path):
    # Dynamics 365's Excel export carries a hidden "hiddenSheet" of field metadata: the report
    # said the leads sheet was read "not 'hiddenSheet'", a sheet the user cannot see
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "My Open Leads"
    for line in LEADS.splitlines():
        sheet.append(line.split(","))
    book.create_sheet("hiddenSheet").sheet_state = "hidden"
    book.create_sheet("Notes")
    path = tmp_path / "leads.xlsx"
    book.save(path)
    said = str(ingest_paths([path], tmp_path / "s.duckdb"))
    assert "sheet 'My Open Leads' read, not 'Notes' (--sheet" in said
    assert "hiddenSheet" not in said


def test_an_api_pages_nested_properties_are_columns_drafted_as_lead_fields(tmp_path):
    # a CRM API returns {"results": [{"id": ..., "properties": {...}}], "paging": ...}: every
    # record was refused for its nested object, and the user told to flatten it by hand
    import json

    records = [{"id": str(100 + i), "archived": False,
                "properties": {"createdate": f"2025-0{1 + i % 9}-01T10:00:00Z",
                               "email": f"p{i}@{['acme.com', 'gmail.com'][i % 2]}",
                               "jobtitle": ["VP Sales", "Student"][i % 2],
                               "hs_analytics_source": ["ORGANIC_SEARCH", "REFERRALS"][i % 2]}}
               for i in range(60)]
    export = tmp_path / "export"
    export.mkdir()
    (export / "contacts.json").write_text(json.dumps({"results": records,
                                                      "paging": {"next": {"after": "60"}}}))
    found = inspect([export])
    roles = {c.name: c.role for c in found.main.columns}
    assert roles["properties.createdate"] == "timestamp (created_at)"
    assert roles["properties.email"] == "fit (e-mail domain only)"
    assert roles["properties.jobtitle"] == "fit (as title)"
    ingest_paths([export], tmp_path / "s.duckdb", mapping=_drafted(tmp_path, found))
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        row = con.execute("SELECT title, email_domain, strftime(created_at, '%Y-%m-%d') FROM leads "
                          "WHERE lead_id = '101'").fetchone()
    assert row == ("Student", "gmail.com", "2025-02-01")


def _api_contacts(tmp_path: Path) -> Path:
    import json

    records = [{"id": str(5000 + i),
                "properties": {"createdate": f"2025-0{1 + i % 9}-01T10:00:00.123Z",
                               "firstname": ["Mia", "Lukas", "Zoë", "José"][i % 4] + str(i % 7),
                               "lastname": ["Lefèvre", "Müller", "García"][i % 3],
                               "mobilephone": f"0049 30 {1000 + i}",
                               "jobtitle": ["VP Sales", "Student"][i % 2],
                               "numemployees": ["1-5", "25-50", "100-500"][i % 3],
                               "hs_analytics_source": ["ORGANIC_SEARCH", "REFERRALS"][i % 2],
                               "lifecyclestage": ["lead", "customer", "lead"][i % 3],
                               "lastmodifieddate": "2026-11-29T08:00:00Z",
                               "closedate": f"2025-1{i % 3}-01" if i % 3 == 1 else None}}
               for i in range(60)]
    path = tmp_path / "export" / "contacts.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"results": records}))
    return path


def test_an_apis_joined_names_for_a_person_are_personal_data(tmp_path):
    # HubSpot's API names firstname, lastname, mobilephone: one word each, so the name rules
    # did not see them; inspect printed the first names and drafted them a fit feature
    found = inspect([_api_contacts(tmp_path)])
    columns = {c.name: c for c in found.main.columns}
    for name in ("properties.firstname", "properties.lastname", "properties.mobilephone"):
        assert columns[name].personal and columns[name].role == "ignore (personal?)", name
    assert "Mia" not in found.text and "Lefèvre" not in found.text


def test_an_apis_joined_names_for_lead_fields_and_late_fields_are_read_as_such(tmp_path):
    # lifecyclestage, lastmodifieddate, closedate are post-contact fields under joined names;
    # numemployees and hs_analytics_source are HubSpot's API names of company size and source
    found = inspect([_api_contacts(tmp_path)])
    roles = {c.name: c.role for c in found.main.columns}
    assert roles["properties.lifecyclestage"] == "post_outcome (leak suspect)"
    assert roles["properties.lastmodifieddate"] == "ignore (leak suspect)"
    assert roles["properties.closedate"] == "ignore (leak suspect)"
    assert roles["properties.numemployees"] == "fit (as company_size)"
    assert roles["properties.hs_analytics_source"] == "fit (as source)"
    assert roles["properties.createdate"] == "timestamp (created_at)"
