"""The champion and the servers the benchmarks measure, set up one way for all of them.

* ``champion_uri`` / ``prepare_champion``: a registry with a ``leadscore`` champion, made by one
  review cycle on generated data when none is there yet;
* ``start`` / ``start_leadscore``: a server on a free port of 127.0.0.1, in its own process
  group, waited for until its probe answers 200; ``Server.stop`` ends the whole group.

Not a test: the scripts in ``bench/`` import it (the folder is on their ``sys.path``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "bench-key"
SERVING_LIVE_URL = f"sqlite:///{ROOT / 'bench' / 'out' / 'serving' / 'live.db'}"
"""The live store of a scoring API a benchmark starts, unless it names its own."""


# ---- the model ----------------------------------------------------------------------------------

def champion_version(tracking_uri: str, name: str) -> str | None:
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        return str(client.get_model_version_by_alias(name, "champion").version)
    except MlflowException:
        return None


def prepare_champion(workdir: Path, n_leads: int) -> tuple[str, str]:
    """One review cycle on generated data in ``workdir``; returns (tracking URI, version)."""
    from features.ingest import ingest_paths
    from generator import generate_export
    from leadscore.config import default_config
    from training.registry import CHAMPION, alias_version, promote_version
    from training.review import run_review
    from training.tracking import client

    workdir.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{workdir / 'mlruns' / 'mlflow.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = uri
    config = default_config()
    config["store"] = str(workdir / "leadscore.duckdb")
    config["mlflow"]["tracking_uri"] = uri
    cwd = Path.cwd()
    os.chdir(workdir)  # the review writes its report under ./reports
    try:
        print(f"preparing a champion: {n_leads:,} generated leads, one review cycle in {workdir}")
        generate_export(n_leads, 7, workdir / "export", progress=False)
        ingest_paths([workdir / "export"], store=Path(config["store"]))
        run_review(cycle="bench", as_of="2026-11-01", config=config, promote=True)
        mlflow_client = client(config)
        name = config["mlflow"]["registered_model"]
        version = alias_version(mlflow_client, name, CHAMPION)
        if version is None:  # gates failed on a small export: promote by hand for the benchmark
            version = alias_version(mlflow_client, name, "challenger")
            promote_version(version, config)
    finally:
        os.chdir(cwd)
    return uri, str(version)


def champion_uri(workdir: Path, n_leads: int, tracking_uri: str | None = None) -> str:
    """A tracking URI with a ``leadscore`` champion: ``tracking_uri`` when it has one, else
    ``workdir``'s own registry, made by ``prepare_champion`` on ``n_leads`` leads when it has
    none (so a rerun reuses the champion of the run before)."""
    if tracking_uri is not None and champion_version(tracking_uri, "leadscore") is not None:
        return tracking_uri
    uri = f"sqlite:///{workdir / 'mlruns' / 'mlflow.db'}"
    if champion_version(uri, "leadscore") is None:
        uri, _ = prepare_champion(workdir, n_leads)
    return uri


# ---- servers ------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start(name: str, command: list[str], env: dict[str, str], port: int, probe: str,
          log: Path, timeout_s: float = 180) -> Server:
    """Run ``command`` (listening on ``port``) with its output in ``log``, and wait until
    ``probe`` answers 200; exit the benchmark with a sentence naming the log when it does not."""
    handle = log.open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                               start_new_session=True)
    server = Server(name, process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode}; see {log}")
        try:
            if httpx.get(server.url + probe, timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    server.stop()
    raise SystemExit(f"{name} did not start within {timeout_s:.0f} s; see {log}")


def base_env(tracking_uri: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"MLFLOW_TRACKING_URI": tracking_uri, "BENTOML_DO_NOT_TRACK": "true",
                "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false", "OMP_NUM_THREADS": "1",
                "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p),
                # `mlflow models serve` runs `uvicorn` from PATH: the one beside this Python
                "PATH": os.pathsep.join((str(Path(sys.executable).parent), env.get("PATH", "")))})
    return env


def start_leadscore(tracking_uri: str, workers: int, log: Path,
                    settings: dict[str, str] | None = None) -> Server:
    """``bentoml serve serving.service:LeadScorer`` on the champion of ``tracking_uri``.

    ``settings``: LEADSCORE_* variables that replace the defaults (the live store, a config).
    """
    port = free_port()
    env = base_env(tracking_uri)
    env.update({"LEADSCORE_API_KEYS": API_KEY, "LEADSCORE_WORKERS": str(workers),
                "LEADSCORE_RELOAD_INTERVAL_S": "30", "LEADSCORE_LIVE_URL": SERVING_LIVE_URL})
    env.pop("LEADSCORE_CONFIG", None)
    env.update(settings or {})
    return start("leadscore", [sys.executable, "-m", "bentoml", "serve",
                               "serving.service:LeadScorer", "--host", "127.0.0.1",
                               "--port", str(port)], env, port, "/readyz", log)
