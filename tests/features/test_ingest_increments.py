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
