"""``leadscore rescore``: every open lead scored again by the champion, and the list of the leads
whose MQL flag or grade changed, for marketing operations to push back to the CRM.

**Open** is what the label code leaves unknown (``features.labels.open_leads``): a lead created by
the rescore moment with no positive outcome or verdict, no negative or excluded verdict as its
latest one, and still inside its maturity window. A lead past its window without a verdict is a
decided "no conversion", as in training: its score would answer a question already answered.

**Old score** of a lead: its latest score in the score log (``features.live_store``), whoever gave
it (the API, ``leadscore score``, an earlier rescore): that is the value the CRM was last sent. A
lead with no logged score was never sent one by leadscore with the log on, so nothing true can be
said about what the CRM holds; the file then compares with what the previous champion (the version
``leadscore rollback`` would go back to, or ``--previous``) gives the same lead at the same moment,
i.e. what would have been sent without the promotion, and says so in ``old_source``. With neither
(the first champion), the old columns are empty and the lead is listed: the CRM has no score.

Steps: merge what the API received into the store (under the review lock, as a review does, so a
verdict posted since the last review closes its lead) -> the open leads to a temporary Parquet
file -> their old scores (the log; the previous champion for the rest, on every core) -> the
champion scores them on every core through the one batch path (``training.batch_score``) -> the
changed rows to ``--out`` (a temporary file beside it), the new scores to the score log (source
``rescore``) in one transaction that commits only after the file is in place: a failure anywhere
leaves neither the file nor any logged score (a logged score without its file would make the next
rescore think the CRM already had it).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import sqlalchemy as sa

from features.label_policy import load_policy
from features.labels import open_leads
from features.live_sync import merge_live
from features.store import SCORING_LEAD_COLUMNS, connect
from leadscore.errors import LeadscoreError
from scoring.bundle import ScoringBundle
from training import cycle_guard
from training.batch_io import FORMATS, STORE, ChunkWriter, lead_chunks
from training.batch_log import score_log_place
from training.batch_score import (
    CHUNK,
    FILE_COLUMNS,
    default_workers,
    log_rows,
    open_score_log,
    score_chunks,
    top_reasons,
)
from training.registry import load_bundle, model_name, previous_champion, versions
from training.rescore_changes import (
    CHANGED_COLUMNS,
    OLD_COLUMNS,
    RescoreResult,
    compare,
    default_out,
)
from training.review import parse_as_of
from training.tracking import client

SOURCE = "rescore"
"""The score log's ``source`` of a rescore's scores."""
LOOKUP = 2_000
"""Lead ids per score-log query (SQLite takes at most 32,766 bound values)."""


# ---- the run ------------------------------------------------------------------------------------
def _check_store(store: Path) -> datetime | None:
    """The newest lead's creation time; raises for a missing or empty store."""
    with connect(store, read_only=True) as con:
        try:
            count, newest = con.execute("SELECT count(*), max(created_at) FROM leads").fetchone()
        except duckdb.CatalogException:
            count, newest = 0, None
    if not count:
        raise LeadscoreError(f"The store {store} holds no leads: ingest an export first "
                             f"(leadscore ingest PATH --store {store}).")
    return newest


def _write_open_leads(config: dict[str, Any], as_of: datetime, path: Path) -> int:
    """The open leads' stored fields, ordered by lead id, into a Parquet file; how many."""
    policy = load_policy(config["labels"].get("policy"))
    maturity = int(config["labels"]["maturity_days"])
    columns = ", ".join(f"l.{c}" if c != "attributes" else "CAST(l.attributes AS VARCHAR) "
                        "AS attributes" for c in SCORING_LEAD_COLUMNS)
    with connect(config["store"], read_only=True) as con:
        ids = open_leads(con, as_of, policy, maturity)[["lead_id"]]
        con.register("open_ids", ids)
        quoted = str(path).replace("'", "''")
        con.execute(f"COPY (SELECT l.lead_id, {columns} FROM leads l JOIN open_ids USING "
                    f"(lead_id) ORDER BY l.lead_id) TO '{quoted}' (FORMAT parquet)")
    return len(ids)


def _id_batches(path: Path) -> Iterator[list[str]]:
    for batch in pq.ParquetFile(path).iter_batches(batch_size=LOOKUP, columns=["lead_id"]):
        yield [str(v) for v in batch.column(0).to_pylist()]


