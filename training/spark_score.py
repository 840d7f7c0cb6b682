"""``leadscore score --engine spark``: the same scoring path, on a Spark cluster.

The leads (Parquet, or CSV read as text) become a Spark DataFrame; ``mapInPandas`` hands each
partition's Arrow batches to ``training.batch_score.score_chunk``, the very function the local
engine runs, with the bundle's files broadcast once and loaded once per Python worker, and one
scoring moment for every row. So the output rows are the local engine's rows: same scores, same
reasons, same JSON text. The result is written as a Parquet folder (one file per partition), as
Spark writes.

On a cluster, run it under ``spark-submit`` (or in any session): ``getOrCreate`` joins the
active session and its master; without one it starts ``local[*]``.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from features.messages import plural
from leadscore.errors import LeadscoreError
from training.batch_log import no_lead_line, repeat_line
from training.batch_score import (
    TOP_REASONS,
    no_lead_id,
    refuse_misnamed,
    score_chunk,
    top_reasons,
)

SCHEMA = ("lead_id string, score double, fit_score double, intent_score double, grade string, "
          "is_mql boolean, reasons string, model_version string")
_LOADED: dict[str, Any] = {}


def _bundle_from(files: dict[str, bytes]):
    """The bundle of broadcast files, written and loaded once per Python worker."""
    import hashlib
    import tempfile

    from scoring.bundle import ScoringBundle

    key = hashlib.sha256(b"".join(files[name] for name in sorted(files))).hexdigest()
    if key not in _LOADED:
        folder = Path(tempfile.mkdtemp(prefix="leadscore-bundle-"))
        for name, content in files.items():
            (folder / name).write_bytes(content)
        _LOADED[key] = ScoringBundle.load(folder, num_threads=1)
    return _LOADED[key]


def spark_session(master: str | None = None):
    """The active Spark session, or a local one (UTC, Arrow batches on)."""
    from pyspark.sql import SparkSession

    # local workers run this interpreter (its packages); a cluster sets its own
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    builder = SparkSession.builder.appName("leadscore-score")
    if master:
        builder = builder.master(master)
    elif SparkSession.getActiveSession() is None:
        builder = builder.master("local[*]")
    return (builder.config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate())


def score_dataframe(spark, leads, bundle, *, model_version: str, now: datetime,
                    top: int = TOP_REASONS):
    """Score a Spark DataFrame of lead rows: a DataFrame of ``SCHEMA``, one row per lead."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="leadscore-bundle-") as folder:
        bundle.save(folder)
        files = {p.name: p.read_bytes() for p in Path(folder).iterdir()}
    shared = spark.sparkContext.broadcast(files)

    def score_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        scorer = _bundle_from(shared.value)
        for batch in batches:
            yield score_chunk(scorer, batch, now=now, model_version=model_version, top=top,
                              start=None)  # a partition's rows have no file row to name

    return leads.mapInPandas(score_partition, schema=SCHEMA)


def repeated_leads(leads, name: str) -> int:
    """Rows of a Spark DataFrame of leads that repeat another row's ``lead_id``, by the local
    engine's rule (``training.batch_io.repeated_ids``), for an input only the cluster reads (a
    URI): the driver's DuckDB reads a local file instead, and names the rows.

    Raises:
        LeadscoreError: two rows give one lead id different values (``different_values``).
    """
    from pyspark.sql import functions as F

    from training.batch_io import different_values

    again = (leads.where(F.col("lead_id").isNotNull()).groupBy("lead_id").count()
             .where("count > 1").cache())
    try:
        found = again.agg(F.sum(F.col("count") - 1)).collect()[0][0]
        if not found:
            return 0
        clash = (leads.join(again.select("lead_id"), "lead_id").distinct().groupBy("lead_id")
                 .count().where("count > 1").select("lead_id").first())
    finally:
        again.unpersist()
    if clash is not None:
        raise different_values(name, str(clash[0]), None)
    return int(found)


