"""One log line when a worker starts, and one more when it replaces a worker that died.

BentoML restarts a worker killed by a signal (the OOM killer, kill -9) without a word, so a log
showed neither the death nor the replacement. Each worker writes its pid under its worker index in
the server's Prometheus multiprocess folder, which BentoML creates empty at every server start;
a worker that finds the pid of a process that is gone under its own index says so.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

PROMETHEUS_ENV = "PROMETHEUS_MULTIPROC_DIR"


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
