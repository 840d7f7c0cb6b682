"""What the monitor reads: the score log, and the verdicts of the leads it served, from both stores.

The score log and what arrived over HTTP live in the live store (``features.live_store``); what
was ingested from CRM exports lives in the DuckDB store. The monitor reads both, for the leads
served since the champion's review only, and never a personal field (lead id, source, dates,
status and reason code, activity type). It lives in ``scoring`` so that the command line, the
report and the API (``/metrics``) read the same figures.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from features.fit import normalise_source
from features.horizon import data_horizon
from features.label_policy import load_policy
from features.live_store import (
    LiveStore,
    live_activities,
    live_dispositions,
    live_leads,
    live_outcomes,
    live_url,
    open_existing,
)
from features.store import connect
from leadscore.errors import LeadscoreError
from scoring.monitor import Monitor, MonitorInputs, monitor

SERVED_COLUMNS = ("lead_id", "scored_at", "model_version", "score", "grade", "is_mql",
                  "feature_bins", "source")
"""What the monitor reads of the score log (never the reasons: they are the bulk of a row)."""
COLUMNS = {
    "leads": ("lead_id", "source"),
    "dispositions": ("lead_id", "dispositioned_at", "status", "reason_code", "first_touch_at"),
    "outcomes": ("lead_id", "stage", "occurred_at"),
    "high_intent": ("lead_id", "occurred_at"),
}
_QUERIES = {
    "leads": "SELECT lead_id, source FROM leads JOIN served USING (lead_id)",
    "dispositions": "SELECT lead_id, dispositioned_at, status, reason_code, first_touch_at "
                    "FROM dispositions JOIN served USING (lead_id)",
    "outcomes": "SELECT lead_id, stage, occurred_at FROM outcomes JOIN served USING (lead_id)",
    "high_intent": "SELECT lead_id, occurred_at FROM activities JOIN served USING (lead_id) "
                   "WHERE list_contains($high, activity_type)",
}


def review_date(manifest: Mapping[str, Any]) -> datetime:
    """The champion's review date (its ``as_of``), naive UTC.

    Raises:
        LeadscoreError: when the manifest records none (a model from before reviews were dated).
    """
    raw = manifest.get("as_of") or manifest.get("trained_at")
    try:
        at = pd.Timestamp(raw)
    except (TypeError, ValueError):
        at = None
    if at is None or pd.isna(at):
        raise LeadscoreError("The champion records no review date, so there is no 'since the "
                             "last review' to monitor: run `leadscore review` again.")
    if at.tzinfo is not None:
        at = at.tz_convert(UTC).tz_localize(None)
    return at.to_pydatetime()


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(COLUMNS[name]))


def _from_history(store: Path, ids: pd.DataFrame, high: list[str]) -> dict[str, pd.DataFrame]:
    """The served leads' rows in the DuckDB store (empty frames when there is no store)."""
    if not store.exists() or ids.empty:
        return {name: _empty(name) for name in COLUMNS}
    with connect(store, read_only=True) as con:
        con.register("served", ids)
        out = {}
        for name, sql in _QUERIES.items():
            try:
                out[name] = con.execute(sql, {"high": high} if "$high" in sql else {}).df()
            except duckdb.CatalogException:  # a store from before the table existed
                out[name] = _empty(name)
        return out


def _recorded(store: Path, live: LiveStore | None) -> dict[str, int]:
    """Dispositions, and those with a first touch, the stores hold for any lead: the SLA can
    be judged only where the export (or the API) records verdicts at all."""
    counts = {"dispositions": 0, "first_touches": 0}
    if store.exists():
        with connect(store, read_only=True) as con:
            try:
                n, touched = con.execute("SELECT count(*), count(first_touch_at) "
                                         "FROM dispositions").fetchone()
            except duckdb.CatalogException:  # a store from before the table existed
                n, touched = 0, 0
        counts = {"dispositions": int(n), "first_touches": int(touched)}
    if live is not None:
        frame = live.table(live_dispositions)
        counts["dispositions"] += len(frame)
        counts["first_touches"] += int(frame["first_touch_at"].notna().sum())
    return counts


