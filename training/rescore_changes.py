"""The changed list of ``leadscore rescore``: which open leads changed MQL flag or grade, the
file's columns, and the sentences the command (and ``promote``, and a promoting review) print.

Pure functions and a result record: the run itself (store, processes, score log) is
``training.rescore``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TEXT_REASONS = 3
CHANGED_COLUMNS = [
    "lead_id", "old_score", "new_score", "old_grade", "new_grade", "old_is_mql", "new_is_mql",
    "flag_changed", "grade_changed", "new_fit_score", "new_intent_score", "top_reasons",
    "reasons", "old_model_version", "new_model_version", "old_source", "old_scored_at",
]
"""The changed list's columns: the lead id and scores only, never personal data."""
OLD_COLUMNS = ["old_score", "old_grade", "old_is_mql", "old_model_version", "old_scored_at",
               "old_source"]


@dataclass
class RescoreResult:
    """What one rescore did; ``str()`` is its summary: a sentence, then where the olds came from."""

    as_of: datetime
    version: str
    open_leads: int = 0
    flag_changed: int = 0
    became_mql: int = 0
    left_mql: int = 0
    grade_changed: int = 0
    first_mql: int = 0
    listed: int = 0
    old_from: dict[str, int] = field(default_factory=dict)
    previous: str | None = None
    out: Path | None = None
    logged: int = 0
    log: str = ""
    """Where the score log is (``training.batch_log.score_log_place``): the summary names it."""
    newest: datetime | None = None
    maturity_days: int = 0
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        when = f"{self.as_of:%Y-%m-%d %H:%M} UTC"
        if self.open_leads == 0:
            newest = f"{self.newest:%Y-%m-%d}" if self.newest is not None else "unknown"
            return "\n".join([*self.notes, (
                f"No lead is open as of {when} (the newest lead was created {newest}; every "
                f"lead created by then has a verdict or is past its {self.maturity_days}-day "
                f"maturity window), so nothing was rescored; wrote an empty list to {self.out}; "
                "pass --as-of to rescore as of another moment.")])
        first = self.old_from.get("none", 0)
        compared = self.open_leads - first
        if compared <= 0:  # the first champion: nothing to change from
            changes = ("none had an old score to compare with (no logged score, no earlier "
                       f"champion), so every one is a first score, {self.first_mql:,} of them "
                       "MQLs")
        else:
            of = f"of the {compared:,} with an old score, " if first else ""
            changes = (f"{of}{self.flag_changed:,} changed MQL flag ({self.became_mql:,} became "
                       f"MQL, {self.left_mql:,} no longer MQL) and {self.grade_changed:,} "
                       "changed grade")
        lines = [*self.notes, (
            f"Rescored {self.open_leads:,} open leads with model v{self.version} as of {when}: "
            f"{changes}; {self.listed:,} listed in {self.out}.")]
        olds = [f"{self.old_from.get('score_log', 0):,} from the score log"]
        if self.old_from.get("previous_champion"):
            olds.append(f"{self.old_from['previous_champion']:,} from v{self.previous} (the "
                        "previous champion, as of the same moment: these leads had no logged "
                        "score)")
        if self.old_from.get("none"):
            # a first score is no change of flag, but these MQLs reach the CRM now all the same
            olds.append(f"{self.old_from['none']:,} had none (no logged score, no earlier "
                        "champion): listed with empty old columns, "
                        f"{self.first_mql:,} of them MQLs now")
        lines.append(f"Old scores: {'; '.join(olds)}. "
                     + (f"{self.logged:,} new scores added to the score log"
                        f"{' at ' + self.log if self.log else ''}."
                        if self.logged else "The score log is off: no score was recorded."))
        return "\n".join(lines)


def compare(new: pd.DataFrame, old: pd.DataFrame) -> pd.DataFrame:
    """The changed rows of one scored chunk: MQL flag or grade differs from the old score.

    Args:
        new: scored rows (``training.batch_score.FILE_COLUMNS``).
        old: ``OLD_COLUMNS`` indexed by lead_id; a lead missing from it has no old score (and is
            listed: the CRM holds nothing from leadscore for it).

    Returns:
        ``CHANGED_COLUMNS``, in ``new``'s order.
    """
    before = old.reindex(new["lead_id"].astype(str)).reset_index(drop=True)
    before["old_source"] = before["old_source"].fillna("none")
    known = (before["old_source"] != "none").to_numpy()
    new_mql = new["is_mql"].astype(bool).to_numpy()
    old_mql = before["old_is_mql"].fillna(False).astype(bool).to_numpy()
    flag = ~known | (new_mql != old_mql)
    grade = ~known | (new["grade"].to_numpy(dtype=object)
                      != before["old_grade"].to_numpy(dtype=object))
    keep = np.flatnonzero(flag | grade)
    rows = new.reset_index(drop=True).iloc[keep]
    out = pd.DataFrame({
        "lead_id": rows["lead_id"].astype(str).to_numpy(),
        "old_score": before["old_score"].to_numpy(dtype=np.float64)[keep],
        "new_score": rows["score"].to_numpy(dtype=np.float64),
        "old_grade": before["old_grade"].to_numpy(dtype=object)[keep],
        "new_grade": rows["grade"].to_numpy(dtype=object),
        "old_is_mql": pd.array(before["old_is_mql"].to_numpy(dtype=object)[keep],
                               dtype="boolean"),
        "new_is_mql": new_mql[keep],
        "flag_changed": flag[keep],
        "grade_changed": grade[keep],
        "new_fit_score": rows["fit_score"].to_numpy(dtype=np.float64),
        "new_intent_score": rows["intent_score"].to_numpy(dtype=np.float64),
        "top_reasons": [_reason_text(text) for text in rows["reasons"]],
        "reasons": rows["reasons"].to_numpy(dtype=object),
        "old_model_version": before["old_model_version"].to_numpy(dtype=object)[keep],
        "new_model_version": rows["model_version"].astype(str).to_numpy(dtype=object),
        "old_source": before["old_source"].to_numpy(dtype=object)[keep],
        "old_scored_at": pd.to_datetime(before["old_scored_at"].to_numpy()[keep]),
    })
    # fixed types, so that a chunk whose olds are all missing writes the same Parquet schema
    return out[CHANGED_COLUMNS].astype({"old_grade": "string", "old_model_version": "string",
                                        "old_source": "string"})


def _reason_text(reasons: str) -> str:
    return "; ".join(r["label"] for r in json.loads(reasons)[:TEXT_REASONS])


def default_out(config: dict[str, Any], version: str, now: datetime) -> Path:
    """``<store folder>/rescores/<UTC time>-v<version>/changed.csv``: one folder per run."""
    return (Path(config["store"]).parent / "rescores"
            / f"{now:%Y%m%dT%H%M%SZ}-v{version}" / "changed.csv")


def rescore_command(*, as_of: str | None = None, store: str | Path | None = None,
                    config_path: str | Path | None = None) -> str:
    """The ``leadscore rescore ...`` command to run after a promotion, with the options given."""
    parts = ["leadscore rescore"]
    if as_of:
        parts.append(f"--as-of {as_of}")
    if store is not None:
        parts.append(f"--store {store}")
    if config_path is not None:
        parts.append(f"--config {config_path}")
    return " ".join(parts)


def next_step(command: str) -> str:
    """The line ``leadscore promote`` and a promoting review print."""
    return (f"Next: rescore the open leads with the new champion and get the list whose MQL flag "
            f"or grade changed: {command}")
