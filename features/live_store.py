"""The live store: what arrives over HTTP (events, verdicts) and every score served.

One code path for both back ends through SQLAlchemy Core, migrated with Alembic
(``features/live_migrations``): an embedded SQLite file by default (``sqlite:///data/live.db``,
WAL), PostgreSQL (``postgresql+psycopg://...``) for several API replicas.

Tables:
    live_leads, live_activities, live_dispositions, live_outcomes: the contract's tables
        (``features.contract``) with the same natural keys, plus when each row arrived. A row
        posted twice is stored once (activities: kept; leads, verdicts: replaced).
    score_log: one row per score served: lead id, time, model version, the three scores, grade,
        MQL flag, top reasons, a hash of the features, who scored (``api``, ``batch``), and
        each feature's bin under the model's training profile (``scoring.drift``; the monitor's
        drift input, no feature value itself).

Durability (docs/api.md, "What is kept"): events and verdicts are committed with full
durability before the API answers (SQLite ``synchronous=FULL``, PostgreSQL's default
``synchronous_commit``); score-log rows are committed before the score is answered, on a
connection that survives the API process being killed (SQLite WAL ``synchronous=NORMAL``,
PostgreSQL ``synchronous_commit=off``) but may lose its last instants to a power cut.

It lives in ``features`` so that the review and the API share it without importing each other.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from leadscore.errors import LeadscoreError

LIVE_URL_ENV = "LEADSCORE_LIVE_URL"
MIGRATIONS = Path(__file__).with_name("live_migrations")
_ID = sa.String(1000)

metadata = sa.MetaData()
live_leads = sa.Table(
    "live_leads", metadata,
    sa.Column("lead_id", _ID, primary_key=True),
    sa.Column("created_at", sa.DateTime), sa.Column("source", sa.Text),
    sa.Column("title", sa.Text), sa.Column("company_size", sa.Text),
    sa.Column("industry", sa.Text), sa.Column("country", sa.Text),
    sa.Column("email_domain", sa.Text), sa.Column("mql_at", sa.DateTime),
    sa.Column("campaign", sa.Text), sa.Column("attributes", sa.JSON),
    sa.Column("received_at", sa.DateTime, nullable=False),
)
live_activities = sa.Table(
    "live_activities", metadata,
    sa.Column("lead_id", _ID, primary_key=True),
    sa.Column("occurred_at", sa.DateTime, primary_key=True),
    sa.Column("activity_type", sa.String(1000), primary_key=True),
    sa.Column("received_at", sa.DateTime, nullable=False),
)
live_dispositions = sa.Table(
    "live_dispositions", metadata,
    sa.Column("lead_id", _ID, primary_key=True),
    sa.Column("dispositioned_at", sa.DateTime, primary_key=True),
    sa.Column("status", sa.String(1000), primary_key=True),
    sa.Column("reason_code", sa.Text), sa.Column("rep_id", sa.Text),
    sa.Column("attempts", sa.BigInteger), sa.Column("first_touch_at", sa.DateTime),
    sa.Column("received_at", sa.DateTime, nullable=False),
)
live_outcomes = sa.Table(
    "live_outcomes", metadata,
    sa.Column("lead_id", _ID, primary_key=True),
    sa.Column("stage", sa.String(1000), primary_key=True),
    sa.Column("occurred_at", sa.DateTime, nullable=False), sa.Column("amount", sa.Float),
    sa.Column("received_at", sa.DateTime, nullable=False),
)
score_log = sa.Table(
    "score_log", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("lead_id", _ID, nullable=False),
    sa.Column("scored_at", sa.DateTime, nullable=False),
    sa.Column("model_version", sa.String(100), nullable=False),
    sa.Column("score", sa.Float, nullable=False), sa.Column("fit_score", sa.Float),
    sa.Column("intent_score", sa.Float), sa.Column("grade", sa.String(2)),
    sa.Column("is_mql", sa.Boolean), sa.Column("reasons", sa.JSON),
    sa.Column("feature_hash", sa.String(64)), sa.Column("source", sa.String(16), nullable=False),
    sa.Column("feature_bins", sa.Text),
    sa.Index("ix_score_log_lead", "lead_id", "id"),
    sa.Index("ix_score_log_time", "scored_at"),
)
_IDS = sa.bindparam("ids", expanding=True)
_LEADS_QUERY = sa.select(live_leads).where(live_leads.c.lead_id.in_(_IDS))
_ACTIVITIES_QUERY = sa.select(live_activities.c.lead_id, live_activities.c.activity_type,
                              live_activities.c.occurred_at).where(
    live_activities.c.lead_id.in_(_IDS))
_PREVIOUS_QUERY = sa.select(score_log).where(score_log.c.id.in_(
    sa.select(sa.func.max(score_log.c.id)).where(score_log.c.lead_id.in_(_IDS))
    .group_by(score_log.c.lead_id)))
LEAD_FIELDS = ("created_at", "source", "title", "company_size", "industry", "country",
               "email_domain", "mql_at", "campaign", "attributes")
SCORE_FIELDS = ("lead_id", "scored_at", "model_version", "score", "fit_score", "intent_score",
                "grade", "is_mql", "reasons", "feature_hash", "source", "feature_bins")


def live_url(config: Mapping[str, Any]) -> str:
    """The live store's URL: ``LEADSCORE_LIVE_URL``, else the config's ``live.url``."""
    return os.environ.get(LIVE_URL_ENV) or str((config.get("live") or {}).get("url")
                                               or "sqlite:///data/live.db")


def naive_utc(value: datetime | None) -> datetime | None:
    """A timestamp as the store keeps it: naive UTC (the DuckDB store's convention too)."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _sqlite_file(url: sa.URL) -> Path | None:
    database = url.database
    return Path(database) if url.get_backend_name() == "sqlite" and database not in (
        None, "", ":memory:") else None


def _engine(url: sa.URL, *, durable: bool) -> sa.Engine:
    backend = url.get_backend_name()
    if backend == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_con, _record) -> None:  # noqa: ANN001 - SQLAlchemy's hook
            cursor = dbapi_con.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            cursor.close()
        return engine
    if backend == "postgresql":
        options = {} if durable else {"options": "-c synchronous_commit=off"}
        # no pre-ping: it would cost a round trip per request; a connection the server dropped
        # fails one request (503, retry-safe) and the pool replaces it
        return sa.create_engine(url, pool_size=4, pool_recycle=300, connect_args=options)
    raise LeadscoreError(f"The live store URL names {backend!r}: use sqlite:///PATH or "
                         "postgresql+psycopg://USER@HOST/DB.")


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to Alembic's head; safe when several workers start at once (a file lock
    for SQLite, an advisory lock for PostgreSQL)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    lock_path = _sqlite_file(engine.url)
    lock = open(f"{lock_path}.migrate.lock", "w") if lock_path else None  # noqa: SIM115
    try:
        if lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
        with engine.begin() as con:
            if engine.dialect.name == "postgresql":
                con.exec_driver_sql("SELECT pg_advisory_xact_lock(1616)")
            config.attributes["connection"] = con
            command.upgrade(config, "head")
    finally:
        if lock:
            lock.close()


