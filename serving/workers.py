"""One log line when a worker starts, and one more when it replaces a worker that died.

BentoML restarts a worker killed by a signal (the OOM killer, kill -9) without a word, so a log
showed neither the death nor the replacement. Each worker writes its pid under its worker index in
the server's Prometheus multiprocess folder, which BentoML creates empty at every server start;
a worker that finds the pid of a process that is gone under its own index says so.

A worker also stops when the server process that started it is gone (``watch_parent``): BentoML's
workers outlived a ``bentoml serve`` killed with SIGKILL, answering on with no supervisor and
holding the port against a restart.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

PROMETHEUS_ENV = "PROMETHEUS_MULTIPROC_DIR"
PARENT_CHECK_S = 1.0
STOP_GRACE_S = 15.0
"""After the SIGTERM a worker sends itself (a graceful stop: requests in flight finish), how long
it waits before it exits regardless."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def note_worker_start(logger: logging.Logger, worker_index: int | None,
                      folder: str | None = None) -> str:
    """Log (and return) the line that says this worker started, or replaced a dead one."""
    pid = os.getpid()
    label = f"worker {worker_index}" if worker_index is not None else "worker"
    line = f"Scoring {label} started (pid {pid})."
    folder = folder if folder is not None else os.environ.get(PROMETHEUS_ENV)
    if folder and worker_index is not None:
        record = Path(folder) / f"leadscore-worker-{worker_index}.pid"
        try:
            before = record.read_text().strip()
        except OSError:
            before = ""
        if before.isdigit() and int(before) != pid and not _alive(int(before)):
            line = (f"Scoring {label} (pid {before}) stopped unexpectedly (killed?); "
                    f"pid {pid} replaces it; requests it was answering, if any, got no answer.")
            logger.warning(line)
            _write(record, pid)
            return line
        _write(record, pid)
    logger.info(line)
    return line


def _write(record: Path, pid: int) -> None:
    try:
        record.write_text(str(pid))
    except OSError:
        pass  # the folder is BentoML's; without it only the replacement line is lost


def watch_parent(logger: logging.Logger, interval_s: float = PARENT_CHECK_S) -> threading.Thread:
    """Stop this worker when the server process that started it is gone.

    A killed parent leaves the worker to init (its parent pid changes); a thread notices within
    ``interval_s``, logs one line, and stops the worker as SIGTERM does, exiting after
    ``STOP_GRACE_S`` at the latest.
    """
    parent = os.getppid()

    def run() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        logger.warning("Scoring worker (pid %d): the server process that started it (pid %d) is "
                       "gone (killed?); stopping, so that a restart finds the port free.",
                       os.getpid(), parent)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(STOP_GRACE_S)
        os._exit(1)

    thread = threading.Thread(target=run, name="parent-watch", daemon=True)
    thread.start()
    return thread
