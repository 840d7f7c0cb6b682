"""`leadscore score`: every input row out, with scores and reasons, and never an e-mail address."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from leadscore.config import default_config
from leadscore.errors import LeadscoreError
from scoring.pyfunc import lead_records
from tests.training.made_up import made_up_leads
from training.batch_score import score_file


def _input_frame(n: int = 40) -> pd.DataFrame:
    frame = pd.DataFrame(made_up_leads(n, seed=11))
    frame["activities"] = frame["activities"].map(json.dumps)
    frame["email"] = [f"person{i}@corp{i % 3}.example.org" for i in range(n)]
    frame.loc[::4, "as_of"] = None  # scored "now"
    return frame


@pytest.fixture
def bundle_dir(tiny_bundle, tmp_path):
    return str(tiny_bundle.save(tmp_path / "bundle"))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_every_row_scored_with_reasons_and_no_email(tiny_bundle, bundle_dir, tmp_path, suffix):
    leads = _input_frame()
    source = tmp_path / f"leads{suffix}"
    leads.to_csv(source, index=False) if suffix == ".csv" else leads.to_parquet(source)
    out = tmp_path / f"scores{suffix}"

    message = score_file(source, out, default_config(), model_uri=bundle_dir)

    scored = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert f"Scored {len(leads)} leads" in message
    assert list(scored["lead_id"]) == list(leads["lead_id"])
    assert scored["score"].between(0, 1).all() and scored["fit_score"].between(0, 1).all()
    assert scored["grade"].str.fullmatch(r"[A-D][1-4]").all()
    assert (scored["is_mql"] == (scored["score"] >= tiny_bundle.threshold)).all()
    for text in scored["reasons"]:
        reasons = json.loads(text)
        assert 1 <= len(reasons) <= 5
        assert {r["group"] for r in reasons} <= {"fit", "intent"}
    assert "email" not in scored.columns
    assert not scored.astype(str).apply(lambda c: c.str.contains("@|example.org")).any().any()
    if suffix == ".csv":
        assert "@" not in out.read_text()

    # the same numbers as the bundle gives the rows with an explicit moment
    dated = leads[leads["as_of"].notna()]
    records = lead_records(dated)
    expected = tiny_bundle.score_records(records, [r["as_of"] for r in records]).score
    np.testing.assert_allclose(scored.loc[dated.index, "score"], expected, rtol=1e-12)


def test_a_malformed_activity_names_its_row(bundle_dir, tmp_path):
    leads = _input_frame(5)
    leads.loc[3, "activities"] = '[{"activity_type": "pricing_view", "occurred_at": "yesterday"}]'
    source = tmp_path / "leads.csv"
    leads.to_csv(source, index=False)
    with pytest.raises(LeadscoreError, match=r"^Row 4 \(lead_id T00003\): "
                                             r"activities\[0\]\.occurred_at: must be a timestamp"):
        score_file(source, tmp_path / "out.csv", default_config(), model_uri=bundle_dir)


def test_wrong_file_types_are_one_sentence(bundle_dir, tmp_path):
    (tmp_path / "leads.txt").write_text("lead_id\n1\n")
    with pytest.raises(LeadscoreError, match="is not a CSV, Parquet or Excel"):
        score_file(tmp_path / "leads.txt", tmp_path / "o.csv", default_config(), bundle_dir)
    with pytest.raises(LeadscoreError, match="must end in .csv or .parquet"):
        score_file(tmp_path / "leads.txt", tmp_path / "o.json", default_config(), bundle_dir)
    with pytest.raises(LeadscoreError, match="No file at"):
        score_file(tmp_path / "missing.csv", tmp_path / "o.csv", default_config(), bundle_dir)


def test_no_champion_says_to_run_a_review(mlflow_config, tmp_path):
    source = tmp_path / "leads.csv"
    _input_frame(3).to_csv(source, index=False)
    with pytest.raises(LeadscoreError, match=r"No champion model yet: run `leadscore review`"):
        score_file(source, tmp_path / "out.csv", mlflow_config)


# ---- chunks, processes and joined activities -------------------------------------------------
def _activity_rows(leads: pd.DataFrame) -> pd.DataFrame:
    rows = [{"lead_id": lead_id, **activity}
            for lead_id, text in zip(leads["lead_id"], leads["activities"], strict=True)
            for activity in json.loads(text)]
    return pd.DataFrame(rows, columns=["lead_id", "occurred_at", "activity_type"])


def test_chunks_processes_and_joined_activities_give_the_same_file(bundle_dir, tmp_path):
    leads = _input_frame(50)
    leads["as_of"] = "2026-10-01T00:00:00"  # every row at one moment: runs are comparable
    source = tmp_path / "leads.csv"
    leads.to_csv(source, index=False)
    one = tmp_path / "one.csv"
    score_file(source, one, default_config(), bundle_dir, workers=1)
    expected = pd.read_csv(one)

    # chunks of 7 rows over two processes, written in input order
    two = tmp_path / "two.csv"
    score_file(source, two, default_config(), bundle_dir, workers=2, chunk=7)
    pd.testing.assert_frame_equal(pd.read_csv(two), expected)

    # activities joined by lead id from a file (CSV and Parquet) instead of the JSON column
    activities = _activity_rows(leads)
    assert len(activities) > 20
    leads.drop(columns=["activities"]).to_parquet(tmp_path / "bare.parquet")
    for suffix in (".csv", ".parquet"):
        table = tmp_path / f"activities{suffix}"
        (activities.to_csv(table, index=False) if suffix == ".csv"
         else activities.to_parquet(table))
        joined = tmp_path / f"joined{suffix}.csv"
        score_file(tmp_path / "bare.parquet", joined, default_config(), bundle_dir, workers=1,
                   activities=table, chunk=9)
        pd.testing.assert_frame_equal(pd.read_csv(joined), expected)


def test_a_bad_row_in_a_later_chunk_names_the_files_row_and_writes_nothing(bundle_dir, tmp_path):
    leads = _input_frame(30)
    leads.loc[23, "activities"] = '[{"activity_type": "pricing_view", "occurred_at": "soon"}]'
    source = tmp_path / "leads.csv"
    leads.to_csv(source, index=False)
    out = tmp_path / "out.parquet"
    with pytest.raises(LeadscoreError, match=r"^Row 24 \(lead_id T00023\): "
                                             r"activities\[0\]\.occurred_at"):
        score_file(source, out, default_config(), bundle_dir, workers=2, chunk=5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "leads.csv"]


def test_an_activities_file_without_the_contracts_columns_is_one_sentence(bundle_dir, tmp_path):
    source = tmp_path / "leads.csv"
    _input_frame(3).drop(columns=["activities"]).to_csv(source, index=False)
    table = tmp_path / "activities.csv"
    pd.DataFrame({"lead_id": ["T00000"], "when": ["2026-09-01"]}).to_csv(table, index=False)
    with pytest.raises(LeadscoreError, match="lacks the column.*activity_type, occurred_at"):
        score_file(source, tmp_path / "o.csv", default_config(), bundle_dir, activities=table)
    with pytest.raises(LeadscoreError, match="No store at"):
        score_file(source, tmp_path / "o.csv", dict(default_config(), store=str(tmp_path / "x")),
                   bundle_dir, activities="store")


def test_activities_from_the_store_equal_those_from_the_export_file(bundle_dir, tmp_path):
    from features.ingest import ingest_paths
    from generator import generate_export

    export = tmp_path / "export"
    generate_export(n_leads=150, seed=3, out_dir=export, fmt="csv", progress=False)
    store = tmp_path / "history.duckdb"
    ingest_paths([export], store=store)
    config = dict(default_config(), store=str(store))
    leads = pd.read_csv(export / "leads.csv", dtype=str)
    leads["as_of"] = "2026-12-01T00:00:00"
    source = tmp_path / "leads.csv"
    leads.to_csv(source, index=False)

    from_file, from_store = tmp_path / "file.csv", tmp_path / "store.csv"
    score_file(source, from_file, config, bundle_dir, workers=1,
               activities=export / "activities.csv")
    score_file(source, from_store, config, bundle_dir, workers=1, activities="store")
    expected = pd.read_csv(from_file)
    pd.testing.assert_frame_equal(pd.read_csv(from_store), expected)
    assert list(expected["lead_id"]) == list(leads["lead_id"])
    # the activities reached the features: leads with more of them differ in intent
    assert expected["intent_score"].nunique() > 5


def test_the_command_line_refuses_a_join_on_spark_in_one_line(bundle_dir, tmp_path):
    from click.testing import CliRunner

    from cli.main import cli

    source = tmp_path / "leads.parquet"
    _input_frame(3).to_parquet(source)
    result = CliRunner().invoke(cli, ["score", "--engine", "spark", str(source), "--out",
                                      str(tmp_path / "o.parquet"), "--model", bundle_dir,
                                      "--activities", "store"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: --activities is for the local engine: on Spark, join the activities into the "
        "leads' activities column first."]


def test_a_file_without_lead_id_is_refused_and_nothing_is_written(bundle_dir, tmp_path):
    # row numbers as ids would land in the output and the score log as if they were leads
    source = tmp_path / "leads.csv"
    _input_frame(5).rename(columns={"lead_id": "Lead Number"}).to_csv(source, index=False)
    with pytest.raises(LeadscoreError, match="has no lead_id column"):
        score_file(source, tmp_path / "out.csv", default_config(), bundle_dir)
    assert not (tmp_path / "out.csv").exists()


def test_columns_the_model_learned_from_but_the_file_lacks_are_named(bundle_dir, tmp_path):
    leads = _input_frame(8)
    source = tmp_path / "leads.csv"
    leads.to_csv(source, index=False)
    complete = score_file(source, tmp_path / "a.csv", default_config(), bundle_dir)
    assert "not in leads.csv" not in complete
    # "Position" is no CRM's name for title only (a "Job Title" column is refused as a near-miss:
    # features.lead_fields.SYNONYMS), so it is an extra column and title is missing
    leads.rename(columns={"title": "Position"}).to_csv(source, index=False)
    message = score_file(source, tmp_path / "b.csv", default_config(), bundle_dir)
    assert "title is not in leads.csv" in message and "Position" not in message


def _workbook(frame: pd.DataFrame, path) -> None:
    """``frame`` as an .xlsx sheet, every value a text cell (a blank one left empty)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([None if pd.isna(v) else str(v) for v in row])
    book.save(path)


