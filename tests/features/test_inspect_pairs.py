"""``leadscore inspect`` on two-file exports whose second file describes the main one's people
(Pipedrive's deals beside its persons): tiny inline files, drafted and ingested."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from features.ingest import ingest_paths
from features.inspect import inspect
from features.inspect_draft import draft
from leadscore.errors import LeadscoreError


def _pipedrive(folder: Path, n: int = 120) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({
        "Person - ID": [str(900 + i) for i in range(n)],
        "Person - Name": [["Ann Lee", "Bob Ng", "Cyd Roe"][i % 3] for i in range(n)],
        "Person - Job title": [["CEO", "Intern", "VP Sales"][i % 3] for i in range(n)],
        "Organization - Number of employees": [str([5, 30, 120, 600, 2500][i % 5])
                                               for i in range(n)],
        "Organization - Industry": [["Software", "Retail", "Healthcare"][i % 3] for i in range(n)],
    }).to_csv(folder / "persons.csv", index=False)
    deals = n - 10  # a person without a deal
    pd.DataFrame({
        "Deal - ID": [str(100 + i) for i in range(deals)],
        "Deal - Deal created": [f"2024-0{1 + i % 8}-{1 + i % 27:02d} 10:00:00"
                                for i in range(deals)],
        "Deal - Source channel": [["Website", "Referral"][i % 2] for i in range(deals)],
        "Deal - Status": [["won", "lost", "lost", "open"][i % 4] for i in range(deals)],
        "Deal - Person ID": [str(900 + i) for i in range(deals)],
    }).to_csv(folder / "deals.csv", index=False)
    return folder


def test_a_deals_status_beside_a_persons_file_is_the_outcome_of_each_deal(tmp_path):
    # the deals file has one row for most persons, so inspect refused its status: "its rows
    # are the outcome and the leads without one the negatives: run inspect without --outcome",
    # untrue of a status that says won, lost or open for every deal
    found = inspect([_pipedrive(tmp_path / "export")], "Deal - Status", ["won"], ["lost"])
    assert found.main.path.name == "deals.csv"
    persons = next(f for f in found.files if f.path.name == "persons.csv")
    assert persons.options["kind"] == "lookup" and persons.options["joins"] == "Deal - Person ID"
    # a person's title, an organisation's size and industry: the fit features read them
    roles = {c.name: c.role for c in persons.columns}
    assert roles["Person - Job title"] == "fit (as title)"
    assert roles["Organization - Number of employees"] == "fit (as company_size)"
    assert roles["Organization - Industry"] == "fit (as industry)"
    mapping = tmp_path / "m.yaml"
    mapping.write_text(draft(found))
    store = tmp_path / "s.duckdb"
    ingest_paths([tmp_path / "export"], store, mapping=mapping)
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT title, company_size, industry, source FROM leads "
                           "WHERE lead_id = '101'").fetchone() == ("Intern", "30", "Retail",
                                                                   "Referral")
        assert con.execute("SELECT count(*) FROM outcomes").fetchone() == (28,)


def test_a_hubspot_lifecycle_stage_is_drafted_as_the_stage_each_positive_value_names(tmp_path):
    # every --positive value was drafted closed_won: "Sales Qualified Lead": closed_won told
    # every report that an SQL was a won deal
    n = 90
    stages = ["Lead", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity",
              "Customer", "Subscriber"]
    path = tmp_path / "hubspot-crm-exports-all-contacts-2024-09-01.csv"
    pd.DataFrame({
        "Record ID": [str(5000 + i) for i in range(n)],
        "Create Date": [f"2024-0{1 + i % 8}-{1 + i % 27:02d} 14:22" for i in range(n)],
        "Original Source": [["Organic Search", "Referrals"][i % 2] for i in range(n)],
        "Lifecycle Stage": [stages[i % 6] for i in range(n)],
    }).to_csv(path, index=False)
    text = draft(inspect([path], "Lifecycle Stage", ["Sales Qualified Lead", "Opportunity",
                                                     "Customer"]))
    for mapped in ('"Sales Qualified Lead": sql', '"Opportunity": opportunity',
                   '"Customer": closed_won'):
        assert mapped in text
    assert '"Lead": none' in text and '"Marketing Qualified Lead": none' in text


def test_hubspot_internal_stage_names_are_drafted_as_the_stage_they_name():
    # HubSpot's API and some exports write the internal values: "salesqualifiedlead" was drafted
    # closed_won, so every report would have called an SQL a won deal
    from features.inspect_values import positive_stage

    assert positive_stage("salesqualifiedlead") == "sql"
    assert positive_stage("SalesQualifiedLead") == "sql"
    assert positive_stage("opportunity") == "opportunity"
    assert positive_stage("customer") == "closed_won"


def test_an_outcome_column_of_open_leads_only_says_no_lead_has_an_outcome_yet(tmp_path):
    # a snapshot of open leads: "Name the positive value(s) of Status with --positive (e.g.
    # --positive Won)", then "--positive 'Won' is not a value of Status (its values include
    # Open)": no sentence said the export holds no outcome yet
    path = tmp_path / "leads-2026-06-30.csv"
    pd.DataFrame({"Id": [str(i) for i in range(40)],
                  "Created": [f"2026-0{1 + i % 5}-10" for i in range(40)],
                  "Status": ["Open"] * 40}).to_csv(path, index=False)
    for positive in (None, ["Won"]):
        with pytest.raises(LeadscoreError) as caught:
            inspect([path], "Status", positive)
        assert str(caught.value) == (
            "Every filled row of Status in leads-2026-06-30.csv reads 'Open', so no lead has an "
            "outcome in this export yet (an export of open leads only): run inspect without "
            "--outcome, map Status in the draft (Open: none, beside the values your CRM writes "
            "for a won or lost lead), and review once an export holds outcomes.")


def test_a_count_column_is_never_the_join_of_a_lookup(tmp_path):
    # a scored.csv (lead_id 1..120) left beside a Salesforce report was drafted a lookup
    # "joins: No. of Employees": the counts 8..900 are among the row numbers, so its grade and
    # model_version were drafted as fit features of every lead by its company's head count
    folder = tmp_path / "export"
    folder.mkdir()
    n = 120
    pd.DataFrame({"Create Date": [f"2025-0{1 + i % 9}-15" for i in range(n)],
                  "No. of Employees": [str([8, 35, 120, 90, 60][i % 5]) for i in range(n)],
                  "Converted": [str(i % 2) for i in range(n)]}).to_csv(folder / "report.csv",
                                                                        index=False)
    pd.DataFrame({"lead_id": [str(i + 1) for i in range(n)],
                  "grade": [["A1", "B2", "C3"][i % 3] for i in range(n)]}).to_csv(
        folder / "scored.csv", index=False)
    text = draft(inspect([folder], "Converted"))
    assert "joins: No. of Employees" not in text
    assert "# scored.csv: no column of it holds the values of a main-file column" in text
