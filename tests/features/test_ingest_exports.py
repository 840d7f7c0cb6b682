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
