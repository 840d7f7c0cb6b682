"""Benchmark: `leadscore score` with reasons on a million generated leads, and its scaling.

    .venv/bin/python bench/bench_batch.py                       # 1,000,000 leads
    .venv/bin/python bench/bench_batch.py --leads 200000 --compare 50000

The usual "rescore everything" run: a generated export's ``leads.csv`` scored by the champion
with its ``activities.csv`` joined by lead id (``--activities``), scores and reasons written to
Parquet. The command runs as a subprocess, as a user runs it; this script samples the whole
process tree (the command and its worker processes) every 0.2 s for the summed resident memory,
and takes CPU time from the kernel's account of the waited-for processes.

In the same run, the first ``--compare`` leads are scored with ``--workers 1`` and with the
default (one worker per core), so the speed-up is measured under the same load.
Not a test: timings belong here, not in the suite.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_sections import write_section  # noqa: E402
from bench_serving import machine  # noqa: E402
from measure import run_measured  # noqa: E402
from servers import champion_uri  # noqa: E402

OUT = ROOT / "bench" / "out" / "scale"
SECTION = "bench_batch"


@dataclass
class Run:
    leads: int
    workers: str
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    largest_process_mib: float

    def row(self) -> str:
        return (f"| {self.leads:,} | {self.workers} | {self.wall_s:.1f} | "
                f"{self.leads / self.wall_s:,.0f} | {self.cpu_s:.1f} | "
                f"{self.cpu_s / self.wall_s:.2f} | {self.peak_rss_mib:,.0f} | "
                f"{self.largest_process_mib:,.0f} |")


def score_run(leads: Path, activities: Path, out: Path, env: dict[str, str],
              workers: int | None, n: int) -> Run:
    command = [str(Path(sys.executable).with_name("leadscore")), "score", str(leads),
               "--activities", str(activities), "--out", str(out)]
    if workers is not None:
        command += ["--workers", str(workers)]
    run = run_measured(command, env, "leadscore score")
    scored = pd.read_parquet(out, columns=["lead_id"])
    assert len(scored) == n, f"{len(scored)} rows out for {n} leads"
    return Run(n, str(workers or f"default ({os.cpu_count()})"), run.wall_s, run.cpu_s,
               run.peak_rss_mib, run.largest_process_mib)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--compare", type=int, default=100_000)
    parser.add_argument("--review-leads", type=int, default=20_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)

    from generator import generate_export

    uri = champion_uri(OUT / "model", args.review_leads)
    export = OUT / f"gen-{args.leads}"
    if not (export / "leads.csv").is_file():
        print(f"generating {args.leads:,} leads in {export}")
        generate_export(args.leads, 7, export, progress=False)
    leads, activities = export / "leads.csv", export / "activities.csv"
    n_activities = sum(1 for _ in open(activities, "rb")) - 1
    env = dict(os.environ, MLFLOW_TRACKING_URI=uri, MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="false")

    runs = []
    if args.compare:
        subset = OUT / f"first-{args.compare}.csv"
        pd.read_csv(leads, dtype=str, nrows=args.compare).to_csv(subset, index=False)
        for workers in (1, None):
            runs.append(score_run(subset, activities, OUT / "compare.parquet", env, workers,
                                  args.compare))
            print(runs[-1].row())
    runs.append(score_run(leads, activities, OUT / "scores.parquet", env, None, args.leads))
    print(runs[-1].row())

    full = runs[-1]
    cores = os.cpu_count() or 1
    speedup = (f"{runs[0].wall_s / runs[1].wall_s:.2f}x" if args.compare else "not measured")
    verdict = "met" if full.wall_s < 120 else "missed"
    text = f"""## Batch scoring with reasons (`bench/bench_batch.py`)

Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on: {machine()} (a load average above the core count
means other engineers' work shared the CPUs during the run).
`leadscore score leads.csv --activities activities.csv --out scores.parquet` on a generated
export ({args.leads:,} leads, {n_activities:,} activities joined by lead id), champion of one
review cycle on {args.review_leads:,} generated leads, five reasons per lead. Peak RSS is the
largest sum over the command and its workers (sampled every 0.2 s); CPU is user + system time of
all of them; CPU use = CPU / wall.

Goal: {args.leads:,} leads with reasons in under 2 minutes: **{full.wall_s:.0f} s** ({verdict}),
peak RSS {full.peak_rss_mib:,.0f} MiB, CPU use {full.cpu_s / full.wall_s:.2f} of {cores} cores.
Its CPU time over the cores, {full.cpu_s / cores:.0f} s, is the wall time the run would take
with every core to itself and perfect scaling: a bound derived from the run, not a measurement.
Workers (one per core) against one, first {args.compare:,} leads, same run: **{speedup}**.

| leads | workers | wall s | leads/s | CPU s | CPU use | peak RSS MiB (all) | largest process MiB |
|---:|---|---:|---:|---:|---:|---:|---:|
{chr(10).join(run.row() for run in runs)}
"""
    print(text)
    if not args.no_write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