def _verdicts_end(store: Path, live: LiveStore | None, now: datetime
                  ) -> tuple[datetime | None, str | None]:
    """Where the stores' verdicts end, when before ``now`` (else ``(None, None)``): the DuckDB
    store's horizon, unless verdicts arrive over HTTP, which keeps them current."""
    if live is not None and not live.table(live_dispositions).empty:
        return None, None
    if not store.exists():
        return None, None
    with connect(store, read_only=True) as con:
        horizon = data_horizon(con)
    if horizon is None or horizon.at >= now:
        return None, None
    return horizon.at, horizon.source


def _from_live(store: LiveStore | None, ids: set[str], high: list[str]
               ) -> dict[str, pd.DataFrame]:
    if store is None or not ids:
        return {name: _empty(name) for name in COLUMNS}
    frames = {"leads": store.table(live_leads), "dispositions": store.table(live_dispositions),
              "outcomes": store.table(live_outcomes)}
    activities = store.table(live_activities)
    frames["high_intent"] = activities[activities["activity_type"].isin(high)]
    return {name: frame[frame["lead_id"].isin(ids)][list(COLUMNS[name])]
            for name, frame in frames.items()}


def _joined(history: pd.DataFrame, live: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    frames = [f for f in (history, live) if not f.empty]
    if not frames:
        return history
    # the live row wins over the ingested one with the same key, as the review's merge does
    return pd.concat(frames, ignore_index=True).drop_duplicates(keys, keep="last")


def load_inputs(config: Mapping[str, Any], manifest: Mapping[str, Any], *,
                model_version: str | None, now: datetime | None = None,
                cycle: str | None = None, live: LiveStore | None = None,
                sources: Collection[str] = ()) -> MonitorInputs:
    """The monitor's inputs: scores served since the champion's review, and what the stores know
    of those leads.

    Args:
        live: an open live store (the API's); None opens the config's own, when there is one.
        sources: the lead sources the champion learned (``ScoringBundle.vocabulary``): the only
            ones the figures name.
    """
    since = review_date(manifest)
    now = now or datetime.now(UTC).replace(tzinfo=None)
    store = live if live is not None else open_existing(live_url(config))
    try:
        served = (store.scores(since=since, columns=SERVED_COLUMNS) if store is not None
                  else pd.DataFrame(columns=list(SERVED_COLUMNS)))
        served = served[pd.to_datetime(served["scored_at"]) <= pd.Timestamp(now)]
        ids = set(served["lead_id"].astype(str))
        high = list((manifest.get("feature_config", {}).get("features") or config["features"])
                    .get("high_intent_activities") or [])
        history = _from_history(Path(config["store"]), pd.DataFrame({"lead_id": sorted(ids)}),
                                high)
        fresh = _from_live(store, ids, high)
        recorded = _recorded(Path(config["store"]), store)
        verdicts_to, verdicts_source = _verdicts_end(Path(config["store"]), store, now)
    finally:
        if store is not None and live is None:
            store.close()
    leads = _joined(history["leads"], fresh["leads"][fresh["leads"]["source"].notna()],
                    ["lead_id"])
    leads = leads.assign(source=[normalise_source(s) or "unknown" for s in leads["source"]])
    return MonitorInputs(
        served=served, leads=leads,
        dispositions=_joined(history["dispositions"], fresh["dispositions"],
                             ["lead_id", "dispositioned_at", "status"]),
        outcomes=_joined(history["outcomes"], fresh["outcomes"], ["lead_id", "stage"]),
        high_intent=_joined(history["high_intent"], fresh["high_intent"],
                            ["lead_id", "occurred_at"]),
        manifest=manifest, policy=load_policy((config.get("labels") or {}).get("policy")),
        since=since, now=now, model_version=model_version,
        cycle=cycle or manifest.get("cycle"), sources=frozenset(sources), recorded=recorded,
        verdicts_to=verdicts_to, verdicts_source=verdicts_source,
    )


def run_monitor(config: Mapping[str, Any], manifest: Mapping[str, Any], *,
                model_version: str | None, now: datetime | None = None,
                live: LiveStore | None = None, sources: Collection[str] = ()) -> Monitor:
    """``monitor`` of the champion described by ``manifest``, read from the stores (``sources``:
    the lead sources it learned, as ``load_inputs`` takes them)."""
    return monitor(load_inputs(config, manifest, model_version=model_version, now=now,
                               live=live, sources=sources), config)
