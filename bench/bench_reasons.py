"""Benchmark: scores and exact reasons on one booster and one set of rows, every peer in one run.

    .venv/bin/python bench/bench_reasons.py                    # prepares a champion if needed
    .venv/bin/python bench/bench_reasons.py --rows 20000 --tracking-uri sqlite:////abs/mlflow.db

On the champion's full booster and the same encoded rows (generated leads built and encoded by
the API's path), rows/s of:

* scores: LightGBM ``predict(raw_score=True)``, our ``scoring.forest.Forest`` and ``lleaves``
  (LLVM-compiled LightGBM; its compile time is reported apart), on one thread and on all;
* reasons: LightGBM ``pred_contrib``, ``shap.TreeExplainer`` (default settings), ``fasttreeshap``
  (``algorithm="v2"``) when it runs here, and ``scoring.treeshap.TreeShap`` serially and on
  numba's threads.

Every output is compared with LightGBM's (``predict`` for scores, ``pred_contrib`` for reasons):
the largest absolute difference is in the table. Each figure is the best of ``--repeats`` runs,
all in this one process, so the ratios are measured under the same load.
Not a test: timings belong here, not in the suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_sections import write_section  # noqa: E402
from bench_serving import machine, sample_leads  # noqa: E402 - bench is not a package
from servers import champion_uri  # noqa: E402

OUT = ROOT / "bench" / "out" / "scale"
SECTION = "bench_reasons"


def best_of(repeats: int, run: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
    """Best wall time of ``repeats`` runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        began = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - began)
    return best, result


def fasttreeshap_explainer(booster):
    """fasttreeshap's v2 explainer, or the sentence saying why it does not run here."""
    try:
        if not hasattr(np, "obj2sctype"):
            # fasttreeshap 0.1.6 calls np.obj2sctype (gone in NumPy 2) at import: shim it
            np.obj2sctype = lambda obj, default=None: (
                obj if isinstance(obj, type) and issubclass(obj, np.generic)
                else np.dtype(obj).type)
        import fasttreeshap

        explainer = fasttreeshap.TreeExplainer(booster, algorithm="v2", n_jobs=os.cpu_count())
        explainer.shap_values(np.zeros((1, booster.num_feature())))
        return explainer
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"


LLEAVES_RUN = """
import json, sys, time
import numpy as np, lleaves
X = np.load(sys.argv[1])
model = lleaves.Model(model_file=sys.argv[2])
began = time.perf_counter()
model.compile(cache=sys.argv[3], raw_score=True)
compile_s = time.perf_counter() - began
rates = {}
for jobs in (1, int(sys.argv[5])):
    best = float("inf")
    for _ in range(int(sys.argv[6])):
        began = time.perf_counter()
        out = model.predict(X, n_jobs=jobs)
        best = min(best, time.perf_counter() - began)
    rates[jobs] = len(X) / best
np.save(sys.argv[4], out)
print(json.dumps({"compile_s": compile_s, "rates": rates}))
"""
"""lleaves in a Python of its own: lleaves 1.3 needs llvmlite's legacy pass manager, which the
llvmlite numba 0.68 brings has dropped, so it cannot share this environment."""