def _spark_failure(exc: Exception) -> LeadscoreError:
    # a worker's LeadscoreError comes back inside a Java stack trace: keep its sentence
    found = re.search(r"LeadscoreError: (.+)", str(exc))
    reason = found.group(1).strip() if found else str(exc).strip().splitlines()[0][:200]
    return LeadscoreError(f"Spark could not score the leads: {reason}")


def _staging(output: Path | str) -> str:
    """Where Spark writes before the result is moved over ``output``: a local folder beside it,
    so a failed job leaves nothing half-written; a URI (the cluster's storage) is written as is."""
    if "://" in str(output):
        return str(output)
    path = Path(output)
    return str(path.with_name(f".{path.name}.partial"))


def _clear(path: Path) -> None:
    """Make way for the new output: an earlier Spark folder, or the local engine's file."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def score_file_spark(input_path: Path, output: Path, config: dict[str, Any],
                     model_uri: str | None = None, *, master: str | None = None,
                     now: datetime | None = None) -> str:
    """Score a leads file on Spark and write a Parquet folder; one line says what was done.

    Raises:
        LeadscoreError: for a missing input, no champion, or a lead that fails to score.
    """
    from training.batch_io import FORMATS, check_input, repeated_ids
    from training.registry import load_bundle

    # a URI (s3a://, hdfs://, dbfs:/ ...) is the cluster's to read; a local path is checked here
    source = str(input_path)
    if "://" not in source:
        source = str(check_input(Path(input_path), FORMATS))
    if not str(output).lower().rstrip("/").endswith(".parquet"):
        raise LeadscoreError(f"--out {output} must end in .parquet: Spark writes a Parquet folder.")
    bundle, version = load_bundle(model_uri, config)
    label = f"v{version.version}" if version is not None else (model_uri or "champion")
    number = str(version.version) if version is not None else label  # as the local engine writes
    spark = spark_session(master)
    try:
        from py4j.protocol import Py4JJavaError
        from pyspark.errors import PySparkException

        reader = spark.read
        leads = (reader.parquet(source) if source.lower().rstrip("/").endswith(".parquet")
                 else reader.option("header", True).option("inferSchema", False)
                 .option("multiLine", True).option("escape", '"').csv(source))
        name = source.rstrip("/").rsplit("/", 1)[-1]
        if "lead_id" not in leads.columns:
            raise no_lead_id(name)
        refuse_misnamed(name, list(leads.columns), bundle)
        # as the local engine: an id repeated with the same values is scored once, one given
        # different values is refused (before any job writes or logs a score)
        repeated = (repeated_ids(Path(source))[0] if "://" not in source
                    else repeated_leads(leads, name))
        if repeated:
            leads = leads.dropDuplicates(["lead_id"])  # the rows of each such id are alike
        scored = score_dataframe(spark, leads, bundle, model_version=number,
                                 now=now or datetime.now(UTC), top=top_reasons(config))
        target = _staging(output)
        scored.write.mode("overwrite").parquet(target)
        counts = spark.read.parquet(target).selectExpr(
            "count(*) AS n", "sum(CAST(is_mql AS INT)) AS mqls").collect()[0]
        if target != str(output):
            _clear(Path(output))
            os.replace(target, output)
    except (PySparkException, Py4JJavaError) as exc:
        if "://" not in str(output):
            shutil.rmtree(_staging(output), ignore_errors=True)
        raise _spark_failure(exc) from None
    total, mqls = int(counts["n"]), int(counts["mqls"] or 0)
    share = f" ({mqls / total:.1%})" if total else ""
    cycle = bundle.manifest.get("cycle")
    by = f"model {label}" + (f" (cycle {cycle})" if cycle else "")
    # a quiet day's header-only file: the folder holds the scores' columns and no row
    empty = f" {no_lead_line(name, output)}" if not total else ""
    again = f" {repeat_line(repeated)}" if repeated else ""
    return (f"Scored {plural(total, 'lead')} on Spark with {by}: {plural(mqls, 'MQL')}{share}; "
            f"wrote {output}.{empty}{again}")
