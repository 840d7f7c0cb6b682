"""created_at for an export without dates (features/created_order.py): spread in the rows' order,
within the month a column names where one does (a bank's call list)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from features.ingest import ingest_paths
from features.inspect import inspect
from features.inspect_draft import draft
from leadscore.errors import LeadscoreError
from tests.features.test_mapping import query, write

# six calls in May 2008, one each in Jun, Nov and Dec 2008, then Mar 2009 (no Jan, Feb): an even
# spread over May 2008 .. Mar 2009 would date most of May's calls in the summer
CALLS = "seq;month;job;y\n" + "".join(
    f"{i};{m};admin.;{'yes' if i % 3 == 0 else 'no'}\n"
    for i, m in enumerate(["may"] * 6 + ["jun", "Nov", "dec", "mar"], start=1))

MAPPING = """\
leadscore_mapping: 2
name: calls
version: 1
created_at: {from_order: seq, start: "2008-05-05", end: "2009-03-31"%s}
files:
  calls:
    path: calls.csv
    kind: main
    delimiter: ";"
    columns:
      seq: id
      month: {role: fit, kind: categorical}
      job: {role: fit, kind: categorical}
      y: {role: outcome, after_days: 0, values: {"yes": closed_won, "no": none}}
"""


def _ingest(tmp_path: Path, calls: str, month: str = ", month: month") -> Path:
    mapping = write(tmp_path / "calls.yaml", MAPPING % month)
    store = tmp_path / "store.duckdb"
    ingest_paths([write(tmp_path / "calls.csv", calls)], store, mapping)
    return store


def test_each_row_is_dated_in_the_month_it_names_and_the_year_turns_where_months_go_back(
        tmp_path):
    store = _ingest(tmp_path, CALLS)
    created = dict(query(store, "SELECT CAST(lead_id AS INTEGER), created_at FROM leads"))
    months = [(created[i].year, created[i].month) for i in range(1, 11)]
    assert months == [(2008, 5)] * 6 + [(2008, 6), (2008, 11), (2008, 12), (2009, 3)]
    assert created[1] == datetime(2008, 5, 5)  # the period's start, not the month's first day
    assert [created[i] for i in range(1, 7)] == sorted(created[i] for i in range(1, 7))


def test_without_month_the_rows_are_spread_evenly_and_misdated(tmp_path):
    store = _ingest(tmp_path, CALLS, month="")
    created = dict(query(store, "SELECT CAST(lead_id AS INTEGER), created_at FROM leads"))
    assert created[6].month != 5  # what month: fixes


@pytest.mark.parametrize(("calls", "expected"), [
    (CALLS.replace("10;mar", "10;marzo"), "some rows name no month (jan..dec, january..december "
                                          "or 1-12): 'marzo' (1 row)"),
    (CALLS.replace("7;jun", "7;apr"), "goes back 2 times, so the last rows fall in 2010-03, "
                                      "after created_at.end 2009-03-31"),
    (CALLS.replace("1;may", "1;apr"), "the first rows name April, which comes before "
                                      "created_at.start 2008-05-05"),
])
def test_a_month_that_cannot_be_read_or_falls_outside_the_period_is_one_sentence(
        tmp_path, calls, expected):
    with pytest.raises(LeadscoreError) as caught:
        _ingest(tmp_path, calls)
    assert expected in str(caught.value) and not (tmp_path / "store.duckdb").exists()


def test_inspect_drafts_the_month_column_of_an_export_without_dates(tmp_path):
    # no id column either: rows are numbered, and the month column dates them
    calls = write(tmp_path / "calls.csv",
                  "".join(line.split(";", 1)[1] + "\n" for line in CALLS.splitlines()))
    text = draft(inspect([calls], outcome="y", positive=["yes"]))
    assert ('created_at: {from_order: row number, start: "YYYY-MM-DD", end: "YYYY-MM-DD", '
            "month: month}") in text
    mapping = write(tmp_path / "calls.yaml", text.replace(
        'start: "YYYY-MM-DD", end: "YYYY-MM-DD"', 'start: "2008-05-01", end: "2009-03-31"'))
    store = tmp_path / "store.duckdb"
    ingest_paths([calls], store, mapping)
    assert query(store, "SELECT strftime(created_at, '%Y-%m') FROM leads WHERE lead_id = '10'"
                 ) == [("2009-03",)]


def test_the_ingest_report_says_how_the_leads_were_dated(tmp_path):
    mapping = write(tmp_path / "calls.yaml", MAPPING % ", month: month")
    report = ingest_paths([write(tmp_path / "calls.csv", CALLS)], tmp_path / "s.duckdb", mapping)
    assert ("calls.csv: no creation date: leads dated by the mapping, spread over "
            "2008-05-05..2009-03-31 in the order of seq, each within the month month names"
            ) in report.notes
