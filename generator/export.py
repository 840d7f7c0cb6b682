"""Generate a whole export chunk by chunk, and write it (CSV or Parquet) or return it as frames.

Chunk ``i`` holds leads ``i * CHUNK_LEADS ..`` and draws from its own generator, seeded from
``(seed, i)`` through numpy's SeedSequence; the company pool draws from ``seed`` alone. So the
same arguments give the same bytes, and memory stays bounded by one chunk.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from generator import activities as act
from generator import drift as drifting
from generator import planted
from generator.crm import sales_history
from generator.leads import REGION_CODES, Companies, build_companies, make_leads
from generator.timeline import DAY, Arrivals, Campaign, Window, campaigns, rep_ids
from leadscore.errors import LeadscoreError

CHUNK_LEADS = 50_000
FORMATS = ("csv", "parquet")
_COMPANY_STREAM = 1  # spawn-key branch of the company pool; chunks use branch 0
_CHUNK_STREAM = 0
_DRIFT_STREAM = 2  # drift's own branch, so an export without --drift is unchanged

_TS = pa.timestamp("s")
_STR = pa.string()
SCHEMAS: dict[str, pa.Schema] = {
    "leads": pa.schema([
        ("lead_id", _STR), ("created_at", _TS), ("source", _STR), ("title", _STR),
        ("company_size", _STR), ("industry", _STR), ("country", _STR), ("email", _STR),
        ("mql_at", _TS), ("campaign", _STR),
    ]),
    "activities": pa.schema([("lead_id", _STR), ("occurred_at", _TS), ("activity_type", _STR)]),
    "dispositions": pa.schema([
        ("lead_id", _STR), ("dispositioned_at", _TS), ("status", _STR), ("reason_code", _STR),
        ("rep_id", _STR), ("attempts", pa.int64()), ("first_touch_at", _TS),
    ]),
    "outcomes": pa.schema([
        ("lead_id", _STR), ("stage", _STR), ("occurred_at", _TS), ("amount", pa.float64()),
    ]),
    "truth": pa.schema([
        ("lead_id", _STR), ("true_p", pa.float64()), ("fit_logit", pa.float64()),
        ("intent_term", pa.float64()), ("seniority", _STR), ("company_size_band", _STR),
        ("industry", _STR), ("free_email", pa.bool_()), ("region", _STR),
        ("converted", pa.bool_()),
    ]),
}
EXPORT_TABLES = ("leads", "activities", "dispositions", "outcomes")


@dataclass(frozen=True)
class Plan:
    """Everything every chunk shares: sizes, the window, the calendar, the companies."""

    n_leads: int
    seed: int
    window: Window
    arrivals: Arrivals
    campaigns: list[Campaign]
    companies: Companies
    drift: bool = False

    @classmethod
    def make(cls, n_leads: int, seed: int, start: str, end: str, drift: bool = False) -> Plan:
        if isinstance(n_leads, bool) or not isinstance(n_leads, (int, np.integer)) or n_leads < 1:
            raise LeadscoreError(
                f"n_leads={n_leads!r} is not a positive whole number: pass 1 or more."
            )
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise LeadscoreError(f"seed={seed!r} is not a whole number >= 0: pass e.g. --seed 7.")
        window = Window.parse(start, end)
        rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(_COMPANY_STREAM,)))
        return cls(int(n_leads), int(seed), window, Arrivals(window), campaigns(window),
                   build_companies(rng), bool(drift))

    @property
    def n_chunks(self) -> int:
        return -(-self.n_leads // CHUNK_LEADS)


def _lead_ids(first: int, count: int, n_total: int) -> np.ndarray:
    width = max(7, len(str(n_total)))
    return np.array([f"L{j:0{width}d}" for j in range(first + 1, first + count + 1)], dtype=object)


def _ts(seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(seconds.astype("datetime64[s]"), type=_TS, mask=mask)


def _strings(values: np.ndarray) -> pa.Array:
    return pa.array(values, type=_STR, from_pandas=False)


def generate_chunk(plan: Plan, index: int) -> dict[str, pa.Table]:
    """The five tables (export + truth) of chunk ``index``, as Arrow tables."""
    rng = np.random.default_rng(
        np.random.SeedSequence(plan.seed, spawn_key=(_CHUNK_STREAM, index))
    )
    first = index * CHUNK_LEADS
    count = min(CHUNK_LEADS, plan.n_leads - first)
    end = plan.window.end
    ids = _lead_ids(first, count, plan.n_leads)
    leads = make_leads(first, count, plan.n_leads, plan.window, plan.arrivals, plan.campaigns,
                       plan.companies, rng)

    # the planted model reads the lead as it was recorded, and its activity before mql_at
    level = act.engagement(leads.source, rng)
    before = act.distinct(act.before_mql(leads.created_at, leads.mql_at, leads.source, level, rng))
    age_days = (leads.mql_at[before.lead] - before.at) / DAY
    intent = planted.intent_term(before.lead, before.kind, age_days, count)
    fit = planted.fit_parts(leads.seniority, leads.size, leads.industry, leads.free_email)
    fit_logit = planted.BASELINE + sum(fit.values())
    logit = fit_logit + intent
    if plan.drift:  # see generator.drift
        drift_rng = np.random.default_rng(
            np.random.SeedSequence(plan.seed, spawn_key=(_DRIFT_STREAM, index)))
        t = drifting.window_fraction(leads.created_at, plan.window.start, plan.window.end)
        new_source = drifting.new_source_leads(t, drift_rng)
        leads.raw["source"] = np.where(new_source, drifting.NEW_SOURCE, leads.raw["source"])
        logit = logit + drifting.drift_term(t, fit["seniority"], new_source)
    true_p = planted.sigmoid(logit)
    converted = rng.random(count) < true_p

    after = act.after_mql(leads.mql_at, level, converted, rng)
    events = act.distinct(act.Events.concat([before, after]))
    shown = events.at < end
    events = act.with_duplicates(
        act.Events(events.lead[shown], events.at[shown], events.kind[shown]), rng
    )
    rep = rep_ids(leads.created_at, plan.window, rng)
    dispositions, outcomes = sales_history(
        leads.mql_at, fit, leads.seniority, leads.size, intent, converted, rep, end, rng
    )

    raw = leads.raw
    activity_names = np.array(planted.ACTIVITY_CODES, dtype=object)
    tables = {
        "leads": {
            "lead_id": _strings(ids),
            "created_at": _ts(leads.created_at),
            "source": _strings(raw["source"]),
            "title": _strings(raw["title"]),
            "company_size": _strings(raw["company_size"]),
            "industry": _strings(raw["industry"]),
            "country": _strings(raw["country"]),
            "email": _strings(raw["email"]),
            "mql_at": _ts(leads.mql_at, mask=leads.mql_at >= end),  # not an MQL yet at the snapshot
            "campaign": _strings(raw["campaign"]),
        },
        "activities": {
            "lead_id": _strings(ids[events.lead]),
            "occurred_at": _ts(events.at),
            "activity_type": _strings(activity_names[events.kind]),
        },
        "dispositions": _rows_table(dispositions.columns, ids, "dispositioned_at"),
        "outcomes": _rows_table(outcomes.columns, ids, "occurred_at"),
        "truth": {
            "lead_id": _strings(ids),
            "true_p": pa.array(np.round(true_p, 6)),
            "fit_logit": pa.array(np.round(fit_logit, 6)),
            "intent_term": pa.array(np.round(intent, 6)),
            "seniority": _strings(np.array(planted.SENIORITY_CODES, dtype=object)[leads.seniority]),
            "company_size_band": _strings(np.array(planted.SIZE_CODES, dtype=object)[leads.size]),
            "industry": _strings(np.array(planted.INDUSTRY_CODES, dtype=object)[leads.industry]),
            "free_email": pa.array(leads.free_email, type=pa.bool_()),
            "region": _strings(np.array(REGION_CODES, dtype=object)[leads.region]),
            "converted": pa.array(converted, type=pa.bool_()),
        },
    }
    return {name: pa.Table.from_pydict(cols, schema=SCHEMAS[name])
            for name, cols in tables.items()}


def _rows_table(columns: dict[str, np.ndarray], ids: np.ndarray, time_col: str) -> dict:
    """Arrow columns of a Rows block, sorted by lead then time."""
    order = np.lexsort((columns[time_col], columns["lead"]))
    out: dict[str, pa.Array] = {"lead_id": _strings(ids[columns["lead"][order]])}
    for name, values in columns.items():
        if name == "lead":
            continue
        values = values[order]
        if name in ("dispositioned_at", "occurred_at", "first_touch_at"):
            out[name] = _ts(values.astype(np.int64))
        elif values.dtype == object:
            out[name] = _strings(values)
        elif values.dtype.kind == "f":
            out[name] = pa.array(values, type=pa.float64(), from_pandas=True)  # NaN -> null
        else:
            out[name] = pa.array(values)
    return out


# ---- public entry points ----------------------------------------------------------------------

@dataclass
class GeneratedExport:
    """A generated export held in memory: the four contract tables and the planted truth."""

    leads: pd.DataFrame
    activities: pd.DataFrame
    dispositions: pd.DataFrame
    outcomes: pd.DataFrame
    truth: pd.DataFrame


@dataclass
class GenerateSummary:
    """What ``generate_export`` wrote: rows per table and where the files are."""

    out_dir: Path
    fmt: str
    n_leads: int
    seed: int
    start: str
    end: str
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def bytes_written(self) -> int:
        return sum(p.stat().st_size for p in self.files.values())

    def __str__(self) -> str:
        lines = [
            f"Generated {self.n_leads:,} leads (seed {self.seed}, {self.start} to {self.end}) "
            f"as {self.fmt.upper()} in {self.out_dir}:"
        ]
        for name, path in self.files.items():
            size = path.stat().st_size / 1e6
            lines.append(f"  {path.name:<22} {self.rows[name]:>12,} rows {size:>10.1f} MB")
        if "truth" not in self.files:
            lines.append("  (no truth/truth.csv: --truth writes each lead's planted probability)")
        return "\n".join(lines)


def generate_frames(
    n_leads: int, seed: int, start: str = "2025-11-01", end: str = "2026-11-01",
    drift: bool = False,
) -> GeneratedExport:
    """A whole export as pandas DataFrames (meant for tests and notebooks: up to ~50k leads).

    The same arguments give the same data as ``generate_export`` writes.

    >>> export = generate_frames(2000, seed=7)
    >>> sorted(export.truth.columns)[:3]
    ['company_size_band', 'converted', 'fit_logit']
    """
    plan = Plan.make(n_leads, seed, start, end, drift)
    chunks = [generate_chunk(plan, i) for i in range(plan.n_chunks)]
    frames = {}
    for name in (*EXPORT_TABLES, "truth"):
        table = pa.concat_tables([c[name] for c in chunks])
        frames[name] = table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    return GeneratedExport(**frames)


def _check_out_dir(out_dir: Path, fmt: str) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise LeadscoreError(
            f"{out_dir} is a file: pass a folder (new or existing) for the export."
        )
    other = "parquet" if fmt == "csv" else "csv"
    stale = [p.name for t in EXPORT_TABLES if (p := out_dir / f"{t}.{other}").exists()]
    if stale:
        raise LeadscoreError(
            f"{out_dir} already holds a {other} export ({', '.join(stale)}): "
            "pass an empty folder or delete those files first."
        )


def generate_export(
    n_leads: int,
    seed: int,
    out_dir: str | Path,
    fmt: str = "csv",
    truth: bool = False,
    start: str = "2025-11-01",
    end: str = "2026-11-01",
    progress: bool | None = None,
    drift: bool = False,
) -> GenerateSummary:
    """Write a demo CRM export: leads, activities, dispositions and outcomes (+ truth.csv).

    Files are ``<table>.csv`` or ``<table>.parquet`` in ``out_dir`` (created if needed; files of
    the same names are replaced, and a ``truth.csv`` left by an earlier run is removed unless
    ``truth`` is set, since it would describe other data). The same arguments always give
    byte-identical files. Memory stays bounded: leads are generated and written 50,000 at a time.

    Args:
        n_leads: how many leads (any size; 1,000,000 takes a few minutes).
        seed: any whole number >= 0.
        out_dir: the folder to write into.
        fmt: "csv" or "parquet".
        truth: also write ``truth.csv``: every lead's planted probability and clean segments.
        start, end: the export window; leads are created in [start, end) and nothing dated at or
            after ``end`` is in the export.
        progress: show a progress bar; default: when stderr is a terminal and there are
            several chunks.
        drift: plant drift (a moving base rate, a source appearing mid-window, a fading fit
            signal; ``generator.drift``) so a backtest has a known answer.

    Raises:
        LeadscoreError: for a bad argument, or an ``out_dir`` that is a file or already holds an
            export in the other format.
    """
    if fmt not in FORMATS:
        raise LeadscoreError(f"Unknown format {fmt!r}: pass csv or parquet.")
    out_dir = Path(out_dir)
    plan = Plan.make(n_leads, seed, start, end, drift)
    _check_out_dir(out_dir, fmt)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [*EXPORT_TABLES, "truth"] if truth else list(EXPORT_TABLES)
    # The truth is the answer key, not part of the CRM export: it sits in a sub-folder so that
    # `leadscore ingest OUT_DIR` (which reads a folder's files, not its sub-folders) never sees it.
    final = {n: out_dir / f"{n}.{fmt}" for n in EXPORT_TABLES}
    if truth:
        final["truth"] = out_dir / TRUTH_FILE
        final["truth"].parent.mkdir(exist_ok=True)
    partial = {n: p.with_name(f".{p.name}.partial") for n, p in final.items()}
    summary = GenerateSummary(out_dir, fmt, plan.n_leads, plan.seed, start, end)
    if progress is None:
        progress = sys.stderr.isatty() and plan.n_chunks > 1
    try:
        with ExitStack() as stack:
            writers = {}
            for name, path in partial.items():
                if name == "truth" or fmt == "csv":
                    writers[name] = stack.enter_context(pa_csv.CSVWriter(path, SCHEMAS[name]))
                else:
                    writers[name] = stack.enter_context(
                        pq.ParquetWriter(path, SCHEMAS[name], compression="zstd")
                    )
            summary.rows = dict.fromkeys(names, 0)
            for index in _chunk_indices(plan.n_chunks, progress):
                for name, table in generate_chunk(plan, index).items():
                    if name in writers:
                        writers[name].write_table(table)
                        summary.rows[name] += table.num_rows
        for name in names:
            partial[name].replace(final[name])
    finally:
        for path in partial.values():
            path.unlink(missing_ok=True)
    stale_truth = out_dir / TRUTH_FILE
    if not truth and stale_truth.exists():
        stale_truth.unlink()  # it described an earlier export, not this one
    summary.files = final
    return summary


TRUTH_FILE = "truth/truth.csv"


def _chunk_indices(n_chunks: int, progress: bool):
    if not progress:
        yield from range(n_chunks)
        return
    from rich.progress import Progress

    with Progress(transient=True, console=None) as bar:
        task = bar.add_task("generating", total=n_chunks)
        for index in range(n_chunks):
            yield index
            bar.advance(task)
