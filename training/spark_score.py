"""``leadscore score --engine spark``: the same scoring path, on a Spark cluster.

The leads (Parquet, or CSV read as text) become a Spark DataFrame; ``mapInPandas`` hands each
partition's Arrow batches to ``training.batch_score.score_chunk``, the very function the local
engine runs, with the bundle's files broadcast once and loaded once per Python worker, and one
scoring moment for every row. So the output rows are the local engine's rows: same scores, same
reasons, same JSON text. The result is written as a Parquet folder (one file per partition), as
Spark writes, and the driver adds the scores to the score log through the local engine's
``log_rows``; the summary is the local engine's (``training.batch_log``): repeated lead ids, a
quiet day's header-only file and the score log said in its sentences.

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

from leadscore.errors import LeadscoreError
from training.batch_log import (
    Scored,
    absent_line,
    no_lead_line,
    open_score_log,
    repeat_line,
    score_log_place,
)
from training.batch_score import (
    CHUNK,
    FILE_COLUMNS,
    TOP_REASONS,
    absent_inputs,
    log_rows,
    no_lead_id,
    refuse_misnamed,
    score_chunk,
    top_reasons,
)

SCHEMA = ("lead_id string, score double, fit_score double, intent_score double, grade string, "
          "is_mql boolean, reasons string, model_version string")
HASHES = ", feature_hash string, feature_bins string"
"""What ``score_dataframe(hashes=True)`` adds for the score log (never written to the output)."""
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
                    top: int = TOP_REASONS, hashes: bool = False):
    """Score a Spark DataFrame of lead rows: a DataFrame of ``SCHEMA``, one row per lead (with
    ``hashes``, also each lead's feature hash and bins, as the score log keeps them)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="leadscore-bundle-") as folder:
        bundle.save(folder)
        files = {p.name: p.read_bytes() for p in Path(folder).iterdir()}
    shared = spark.sparkContext.broadcast(files)

    def score_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        scorer = _bundle_from(shared.value)
        for batch in batches:
            yield score_chunk(scorer, batch, now=now, model_version=model_version, top=top,
                              start=None, hashes=hashes)  # a partition's rows: no file row

    return leads.mapInPandas(score_partition, schema=SCHEMA + (HASHES if hashes else ""))


def _log_batches(scored, model_version: str, size: int = CHUNK) -> Iterator[list[dict]]:
    """The score log's rows of a scored DataFrame (``hashes=True``), brought to the driver a
    partition at a time and made by the local engine's ``log_rows``."""
    def rows_of(chunk: list) -> list[dict]:
        frame = pd.DataFrame([row.asDict() for row in chunk], columns=[*FILE_COLUMNS,
                                                                       "feature_hash",
                                                                       "feature_bins"])
        return log_rows(frame[FILE_COLUMNS], frame["feature_hash"], model_version,
                        bins=frame["feature_bins"])

    chunk: list = []
    for row in scored.toLocalIterator():
        chunk.append(row)
        if len(chunk) == size:
            yield rows_of(chunk)
            chunk = []
    if chunk:
        yield rows_of(chunk)


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
    from features.csv_lines import excel_sep
    from training.batch_io import FORMATS, check_input, input_columns, repeated_ids
    from training.registry import load_bundle

    # a URI (s3a://, hdfs://, dbfs:/ ...) is the cluster's to read; a local path is checked here
    source = str(input_path)
    if "://" not in source:
        source = str(check_input(Path(input_path), FORMATS))
        if Path(source).is_file():  # a file it cannot read is the local engine's one sentence
            input_columns(Path(source))
            if source.lower().endswith(".csv") and excel_sep(Path(source)):
                raise LeadscoreError(
                    f"{Path(source).name} starts with Excel's 'sep=' line, which Spark's CSV "
                    "reader cannot skip: delete that first line (or score the file without "
                    "--engine spark) and re-run.")
    if not str(output).lower().rstrip("/").endswith(".parquet"):
        raise LeadscoreError(f"--out {output} must end in .parquet: Spark writes a Parquet folder.")
    bundle, version = load_bundle(model_uri, config)
    label = f"v{version.version}" if version is not None else (model_uri or "champion")
    number = str(version.version) if version is not None else label  # as the local engine writes
    place, new_log = score_log_place(config)  # before the log is opened (and maybe created)
    score_log = open_score_log(config)
    from py4j.protocol import Py4JJavaError
    from pyspark import StorageLevel
    from pyspark.errors import PySparkException

    spark = spark_session(master)
    target = _staging(output)
    try:
        reader = spark.read
        if "://" not in source and source.lower().endswith(".csv"):
            from features.export_files import sniff_delimiter

            # the local engine's delimiter (comma, semicolon, tab or pipe), as ingest sniffs it
            reader = reader.option("sep", sniff_delimiter(Path(source)))
        leads = (reader.parquet(source) if source.lower().rstrip("/").endswith(".parquet")
                 else reader.option("header", True).option("inferSchema", False)
                 .option("multiLine", True).option("escape", '"').csv(source))
        name = source.rstrip("/").rsplit("/", 1)[-1]
        if "lead_id" not in leads.columns:
            raise no_lead_id(name)
        refuse_misnamed(name, list(leads.columns), bundle)
        absent = absent_inputs(bundle, list(leads.columns))
        # as the local engine: an id repeated with the same values is scored once, one given
        # different values is refused (before any job writes or logs a score)
        repeated = (repeated_ids(Path(source))[0] if "://" not in source
                    else repeated_leads(leads, name))
        if repeated:
            leads = leads.dropDuplicates(["lead_id"])  # the rows of each such id are alike
        scored = score_dataframe(spark, leads, bundle, model_version=number,
                                 now=now or datetime.now(UTC), top=top_reasons(config),
                                 hashes=score_log is not None)
        if score_log is not None:  # scored once: written, then read back for the score log
            scored = scored.persist(StorageLevel.MEMORY_AND_DISK)
        scored.select(*FILE_COLUMNS).write.mode("overwrite").parquet(target)
        counts = spark.read.parquet(target).selectExpr(
            "count(*) AS n", "sum(CAST(is_mql AS INT)) AS mqls").collect()[0]

        def into_place() -> None:
            if target != str(output):
                _clear(Path(output))
                os.replace(target, output)

        # the local engine's score-log rows; the output is moved into place inside the log's
        # transaction, so a failure leaves neither the folder nor a logged score
        if score_log is None:
            into_place()
            logged = 0
        else:
            logged = score_log.log_scores_atomically(_log_batches(scored, number),
                                                     before_commit=into_place)
        scored.unpersist()
    except BaseException as exc:
        if target != str(output):
            shutil.rmtree(target, ignore_errors=True)
        if isinstance(exc, (PySparkException, Py4JJavaError)):
            raise _spark_failure(exc) from None
        raise
    finally:
        if score_log is not None:
            score_log.close()
    cycle = bundle.manifest.get("cycle")
    summary = Scored(total=int(counts["n"]), mqls=int(counts["mqls"] or 0), logged=logged,
                     by=f"model {label}" + (f" (cycle {cycle})" if cycle else ""), output=output,
                     log=place, new_log=new_log and score_log is not None, on=" on Spark")
    # a quiet day's header-only file: the folder holds the scores' columns and no row
    empty = f" {no_lead_line(name, output)}" if not summary.total else ""
    again = f" {repeat_line(repeated)}" if repeated else ""
    gap = f" {absent_line(name, absent)}" if absent else ""
    return summary.line() + empty + again + gap
