"""Where an MLflow SQLite store keeps its files, and keeping that right when the store moves.

Shared by the commands (``training.tracking``) and the scoring API (``serving``): MLflow writes
absolute artifact locations into its database, so a project folder copied to a server or into an
image must be pointed at its own files before anything loads a model from it.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"


def tracking_uri(config: dict[str, Any]) -> str:
    """The config's ``mlflow.tracking_uri`` (``load_config`` already put ``MLFLOW_TRACKING_URI``
    there when set).

    The config wins over the environment here because ``mlflow.set_tracking_uri`` writes the
    environment variable: reading it back would let the first store a process opened capture
    every later config.
    """
    return (
        config["mlflow"].get("tracking_uri")
        or os.environ.get("MLFLOW_TRACKING_URI")
        or DEFAULT_TRACKING_URI
    )


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (relative or absolute), else None."""
    if not uri.startswith("sqlite:"):
        return None
    path = urlparse(uri).path
    # sqlite:///rel/path -> "/rel/path" is relative; sqlite:////abs/path -> "//abs/path" is absolute
    return Path(path[1:]) if path.startswith("/") else Path(path)


def artifact_location(config: dict[str, Any], uri: str) -> str | None:
    """Where a new experiment keeps its artifacts, as a ``file://`` URI (None: server decides)."""
    db = sqlite_path(uri)
    configured = config["mlflow"].get("artifact_location")
    if db is None:
        if configured and ("://" in configured or Path(configured).is_absolute()):
            return configured if "://" in configured else Path(configured).as_uri()
        return None
    if configured and (uri == DEFAULT_TRACKING_URI or Path(configured).is_absolute()):
        return Path(configured).resolve().as_uri()
    return (db.resolve().parent / "artifacts").as_uri()


def relocate_store(config: dict[str, Any]) -> bool:
    """Point a copied or moved SQLite store at its own ``artifacts`` folder; True if it moved.

    MLflow writes absolute artifact locations into the database (the experiment's, every run's,
    every model version's). A checkout copied elsewhere then logs models and reports into the
    *original's* ``mlruns/artifacts``. When the experiment's stored location is the ``artifacts``
    folder beside some other ``mlflow.db`` while this config keeps artifacts beside this one, every
    stored location under the old folder is rewritten to the same place under this one (the copy
    carries those files along). Nothing outside this database is read or written.
    """
    uri = tracking_uri(config)
    db = sqlite_path(uri)
    if db is None or not db.is_file():
        return False
    db = db.resolve()
    expected = artifact_location(config, uri)
    if expected is None or Path(_local_path(expected)).parent != db.parent:
        return False  # artifacts configured somewhere else on purpose: leave them there
    with closing(sqlite3.connect(db, timeout=30)) as con, con:
        try:
            # the config's experiment first; a config naming another one (not yet created)
            # reads the same moved store, so any experiment's ``artifacts`` folder tells
            rows = con.execute("SELECT artifact_location FROM experiments "
                               "ORDER BY name = ? DESC, experiment_id",
                               (config["mlflow"]["experiment"],)).fetchall()
        except sqlite3.DatabaseError:
            return False  # not (yet) an MLflow store: MLflow says what is wrong
        row = next((r for r in rows if r[0] and Path(_local_path(r[0])).name == "artifacts"),
                   None)
        if row is None:
            return False
        stored = Path(_local_path(row[0]))
        if stored == db.parent / "artifacts" or stored.name != "artifacts":
            return False
        _rewrite_prefix(con, str(stored.parent), str(db.parent))
    return True


def _local_path(location: str) -> str:
    return unquote(urlparse(location).path) if location.startswith("file:") else location


def _rewrite_prefix(con: sqlite3.Connection, old: str, new: str) -> None:
    """Replace the leading ``old`` folder by ``new`` in every text value that starts with it,
    written as a path or as a ``file:`` URI, in every table of the store."""
    pairs = [(old, new), (Path(old).as_uri(), Path(new).as_uri()),
             ("file:" + old, "file:" + new)]
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        columns = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')
                   if (r[2] or "").upper().startswith(("VARCHAR", "TEXT", "CHAR"))]
        for column in columns:
            for before, after in pairs:
                # the value is the folder itself or lies inside it (not /old-name-alike/...)
                con.execute(
                    f'UPDATE "{table}" SET "{column}" = ? || substr("{column}", ?) '
                    f'WHERE substr("{column}", 1, ?) = ? '
                    f'AND ("{column}" = ? OR substr("{column}", ?, 1) = \'/\')',
                    (after, len(before) + 1, len(before), before, before, len(before) + 1),
                )
