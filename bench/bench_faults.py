"""Load and faults battery: mixed load on a real ``leadscore serve`` while the champion swaps and a
worker is killed; prints the counts.

    .venv/bin/python bench/bench_faults.py                          # 10 minutes, 20 swaps, a kill
    .venv/bin/python bench/bench_faults.py --minutes 2 --swaps 4    # a quick run

What it does, all on 127.0.0.1:

1. builds a registry with two versions in ``bench/out/faults/`` (git-ignored): generated leads,
   ingested, two review cycles (reused on a rerun);
2. starts ``leadscore serve`` with ``--workers`` workers and a short reload interval;
3. runs ``--clients`` client threads for ``--minutes``, each picking at random: one lead with
   reasons, 100 leads, 10 leads without reasons, a hostile request that must get a 4xx (bad JSON,
   an e-mail as a key, ``"reasons": 0``, a year-1900 timestamp, personal data in every text
   field), ``GET /model`` and ``GET /metrics``;
4. moves ``champion`` between the two versions ``--swaps`` times, evenly spread;
5. kills one worker with SIGKILL halfway through;
6. samples each worker's RSS after warm-up and just before each swap (so each sample has had a
   whole interval to settle after the swap before it).

It prints the requests by kind and status, the 5xx count, the failed requests (transport errors
and 5xx) and when they happened relative to the kill, any personal data echoed, ``/metrics``
answers other than 200, and the RSS of the worker that lived through every swap: at start and
after each swap. Not a test: its numbers go in notes and BENCHMARKS.md, never in assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from servers import API_KEY, Server, free_port, start  # noqa: E402 - bench is not a package

OUT = ROOT / "bench" / "out" / "faults"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
PII = ("jane.doe@example.com", "Jane Marple Doe", "+1 415 555 0199")
CYCLES = (("2026-W40", "2026-10-01"), ("2026-W44", "2026-11-01"))
TEXT_FIELDS = ("source", "title", "company_size", "industry", "country", "email",
               "email_domain", "campaign")


# ---- the registry ------------------------------------------------------------------------------

def build_registry(folder: Path, n_leads: int) -> tuple[Path, list[int]]:
    """A store and a registry with two reviewed versions under ``folder``; the config file."""
    import yaml
    from mlflow.tracking import MlflowClient

    from leadscore.config import load_config

    folder.mkdir(parents=True, exist_ok=True)
    config_file = folder / "config.yaml"
    config_file.write_text(yaml.safe_dump({
        "store": str(folder / "store.duckdb"),
        "mlflow": {"tracking_uri": f"sqlite:///{folder / 'mlruns' / 'mlflow.db'}"},
        "cycle": {"lightgbm": {"n_estimators": 200}, "bootstrap_rounds": 50},
    }))
    config = load_config(config_file)
    uri = config["mlflow"]["tracking_uri"]
    client = MlflowClient(uri, registry_uri=uri)
    try:
        found = sorted(int(v.version) for v in client.search_model_versions("name = 'leadscore'"))
    except Exception:  # noqa: BLE001 - no store yet
        found = []
    if len(found) >= 2:
        return config_file, found[:2]
    from features.ingest import ingest_paths
    from generator import generate_export
    from training.review import run_review

    if not (folder / "store.duckdb").exists():
        generate_export(n_leads=n_leads, seed=7, out_dir=folder / "export", fmt="parquet",
                        progress=False)
        ingest_paths([folder / "export"], store=folder / "store.duckdb", mapping=None)
    cwd = os.getcwd()
    os.chdir(folder)  # the review writes reports/ here
    try:
        versions = [run_review(cycle, as_of, config, promote=True).version
                    for cycle, as_of in CYCLES]
    finally:
        os.chdir(cwd)
    return config_file, versions


def promote(config_file: Path, version: int) -> None:
    subprocess.run([sys.executable, "-m", "cli.main", "promote", str(version), "--config",
                    str(config_file)], check=True, capture_output=True, cwd=ROOT)


# ---- the server --------------------------------------------------------------------------------

def start_server(config_file: Path, workers: int, log: Path) -> Server:
    port = free_port()
    env = dict(os.environ, LEADSCORE_API_KEYS=API_KEY, LEADSCORE_WORKERS=str(workers),
               LEADSCORE_RELOAD_INTERVAL_S="2", PYTHONPATH=str(ROOT))
    env.pop("MLFLOW_TRACKING_URI", None)
    return start("leadscore serve",
                 [sys.executable, "-m", "cli.main", "serve", "--host", "127.0.0.1", "--port",
                  str(port), "--config", str(config_file)],
                 env, port, "/readyz", log, timeout_s=120)


def workers_of(process: subprocess.Popen) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(process.pid).children(recursive=True):
        try:
            if "--worker-id" in child.cmdline() and child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return sorted(found, key=lambda p: p.pid)


def rss_mib(pids: list[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        try:
            out[pid] = round(psutil.Process(pid).memory_info().rss / 2**20, 1)
        except psutil.NoSuchProcess:
            continue
    return out


# ---- the load ----------------------------------------------------------------------------------

def lead(rng: random.Random, i: int) -> dict[str, Any]:
    acts = [{"activity_type": rng.choice(("pricing_view", "demo_request", "page_view",
                                          "email_open", "webinar_attended")),
             "occurred_at": f"2026-10-{rng.randint(1, 30):02d}T{rng.randint(0, 23):02d}:00:00Z"}
            for _ in range(rng.randint(0, 8))]
    return {"lead_id": f"B{i}", "created_at": "2026-09-20T10:00:00Z",
            "source": rng.choice(("webinar", "paid_search", "organic", "referral")),
            "title": rng.choice(("VP Marketing", "Student", "Director of Sales", None)),
            "company_size": rng.choice(("1-10", "51-200", "201-1000", None)),
            "industry": rng.choice(("Software", "Retail", None)),
            "country": rng.choice(("US", "India", "Germany")), "activities": acts,
            "as_of": "2026-11-01T00:00:00Z"}


def hostile(rng: random.Random) -> tuple[str, bytes | None, dict | None]:
    """(kind, raw body or None, JSON body or None); every one must be answered 4xx."""
    text = rng.choice(PII)
    return rng.choice([
        ("bad json", b'{"leads": [', None),
        ("email key", None, {"leads": [{"lead_id": "h"}], text: 1}),
        ("email attribute key", None, {"leads": [{"lead_id": "h", "attributes": {text: [1]}}]}),
        ("reasons 0", None, {"leads": [{"lead_id": "h"}], "reasons": 0}),
        ("year 1900", None, {"leads": [{"lead_id": "h", "as_of": "1900-01-01T00:00:00Z"}]}),
        ("no leads", None, {"leads": []}),
    ])


class Battery:
    def __init__(self, url: str, kill_at: float) -> None:
        self.url = url
        self.kill_at = kill_at  # monotonic time of the kill (set later)
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.failures: list[tuple[float, str]] = []  # (time, what)
        self.leaks = 0
        self.metrics_not_200 = 0
        self.stop = threading.Event()

    def kill(self, pid: int) -> None:
        self.kill_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)

    def record(self, key: str, failed: str | None = None) -> None:
        with self.lock:
            self.counts[key] += 1
            if failed:
                self.failures.append((time.monotonic(), failed))

    def client(self, seed: int) -> None:
        rng = random.Random(seed)
        n = 0
        with httpx.Client(base_url=self.url, headers=AUTH, timeout=60) as http:
            while not self.stop.is_set():
                n += 1
                roll = rng.random()
                try:
                    if roll < 0.45:
                        self._score(http, "score 1 lead", [lead(rng, n)], True)
                    elif roll < 0.60:
                        self._score(http, "score 100 leads", [lead(rng, n * 100 + i)
                                                               for i in range(100)], True)
                    elif roll < 0.70:
                        self._score(http, "score 10, no reasons",
                                    [lead(rng, n * 10 + i) for i in range(10)], False)
                    elif roll < 0.80:
                        self._pii(http, rng, n)
                    elif roll < 0.90:
                        self._hostile(http, rng)
                    elif roll < 0.95:
                        response = http.get("/model")
                        self._status("GET /model", response.status_code, 200)
                    else:
                        response = http.get("/metrics")
                        if response.status_code != 200:
                            with self.lock:
                                self.metrics_not_200 += 1
                        self._status("GET /metrics", response.status_code, 200)
                except httpx.HTTPError as exc:
                    self.record("transport error", f"transport: {type(exc).__name__}")

    def _status(self, kind: str, status: int, expected: int | tuple[int, ...]) -> None:
        ok = status in (expected if isinstance(expected, tuple) else (expected,))
        failed = f"{kind} -> {status}" if status >= 500 else None
        self.record(f"{kind}: {status}{'' if ok else ' (unexpected)'}", failed)

    def _score(self, http: httpx.Client, kind: str, leads: list, reasons: bool) -> None:
        response = http.post("/score", json={"leads": leads, "reasons": reasons})
        self._status(kind, response.status_code, 200)

    def _pii(self, http: httpx.Client, rng: random.Random, n: int) -> None:
        text = rng.choice(PII)
        item = lead(rng, n) | {field: text for field in TEXT_FIELDS}
        item["attributes"] = {text: text}
        item["activities"] = [{"activity_type": text, "occurred_at": "2026-10-30T00:00:00Z"}]
        response = http.post("/score", json={"leads": [item]})
        if any(p in response.text for p in PII):
            with self.lock:
                self.leaks += 1
        self._status("personal data in every field", response.status_code, 200)

    def _hostile(self, http: httpx.Client, rng: random.Random) -> None:
        kind, raw, body = hostile(rng)
        response = (http.post("/score", content=raw, headers={"content-type": "application/json"})
                    if raw is not None else http.post("/score", json=body))
        if any(p in response.text for p in PII):
            with self.lock:
                self.leaks += 1
        self._status(f"hostile: {kind}", response.status_code, (400, 413, 422))


# ---- the run -----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--swaps", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--leads", type=int, default=8000, help="generated leads for the store")
    parser.add_argument("--no-kill", action="store_true", help="skip the worker kill")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    config_file, versions = build_registry(args.out, args.leads)
    promote(config_file, versions[0])
    server = start_server(config_file, args.workers, args.out / "server.log")
    duration = args.minutes * 60
    try:
        battery = Battery(server.url, kill_at=float("inf"))
        threads = [threading.Thread(target=battery.client, args=(seed,), daemon=True)
                   for seed in range(args.clients)]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(min(20.0, duration / 10))  # warm-up: every worker has scored
        first_workers = [p.pid for p in workers_of(server.process)]
        rss = {"start": rss_mib(first_workers)}
        victim = None if args.no_kill else first_workers[0]
        if victim is not None:
            threading.Timer(max(0.0, start + duration / 2 - time.monotonic()), battery.kill,
                            args=(victim,)).start()
        for i in range(args.swaps):
            time.sleep(max(0.0, start + (i + 0.5) * duration / args.swaps - time.monotonic()))
            if i:
                rss[f"before swap {i + 1}"] = rss_mib(first_workers)
            promote(config_file, versions[(i + 1) % 2])
        time.sleep(max(0.0, start + duration - time.monotonic()))
        rss[f"after {args.swaps} swaps"] = rss_mib(first_workers)
        battery.stop.set()
        for thread in threads:
            thread.join(timeout=90)
        log = (args.out / "server.log").read_text(errors="replace")
    finally:
        server.stop()

    report(battery, args, rss, first_workers, victim, log)


def report(battery: Battery, args, rss: dict, workers: list[int], victim: int | None,
           log: str) -> None:
    total = sum(battery.counts.values())
    five_xx = sum(c for k, c in battery.counts.items()
                  if k.rsplit(": ", 1)[-1][:1] == "5")
    unexpected = sum(c for k, c in battery.counts.items() if "(unexpected)" in k)
    near_kill = [t for t, _ in battery.failures if battery.kill_at - 1 <= t <= battery.kill_at + 30]
    print(f"battery: {args.minutes:g} min, {args.clients} clients, {args.workers} workers, "
          f"{args.swaps} swaps, worker kill: {f'pid {victim}' if victim else 'none'}")
    print(f"requests: {total}")
    for key, count in sorted(battery.counts.items()):
        print(f"  {key:<48} {count}")
    print(f"5xx answers: {five_xx}")
    print(f"unexpected statuses (incl. 5xx): {unexpected}")
    print(f"failed requests (transport errors + 5xx): {len(battery.failures)}, "
          f"of which within 30 s after the kill: {len(near_kill)}")
    for when, what in battery.failures[:10]:
        print(f"  {when - battery.kill_at:+.2f} s from the kill: {what}")
    print(f"personal data echoed: {battery.leaks}")
    print(f"/metrics answers other than 200: {battery.metrics_not_200}")
    print(f"champion swaps logged: {log.count('Champion moved')}")
    print(f"killed-worker log line: {'yes' if 'stopped unexpectedly' in log else 'no'}")
    survivor = [pid for pid in workers if pid != victim]
    for pid in survivor:
        series = [(label, values.get(pid)) for label, values in rss.items()]
        print(f"worker pid {pid} RSS MiB: " + ", ".join(f"{label} {value}"
                                                         for label, value in series))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "battery.json").write_text(json.dumps({
        "counts": dict(battery.counts), "five_xx": five_xx, "failures": len(battery.failures),
        "failures_near_kill": len(near_kill), "leaks": battery.leaks,
        "metrics_not_200": battery.metrics_not_200, "rss_mib": {k: {str(p): v for p, v in
                                                                     d.items()}
                                                                 for k, d in rss.items()},
    }, indent=2))


if __name__ == "__main__":
    main()
