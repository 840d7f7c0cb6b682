"""Reading a CRM export of leads to score through its mapping (``features.export_leads``), on tiny
inline exports in two shapes: the leads and activities it gives must be the ones ingest stores,
a file of new leads may lack its verdict columns, and every refusal is ingest's own sentence."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from features.export_leads import read_for_scoring
from features.ingest import ingest_paths
from features.store import SCORING_LEAD_COLUMNS
from leadscore.errors import LeadscoreError
from tests.features.crm_exports import (
    FLAT_MAPPING,
    V2_MAPPING,
    VERDICT_COLUMNS,
    flat_export,
    v2_export,
)

FIELDS = [c for c in SCORING_LEAD_COLUMNS if c != "attributes"]


@pytest.fixture
def flat(tmp_path) -> dict:
    mapping = tmp_path / "tiny.yaml"
    mapping.write_text(FLAT_MAPPING)
    frame = flat_export(30, seed=4)
    path = tmp_path / "crm.csv"
    frame.to_csv(path, index=False)
    return {"mapping": mapping, "frame": frame, "path": path, "root": tmp_path}


def _stored_leads(store: Path) -> pd.DataFrame:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute(f"SELECT lead_id, {', '.join(FIELDS)}, CAST(attributes AS VARCHAR) "
                           "AS attributes FROM leads ORDER BY lead_id").df()


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as Python objects, missing as None: Parquet and DuckDB type an empty column apart."""
    return frame.astype(object).where(frame.notna(), None)


def _read(paths, mapping, folder: Path, needed=()) -> tuple[pd.DataFrame, object]:
    folder.mkdir()
    export = read_for_scoring(list(paths), mapping, folder, needed)
    return pd.read_parquet(export.leads), export


def test_a_new_leads_file_without_verdict_columns_gives_the_leads_ingest_stores(flat):
    ingest_paths([flat["path"]], store=flat["root"] / "store.duckdb", mapping=flat["mapping"])
    stored = _stored_leads(flat["root"] / "store.duckdb")
    new = flat["root"] / "new.csv"
    flat["frame"].drop(columns=VERDICT_COLUMNS).to_csv(new, index=False)
    leads, export = _read([new], flat["mapping"], flat["root"] / "scratch", needed={"Plan"})
    assert leads["lead_id"].tolist() == flat["frame"]["Lead No"].tolist()  # the export's order
    ours = leads.sort_values("lead_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(_plain(ours[["lead_id", *FIELDS]]),
                                  _plain(stored[["lead_id", *FIELDS]]))
    # the fit and intent attributes as stored; the post-outcome one is never read for scoring
    theirs = stored["attributes"].map(_without("Call Summary"))
    assert ours["attributes"].map(_without("Call Summary")).tolist() == theirs.tolist()
    assert ours["email_domain"].notna().all() and not ours.astype(str).apply(
        lambda c: c.str.contains("@|Ann Lee|Raj Patel")).any().any()
    assert export.count == 30 and "Plan" in export.filled and "email_domain" in export.filled


def _without(key: str):
    import json

    def strip(text: str) -> dict:
        values = json.loads(text)
        values.pop(key, None)
        return values
    return strip


def test_verdict_columns_blank_or_unmapped_are_never_read(flat):
    frame = flat["frame"].copy()
    frame["Status"] = "Maybe later"  # a value the mapping does not map: ingest refuses it
    odd = flat["root"] / "odd.csv"
    frame.to_csv(odd, index=False)
    with pytest.raises(LeadscoreError, match="does not map"):
        ingest_paths([odd], store=flat["root"] / "s.duckdb", mapping=flat["mapping"])
    leads, _ = _read([odd], flat["mapping"], flat["root"] / "scratch")
    assert len(leads) == 30


def test_a_bad_row_is_refused_with_ingests_own_sentence(flat):
    frame = flat["frame"].copy()
    frame.loc[6, "Visits"] = "lots"
    bad = flat["root"] / "bad.csv"
    frame.drop(columns=VERDICT_COLUMNS).to_csv(bad, index=False)
    with pytest.raises(LeadscoreError) as scoring:
        _read([bad], flat["mapping"], flat["root"] / "scratch")
    frame.to_csv(bad, index=False)  # the same file with its verdicts, as ingest takes it
    with pytest.raises(LeadscoreError) as ingest:
        ingest_paths([bad], store=flat["root"] / "s.duckdb", mapping=flat["mapping"])
    assert str(scoring.value) == str(ingest.value)
    assert "bad.csv line 8, column Visits: 'lots' is not a number" in str(scoring.value)


def test_a_missing_column_the_model_scores_from_is_one_sentence_naming_it(flat):
    thin = flat["root"] / "thin.csv"
    flat["frame"].drop(columns=["Plan", "Status"]).to_csv(thin, index=False)
    with pytest.raises(LeadscoreError) as refused:
        _read([thin], flat["mapping"], flat["root"] / "a", needed={"Plan", "source"})
    message = str(refused.value)
    assert message.startswith("thin.csv lacks column(s)")
    assert "Plan (the model scores from it)" in message
    assert "Status" not in message and message.endswith("re-run.") and "\n" not in message
    # a column the model never learned from may be absent: it reads as blank
    leads, _ = _read([thin], flat["mapping"], flat["root"] / "b", needed={"source"})
    assert leads["attributes"].str.contains('"Plan":null').all()


