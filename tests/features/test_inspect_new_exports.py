"""``leadscore inspect`` on exports a new user brings (a Pipedrive export of several files with
small overlapping ids, a HubSpot contacts export with its MQL date): tiny inline files, the draft
checked for what it makes of each file and column."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from features.ingest import ingest_paths
from features.inspect import inspect
from features.inspect_draft import draft
from leadscore.errors import LeadscoreError


def _write(path: Path, frame: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def _pipedrive(tmp_path: Path, n: int = 120) -> Path:
    # Pipedrive numbers every entity from 1: an activity's own id is also some person's id
    folder = tmp_path / "export"
    _write(folder / "deals.csv", pd.DataFrame({
        "Deal - ID": [str(1000 + i) for i in range(n)],
        "Deal - Person ID": [str(1 + i) for i in range(n)],
        "Deal - Status": [["won", "lost", "lost"][i % 3] for i in range(n)],
        "Deal - Deal created": [f"2026-0{1 + i % 9}-{1 + i % 28:02d} 10:00:00" for i in range(n)],
        "Deal - Source channel": [["Website", "Referral"][i % 2] for i in range(n)],
    }))
    rows = range(3 * n)
    _write(folder / "activities.csv", pd.DataFrame({
        "Activity - ID": [str(1 + i) for i in rows],
        "Activity - Type": [["call", "meeting", "email"][i % 3] for i in rows],
        "Activity - Due date": [f"2026-0{1 + (i // 3) % 9}-{1 + (i // 3) % 28:02d}" for i in rows],
        "Activity - Deal ID": [str(1000 + i // 3) for i in rows],
    }))
    # persons of a few organisations, whose small ids hold deal ids by chance too
    _write(folder / "persons.csv", pd.DataFrame({
        "Person - ID": [str(1 + i) for i in range(n)],
        "Person - Job title": [["CTO", "Analyst", "Student", "CEO", "Intern"][i % 5]
                               for i in range(n)],
        "Person - Organization ID": [str(1000 + i // 4) for i in range(n)],
    }))
    return folder


def test_an_activity_log_whose_own_ids_coincide_with_person_ids_is_drafted_as_activities(
        tmp_path):
    folder = _pipedrive(tmp_path)
    found = inspect(sorted(folder.iterdir()), "Deal - Status", ["won"], ["lost"])
    log = next(f for f in found.files if f.path.name == "activities.csv")
    # its unique "Activity - ID" holds every "Deal - Person ID" by chance: it is no lookup of
    # persons (each deal's features would be some unrelated activity's), it is the deals' log
    assert log.options["kind"] == "activities"
    assert log.options["key"] == "Activity - Deal ID"
    persons = next(f for f in found.files if f.path.name == "persons.csv")
    assert (persons.options["kind"], persons.options["joins"]) == ("lookup", "Deal - Person ID")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(draft(found), encoding="utf-8")
    store = tmp_path / "s.duckdb"
    ingest_paths([folder], store, mapping=mapping)
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT lead_id) FROM activities").fetchone()[0] == 120
        kept = con.execute("SELECT count(*) FROM attribute_roles "
                           "WHERE name LIKE 'Activity%'").fetchone()[0]
        title = con.execute("SELECT title FROM leads WHERE lead_id = '1004'").fetchone()[0]
    assert kept == 0
    assert title == "Intern"


def test_an_mql_date_is_never_offered_as_the_outcome_date(tmp_path):
    # HubSpot: "Became a Marketing Qualified Lead Date" is filled for every SQL, Opportunity
    # and Customer (they all passed MQL) and blank for most plain leads, but it dates the MQL
    # moment, not the outcome: the draft maps it mql_at, and must not ask to date outcomes by it
    n = 200
    stages = ["Lead", "Lead", "Lead", "Marketing Qualified Lead", "Sales Qualified Lead",
              "Customer"]
    stage = [stages[i % len(stages)] for i in range(n)]
    frame = pd.DataFrame({
        "Record ID": [str(5000 + i) for i in range(n)],
        "Create Date": [f"{1 + i % 28:02d}/0{1 + i % 9}/2026 10:15" for i in range(n)],
        "Lifecycle Stage": stage,
        "Became a Marketing Qualified Lead Date": [
            "" if s == "Lead" else f"{2 + i % 26:02d}/0{1 + i % 9}/2026 11:00"
            for i, s in enumerate(stage)],
        "Industry": [["Retail", "Software"][i % 2] for i in range(n)],
    })
    path = _write(tmp_path / "contacts.csv", frame)
    found = inspect([path], "Lifecycle Stage", ["Sales Qualified Lead", "Customer"])
    mql = next(c for c in found.main.columns if c.name.startswith("Became a Marketing"))
    assert mql.role == "timestamp (mql_at)"
    assert not any("--outcome-date" in leak for leak in mql.leaks)
    assert "--outcome-date" not in found.text


def test_a_column_of_other_records_ids_is_no_numeric_feature(tmp_path):
    # a deal's organisation and a person's organisation are ids written as numbers: as numeric
    # features the model would read org 1,200 as "more" than org 3
    folder = _pipedrive(tmp_path)
    deals = pd.read_csv(folder / "deals.csv", dtype=str)
    deals["Deal - Organization ID"] = [str(1 + i // 3) for i in range(len(deals))]
    deals.to_csv(folder / "deals.csv", index=False)
    found = inspect(sorted(folder.iterdir()), "Deal - Status", ["won"], ["lost"])
    specs = {(f.path.name, c.name): c.spec for f in found.files for c in f.columns}
    assert specs[("deals.csv", "Deal - Organization ID")] == "ignore"
    assert specs[("persons.csv", "Person - Organization ID")] == "ignore"
    assert "Deal - Organization ID in deals.csv: ids of other records" in found.text
    assert "Person - Organization ID: ignore  # ids of other records" in draft(found)


def test_a_reasons_block_is_dated_by_the_date_filled_with_the_reasons(tmp_path):
    # Pipedrive's "Lost reason" is given the day the deal was lost ("Lost time"): drafted
    # after_days: 0, every rejection was dated at the deal's creation, known weeks before it
    # happened
    folder = _pipedrive(tmp_path)
    deals = pd.read_csv(folder / "deals.csv", dtype=str, keep_default_na=False)
    lost = deals["Deal - Status"] == "lost"
    deals["Deal - Lost reason"] = [["too expensive", "not a fit"][i % 2] if x else ""
                                   for i, x in enumerate(lost)]
    deals["Deal - Lost time"] = ["2026-10-05 09:00:00" if x else "" for x in lost]
    deals.to_csv(folder / "deals.csv", index=False)
    text = draft(inspect(sorted(folder.iterdir()), "Deal - Status", ["won"], ["lost"]))
    assert "      #   date: Deal - Lost time" in text
    lines = text.splitlines()
    start = lines.index("      # Deal - Lost reason:")
    end = next(i for i in range(start, len(lines))
               if lines[i].startswith("      Deal - Lost reason: "))
    taken = ["      " + line[8:] for line in lines[start:end]]
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("\n".join(lines[:start] + taken + lines[end + 1:]) + "\n",
                       encoding="utf-8")
    store = tmp_path / "s.duckdb"
    ingest_paths([folder], store, mapping=mapping)
    with duckdb.connect(str(store), read_only=True) as con:
        days = con.execute("SELECT DISTINCT CAST(dispositioned_at AS DATE) "
                           "FROM dispositions").fetchall()
    assert [str(d[0]) for d in days] == ["2026-10-05"]


def test_a_status_column_of_the_reps_reasons_is_offered_as_a_disposition_block(tmp_path):
    # HubSpot's "Lead Status" beside the lifecycle stage is where reps write their verdicts
    # ("Unqualified - Budget", "Bad Timing"): named "status", not "reason", it was drafted
    # post_outcome with no word about the reasons it holds, so they were never learned from
    n = 240
    statuses = ["New", "Attempted to contact", "Connected", "Unqualified - Budget",
                "Unqualified - Wrong Person", "Bad Timing"]
    frame = pd.DataFrame({
        "Record ID": [str(7000 + i) for i in range(n)],
        "Create Date": [f"2026-0{1 + i % 9}-{1 + i % 28:02d} 10:15" for i in range(n)],
        "Lifecycle Stage": [["Lead", "Customer", "Lead", "Lead"][i % 4] for i in range(n)],
        "Lead Status": [statuses[i % len(statuses)] for i in range(n)],
        "Industry": [["Retail", "Software", "Banking"][i % 3] for i in range(n)],
    })
    path = _write(tmp_path / "contacts.csv", frame)
    text = draft(inspect([path], "Lifecycle Stage", ["Customer"]))
    assert "      # Lead Status:" in text
    assert '      #     "Unqualified - Budget": {status: rejected, reason_code: no_budget}' in text
    assert '      #     "Bad Timing": {status: rejected, reason_code: bad_timing}' in text
    # a status column of other values (a deal's pipeline state) gets no block
    frame["Lead Status"] = [["Open", "In Progress", "Closed"][i % 3] for i in range(n)]
    frame.to_csv(path, index=False)
    assert "disposition_reason" not in draft(inspect([path], "Lifecycle Stage", ["Customer"]))


def test_a_persons_lookup_email_is_drafted_as_its_domain(tmp_path):
    # Pipedrive's deals name no e-mail; its persons file does ("Person - Email"): drafted
    # ignore, the free-mail or company domain (a fit signal) was lost, while ingest reads a
    # lookup's {as: email} as the domain alone
    folder = _pipedrive(tmp_path)
    persons = pd.read_csv(folder / "persons.csv", dtype=str)
    persons["Person - Email"] = [f"p{i}@{['gmail.com', 'acme.io'][i % 2]}"
                                 for i in range(len(persons))]
    persons.to_csv(folder / "persons.csv", index=False)
    found = inspect(sorted(folder.iterdir()), "Deal - Status", ["won"], ["lost"])
    specs = {(f.path.name, c.name): c.spec for f in found.files for c in f.columns}
    assert specs[("persons.csv", "Person - Email")] == "{role: fit, kind: categorical, as: email}"
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(draft(found), encoding="utf-8")
    store = tmp_path / "s.duckdb"
    ingest_paths([folder], store, mapping=mapping)
    with duckdb.connect(str(store), read_only=True) as con:
        domain = con.execute("SELECT email_domain FROM leads WHERE lead_id = '1001'").fetchone()
        addresses = con.execute("SELECT count(*) FROM leads WHERE attributes LIKE '%@%'"
                                ).fetchone()[0]
    assert domain == ("acme.io",)
    assert addresses == 0



def test_a_header_holding_a_line_break_is_read_whole(tmp_path):
    # a spreadsheet's wrapped header cell saved to CSV ("Created<newline>Date", quoted): the
    # header was read from the first physical line only, so the columns after it were typed
    # by pyarrow (a date column, not text) and inspect and ingest died with a traceback
    frame = pd.DataFrame({"lead_id": [f"L{i}" for i in range(30)],
                          "created\nat": [f"2026-03-{1 + i % 28:02d}" for i in range(30)],
                          "industry": [["Retail", "Software"][i % 2] for i in range(30)]})
    path = _write(tmp_path / "export" / "leads.csv", frame)
    found = inspect([path])
    assert [c.kind for c in found.main.columns] == ["id", "date", "categorical"]
    with pytest.raises(LeadscoreError, match="required"):
        ingest_paths([path], tmp_path / "s.duckdb")


def test_a_header_holding_a_line_break_keeps_the_profile_one_line_per_column(tmp_path):
    # the wrapped name ("Created<newline>Date") split its profile row in two
    frame = pd.DataFrame({"Lead ID": [f"L{i}" for i in range(30)],
                          "Created\nDate": [f"2026-03-{1 + i % 28:02d}" for i in range(30)],
                          "Industry": [["Retail", "Software"][i % 2] for i in range(30)]})
    path = _write(tmp_path / "leads.csv", frame)
    table = inspect([path]).text.split("\n\n")[0].splitlines()
    assert len(table) == 2 + 3
    assert table[3].startswith("  Created Date ")


def test_a_date_column_of_excel_serial_numbers_is_no_numeric_feature(tmp_path):
    # a CSV saved from Excel with the date cells formatted General: "45900.5" for 2025-08-31
    # noon. Drafted {role: fit, kind: numeric}, the creation moment became a feature (the
    # model would learn the calendar) and the leads were dated by row order instead
    lines = ["Lead ID,Created Date,Industry,Status"]
    lines += [f"L{i},{45900 + i * 1.37:.5f},{['Retail', 'Software'][i % 2]},"
              f"{['Won', 'Lost'][i % 3 == 0]}" for i in range(60)]
    path = tmp_path / "leads.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = inspect([path], "Status", ["Won"])
    created = next(c for c in found.main.columns if c.name == "Created Date")
    assert created.spec == "ignore"
    assert ("Created Date in leads.csv: Excel's serial day numbers (45900 is 2025-08-31), "
            "not dates as written: format the column as dates in the spreadsheet (or as ISO "
            "8601 text like 2025-08-31), export again and re-run inspect") in found.text
