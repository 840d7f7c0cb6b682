"""What a batch scoring run says it did (``leadscore score``, ``leadscore rescore``): the summary
line, the score log it wrote to (named, and said when this run created it), a quiet day's
export without a lead, rows that repeated a lead."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from features.messages import capped, plural


def no_lead_line(name: str, output: Path) -> str:
    """What a run that found no lead to score says (a quiet day's header-only export): the
    output was still written, with its columns and no row."""
    return (f"{name} holds no lead (a header and no row): {output} was written with the "
            "scores' columns and no row.")


def repeat_line(rows: int) -> str:
    """What a run says of rows that repeat an earlier row's lead id with the same values: each
    such lead is scored once, as ingest stores it once (one with different values is refused)."""
    return (f"{plural(rows, 'row')} repeated an earlier row's lead id and values: each such lead "
            "was scored once, as ingest stores it once.")


def absent_line(name: str, absent: list[str]) -> str:
    """What a run says of the model's input columns the file lacks (``absent_inputs``): every
    lead was scored as if they were blank."""
    one = len(absent) == 1
    return (f"{capped(absent)} {'is' if one else 'are'} not in {name}: the model learned from "
            f"{'it' if one else 'them'}, so every lead was scored as if "
            f"{'it were' if one else 'they were'} blank; name the columns as the store uses (a "
            "mapping's as: names) and re-run.")


@dataclass
class Scored:
    """What one scoring run wrote: leads, MQLs, scores logged (to the score log at ``log``,
    created by this run where ``new_log``), by which model, where, and ``on`` which engine
    where not the local one (``" on Spark"``)."""

    total: int
    mqls: int
    logged: int
    by: str
    output: Path | str
    log: str = ""
    new_log: bool = False
    on: str = ""

    def line(self) -> str:
        share = f" ({self.mqls / self.total:.1%})" if self.total else ""
        at = f" at {self.log}" if self.log else ""
        line = (f"Scored {plural(self.total, 'lead')}{self.on} with {self.by}: "
                f"{plural(self.mqls, 'MQL')}{share}; wrote {self.output}"
                + (f"; {self.logged:,} scores added to the score log{at}." if self.logged
                   else "."))
        if self.new_log:
            line += (f" The score log{at} did not exist before this run and was created: if "
                     "your API logs its scores elsewhere, set live.url (or LEADSCORE_LIVE_URL) "
                     "to that store and re-run.")
        return line


def open_score_log(config: dict[str, Any]):
    """The live store whose score log records these scores (source ``batch``), as the API
    records its own; None when the live store or its score log is off."""
    from features.live_store import LiveStore, live_url

    live = config.get("live") or {}
    if not live.get("enabled", True) or not live.get("score_log", True):
        return None
    return LiveStore(live_url(config))


def score_log_place(config: dict[str, Any]) -> tuple[str, bool]:
    """Where the score log is, as a summary names it (a SQLite file's absolute path, else the
    URL without its password), and whether it does not exist yet (a SQLite file only)."""
    import sqlalchemy as sa

    from features.live_store import live_url

    url = live_url(config)
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        return "", False  # the live store refuses it in its own sentence
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return parsed.render_as_string(hide_password=True), False
    path = Path(parsed.database).absolute()
    return str(path), not path.exists()
