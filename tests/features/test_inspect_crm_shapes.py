"""``leadscore inspect`` and ingest on CRM export shapes the other tests do not hold (Salesforce
and HubSpot column names, currency and percent numbers, HubSpot's placeholders): tiny inline
files, the draft checked for what it makes of each column and ingested where it matters."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from features.ingest import ingest_paths
from features.inspect import inspect
from features.inspect_draft import draft
from leadscore.errors import LeadscoreError

SENIORITY = ["VP", "Director", "Manager", "Analyst", "Intern"]
DEPARTMENTS = ["Marketing", "Sales", "Finance", "IT", "Operations", "HR", "Legal", "Support",
               "Product", "Data", "Security", "Design", "Research", "Growth", "Partnerships"]


def _write(path: Path, frame: pd.DataFrame, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, **options)
    return path


def _drafted(tmp_path: Path, found) -> Path:
    out = tmp_path / "mapping.yaml"
    out.write_text(draft(found), encoding="utf-8")
    return out


def test_a_crms_names_for_lead_fields_are_drafted_as_those_fields(tmp_path):
    # free-text titles (more distinct values than a category holds) are the strongest fit
    # signal once parsed for seniority: as an attribute they were passed over as "text"
    n = 300
    frame = pd.DataFrame({
        "Id": [f"00Q5e0000{i:06d}" for i in range(n)],
        "Created Date": [f"{1 + i % 12}/{1 + i % 28}/2026 {1 + i % 12}:15 PM" for i in range(n)],
        "Title": [f"{SENIORITY[i % 5]} of {DEPARTMENTS[i % 15]} {i % 7}" for i in range(n)],
        "Lead Source": [["Web", "Partner Referral", "Trade Show"][i % 3] for i in range(n)],
        "No. of Employees": [str(10 + 37 * i) for i in range(n)],
        "Country/Region": [["Germany", "United States"][i % 2] for i in range(n)],
        "IsConverted": ["TRUE" if i % 4 == 0 else "FALSE" for i in range(n)],
    })
    found = inspect([_write(tmp_path / "export" / "Leads.csv", frame)], "IsConverted",
                    ["TRUE"])
    roles = {c.name: c.role for c in found.main.columns}
    assert roles["Title"] == "fit (as title)"
    assert roles["Lead Source"] == "fit (as source)"
    assert roles["No. of Employees"] == "fit (as company_size)"
    assert roles["Country/Region"] == "fit (as country)"
    store = tmp_path / "s.duckdb"
    ingest_paths([tmp_path / "export"], store, mapping=_drafted(tmp_path, found))
    with duckdb.connect(str(store), read_only=True) as con:
        row = con.execute("SELECT title, source, company_size, country FROM leads "
                          "WHERE lead_id = '00Q5e0000000001'").fetchone()
    assert row == ("Director of Sales 1", "Partner Referral", "47", "United States")


def _hubspot(n: int = 400) -> pd.DataFrame:
    """A HubSpot contacts export: students never become customers (a fit signal, not a leak);
    "(No value)" where a property is blank."""
    rng = np.random.default_rng(5)
    titles = ["Student", "Intern", "VP Sales", "Head of IT", "Analyst", "Marketing Manager"]
    title = [titles[i % 6] for i in range(n)]
    customer = [t not in ("Student", "Intern") and rng.random() < 0.4 for t in title]
    return pd.DataFrame({
        "Record ID": [str(51000000 + 7 * i) for i in range(n)],
        "Create Date": [f"2026-{1 + i % 12:02d}-{1 + i % 28:02d} 14:15" for i in range(n)],
        "Job Title": [t if i % 10 else "(No value)" for i, t in enumerate(title)],
        "Number of Pageviews": [str(i % 13 + 3 * c) for i, c in enumerate(customer)],
        "Number of Form Submissions": [str(i % 3 + c) for i, c in enumerate(customer)],
        "Lifecycle Stage": ["customer" if c else ["lead", "subscriber"][i % 2]
                            for i, c in enumerate(customer)],
    })


def test_values_that_are_all_the_common_outcome_are_a_signal_not_a_leak(tmp_path):
    # Student and Intern never convert (a third of the rows, 100 % negative): before, the draft
    # made Job Title a post_outcome leak suspect and the strongest fit signal was lost
    found = inspect([_write(tmp_path / "contacts.csv", _hubspot())], "Lifecycle Stage",
                    ["customer"])
    title = next(c for c in found.main.columns if c.name == "Job Title")
    assert not title.leaks and title.role == "fit (as title)"


def test_a_verdict_whose_values_decide_the_rarer_outcome_is_still_a_leak_suspect(tmp_path):
    n = 400
    won = [i % 4 == 0 for i in range(n)]
    frame = pd.DataFrame({
        "Deal ID": [f"d{i}" for i in range(n)],
        "Created": [f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(n)],
        # a verdict written later: "signed" only on won deals (the rarer outcome), "no budget"
        # only on lost ones, "pending" on both
        "Verdict Code": [("signed" if i % 8 == 0 else "pending") if w else
                         ("no budget" if i % 3 == 0 else "pending") for i, w in enumerate(won)],
        "Won": ["yes" if w else "no" for w in won],
    })
    found = inspect([_write(tmp_path / "deals.csv", frame)], "Won", ["yes"])
    verdict = next(c for c in found.main.columns if c.name == "Verdict Code")
    assert any("of its values decide Won" in leak for leak in verdict.leaks)


def test_hubspot_no_value_is_drafted_missing_and_behaviour_counts_are_intent(tmp_path):
    _write(tmp_path / "export" / "contacts.csv", _hubspot())
    found = inspect([tmp_path / "export"], "Lifecycle Stage", ["customer"])
    roles = {c.name: c.role for c in found.main.columns}
    assert roles["Number of Pageviews"] == "intent numeric"
    assert roles["Number of Form Submissions"] == "intent numeric"
    mapping = _drafted(tmp_path, found)
    assert 'missing: ["", "(No value)"]' in mapping.read_text()
    store = tmp_path / "s.duckdb"
    ingest_paths([tmp_path / "export"], store, mapping=mapping)
    with duckdb.connect(str(store), read_only=True) as con:
        titles = dict(con.execute("SELECT coalesce(title, 'NULL'), count(*) FROM leads "
                                  "GROUP BY 1").fetchall())
    assert "(No value)" not in titles and titles["NULL"] == 40


def _contacts(tmp_path: Path, contact: list[str], extra: dict | None = None) -> Path:
    n = len(contact)
    frame = pd.DataFrame({
        "Id": [f"L{i:04d}" for i in range(n)],
        "Created": [f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(n)],
        "contact": contact, **(extra or {}),
        "y": ["yes" if i % 3 == 0 else "no" for i in range(n)],
    })
    return _write(tmp_path / "export" / "leads.csv", frame)


def test_a_contact_column_holding_channel_codes_is_no_person_and_is_stored(tmp_path):
    # a bank-marketing export's `contact` (cellular / telephone) was drafted ignore as personal
    # data by its name alone, and refused at ingest when declared a feature
    _contacts(tmp_path, [["cellular", "telephone", "unknown"][i // 2 % 3] for i in range(90)])
    found = inspect([tmp_path / "export"], "y", ["yes"])
    contact = next(c for c in found.main.columns if c.name == "contact")
    assert not contact.personal and contact.role == "fit categorical"
    assert "cellular" in found.text
    store = tmp_path / "s.duckdb"
    ingest_paths([tmp_path / "export"], store, mapping=_drafted(tmp_path, found))
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT attributes->>'contact' FROM leads WHERE lead_id = 'L0002'"
                           ).fetchone() == ("telephone",)


def test_a_contact_column_holding_names_phones_or_emails_stays_personal(tmp_path):
    names = [["Olivia Nguyen", "Liam Smith", "Ava Rossi"][i // 2 % 3] for i in range(90)]
    _contacts(tmp_path, names, {
        "Work": [f"+1 (213) 555-{1000 + i}" for i in range(90)],
        "Secondary": [f"p{i}@mail.example.com" for i in range(90)]})
    found = inspect([tmp_path / "export"], "y", ["yes"])
    columns = {c.name: c for c in found.main.columns}
    assert all(columns[c].personal and columns[c].role.startswith("ignore")
               for c in ("contact", "Work", "Secondary"))
    assert "Olivia" not in found.text and "555-" not in found.text
    mapping = _drafted(tmp_path, found)
    mapping.write_text(mapping.read_text().replace("contact: ignore",
                                                   "contact: {role: fit, kind: categorical}"))
    with pytest.raises(LeadscoreError, match="column contact: a column named like personal"):
        ingest_paths([tmp_path / "export"], tmp_path / "s.duckdb", mapping=mapping)


def test_day_first_dates_are_compared_as_day_first_for_the_outcome_date(tmp_path):
    # a European save: a touch in November before a win in December read month first as
    # October-December after January-May, so "dated after" was said of the wrong column
    n = 120
    frame = pd.DataFrame({
        "Id": [f"L{i}" for i in range(n)],
        "Created": [f"{1 + i % 5:02d}.10.2025" for i in range(n)],
        "Last Touch": [f"{8 + i % 5:02d}.11.2025 10:00" for i in range(n)],
        "Invoice Sent": [f"{1 + i % 9:02d}.01.2026" for i in range(n)],
        "Won Date": [f"{1 + i % 5:02d}.12.2025" for i in range(n)],
        "Won": ["yes" if i % 3 == 0 else "no" for i in range(n)],
    })
    found = inspect([_write(tmp_path / "deals.csv", frame, sep=";")], "Won", ["yes"],
                    outcome_date="Won Date")
    leaks = {c.name: c.leaks for c in found.main.columns}
    assert "dated after Won Date in most rows" not in leaks["Last Touch"]
    assert "dated after Won Date in most rows" in leaks["Invoice Sent"]


def test_a_free_text_column_holding_the_exports_names_is_personal(tmp_path):
    # Salesforce's Task Subject "Call with Mia Lefèvre": inspect printed the names as top
    # values and nothing kept the column from being stored
    first, last = ["Mia", "Zoë", "Jürgen", "Liam"], ["Lefèvre", "O'Brien", "Müller", "Smith"]
    n = 80
    _write(tmp_path / "export" / "Leads.csv", pd.DataFrame({
        "Id": [f"00Q{i:04d}" for i in range(n)],
        "First Name": [first[i % 4] for i in range(n)],
        "Last Name": [last[i // 4 % 4] for i in range(n)],
        "Company": [["Acme Corp", "Smithers Ltd", "Globex"][i // 2 % 3] for i in range(n)],
        "IsConverted": ["TRUE" if i % 3 == 0 else "FALSE" for i in range(n)]}))
    _write(tmp_path / "export" / "Tasks.csv", pd.DataFrame({
        "WhoId": [f"00Q{i % n:04d}" for i in range(2 * n)],
        "Type": ["Call", "Email"] * n,
        "Subject": [f"Call with {first[i % 4]} {last[i // 4 % 4]}" for i in range(2 * n)]}))
    found = inspect([tmp_path / "export"], "IsConverted", ["TRUE"])
    columns = {(f.path.name, c.name): c for f in found.files for c in f.columns}
    assert columns[("Tasks.csv", "Subject")].personal
    company = columns[("Leads.csv", "Company")]  # a company is no person: not personal,
    assert not company.personal and company.role == "ignore (a company's name)"  # nor a feature
    assert "Lefèvre" not in found.text and "Call with" not in found.text


def test_without_an_outcome_named_a_converted_flag_is_never_drafted_a_feature(tmp_path):
    # without --outcome the largest file (Tasks.csv) is the main one and Leads.csv a lookup:
    # IsConverted was drafted {role: fit, kind: numeric}, the outcome itself as a feature
    n = 60
    _write(tmp_path / "export" / "Leads.csv", pd.DataFrame({
        "Id": [f"00Q{i:04d}" for i in range(n)],
        "Lead Source": [["Web", "Partner"][i % 2] for i in range(n)],
        "IsConverted": ["TRUE" if i % 3 == 0 else "FALSE" for i in range(n)],
        "ConvertedDate": [f"3/{13 + i % 9}/2026" if i % 3 == 0 else "" for i in range(n)]}))
    _write(tmp_path / "export" / "Tasks.csv", pd.DataFrame({
        "WhoId": [f"00Q{i % n:04d}" for i in range(3 * n)],
        "ActivityDate": [f"3/{13 + i % 9}/2026" for i in range(3 * n)],
        "Type": ["Call", "Email", "Meeting"] * n}))
    # (Tasks.csv, several rows per lead and no id of its own, is now the leads' activity log
    # and Leads.csv the main file)
    found = inspect([tmp_path / "export"])
    leads = next(f for f in found.files if f.path.name == "Leads.csv")
    assert found.main is leads
    roles = {c.name: c.spec for c in leads.columns}
    for column in ("IsConverted", "ConvertedDate"):
        assert roles[column] == "ignore" or roles[column].startswith("{role: post_outcome")
    assert roles["Lead Source"].startswith("{role: fit")
    tasks = next(f for f in found.files if f.path.name == "Tasks.csv")
    assert tasks.options["kind"] == "activities"


def test_a_numeric_column_named_like_a_lead_field_is_a_number_not_that_field(tmp_path):
    # the UCI bank export's `campaign` counts the calls made in this campaign: drafted as the
    # lead's campaign field it was read as a category of 40-odd "names"; an employee count is
    # the one lead field that is a number
    n = 300
    frame = pd.DataFrame({
        "lead": [f"L{i:04d}" for i in range(n)],
        "campaign": [str(1 + i % 9) for i in range(n)],
        "employees": [str(10 + 37 * i) for i in range(n)],
        "y": ["yes" if i % 4 == 0 else "no" for i in range(n)],
    })
    found = inspect([_write(tmp_path / "bank.csv", frame)], "y", ["yes"])
    roles = {c.name: c.role for c in found.main.columns}
    assert roles["campaign"] == "fit numeric"
    assert roles["employees"] == "fit (as company_size)"


def test_a_companys_name_is_drafted_ignore_with_why_and_its_size_still_a_field(tmp_path):
    # a Zoho export's Company (Firma 39 GmbH ...) was drafted a fit category, and the review
    # listed "Company (fit): Firma 39 GmbH raises it most": the model learning accounts
    n = 90
    _write(tmp_path / "export" / "Leads.csv", pd.DataFrame({
        "Lead Id": [f"z{i:04d}" for i in range(n)],
        "Company": [f"Firma {i % 40} GmbH" for i in range(n)],
        "Company Size": [["1-10", "11-50", "51-200"][i // 3 % 3] for i in range(n)],
        "Account Type": [["Prospect", "Partner"][i % 2] for i in range(n)],
        "Status": ["Won" if i % 3 == 0 else "Lost" for i in range(n)]}))
    found = inspect([tmp_path / "export"], "Status", ["Won"])
    text = draft(found)
    assert ("      Company: ignore  # a company's name: as a feature the model would learn "
            "accounts, not fit; map its size and industry instead") in text
    assert "Company Size: {role: fit, kind: categorical, as: company_size}" in text
    assert "Account Type: {role: fit, kind: categorical}" in text
