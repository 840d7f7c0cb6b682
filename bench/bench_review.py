"""Benchmark: one review cycle (retraining) on a large generated store (not a test).

    python bench/bench_review.py --leads 100000 1000000 [--fixed]

For each size, in a fresh temporary folder: generate a Parquet export, ingest it into a DuckDB
store, then run ``leadscore review`` as of the generator's end date against a temporary MLflow
SQLite store, with the model tournament (the shipped config). With ``--fixed`` it also runs the
same review with the tournament off (LightGBM with the config's fixed settings), its peer in the
same run. Each step runs in its own process, so the peak memory reported belongs to that step.
Prints wall time and peak resident memory per step, the cycle's headline figures and the
tournament's entrants (from their MLflow child runs).
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


def _review(folder: str, tournament: bool, queue) -> None:
    import os

    import mlflow

    from leadscore.config import load_config
    from training.review import run_review

    os.chdir(folder)  # the cycle's report lands in the temporary folder, not the working tree
    config = load_config()
    config["store"] = str(Path(folder) / "store.duckdb")
    config["mlflow"]["tracking_uri"] = f"sqlite:///{folder}/mlflow.db"
    config["cycle"]["tournament"]["enabled"] = tournament
    cycle = "bench" if tournament else "bench-fixed"
    summary = run_review(cycle=cycle, as_of=AS_OF, config=config, promote=tournament)
    entrants = ""
    if tournament:
        mlflow.set_tracking_uri(config["mlflow"]["tracking_uri"])
        children = mlflow.search_runs(
            search_all_experiments=True,
            filter_string=f"tags.mlflow.parentRunId = '{summary.run_id}'")
        columns = ["tags.entrant", "metrics.mean_log_loss", "metrics.mean_roc_auc",
                   "metrics.seconds", "tags.winner"]
        entrants = children[columns].to_string(index=False) if len(children) else "(none)"
    queue.put({"peak_gib": _peak_gib(), "summary": str(summary), "entrants": entrants})


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
    parser.add_argument("--fixed", action="store_true",
                        help="also time the review with the tournament off")
    args = parser.parse_args()
    rows = []
    for n_leads in args.leads:
        with tempfile.TemporaryDirectory(prefix="leadscore-bench-review-") as folder:
            generated = _step(_generate, folder, n_leads)
            ingested = _step(_ingest, folder)
            fixed = _step(_review, folder, False) if args.fixed else None
            reviewed = _step(_review, folder, True)
        rows.append((n_leads, generated, ingested, reviewed, fixed))
        print(f"\n--- review cycle on {n_leads:,} generated leads ---\n{reviewed['summary']}")
        print(f"\ntournament entrants (child runs):\n{reviewed['entrants']}")
    print("\n| leads | generate s | ingest s (peak GiB) | review with tournament s (peak GiB) "
          "| review, fixed LightGBM s | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n_leads, generated, ingested, reviewed, fixed in rows:
        plain = f"{fixed['seconds']:.1f}" if fixed else "-"
        ratio = f"{reviewed['seconds'] / fixed['seconds']:.2f}" if fixed else "-"
        print(
            f"| {n_leads:,} | {generated['seconds']:.1f} | {ingested['seconds']:.1f} "
            f"({ingested['peak_gib']:.2f}) | {reviewed['seconds']:.1f} "
            f"({reviewed['peak_gib']:.2f}) | {plain} | {ratio} |"
        )


if __name__ == "__main__":
    main()
