"""A real, throw-away PostgreSQL server for the live-loop tests and benchmarks.

``initdb`` into a temporary folder, ``pg_ctl start`` on a free loopback port (its socket in the
same folder), ``pg_ctl stop`` at the end. PostgreSQL refuses to run as root, so as root the server
runs as the ``postgres`` user Debian's package creates (``runuser``). scripts/test.sh installs the
package when it is missing.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.serving.server import free_port


def pg_bin() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: PATH, else the newest Debian install."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class PostgresServer:
    """A running throw-away server: its SQLAlchemy ``url``; ``stop()`` and ``start()`` take it
    down and bring it back on the same data and port (a database outage)."""

    def __init__(self, binaries: Path, folder: Path, port: int) -> None:
        self.binaries, self.folder, self.port = binaries, folder, port
        self.url = f"postgresql+psycopg://leadscore@127.0.0.1:{port}/postgres"

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=200")
        subprocess.run(_as_server_user([str(self.binaries / "pg_ctl"), "-D",
                                        str(self.folder / "data"), "-o", options, "-l",
                                        str(self.folder / "server.log"), "-w", "start"]),
                       check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run(_as_server_user([str(self.binaries / "pg_ctl"), "-D",
                                        str(self.folder / "data"), "-m", "fast", "-w", "stop"]),
                       capture_output=True)


@contextmanager
def postgres_control() -> Iterator[PostgresServer]:
    """Start a PostgreSQL server; yield it (``PostgresServer``), stopped and removed at the end."""
    binaries = pg_bin()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed: run scripts/test.sh (it installs "
                           "Debian's postgresql) or apt-get install postgresql.")
    folder = Path(tempfile.mkdtemp(prefix="leadscore-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    subprocess.run(_as_server_user([str(binaries / "initdb"), "-D", str(folder / "data"), "-A",
                                    "trust", "-U", "leadscore", "--no-sync", "-E", "UTF8"]),
                   check=True, capture_output=True)
    server = PostgresServer(binaries, folder, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a PostgreSQL server; yield its SQLAlchemy URL (``postgresql+psycopg://...``)."""
    with postgres_control() as server:
        yield server.url
