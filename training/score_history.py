"""``leadscore history LEAD_ID`` and ``leadscore export-scores``: the score log, read back.

Every score served (the API, ``leadscore score``) is in the live store's score log
(``features.live_store``); these print one lead's history or export every score since a date.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from features.live_store import live_url, open_existing
from features.messages import plural
from leadscore.errors import LeadscoreError

FORMATS = (".csv", ".parquet")


def _scores(config: dict[str, Any], **query: Any) -> pd.DataFrame:
    store = open_existing(live_url(config))
    if store is None:
        raise LeadscoreError("There is no live store yet (config live.url): nothing has been "
                             "scored through the API or leadscore score.")
    try:
        return store.scores(**query)
    finally:
        store.close()


def _reason_text(reasons: Any) -> str:
    return "; ".join(r["label"] for r in (reasons or [])[:2])


def history_text(lead_id: str, config: dict[str, Any]) -> str:
    """One line per score of the lead, oldest first: when, model, score, grade, MQL, reasons."""
    frame = _scores(config, lead_id=lead_id)
    if frame.empty:
        raise LeadscoreError("That lead has no score in the score log: check the id, or score it "
                             "first (POST /score or leadscore score).")
    lines = [f"{plural(len(frame), 'score')} of lead {lead_id}, oldest first:",
             f"{'scored at (UTC)':<20} {'model':>5} {'score':>6} grade mql  source  reasons"]
    for r in frame.itertuples(index=False):
        lines.append(f"{pd.Timestamp(r.scored_at):%Y-%m-%d %H:%M:%S} {r.model_version:>5} "
                     f"{r.score:>6.3f} {r.grade or '':>5} {'yes' if r.is_mql else 'no ':<4} "
                     f"{r.source:<7} {_reason_text(r.reasons)}")
    return "\n".join(lines)


def parse_since(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise LeadscoreError(f"--since {text!r} is not a date: give it as YYYY-MM-DD, "
                             "e.g. 2026-11-01.") from None


def export_scores(since: str, output: Path, config: dict[str, Any]) -> str:
    """Write every score logged since ``since`` to a CSV or Parquet file (reasons as JSON)."""
    output = Path(output)
    if output.suffix.lower() not in FORMATS:
        raise LeadscoreError(f"--out {output} must end in .csv or .parquet.")
    frame = _scores(config, since=parse_since(since))
    frame["reasons"] = frame["reasons"].map(json.dumps)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".partial")
    if output.suffix.lower() == ".parquet":
        frame.to_parquet(tmp, index=False)
    else:
        frame.to_csv(tmp, index=False)
    tmp.replace(output)  # nothing half-written
    return f"Exported {plural(len(frame), 'score')} since {since} to {output}."
