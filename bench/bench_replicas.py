"""Benchmark: two scoring-API replicas on this machine against one, sharing one MLflow registry.

    .venv/bin/python bench/bench_replicas.py                  # 10 s per cell
    .venv/bin/python bench/bench_replicas.py --duration 5

Each replica is a separate ``bentoml serve serving.service:LeadScorer`` process (one worker,
its own port), as replicas behind a load balancer are; both load the champion from the same
MLflow registry. The client spreads its connections over the replicas in turn (what a
round-robin load balancer does) and measures requests/s of 100-lead requests, with and without
reasons, at concurrency 4 and 8. One replica and two replicas are measured in the same run, in
alternating turns, so a busy minute on this shared machine falls on both alike.
Not a test: timings belong here, not in the suite.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_sections import write_section  # noqa: E402
from bench_serving import http_cell, machine, sample_leads  # noqa: E402
from servers import API_KEY, champion_uri, start_leadscore  # noqa: E402

OUT = ROOT / "bench" / "out" / "scale"
SECTION = "bench_replicas"


def spread(servers: list, body: bytes, concurrency: int,
           duration: float) -> tuple[int, int, float]:
    """``concurrency`` connections dealt round-robin over ``servers``; (requests, errors, s)."""
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    share = [concurrency // len(servers) + (i < concurrency % len(servers))
             for i in range(len(servers))]
    results: list[tuple[list[float], int, float]] = [([], 0, 0.0)] * len(servers)

    def drive(i: int) -> None:
        results[i] = http_cell(servers[i], "/score", body, headers, share[i], duration)

    threads = [threading.Thread(target=drive, args=(i,)) for i in range(len(servers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    requests = sum(len(r[0]) for r in results)
    return requests, sum(r[1] for r in results), max(r[2] for r in results)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--turns", type=int, default=2)
    parser.add_argument("--review-leads", type=int, default=20_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)

    uri = champion_uri(OUT / "model", args.review_leads)
    os.environ.setdefault("BENTOML_HOME", str(OUT / "bentoml"))
    logs = OUT / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    servers = [start_leadscore(uri, 1, logs / f"replica-{i}.log") for i in range(2)]
    try:
        leads = sample_leads(100)
        bodies = {r: json.dumps({"leads": leads, "reasons": r}).encode() for r in (True, False)}
        cells: dict[tuple[int, bool, int], list[tuple[int, int, float]]] = {}
        for _ in range(args.turns):
            for reasons in (True, False):
                for concurrency in (4, 8):
                    for replicas in (1, 2):
                        got = spread(servers[:replicas], bodies[reasons], concurrency,
                                     args.duration / args.turns)
                        cells.setdefault((replicas, reasons, concurrency), []).append(got)
    finally:
        for server in servers:
            server.stop()

    rows, ratios = [], []
    rate = {}
    for (replicas, reasons, concurrency), parts in sorted(cells.items()):
        requests = sum(p[0] for p in parts)
        errors = sum(p[1] for p in parts)
        seconds = sum(p[2] for p in parts)
        rate[(replicas, reasons, concurrency)] = requests / seconds
        rows.append(f"| {replicas} | {'yes' if reasons else 'no'} | {concurrency} | "
                    f"{requests / seconds:,.1f} | {100 * requests / seconds:,.0f} | {errors} |")
    for reasons in (True, False):
        for concurrency in (4, 8):
            two, one = rate[(2, reasons, concurrency)], rate[(1, reasons, concurrency)]
            ratios.append(f"- 100 leads, reasons {'yes' if reasons else 'no'}, concurrency "
                          f"{concurrency}: **{two / one:.2f}x**")
    text = f"""## Two API replicas against one (`bench/bench_replicas.py`)

Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on: {machine()} (a load average above the core count
means other engineers' work shared the CPUs during the run).
Each replica: `bentoml serve serving.service:LeadScorer`, one worker process, its own port,
the champion of {uri} (one registry shared by both). The client deals its keep-alive
connections over the replicas in turn, as a round-robin load balancer does, and shares the
machine with them; {args.duration:.0f} s per cell in {args.turns} alternating turns.

Two replicas against one, same run:

{chr(10).join(ratios)}

| replicas | reasons | concurrency | requests/s | leads/s | errors |
|---:|---|---:|---:|---:|---:|
{chr(10).join(rows)}
"""
    print(text)
    if not args.no_write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
