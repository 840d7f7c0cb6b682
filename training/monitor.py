"""``leadscore monitor``: the champion from the registry, its monitor from the stores.

The figures are computed in ``scoring.monitor`` (which the API shares); this only finds the
champion and the moment to judge.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from leadscore.errors import LeadscoreError
from scoring.monitor import Monitor
from scoring.monitor_data import run_monitor
from training.registry import load_bundle
from training.review import parse_as_of


def champion_monitor(config: dict[str, Any], as_of: str | None = None) -> Monitor:
    """The champion's monitor as of ``as_of`` (text, YYYY-MM-DD...) or now.

    Raises:
        LeadscoreError: when there is no champion, or ``as_of`` is not a date, is after now or
            before the champion's review.
    """
    judged_moment(as_of)  # a bad or future date is said before the registry is read
    bundle, version = load_bundle(None, config)
    number = str(version.version) if version is not None else None
    now = judged_moment(as_of, reviewed=bundle.manifest.get("as_of"), version=number)
    return run_monitor(config, bundle.manifest, model_version=number, now=now,
                       sources=bundle.vocabulary().get("source", ()))


def judged_moment(as_of: str | None, reviewed: str | None = None,
                  version: str | None = None) -> datetime | None:
    """The moment ``--as-of`` names (None: now), refused after now or before the champion's
    review date ``reviewed`` (its manifest's ``as_of``)."""
    now: datetime | None = parse_as_of(as_of) if as_of else None
    present = datetime.now(UTC).replace(tzinfo=None)
    if now is not None and now > present:
        # verdicts cannot run past the present: every MQL without one yet would read as lost
        raise LeadscoreError(
            f"--as-of {as_of} is after now ({present:%Y-%m-%d %H:%M} UTC): the monitor judges "
            "what has happened; leave --as-of out, or give a date up to today.")
    since = datetime.fromisoformat(reviewed) if reviewed else None
    if since is not None and since.tzinfo is not None:
        since = since.astimezone(UTC).replace(tzinfo=None)
    if now is not None and since is not None and now < since:
        day = since.date().isoformat()
        raise LeadscoreError(
            f"--as-of {as_of} is before the review of the champion"
            f"{f' v{version}' if version else ''} ({day}), so it had served nothing yet: give a "
            f"date after {day}, or leave --as-of out.")
    return now