def _logged_olds(score_log, path: Path) -> pd.DataFrame:
    """``OLD_COLUMNS`` of the open leads that have a logged score (their latest), by lead id."""
    rows = []
    if score_log is not None:
        for ids in _id_batches(path):
            for lead_id, r in score_log.previous_scores(ids).items():
                rows.append({"lead_id": str(lead_id), "old_score": r["score"],
                             "old_grade": r["grade"], "old_is_mql": r["is_mql"],
                             "old_model_version": str(r["model_version"]),
                             "old_scored_at": r["scored_at"], "old_source": "score_log"})
    return pd.DataFrame(rows, columns=["lead_id", *OLD_COLUMNS]).set_index("lead_id")


def _subset(path: Path, exclude: pd.Index, out: Path) -> int:
    """The rows of the leads file whose id is not in ``exclude``, into ``out``; how many."""
    con = duckdb.connect()
    try:
        con.register("known_ids", pd.DataFrame({"lead_id": exclude.astype(str)}))
        source, target = (str(p).replace("'", "''") for p in (path, out))
        con.execute(f"COPY (SELECT * FROM read_parquet('{source}') WHERE lead_id NOT IN "
                    f"(SELECT lead_id FROM known_ids) ORDER BY lead_id) TO '{target}' "
                    "(FORMAT parquet)")
        return int(con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0])
    finally:
        con.close()


def _score_all(bundle: ScoringBundle, leads: Path, n: int, *, config: dict[str, Any],
               as_of: datetime, version: str, workers: int | None, chunk: int, label: str,
               on_scored: Callable[[pd.DataFrame], None]) -> None:
    """Every lead of ``leads`` through the batch path on every core, with a progress bar."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    workers = max(1, min(workers or default_workers(), -(-n // chunk)))
    console = Console(stderr=True)  # stdout keeps only the summary
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task(label, total=n)

        def step(frame: pd.DataFrame) -> None:
            on_scored(frame)
            progress.advance(task, len(frame))

        score_chunks(bundle, lead_chunks(leads, chunk, STORE, Path(config["store"])),
                     now=as_of.replace(tzinfo=UTC), model_version=version, workers=workers,
                     on_scored=step, top=top_reasons(config))


def _previous_olds(config: dict[str, Any], previous: str, leads: Path, n: int, *,
                   as_of: datetime, workers: int | None, chunk: int) -> pd.DataFrame:
    """``OLD_COLUMNS`` from the previous champion's scores of the leads in ``leads``."""
    bundle, _ = load_bundle(f"models:/{model_name(config)}/{previous}", config)
    parts: list[pd.DataFrame] = []

    def keep(frame: pd.DataFrame) -> None:
        parts.append(pd.DataFrame({
            "lead_id": frame["lead_id"].astype(str), "old_score": frame["score"],
            "old_grade": frame["grade"], "old_is_mql": frame["is_mql"].astype(bool),
            "old_model_version": previous, "old_scored_at": pd.NaT,
            "old_source": "previous_champion"}))

    _score_all(bundle, leads, n, config=config, as_of=as_of, version=previous, workers=workers,
               chunk=chunk, label=f"previous champion v{previous}", on_scored=keep)
    return pd.concat(parts).set_index("lead_id") if parts else pd.DataFrame(
        columns=["lead_id", *OLD_COLUMNS]).set_index("lead_id")


def rescore(config: dict[str, Any], *, as_of: str | datetime | None = None,
            out: str | Path | None = None, previous: int | None = None,
            workers: int | None = None, chunk: int = CHUNK) -> RescoreResult:
    """Rescore every open lead of the store with the champion; write the changed list.

    Args:
        config: the leadscore config (store, MLflow registry, live store, labels).
        as_of: the rescore moment (``YYYY-MM-DD`` or an ISO time, UTC); None means now.
        out: the changed list (``.csv`` or ``.parquet``); None means ``default_out``.
        previous: the version that gives the old score of a lead without a logged score; None
            means the previous champion.
        workers: processes to score with; None means one per core.
        chunk: leads per chunk.

    Raises:
        LeadscoreError: no store, an empty store, no champion, a bad ``--out`` or ``--as-of``,
            codes the label policy does not know, a score log that cannot be written.
    """
    moment = datetime.now(UTC).replace(tzinfo=None) if as_of is None else parse_as_of(as_of)
    if out is not None and Path(out).suffix.lower() not in FORMATS:
        raise LeadscoreError(f"--out {out} must end in .csv or .parquet.")
    store = Path(config["store"])
    newest = _check_store(store)
    bundle, registered = load_bundle(None, config)  # raises when there is no champion
    version = str(registered.version)
    if previous is not None:
        _check_previous(config, previous, int(version))
    old = previous if previous is not None else previous_champion(config)[1]
    result = RescoreResult(as_of=moment, version=version, newest=newest,
                           previous=str(old) if old is not None and str(old) != version else None,
                           maturity_days=int(config["labels"]["maturity_days"]))
    result.out = Path(out) if out is not None else default_out(config, version,
                                                               datetime.now(UTC))
    with cycle_guard.review_lock(config):
        merged = merge_live(config)  # verdicts posted since the last review close their leads
    if merged is not None and (merged.leads or merged.dispositions or merged.outcomes
                               or merged.activities):
        result.notes.append(merged.line())

    score_log = open_score_log(config)
    with tempfile.TemporaryDirectory(prefix=cycle_guard.temp_prefix("rescore")) as tmp:
        folder = Path(tmp)
        leads = folder / "open.parquet"
        result.open_leads = _write_open_leads(config, moment, leads)
        try:
            _run(config, result, bundle, leads, folder, score_log, moment, workers, chunk)
        finally:
            if score_log is not None:
                score_log.close()
    return result