def test_the_id_column_is_needed_whatever_the_model(flat):
    anonymous = flat["root"] / "anonymous.csv"
    flat["frame"].drop(columns=["Lead No"]).to_csv(anonymous, index=False)
    with pytest.raises(LeadscoreError, match=r"Lead No \(the lead's id\)"):
        _read([anonymous], flat["mapping"], flat["root"] / "scratch")


def test_a_v2_export_without_its_won_file_gives_the_leads_and_activities_ingest_stores(tmp_path):
    mapping = tmp_path / "v2.yaml"
    mapping.write_text(V2_MAPPING)
    export = v2_export(tmp_path / "export", 30, seed=5)
    ingest_paths([export], store=tmp_path / "store.duckdb", mapping=mapping)
    stored = _stored_leads(tmp_path / "store.duckdb")
    new = tmp_path / "new"
    new.mkdir()
    for name in ("leads.csv", "companies.csv"):
        shutil.copy(export / name, new / name)
    # the activity log exported whole: it also holds leads this file of new leads does not
    v2_export(tmp_path / "log", 30, seed=5, strangers=3)
    shutil.copy(tmp_path / "log" / "events.csv", new / "events.csv")
    leads, read = _read([new], mapping, tmp_path / "scratch", needed={"industry", "Staff"})
    ours = leads.sort_values("lead_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(_plain(ours[["lead_id", *FIELDS]]),
                                  _plain(stored[["lead_id", *FIELDS]]))
    assert ours["attributes"].tolist() == stored["attributes"].tolist()
    query = "SELECT lead_id, occurred_at, activity_type FROM activities ORDER BY ALL"
    with duckdb.connect(str(tmp_path / "store.duckdb"), read_only=True) as con:
        theirs = con.execute(query).fetchall()
    with duckdb.connect(str(read.store), read_only=True) as con:
        assert con.execute(query).fetchall() == theirs
        assert con.execute("SELECT count(*) FROM outcomes").fetchone()[0] == 0
    passed_over = "events.csv: 3 activity rows of leads this export does not hold passed over"
    assert passed_over in read.notes


def test_a_v2_lookup_the_model_scores_from_needs_its_join_column(tmp_path):
    mapping = tmp_path / "v2.yaml"
    mapping.write_text(V2_MAPPING)
    export = v2_export(tmp_path / "export", 10, seed=6)
    leads = pd.read_csv(export / "leads.csv", sep=";", dtype=str)
    leads.drop(columns=["Company", "Stage"]).to_csv(export / "leads.csv", sep=";", index=False)
    with pytest.raises(LeadscoreError, match=r"Company \(it joins companies.csv, which the model"):
        _read([export], mapping, tmp_path / "a", needed={"industry"})
    read, _ = _read([export], mapping, tmp_path / "b", needed={"source"})
    assert read["industry"].isna().all() and read["source"].notna().any()


def test_a_v2_export_given_whole_reads_no_verdict_file(tmp_path):
    mapping = tmp_path / "v2.yaml"
    mapping.write_text(V2_MAPPING)
    export = v2_export(tmp_path / "export", 12, seed=7)
    leads, read = _read([export], mapping, tmp_path / "scratch")
    assert len(leads) == 12
    assert "won.csv: the mapping's outcomes file 'won', not read for scoring" in read.notes
    assert not any("passed over" in note for note in read.notes)


def test_an_export_without_ids_or_dates_scores_in_its_row_order(tmp_path):
    # a bank's call list: no id, no date; ingest numbers the rows and spreads them in that order
    (tmp_path / "map.yaml").write_text(
        'leadscore_mapping: 2\nname: calls\nversion: 1\n'
        'created_at: {from_order: row number, start: "2024-01-01", end: "2024-03-31"}\n'
        'files:\n  calls:\n    path: calls.csv\n    kind: main\n    delimiter: ";"\n'
        '    id: {from_row: true}\n    columns:\n'
        '      job: {role: fit, kind: categorical}\n      age: {role: fit, kind: numeric}\n'
        '      y: {role: outcome, after_days: 0, values: {"yes": closed_won, "no": none}}\n')
    pd.DataFrame({"job": ["admin.", "retired", "student"], "age": [30, 70, 20],
                  "y": ["", "", ""]}).to_csv(tmp_path / "calls.csv", sep=";", index=False)
    leads, export = _read([tmp_path / "calls.csv"], tmp_path / "map.yaml", tmp_path / "scratch",
                          needed={"job", "age"})
    assert leads["lead_id"].tolist() == ["1", "2", "3"]  # the rows, numbered as ingest does
    assert export.ids_from_rows and export.count == 3
