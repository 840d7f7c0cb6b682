"""`leadscore serve`: start the BentoML scoring API on the registry's champion.

Runs ``bentoml serve serving.service:LeadScorer`` in a child process, in the folder that holds the
``serving`` package, with the settings it needs in its environment: the config file
(``LEADSCORE_CONFIG``), the registry (``MLFLOW_TRACKING_URI``, made absolute so that moving to the
package folder does not change which store a relative ``sqlite:///mlruns/mlflow.db`` means) and the
reload interval.

Each server gets a BentoML home of its own (``BENTOML_HOME``, a temporary folder removed when it
stops): BentoML keeps its Prometheus multiprocess files in
``$BENTOML_HOME/prometheus_multiproc_dir`` and wipes that folder when a server starts, so with one
shared home a second server on the machine reset the first one's counters and made its
``/metrics`` answer 500.

Without ``LEADSCORE_API_KEYS`` the API has no authentication, so it may only listen on a loopback
address; any other host is refused before anything starts.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from features.live_store import LiveStore, live_url
from leadscore.errors import LeadscoreError

SERVICE = "serving.service:LeadScorer"


def package_root() -> Path:
    """The folder holding the ``serving`` package (the repository root in a checkout)."""
    return Path(__file__).resolve().parents[1]


def absolute_tracking_uri(uri: str, cwd: Path | None = None) -> str:
    """``sqlite:///relative/path`` resolved against ``cwd``; any other URI unchanged."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix) or uri.startswith(prefix + "/"):
        return uri
    path = Path(uri[len(prefix):])
    if path.is_absolute():
        return uri
    return f"sqlite:///{((cwd or Path.cwd()) / path).resolve()}"


def check_host(host: str, keys: tuple[str, ...]) -> None:
    """Refuse a non-loopback host when no API keys are set.

    Raises:
        LeadscoreError: naming the host and the two ways out.
    """
    from serving.auth import is_loopback

    if not keys and not is_loopback(host):
        raise LeadscoreError(
            f"Refusing to serve on {host} without API keys: set LEADSCORE_API_KEYS=key1[,key2] "
            "to require `Authorization: Bearer <key>`, or serve on 127.0.0.1."
        )


def check_port_free(host: str, port: int) -> None:
    """Raises LeadscoreError when ``host:port`` is already taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise LeadscoreError(
                f"Cannot listen on {host}:{port} ({exc.strerror}): stop the program using it or "
                "pass --port."
            ) from None


def serve_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "bentoml", "serve", SERVICE, "--host", host, "--port",
            str(port), "--working-dir", str(package_root())]


def serve_environment(config: dict[str, Any], config_path: str | Path | None,
                      base: dict[str, str] | None = None) -> dict[str, str]:
    """The child's environment: ours plus the config file, the absolute registry URI and quiet
    defaults (no usage tracking, no download progress bars, one BLAS/OpenMP thread)."""
    env = dict(os.environ if base is None else base)
    env["MLFLOW_TRACKING_URI"] = absolute_tracking_uri(config["mlflow"]["tracking_uri"])
    if config_path is not None:
        env["LEADSCORE_CONFIG"] = str(Path(config_path).resolve())
    else:
        env.pop("LEADSCORE_CONFIG", None)
    # the server runs in the package folder: relative stores are the caller's, made absolute
    env["LEADSCORE_STORE"] = str(Path(config["store"]).resolve())
    env["LEADSCORE_LIVE_URL"] = absolute_tracking_uri(live_url(config))
    env.setdefault("LEADSCORE_RELOAD_INTERVAL_S", str(config["serving"]["reload_interval_s"]))
    env.setdefault("BENTOML_DO_NOT_TRACK", "true")
    env.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    env.setdefault("OMP_NUM_THREADS", "1")
    # glibc gives each thread that allocates its own heap (up to 8 per core); a model swapped out
    # left free space in several of them and a worker's RSS crept up at every swap. Two heaps
    # keep that space reused.
    env.setdefault("MALLOC_ARENA_MAX", "2")
    root = str(package_root())
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    """In the server process, before it runs: SIGTERM it when ``leadscore serve`` dies.

    ``leadscore serve`` killed with SIGKILL (the OOM killer, ``kill -9``) runs no handler; without
    this the server went on holding the port with no one to stop it, and the next ``leadscore
    serve`` failed with "address already in use". Linux only; elsewhere nothing changes.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def private_bentoml_home() -> Path:
    """A fresh BentoML home for one server, so its Prometheus folder is its own."""
    return Path(tempfile.mkdtemp(prefix=f"leadscore-serve-{os.getpid()}-"))


def serve_forever(
    config: dict[str, Any],
    host: str | None = None,
    port: int | None = None,
    config_path: str | Path | None = None,
) -> None:
    """Run the scoring API until it stops or Ctrl+C.

    Raises:
        LeadscoreError: on a non-loopback host without API keys, a taken port, or when the server
            exits with an error.
    """
    from serving.auth import api_keys

    host = host or config["serving"]["host"]
    port = int(port or config["serving"]["port"])
    keys = api_keys()
    check_host(host, keys)
    check_port_free(host, port)
    env = serve_environment(config, config_path)
    if (config.get("live") or {}).get("enabled", True):
        # a worker that cannot open it fails at start, and BentoML restarts it for ever: one
        # sentence here instead (a wrong DSN, a database that is down)
        LiveStore(env["LEADSCORE_LIVE_URL"]).close()
    home = private_bentoml_home()
    env["BENTOML_HOME"] = str(home)
    auth = (f"on ({len(keys)} key{'s' if len(keys) != 1 else ''})" if keys
            else "OFF (LEADSCORE_API_KEYS unset: only this machine may call it)")
    click.echo(f"Scoring API on http://{host}:{port}  (OpenAPI: /docs.json, docs page: /)")
    click.echo(f"  model     {config['mlflow']['registered_model']}@champion on "
               f"{env['MLFLOW_TRACKING_URI']}")
    click.echo(f"  auth      {auth}")
    # SIGTERM (kill PID, a process manager) stops the server as Ctrl+C does; Python's default
    # would end this process at once and leave the server holding the port
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        process = subprocess.Popen(serve_command(host, port), env=env, cwd=package_root(),
                                   preexec_fn=_stop_with_parent)
        try:
            code = process.wait()
        except KeyboardInterrupt:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
            return
    finally:
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(home, ignore_errors=True)
    if code != 0:
        raise LeadscoreError(f"The scoring API stopped with exit code {code}: see the log above.")
