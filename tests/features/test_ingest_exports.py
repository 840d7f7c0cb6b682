"""Ingesting export shapes of real CRMs (tiny inline files): bad shapes are one sentence and leave
nothing behind; odd but valid shapes land the right rows."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from features.ingest import ingest_paths
from leadscore.errors import LeadscoreError


def _files(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip())
    return folder


OPPORTUNITIES = """\
    Id,CreatedDate,StageName
    006A,2024-01-02T08:00:00.000Z,Closed Won
    006B,2024-01-03T08:00:00.000Z,Closed Lost
    """
LEADS = """\
    Id,ConvertedOpportunityId,Industry
    00QA,006A,Retail
    00QB,006B,Software
    """


def _lookup_mapping(folder: Path, key: str, joins: str) -> Path:
    path = folder / "mapping.yaml"
    path.write_text(textwrap.dedent(f"""\
        leadscore_mapping: 2
        name: sf
        version: 1
        files:
          opportunity:
            path: Opportunity.csv
            kind: main
            columns:
              Id: id
              CreatedDate: {{role: timestamp, as: created_at}}
              StageName: {{role: outcome, after_days: 0, values: {{"Closed Won": closed_won,
                           "Closed Lost": none}}}}
          lead:
            path: Lead.csv
            kind: lookup
            key: {key}
            joins: {joins}
            columns:
              Id: {"key" if key == "Id" else "ignore"}
              ConvertedOpportunityId: {"key" if key != "Id" else "ignore"}
              Industry: {{role: fit, kind: categorical}}
        """))
    return path


def test_a_lookup_that_matches_no_row_of_the_main_file_is_one_sentence(tmp_path):
    export = _files(tmp_path / "export", {"Opportunity.csv": OPPORTUNITIES, "Lead.csv": LEADS})
    mapping = _lookup_mapping(tmp_path, "Id", "Id")
    store = tmp_path / "store" / "s.duckdb"
    with pytest.raises(LeadscoreError, match=r"Lead.csv joins the main file on Id = Id, but "
                       r"not one of the main file's 2 Id values is found in column Id"):
        ingest_paths([export], store, mapping=mapping)
    assert not store.parent.exists()


def test_a_lookup_on_the_right_columns_lands(tmp_path):
    export = _files(tmp_path / "export", {"Opportunity.csv": OPPORTUNITIES, "Lead.csv": LEADS})
    report = ingest_paths([export], tmp_path / "s.duckdb",
                          mapping=_lookup_mapping(tmp_path, "ConvertedOpportunityId", "Id"))
    assert report.tables["leads"].new == 2
    assert not any("match no row" in note for note in report.notes)


LEADS_CSV = """\
    lead_id,created_at,source,title,company_size,industry,country
    L1,2024-03-05 14:22,web,VP Sales,51-200,Retail,US
    L2,2024-03-05 15:01,event,CTO,1-10,Software,UK
    L3,2024-03-06 09:12,web,Analyst,51-200,Retail,US
    """


def test_a_header_row_repeated_mid_file_is_passed_over_and_reported(tmp_path):
    lines = textwrap.dedent(LEADS_CSV).strip().splitlines()
    glued = "\n".join([*lines[:3], lines[0], *lines[3:]]) + "\n"  # page 2 of a paged export
    export = _files(tmp_path / "export", {"leads.csv": ""})
    (export / "leads.csv").write_text(glued)
    report = ingest_paths([export], tmp_path / "s.duckdb")
    assert report.tables["leads"].new == 3
    assert "leads.csv: line 4 repeats the header row and was passed over" in report.notes


def test_a_totals_row_below_the_leads_is_one_sentence_and_nothing_is_written(tmp_path):
    export = _files(tmp_path / "export", {"leads.csv": LEADS_CSV + "Total,3,,,,,\n"})
    store = tmp_path / "store" / "s.duckdb"
    with pytest.raises(LeadscoreError, match=r"^leads.csv line 5, the last row, looks like a "
                                             r"totals row \(its lead_id says total\)"):
        ingest_paths([export], store)
    assert not store.parent.exists()


def test_a_footer_note_after_a_blank_line_is_named_by_its_own_line(tmp_path):
    text = LEADS_CSV + "\nReport generated 2024-06-30 by the CRM\n"
    export = _files(tmp_path / "export", {"leads.csv": text})
    with pytest.raises(LeadscoreError, match=r"^leads.csv line 6, the last line, has 1 value\(s\) "
                                             r"where the header has 7 columns: if it is a note"):
        ingest_paths([export], tmp_path / "s.duckdb")