def run_lleaves(python: str, booster, X: np.ndarray, threads: int,
                repeats: int) -> dict | str:
    """lleaves' compile time, rows/s on 1 and ``threads`` threads and its raw margins, or the
    sentence saying why it did not run."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        booster.save_model(str(path / "full.txt"))
        np.save(path / "X.npy", X)
        run = subprocess.run([python, "-c", LLEAVES_RUN, str(path / "X.npy"),
                              str(path / "full.txt"), str(path / "full.o"),
                              str(path / "out.npy"), str(threads), str(repeats)],
                             capture_output=True, text=True)
        if run.returncode != 0:
            last = (run.stderr.strip().splitlines() or ["no output"])[-1]
            return f"{last[:160]} (give --lleaves-python)"
        result = json.loads(run.stdout.strip().splitlines()[-1])
        result["out"] = np.load(path / "out.npy")
        return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tracking-uri", default=None)
    parser.add_argument("--review-leads", type=int, default=20_000)
    parser.add_argument("--lleaves-python", default=sys.executable,
                        help="a Python with lleaves (and an llvmlite it works with)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)

    import lightgbm as lgb  # noqa: F401 - loaded before timing
    import shap

    from leadscore.config import default_config
    from scoring.forest import Forest
    from scoring.treeshap import TreeShap
    from training.registry import load_bundle

    uri = champion_uri(OUT / "model", args.review_leads, args.tracking_uri)
    os.environ["MLFLOW_TRACKING_URI"] = uri
    config = default_config()
    config["mlflow"]["tracking_uri"] = uri
    bundle, version = load_bundle(None, config)
    booster = bundle.boosters["full"]
    leads = sample_leads(args.rows)
    features = bundle.build_features(leads, [datetime.now(UTC)] * len(leads))
    X = bundle.encoder.transform_columns(features.columns, len(features))
    X = np.ascontiguousarray(X, dtype=np.float64)
    n_trees, n_features = booster.num_trees(), booster.num_feature()
    threads = os.cpu_count() or 1
    print(f"champion v{version.version}: {n_trees} trees, {n_features} features; "
          f"{len(X):,} rows; {threads} threads")

    rows: list[tuple[str, str, float | None, float | None, str]] = []
    # scores are fast: time them on the rows five times over, so a run lasts long enough
    X_scores = np.ascontiguousarray(np.tile(X, (5, 1)))
    raw = booster.predict(X_scores, raw_score=True, num_threads=1)
    contrib = booster.predict(X, pred_contrib=True, num_threads=1)

    def measure(kind: str, name: str, run: Callable[[], np.ndarray], reference: np.ndarray,
                note: str = "") -> float:
        seconds, result = best_of(args.repeats, run)
        diff = float(np.max(np.abs(np.asarray(result) - reference)))
        rate = len(reference) / seconds
        rows.append((kind, name, rate, diff, note))
        print(f"{kind:8} {name:44} {rate:12,.0f} rows/s  max |diff| {diff:.1e}")
        return rate

    forest = Forest([booster], [range(n_features)])
    forest.margins(X[:10])
    measure("scores", "LightGBM predict, 1 thread",
            lambda: booster.predict(X_scores, raw_score=True, num_threads=1), raw)
    measure("scores", f"LightGBM predict, {threads} threads",
            lambda: booster.predict(X_scores, raw_score=True, num_threads=threads), raw)
    forest_rate = measure("scores", "Forest (ours, QuickScorer in numba), 1 thread",
                          lambda: forest.margins(X_scores)[:, 0], raw)
    compiled = run_lleaves(args.lleaves_python, booster, X_scores, threads, args.repeats)
    lleaves_rate, lleaves_diff = None, 0.0
    if isinstance(compiled, str):
        rows.append(("scores", "lleaves", None, None, f"did not run: {compiled}"))
    else:
        diff = float(np.max(np.abs(compiled["out"] - raw)))
        for jobs, rate in compiled["rates"].items():
            note = f"compile {compiled['compile_s']:.1f} s" if jobs == "1" else ""
            rows.append(("scores", f"lleaves (LLVM), {jobs} thread{'s' * (jobs != '1')}",
                         rate, diff, note))
            print(f"scores   lleaves, {jobs} threads {rate:12,.0f} rows/s  max |diff| {diff:.1e}")
        lleaves_rate, lleaves_diff = compiled["rates"]["1"], diff

    explainer = TreeShap(booster)
    explainer.contributions(X[:10])
    explainer.contributions(X[:4096], parallel=True)
    base = measure("reasons", "LightGBM pred_contrib, 1 thread",
                   lambda: booster.predict(X, pred_contrib=True, num_threads=1), contrib)
    measure("reasons", f"LightGBM pred_contrib, {threads} threads",
            lambda: booster.predict(X, pred_contrib=True, num_threads=threads), contrib)
    tree_explainer = shap.TreeExplainer(booster)
    shap_rate = measure(
        "reasons", "shap.TreeExplainer (default)",
        lambda: np.column_stack([tree_explainer.shap_values(X),
                                 np.full(len(X), tree_explainer.expected_value)]), contrib)
    fast = fasttreeshap_explainer(booster)
    if isinstance(fast, str):
        rows.append(("reasons", "fasttreeshap v2", None, None, f"did not run: {fast}"))
    else:
        measure("reasons", f"fasttreeshap v2, {threads} threads",
                lambda: np.column_stack([fast.shap_values(X),
                                         np.full(len(X), fast.expected_value)]), contrib)
    ours_1 = measure("reasons", "TreeShap (ours), 1 thread",
                     lambda: explainer.contributions(X), contrib)
    ours = measure("reasons", f"TreeShap (ours), {threads} threads",
                   lambda: explainer.contributions(X, parallel=True), contrib)

    table = ["| what | implementation | rows/s | max abs diff from LightGBM | note |",
             "|---|---|---:|---:|---|"]
    for kind, name, rate, diff, note in rows:
        table.append(f"| {kind} | {name} | {'' if rate is None else f'{rate:,.0f}'} | "
                     f"{'' if diff is None else f'{diff:.1e}'} | {note} |")
    verdict = "met" if ours / shap_rate >= 10 else "missed"
    if lleaves_rate is None:
        kept = "lleaves did not run, so Forest stays"
    elif lleaves_diff > 0:
        kept = (f"Forest is kept: only it gives LightGBM's margins bit for bit (lleaves differs "
                f"by up to {lleaves_diff:.1e}, and the scorer's tests hold it to exact equality), "
                f"and lleaves 1.3 cannot share numba's llvmlite; on one thread lleaves ran "
                f"{lleaves_rate / forest_rate:.2f}x Forest's speed")
    elif forest_rate >= lleaves_rate:
        kept = "Forest is kept: both exact, Forest faster on one thread"
    else:
        kept = "lleaves is exact too and faster on one thread: worth adopting"
    peers = f"Forest {forest_rate:,.0f} rows/s" + (
        "" if lleaves_rate is None else f", lleaves {lleaves_rate:,.0f} rows/s")
    text = f"""## Exact reasons and scores on one booster (`bench/bench_reasons.py`)

Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on: {machine()} (a load average above the core count
means other engineers' work shared the CPUs during the run).
Booster: the full booster of champion v{version.version} ({n_trees} trees, {n_features}
features), one review cycle on {args.review_leads:,} generated leads; {len(X):,} rows of
generated leads encoded by the API's path (scores: the same rows five times over). Best of
{args.repeats} runs each, all in one process but lleaves (a subprocess, right after Forest).

Goal: reasons at least 10x `shap.TreeExplainer` on the same booster and rows:
**{ours / shap_rate:.1f}x** ({verdict}); on one thread against LightGBM's `pred_contrib` on one
thread: **{ours_1 / base:.1f}x**. {kept} ({peers}, one thread).

{chr(10).join(table)}
"""
    print(text)
    if not args.no_write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
