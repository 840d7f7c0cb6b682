"""What keeps review cycles safe from each other and from killed processes.

- ``review_lock``: one review at a time per registry. A second review waits a bounded time
  (``cycle.lock_wait_s``) and then stops with one sentence, so two reviews never gate against the
  same champion. The lock is an ``flock`` on a file beside the SQLite store (in the temporary
  folder for any other store), so the kernel releases it when its holder dies, even by kill -9.
- ``close_killed_runs``: under that lock, a review run still RUNNING belongs to a process that is
  gone (a live review would hold the lock); it is marked KILLED, so nothing takes it for a cycle.
- ``temp_prefix`` / ``remove_orphan_folders``: temporary folders carry their process id, and a
  folder whose process is gone is removed by the next review.
- ``require_completed_run``: promote and rollback only move ``champion`` to a version whose review
  ran to its end (a version registered by a review killed before its aliases moved is not one).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from leadscore.errors import LeadscoreError

DEFAULT_LOCK_WAIT_S = 600.0
PID_TAG = "leadscore.pid"
HOST_TAG = "leadscore.host"
_POLL_S = 0.5
_ORPHAN = re.compile(r"^leadscore-[a-z]+-(\d+)-")


def lock_path(config: dict[str, Any]) -> Path:
    """The lock file of the configured registry: beside a SQLite store, else in the temp folder."""
    from training.tracking import sqlite_path, tracking_uri

    uri = tracking_uri(config)
    db = sqlite_path(uri)
    if db is not None:
        db = db.resolve()
        db.parent.mkdir(parents=True, exist_ok=True)
        return db.with_name(db.name + ".review.lock")
    digest = hashlib.sha1(uri.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"leadscore-review-{digest}.lock"


def lock_wait_s(config: dict[str, Any]) -> float:
    return float(config.get("cycle", {}).get("lock_wait_s", DEFAULT_LOCK_WAIT_S))


@contextmanager
def review_lock(config: dict[str, Any], wait_s: float | None = None) -> Iterator[None]:
    """Hold the registry's review lock for a block; wait up to ``wait_s`` seconds for it.

    Raises:
        LeadscoreError: when another review still holds it after ``wait_s``.
    """
    wait_s = lock_wait_s(config) if wait_s is None else float(wait_s)
    path = lock_path(config)
    handle = open(path, "a+")  # noqa: SIM115 - held open for the whole block
    try:
        deadline = time.monotonic() + max(0.0, wait_s)
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(path)
                    raise LeadscoreError(
                        f"Another review{holder} is running on this registry and did not finish "
                        f"within {wait_s:g} s: wait for it, or raise cycle.lock_wait_s."
                    ) from None
                time.sleep(_POLL_S)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the flock


def _holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        return ""
    return f" (process {text})" if text.isdigit() else ""


def owner_tags() -> dict[str, str]:
    """Tags that say which process runs a review (read by ``close_killed_runs``)."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def close_killed_runs(client, experiment_id: str) -> list[str]:
    """Mark review runs left RUNNING by a dead process as KILLED; return their ids.

    Call it holding ``review_lock``: then no review of this registry is running. A run another
    machine started (a shared tracking server) is closed only when it names no live process here
    and is not from another host.
    """
    host = socket.gethostname()
    closed = []
    runs = client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'",
                              max_results=200)
    for run in runs:
        tags = run.data.tags
        if "cycle" not in tags or run.info.run_id == _active_run_id():
            continue
        if tags.get(HOST_TAG, host) != host:
            continue
        pid = tags.get(PID_TAG, "")
        if pid.isdigit() and int(pid) != os.getpid() and process_alive(int(pid)):
            continue
        client.set_tag(run.info.run_id, "leadscore.closed", "its review process was gone")
        client.set_terminated(run.info.run_id, status="KILLED")
        closed.append(run.info.run_id)
    return closed


def _active_run_id() -> str | None:
    import mlflow

    active = mlflow.active_run()
    return active.info.run_id if active is not None else None


def temp_prefix(kind: str) -> str:
    """A temporary folder prefix that names this process, so an orphan can be told apart."""
    return f"leadscore-{kind}-{os.getpid()}-"


def remove_orphan_folders(root: Path | None = None) -> list[Path]:
    """Remove ``leadscore-<kind>-<pid>-*`` temporary folders whose process is gone."""
    root = Path(root or tempfile.gettempdir())
    removed = []
    for path in root.glob("leadscore-*-*-*"):
        match = _ORPHAN.match(path.name)
        if not match or not path.is_dir() or process_alive(int(match.group(1))):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def require_completed_run(client, name: str, version: int) -> None:
    """Raise unless ``version`` of ``name`` was registered by a review that ran to its end.

    Raises:
        LeadscoreError: naming the version and what happened to its review.
    """
    status = run_status(client, name, version)
    if status == "FINISHED" or status is None:
        return
    raise LeadscoreError(
        f"Version {version} of {name!r} comes from a review that did not finish (its run is "
        f"{status}): promote a version from a completed review instead."
    )


def run_status(client, name: str, version: int) -> str | None:
    """The status of the run that registered ``version`` (None: the version names no run)."""
    from mlflow.exceptions import MlflowException

    try:
        found = client.get_model_version(name, str(version))
        if not found.run_id:
            return None
        return client.get_run(found.run_id).info.status
    except MlflowException:
        return None
