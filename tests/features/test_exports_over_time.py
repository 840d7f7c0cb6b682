"""Exports over time: the same CRM exported week after week into one store.

Real ingests into real DuckDB stores of tiny inline exports, as a data scientist runs them every
review cycle: the mapping inspect drafted from the first export ingests the next ones, each
export's day is its own, and an older export ingested late never overwrites newer rows.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from features.ingest import ingest_paths
from features.inspect import inspect
from features.inspect_draft import draft
from leadscore.errors import LeadscoreError


def _export(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["Record ID", "Create Date", "Original Source", "Lead Status"]
                 ).to_csv(path, index=False)
    return path


WEEK1 = [(str(100 + i), f"2026-01-{5 + i % 20:02d} 10:00", ["Web", "Referral"][i % 2],
          ["Open", "Meeting Booked", "Unqualified"][i % 3]) for i in range(60)]


def _stored(store: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute(sql).fetchall()


def _mapping(tmp_path: Path, first: Path) -> Path:
    text = draft(inspect([first], "Lead Status", ["Meeting Booked"]))
    mapping = tmp_path / "contacts.yaml"
    mapping.write_text(text)
    return mapping


def _first_week_ingested(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Week 1's export, the mapping inspect drafts from it, and a store it was ingested into."""
    first = _export(tmp_path / "w1" / "contacts-2026-02-02.csv", WEEK1)
    mapping = _mapping(tmp_path, first)
    store = tmp_path / "s.duckdb"
    ingest_paths([first], store, mapping=mapping)
    return first, mapping, store


def test_each_weekly_export_is_declared_taken_on_the_day_its_file_name_says(tmp_path):
    # the draft's path matched every week's file, but its exported_at was the first file's day:
    # the next week's export then failed ("declared taken on 2026-02-02, but it records something
    # on 2026-02-08"), or, with records older than that day, was silently declared taken then
    first = _export(tmp_path / "w1" / "contacts-2026-02-02.csv", WEEK1)
    mapping = _mapping(tmp_path, first)
    assert "exported_at: from_file_name" in mapping.read_text()
    store = tmp_path / "s.duckdb"
    ingest_paths([first], store, mapping=mapping)
    assert _stored(store, "SELECT value FROM store_metadata") == [("2026-02-02",)]
    week2 = [*WEEK1, ("200", "2026-02-08 09:00", "Web", "Open")]
    report = ingest_paths([_export(tmp_path / "w2" / "contacts-2026-02-09.csv", week2)], store,
                          mapping=mapping)
    assert report.tables["leads"].new == 1
    assert "export date 2026-02-09 declared" in "\n".join(report.notes)
    assert _stored(store, "SELECT value FROM store_metadata") == [("2026-02-09",)]


def test_a_file_name_without_a_date_is_one_sentence_and_writes_nothing(tmp_path):
    first = _export(tmp_path / "w1" / "contacts-2026-02-02.csv", WEEK1)
    mapping = _mapping(tmp_path, first)
    mapping.write_text(mapping.read_text().replace('"contacts-*.csv"', '"contacts*.csv"'))
    store = tmp_path / "s.duckdb"
    ingest_paths([first], store, mapping=mapping)
    undated = _export(tmp_path / "w2" / "contacts.csv", [*WEEK1, ("200", "2026-02-08", "Web",
                                                                   "Open")])
    with pytest.raises(LeadscoreError) as err:
        ingest_paths([undated], store, mapping=mapping)
    assert str(err.value) == (
        f"Mapping {mapping}: exported_at: from_file_name, but the name of contacts.csv holds no "
        "date that reads one way (year first like contacts-2026-02-09.csv, or a day above 12): "
        "rename the file with the day the export was taken, or give it with --exported-at "
        "YYYY-MM-DD, and re-run.")
    assert _stored(store, "SELECT count(*) FROM leads") == [(60,)]


def test_an_older_export_ingested_after_a_newer_one_keeps_the_newer_rows(tmp_path):
    # exported_at going backwards: the store kept its later export date, but every lead row of
    # the older export replaced the newer one, so a source corrected in the CRM went back
    first = _export(tmp_path / "w1" / "contacts-2026-02-02.csv", WEEK1)
    mapping = _mapping(tmp_path, first)
    store = tmp_path / "s.duckdb"
    newer = [("100", "2026-01-05 10:00", "Partner", "Meeting Booked"), *WEEK1[1:],
             ("200", "2026-02-08 09:00", "Web", "Open")]
    ingest_paths([_export(tmp_path / "w2" / "contacts-2026-02-09.csv", newer)], store,
                 mapping=mapping)
    older = [*WEEK1, ("300", "2026-01-30 09:00", "Events", "Open")]  # 300: deleted since
    report = ingest_paths([first.parent], store, mapping=mapping)
    ingest_paths([_export(tmp_path / "w0" / "contacts-2026-02-01.csv", older)], store,
                 mapping=mapping)
    assert _stored(store, "SELECT source FROM leads WHERE lead_id = '100'") == [("Partner",)]
    assert _stored(store, "SELECT count(*) FROM leads") == [(62,)]  # 300 added: it was new
    assert report.tables["leads"].updated == 0 and report.tables["leads"].new == 0
    assert ("this export (taken 2026-02-02) is older than the store's (2026-02-09): 1 row of "
            "leads that differs from the stored one kept the stored, newer values; only rows "
            "the store did not hold were added") in report.notes
    # an older export lacks what happened since: no outcome "taken back" (lead 100's meeting)
    assert not any("lacks" in n or "lack" in n for n in report.notes)
    assert _stored(store, "SELECT value FROM store_metadata") == [("2026-02-09",)]


