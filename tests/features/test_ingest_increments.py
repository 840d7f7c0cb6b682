"""What an export leaves out: activities of leads it does not hold, verdicts it shows for the
first time on leads an earlier export listed without them, and leads a full export no longer
holds. Real ingests of tiny inline exports into real DuckDB stores."""

from __future__ import annotations

from pathlib import Path

import duckdb

from features.ingest import ingest_paths


def _stored(store: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute(sql).fetchall()


ORPHANS = """\
leadscore_mapping: 2
name: orphans
version: 1
files:
  leads:
    path: leads.csv
    kind: main
    columns: {Id: id, Created: {role: timestamp, as: created_at},
              Source: {role: fit, kind: categorical, as: source}}
  events:
    path: events.csv
    kind: activities
    key: Lead
    columns: {Lead: key, At: {as: occurred_at}, Type: {as: activity_type}}
"""


def test_activities_of_leads_neither_stored_nor_exported_are_passed_over_and_counted(tmp_path):
    # an activity log exported whole names leads the leads export does not hold: the batch
    # failed ("lead '9' is neither in the store nor in this batch"), or such rows went uncounted
    mapping = tmp_path / "m.yaml"
    mapping.write_text(ORPHANS)
    export = tmp_path / "export"
    export.mkdir()
    (export / "leads.csv").write_text("Id,Created,Source\n1,2026-01-05,Web\n2,2026-01-06,Ads\n")
    (export / "events.csv").write_text(
        "Lead,At,Type\n1,2026-01-07,page_view\n9,2026-01-07,page_view\n9,2026-01-08,demo_request\n"
        "8,2026-01-08,page_view\n2,2026-01-09,page_view\n")
    store = tmp_path / "s.duckdb"
    report = ingest_paths([export], store, mapping=mapping)
    assert _stored(store, "SELECT lead_id FROM activities ORDER BY 1") == [("1",), ("2",)]
    assert report.tables["activities"].new == 2
    assert report.tables["activities"].duplicates == 0
    assert ("events.csv: 3 activity rows name 2 leads neither in the store nor in this export, "
            "passed over: '9' (2 rows), '8' (1 row); to keep them, ingest the export that holds "
            "those leads (or add them to the leads file), then this one again") in report.notes
    # the leads brought in, the same activity log again adds exactly those rows
    (export / "leads.csv").write_text("Id,Created,Source\n1,2026-01-05,Web\n2,2026-01-06,Ads\n"
                                      "8,2026-01-06,Ads\n9,2026-01-06,Web\n")
    again = ingest_paths([export], store, mapping=mapping)
    assert again.tables["activities"].new == 3
    assert not any("passed over" in n for n in again.notes)


WEEKLY = """\
leadscore_mapping: 2
name: weekly
version: 1
exported_at: from_file_name
files:
  leads:
    path: "leads-*.csv"
    kind: main
    columns:
      Id: id
      Created: {role: timestamp, as: created_at}
      Status: {role: disposition_reason, after_days: 2, values: {
        Open: none,
        Booked: {status: meeting_booked, reason_code: meeting_booked},
        Lost: {status: rejected, reason_code: no_budget}}}
      Won: {role: outcome, after_days: 3, values: {"yes": closed_won, "no": none}}
"""


def _week(tmp_path: Path, day: str, rows: str) -> Path:
    path = tmp_path / day / f"leads-{day}.csv"
    path.parent.mkdir()
    path.write_text("Id,Created,Status,Won\n" + rows)
    return path


def _verdicts(store: Path) -> list[tuple]:
    return _stored(store, """
        SELECT lead_id, strftime(dispositioned_at, '%Y-%m-%d'), status FROM dispositions
        UNION ALL SELECT lead_id, strftime(occurred_at, '%Y-%m-%d'), stage FROM outcomes
        ORDER BY ALL""")


def test_a_verdict_first_shown_weeks_after_its_lead_is_dated_by_the_export_that_shows_it(tmp_path):
    # weekly exports dating verdicts created_at + after_days: lead 1 (created 2026-01-05) is
    # open in week 1's..week 4's exports and booked in week 5's; its meeting was stored on
    # 2026-01-07, so a review or backtest as of week 2 learned an outcome nobody knew then
    mapping = tmp_path / "m.yaml"
    mapping.write_text(WEEKLY)
    store = tmp_path / "s.duckdb"
    first = "1,2026-01-05,Open,no\n2,2026-01-06,Lost,no\n"
    for day in ("2026-02-01", "2026-02-08", "2026-02-15", "2026-02-22"):
        ingest_paths([_week(tmp_path, day, first)], store, mapping=mapping)
    week5 = _week(tmp_path, "2026-03-01", "1,2026-01-05,Booked,yes\n2,2026-01-06,Lost,no\n"
                                          "3,2026-02-25,Booked,yes\n")
    report = ingest_paths([week5], store, mapping=mapping)
    assert _verdicts(store) == [
        ("1", "2026-03-01", "closed_won"), ("1", "2026-03-01", "meeting_booked"),
        ("2", "2026-01-08", "rejected"),  # in the lead's first export: created_at + after_days
        ("3", "2026-02-27", "meeting_booked"), ("3", "2026-02-28", "closed_won")]
    assert ("1 verdict and 1 outcome dated by the mapping (after_days) first appear in this "
            "export for a lead an earlier export listed without them: dated 2026-03-01, the day "
            "this export was taken, not created_at + after_days, as nobody could know them "
            "earlier") in report.notes
    # the same export again, and next week's showing the verdict still: nothing moves
    again = ingest_paths([week5], store, mapping=mapping)
    later = ingest_paths([_week(tmp_path, "2026-03-08", "1,2026-01-05,Booked,yes\n")], store,
                         mapping=mapping)
    for batch in (again, later):
        assert batch.tables["dispositions"].new == batch.tables["dispositions"].updated == 0
        assert batch.tables["outcomes"].new == batch.tables["outcomes"].updated == 0
        assert not any("first appear" in n or "lack" in n for n in batch.notes)
    assert len(_verdicts(store)) == 5


def test_without_an_export_date_a_new_verdict_is_dated_by_the_latest_record(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text(WEEKLY.replace("exported_at: from_file_name\n", ""))
    store = tmp_path / "s.duckdb"
    ingest_paths([_week(tmp_path, "2026-02-01", "1,2026-01-05,Open,no\n2,2026-01-06,Lost,no\n")],
                 store, mapping=mapping)
    report = ingest_paths([_week(tmp_path, "2026-03-01", "1,2026-01-05,Booked,no\n"
                                                         "3,2026-02-25 09:30,Open,no\n")],
                          store, mapping=mapping)
    assert _verdicts(store) == [("1", "2026-02-25", "meeting_booked"),
                                ("2", "2026-01-08", "rejected")]
    assert ("1 verdict dated by the mapping (after_days) first appears in this export for a lead "
            "an earlier export listed without it: dated 2026-02-25 09:30, the latest moment the "
            "store and this export record (declare the day the export was taken with "
            "exported_at: or --exported-at to date it by that day), not created_at + after_days, "
            "as nobody could know it earlier") in report.notes



def test_a_record_dated_after_the_clock_dates_no_new_verdict(tmp_path):
    # a typo'd year on a lead of the same export (2062) was "the latest moment the export
    # records": the new verdict was dated in 2062, out of every review's reach
    mapping = tmp_path / "m.yaml"
    mapping.write_text(WEEKLY.replace("exported_at: from_file_name\n", ""))
    store = tmp_path / "s.duckdb"
    ingest_paths([_week(tmp_path, "2026-02-01", "1,2026-01-05,Open,no\n")], store,
                 mapping=mapping)
    ingest_paths([_week(tmp_path, "2026-03-01", "1,2026-01-05,Booked,no\n"
                                                "3,2026-02-25 09:30,Open,no\n"
                                                "4,2062-02-26,Open,no\n")],
                 store, mapping=mapping)
    assert ("1", "2026-02-25", "meeting_booked") in _verdicts(store)

def test_a_verdict_dated_so_stays_when_its_lead_is_created_on_another_day(tmp_path):
    # ingest_gone.redated moves a verdict dated created_at + after_days with a new creation
    # date; one dated by the export that first showed it stays where it is
    mapping = tmp_path / "m.yaml"
    mapping.write_text(WEEKLY)
    store = tmp_path / "s.duckdb"
    ingest_paths([_week(tmp_path, "2026-02-01", "1,2026-01-05,Open,no\n")], store,
                 mapping=mapping)
    ingest_paths([_week(tmp_path, "2026-03-01", "1,2026-01-05,Booked,no\n")], store,
                 mapping=mapping)
    report = ingest_paths([_week(tmp_path, "2026-03-08", "1,2026-01-09,Booked,no\n")], store,
                          mapping=mapping)
    assert _verdicts(store) == [("1", "2026-03-01", "meeting_booked")]
    assert not any("moved" in n or "first appear" in n for n in report.notes)


def test_a_verdict_dated_by_the_mapping_comes_no_earlier_than_the_leads_mql_moment(tmp_path):
    # a HubSpot export inspected without --outcome-date: its draft dates the lifecycle stage
    # created_at + 0 days and the lead's scoring moment by "Became a Marketing Qualified Lead
    # Date"; every SQL then came before its lead was scoreable, and labels dropped them as
    # converted before scoreable (1,051 SQLs read as 8 booked meetings)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "leadscore_mapping: 2\nname: hs\nversion: 1\nfiles:\n  contacts:\n    path: c.csv\n"
        "    kind: main\n    columns:\n      Record ID: id\n"
        "      Create Date: {role: timestamp, as: created_at}\n"
        "      MQL Date: {role: timestamp, as: mql_at}\n"
        "      Lifecycle Stage: {role: outcome, after_days: 0, values: {Lead: none, "
        "Sales Qualified Lead: sql}}\n")
    export = tmp_path / "c.csv"
    export.write_text("Record ID,Create Date,MQL Date,Lifecycle Stage\n"
                      "1,2024-03-05 14:22,2024-03-08 09:00,Sales Qualified Lead\n"
                      "2,2024-03-06 10:00,,Sales Qualified Lead\n3,2024-03-06 11:00,,Lead\n")
    store = tmp_path / "s.duckdb"
    ingest_paths([export], store, mapping=mapping)
    assert _stored(store, "SELECT lead_id, strftime(occurred_at, '%Y-%m-%d %H:%M') FROM outcomes "
                          "ORDER BY 1") == [("1", "2024-03-08 09:00"), ("2", "2024-03-06 10:00")]
