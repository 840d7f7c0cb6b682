"""A review cycle's name: one rule for every command that takes ``--cycle``.

The name tags the MLflow run (found again by an MLflow filter string) and names the report's
folder (``reports/<cycle>/``). ``leadscore review`` checks it before it reads or writes anything,
so a name the report could not use never leaves a registered version behind a failed report.
"""

from __future__ import annotations

import unicodedata

from leadscore.errors import LeadscoreError

MAX_BYTES = 100
"""A folder name holds at most 255 bytes on common file systems; a cycle name needs far fewer."""
EXAMPLE = "use e.g. 2026-W47"


def check_cycle_name(text: str | None) -> str:
    """The cycle name, stripped of outer spaces.

    Raises:
        LeadscoreError: one sentence naming what the name cannot hold.
    """
    name = str(text or "").strip()
    if not name:
        raise LeadscoreError("--cycle is empty: name the review cycle, e.g. 2026-W47.")
    if "/" in name or "\\" in name or name.startswith("."):
        raise LeadscoreError(
            f"Cycle name {name!r} cannot name a folder (it holds a slash or starts with a dot): "
            f"{EXAMPLE}.")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise LeadscoreError(
            f"Cycle name {name!r} holds a control character (a line break or a tab): {EXAMPLE}.")
    if '"' in name:
        raise LeadscoreError(
            f"Cycle name {name!r} holds a double quote, which MLflow's search cannot match: "
            f"{EXAMPLE}.")
    size = len(name.encode("utf-8"))
    if size > MAX_BYTES:
        raise LeadscoreError(
            f"Cycle name {name[:40]!r}... is too long for a folder name ({size} bytes in UTF-8; "
            f"at most {MAX_BYTES}): {EXAMPLE}.")
    return name


def cycle_filter(cycle: str) -> str:
    """The MLflow filter string for the runs tagged ``cycle`` (an apostrophe is fine: the value is
    double-quoted; ``check_cycle_name`` refuses a double quote)."""
    return f'tags.cycle = "{cycle}"'
