"""``leadscore inspect`` on export shapes of real CRMs (HubSpot, Salesforce, Pipedrive), tiny
inline files: no traceback, no false sentence."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from features.ingest import ingest_paths
from features.inspect import inspect
from features.inspect_draft import draft
from features.mapping_v2 import load_any
from leadscore.errors import LeadscoreError


def _write(path: Path, frame: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def test_utc_timestamps_and_plain_dates_are_compared_for_the_outcome_date(tmp_path):
    # Salesforce: CreatedDate "2024-01-02T08:00:00.000Z", CloseDate "2024-01-20"
    n = 60
    frame = pd.DataFrame({
        "Id": [f"006{i:05d}" for i in range(n)],
        "CreatedDate": [f"2024-01-{1 + i % 28:02d}T08:00:00.000Z" for i in range(n)],
        "LastModifiedDate": [f"2024-03-{1 + i % 28:02d}T08:00:00.000Z" for i in range(n)],
        "CloseDate": [f"2024-02-{1 + i % 28:02d}" for i in range(n)],
        "StageName": ["Closed Won" if i % 3 else "Closed Lost" for i in range(n)],
    })
    found = inspect([_write(tmp_path / "Opportunity.csv", frame)], "StageName", ["Closed Won"],
                    outcome_date="CloseDate")
    leaks = {c.name: c.leaks for c in found.main.columns}
    assert "dated after CloseDate in most rows" in leaks["LastModifiedDate"]
    assert "dated after CloseDate in most rows" not in leaks["CreatedDate"]


def _salesforce(folder: Path, n: int = 80) -> Path:
    """Lead.csv (the main file) + Opportunity.csv (joined by ConvertedOpportunityId, not by its
    own Id) + Task.csv (several rows per lead, by WhoId)."""
    converted = [i % 3 == 0 for i in range(n)]
    _write(folder / "Lead.csv", pd.DataFrame({
        "Id": [f"00Q{i:05d}" for i in range(n)],
        "CreatedDate": [f"2024-01-{1 + i % 28:02d}T08:00:00.000Z" for i in range(n)],
        "LeadSource": [["Web", "Partner", "Event"][i % 3 - (i % 7 == 0)] for i in range(n)],
        "IsConverted": ["true" if c else "false" for c in converted],
        "ConvertedOpportunityId": [f"006{i:05d}" if c else "" for i, c in enumerate(converted)],
    }))
    opportunities = [i for i in range(n) if converted[i]]
    _write(folder / "Opportunity.csv", pd.DataFrame({
        "Id": [f"006{i:05d}" for i in opportunities],
        "StageName": ["Closed Won" if i % 2 else "Closed Lost" for i in opportunities],
        "Amount": [str(100 * i) for i in opportunities],
    }))
    _write(folder / "Task.csv", pd.DataFrame({
        "Id": [f"00T{i:05d}" for i in range(2 * n)],
        "WhoId": [f"00Q{i % n:05d}" for i in range(2 * n)],
        "ActivityDate": [f"2024-01-{1 + i % 28:02d}" for i in range(2 * n)],
        "Subject": ["Call" if i % 2 else "Email" for i in range(2 * n)],
        "Type": ["Call" if i % 2 else "Email" for i in range(2 * n)],
    }))
    return folder


def test_files_join_by_their_values_not_by_a_shared_column_name(tmp_path):
    found = inspect([_salesforce(tmp_path / "sf")], "IsConverted", ["true"])
    files = {f.path.name: f for f in found.files}
    opportunity, task = files["Opportunity.csv"], files["Task.csv"]
    assert found.main.path.name == "Lead.csv"
    # Opportunity.Id shares Lead.Id's name, but holds the values of ConvertedOpportunityId
    assert (opportunity.options["kind"], opportunity.options["key"],
            opportunity.options["joins"]) == ("lookup", "Id", "ConvertedOpportunityId")
    assert (task.options["kind"], task.options["key"]) == ("activities", "WhoId")
    roles = {c.name: c.role for c in task.columns}
    assert roles == {"Id": "ignore", "WhoId": "key", "ActivityDate": "occurred_at",
                     "Subject": "ignore", "Type": "activity_type"}


def test_a_lookup_column_known_only_after_the_outcome_is_a_leak_suspect_not_a_feature(tmp_path):
    found = inspect([_salesforce(tmp_path / "sf")], "IsConverted", ["true"])
    opportunity = next(f for f in found.files if f.path.name == "Opportunity.csv")
    columns = {c.name: c for c in opportunity.columns}
    assert columns["StageName"].leaks and columns["StageName"].spec == "ignore"
    assert "blank for every IsConverted = false" in columns["Amount"].leaks
    assert "leak suspects in Opportunity.csv, joined on ConvertedOpportunityId" in found.text


def test_the_drafted_salesforce_mapping_ingests_leads_and_their_tasks(tmp_path):
    folder = _salesforce(tmp_path / "sf")
    found = inspect([folder], "IsConverted", ["true"])
    mapping = tmp_path / "draft.yaml"
    mapping.write_text(draft(found))
    load_any(mapping)
    report = ingest_paths([folder], tmp_path / "s.duckdb", mapping=mapping)
    assert report.tables["leads"].new == 80
    assert report.tables["activities"].new == 160
    assert not any("match no row" in note for note in report.notes)


def test_a_last_name_column_is_personal_data_not_a_post_contact_field(tmp_path):
    # HubSpot contacts: "Last Name" beside "Last Activity Date"
    n = 40
    frame = pd.DataFrame({
        "Record ID": [str(1000 + i) for i in range(n)],
        "Last Name": [f"Surname{i}" for i in range(n)],
        "Last Activity Date": [f"2024-03-{1 + i % 28:02d} 14:22" for i in range(n)],
        "Lifecycle Stage": ["customer" if i % 4 == 0 else "lead" for i in range(n)],
    })
    found = inspect([_write(tmp_path / "contacts.csv", frame)], "Lifecycle Stage", ["customer"])
    leaks = {c.name: c.leaks for c in found.main.columns}
    assert leaks["Last Name"] == []
    assert any(leak.startswith("named like a post-contact") for leak in leaks["Last Activity Date"])
    assert "Last Name:" not in found.text.split("leak suspects")[1]


def test_a_lead_id_that_repeats_on_a_few_rows_is_still_drafted_as_the_id(tmp_path):
    n = 60
    frame = pd.DataFrame({
        "lead_id": [f"L{i}" for i in range(n)] + ["L5", "L7"],
        "created_at": [f"2024-03-{1 + i % 28:02d} 14:22" for i in range(n + 2)],
        "source": ["web", "event"] * (n // 2) + ["partner", "web"],
        "converted": ["1" if i % 3 == 0 else "0" for i in range(n + 2)],
    })
    path = _write(tmp_path / "export" / "leads-export.csv", frame)
    found = inspect([path], "converted", ["1"])
    text = draft(found)
    assert "lead_id: id  # 2 of its values repeat" in text and "from_row" not in text
    mapping = tmp_path / "draft.yaml"
    mapping.write_text(text)
    # the sentence is true: differing rows stop the batch, naming their lines
    with pytest.raises(LeadscoreError, match=r"leads-export.csv lines 7 and 62 give lead_id 'L5'"):
        ingest_paths([path], tmp_path / "s.duckdb", mapping=mapping)


def test_inspect_passes_over_a_repeated_header_row(tmp_path):
    frame = pd.DataFrame({"lead_id": [f"L{i}" for i in range(4)],
                          "created_at": ["2024-03-05 14:22"] * 4})
    path = _write(tmp_path / "leads.csv", frame)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:3], lines[0], *lines[3:]]) + "\n")
    found = inspect([path])
    assert found.main.rows == 4
    assert {c.name: c.kind for c in found.main.columns}["created_at"] == "date"


def test_an_email_column_is_drafted_to_keep_only_its_domain(tmp_path):
    n = 60
    frame = pd.DataFrame({
        "Record ID": [str(1000 + i) for i in range(n)],
        "Email": [f"person{i}@{['gmail.com', 'acme.io'][i % 2]}" for i in range(n)],
        "Create Date": [f"2024-03-{1 + i % 28:02d} 14:22" for i in range(n)],
        "Lifecycle Stage": ["customer" if i % 4 == 0 else "lead" for i in range(n)],
    })
    path = _write(tmp_path / "export" / "contacts.csv", frame)
    found = inspect([path], "Lifecycle Stage", ["customer"])
    text = draft(found)
    assert "Email: {role: fit, kind: categorical, as: email}  # an e-mail address: only its " \
           "domain is stored" in text
    mapping = tmp_path / "draft.yaml"
    mapping.write_text(text)
    store = tmp_path / "s.duckdb"
    ingest_paths([path], store, mapping=mapping)
    with duckdb.connect(str(store), read_only=True) as con:
        domains = {d for (d,) in con.execute("SELECT DISTINCT email_domain FROM leads").fetchall()}
        dump = str(con.execute("SELECT * FROM leads").fetchall())
    assert domains == {"gmail.com", "acme.io"} and "person1@" not in dump


def test_inspect_profiles_json_lines(tmp_path):
    import json

    path = tmp_path / "contacts.jsonl"
    path.write_text("\n".join(json.dumps({"id": f"c{i}", "visits": i % 5, "won": i % 3 == 0,
                                          "created": f"2024-03-{1 + i % 28:02d} 14:22"})
                              for i in range(60)) + "\n")
    found = inspect([path], "won", ["true"])
    kinds = {c.name: c.kind for c in found.main.columns}
    assert found.main.read == "JSON Lines" and found.main.rows == 60
    assert kinds == {"id": "id", "visits": "numeric", "won": "boolean", "created": "date"}


def test_a_dated_export_name_is_drafted_as_a_pattern_the_next_export_matches(tmp_path):
    n = 60
    frame = pd.DataFrame({
        "Record ID": [str(1000 + i) for i in range(n)],
        "Create Date": [f"2024-03-{1 + i % 28:02d} 14:22" for i in range(n)],
        "Lifecycle Stage": ["customer" if i % 4 == 0 else "lead" for i in range(n)],
    })
    june = _write(tmp_path / "june" / "hubspot-crm-exports-all-contacts-2024-06-30.csv", frame)
    text = draft(inspect([june], "Lifecycle Stage", ["customer"]))
    assert "path: \"hubspot-crm-exports-all-contacts-*.csv\"  # matches the next export too" \
        in text
    assert "name: hubspot-crm-exports-all-contacts\n" in text
    mapping = tmp_path / "draft.yaml"
    mapping.write_text(text)
    july = _write(tmp_path / "july" / "hubspot-crm-exports-all-contacts-2024-07-31.csv", frame)
    report = ingest_paths([july.parent], tmp_path / "s.duckdb", mapping=mapping)
    assert report.tables["leads"].new == n
    # July's export is declared taken on July's day, not on the day June's draft was written
    assert "export date 2024-07-31 declared" in "\n".join(report.notes)


def test_inspect_reads_the_delimiter_an_excel_sep_line_names(tmp_path):
    frame = pd.DataFrame({"lead_id": [f"L{i}" for i in range(4)], "amount": ["1,5"] * 4,
                          "won": ["yes", "no", "yes", "no"]})
    path = tmp_path / "leads.csv"
    path.write_text("sep=;\n" + frame.to_csv(sep=";", index=False))
    found = inspect([path], "won", ["yes"])
    assert found.main.options["delimiter"] == ";" and found.main.rows == 4
    assert [c.name for c in found.main.columns] == ["lead_id", "amount", "won"]


def test_a_became_an_mql_date_is_drafted_as_mql_at(tmp_path):
    n = 60
    frame = pd.DataFrame({
        "Record ID": [str(1000 + i) for i in range(n)],
        "Create Date": [f"2024-03-{1 + i % 28:02d} 14:22" for i in range(n)],
        "Became a Marketing Qualified Lead Date": [
            f"2024-04-{1 + i % 28:02d} 09:00" if i % 2 else "" for i in range(n)],
        "Lifecycle Stage": ["customer" if i % 4 == 1 else "lead" if i % 2 == 0 else
                            "marketingqualifiedlead" for i in range(n)],
    })
    path = _write(tmp_path / "export" / "contacts.csv", frame)
    text = draft(inspect([path], "Lifecycle Stage", ["customer"]))
    assert "Became a Marketing Qualified Lead Date: {role: timestamp, as: mql_at}" in text
    mapping = tmp_path / "draft.yaml"
    mapping.write_text(text)
    store = tmp_path / "s.duckdb"
    ingest_paths([path], store, mapping=mapping)
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT count(mql_at) FROM leads").fetchone()[0] == n // 2
