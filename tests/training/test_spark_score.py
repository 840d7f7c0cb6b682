"""The Spark engine on ``local[2]``: 10,000 leads give exactly the local engine's rows.

One Spark session for the module (Java from Debian's ``openjdk-17-jre-headless``, installed by
``scripts/test.sh`` when missing; without Java the module skips, as the browser test does
without chromium).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import pandas as pd
import pytest

from leadscore.config import default_config
from leadscore.errors import LeadscoreError
from tests.training.made_up import made_up_leads
from training.batch_score import score_chunk
from training.spark_score import score_file_spark

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime for Spark"),
]
NOW = datetime(2026, 10, 2, 12, 0, tzinfo=UTC)


def _leads(n: int) -> pd.DataFrame:
    frame = pd.DataFrame(made_up_leads(n, seed=5))
    frame["activities"] = frame["activities"].map(json.dumps)
    frame.loc[::3, "as_of"] = None  # scored at NOW, the one moment both engines are given
    return frame


def test_spark_gives_the_local_scores_and_reasons_on_10000_leads(spark, tiny_bundle, tmp_path):
    leads = _leads(10_000)
    source = tmp_path / "leads.parquet"
    leads.to_parquet(source)
    bundle_dir = str(tiny_bundle.save(tmp_path / "bundle"))
    out = tmp_path / "scores.parquet"

    message = score_file_spark(source, out, default_config(), bundle_dir, now=NOW)

    assert message.startswith("Scored 10,000 leads on Spark")
    got = pd.read_parquet(out).set_index("lead_id").sort_index()
    local = score_chunk(tiny_bundle, leads, now=NOW, model_version=bundle_dir)
    expected = local.set_index("lead_id").sort_index()
    assert len(got) == 10_000
    # every value exact; text comes back from Parquet as pandas' string dtype, not object
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)
    assert (got["reasons"] == expected["reasons"]).all()
    assert got["reasons"].map(json.loads).map(len).gt(0).all()


def test_a_malformed_lead_on_spark_is_one_sentence_and_leaves_no_output_folder(
        spark, tiny_bundle, tmp_path):
    leads = _leads(20)
    leads.loc[4, "activities"] = '[{"activity_type": "pricing_view", "occurred_at": "later"}]'
    source = tmp_path / "leads.parquet"
    leads.to_parquet(source)
    bundle_dir = str(tiny_bundle.save(tmp_path / "bundle"))
    out = tmp_path / "out.parquet"
    # the lead is named by its id on Spark
    with pytest.raises(LeadscoreError, match=r"^Spark could not score the leads: Lead T00004: "
                                             r"activities\[0\]\.occurred_at: must be"):
        score_file_spark(source, out, default_config(), bundle_dir, now=NOW)
    assert not out.exists()
    with pytest.raises(LeadscoreError, match="must end in .parquet"):
        score_file_spark(source, tmp_path / "out.csv", default_config(), bundle_dir)


def test_a_file_without_lead_id_is_refused_on_spark_as_locally_and_nothing_is_written(
        spark, tiny_bundle, tmp_path):
    # row numbers as ids would land in the output as if they were leads: the local engine's rule
    source = tmp_path / "leads.parquet"
    _leads(6).rename(columns={"lead_id": "Lead Number"}).to_parquet(source)
    bundle_dir = str(tiny_bundle.save(tmp_path / "bundle"))
    out = tmp_path / "out.parquet"
    with pytest.raises(LeadscoreError) as info:
        score_file_spark(source, out, default_config(), bundle_dir, now=NOW)
    assert str(info.value) == (
        "leads.parquet has no lead_id column: scores are written and logged by lead id; name "
        "the column that holds each lead's id lead_id and re-run.")
    assert not out.exists()


def test_a_file_left_at_out_by_the_local_engine_is_replaced_by_sparks_folder(
        spark, tiny_bundle, tmp_path):
    source = tmp_path / "leads.parquet"
    _leads(8).to_parquet(source)
    bundle_dir = str(tiny_bundle.save(tmp_path / "bundle"))
    out = tmp_path / "scores.parquet"
    out.write_bytes(b"the local engine's file")
    message = score_file_spark(source, out, default_config(), bundle_dir, now=NOW)
    assert message.startswith("Scored 8 leads on Spark") and out.is_dir()
    assert len(pd.read_parquet(out)) == 8


def test_spark_udf_of_the_logged_pyfunc_takes_sparks_own_types_and_scores_as_locally(
        spark, tiny_bundle, tmp_path):
    import mlflow
    from pyspark.sql.functions import struct

    from training.review import pyfunc_model

    mlflow.pyfunc.save_model(str(tmp_path / "model"), pip_requirements=["mlflow"],
                             **pyfunc_model(tiny_bundle.save(tmp_path / "bundle"), NOW))
    leads = _leads(30).assign(as_of=NOW.isoformat())
    # a numeric id and a timestamp column, as Spark reads them from a warehouse table
    typed = leads.assign(lead_id=range(30), created_at=pd.to_datetime(leads["created_at"]))
    frame = spark.createDataFrame(typed)
    udf = mlflow.pyfunc.spark_udf(spark, str(tmp_path / "model"))

    got = (frame.withColumn("out", udf(struct(*frame.columns)))
           .select("lead_id", "out.*").toPandas().sort_values("lead_id"))

    expected = score_chunk(tiny_bundle, leads, now=NOW)
    assert got["score"].tolist() == expected["score"].tolist()
    assert got["grade"].tolist() == expected["grade"].tolist()


def test_a_registered_version_is_written_as_its_number_as_the_local_engine_writes_it(
        spark, tiny_bundle, tmp_path, monkeypatch):
    from types import SimpleNamespace

    from training import registry

    monkeypatch.setattr(registry, "load_bundle",
                        lambda uri, config: (tiny_bundle, SimpleNamespace(version="2")))
    source = tmp_path / "leads.parquet"
    _leads(4).to_parquet(source)
    out = tmp_path / "scores.parquet"

    message = score_file_spark(source, out, default_config(), None, now=NOW)

    assert set(pd.read_parquet(out)["model_version"]) == {"2"}  # the API's, file's and log's
    assert "with model v2" in message
