"""Benchmark: how long `generate_export` takes, and how much memory it needs, at a given size.

    .venv/bin/python bench/bench_generate.py                  # 1,000,000 leads, CSV
    .venv/bin/python bench/bench_generate.py --leads 200000 --format parquet --keep bench/out

Prints wall time, peak resident memory (this process and any children), rows per table and
megabytes written. Not a test: timings belong here, not in the suite.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil

from generator import generate_export


def peak_rss_mib() -> float:
    """Peak resident set size of this process and its waited-for children, in MiB."""
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale
    return max(own, children) / 2**20


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", dest="fmt", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--truth", action="store_true", help="also write truth.csv")
    parser.add_argument("--keep", type=Path, default=None,
                        help="write here and keep the files (default: a temporary folder)")
    args = parser.parse_args(argv)

    out_dir = args.keep or Path(tempfile.mkdtemp(prefix="leadscore-bench-"))
    rss_before = psutil.Process().memory_info().rss / 2**20
    began = time.perf_counter()
    try:
        summary = generate_export(args.leads, args.seed, out_dir, fmt=args.fmt, truth=args.truth,
                                  progress=False)
        wall = time.perf_counter() - began
        written = summary.bytes_written / 1e6
        print(f"generate_export: {args.leads:,} leads, seed {args.seed}, {args.fmt}")
        print(f"  wall time      {wall:8.1f} s")
        print(f"  peak RSS       {peak_rss_mib():8.0f} MiB (at start {rss_before:.0f} MiB)")
        print(f"  written        {written:8.1f} MB ({written / wall:.1f} MB/s)")
        for name, rows in summary.rows.items():
            size = summary.files[name].stat().st_size / 1e6
            print(f"  {name:<14} {rows:>12,} rows {size:9.1f} MB")
    finally:
        if args.keep is None:
            shutil.rmtree(out_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
