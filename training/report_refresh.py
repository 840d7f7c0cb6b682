"""Reports that name the champion, rewritten when ``leadscore promote`` or ``rollback`` moves it.

A cycle's report says which version scores leads ("there is no champion: nothing scores leads
until a version is promoted", "v2 scores leads"). After a hand promotion or a rollback that
sentence is false until the report is written again, and leaders read the file, not the console.
So the command that moved the champion rewrites the reports that exist in the folder the review
writes them in (``reports/`` under the working folder): the report of the new champion's cycle
and the newest cycle's report. Older cycles' reports stay as they were written; ``leadscore
report --cycle C`` rewrites any of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from leadscore.errors import LeadscoreError

REPORTS = Path("reports")
"""Where ``leadscore review`` writes a cycle's report (relative to the working folder)."""


def cycles_to_rewrite(client, name: str, version: int) -> list[str]:
    """The cycles of ``version`` and of the newest version, oldest first, without repeats."""
    from training.registry import versions

    cycles = []
    for v in (version, max(versions(client, name), default=version)):
        tags = dict(client.get_model_version(name, str(v)).tags or {})
        cycle = tags.get("cycle")
        if cycle and cycle not in cycles:
            cycles.append(cycle)
    return cycles


def rewrite_reports(config: dict[str, Any], out_dir: Path = REPORTS) -> str:
    """After the champion moved: rewrite the existing reports that name it; say which (or "").

    A report that cannot be written again is named with the command that rewrites it: the
    champion has moved either way, so this never fails the command that moved it.
    """
    from training.registry import CHAMPION, alias_version, model_name
    from training.report import write_report
    from training.tracking import client as mlflow_client
    from training.tracking import missing_store

    if missing_store(config) is not None:
        return ""
    client, name = mlflow_client(config), model_name(config)
    version = alias_version(client, name, CHAMPION)
    if version is None:
        return ""
    rewritten, failed = [], []
    for cycle in cycles_to_rewrite(client, name, version):
        path = Path(out_dir) / cycle / "index.html"
        if not path.is_file():
            continue
        try:
            rewritten.append(str(write_report(cycle, config, out_dir=out_dir)))
        except (LeadscoreError, OSError):  # a read-only folder: the move stands, say so
            failed.append(cycle)
    lines = []
    if rewritten:
        lines.append(f"Report{'s' if len(rewritten) > 1 else ''} rewritten to name the champion "
                     f"now: {', '.join(rewritten)}.")
    for cycle in failed:
        lines.append(f"The report of cycle {cycle} still names the champion as it was: rewrite "
                     f"it with `leadscore report --cycle {cycle}`.")
    return "\n".join(lines)