def test_semicolon_tab_and_workbook_files_score_as_the_comma_file(bundle_dir, tmp_path):
    # European CRMs and Excel write semicolons; marketing ops keep leads in workbooks
    leads = _input_frame(12)
    leads["as_of"] = "2026-10-01T00:00:00"
    leads.loc[3, "industry"] = None  # a blank cell stays a missing value in every format
    comma = tmp_path / "leads.csv"
    leads.to_csv(comma, index=False)
    score_file(comma, tmp_path / "comma.csv", default_config(), bundle_dir, workers=1)
    expected = pd.read_csv(tmp_path / "comma.csv")

    semicolon, tab = tmp_path / "semi.csv", tmp_path / "tab.csv"
    leads.to_csv(semicolon, index=False, sep=";")
    leads.to_csv(tab, index=False, sep="\t")
    excel_sep = tmp_path / "excel.csv"  # Excel's "sep=;" line above the header
    excel_sep.write_text("sep=;\n" + semicolon.read_text())
    book = tmp_path / "leads.xlsx"
    _workbook(leads, book)
    for source in (semicolon, tab, excel_sep, book):
        out = tmp_path / f"{source.stem}-out.csv"
        score_file(source, out, default_config(), bundle_dir, workers=1)
        pd.testing.assert_frame_equal(pd.read_csv(out), expected, obj=source.name)

    # and with the activities joined by lead id from a file
    activities = _activity_rows(leads)
    activities.to_csv(tmp_path / "activities.csv", index=False, sep=";")
    bare = tmp_path / "bare.xlsx"
    _workbook(leads.drop(columns=["activities"]), bare)
    for source in (bare, tmp_path / "bare.csv"):
        if source.suffix == ".csv":
            leads.drop(columns=["activities"]).to_csv(source, index=False, sep=";")
        out = tmp_path / f"{source.stem}{source.suffix}-joined.csv"
        score_file(source, out, default_config(), bundle_dir, workers=1,
                   activities=tmp_path / "activities.csv", chunk=5)
        pd.testing.assert_frame_equal(pd.read_csv(out), expected, obj=source.name)


