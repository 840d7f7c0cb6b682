"""``leadscore score``: a file of leads in, scores and reasons out, with the champion by default.

The input is a CSV or Parquet file of lead rows (the leads table's columns, an optional
``activities`` column holding a JSON list of ``{"activity_type", "occurred_at"}``, an optional
``attributes`` JSON object, an optional ``as_of``). Features are built per lead by the same
one scoring path the API uses (``ScoringBundle.score_records``), so a lead scores the same in a
file and over HTTP.

The output holds ``lead_id`` and the model's answers only (score, fit_score, intent_score, grade,
is_mql, reasons as a JSON string, model_version): personal data such as e-mail addresses is never
copied to it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from leadscore.errors import LeadscoreError
from scoring.bundle import OUTPUT_COLUMNS, ScoringBundle
from scoring.pyfunc import score_lead_frame

CHUNK = 2_000
TOP_REASONS = 5
FORMATS = (".csv", ".parquet")


def read_leads(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet file of leads (every CSV value as text; feature code parses it).

    Raises:
        LeadscoreError: when the file is missing, of another format, or unreadable.
    """
    path = Path(path)
    if not path.is_file():
        raise LeadscoreError(f"No file at {path}: give a CSV or Parquet file of leads.")
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise LeadscoreError(
            f"{path} is neither .csv nor .parquet: export the leads as one of them."
        )
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=True)
        return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pandas raises many types for a broken file
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise LeadscoreError(
            f"Cannot read {path} ({first}): check that it is a valid file."
        ) from None


def _write(frame: pd.DataFrame, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix.lower() == ".parquet":
        frame.to_parquet(output, index=False)
    else:
        frame.to_csv(output, index=False)


def score_frame_with_reasons(
    bundle: ScoringBundle, leads: pd.DataFrame, *, now: datetime, top: int = TOP_REASONS,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Score a lead frame: one output row per input row, in order, with reasons as JSON text."""
    parts = []
    for start in range(0, len(leads), CHUNK):
        chunk = leads.iloc[start:start + CHUNK]
        try:
            scores = score_lead_frame(bundle, chunk, now=now, top_reasons=top)
        except LeadscoreError as exc:
            # the message names the row inside the chunk: make it the file's row
            raise LeadscoreError(_shift_row(str(exc), start)) from None
        part = scores.frame()
        part["reasons"] = [json.dumps([r.as_dict() for r in lead]) for lead in scores.reasons]
        parts.append(part)
        if progress is not None:
            progress(len(chunk))
    columns = [*OUTPUT_COLUMNS, "reasons"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def _shift_row(message: str, offset: int) -> str:
    if message.startswith("Row ") and offset:
        number, _, rest = message[4:].partition(":")
        if number.isdigit():
            return f"Row {int(number) + offset}:{rest}"
    return message


def score_file(
    input_path: Path, output: Path, config: dict[str, Any], model_uri: str | None = None
) -> str:
    """Score every lead of ``input_path`` and write scores and reasons to ``output``.

    Args:
        input_path: CSV or Parquet file of leads.
        output: where to write (``.csv`` or ``.parquet``, by its suffix).
        config: the leadscore config (the MLflow store and registered model name).
        model_uri: an MLflow model URI; None means ``models:/<registered_model>@champion``.

    Returns:
        One line saying what was scored, by which model, and where it went.

    Raises:
        LeadscoreError: when there is no champion, the file cannot be read, or a lead is malformed.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from training.registry import load_bundle

    output = Path(output)
    if output.suffix.lower() not in FORMATS:
        raise LeadscoreError(f"--out {output} must end in .csv or .parquet.")
    leads = read_leads(input_path)
    bundle, version = load_bundle(model_uri, config)
    label = f"v{version.version}" if version is not None else (model_uri or "champion")
    now = datetime.now(UTC)
    with Progress(TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True) as progress:
        task = progress.add_task("score", total=len(leads))
        scores = score_frame_with_reasons(
            bundle, leads, now=now, progress=lambda n: progress.advance(task, n)
        )
    ids = (leads["lead_id"].astype(str).reset_index(drop=True) if "lead_id" in leads.columns
           else pd.Series(range(len(leads)), name="row"))
    out = pd.concat([ids, scores], axis=1)
    out["model_version"] = label
    _write(out, output)
    mqls = int(out["is_mql"].sum()) if len(out) else 0
    share = f" ({mqls / len(out):.1%})" if len(out) else ""
    cycle = bundle.manifest.get("cycle")
    by = f"model {label}" + (f" (cycle {cycle})" if cycle else "")
    return f"Scored {len(out):,} leads with {by}: {mqls:,} MQLs{share}; wrote {output}."