def _check_previous(config: dict[str, Any], previous: int, champion: int) -> None:
    """``--previous`` names a registered version other than the champion, before any work."""
    name = model_name(config)
    existing = versions(client(config), name)
    if previous not in existing:
        listed = ", ".join(f"v{v}" for v in existing)
        raise LeadscoreError(f"--previous {previous}: model {name!r} has no version {previous}; "
                             f"choose one of {listed}.")
    if previous == champion:
        others = ", ".join(f"v{v}" for v in existing if v != champion) or "none yet"
        raise LeadscoreError(f"--previous {previous} is the champion itself, whose old scores "
                             f"would equal the new ones: choose another version ({others}), or "
                             "leave --previous out.")


def _run(config: dict[str, Any], result: RescoreResult, bundle: ScoringBundle, leads: Path,
         folder: Path, score_log, moment: datetime, workers: int | None, chunk: int) -> None:
    olds = _logged_olds(score_log, leads)
    unlogged = result.open_leads - len(olds)
    if unlogged and result.previous is not None:
        rest = folder / "unlogged.parquet"
        _subset(leads, olds.index, rest)
        olds = pd.concat([olds, _previous_olds(config, result.previous, rest, unlogged,
                                               as_of=moment, workers=workers, chunk=chunk)])
    result.old_from = {"score_log": int((olds["old_source"] == "score_log").sum()),
                       "previous_champion": int((olds["old_source"] != "score_log").sum()),
                       "none": result.open_leads - len(olds)}

    writer = ChunkWriter(result.out)
    staged = ChunkWriter(folder / "scores.parquet")
    empty = pd.DataFrame(columns=CHANGED_COLUMNS)
    committed = False

    def put_in_place() -> None:
        nonlocal committed
        writer.commit(empty)
        committed = True

    def on_scored(frame: pd.DataFrame) -> None:
        staged.write(frame)
        changed = compare(frame.drop(columns=["feature_hash", "feature_bins"], errors="ignore"),
                          olds)
        known = (changed["old_source"] != "none").to_numpy()  # a first score is not a change
        flag = changed["flag_changed"].to_numpy() & known
        result.flag_changed += int(flag.sum())
        result.became_mql += int((flag & changed["new_is_mql"].to_numpy()).sum())
        result.left_mql += int((flag & ~changed["new_is_mql"].to_numpy()).sum())
        result.grade_changed += int((changed["grade_changed"].to_numpy() & known).sum())
        result.first_mql += int((~known & changed["new_is_mql"].to_numpy()).sum())
        result.listed += len(changed)
        if len(changed):
            writer.write(changed)

    try:

        if result.open_leads:
            _score_all(bundle, leads, result.open_leads, config=config, as_of=moment,
                       version=result.version, workers=workers, chunk=chunk,
                       label=f"rescoring with v{result.version}", on_scored=on_scored)
        if score_log is None or not result.open_leads:
            put_in_place()
            return
        staged.commit(pd.DataFrame(columns=[*FILE_COLUMNS, "feature_hash", "feature_bins"]))
        # the new scores' feature bins go to the log too: the monitor's drift counts them
        batches = (log_rows(frame, frame["feature_hash"], result.version, source=SOURCE,
                            bins=frame.get("feature_bins"))
                   for frame in (b.to_pandas() for b in pq.ParquetFile(staged.output)
                                 .iter_batches(batch_size=chunk)))
        result.logged = score_log.log_scores_atomically(batches, put_in_place)
        result.log = score_log_place(config)[0]
    except BaseException as exc:
        writer.abort()
        if committed:  # the file went in place, but the log's commit failed: take it back
            result.out.unlink(missing_ok=True)
        if isinstance(exc, sa.exc.SQLAlchemyError):
            raise LeadscoreError(
                f"Cannot record the new scores in the score log ({type(exc).__name__}): nothing "
                "was written; check the live store (config live.url) and rerun."
            ) from None
        raise
    finally:
        staged.abort()
