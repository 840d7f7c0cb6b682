"""``leadscore score --engine spark`` says and does what the local engine does for a nightly
job: repeated lead ids, a quiet day's header-only file, and the score log (real Spark on
``local[2]``, both engines run on the same files)."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime

import pandas as pd
import pytest

from leadscore.config import default_config
from leadscore.errors import LeadscoreError
from training.batch_log import repeat_line
from training.batch_score import FILE_COLUMNS, score_file
from training.spark_score import score_file_spark

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime for Spark"),
]
NOW = datetime(2026, 10, 2, 12, 0, tzinfo=UTC)


@pytest.fixture()
def bundle_uri(tiny_bundle, tmp_path):
    return str(tiny_bundle.save(tmp_path / "bundle"))


@pytest.fixture()
def score_log(tmp_path, monkeypatch):
    path = tmp_path / "logs" / "live.db"
    monkeypatch.setenv("LEADSCORE_LIVE_URL", f"sqlite:///{path}")
    return path


def _leads(ids: list[str], titles: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"lead_id": ids, "source": ["web"] * len(ids), "title": titles})


def _write(frame: pd.DataFrame, path) -> None:
    frame.to_parquet(path) if path.suffix == ".parquet" else frame.to_csv(path, index=False)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_repeated_rows_are_scored_once_and_said_as_the_local_engine_says_it(
        spark, bundle_uri, tmp_path, suffix):
    source = tmp_path / f"leads{suffix}"
    _write(_leads(["a", "b", "a", "c", "b"], ["CEO", "CTO", "CEO", "VP", "CTO"]), source)
    local = score_file(source, tmp_path / "local.parquet", default_config(),
                       model_uri=bundle_uri, workers=1, now=NOW)
    out = tmp_path / "spark.parquet"

    said = score_file_spark(source, out, default_config(), bundle_uri, now=NOW)

    assert said.startswith("Scored 3 leads on Spark with model ")
    assert f" {repeat_line(2)}" in said and f" {repeat_line(2)}" in local
    got = pd.read_parquet(out).sort_values("lead_id").reset_index(drop=True)
    expected = pd.read_parquet(tmp_path / "local.parquet")
    assert got["lead_id"].tolist() == ["a", "b", "c"]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_a_lead_id_given_different_values_is_refused_on_spark_in_the_local_sentence(
        spark, bundle_uri, tmp_path):
    source = tmp_path / "leads.csv"
    _leads(["a", "b", "a"], ["CEO", "CTO", "Intern"]).to_csv(source, index=False)
    with pytest.raises(LeadscoreError) as local:
        score_file(source, tmp_path / "local.parquet", default_config(), model_uri=bundle_uri,
                   workers=1)
    out = tmp_path / "spark.parquet"
    with pytest.raises(LeadscoreError) as info:
        score_file_spark(source, out, default_config(), bundle_uri, now=NOW)
    assert str(info.value) == str(local.value) == (
        "leads.csv: rows 1, 3 give lead_id a different values; keep one row per lead_id and "
        "re-run.")
    assert not out.exists() and not list(tmp_path.glob(".*partial"))


def test_an_input_only_the_cluster_reads_is_held_to_the_same_rule_by_spark(
        spark, bundle_uri, tmp_path):
    # a URI is not read by the driver's DuckDB: Spark counts the repeats itself
    source = tmp_path / "leads.parquet"
    _leads(["a", "b", "a", "a"], ["CEO", "CTO", "CEO", "CEO"]).to_parquet(source)
    out = tmp_path / "spark.parquet"
    said = score_file_spark(source.as_uri(), out, default_config(), bundle_uri, now=NOW)
    assert said.startswith("Scored 2 leads on Spark") and f" {repeat_line(2)}" in said
    assert sorted(pd.read_parquet(out)["lead_id"]) == ["a", "b"]
    _leads(["a", "b", "a"], ["CEO", "CTO", "Intern"]).to_parquet(source)
    with pytest.raises(LeadscoreError) as info:
        score_file_spark(source.as_uri(), out, default_config(), bundle_uri, now=NOW)
    assert str(info.value) == ("leads.parquet: two rows give lead_id a different values; keep "
                               "one row per lead_id and re-run.")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_header_only_file_is_a_quiet_day_on_spark_as_locally(
        spark, bundle_uri, tmp_path, suffix):
    source = tmp_path / f"today{suffix}"
    _write(_leads([], []), source)
    out = tmp_path / "scores.parquet"

    said = score_file_spark(source, out, default_config(), bundle_uri, now=NOW)

    assert said.startswith("Scored 0 leads on Spark with model ")
    assert (f"today{suffix} holds no lead (a header and no row): {out} was written with the "
            "scores' columns and no row.") in said
    written = pd.read_parquet(out)
    assert list(written.columns) == FILE_COLUMNS and written.empty
    assert not list(tmp_path.glob(".*partial"))


def test_the_quiet_day_on_spark_exits_0_from_the_command_line(spark, bundle_uri, tmp_path):
    from click.testing import CliRunner

    from cli.main import cli

    source = tmp_path / "today.csv"
    source.write_text("lead_id,source,title\n")
    out = tmp_path / "scores.parquet"
    result = CliRunner().invoke(cli, ["score", str(source), "--out", str(out), "--engine",
                                      "spark", "--model", bundle_uri])
    assert result.exit_code == 0, result.output
    assert "today.csv holds no lead (a header and no row)" in result.output
    assert "Traceback" not in result.output


def test_spark_adds_its_scores_to_the_score_log_as_the_local_engine_does(
        spark, bundle_uri, tmp_path, score_log):
    source = tmp_path / "leads.csv"
    _leads(["a", "b", "c"], ["CEO", "Student", "VP Marketing"]).to_csv(source, index=False)

    said = score_file_spark(source, tmp_path / "spark.parquet", default_config(), bundle_uri,
                            now=NOW)

    assert f"; 3 scores added to the score log at {score_log}." in said
    assert f"The score log at {score_log} did not exist before this run and was created" in said
    local = score_file(source, tmp_path / "local.parquet", default_config(),
                       model_uri=bundle_uri, workers=1, now=NOW)
    assert f"; 3 scores added to the score log at {score_log}." in local
    assert "did not exist" not in local
    columns = ("lead_id, model_version, score, grade, is_mql, reasons, feature_hash, "
               "feature_bins, source")
    with sqlite3.connect(score_log) as con:
        rows = pd.read_sql(f"SELECT {columns} FROM score_log ORDER BY id", con)
    spark_rows = rows.iloc[:3].sort_values("lead_id").reset_index(drop=True)
    local_rows = rows.iloc[3:].sort_values("lead_id").reset_index(drop=True)
    assert spark_rows["source"].eq("batch").all() and spark_rows["feature_hash"].notna().all()
    pd.testing.assert_frame_equal(spark_rows, local_rows)


def test_a_failed_spark_job_adds_nothing_to_the_score_log(
        spark, bundle_uri, tmp_path, score_log):
    leads = _leads(["a", "b"], ["CEO", "CTO"]).assign(
        activities=[None, '[{"activity_type": "pricing_view", "occurred_at": "later"}]'])
    leads.to_parquet(tmp_path / "leads.parquet")
    with pytest.raises(LeadscoreError, match="^Spark could not score the leads: Lead b"):
        score_file_spark(tmp_path / "leads.parquet", tmp_path / "out.parquet",
                         default_config(), bundle_uri, now=NOW)
    if score_log.exists():
        with sqlite3.connect(score_log) as con:
            assert con.execute("SELECT count(*) FROM score_log").fetchone()[0] == 0


def test_with_the_score_log_off_spark_logs_nothing_and_says_nothing_of_it(
        spark, bundle_uri, tmp_path, score_log):
    config = default_config()
    config["live"]["score_log"] = False
    source = tmp_path / "leads.csv"
    _leads(["a", "b"], ["CEO", "CTO"]).to_csv(source, index=False)
    out = tmp_path / "spark.parquet"
    said = score_file_spark(source, out, config, bundle_uri, now=NOW)
    assert f"; wrote {out}. " in said and "score log" not in said
    assert list(pd.read_parquet(out).columns) == FILE_COLUMNS
    assert not score_log.exists()


def test_a_model_input_the_file_lacks_is_named_on_spark_as_locally(spark, bundle_uri, tmp_path):
    # scored as if blank: the summary must say so on both engines, in one sentence
    source = tmp_path / "leads.csv"
    _leads(["a", "b"], ["CEO", "CTO"]).to_csv(source, index=False)
    local = score_file(source, tmp_path / "local.parquet", default_config(),
                       model_uri=bundle_uri, workers=1, now=NOW)
    said = score_file_spark(source, tmp_path / "spark.parquet", default_config(), bundle_uri,
                            now=NOW)
    gap = ("company_size, industry, country, email_domain are not in leads.csv: the model "
           "learned from them, so every lead was scored as if they were blank; name the columns "
           "as the store uses (a mapping's as: names) and re-run.")
    assert local.endswith(f" {gap}") and said.endswith(f" {gap}")


def test_a_semicolon_csv_is_read_on_spark_as_the_local_engine_reads_it(
        spark, bundle_uri, tmp_path):
    # a European Excel's export: the local engine sniffs the delimiter, as ingest does
    source = tmp_path / "leads.csv"
    _leads(["a", "b"], ["CEO", "Student"]).to_csv(source, index=False, sep=";")
    score_file(source, tmp_path / "local.parquet", default_config(), model_uri=bundle_uri,
               workers=1, now=NOW)
    said = score_file_spark(source, tmp_path / "spark.parquet", default_config(), bundle_uri,
                            now=NOW)
    assert said.startswith("Scored 2 leads on Spark")
    got = pd.read_parquet(tmp_path / "spark.parquet").sort_values("lead_id")
    pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                  pd.read_parquet(tmp_path / "local.parquet"), check_dtype=False)


def test_a_zero_byte_csv_is_refused_on_spark_in_the_local_sentence(spark, bundle_uri, tmp_path):
    # Spark said "has no lead_id column" of a file it could not read at all
    source = tmp_path / "leads.csv"
    source.write_bytes(b"")
    with pytest.raises(LeadscoreError) as local:
        score_file(source, tmp_path / "local.parquet", default_config(), model_uri=bundle_uri,
                   workers=1, now=NOW)
    with pytest.raises(LeadscoreError) as on_spark:
        score_file_spark(source, tmp_path / "spark.parquet", default_config(), bundle_uri,
                         now=NOW)
    assert str(on_spark.value) == str(local.value)
    assert "lead_id" not in str(on_spark.value)
    assert not (tmp_path / "spark.parquet").exists()


def test_an_excel_sep_line_is_named_on_spark_not_read_as_the_header(spark, bundle_uri, tmp_path):
    # the local engine skips Excel's "sep=;" line; Spark read it as the header and said the file
    # had no lead_id column
    source = tmp_path / "leads.csv"
    source.write_text("sep=;\n" + _leads(["a", "b"], ["CEO", "CTO"]).to_csv(index=False, sep=";"))
    said = score_file(source, tmp_path / "local.parquet", default_config(), model_uri=bundle_uri,
                      workers=1, now=NOW)
    assert said.startswith("Scored 2 leads")
    with pytest.raises(LeadscoreError) as on_spark:
        score_file_spark(source, tmp_path / "spark.parquet", default_config(), bundle_uri,
                         now=NOW)
    assert str(on_spark.value) == (
        "leads.csv starts with Excel's 'sep=' line, which Spark's CSV reader cannot skip: delete "
        "that first line (or score the file without --engine spark) and re-run.")
    assert not (tmp_path / "spark.parquet").exists()
