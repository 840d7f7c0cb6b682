"""``leadscore score``: a file of leads in, scores and reasons out, with the champion by default.

The input is a CSV, Parquet or Excel (.xlsx) file of lead rows (the leads table's columns, an
optional ``activities`` column holding a JSON list of ``{"activity_type", "occurred_at"}``, an
optional ``attributes`` JSON object, an optional ``as_of``); the activities can instead be joined by
``lead_id`` from an activities file or the store (``training.batch_io``). Every chunk goes
through the one scoring path the API uses (``ScoringBundle.score_records``), so a lead scores the
same in a file, on Spark (``training.spark_score``) and over HTTP.

The file is read and written in chunks (memory stays bounded), and the chunks are scored by a
pool of worker processes, one per core: feature building is Python and holds the GIL, so
processes, not threads, use every core. Chunks are written in input order as they finish.

The output holds ``lead_id`` and the model's answers only (score, fit_score, intent_score, grade,
is_mql, reasons as a JSON string, model_version): personal data such as e-mail addresses is never
copied to it.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pandas as pd

from features.lead_fields import LEAD_FIELDS, misnamed, misnamed_rule
from features.text_rules import LEAD_ID_RULE
from leadscore.errors import LeadscoreError
from scoring.bundle import OUTPUT_COLUMNS, ScoringBundle
from scoring.pyfunc import LeadRowError, score_lead_frame
from training.batch_io import (
    ChunkWriter,
    check_input,
    count_rows,
    first_rows,
    input_columns,
    lead_chunks,
    repeated_ids,
)
from training.batch_log import (
    Scored,
    absent_line,
    no_lead_line,
    open_score_log,
    repeat_line,
    score_log_place,
)

CHUNK = 2_000
TOP_REASONS = 5
FILE_COLUMNS = ["lead_id", *OUTPUT_COLUMNS, "reasons", "model_version"]
"""The output file's columns: the lead's id and the model's answers, never personal data."""
FIT_INPUTS = {"source": ("source",), "seniority": ("title",), "department": ("title",),
              "company_size_band": ("company_size",), "industry": ("industry",),
              "country": ("country",), "region": ("country",),
              "free_email": ("email_domain", "email")}
"""The lead columns each fit feature is computed from (``features.fit``); any one will do."""


def learned_features(bundle: ScoringBundle) -> list[dict[str, Any]]:
    """The model's features that took more than one value in training (the bundle's training
    profile): a column the training export never filled taught the model nothing."""
    profile = {f["name"]: f for f in (bundle.manifest.get("training_profile") or {})
               .get("features", [])}
    learned = []
    for feature in bundle.manifest["features"]:
        shares = (profile.get(feature["name"]) or {}).get("shares") or []
        if sum(1 for s in shares if s and s > 0) >= 2:
            learned.append(feature)
    return learned


def model_inputs(bundle: ScoringBundle) -> list[tuple[str, ...]]:
    """For each lead column the model learned from, the names it may come under (any one will
    do): an attribute's name, or ``FIT_INPUTS``' columns of a fit feature."""
    inputs: list[tuple[str, ...]] = []
    for feature in learned_features(bundle):
        names = ((feature["attribute"],) if feature.get("attribute")
                 else FIT_INPUTS.get(feature["name"], ()))
        if names and names not in inputs:
            inputs.append(names)
    return inputs


def absent_inputs(bundle: ScoringBundle, columns: list[str]) -> list[str]:
    """The input columns the model learned from (``model_inputs``) that ``columns`` lacks; an
    ``attributes`` JSON column may hold any attribute, so none is then called absent."""
    have = set(columns)
    attributes = ({f["attribute"] for f in learned_features(bundle) if f.get("attribute")}
                  if "attributes" in have else set())
    return [names[0] for names in model_inputs(bundle)
            if not have & set(names) and names[0] not in attributes]


MAPPING_HINT = (", or score the CRM's own export through the mapping it was ingested with "
                "(--mapping M.yaml),")
"""What the local engine adds to a refusal of a file in a CRM's own shape."""


