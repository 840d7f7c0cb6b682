"""``leadscore inspect`` on the shapes of CRMs the other tests do not hold (Pipedrive's
"Entity - Field" columns, Zoho's and Dynamics 365's names and dates): tiny inline files, the
draft checked for what it makes of each column and ingested where it matters."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from features.ingest import ingest_paths
from features.inspect import inspect
from features.inspect_draft import draft


def _write(path: Path, frame: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def _drafted(tmp_path: Path, found) -> Path:
    out = tmp_path / "mapping.yaml"
    out.write_text(draft(found), encoding="utf-8")
    return out


def test_a_modified_on_date_before_created_on_never_dates_the_lead(tmp_path):
    # Dynamics 365's Excel export puts its hidden "(Do Not Modify)" columns first: the lead's
    # last change came before its creation date in column order, and was drafted created_at
    n = 80
    frame = pd.DataFrame({
        "(Do Not Modify) Lead": [f"6f1c2b7e-0000-4000-8000-{i:012d}" for i in range(n)],
        "(Do Not Modify) Modified On": [f"{1 + i % 28:02d}/11/2026 09:{i % 60:02d}"
                                        for i in range(n)],
        "Created On": [f"{1 + i % 28:02d}/0{1 + i % 9}/2025 14:05" for i in range(n)],
        "Industry": [["Retail", "Consulting"][i % 2] for i in range(n)],
    })
    path = _write(tmp_path / "export" / "leads.csv", frame)
    for outcome in (None, "Industry"):
        found = inspect([path], outcome, ["Retail"] if outcome else None)
        roles = {c.name: c.role for c in found.main.columns}
        assert roles["Created On"] == "timestamp (created_at)"
        assert roles["(Do Not Modify) Modified On"] == "ignore (leak suspect)"
        modified = next(c for c in found.main.columns if c.name.endswith("Modified On"))
        assert any(leak.startswith("named like a post-contact") for leak in modified.leaks)
    store = tmp_path / "s.duckdb"
    ingest_paths([tmp_path / "export"], store, mapping=_drafted(tmp_path, found))
    with duckdb.connect(str(store), read_only=True) as con:
        first = con.execute("SELECT min(created_at) FROM leads").fetchone()[0]
    assert first.year == 2025


def test_a_date_named_for_creation_is_chosen_over_an_earlier_column(tmp_path):
    n = 60
    frame = pd.DataFrame({
        "Deal - ID": [str(1000 + i) for i in range(n)],
        "Deal - Expected close": [f"2026-0{1 + i % 9}-15" for i in range(n)],
        "Next activity date": [f"2026-0{1 + i % 9}-20" for i in range(n)],
        "Deal - Deal created": [f"2025-0{1 + i % 9}-01 10:00:00" for i in range(n)],
    })
    found = inspect([_write(tmp_path / "deals.csv", frame)])
    roles = {c.name: c.role for c in found.main.columns}
    assert roles["Deal - Deal created"] == "timestamp (created_at)"
    assert roles["Next activity date"] == "ignore (leak suspect)"  # the rep's plan


def test_day_first_dates_on_a_12_hour_clock_are_read_as_drafted(tmp_path):
    # Zoho CRM with a dd/MM/yyyy locale writes 13/01/2025 10:49 PM; the draft names no format,
    # and ingest read day first only with a 24-hour clock, so it refused every such value
    n = 60
    frame = pd.DataFrame({
        "Record Id": [f"zcrm_5725767{i:09d}" for i in range(n)],
        "Created Time": [f"{13 + i % 15}/0{1 + i % 9}/2025 {12 - i % 12:02d}:49 "
                         f"{'PM' if i % 2 or i % 24 == 12 else 'AM'}" for i in range(n)],
        "Lead Source": [["Web Research", "Partner"][i % 2] for i in range(n)],
    })
    found = inspect([_write(tmp_path / "export" / "Leads.csv", frame)])
    assert {c.name: c.role for c in found.main.columns}["Created Time"] == \
        "timestamp (created_at)"
    store = tmp_path / "s.duckdb"
    ingest_paths([tmp_path / "export"], store, mapping=_drafted(tmp_path, found))
    with duckdb.connect(str(store), read_only=True) as con:
        got = dict(con.execute("SELECT lead_id, strftime(created_at, '%Y-%m-%d %H:%M') "
                               "FROM leads").fetchall())
    assert got["zcrm_5725767000000001"] == "2025-02-14 23:49"  # 11:49 PM
    assert got["zcrm_5725767000000000"] == "2025-01-13 00:49"  # 12:49 AM: just past midnight
    assert got["zcrm_5725767000000012"] == "2025-04-25 12:49"  # 12:49 PM: just past noon


def test_pipedrive_entity_prefixed_columns_are_drafted_as_the_lead_fields_they_name(tmp_path):
    # Pipedrive names every column "Entity - Field": its source, company size and e-mail were
    # drafted as plain attributes (the address ignored, its domain lost)
    n = 90
    frame = pd.DataFrame({
        "Deal - ID": [str(1000 + i) for i in range(n)],
        "Deal - Title": [f"{['Acme', 'Globex', 'Hooli', 'Initech'][i % 4]} deal" for i in range(n)],
        "Deal - Deal created": [f"2025-0{1 + i % 9}-01 10:00:00" for i in range(n)],
        "Deal - Source channel": [["Referral", "Paid search"][i % 2] for i in range(n)],
        "Person - Email": [f"p{i}@{['acme.com', 'gmail.com'][i % 2]}" for i in range(n)],
        "Organization - Number of employees": [str(5 + 40 * (i % 7)) for i in range(n)],
        "Deal - Status": [["won", "lost", "lost"][i % 3] for i in range(n)],
    })
    found = inspect([_write(tmp_path / "export" / "deals.csv", frame)], "Deal - Status", ["won"])
    roles = {c.name: c.role for c in found.main.columns}
    assert roles["Deal - Source channel"] == "fit (as source)"
    assert roles["Organization - Number of employees"] == "fit (as company_size)"
    assert roles["Person - Email"] == "fit (e-mail domain only)"
    assert roles["Deal - Title"] == "fit categorical"  # a deal's name, not a job title
    store = tmp_path / "s.duckdb"
    ingest_paths([tmp_path / "export"], store, mapping=_drafted(tmp_path, found))
    with duckdb.connect(str(store), read_only=True) as con:
        row = con.execute("SELECT source, company_size, email_domain FROM leads "
                          "WHERE lead_id = '1001'").fetchone()
    assert row == ("Paid search", "45", "gmail.com")


def test_zoho_and_dynamics_names_for_lead_fields_are_those_fields(tmp_path):
    from features.lead_fields import lead_field_for

    assert lead_field_for("Designation") == "title"  # Zoho
    assert lead_field_for("Created On") == "created_at"  # Dynamics 365
    assert lead_field_for("Created Time") == "created_at"  # Zoho
    assert lead_field_for("Person - Job title") == "title"
    assert lead_field_for("Organization - Name") is None
    assert lead_field_for("Deal - Industry") is None  # a deal has no industry of its own
    # Freshsales' lead export: "Industry type" was drafted a plain category, so the fit
    # features' industry (and the ICP match) never read it
    assert lead_field_for("Industry type") == "industry"


def test_an_email_opt_out_flag_is_named_like_a_post_contact_field(tmp_path):
    # Zoho's Email Opt Out (HubSpot's Unsubscribed, a Bounced flag) is set by the e-mails sent
    # after the lead arrived: it was drafted a fit feature
    n = 60
    frame = pd.DataFrame({
        "Record Id": [f"zcrm_{i:09d}" for i in range(n)],
        "Created Time": [f"2025-0{1 + i % 9}-01" for i in range(n)],
        "Email Opt Out": [["true", "false"][i % 2] for i in range(n)],
        "Unsubscribed from all email": [["true", "false"][i % 3 == 0] for i in range(n)],
        "Hard Bounced": [["0", "1"][i % 4 == 0] for i in range(n)],
    })
    found = inspect([_write(tmp_path / "Leads.csv", frame)])
    roles = {c.name: c.role for c in found.main.columns}
    for name in ("Email Opt Out", "Unsubscribed from all email", "Hard Bounced"):
        assert roles[name] == "post_outcome (leak suspect)", name


def test_a_day_first_date_and_time_in_the_file_name_is_patterned_for_the_next_export(tmp_path):
    # Dynamics 365 names its Excel export "My Open Leads 30-11-2026 14-05-00.xlsx": the draft's
    # path named today's file only, so next month's export was "not given"
    n = 60
    frame = pd.DataFrame({"Lead": [f"6f1c2b7e-0000-4000-8000-{i:012d}" for i in range(n)],
                          "Created On": [f"{1 + i % 28:02d}/10/2026 14:05" for i in range(n)]})
    frame.to_excel(tmp_path / "My Open Leads 30-11-2026 14-05-00.xlsx", index=False)
    text = draft(inspect([tmp_path / "My Open Leads 30-11-2026 14-05-00.xlsx"]))
    assert 'path: "My Open Leads *.xlsx"  # matches the next export too' in text
    assert "name: my open leads\n" in text


def test_the_date_in_a_snapshots_file_name_is_drafted_as_the_day_it_was_taken(tmp_path):
    # Zoho's Leads_2025_11_30.csv was taken that day, weeks after its last record: without
    # exported_at the review cut the store's evidence at the last record and left the newest
    # leads unlabelled, and the draft never said so
    n = 60
    frame = pd.DataFrame({"Record Id": [f"zcrm_{i:09d}" for i in range(n)],
                          "Created Time": [f"2025-{1 + i % 10:02d}-01" for i in range(n)],
                          "Source": [["Web", "Partner"][i % 2] for i in range(n)]})
    export = tmp_path / "export"
    found = inspect([_write(export / "Leads_2025_11_30.csv", frame)])
    text = draft(found)
    assert "exported_at: from_file_name  # each export's day, the date in its file's name " \
        "(2025-11-30 in Leads_2025_11_30.csv): check it" in text
    store = tmp_path / "s.duckdb"
    ingest_paths([export], store, mapping=_drafted(tmp_path, found))
    with duckdb.connect(str(store), read_only=True) as con:
        assert "2025-11-30" in str(con.execute("SELECT * FROM store_metadata").fetchall())
    for name in ("Leads_05-06-2025.csv",  # May or June: not drafted
                 "Leads_2025_08_31.csv"):  # before leads it holds: not the day it was taken
        other = tmp_path / name.removesuffix(".csv")
        assert "exported_at" not in draft(inspect([_write(other / name, frame)]))


def test_a_logs_names_for_the_contracts_activity_types_are_drafted_as_those_types(tmp_path):
    # Marketo logs "Visit Webpage", "Click Email", "Attend Event": read as written every one
    # counted only as "other activity", and the draft said nothing
    n = 60
    leads = pd.DataFrame({"Id": [str(700000 + i) for i in range(n)],
                          "Created At": [f"2025-0{1 + i % 9}-01T10:00:00Z" for i in range(n)],
                          "Lead Status": [["SQL", "New", "Nurture"][i % 3] for i in range(n)]})
    kinds = ["Visit Webpage", "Click Email", "Attend Event", "Fill Out Form", "Change Score"]
    log = pd.DataFrame({"Lead ID": [str(700000 + i % n) for i in range(4 * n)],
                        "Activity Type": [kinds[i % 5] for i in range(4 * n)],
                        "Activity Date": [f"2025-0{1 + i % 9}-0{1 + i % 8} 09:00:00"
                                          for i in range(4 * n)]})
    export = tmp_path / "export"
    _write(export / "leads.csv", leads)
    _write(export / "activities.csv", log)
    found = inspect([export], "Lead Status", ["SQL"])
    text = draft(found)
    assert ("Activity Type: {as: activity_type, replace: {Visit Webpage: page_view, Click Email: "
            "email_click, Attend Event: webinar_attended}}  # Fill Out Form, Change Score count "
            "only together, as other activity") in text
    store = tmp_path / "s.duckdb"
    ingest_paths([export], store, mapping=_drafted(tmp_path, found))
    with duckdb.connect(str(store), read_only=True) as con:
        types = {t for (t,) in con.execute("SELECT DISTINCT activity_type FROM activities")
                 .fetchall()}
    assert types == {"page_view", "email_click", "webinar_attended", "fill_out_form",
                     "change_score"}


def test_dates_with_the_months_name_are_profiled_and_read_as_dates(tmp_path):
    # Zoho's default "Jul 19, 2025 03:38 PM" profiled as text: the draft found no creation date
    # (leads spread by id order instead), and ingest could not read it either
    n = 60
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep"]
    frame = pd.DataFrame({
        "Record Id": [f"zcrm_{i:09d}" for i in range(n)],
        "Created Time": [f"{months[i % 9]} {1 + i % 28:02d}, 2025 {12 - i % 12:02d}:38 "
                         f"{'PM' if i % 2 else 'AM'}" for i in range(n)],
        "Next Call": [f"{1 + i % 28} {months[i % 9]} 2026" for i in range(n)],
        "Lead Source": [["Web", "Partner"][i % 2] for i in range(n)],
    })
    found = inspect([_write(tmp_path / "export" / "Leads.csv", frame)])
    kinds = {c.name: (c.kind, c.role) for c in found.main.columns}
    assert kinds["Created Time"] == ("date", "timestamp (created_at)")
    assert kinds["Next Call"][0] == "date"
    store = tmp_path / "s.duckdb"
    ingest_paths([tmp_path / "export"], store, mapping=_drafted(tmp_path, found))
    with duckdb.connect(str(store), read_only=True) as con:
        got = dict(con.execute("SELECT lead_id, strftime(created_at, '%Y-%m-%d %H:%M') "
                               "FROM leads").fetchall())
    assert got["zcrm_000000000"] == "2025-01-01 00:38"
    assert got["zcrm_000000001"] == "2025-02-02 23:38"


def test_a_count_of_a_deals_logged_activities_is_named_like_a_post_contact_field(tmp_path):
    # Pipedrive's Total activities, Done activities and Email messages count count the sales
    # team's own calls and e-mails, mostly after contact: drafted fit features, they ranked 3rd
    n = 60
    frame = pd.DataFrame({
        "Deal - ID": [str(1000 + i) for i in range(n)],
        "Deal - Deal created": [f"2025-0{1 + i % 9}-01 10:00:00" for i in range(n)],
        "Deal - Total activities": [str(i % 7) for i in range(n)],
        "Deal - Done activities": [str(i % 5) for i in range(n)],
        "Deal - Email messages count": [str(i % 4) for i in range(n)],
        "Number of Pageviews": [str(i % 9) for i in range(n)],
    })
    found = inspect([_write(tmp_path / "deals.csv", frame)])
    roles = {c.name: c.role for c in found.main.columns}
    for name in ("Deal - Total activities", "Deal - Done activities",
                 "Deal - Email messages count"):
        assert roles[name] == "post_outcome (leak suspect)", name
    assert roles["Number of Pageviews"] == "intent numeric"  # what the lead did stays intent


def test_a_form_choice_named_update_is_no_leak_and_an_update_time_never_dates_the_lead(tmp_path):
    # 0485a1a made "update" a post-contact word: X Education's "Update me on Supply Chain
    # Content" (a form's yes/no) became a leak suspect. A date of the last update is still
    # never the creation date.
    n = 60
    frame = pd.DataFrame({
        "Lead Number": [str(600000 + i) for i in range(n)],
        "Deal - Update time": [f"2026-0{1 + i % 9}-20 10:00:00" for i in range(n)],
        "Signup date": [f"2025-0{1 + i % 9}-01" for i in range(n)],
        "Update me on Supply Chain Content": [["No", "Yes"][i % 9 == 0] for i in range(n)],
    })
    found = inspect([_write(tmp_path / "leads.csv", frame)])
    columns = {c.name: c for c in found.main.columns}
    assert columns["Signup date"].role == "timestamp (created_at)"
    assert columns["Deal - Update time"].role == "ignore (another date)"
    assert not columns["Update me on Supply Chain Content"].leaks


def test_a_salesforce_reports_file_name_is_patterned_by_its_export_time(tmp_path):
    # Salesforce names a report's CSV report<export time in ms>.csv: the draft's path was
    # report1764498000000.csv, so next week's report1765103000000.csv was "a file the mapping
    # names that is not given", and the day the report was taken went unsaid
    n = 60
    frame = pd.DataFrame({"Create Date": [f"{1 + i % 10:02d}/15/2025" for i in range(n)],
                          "Lead Source": [["Web", "Partner"][i % 2] for i in range(n)],
                          "Converted": [str(i % 3 == 0) for i in range(n)]})
    found = inspect([_write(tmp_path / "w1" / "report1764498000000.csv", frame)])
    text = draft(found)
    assert '    path: "report*.csv"  # matches the next export too' in text
    assert "(2025-11-30 in report1764498000000.csv)" in text
    store = tmp_path / "s.duckdb"
    mapping = _drafted(tmp_path, found)
    ingest_paths([tmp_path / "w1"], store, mapping=mapping)
    ingest_paths([_write(tmp_path / "w2" / "report1765103000000.csv", frame)], store,
                 mapping=mapping)
    with duckdb.connect(str(store), read_only=True) as con:
        assert "2025-12-07" in str(con.execute("SELECT * FROM store_metadata").fetchall())


def _marketo(folder: Path, mql: bool = False) -> Path:
    n = 60
    created = pd.date_range("2025-10-01 09:00", periods=n, freq="1D")
    leads = pd.DataFrame({"Id": [str(100200 + 3 * i) for i in range(n)],
                          "Created At": created.strftime("%Y-%m-%d %H:%M:%S"),
                          "Lead Source": [["Website", "Webinar"][i % 2] for i in range(n)],
                          "Lead Status": [["SQL", "Disqualified", "Nurture"][i % 3]
                                          for i in range(n)]})
    if mql:
        leads["MQL Date"] = (created + pd.Timedelta(days=9)).strftime("%Y-%m-%d %H:%M:%S")
    _write(folder / "Lead List 2026-11-30.csv", leads)
    events = pd.DataFrame({
        "Activity Date": [(created[i // 4] + pd.Timedelta(hours=2 + 30 * (i % 4))).isoformat()
                          for i in range(4 * n)],
        "Activity Type": [["Visit Webpage", "Fill Out Form", "Click Email", "Open Email"][i % 4]
                          for i in range(4 * n)],
        "Lead ID": [str(100200 + 3 * (i // 4)) for i in range(4 * n)],
        "Primary Attribute Value": [
            ["www.acme.com/pricing", "Request a Demo.Form", "Nurture 3.Email",
             "Newsletter.Email"][i % 4] if i % 8 < 4 else
            ["www.acme.com/blog", "Newsletter Signup.Form", "Nurture 3.Email",
             "Newsletter.Email"][i % 4] for i in range(4 * n)]})
    _write(folder / "Activity Log 2026-11-30.csv", events)
    return folder


def test_an_activity_log_dated_after_every_leads_scoring_moment_is_said_to_teach_nothing(
        tmp_path):
    # a Marketo lead list (no MQL date) beside its activity log: leads are scored at creation
    # and features count only what came before, so every event was passed over by the model in
    # silence ("share of the score: fit 100%, intent 0%")
    found = inspect([_marketo(tmp_path / "m")], "Lead Status", ["SQL"])
    said = ("Activity Log 2026-11-30.csv: 240 of its 240 events (100%) come after their lead's "
            "Created At, the moment a lead is scored where no MQL date is mapped, and features "
            "count only what came before it: the model learns nothing from them; if the export "
            "holds the day each lead became an MQL (or was handed to sales), map that column "
            "{role: timestamp, as: mql_at}, so that each lead is scored then")
    assert said in found.text
    assert f"    # {said}" in draft(found)
    # with the MQL moment mapped, the events before it count: nothing to say
    found = inspect([_marketo(tmp_path / "q", mql=True)], "Lead Status", ["SQL"])
    assert "MQL Date: {role: timestamp, as: mql_at}" in draft(found)
    assert "the model learns nothing from them" not in found.text


def test_a_logs_page_or_form_names_the_type_of_a_visit_or_a_form_fill(tmp_path):
    # Marketo logs a pricing-page view as "Visit Webpage" with the page in Primary Attribute
    # Value, and a demo request as "Fill Out Form" with the form's name there: the draft read
    # every visit as page_view and every form fill as other activity, and a mapping had no way
    # to say otherwise, so the log's two strongest intent signals were lost
    export = _marketo(tmp_path / "m", mql=True)
    found = inspect([export], "Lead Status", ["SQL"])
    text = draft(found)
    line = next(x for x in text.splitlines() if x.startswith("      Activity Type: "))
    assert ('replace_by: {Primary Attribute Value: {"*pricing*": pricing_view, '
            '"*demo*": demo_request}}') in line
    store = tmp_path / "s.duckdb"
    ingest_paths([export], store, mapping=_drafted(tmp_path, found))
    with duckdb.connect(str(store), read_only=True) as con:
        types = dict(con.execute("SELECT activity_type, count(*) FROM activities "
                                 "GROUP BY 1").fetchall())
    assert types == {"pricing_view": 30, "page_view": 30, "demo_request": 30,
                     "fill_out_form": 30, "email_click": 60, "open_email": 60}


def test_replace_by_naming_no_column_of_the_file_is_one_sentence(tmp_path):
    import pytest

    from leadscore.errors import LeadscoreError
    export = _marketo(tmp_path / "m", mql=True)
    mapping = _drafted(tmp_path, inspect([export], "Lead Status", ["SQL"]))
    mapping.write_text(mapping.read_text().replace("replace_by: {Primary Attribute Value:",
                                                   "replace_by: {Page:"))
    with pytest.raises(LeadscoreError, match="column 'Activity Type' replace_by names 'Page', "
                                             "which is not a column of this file; declare it"):
        ingest_paths([export], tmp_path / "s.duckdb", mapping=mapping)
