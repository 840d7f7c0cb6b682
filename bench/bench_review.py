"""Benchmark: one review cycle (retraining) on a large generated store (not a test).

    python bench/bench_review.py --leads 100000 1000000

For each size, in a fresh temporary folder: generate a Parquet export, ingest it into a DuckDB
store, then run ``leadscore review`` as of the generator's end date against a temporary MLflow
SQLite store. Each step runs in its own process, so the peak memory reported belongs to that step.
Prints wall time and peak resident memory per step and the cycle's headline figures.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

AS_OF = "2026-11-01"


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: KiB


def _generate(folder: str, n_leads: int, queue) -> None:
    from generator import generate_export

    generate_export(n_leads=n_leads, seed=7, out_dir=Path(folder) / "export", fmt="parquet")
    queue.put({"peak_gib": _peak_gib()})


def _ingest(folder: str, queue) -> None:
    from features.ingest import ingest_paths

    ingest_paths([Path(folder) / "export"], store=Path(folder) / "store.duckdb")
    queue.put({"peak_gib": _peak_gib()})


def _review(folder: str, queue) -> None:
    import os

    from leadscore.config import load_config
    from training.review import run_review

    os.chdir(folder)  # the cycle's report lands in the temporary folder, not the working tree
    config = load_config()
    config["store"] = str(Path(folder) / "store.duckdb")
    config["mlflow"]["tracking_uri"] = f"sqlite:///{folder}/mlflow.db"
    summary = run_review(cycle="bench", as_of=AS_OF, config=config, promote=True)
    text = str(summary)
    queue.put({"peak_gib": _peak_gib(), "summary": text})


def _step(target, *args) -> dict:
    queue = mp.get_context("spawn").Queue()
    start = time.perf_counter()
    process = mp.get_context("spawn").Process(target=target, args=(*args, queue))
    process.start()
    process.join()
    if process.exitcode != 0:
        raise SystemExit(f"{target.__name__} failed with exit code {process.exitcode}")
    out = queue.get()
    out["seconds"] = time.perf_counter() - start
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    rows = []
    for n_leads in args.leads:
        with tempfile.TemporaryDirectory(prefix="leadscore-bench-review-") as folder:
            generated = _step(_generate, folder, n_leads)
            ingested = _step(_ingest, folder)
            reviewed = _step(_review, folder)
        rows.append((n_leads, generated, ingested, reviewed))
        print(f"\n--- review cycle on {n_leads:,} generated leads ---\n{reviewed['summary']}")
    print("\n| leads | generate s | ingest s (peak GiB) | review s (peak GiB) |")
    print("|---:|---:|---:|---:|")
    for n_leads, generated, ingested, reviewed in rows:
        print(
            f"| {n_leads:,} | {generated['seconds']:.1f} | {ingested['seconds']:.1f} "
            f"({ingested['peak_gib']:.2f}) | {reviewed['seconds']:.1f} "
            f"({reviewed['peak_gib']:.2f}) |"
        )


if __name__ == "__main__":
    main()