def no_lead_id(name: str, hint: str = "") -> LeadscoreError:
    """The refusal of a leads file without a ``lead_id`` column, on every engine: row numbers as
    ids would land in the output and the score log as if they were leads. ``hint``: a way out
    this engine has (``MAPPING_HINT``)."""
    return LeadscoreError(
        f"{name} has no lead_id column: scores are written and logged by lead id; name the "
        f"column that holds each lead's id lead_id{hint} and re-run."
    )


def refuse_misnamed(name: str, columns: list[str], bundle: ScoringBundle,
                    hint: str = "") -> None:
    """Refuse a file with a column that differs from a lead field or an attribute column of the
    model only in case or punctuation (``Title``, ``Company Size``): it would be ignored, every
    lead scored as if it were blank. The API refuses such a field alike (a 422).

    Raises:
        LeadscoreError: naming the first such column and the name to use.
    """
    found = misnamed(columns, (*LEAD_FIELDS, *bundle.attribute_columns))
    if found:
        given, meant = found[0]
        raise LeadscoreError(f"{name}: column {given}: {misnamed_rule(meant)}; rename the "
                             f"column{hint} and re-run.")


def score_chunk(bundle: ScoringBundle, leads: pd.DataFrame, *, now: datetime,
                start: int | None = 0, top: int = TOP_REASONS, model_version: str = "",
                hashes: bool = False, name: str = "the leads") -> pd.DataFrame:
    """Score one chunk of lead rows: one output row per input row, in order.

    Args:
        bundle: the scoring bundle.
        leads: lead rows (see the module docstring), with their ``lead_id``.
        now: the scoring moment of rows without ``as_of``.
        start: the chunk's first row in the file (0-based), so an error names the file's row
            (counted from 1); None where rows have no order to name (Spark's partitions): an
            error then names the lead by its id only.
        top: reasons per lead.
        model_version: written in the ``model_version`` column.
        name: the file, for the error of a chunk without ``lead_id``.

    Raises:
        LeadscoreError: naming the row when a lead is malformed or has no id.
    """
    if "lead_id" not in leads.columns:
        raise no_lead_id(name)
    ids = leads["lead_id"]
    blank = ids.isna() | ids.astype(str).str.strip().eq("")
    if blank.any():
        raise LeadscoreError(_where(int(blank.to_numpy().argmax()), start, None)
                             + f": lead_id: {LEAD_ID_RULE}.")
    try:
        scores = score_lead_frame(bundle, leads, now=now, top_reasons=top)
    except LeadRowError as exc:
        raise LeadscoreError(f"{_where(exc.index, start, str(ids.iloc[exc.index]))}: "
                             f"{exc.detail}") from None
    out = scores.frame().reset_index(drop=True)
    out.insert(0, "lead_id", ids.astype(str).tolist())
    out["reasons"] = [json.dumps([r.as_dict() for r in lead]) for lead in scores.reasons or []]
    out["model_version"] = model_version
    if hashes:  # for the score log; never written to the file
        return out[FILE_COLUMNS].assign(feature_hash=scores.feature_hash,
                                        feature_bins=scores.feature_bins)
    return out[FILE_COLUMNS]


def _where(index: int, start: int | None, lead_id: str | None) -> str:
    """A lead as an error names it: the file's row counted from 1, and its id."""
    if start is None:
        return f"Lead {lead_id}" if lead_id is not None else "A lead"
    return f"Row {start + index + 1}" + (f" (lead_id {lead_id})" if lead_id is not None else "")


# ---- the worker processes ------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _start_worker(bundle_dir: str, now: datetime, model_version: str, top: int) -> None:
    # one thread per process: the processes already take every core
    _WORKER.update(bundle=ScoringBundle.load(bundle_dir, num_threads=1), now=now,
                   model_version=model_version, top=top)


def _score_in_worker(leads: pd.DataFrame, start: int) -> pd.DataFrame:
    return score_chunk(_WORKER["bundle"], leads, now=_WORKER["now"], start=start,
                       top=_WORKER["top"], model_version=_WORKER["model_version"], hashes=True)


def top_reasons(config: dict[str, Any]) -> int:
    """Reasons per lead: the API's ``serving.top_reasons``, so a lead gets as many in a file."""
    return int((config.get("serving") or {}).get("top_reasons") or TOP_REASONS)