def test_a_damaged_workbook_is_one_sentence_and_writes_nothing(bundle_dir, tmp_path):
    book = tmp_path / "leads.xlsx"
    book.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(LeadscoreError, match="not a readable Excel workbook"):
        score_file(book, tmp_path / "out.csv", default_config(), bundle_dir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "leads.xlsx"]


def _one_lead_file(tmp_path, **fields) -> object:
    row = {"lead_id": "L-1", "title": "VP Marketing", "company_size": "201-1000",
           "activities": json.dumps([{"activity_type": "demo_request",
                                      "occurred_at": "2026-09-30T10:00:00Z"}]),
           "as_of": "2026-10-01T00:00:00Z", **fields}
    source = tmp_path / "leads.csv"
    pd.DataFrame([row]).to_csv(source, index=False)
    return source


def _score_one(bundle_dir, tmp_path, **fields) -> float:
    out = tmp_path / "out.csv"
    score_file(_one_lead_file(tmp_path, **fields), out, default_config(), bundle_dir)
    return float(pd.read_csv(out)["score"].iloc[0])


def test_unix_seconds_are_read_as_the_api_reads_them(bundle_dir, tmp_path):
    iso = _score_one(bundle_dir, tmp_path)
    # 2026-10-01T00:00:00Z and 2026-09-30T10:00:00Z as Unix seconds, as text cells
    assert _score_one(bundle_dir, tmp_path, as_of="1790812800", activities=json.dumps(
        [{"activity_type": "demo_request", "occurred_at": "1790762400"}])) == iso
    assert _score_one(bundle_dir, tmp_path, as_of="") == _score_one(bundle_dir, tmp_path,
                                                                    as_of=None)


