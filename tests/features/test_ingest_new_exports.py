"""Ingest on what exports a new user brings hold: tiny inline files, inspected, drafted and
ingested, the stored values checked."""

from __future__ import annotations

import json

import duckdb
import pytest

from features.ingest import ingest_paths
from features.inspect import inspect
from features.inspect_draft import draft
from leadscore.config import load_config
from leadscore.errors import LeadscoreError


def test_digits_grouped_by_a_no_break_space_read_as_a_number(tmp_path):
    # French and German Excel, and HubSpot in those locales, group digits with a no-break
    # space (U+00A0, or the narrow U+202F): "1 200 000,50" was profiled a category, stored as
    # text, and never a number
    lines = ["Record ID;Create Date;Annual Revenue;Industry"]
    for i in range(40):
        space = "\u00a0" if i % 2 else "\u202f"
        lines.append(f"{100 + i};{1 + i % 28:02d}/0{1 + i % 9}/2026 10:15;"
                     f"{1 + i % 7}{space}{i % 3}00{space}000,50;{['Retail', 'Software'][i % 2]}")
    export = tmp_path / "export"
    export.mkdir()
    (export / "contacts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = inspect([export / "contacts.csv"])
    revenue = next(c for c in found.main.columns if c.name == "Annual Revenue")
    assert revenue.kind == "numeric"
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(draft(found), encoding="utf-8")
    assert 'thousands: " "' in mapping.read_text(encoding="utf-8")
    store = tmp_path / "s.duckdb"
    ingest_paths([export], store, mapping=mapping)
    with duckdb.connect(str(store), read_only=True) as con:
        stored = con.execute("SELECT attributes FROM leads WHERE lead_id = '101'").fetchone()[0]
    assert json.loads(stored)["Annual Revenue"] == 2100000.5


def test_a_salesforce_lightning_date_with_a_comma_before_its_time_dates_the_lead(tmp_path):
    # Salesforce Lightning writes "3/5/2026, 9:05 PM": inspect took the column for an id,
    # drafted no creation date, and the draft's placeholder dates failed at ingest
    lines = ["Lead ID,Industry,Created Date,Lead Status"]
    for i in range(80):
        lines.append(f'00Q{i:05d},{["Retail", "Software"][i % 2]},'
                     f'"{1 + i % 9}/{1 + i % 28}/2026, {1 + i % 12}:0{i % 6} '
                     f'{["AM", "PM"][i % 2]}",{["Closed - Converted", "Open"][i % 3 == 0]}')
    export = tmp_path / "export"
    export.mkdir()
    (export / "leads.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = inspect([export / "leads.csv"], "Lead Status", ["Closed - Converted"])
    created = next(c for c in found.main.columns if c.name == "Created Date")
    assert created.role == "timestamp (created_at)"
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(draft(found), encoding="utf-8")
    store = tmp_path / "s.duckdb"
    ingest_paths([export], store, mapping=mapping)
    with duckdb.connect(str(store), read_only=True) as con:
        at = con.execute("SELECT created_at FROM leads WHERE lead_id = '00Q00013'").fetchone()[0]
    assert str(at) == "2026-05-14 14:01:00"


def test_outcomes_dated_before_their_lead_became_scoreable_are_said_at_ingest(tmp_path):
    # a CRM whose Created Date is the day a lead was imported: its conversion can come
    # earlier; labels leave such a lead out as converted before it could be scored, and the
    # review said only "N the label policy excludes", ingest nothing at all
    export = tmp_path / "export"
    export.mkdir()
    leads = ["lead_id,created_at,source,title,company_size,industry,country"]
    outcomes = ["lead_id,stage,occurred_at"]
    for i in range(30):
        leads.append(f"L{i},2026-03-{1 + i % 28:02d}T10:00:00,Web,CTO,50,Retail,France")
        if i % 3 == 0:  # 10 won: 4 of them dated before the lead was created
            day = "2026-02-01" if i < 12 else "2026-05-01"
            outcomes.append(f"L{i},closed_won,{day}T09:00:00")
    (export / "leads.csv").write_text("\n".join(leads) + "\n", encoding="utf-8")
    (export / "outcomes.csv").write_text("\n".join(outcomes) + "\n", encoding="utf-8")
    report = ingest_paths([export], tmp_path / "s.duckdb", labels=load_config()["labels"])
    said = [n for n in report.notes if "before" in n and "scoreable" in n]
    assert said == ["4 leads have every positive outcome or verdict dated before they became "
                    "scoreable (created, or their MQL date): labels leave them out, as converted "
                    "before they could be scored; if that date is when they were imported, not "
                    "created, map the CRM's own creation date"]


def test_activities_named_by_salesforces_15_character_ids_are_said_to_be_so(tmp_path):
    # Salesforce reports write the 15-character id, Data Loader and the API the 18-character
    # one: a Tasks report beside a Leads data export named no lead, every activity was passed
    # over, and the note said to ingest "the export that holds those leads": this one does
    export = tmp_path / "export"
    export.mkdir()
    leads = ["lead_id,created_at,source,title,company_size,industry,country"]
    events = ["lead_id,occurred_at,activity_type"]
    for i in range(12):
        lead = f"00Q5e00000{i:05d}AbC"
        leads.append(f"{lead},2026-03-{1 + i:02d}T10:00:00,Web,CTO,50,Retail,France")
        events.append(f"{lead[:15]},2026-03-{2 + i:02d}T10:00:00,pricing_view")
    (export / "leads.csv").write_text("\n".join(leads) + "\n", encoding="utf-8")
    (export / "activities.csv").write_text("\n".join(events) + "\n", encoding="utf-8")
    report = ingest_paths([export], tmp_path / "s.duckdb")
    note = next(n for n in report.notes if "passed over" in n)
    assert "ingest the export that holds those leads" not in note
    assert ("all 12 are the 15-character form of an 18-character Salesforce id this store or "
            "export holds ('00Q5e0000000000' of '00Q5e0000000000AbC'): export every file with "
            "the same ids (18 characters: Data Loader, or CASESAFEID(Id) in a report) and "
            "re-run") in note


def test_a_refused_space_grouped_number_points_to_the_options_that_read_it(tmp_path):
    # the refusal of "1 200 000,50" suggested thousands: "," (for $1,200.00), which reads it not
    lines = ["Record ID;Create Date;Annual Revenue;Industry"]
    for i in range(40):
        lines.append(f"{100 + i};{1 + i % 28:02d}/0{1 + i % 9}/2026 10:15;"
                     f"{1 + i % 7}\u00a0{i % 3}00\u00a0000,50;{['Retail', 'Software'][i % 2]}")
    export = tmp_path / "export"
    export.mkdir()
    (export / "contacts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    text = draft(inspect([export / "contacts.csv"]))
    mapping.write_text("\n".join(line for line in text.splitlines()
                                 if "thousands:" not in line and "decimal:" not in line)
                       + "\n", encoding="utf-8")
    with pytest.raises(LeadscoreError) as refused:
        ingest_paths([export], tmp_path / "s.duckdb", mapping=mapping)
    said = str(refused.value)
    assert "is not a number" in said and 'thousands: ","' not in said
    assert 'digits grouped by spaces read with thousands: " "' in said
    assert 'decimal: ","' in said