def default_workers() -> int:
    """One worker per core this process may run on."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def score_chunks(bundle: ScoringBundle, chunks: Iterable[pd.DataFrame], *, now: datetime,
                 model_version: str, workers: int,
                 on_scored: Callable[[pd.DataFrame], None], top: int = TOP_REASONS) -> None:
    """Score every chunk, handing each scored chunk to ``on_scored`` in input order.

    With ``workers`` > 1 the chunks go to that many processes (started fresh, not forked, so no
    thread pool of the parent is copied half-held); at most two chunks per worker wait in
    memory at a time.
    """
    if workers <= 1:
        start = 0
        for chunk in chunks:
            on_scored(score_chunk(bundle, chunk, now=now, start=start, top=top,
                                  model_version=model_version, hashes=True))
            start += len(chunk)
        return
    with tempfile.TemporaryDirectory(prefix="leadscore-bundle-") as folder:
        bundle.save(folder)
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                                 initializer=_start_worker,
                                 initargs=(folder, now, model_version, top)) as pool:
            pending: deque[Future] = deque()
            start = 0
            try:
                for chunk in chunks:
                    pending.append(pool.submit(_score_in_worker, chunk, start))
                    start += len(chunk)
                    if len(pending) >= 2 * workers:
                        on_scored(pending.popleft().result())
                while pending:
                    on_scored(pending.popleft().result())
            except BaseException as exc:
                for future in pending:
                    future.cancel()
                if isinstance(exc, BrokenProcessPool):
                    raise LeadscoreError(
                        "A scoring worker process died (out of memory?): rerun with fewer "
                        "--workers."
                    ) from None
                raise


def score_file(
    input_path: Path, output: Path, config: dict[str, Any], model_uri: str | None = None, *,
    workers: int | None = None, activities: str | Path | None = None, chunk: int = CHUNK,
    now: datetime | None = None,
) -> str:
    """Score every lead of ``input_path`` and write scores and reasons to ``output``.

    Args:
        input_path: CSV, Parquet or .xlsx file of leads.
        output: where to write (``.csv`` or ``.parquet``, by its suffix).
        config: the leadscore config (the MLflow store, registered model name, the store).
        model_uri: an MLflow model URI; None means ``models:/<registered_model>@champion``.
        workers: processes to score with; None means one per core.
        activities: None to read the leads' ``activities`` column; ``"store"`` or an activities
            file to join them by lead id.
        chunk: rows per chunk.
        now: the scoring moment of rows without their own ``as_of``; None means now.

    Returns:
        One line saying what was scored, by which model, and where it went.

    Raises:
        LeadscoreError: when there is no champion, a file cannot be read, or a lead is malformed.
    """
    from training.registry import load_bundle

    writer = ChunkWriter(Path(output))
    try:
        input_path = check_input(input_path)
        columns = input_columns(input_path)
        others = [d for d in ";\t|" if len(columns) == 1 and d in columns[0]]
        if others:
            raise LeadscoreError(
                f"{input_path.name} reads as one column although its header holds "
                f"{others[0]!r} that no sniffing could tell as its delimiter; save it with commas "
                "(or as Parquet) and re-run."
            )
        if "lead_id" not in columns:
            raise no_lead_id(input_path.name, MAPPING_HINT)
        bundle, version = load_bundle(model_uri, config)
        refuse_misnamed(input_path.name, columns, bundle, MAPPING_HINT)
        absent = absent_inputs(bundle, columns)
        repeated, ids = repeated_ids(input_path)  # before a score is logged: refusals first
        rows = count_rows(input_path)
        scored = write_scores(writer, bundle, version, model_uri, first_rows(
            lead_chunks(input_path, chunk, activities, Path(config["store"])), ids),
            rows=None if rows is None else rows - repeated, config=config, workers=workers,
            now=now, chunk=chunk)
    except BaseException:
        writer.abort()
        raise
    gap = f" {absent_line(input_path.name, absent)}" if absent else ""
    empty = f" {no_lead_line(input_path.name, writer.output)}" if not scored.total else ""
    again = f" {repeat_line(repeated)}" if repeated else ""
    return scored.line() + empty + again + gap


def write_scores(writer: ChunkWriter, bundle: ScoringBundle, version, model_uri: str | None,
                 chunks: Iterable[pd.DataFrame], *, rows: int | None, config: dict[str, Any],
                 workers: int | None, now: datetime | None, chunk: int = CHUNK,
                 log: bool = True) -> Scored:
    """Score ``chunks`` with ``bundle`` (registered as ``version``, or None for a bare
    ``model_uri``) on every core, write them through ``writer`` (committed at the end; the
    caller aborts it on an error) and, with ``log``, add them to the score log. ``rows``: how
    many, if known."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    label = f"v{version.version}" if version is not None else (model_uri or "champion")
    number = str(version.version) if version is not None else label
    total, mqls, logged = 0, 0, 0
    place, new_log = score_log_place(config) if log else ("", False)
    score_log = open_score_log(config) if log else None
    # each chunk's score-log rows wait in a temporary folder and join the log in one
    # transaction with the file: a bad row in a later chunk leaves neither (nothing logged twice)
    pending = (tempfile.TemporaryDirectory(prefix="leadscore-scorelog-")
               if score_log is not None else None)
    chunks_logged: list[Path] = []
    try:
        workers = workers or default_workers()
        if rows is not None:  # no more processes than chunks: a small file stays in-process
            workers = max(1, min(workers, -(-rows // chunk)))
        console = Console(stderr=True)  # stdout keeps only the summary (no blank first line)
        with Progress(TextColumn("scoring"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True,
                      disable=not console.is_terminal) as progress:
            task = progress.add_task("score", total=rows)

            def on_scored(frame: pd.DataFrame) -> None:
                nonlocal total, mqls, logged
                hashes = frame.pop("feature_hash")
                bins = frame.pop("feature_bins")
                writer.write(frame)
                if pending is not None:
                    chunks_logged.append(Path(pending.name) / f"{len(chunks_logged)}.pickle")
                    chunks_logged[-1].write_bytes(pickle.dumps(
                        log_rows(frame, hashes, number, bins=bins)))
                total += len(frame)
                mqls += int(frame["is_mql"].sum())
                progress.advance(task, len(frame))

            # the file's model_version is the registry version as the API answers it and the
            # score log keeps it ("3"); the summary line says "model v3"
            score_chunks(bundle, chunks, now=now or datetime.now(UTC), model_version=number,
                         workers=workers, on_scored=on_scored, top=top_reasons(config))
        def commit() -> None:
            writer.commit(pd.DataFrame(columns=FILE_COLUMNS))

        if score_log is None:
            commit()
        else:
            logged = score_log.log_scores_atomically(
                (pickle.loads(path.read_bytes()) for path in chunks_logged),
                before_commit=commit)
    finally:
        if score_log is not None:
            score_log.close()
        if pending is not None:
            pending.cleanup()
    cycle = bundle.manifest.get("cycle")
    by = f"model {label}" + (f" (cycle {cycle})" if cycle else "")
    return Scored(total=total, mqls=mqls, logged=logged, by=by, output=writer.output,
                  log=place, new_log=new_log and score_log is not None)


def log_rows(frame: pd.DataFrame, hashes: pd.Series, version: str,
             source: str = "batch", bins: pd.Series | None = None) -> list[dict[str, Any]]:
    """Score-log rows of one scored chunk (``source``: who scored, as the score log says;
    ``bins``: each lead's feature bins, or None)."""
    at = datetime.now(UTC).replace(tzinfo=None)
    bins = [None] * len(frame) if bins is None else bins
    return [{"lead_id": r.lead_id, "scored_at": at, "model_version": version,
             "score": float(r.score), "fit_score": float(r.fit_score),
             "intent_score": float(r.intent_score), "grade": r.grade, "is_mql": bool(r.is_mql),
             "reasons": json.loads(r.reasons), "feature_hash": h, "source": source,
             "feature_bins": b}
            for r, h, b in zip(frame.itertuples(index=False), hashes, bins, strict=True)]
