"""The live loop inside a worker: store events and verdicts, enrich score-by-id, log every score.

One ``LiveLoop`` per worker process. Events and verdicts are written in the request, one durable
transaction each, and answered after the commit. Scores go to the score log before the answer:
a small request's rows are committed on the event loop; a large one's through
``ScoreLogWriter``, a writer thread that commits whatever queued up meanwhile in one transaction
(group commit). Either way a request is answered only after its rows are committed
(docs/api.md, "What is kept").
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from features.contract import is_placeholder
from features.fit import email_domain
from features.label_policy import LabelPolicy
from features.labels import load_policy
from features.live_store import (
    LEAD_FIELDS,
    LiveStore,
    LiveStoreUnavailable,
    live_url,
    naive_utc,
)
from features.store import LeadLookup
from features.text_rules import KEY_BYTES_RULE, key_problem
from features.timestamps import HISTORY_TIMESTAMPS, future_problem, stored_history_problem
from serving.gateway import RequestRejected
from serving.live_schemas import DispositionsRequest, EventsRequest, OutcomesRequest
from serving.schemas import Lead

logger = logging.getLogger("leadscore.serving")
MOVED_REASONS = 3
REOPEN_S = 2.0
"""Seconds between tries to open a live store that could not be opened (a database outage):
requests meanwhile get their 503 at once instead of each waiting for a connection attempt."""
INLINE_LOG_ROWS = 10
"""Score-log rows of a request up to this many are committed on the event loop (about 0.3 ms on
SQLite, one round trip on PostgreSQL); two thread hand-offs cost more on a busy machine. Larger
batches go to the group-commit writer thread, which keeps the loop free."""


class ScoreLogWriter:
    """Commits score-log rows from a thread; ``await record(rows)`` returns once they are in."""

    def __init__(self, store: Callable[[], LiveStore]) -> None:
        self.store = store  # the store now (raises while it cannot be opened)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="score-log", daemon=True)
        self._thread.start()

    async def record(self, rows: list[dict[str, Any]]) -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._queue.put((rows, loop, done))
        await done

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while True:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                batch.append(more)
            error: BaseException | None = None
            try:
                self.store().log_scores([row for rows, _, _ in batch for row in rows])
            except Exception as exc:  # noqa: BLE001 - handed to every waiting request
                error = exc
            for _, loop, done in batch:
                loop.call_soon_threadsafe(_settle, done, error)


def _settle(done: asyncio.Future, error: BaseException | None) -> None:
    if done.done():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)


def _iso(value: datetime) -> str:
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def refuse_future(field: str, value: datetime | None, now: datetime) -> None:
    """A 422 for a record dated more than a day after the server's clock
    (``features.timestamps.future_problem``): stored, it would move the store's data horizon
    into the future. Checked before anything is written, so the request stores nothing.

    Raises:
        RequestRejected: naming ``field`` and the rule.
    """
    problem = future_problem(value, now)
    if problem:
        raise RequestRejected(422, f"{field}: {problem}; nothing of this request was stored.",
                              field)


def lead_row(lead: Lead) -> dict[str, Any]:
    """A lead upsert as stored: the fields it sent (an e-mail reduced to its domain).

    ``null`` (and empty ``attributes``) is a field not sent, as everywhere in the API: CRM
    webhooks send null for every empty property, and a change event carrying one must not wipe
    what an earlier event stored (the review's merge keeps the stored value alike).
    """
    sent = lead.model_fields_set
    row: dict[str, Any] = {"lead_id": lead.lead_id}
    for name in LEAD_FIELDS:
        if name in sent:
            value = getattr(lead, name)
            if value is None or (name == "attributes" and not value):
                continue
            row[name] = naive_utc(value) if isinstance(value, datetime) else value
    if "email_domain" not in row and lead.email:
        row["email_domain"] = email_domain(lead.email)
    return row


def merge(lead: Lead, fields: dict[str, Any], activities: list[dict]) -> dict[str, Any]:
    """A request's lead on top of what the stores hold: sent fields win, activities join."""
    record = dict(vars(lead))
    sent = lead.model_fields_set
    for name, value in fields.items():
        if name == "attributes":
            record[name] = {**value, **(lead.attributes or {})}
        elif name not in sent or record.get(name) is None:
            record[name] = value
    if activities:
        seen = {(a["activity_type"], naive_utc(a["occurred_at"])) for a in lead.activities}
        extra = [a for a in activities if (a["activity_type"], a["occurred_at"]) not in seen]
        record["activities"] = [*lead.activities, *extra]
    return record


def changes(now: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
    """``changes`` of one score: the previous one and the reasons that moved most since."""
    if before is None:
        return {"previous": None, "moved": [], "summary": "first score of this lead"}
    was = {r["feature"]: r for r in before.get("reasons") or []}
    is_ = {r["feature"]: r for r in now["reasons"]}
    moved = sorted(
        ({"feature": f, "label": (is_.get(f) or was[f])["label"],
          "impact_before": round(float(was[f]["impact"]) if f in was else 0.0, 6),
          "impact_now": round(float(is_[f]["impact"]) if f in is_ else 0.0, 6)}
         for f in {*was, *is_}),
        key=lambda m: -abs(m["impact_now"] - m["impact_before"]))
    moved = [m for m in moved if m["impact_now"] != m["impact_before"]][:MOVED_REASONS]
    parts = [m["label"] for m in moved[:1]]
    if before.get("grade") != now["grade"]:
        parts.append(f"grade {before.get('grade')} -> {now['grade']}")
    elif abs(now["score"] - before["score"]) >= 0.0005:
        parts.append(f"score {before['score']:.3f} -> {now['score']:.3f}")
    return {
        "previous": {"score": round(float(before["score"]), 6), "grade": before.get("grade"),
                     "model_version": str(before["model_version"]),
                     "scored_at": _iso(before["scored_at"])},
        "moved": moved, "summary": "; ".join(parts) or "no change",
    }


class LiveLoop:
    """A worker's handle on the live store (and, for score-by-id, the DuckDB store)."""

    def __init__(self, config: dict[str, Any]) -> None:
        live = config.get("live") or {}
        self.url = live_url(config)
        self.policy: LabelPolicy = load_policy((config.get("labels") or {}).get("policy"))
        self._store: LiveStore | None = None
        self._opening = threading.Lock()
        self._tried_at = -REOPEN_S
        try:
            self._store = LiveStore(self.url)
        except LiveStoreUnavailable:
            # a worker started while the database is down (a replacement during an outage)
            # serves the model; the live routes answer 503 until the store opens (the error's
            # message names the database host: not logged)
            self._tried_at = time.monotonic()
            logger.error("The live store cannot be opened now (is the database up?): the live "
                         "routes and POST /score answer 503 until it can; retrying.")
        self.lookup = LeadLookup(config["store"]) if live.get("read_store", True) else None
        self._store_path = Path(config["store"]).absolute()
        self._snapshot: bool | None = None  # whether the lookup snapshot was there last time
        self._note_snapshot()
        self.writer = (ScoreLogWriter(lambda: self.store) if live.get("score_log", True)
                       else None)

    @property
    def store(self) -> LiveStore:
        """The live store; opened now if it could not be at start (at most every ``REOPEN_S``).

        Raises:
            LiveStoreUnavailable: it still cannot be opened (the request gets a 503).
        """
        store = self._store
        if store is not None:
            return store
        with self._opening:
            if self._store is None:
                if time.monotonic() - self._tried_at < REOPEN_S:
                    raise LiveStoreUnavailable("The live store cannot be opened yet.")
                self._tried_at = time.monotonic()
                self._store = LiveStore(self.url)
                logger.warning("The live store is open: the live routes answer again.")
            return self._store

    def _note_snapshot(self) -> None:
        """Log when the store's lookup snapshot is missing (at start, or gone since) and when it
        is back: without it a lead scored by id gets none of its ingested fields or activities,
        which no answer shows (a relative ``store`` read from another folder, a moved store)."""
        if self.lookup is None:
            return
        there = self.lookup.path.exists()
        if there == self._snapshot:
            return
        if there and self._snapshot is not None:
            logger.info("POST /score by lead id reads the store's snapshot again (%s).",
                           self.lookup.path)
        elif not there:
            why = ("it was there before" if self._snapshot else "the store has none yet"
                   if self._store_path.exists() else f"the store {self._store_path} does not "
                   "exist: a relative store path is read from the folder the server started in")
            logger.warning("No lookup snapshot at %s (%s): POST /score by lead id reads only the "
                           "live store, so a lead is scored without its ingested fields and "
                           "activities until `leadscore ingest` or a review publishes one.",
                           self.lookup.path, why)
        self._snapshot = there

    def close(self) -> None:
        if self.writer is not None:
            self.writer.stop()
        if self.lookup is not None:
            self.lookup.close()
        if self._store is not None:
            self._store.close()

    def records(self, leads: Sequence[Lead]) -> tuple[list[dict[str, Any]], dict[str, dict]]:
        """The leads to score (each one's stored fields and history with the request's on top),
        and each lead's previous score (for ``changes``).

        Raises:
            RequestRejected: 422 naming ``leads[i]`` when its stored history holds a timestamp
                the scoring rule refuses (``features.timestamps``), as batch scoring refuses it.
        """
        ids = [lead.lead_id for lead in leads]
        self._note_snapshot()
        known = self.lookup.leads(ids) if self.lookup is not None else {}
        live, previous = self.store.lookup(ids)
        for lead_id, (fields, activities) in live.items():
            old_fields, old_activities = known.get(lead_id, ({}, []))
            keys = {(a["activity_type"], a["occurred_at"]) for a in old_activities}
            known[lead_id] = ({**old_fields, **fields}, [
                *old_activities,
                *(a for a in activities if (a["activity_type"], a["occurred_at"]) not in keys)])
        for i, lead in enumerate(leads):
            problem = (stored_history_problem(*known[lead.lead_id]) if lead.lead_id in known
                       else None)
            if problem:
                raise RequestRejected(
                    422, f"leads[{i}]: {problem}, which every scoring path refuses; correct "
                    "it in the export and ingest it again.",
                    f"leads[{i}]")
        return [merge(lead, *known[lead.lead_id]) if lead.lead_id in known else vars(lead)
                for lead in leads], previous

    async def finish(self, payload: dict[str, Any], hashes: Sequence[str] | None,
                     previous: dict[str, dict], source: str = "api",
                     bins: Sequence[str] | None = None) -> None:
        """Add ``changes`` to each score, then log the scores (returns after the commit)."""
        scores = payload["scores"]
        for s in scores:
            s["changes"] = changes(s, previous.get(s["lead_id"]))
        if self.writer is None:
            return
        rows = log_rows(payload, hashes, source, bins)
        if len(rows) <= INLINE_LOG_ROWS:
            self.store.log_scores(rows)  # a hand-off to the writer thread costs more than this
        else:
            await self.writer.record(rows)

    def events(self, request: EventsRequest) -> dict[str, int]:
        now = datetime.now(UTC)
        for i, a in enumerate(request.activities):
            refuse_future(f"activities[{i}].occurred_at", a.occurred_at, now)
        for i, lead in enumerate(request.leads):
            for name in HISTORY_TIMESTAMPS:
                refuse_future(f"leads[{i}].{name}", getattr(lead, name), now)
            for j, a in enumerate(lead.activities):
                refuse_future(f"leads[{i}].activities[{j}].occurred_at", a["occurred_at"], now)
                if key_problem(a["activity_type"]):  # /score takes it; the store indexes it
                    field = f"leads[{i}].activities[{j}].activity_type"
                    raise RequestRejected(422, f"{field}: {KEY_BYTES_RULE}.", field)
        activities = [{"lead_id": a.lead_id, "activity_type": a.activity_type,
                       "occurred_at": naive_utc(a.occurred_at)} for a in request.activities]
        for lead in request.leads:
            activities += [{"lead_id": lead.lead_id, "activity_type": a["activity_type"],
                            "occurred_at": naive_utc(a["occurred_at"])} for a in lead.activities]
        # several upserts of one lead in a request apply in order, each setting its own fields
        # (the store keeps one row per lead and statement: the last would drop the others')
        rows: dict[str, dict[str, Any]] = {}
        for lead in request.leads:
            rows[lead.lead_id] = {**rows.get(lead.lead_id, {}), **lead_row(lead)}
        written = self.store.write(leads=list(rows.values()), activities=activities)
        return stored_answer(written, leads=len(request.leads), activities=len(activities))

    def dispositions(self, request: DispositionsRequest) -> dict[str, int]:
        rows = []
        now = datetime.now(UTC)
        for i, d in enumerate(request.dispositions):
            for name in ("dispositioned_at", "first_touch_at"):
                refuse_future(f"dispositions[{i}].{name}", getattr(d, name), now)
            if d.status.strip() not in self.policy.statuses:
                # the review refuses a store holding an unknown status, whatever its reason code
                raise RequestRejected(
                    422, f"dispositions[{i}].status: not a status of label policy "
                    f"v{self.policy.version} ({self.policy.source}); use one of: "
                    f"{', '.join(sorted(self.policy.statuses))}, or add it to the policy.",
                    f"dispositions[{i}].status")
            if self.policy.family(d.status, d.reason_code) is None:
                if is_placeholder(d.reason_code):  # a known status that needs a reason code
                    raise RequestRejected(
                        422, f"dispositions[{i}].reason_code: this status needs a reason code "
                        f"under label policy v{self.policy.version}; use one of: "
                        f"{', '.join(sorted(self.policy.reason_codes))}.",
                        f"dispositions[{i}].reason_code")
                raise RequestRejected(
                    422, f"dispositions[{i}].reason_code: not a reason code of label policy "
                    f"v{self.policy.version} ({self.policy.source}); use one of: "
                    f"{', '.join(sorted(self.policy.reason_codes))}, or add it to the policy.",
                    f"dispositions[{i}].reason_code")
            rows.append({**d.model_dump(), "dispositioned_at": naive_utc(d.dispositioned_at),
                         "first_touch_at": naive_utc(d.first_touch_at)})
        return stored_answer(self.store.write(dispositions=rows), dispositions=len(rows))

    def outcomes(self, request: OutcomesRequest) -> dict[str, int]:
        rows = []
        now = datetime.now(UTC)
        for i, o in enumerate(request.outcomes):
            refuse_future(f"outcomes[{i}].occurred_at", o.occurred_at, now)
            if o.stage not in self.policy.outcome_stages:
                raise RequestRejected(
                    422, f"outcomes[{i}].stage: not an outcome stage of label policy "
                    f"v{self.policy.version}; use one of: "
                    f"{', '.join(sorted(self.policy.outcome_stages))}.", f"outcomes[{i}].stage")
            rows.append({**o.model_dump(), "occurred_at": naive_utc(o.occurred_at)})
        return stored_answer(self.store.write(outcomes=rows), outcomes=len(rows))


def stored_answer(written: dict[str, tuple[int, int]], **received: int) -> dict[str, Any]:
    """The live endpoints' answer (``serving.live_schemas.Stored``): what the request carried,
    per table, and of its distinct rows how many were new and how many already stored."""
    tables = ("leads", "activities", "dispositions", "outcomes")
    return {**{t: received.get(t, 0) for t in tables},
            "new": {t: written.get(t, (0, 0))[0] for t in tables},
            "already_stored": {t: written.get(t, (0, 0))[1] for t in tables}}


def log_rows(payload: dict[str, Any], hashes: Sequence[str] | None,
             source: str, bins: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Score-log rows of a ``ScoreResponse`` payload (``bins``: each lead's feature bins)."""
    at = datetime.now(UTC).replace(tzinfo=None)
    hashes = hashes or [None] * len(payload["scores"])
    bins = bins or [None] * len(payload["scores"])
    return [{"lead_id": s["lead_id"], "scored_at": at, "model_version": payload["model_version"],
             "score": s["score"], "fit_score": s["fit_score"], "intent_score": s["intent_score"],
             "grade": s["grade"], "is_mql": s["is_mql"], "reasons": s["reasons"],
             "feature_hash": h, "source": source, "feature_bins": b}
            for s, h, b in zip(payload["scores"], hashes, bins, strict=True)]
