"""The monitor's figures as Prometheus gauges on the API's ``/metrics``.

One worker (the first; any worker when BentoML gives no index) recomputes the monitor
(``scoring.monitor_data.run_monitor``: the champion it serves, the live store it writes, the
DuckDB store) every ``monitor.refresh_s`` seconds on a thread of its own, never per request, and
sets the gauges; BentoML's ``/metrics`` serves them with its own. The gauges keep the most recent
value of a live process (``livemostrecent``), so a restarted worker's stale figures disappear.

A refresh that fails (the DuckDB store held by an ingest at that instant, say) keeps the
previous figures and logs one line; ``leadscore_monitor_refreshed_timestamp_seconds`` says how
fresh they are.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from scoring.monitor import CHECKS, Monitor
from scoring.monitor_data import run_monitor

logger = logging.getLogger("leadscore.serving")
PREFIX = "leadscore_monitor_"


@functools.cache
def gauges() -> dict[str, Any]:
    """The gauges, created once per process (after BentoML set its multiprocess folder)."""
    from prometheus_client import Gauge

    def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Any:
        return Gauge(PREFIX + name, doc, labels, multiprocess_mode="livemostrecent")

    return {
        "crossed": gauge("limit_crossed", "1 when the check crossed its limit (review early)",
                         ("check",)),
        "judged": gauge("judged", "1 when the check had enough data to judge", ("check",)),
        "scores": gauge("scores_served", "Scores served since the champion's review"),
        "mqls": gauge("mqls_served", "MQLs served since the champion's review"),
        "conversion": gauge("mql_conversion", "Conversion of decided served MQLs",
                            ("source",)),
        "conversion_low": gauge("mql_conversion_ci_low", "Its interval's lower end", ("source",)),
        "conversion_high": gauge("mql_conversion_ci_high", "Its interval's upper end",
                                 ("source",)),
        "decided": gauge("decided_mqls", "Decided served MQLs (window passed)", ("source",)),
        "per_week": gauge("mqls_per_week", "Served MQLs a week since the review"),
        "forecast": gauge("mqls_per_week_forecast", "The threshold's forecast of MQLs a week"),
        "touch_missed": gauge("first_touch_missed", "MQLs that missed the first-touch SLA"),
        "touch_share": gauge("first_touch_missed_share", "Their share of the MQLs due"),
        "disposition_missed": gauge("disposition_missed",
                                    "MQLs without a disposition in time"),
        "disposition_share": gauge("disposition_missed_share", "Their share of the MQLs due"),
        "psi": gauge("feature_psi", "PSI of the feature against the training cohort",
                     ("feature",)),
        "inversions": gauge("grade_inversions", "Grade inversions among decided served leads"),
        "refreshed": gauge("refreshed_timestamp_seconds", "When the figures were computed"),
    }


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else math.nan


def publish(result: Monitor, at: float | None = None) -> None:
    """Set every gauge from one monitor result."""
    g, f = gauges(), result.figures
    for name in CHECKS:
        g["crossed"].labels(check=name).set(float(f[name]["status"] == "crossed"))
        g["judged"].labels(check=name).set(float(f[name]["status"] in ("ok", "crossed")))
    g["scores"].set(f["served"]["scores"])
    g["mqls"].set(f["served"]["mqls"])
    conversion = f["conversion"]
    for row in [{**conversion, "source": "all"}, *conversion["by_source"]]:
        source = row["source"]
        g["conversion"].labels(source=source).set(_number(row["rate"]))
        g["conversion_low"].labels(source=source).set(_number(row["ci_low"]))
        g["conversion_high"].labels(source=source).set(_number(row["ci_high"]))
        g["decided"].labels(source=source).set(row["decided"])
    g["per_week"].set(_number(f["volume"]["per_week"]))
    g["forecast"].set(_number(f["volume"]["forecast"]))
    sla = f["sla"]
    g["touch_missed"].set(sla["first_touch_missed"])
    g["touch_share"].set(_number(sla["first_touch_missed_share"]))
    g["disposition_missed"].set(sla["disposition_missed"])
    g["disposition_share"].set(_number(sla["disposition_missed_share"]))
    for feature, value in f["drift"]["psi"].items():
        g["psi"].labels(feature=feature).set(_number(value))
    g["inversions"].set(len(f["inversions"]["pairs"]))
    g["refreshed"].set(at if at is not None else time.time())


class MonitorRefresher:
    """Recomputes the monitor every ``interval_s`` seconds on a daemon thread.

    Args:
        compute: returns the current ``Monitor``, or None while there is no champion.
    """

    def __init__(self, compute: Callable[[], Monitor | None], interval_s: float) -> None:
        self.compute = compute
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="monitor-gauges", daemon=True)

    def start(self) -> MonitorRefresher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def refresh(self) -> bool:
        """One refresh; False when nothing was published (no champion yet, or it failed: the
        previous figures stay)."""
        try:
            result = self.compute()
        except Exception as exc:  # noqa: BLE001 - one line; the message may name a host or path
            logger.warning("Monitor gauges not refreshed (%s); the previous figures stay.",
                           type(exc).__name__)
            return False
        if result is None:
            return False
        publish(result)
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            published = self.refresh()
            # until the first figures are out (the champion still loading), look again soon
            self._stop.wait(self.interval_s if published else min(self.interval_s, 2.0))


def champion_monitor(champion: Any, config: dict[str, Any], live: Any) -> Callable[[], Any]:
    """The refresher's ``compute``: the monitor of the model ``champion`` serves right now.
    ``live``: the live store, or a function giving it (raising while it cannot be opened: the
    refresh fails and the gauges keep their last figures)."""

    def compute() -> Monitor | None:
        model = champion.current
        if model is None:
            return None
        return run_monitor(config, model.bundle.manifest, model_version=str(model.version),
                           live=live() if callable(live) else live,
                           sources=model.bundle.vocabulary().get("source", ()))

    return compute