def test_a_column_renamed_between_exports_is_named_with_its_old_name_in_one_sentence(tmp_path):
    # next week "Original Source" is "Source": the error named only the new column and said to
    # give it a role; done so, the next run failed on the missing old one
    first, mapping, store = _first_week_ingested(tmp_path)
    renamed = tmp_path / "w2" / "contacts-2026-02-09.csv"
    renamed.parent.mkdir()
    pd.read_csv(first, dtype=str).rename(columns={"Original Source": "Source"}).to_csv(
        renamed, index=False)
    with pytest.raises(LeadscoreError) as err:
        ingest_paths([renamed], store, mapping=mapping)
    assert str(err.value) == (
        f"contacts-2026-02-09.csv has column(s) file 'contacts' of the mapping {mapping} does not "
        "declare ('Source') and lacks column(s) it declares ('Original Source'): if the CRM "
        "renamed them, rename them under columns: in the mapping (their roles stay), else give "
        "each new column a role (ignore if unused) and remove the missing ones; then re-run.")
    assert _stored(store, "SELECT count(*) FROM ingest_log") == [(1,)]


def test_a_flat_mapping_names_a_renamed_column_with_its_old_name(tmp_path):
    mapping = tmp_path / "flat.yaml"
    mapping.write_text(
        "name: flat\nversion: 1\ncolumns:\n  Id: id\n  Created: timestamp\n"
        "  Source: {role: fit, kind: categorical, as: source}\n")
    export = tmp_path / "leads.csv"
    export.write_text("Id,Created,Lead Source\n1,2026-01-02,Web\n")
    with pytest.raises(LeadscoreError) as err:
        ingest_paths([export], tmp_path / "s.duckdb", mapping=mapping)
    assert str(err.value) == (
        f"leads.csv has column(s) the mapping {mapping} does not declare ('Lead Source') and lacks "
        "column(s) it declares ('Source'): if the CRM renamed them, rename them under columns: in "
        "the mapping (their roles stay), else give each new column a role (ignore if unused) and "
        "remove the missing ones; then re-run.")
    assert not (tmp_path / "s.duckdb").exists()


def test_a_verdict_taken_back_in_a_later_export_is_kept_and_said(tmp_path):
    # week 2 shows lead 101 "Unqualified" where week 1 had "Meeting Booked": the store kept the
    # sql outcome (a stage once reached stays reached) and the report said nothing
    first, mapping, store = _first_week_ingested(tmp_path)
    assert WEEK1[1][0] == "101" and WEEK1[1][3] == "Meeting Booked"
    week2 = [("101", WEEK1[1][1], "Referral", "Unqualified"), ("200", "2026-02-08", "Web", "Open")]
    report = ingest_paths([_export(tmp_path / "w2" / "contacts-2026-02-09.csv", week2)], store,
                          mapping=mapping)
    assert ("1 lead of this export lacks an outcome the store holds for it (sql: 1): "
            "kept, as a stage once reached stays reached, so labels still count it") \
        in report.notes
    assert _stored(store, "SELECT stage FROM outcomes WHERE lead_id = '101'") == [("sql",)]
    again = ingest_paths([first], store, mapping=mapping)  # week 1 again: nothing taken back
    assert not any("lacks an outcome" in n for n in again.notes)


def test_a_category_respelled_between_exports_is_said_with_the_replace_that_undoes_it(tmp_path):
    # next week the CRM writes "Website" for "Web": the leads listed again were updated to a
    # category the model never saw and the report only counted them as updated
    first, mapping, store = _first_week_ingested(tmp_path)
    week2 = [(i, c, "Website" if s == "Web" else s, v) for i, c, s, v in WEEK1[:20]]
    report = ingest_paths([_export(tmp_path / "w2" / "contacts-2026-02-09.csv", week2)], store,
                          mapping=mapping)
    assert report.tables["leads"].updated == 10
    assert ("Original Source: 'Web' reads 'Website' in this export on all 10 of its leads that "
            "had it, a value the store never held: if it is the same value respelled, add "
            "replace: {\"Website\": \"Web\"} to the column in the mapping (v2) and ingest this "
            "export again") in report.notes
    moved = [(i, c, "Web" if s == "Referral" else s, v) for i, c, s, v in WEEK1[20:40]]
    again = ingest_paths([_export(tmp_path / "w3" / "contacts-2026-02-16.csv", moved)], store,
                         mapping=mapping)  # Web: a value the store holds, so no respelling
    assert not any("reads" in n for n in again.notes)


