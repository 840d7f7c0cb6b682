"""Benchmark: what the monitor costs. Feature bins on every score, and the monitor itself.

    .venv/bin/python bench/bench_monitor.py            # prepares a champion if needed
    .venv/bin/python bench/bench_monitor.py --served 100000

1. Per scoring call, on the champion and the same generated leads: ``score_records`` without
   reasons (the API's fast path), and the feature bins every score now logs
   (``scoring.drift.BinPlan.rows``) on the same encoded rows: milliseconds, best of
   ``--repeats``, and the bins as a share of the scoring time.
2. ``leadscore monitor``'s work (``scoring.monitor_data.run_monitor``: read the score log and
   the verdicts, compute the five checks) on a live store holding ``--served`` scores of the
   champion spread over 12 weeks, with a disposition for each: seconds, best of ``--repeats``.

Everything runs in this one process, so the ratios are measured under the same load.
Not a test: timings belong here, not in the suite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_sections import write_section  # noqa: E402
from bench_serving import OUT, machine  # noqa: E402
from servers import champion_version, prepare_champion  # noqa: E402

MODEL_DIR = OUT.parent / "monitor"
SINCE = datetime(2026, 8, 1)


def best(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def records(n: int, seed: int) -> list[dict]:
    """Generated leads as the API takes them (fields plus their activities)."""
    from generator import generate_frames

    export = generate_frames(max(n, 200), seed)
    acts: dict[str, list[dict]] = {}
    for row in export.activities.itertuples(index=False):
        acts.setdefault(row.lead_id, []).append({"activity_type": row.activity_type,
                                                 "occurred_at": row.occurred_at})
    leads = export.leads.head(n).to_dict("records")
    # a missing field (NaN in the frame) is left out, as a CRM webhook leaves it out
    return [{**{k: v for k, v in lead.items() if v == v},
             "activities": acts.get(lead["lead_id"], [])} for lead in leads]


def scoring_rows(bundle, repeats: int) -> list[str]:
    from scoring.drift import BinPlan

    plan = BinPlan.of(bundle.manifest["training_profile"])
    rows = []
    for n in (1, 100, 1000):
        batch = records(n, seed=9)
        as_ofs = [datetime(2026, 11, 1)] * n
        features = bundle.build_features(batch, as_ofs)
        X = bundle.encoder.transform_columns(features.columns, len(features))
        scored = best(lambda batch=batch, as_ofs=as_ofs: bundle.score_records(batch, as_ofs),
                      repeats)
        binned = best(lambda X=X: plan.rows(X), repeats)
        rows.append(f"| {n:,} | {scored * 1e3:.3f} | {binned * 1e3:.3f} | "
                    f"{binned / scored:.1%} |")
    return rows


def monitor_seconds(bundle, version: str, served: int, repeats: int) -> float:
    from features.live_store import LiveStore
    from leadscore.config import default_config
    from scoring.monitor_data import run_monitor

    rng = np.random.default_rng(3)
    batch = records(1000, seed=10)
    scores = bundle.score_records(batch, [datetime(2026, 11, 1)] * len(batch))
    folder = Path(tempfile.mkdtemp(prefix="bench-monitor-"))
    live = LiveStore(f"sqlite:///{folder / 'live.db'}")
    pick = rng.integers(0, len(batch), served)
    at = [SINCE + timedelta(minutes=int(m)) for m in rng.integers(0, 60 * 24 * 84, served)]
    ids = [f"B{i:07d}" for i in range(served)]
    live.log_scores({"lead_id": ids[i], "scored_at": at[i], "model_version": version,
                     "score": float(scores.score[j]), "grade": scores.grade[j],
                     "is_mql": bool(scores.is_mql[j]), "feature_bins": scores.feature_bins[j],
                     "source": "api"} for i, j in enumerate(pick))
    live.write(dispositions=[{"lead_id": ids[i], "dispositioned_at": at[i] + timedelta(hours=5),
                              "status": "rejected", "reason_code": "no_budget",
                              "first_touch_at": at[i] + timedelta(hours=2)}
                             for i in range(served)])
    config = default_config()
    config["store"] = str(folder / "none.duckdb")
    manifest = {**bundle.manifest, "as_of": SINCE.isoformat()}
    try:
        return best(lambda: run_monitor(config, manifest, model_version=version,
                                        now=datetime(2026, 10, 24), live=live), repeats)
    finally:
        live.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--served", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--leads", type=int, default=20_000, help="leads of the prepared model")
    args = parser.parse_args(argv)

    from training.registry import load_bundle

    uri = f"sqlite:///{MODEL_DIR / 'mlruns' / 'mlflow.db'}"
    version = champion_version(uri, "leadscore")
    if version is None:
        uri, version = prepare_champion(MODEL_DIR, args.leads)
    from leadscore.config import default_config

    config = default_config()
    config["mlflow"]["tracking_uri"] = uri
    bundle, _ = load_bundle(f"models:/leadscore/{version}", config)
    rows = scoring_rows(bundle, args.repeats)
    seconds = monitor_seconds(bundle, version, args.served, max(1, args.repeats // 2))
    text = "\n".join([
        "## The monitor (`bench/bench_monitor.py`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on: {machine()}. Model `leadscore` "
        f"v{version} ({len(bundle.feature_names)} features), best of {args.repeats}.",
        "Every score now logs its feature bins (`scoring.drift`): their cost per call beside "
        "scoring the same generated leads without reasons (the API's fast path), in ms:",
        "",
        "| leads | score_records | feature bins | bins / scoring |",
        "|---:|---:|---:|---:|",
        *rows,
        "",
        f"`leadscore monitor`'s work (read the score log and the verdicts, the five checks) on "
        f"{args.served:,} served scores over 12 weeks, each with a disposition, SQLite live "
        f"store: **{seconds:.2f} s**. The API repeats it every `monitor.refresh_s` "
        f"({config['monitor']['refresh_s']:g} s by default) on one worker's thread.",
    ])
    write_section("bench_monitor", text)
    print(text)


if __name__ == "__main__":
    main()