@pytest.mark.parametrize(("fields", "field"), [
    ({"as_of": "20261101"}, "as_of"),  # a compact date: 1970 as Unix seconds, never 2026 or 1970
    ({"as_of": "1999-11-01T00:00:00Z"}, "as_of"),
    ({"created_at": "yesterday"}, "created_at"),
    ({"mql_at": "2026-W44-1"}, "mql_at"),
    ({"activities": json.dumps([{"activity_type": "demo_request",
                                 "occurred_at": "1999-10-30"}])}, "activities[0].occurred_at"),
])
def test_a_timestamp_the_api_refuses_is_refused_with_the_apis_sentence(bundle_dir, tmp_path,
                                                                       fields, field):
    from features.timestamps import TIMESTAMP_RULE

    out = tmp_path / "out.csv"
    with pytest.raises(LeadscoreError) as info:
        score_file(_one_lead_file(tmp_path, **fields), out, default_config(), bundle_dir)
    assert str(info.value) == f"Row 1 (lead_id L-1): {field}: {TIMESTAMP_RULE}."
    assert not out.exists()


def test_a_row_without_its_lead_id_is_refused_not_written_as_nan(bundle_dir, tmp_path):
    leads = _input_frame(6)
    leads.loc[2, "lead_id"] = None
    source = tmp_path / "leads.csv"
    leads.to_csv(source, index=False)
    with pytest.raises(LeadscoreError) as info:
        score_file(source, tmp_path / "out.csv", default_config(), bundle_dir)
    assert str(info.value) == "Row 3: lead_id: is empty: give every lead its CRM id."
    assert not (tmp_path / "out.csv").exists()