class LiveStoreUnavailable(LeadscoreError):
    """The live store's database cannot be reached or opened now (a PostgreSQL that is down)."""


class LiveStore:
    """One live store: a durable engine for events and verdicts, a fast one for the score log."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        try:
            parsed = sa.make_url(url)
        except sa.exc.ArgumentError:
            raise LeadscoreError("The live store URL is not a database URL: use "
                                 "sqlite:///data/live.db or postgresql+psycopg://...") from None
        path = _sqlite_file(parsed)
        if path is not None:
            if not create and not path.exists():
                raise LeadscoreError(f"No live store at {path}: nothing was posted to the API "
                                     "or scored yet.")
            path.parent.mkdir(parents=True, exist_ok=True)
        self.url = parsed
        self.engine = _engine(parsed, durable=True)
        self.log_engine = _engine(parsed, durable=False)
        try:
            migrate(self.engine)
        except sa.exc.OperationalError as exc:
            self.close()
            raise LiveStoreUnavailable(
                f"Cannot open the live store {parsed.render_as_string(hide_password=True)} "
                f"({type(exc.orig).__name__}): check the URL and that the database is up."
            ) from None

    def close(self) -> None:
        self.engine.dispose()
        self.log_engine.dispose()

    def _upsert(self, table: sa.Table, rows: Sequence[dict[str, Any]], *, replace: bool):
        make = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        stmt = make(table)
        keys = [c.name for c in table.primary_key.columns]
        if not replace:
            return stmt.on_conflict_do_nothing(index_elements=keys)
        columns = {c for row in rows for c in row} - set(keys)
        return stmt.on_conflict_do_update(
            index_elements=keys, set_={c: stmt.excluded[c] for c in columns})

    def write(self, *, leads: Sequence[dict[str, Any]] = (),
              activities: Sequence[dict[str, Any]] = (),
              dispositions: Sequence[dict[str, Any]] = (),
              outcomes: Sequence[dict[str, Any]] = ()) -> dict[str, tuple[int, int]]:
        """Store rows by natural key in one durable transaction (returns after the commit).

        A lead row replaces only the fields it carries; an activity already stored is kept; a
        verdict with the same key replaces the stored one (as a file re-ingest does).

        Returns ``(new, already stored)`` per table, by natural key (a repeat in the call once),
        as the store was just before the write (two calls writing one new key may both say new).
        """
        now = _now()
        counts: dict[str, tuple[int, int]] = {}
        with self.engine.begin() as con:
            # rows of one statement must carry the same keys: group leads by the fields they set
            unique_leads = {row["lead_id"]: row for row in leads}
            counts["leads"] = _new_and_stored(con, live_leads, unique_leads)
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in unique_leads.values():
                groups.setdefault(tuple(sorted(row)), []).append({**row, "received_at": now})
            for group in groups.values():
                con.execute(self._upsert(live_leads, group, replace=True), group)
            for table, rows, replace in ((live_activities, activities, False),
                                         (live_dispositions, dispositions, True),
                                         (live_outcomes, outcomes, True)):
                name = table.name.removeprefix("live_")
                keys = [c.name for c in table.primary_key.columns]
                # one row per key (the last wins): PostgreSQL refuses to touch a row twice
                unique = {tuple(row[k] for k in keys): {**row, "received_at": now}
                          for row in rows}
                rows = list(unique.values())
                if not replace and rows:  # kept rows: the insert returns the new ones
                    stmt = self._upsert(table, rows, replace=False).returning(table.c.lead_id)
                    new = len(con.execute(stmt, rows).all())
                    counts[name] = (new, len(rows) - new)
                    continue
                counts[name] = _new_and_stored(con, table, unique)
                if rows:
                    con.execute(self._upsert(table, rows, replace=replace), rows)
        return counts

    def leads(self, lead_ids: Sequence[str]) -> dict[str, tuple[dict[str, Any], list[dict]]]:
        """Each known lead's stored fields (set ones only) and activities, by lead id."""
        return self.lookup(lead_ids, previous=False)[0]

    def lookup(self, lead_ids: Sequence[str], *, previous: bool = True
               ) -> tuple[dict[str, tuple[dict[str, Any], list[dict]]], dict[str, dict]]:
        """What scoring a batch needs, on one connection: each known lead's stored fields (set
        ones only) and activities, and (with ``previous``) each lead's latest logged score."""
        ids = list(dict.fromkeys(lead_ids))
        known: dict[str, tuple[dict[str, Any], list[dict]]] = {}
        with self.engine.connect() as con:
            for row in con.execute(_LEADS_QUERY, {"ids": ids}):
                fields = {k: v for k, v in row._mapping.items()
                          if k in LEAD_FIELDS and v is not None}
                known[row.lead_id] = (fields, [])
            for lead_id, activity_type, occurred_at in con.execute(_ACTIVITIES_QUERY,
                                                                   {"ids": ids}):
                known.setdefault(lead_id, ({}, []))[1].append(
                    {"activity_type": activity_type, "occurred_at": occurred_at})
            latest = ({row.lead_id: dict(row._mapping)
                       for row in con.execute(_PREVIOUS_QUERY, {"ids": ids})}
                      if previous else {})
        return known, latest

    def log_scores(self, rows: Iterable[dict[str, Any]]) -> int:
        """Append score-log rows in one transaction; the number written."""
        rows = [{k: row.get(k) for k in SCORE_FIELDS} for row in rows]
        if rows:
            with self.log_engine.begin() as con:
                con.execute(score_log.insert(), rows)
        return len(rows)

    def log_scores_atomically(self, batches: Iterable[Iterable[dict[str, Any]]],
                              before_commit: Callable[[], None] | None = None) -> int:
        """Append every batch of score-log rows in one transaction: a failure leaves none of them.

        ``before_commit`` runs inside the transaction, after the last row (``leadscore rescore``
        moves its file into place there): if it raises, no row is kept.

        SQLite has one writer at a time, and the API commits each score's row before answering,
        so the rows first go to a staging SQLite file in a temporary folder and are then copied
        in by one ``INSERT ... SELECT``: the live store's write lock is held for that copy only,
        not while the batches are read and converted.
        """
        if self.log_engine.dialect.name != "sqlite":
            with self.log_engine.begin() as con:
                total = _insert_batches(con, batches)
                if before_commit is not None:
                    before_commit()
            return total
        with tempfile.TemporaryDirectory(prefix="leadscore-scorelog-") as folder:
            staging = Path(folder) / "staging.db"
            engine = sa.create_engine(f"sqlite:///{staging}")
            try:
                score_log.create(engine)
                with engine.begin() as con:
                    total = _insert_batches(con, batches)
            finally:
                engine.dispose()
            columns = ", ".join(SCORE_FIELDS)
            with self.log_engine.connect() as con:
                # ATTACH and DETACH outside the transaction (SQLite refuses them inside one)
                con.exec_driver_sql("ATTACH DATABASE ? AS staging", (str(staging),))
                con.commit()
                try:
                    with con.begin():
                        con.exec_driver_sql(f"INSERT INTO main.score_log ({columns}) SELECT "
                                            f"{columns} FROM staging.score_log ORDER BY id")
                        if before_commit is not None:
                            before_commit()
                finally:
                    con.exec_driver_sql("DETACH DATABASE staging")
                    con.commit()
        return total

    def previous_scores(self, lead_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The latest logged score of each lead that has one."""
        with self.engine.connect() as con:
            return {row.lead_id: dict(row._mapping)
                    for row in con.execute(_PREVIOUS_QUERY, {"ids": list(set(lead_ids))})}

    def scores(self, *, lead_id: str | None = None, since: datetime | None = None,
               columns: Sequence[str] = SCORE_FIELDS):
        """Score-log rows (a DataFrame of ``columns``), oldest first: one lead's, or all since a
        moment."""
        import pandas as pd

        query = sa.select(*[score_log.c[name] for name in columns]).order_by(score_log.c.id)
        if lead_id is not None:
            query = query.where(score_log.c.lead_id == lead_id)
        if since is not None:
            query = query.where(score_log.c.scored_at >= naive_utc(since))
        with self.log_engine.connect() as con:
            return pd.DataFrame(con.execute(query).mappings().all(), columns=list(columns))

    def table(self, table: sa.Table):
        """One live table as a DataFrame (the review's merge reads them whole)."""
        import pandas as pd

        with self.engine.connect() as con:
            return pd.DataFrame(con.execute(sa.select(table)).mappings().all(),
                                columns=[c.name for c in table.columns])


_KEY_CHUNK = 500  # lead ids per query when counting stored keys


def _new_and_stored(con: sa.Connection, table: sa.Table,
                    unique: Mapping[Any, dict[str, Any]]) -> tuple[int, int]:
    """``(new, already stored)`` of ``unique`` (rows by natural key), read before the write
    (SQLite opens the transaction at the first write: no read lock to upgrade)."""
    columns, keys, held = [table.c[c.name] for c in table.primary_key.columns], list(unique), 0
    for start in range(0, len(keys), _KEY_CHUNK):
        chunk = keys[start:start + _KEY_CHUNK]
        where = (columns[0].in_(chunk) if len(columns) == 1
                 else sa.tuple_(*columns).in_(chunk))
        held += con.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar()
    return len(keys) - held, held


def _insert_batches(con: sa.Connection, batches: Iterable[Iterable[dict[str, Any]]]) -> int:
    total = 0
    for batch in batches:
        rows = [{k: row.get(k) for k in SCORE_FIELDS} for row in batch]
        if rows:
            con.execute(score_log.insert(), rows)
            total += len(rows)
    return total


def open_existing(url: str) -> LiveStore | None:
    """The live store when there is one (a SQLite file that exists, or any PostgreSQL URL)."""
    try:
        path = _sqlite_file(sa.make_url(url))
    except sa.exc.ArgumentError:
        path = None  # LiveStore says what is wrong with it
    if path is not None and not path.exists():
        return None
    return LiveStore(url, create=False)
