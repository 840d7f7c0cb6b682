"""Benchmark: batch feature building over a large store (not a test).

    python bench/bench_features.py --leads 1000000
    python bench/bench_features.py --leads 200000 --synthetic --activities-per-lead 10

Steps, each in its own process so the figures belong to feature building alone:

1. data: the demo generator writes a Parquet export (``generator.generate_export``); with
   ``--synthetic`` or without the generator, numpy draws a messy export with a fixed number of
   activities per lead instead;
2. store: the export is loaded into a temporary DuckDB store (through ``features.ingest`` with
   ``--ingest``, else with plain SQL: the e-mail reduced to its domain, duplicate activities
   dropped);
3. features: ``build_batch`` for every lead at its scoreable moment (``mql_at``, else
   ``created_at``), timed; peak resident memory of this process is reported. Target: 1,000,000
   leads and ~10M activities in less than 8 GiB.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GIB = 1024**3
LIMIT_GIB = 8.0


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _synthesise(out: Path, n_leads: int, per_lead: float, seed: int) -> None:
    """A messy export drawn with numpy: raw titles, sizes, countries, sources; Poisson activity."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    titles = np.array(["Chief Revenue Officer", "CEO", "Founder & CEO", "SVP Sales",
                       "Head of Marketing", "Sr. Manager", "Marketing Manager", "Account Executive",
                       "Software Engineer", "Marketing Intern", "Student", "Select", None],
                      dtype=object)
    sizes = np.array(["250", "51-200", "5000+", "10,000", "1-10", "11 - 50", "Select", None],
                     dtype=object)
    countries = np.array(["US", "USA", "United States", "UK", "Germany", "India", "Brazil", None],
                         dtype=object)
    industries = np.array(["Software", "Financial Services", "healthcare ", "Retail", None],
                          dtype=object)
    sources = np.array(["Paid Search", "paid_search", "Webinar", "Organic", "Referral"],
                       dtype=object)
    domains = np.array(["gmail.com", "acme.com", "brightlane.io", "yahoo.co.uk", None],
                       dtype=object)
    types = np.array(["demo_request", "pricing_view", "content_download", "webinar_attended",
                      "email_click", "page_view", "chat_started"], dtype=object)
    start = np.datetime64("2025-11-01T00:00:00", "s").astype(np.int64)
    created = start + rng.integers(0, 365 * 86400, n_leads)
    mql = np.where(rng.random(n_leads) < 0.6, created + rng.integers(0, 20 * 86400, n_leads), -1)
    ids = np.char.add("L", np.char.zfill(np.arange(n_leads).astype(str), 8)).astype(object)
    ts = pa.timestamp("s")
    pq.write_table(pa.table({
        "lead_id": ids,
        "created_at": pa.array(created, ts),
        "source": rng.choice(sources, n_leads), "title": rng.choice(titles, n_leads),
        "company_size": rng.choice(sizes, n_leads), "industry": rng.choice(industries, n_leads),
        "country": rng.choice(countries, n_leads),
        "email": [f"p@{d}" if d else None for d in rng.choice(domains, n_leads)],
        "mql_at": pa.array(mql, ts, mask=mql < 0),
        "campaign": pa.nulls(n_leads, pa.string()),
    }), out / "leads.parquet")
    counts = rng.poisson(per_lead, n_leads)
    lead_of = np.repeat(np.arange(n_leads), counts)
    at = created[lead_of] + rng.integers(-30 * 86400, 120 * 86400, len(lead_of))
    pq.write_table(pa.table({
        "lead_id": ids[lead_of], "occurred_at": pa.array(at, ts),
        "activity_type": rng.choice(types, len(lead_of)),
    }), out / "activities.parquet")


def _prepare(work: Path, n_leads: int, synthetic: bool, per_lead: float, use_ingest: bool,
             seed: int) -> None:
    export = work / "export"
    export.mkdir()
    started = time.perf_counter()
    generator = None
    if not synthetic:
        try:
            from generator import generate_export as generator
        except ImportError:
            print("generator is missing: synthesising the export with numpy instead")
    if generator is not None:
        generator(n_leads, seed, export, fmt="parquet", progress=False)
        source = "generator"
    else:
        _synthesise(export, n_leads, per_lead, seed)
        source = f"numpy synthesis, Poisson({per_lead}) activities per lead"
    print(f"data:     {n_leads:,} leads ({source}) in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    store = work / "store.duckdb"
    if use_ingest:
        from features.ingest import ingest_paths

        ingest_paths(sorted(export.glob("*.parquet")), store, None)
    else:
        import duckdb

        from features.store import create_schema

        con = duckdb.connect(str(store))
        create_schema(con)
        leads = export / "leads.parquet"
        con.execute(
            "INSERT INTO leads (lead_id, created_at, source, title, company_size, industry, "
            "country, email_domain, mql_at, campaign) SELECT lead_id, created_at, source, title, "
            "company_size, industry, country, nullif(lower(split_part(email, '@', 2)), ''), "
            f"mql_at, campaign FROM read_parquet('{leads}')"
        )
        con.execute(
            "INSERT INTO activities SELECT DISTINCT lead_id, occurred_at, "
            "lower(trim(activity_type)) FROM read_parquet('"
            f"{export / 'activities.parquet'}')"
        )
        con.close()
    print(f"store:    loaded in {time.perf_counter() - started:.1f} s "
          f"({'features.ingest' if use_ingest else 'plain SQL'})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--synthetic", action="store_true",
                        help="draw the export with numpy instead of the demo generator")
    parser.add_argument("--activities-per-lead", type=float, default=10.0,
                        help="mean activities per lead with --synthetic (default 10)")
    parser.add_argument("--ingest", action="store_true",
                        help="load the store through features.ingest instead of plain SQL")
    parser.add_argument("--chunk", type=int, default=None, help="points per SQL query")
    parser.add_argument("--memory-limit", default=None,
                        help="DuckDB memory_limit for the feature step, e.g. 4GB")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp one)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        child = mp.get_context("spawn").Process(
            target=_prepare,
            args=(work, args.leads, args.synthetic, args.activities_per_lead, args.ingest,
                  args.seed),
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            print("preparing the store failed", file=sys.stderr)
            return 1

        import duckdb

        from features.batch import DEFAULT_CHUNK, build_batch
        from leadscore.config import default_config

        config = default_config()
        con = duckdb.connect(str(work / "store.duckdb"), read_only=True)
        if args.memory_limit:
            con.execute(f"SET memory_limit = '{args.memory_limit}'")
        n_activities = con.execute("SELECT count(*) FROM activities").fetchone()[0]
        points = con.execute(
            "SELECT lead_id, coalesce(mql_at, created_at) AS as_of FROM leads ORDER BY lead_id"
        ).fetch_df()
        rss_before = _peak_rss_bytes()
        started = time.perf_counter()
        features = build_batch(con, points, config, chunk_size=args.chunk or DEFAULT_CHUNK)
        wall = time.perf_counter() - started
        peak = _peak_rss_bytes()
        con.close()

        rate = len(points) / wall if wall else float("inf")
        print(f"features: {len(features):,} points x {features.shape[1] - 2} features from "
              f"{n_activities:,} activities in {wall:.1f} s ({rate:,.0f} points/s)")
        print(f"memory:   peak RSS {peak / GIB:.2f} GiB (before build_batch {rss_before / GIB:.2f}"
              f" GiB; limit {LIMIT_GIB:.0f} GiB)")
        return 0 if peak < LIMIT_GIB * GIB else 2


if __name__ == "__main__":
    raise SystemExit(main())
