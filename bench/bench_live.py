"""Benchmark: the live loop's costs on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_live.py                  # 5 s per cell, writes BENCHMARKS.md
    .venv/bin/python bench/bench_live.py --duration 2     # a quick run

Per live store (SQLite in bench/out/live/, and a throw-away PostgreSQL started with initdb and
pg_ctl as the tests do), one ``bentoml serve`` with one worker, measured with the score log on
and off (``live.score_log``):

* one-lead ``POST /score`` by id (the lead's fields and history stored through ``/events``
  first; reasons on): p50 and p99 at concurrency 1, throughput at concurrency 1 and 4;
* ``POST /events``: one new activity per request (each a durable commit), concurrency 1 and 4;
  and 100 activities per request at concurrency 1.

The same champion as ``bench/bench_serving.py`` (one review cycle on generated data unless
``--tracking-uri`` names one). Not a test: timings belong here, not in the suite.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_sections import write_section
from bench_serving import OUT, Cell, Connection, http_cell, machine
from servers import API_KEY, champion_version, prepare_champion, start_leadscore

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCHMARKS = ROOT / "BENCHMARKS.md"
SECTION = "bench_live"
LIVE_OUT = OUT.parent / "live"
HEADERS = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
LEAD = {"lead_id": "bench-lead", "created_at": "2026-10-20T09:00:00Z", "source": "Webinar",
        "title": "VP Marketing", "company_size": "201-1000", "industry": "Software",
        "country": "US", "email_domain": "acme.io", "campaign": "q4",
        "activities": [{"activity_type": t, "occurred_at": f"2026-10-{d}T10:00:00Z"}
                       for d, t in ((25, "page_view"), (28, "pricing_view"), (30, "demo_request"),
                                    (30, "pricing_view"), (31, "email_click"))]}


STORE = OUT / "model" / "leadscore.duckdb"


def store_lead() -> str | None:
    """A lead of the champion's DuckDB store with a long history, after publishing the store's
    lookup snapshot (what score by id reads); None without a store."""
    from features.store import connect, publish_lookup

    if not STORE.exists():
        return None
    with connect(STORE) as con:
        publish_lookup(con, STORE)
        row = con.execute("SELECT lead_id FROM activities GROUP BY lead_id "
                          "ORDER BY count(*) DESC, lead_id LIMIT 1").fetchone()
    return row[0] if row else None


def start_server(uri: str, live_url: str, score_log: bool, log: Path, enabled: bool = True):
    config = Path(tempfile.mkdtemp()) / "config.yaml"
    config.write_text(f"live: {{score_log: {'true' if score_log else 'false'}, "
                      f"enabled: {'true' if enabled else 'false'}}}\n")
    return start_leadscore(uri, 1, log, {"LEADSCORE_LIVE_URL": live_url,
                                         "LEADSCORE_CONFIG": str(config),
                                         "LEADSCORE_STORE": str(STORE)})


def events_cell(url: str, concurrency: int, per_request: int, duration_s: float,
                tag: str) -> tuple[list[float], int, float]:
    """POST /events with new activities each time (so every request commits a write)."""
    counter = itertools.count()
    lock = threading.Lock()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    latencies: list[float] = []
    errors = [0]
    deadline = time.perf_counter() + duration_s

    def body() -> bytes:
        with lock:
            first = next(counter)
            for _ in range(per_request - 1):
                next(counter)
        return json.dumps({"activities": [
            {"lead_id": f"{tag}-{(first + i) % 1000}", "activity_type": "page_view",
             "occurred_at": (base + timedelta(seconds=first + i)).isoformat()}
            for i in range(per_request)]}).encode()

    def worker() -> None:
        client = Connection(url)
        while time.perf_counter() < deadline:
            payload = body()
            began = time.perf_counter()
            status = client.post("/events", payload, HEADERS)
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(elapsed)
                errors[0] += status != 200
        client.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], time.perf_counter() - began


def row(store: str, what: str, log: str, cell: Cell, per_request: int) -> str:
    rps = cell.requests / cell.wall_s if cell.wall_s else 0.0
    return (f"| {store} | {what} | {log} | {cell.concurrency} | {cell.percentile(0.5):.2f} | "
            f"{cell.percentile(0.99):.2f} | {rps:,.0f} | {rps * per_request:,.0f} | "
            f"{cell.errors} |")


def baseline(uri: str, args) -> list[str]:
    """The peer in the same run: the same lead sent whole, the live loop off."""
    rows = []
    server = start_server(uri, "sqlite:///unused.db", False, LIVE_OUT / "baseline.log",
                          enabled=False)
    try:
        body = json.dumps({"leads": [{**LEAD, "as_of": "2026-11-01T00:00:00Z"}]}).encode()
        for concurrency in (1, 4):
            lat, err, wall = http_cell(server, "/score", body, HEADERS, concurrency,
                                       args.duration)
            cell = Cell("score", 1, True, concurrency, lat, err, wall)
            rows.append(row("(off)", "`/score` the lead sent whole", "-", cell, 1))
            print(rows[-1], flush=True)
    finally:
        server.stop()
    return rows


def measure(store: str, live_url: str, uri: str, args) -> list[str]:
    rows = []
    for score_log in (True, False):
        log_word = "on" if score_log else "off"
        server = start_server(uri, live_url, score_log, LIVE_OUT / f"{store}-{log_word}.log")
        try:
            Connection(server.url).post("/events", json.dumps({"leads": [LEAD]}).encode(),
                                        HEADERS)
            body = json.dumps({"lead_id": "bench-lead",
                               "as_of": "2026-11-01T00:00:00Z"}).encode()
            for concurrency in (1, 4):
                lat, err, wall = http_cell(server, "/score", body, HEADERS, concurrency,
                                           args.duration)
                cell = Cell("score", 1, True, concurrency, lat, err, wall)
                rows.append(row(store, "`/score` one lead by id", log_word, cell, 1))
                print(rows[-1], flush=True)
            if score_log and args.store_lead:  # a lead only the DuckDB store knows
                body = json.dumps({"lead_id": args.store_lead,
                                   "as_of": "2026-11-01T00:00:00Z"}).encode()
                lat, err, wall = http_cell(server, "/score", body, HEADERS, 1, args.duration)
                cell = Cell("score", 1, True, 1, lat, err, wall)
                rows.append(row(store, "`/score` one lead by id, DuckDB store", log_word, cell, 1))
                print(rows[-1], flush=True)
            if score_log:  # the events rows do not depend on the score log
                for concurrency, per in ((1, 1), (4, 1), (1, 100)):
                    lat, err, wall = events_cell(server.url, concurrency, per, args.duration,
                                                 f"{store}-{concurrency}-{per}")
                    cell = Cell("events", per, None, concurrency, lat, err, wall)
                    rows.append(row(store, f"`/events` {per} activit{'y' if per == 1 else 'ies'}",
                                    "-", cell, per))
                    print(rows[-1], flush=True)
        finally:
            server.stop()
    return rows


def main(argv: list[str] | None = None) -> None:
    from tests.pg import postgres_server

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per cell")
    parser.add_argument("--tracking-uri", default=None)
    parser.add_argument("--out", type=Path, default=BENCHMARKS)
    args = parser.parse_args(argv)
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    uri = args.tracking_uri
    version = champion_version(uri, "leadscore") if uri else None
    if version is None:
        uri, version = prepare_champion(OUT / "model", 3000)
    LIVE_OUT.mkdir(parents=True, exist_ok=True)
    args.store_lead = store_lead()
    sqlite_db = LIVE_OUT / "live.db"
    for leftover in LIVE_OUT.glob("live.db*"):
        leftover.unlink()
    rows = baseline(uri, args)
    rows += measure("SQLite", f"sqlite:///{sqlite_db}", uri, args)
    with postgres_server() as pg_url:
        rows += measure("PostgreSQL", pg_url, uri, args)
    table = "\n".join(["| live store | request | score log | concurrency | p50 ms | p99 ms | "
                       "requests/s | rows/s | errors |",
                       "|---|---|---|---:|---:|---:|---:|---:|---:|", *rows])
    text = f"""## The live loop (`bench/bench_live.py`)

Run {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on: {machine()}. Model `leadscore`
v{version}; one worker per server on 127.0.0.1, {args.duration:g} s per cell. `/score` by id:
the lead's fields and five activities were stored through `/events`, the request sends only its
id (features from the live store; reasons on; `changes` read from the score log); "DuckDB
store": a lead only the review's DuckDB store knows, read from its lookup snapshot. Score log
"on": each answer waits for its row's commit (docs/api.md, "What is kept"). `/events`: every
request stores new activities, answered after a durable commit (SQLite `synchronous=FULL`,
PostgreSQL's default `synchronous_commit`). PostgreSQL is a local server started for the run
(initdb, default settings, fsync on). The first rows are the peer: the same lead sent whole
with the live loop off (`live.enabled: false`), the API as it was before the live loop; the
live loop's cost is the difference, as the absolute numbers move with the machine's load.

{table}
"""
    write_section(SECTION, text, args.out)
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