def test_the_reasons_per_lead_are_the_configs_as_the_api_gives_them(bundle_dir, tmp_path):
    source = tmp_path / "leads.csv"
    _input_frame(12).to_csv(source, index=False)
    config = default_config()
    config["serving"]["top_reasons"] = 2  # what `leadscore serve` gives per lead
    for workers in (1, 2):
        out = tmp_path / f"out{workers}.csv"
        score_file(source, out, config, bundle_dir, workers=workers, chunk=5)
        counts = pd.read_csv(out)["reasons"].map(json.loads).map(len)
        assert counts.max() == 2, workers


def test_one_lead_is_one_lead_in_the_summary(bundle_dir, tmp_path):
    message = score_file(_one_lead_file(tmp_path), tmp_path / "out.csv", default_config(),
                         bundle_dir)
    assert message.startswith("Scored 1 lead with model ")
    assert "1 leads" not in message and " 1 MQLs" not in message


def test_an_out_path_that_is_a_folder_is_refused_before_scoring(bundle_dir, tmp_path):
    (tmp_path / "scores.parquet").mkdir()  # what --engine spark leaves at the same --out
    (tmp_path / "scores.parquet" / "part-0.parquet").write_bytes(b"spark's")
    with pytest.raises(LeadscoreError) as info:
        score_file(_one_lead_file(tmp_path), tmp_path / "scores.parquet", default_config(),
                   bundle_dir)
    assert str(info.value) == (f"--out {tmp_path / 'scores.parquet'} is a folder (a Spark "
                               "output?): give a file path, or remove the folder, and re-run.")
    assert (tmp_path / "scores.parquet" / "part-0.parquet").read_bytes() == b"spark's"


def test_as_of_is_the_moment_of_rows_without_their_own(tiny_bundle, bundle_dir, tmp_path):
    from click.testing import CliRunner

    from cli.main import cli

    leads = _input_frame(30)
    moment = leads["as_of"].dropna().iloc[0]
    source = tmp_path / "leads.csv"
    leads.drop(columns=["as_of"]).to_csv(source, index=False)

    def scores(as_of: str) -> pd.Series:
        out = tmp_path / f"{as_of[:10]}.csv"
        result = CliRunner().invoke(cli, ["score", str(source), "--out", str(out), "--model",
                                          bundle_dir, "--as-of", as_of])
        assert result.exit_code == 0, result.output
        return pd.read_csv(out)["score"]

    records = lead_records(leads)
    expected = tiny_bundle.score_records(records, [moment] * len(records)).score
    np.testing.assert_allclose(scores(moment), expected, rtol=1e-12)
    # a year on, every activity is old: intent, and so some scores, differ
    assert (scores("2027-10-01") != scores(moment)).any()
    result = CliRunner().invoke(cli, ["score", str(source), "--out", str(tmp_path / "x.csv"),
                                      "--model", bundle_dir, "--as-of", "last week"])
    assert result.exit_code == 1 and "--as-of 'last week' is not a date" in result.output


def test_a_crm_export_given_as_a_leads_file_is_pointed_at_its_mapping(bundle_dir, tmp_path):
    leads = _input_frame(5).drop(columns=["lead_id"])
    leads.to_csv(tmp_path / "export.csv", index=False)
    with pytest.raises(LeadscoreError) as refused:
        score_file(tmp_path / "export.csv", tmp_path / "out.csv", default_config(), bundle_dir)
    assert str(refused.value) == (
        "export.csv has no lead_id column: scores are written and logged by lead id; name the "
        "column that holds each lead's id lead_id, or score the CRM's own export through the "
        "mapping it was ingested with (--mapping M.yaml), and re-run.")
    leads = _input_frame(5).rename(columns={"source": "Lead Source"})
    leads.to_csv(tmp_path / "export.csv", index=False)
    with pytest.raises(LeadscoreError, match=r"column Lead Source: not a field of a lead: name it "
                                             r"`source` .*; rename the column, or score the CRM's "
                                             r"own export through the mapping it was ingested "
                                             r"with \(--mapping M.yaml\), and re-run\.$"):
        score_file(tmp_path / "export.csv", tmp_path / "out.csv", default_config(), bundle_dir)
    assert not (tmp_path / "out.csv").exists()
