"""``leadscore monitor``: the champion from the registry, its monitor from the stores.

The figures are computed in ``scoring.monitor`` (which the API shares); this only finds the
champion and the moment to judge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scoring.monitor import Monitor
from scoring.monitor_data import run_monitor
from training.registry import load_bundle
from training.review import parse_as_of


def champion_monitor(config: dict[str, Any], as_of: str | None = None) -> Monitor:
    """The champion's monitor as of ``as_of`` (text, YYYY-MM-DD...) or now.

    Raises:
        LeadscoreError: when there is no champion, or ``as_of`` is not a date.
    """
    now: datetime | None = parse_as_of(as_of) if as_of else None
    bundle, version = load_bundle(None, config)
    return run_monitor(config, bundle.manifest,
                       model_version=str(version.version) if version is not None else None,
                       now=now, sources=bundle.vocabulary().get("source", ()))