def test_a_column_the_edited_mapping_ignores_is_no_longer_a_feature(tmp_path):
    # the mapping edited between ingests to ignore "Original Source"... as an attribute: the
    # leads of the next export lost its value, but attribute_roles still said fit, so the model
    # kept a feature now missing for every new lead
    first = _export(tmp_path / "w1" / "contacts-2026-02-02.csv", WEEK1)
    mapping = _mapping(tmp_path, first)
    text = mapping.read_text().replace("Original Source: {role: fit, kind: categorical, "
                                       "as: source}", "Original Source: {role: fit, kind: "
                                       "categorical}")
    assert "Original Source: {role: fit, kind: categorical}" in text
    mapping.write_text(text)
    store = tmp_path / "s.duckdb"
    ingest_paths([first], store, mapping=mapping)
    assert _stored(store, "SELECT role FROM attribute_roles") == [("fit",)]
    mapping.write_text(text.replace("Original Source: {role: fit, kind: categorical}",
                                    "Original Source: ignore"))
    report = ingest_paths([_export(tmp_path / "w2" / "contacts-2026-02-09.csv", WEEK1[:30])],
                          store, mapping=mapping)
    assert _stored(store, "SELECT role FROM attribute_roles") == [("ignore",)]
    assert ("the mapping changes the role of Original Source from fit to ignore: it is no "
            "feature from the next review on (30 stored leads not in this export keep its "
            "value, unused)") in report.notes


VERDICTS = """\
leadscore_mapping: 2
name: cd
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
        Booked: {status: meeting_booked, reason_code: meeting_booked},
        Lost: {status: rejected, reason_code: no_budget}}}
"""


def test_a_verdict_dated_by_the_mapping_moves_with_its_leads_later_creation_date(tmp_path):
    # lead 1 is created on the 20th in week 2's export, not the 5th: its verdict, dated
    # created + after_days, was stored twice, on the 7th (before the lead existed: labels drop
    # it as converted before scoreable) and on the 22nd, and the report said the export lacked it
    mapping = tmp_path / "m.yaml"
    mapping.write_text(VERDICTS)
    week1 = tmp_path / "w1" / "leads-2026-02-01.csv"
    week2 = tmp_path / "w2" / "leads-2026-02-08.csv"
    week1.parent.mkdir()
    week2.parent.mkdir()
    week1.write_text("Id,Created,Status\n1,2026-01-05,Booked\n2,2026-01-06,Lost\n")
    week2.write_text("Id,Created,Status\n1,2026-01-20,Booked\n2,2026-01-06,Lost\n")
    store = tmp_path / "s.duckdb"
    ingest_paths([week1], store, mapping=mapping)
    report = ingest_paths([week2], store, mapping=mapping)
    assert _stored(store, "SELECT lead_id, CAST(dispositioned_at AS DATE)::VARCHAR, status FROM "
                          "dispositions ORDER BY ALL") == [
        ("1", "2026-01-22", "meeting_booked"), ("2", "2026-01-08", "rejected")]
    assert ("1 verdict dated by the mapping (after_days) moved with its lead's changed creation "
            "date") in report.notes
    assert not any("lacks" in n for n in report.notes)


def test_next_weeks_export_in_another_encoding_names_the_mapping_option_to_state(tmp_path):
    # saved from Excel on Windows next week (cp1252, ';'): the sentence said "through a v2
    # mapping can instead state its encoding" to a user ingesting through one
    first, mapping, store = _first_week_ingested(tmp_path)
    week2 = tmp_path / "w2" / "contacts-2026-02-09.csv"
    week2.parent.mkdir()
    week2.write_bytes("Record ID;Create Date;Original Source;Lead Status\n"
                      "300;2026-02-08 10:00;Salon Fédéral;Open\n".encode("cp1252"))
    with pytest.raises(LeadscoreError) as err:
        ingest_paths([week2], store, mapping=mapping)
    assert str(err.value) == (
        f"contacts-2026-02-09.csv is not UTF-8 text: state its encoding in the mapping {mapping} "
        "(encoding: cp1252 under files: contacts:, as Excel on Windows saves CSV, or latin-1), "
        "or save it as UTF-8 CSV, and re-run.")
    assert _stored(store, "SELECT count(*) FROM ingest_log") == [(1,)]


def test_two_weeks_exports_inspected_together_are_one_export_taken_twice(tmp_path):
    # inspect of a folder holding two weeks' exports drafted the second as an unknown file:
    # "no column of it holds the values of a main-file column ...; add it by hand"
    _export(tmp_path / "weeks" / "contacts-2026-02-02.csv", WEEK1)
    _export(tmp_path / "weeks" / "contacts-2026-02-09.csv", WEEK1[:30])
    found = inspect([tmp_path / "weeks"], "Lead Status", ["Meeting Booked"])
    said = ("contacts-2026-02-09.csv: another export of contacts-*.csv (the same columns): "
            "ingest each export on its own, oldest first, through this mapping")
    assert said in found.text
    text = draft(found)
    assert f"  # {said}" in text and "add it by hand" not in text
