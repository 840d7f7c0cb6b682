"""Between reviews: did conversion, volume, the SLA, the inputs or the grades move enough to review
early? Computed from the champion's own scores served since its review and the verdicts arrived
since.

``monitor(inputs, config)`` is pure (frames in, a ``Monitor`` out); ``scoring.monitor_data``
reads the stores, ``scoring.monitor_sla`` holds the SLA check, the command line
(``leadscore monitor``) prints it, the API exposes it on ``/metrics`` and the leaders' report
shows it. Five checks, each ``ok``, ``crossed`` (a limit of
the config's ``monitor`` section), ``too_few`` (too small a sample to judge: never a flag) or
``no_data``:

conversion   Served MQLs: each lead's first score at or above the threshold since the review. An
             MQL is *decided* once its maturity window (``labels.maturity_days``) has passed: the
             label policy's verdict then (a positive outcome or disposition inside the window
             converts; an excluded verdict drops it). Earlier verdicts are mostly quick
             rejections, so counting them would flag every young cohort. Wilson interval; crossed
             when it lies wholly outside the band, overall or for a source.
volume       MQLs a week against the threshold's forecast (the review's ``mqls_per_week``);
             crossed when off by more than ``volume_tolerance`` and beyond Poisson noise.
sla          MQLs whose first touch came later than the SLA after they became MQLs (or not yet,
             with the deadline passed), and MQLs without a disposition within
             ``sla.disposition_hours``; the overdue lists hold lead ids only.
drift        PSI of each feature of the leads served (their first score) against the training
             cohort (``scoring.drift``); the top movers named.
inversions   Among decided served leads, a better grade converting below a worse one beyond
             noise (``scoring.grades``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pandas as pd

from features.label_policy import LabelPolicy
from features.messages import capped, per_week, percent, plural
from scoring.monitor_band import band_words, champion_band
from scoring.monitor_drift import served_psi
from scoring.monitor_grades import inversions
from scoring.monitor_labels import (
    as_times,
    beyond_verdicts,
    count_beyond,
    decide,
    first_scores,
)
from scoring.monitor_sla import sla

CHECKS = ("conversion", "volume", "sla", "drift", "inversions")
SCHEMA = "leadscore.monitor/1"
EXIT_OK, EXIT_ERROR, EXIT_CROSSED = 0, 1, 3
NO_PROFILE = "no training profile in this model; review again"
RESCORE_SOURCE = "rescore"
"""The score log's ``source`` of ``leadscore rescore``'s rows (``training.rescore.SOURCE``)."""


@dataclass
class MonitorInputs:
    """What the monitor reads (``scoring.monitor_data.load_inputs`` fills it from the stores).

    Attributes:
        served: score-log rows: lead_id, scored_at, model_version, score, grade, is_mql,
            feature_bins.
        leads: lead_id, source of every lead the stores know.
        dispositions: lead_id, dispositioned_at, status, reason_code, first_touch_at.
        outcomes: lead_id, stage, occurred_at.
        high_intent: lead_id, occurred_at of every high-intent activity.
        manifest: the champion's manifest (threshold, band, forecast, training profile).
        model_version: the champion's version (drift reads only its scores); None: every score.
        since: the champion's review date (its ``as_of``); now: the moment judged.
        sources: the lead sources the champion learned (normalised); conversion by source
            names only these, any other reads "other" (a source is free text: it may hold an
            e-mail address, which must not become a /metrics label).
        recorded: how many dispositions, and how many with a first touch, the stores hold for
            any lead (``dispositions``, ``first_touches``); an export that carries none cannot
            time a touch. None: not known (every MQL without a verdict is then overdue).
        verdicts_to: where the stores' verdicts end, when before ``now``: the DuckDB store's
            horizon (its last record or declared export day) with no verdict arriving over
            HTTP. A deadline or maturity window that ends after it is not judged: the export
            simply does not reach it. None: the verdicts run to ``now``.
        verdicts_source: what ``verdicts_to`` is ("last record", "declared export date").
    """

    served: pd.DataFrame
    leads: pd.DataFrame
    dispositions: pd.DataFrame
    outcomes: pd.DataFrame
    high_intent: pd.DataFrame
    manifest: Mapping[str, Any]
    policy: LabelPolicy
    since: datetime
    now: datetime
    model_version: str | None = None
    cycle: str | None = None
    sources: frozenset[str] = frozenset()
    recorded: Mapping[str, int] | None = None
    verdicts_to: datetime | None = None
    verdicts_source: str | None = None


@dataclass
class Monitor:
    """The five checks (``as_dict`` is the ``--json`` document) and the recommendation."""

    figures: dict[str, Any]

    @property
    def crossed(self) -> list[str]:
        return [name for name in CHECKS if self.figures[name]["status"] == "crossed"]

    @property
    def exit_code(self) -> int:
        return EXIT_CROSSED if self.crossed else EXIT_OK

    @property
    def recommendation(self) -> str | None:
        """One line: review early, and why (None when no limit is crossed)."""
        reasons = [self.figures[name]["why"] for name in self.crossed]
        if not reasons:
            return None
        return ("Review early (leadscore review --cycle ...): " + "; ".join(reasons) + ".")

    def as_dict(self) -> dict[str, Any]:
        return {**self.figures, "crossed": self.crossed, "recommendation": self.recommendation,
                "exit_code": self.exit_code}


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (NaN, NaN for n = 0)."""
    if n <= 0:
        return math.nan, math.nan
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _rate(part: pd.DataFrame, band: tuple[float, float], settings: Mapping[str, Any],
          name: str) -> dict[str, Any]:
    n, k = len(part), int(part["label"].sum())
    lo, hi = wilson(k, n, float(settings["confidence"]))
    out = {"source": name, "decided": n, "converted": k, "rate": k / n if n else None,
           "ci_low": lo if n else None, "ci_high": hi if n else None}
    if n < int(settings["min_decided_mqls"]):
        out["status"] = "too_few"
    else:
        out["status"] = "crossed" if hi < band[0] or lo > band[1] else "ok"
    return out


def conversion(mqls: pd.DataFrame, inputs: MonitorInputs, config: Mapping[str, Any]
               ) -> dict[str, Any]:
    settings = config["monitor"]
    band = champion_band(inputs.manifest, config)
    decided = mqls[mqls["label"].notna()]
    out = _rate(decided, band, settings, "all sources")
    out.pop("source")
    out.update(mqls=len(mqls), band=list(band), by_source=[])
    if not len(mqls):
        out.update(status="no_data", why="no MQL was served since the review")
        return out
    sources = decided.merge(inputs.leads[["lead_id", "source"]], on="lead_id", how="left")
    # a source is free text (an e-mail typed into it would become a /metrics label): only the
    # sources the model learned are named, as in a reason label; the rest read "other"
    sources["source"] = [s if s in inputs.sources or s == "unknown" else "other"
                         for s in sources["source"].fillna("unknown")]
    for name, part in sorted(sources.groupby("source"), key=lambda kv: -len(kv[1])):
        out["by_source"].append(_rate(part, band, settings, str(name)))
    band_text = band_words(band, config)
    # one source holding every decided MQL (an export without a source column) is the overall
    # figure again, not a second finding
    crossed = ([s for s in out["by_source"] if s["status"] == "crossed"]
               if len(out["by_source"]) > 1 else [])
    window = pd.Timedelta(days=int(config["labels"]["maturity_days"]))
    beyond = beyond_verdicts(mqls["t0"] + window, inputs, "maturity window")
    out["unjudged"] = count_beyond(mqls["t0"] + window, inputs)
    if out["status"] == "too_few" and not crossed:
        out["why"] = (f"too few decided MQLs to judge ({out['decided']} of at least "
                      f"{settings['min_decided_mqls']}; an MQL is decided once its "
                      f"{config['labels']['maturity_days']}-day window has passed)"
                      + (f"; {beyond}" if beyond else ""))
        return out
    parts = []
    if out["status"] == "crossed":
        parts.append(f"served MQLs convert at {percent(out['rate'])} ({percent(out['ci_low'])}-"
                     f"{percent(out['ci_high'])}), {_side(out, band)} {band_text}"
                     + (f" ({plural(len(crossed), 'source')} outside it too)" if crossed
                        else ""))
    else:
        for s in crossed[:3]:
            parts.append(f"{s['source']} MQLs convert at {percent(s['rate'])} "
                         f"({percent(s['ci_low'])}-{percent(s['ci_high'])}), {_side(s, band)} "
                         f"{band_text}")
    if parts:
        out["status"] = "crossed"
        out["why"] = "; ".join(parts)
    else:
        out["why"] = (f"served MQLs convert at {percent(out['rate'])} ({percent(out['ci_low'])}-"
                      f"{percent(out['ci_high'])}), consistent with {band_text}")
    if beyond:
        out["why"] += f"; {beyond}"
    return out


def _side(figure: Mapping[str, Any], band: tuple[float, float]) -> str:
    return "below" if figure["ci_high"] < band[0] else "above"


def forecast(manifest: Mapping[str, Any]) -> float | None:
    """The MQLs a week the review expected at the threshold (None when it recorded none)."""
    for section in ("deployed_metrics", "threshold_decision", "metrics"):
        value = (manifest.get(section) or {}).get("mqls_per_week")
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
    return None


def volume(mqls: pd.DataFrame, first: pd.DataFrame, inputs: MonitorInputs,
           config: Mapping[str, Any]) -> dict[str, Any]:
    settings = config["monitor"]
    # the forecast is of new leads as they arrive: leads first scored by a rescore after a
    # promotion (open leads scored again at once) are not part of that flow
    rescored = int((first["scored_by"] == RESCORE_SOURCE).sum())
    first = first[first["scored_by"] != RESCORE_SOURCE]
    mqls = mqls[mqls["scored_by"] != RESCORE_SOURCE]
    weeks = (pd.Timestamp(inputs.now) - pd.Timestamp(inputs.since)) / pd.Timedelta(weeks=1)
    expected = forecast(inputs.manifest)
    out: dict[str, Any] = {"mqls": len(mqls), "weeks": round(max(weeks, 0.0), 3),
                           "per_week": len(mqls) / weeks if weeks > 0 else None,
                           "forecast": expected}
    if expected is None:
        return {**out, "status": "no_data",
                "why": "the model records no MQL forecast; review again"}
    if first.empty:  # nothing scored at all says nothing about the threshold's volume
        return {**out, "status": "no_data",
                "why": "no lead was scored (API or leadscore score) since the review"
                       + _rescored(rescored)}
    if weeks < float(settings["min_weeks"]) or weeks <= 0:
        return {**out, "status": "too_few",
                "why": f"too few weeks since the review to judge ({weeks:.1f} of at least "
                       f"{float(settings['min_weeks']):g})"}
    # the forecast assumes every new lead is scored: with far fewer leads scored, a low MQL
    # count says the API sees only part of the inflow, not that the threshold moved
    share = (inputs.manifest.get("threshold_decision") or {}).get("share_of_leads")
    if isinstance(share, int | float) and share > 0:
        leads_expected = expected / share
        out["leads_per_week"], out["leads_per_week_forecast"] = len(first) / weeks, leads_expected
        if len(first) / weeks < float(settings["min_coverage"]) * leads_expected:
            return {**out, "status": "too_few",
                    "why": "too few leads scored to judge volume "
                           f"({per_week(len(first) / weeks)} a week against the "
                           f"{leads_expected:,.0f} the forecast assumes; "
                           "score every new lead through the API or leadscore score)"}
    count, mean = len(mqls), expected * weeks
    off = abs(out["per_week"] / expected - 1) if expected > 0 else math.inf
    noisy = abs(count - mean) <= 2 * math.sqrt(max(mean, 1.0))
    text = (f"{per_week(out['per_week'])} MQLs a week against the forecast of "
            f"{per_week(expected)}")
    broad, tolerance = _too_broad(first, inputs), float(settings["volume_tolerance"])
    out["mql_share"] = float(first["is_mql"].fillna(False).astype(bool).mean())
    off_forecast = off > tolerance and not noisy
    if broad:  # a volume inside its tolerance says so, or it reads as one more reason
        text = (f"{text}{'' if off_forecast else f' (within the {percent(tolerance)} tolerance)'}"
                f"; {broad}")
    return {**out, "status": "crossed" if off_forecast or broad else "ok", "why": text}


def _rescored(n: int, within: bool = False) -> str:
    """The clause that counts the leads a rescore served, which volume and drift leave out: the
    header counts them among the scores served, so "0 leads" alone would read as false."""
    if not n:
        return ""
    lead = "lead" if n == 1 else "leads"
    return (f"{'; ' if within else ' ('}not counting the {n:,} open {lead} leadscore rescore "
            f"scored again, which {'is' if n == 1 else 'are'} not new arrivals"
            f"{'' if within else ')'}")


def _too_broad(first: pd.DataFrame, inputs: MonitorInputs) -> str | None:
    """The sentence when more of the new leads were first served as MQLs than the share the
    review allows a threshold (``cycle.max_mql_share``), beyond binomial noise; else None.

    Under a rising base rate the calibrated scores of new leads climb past a fixed threshold:
    a review capped at 50 % of leads can serve 70-90 % of the next period's leads as MQLs while
    the volume stays inside its tolerance. The review's gate would fail such a threshold.
    """
    # the share the model was reviewed with, as the conversion check reads its band
    limit = (inputs.manifest.get("threshold_decision") or {}).get("max_share")
    if not isinstance(limit, int | float) or not 0 < limit < 1 or first.empty:
        return None
    n = len(first)
    k = int(first["is_mql"].fillna(False).astype(bool).sum())
    if k - limit * n <= 2 * math.sqrt(n * limit * (1 - limit)):
        return None
    # the first score, as the review's share counts each lead once at its scoreable moment; a
    # lead that became an MQL later is among the header's MQLs, so the sentence says which
    return (f"{percent(k / n)} of the {n:,} leads scored since the review were MQLs at their "
            f"first score, more than the {percent(limit)} a threshold may pass "
            "(cycle.max_mql_share): it filters too little now")


def drift(first: pd.DataFrame, inputs: MonitorInputs, config: Mapping[str, Any]
          ) -> dict[str, Any]:
    settings = config["monitor"]
    profile = inputs.manifest.get("training_profile")
    out: dict[str, Any] = {"scores": 0, "psi": {}, "top_movers": [], "drifted": [],
                           "limit": float(settings["max_psi"])}
    if not profile:
        return {**out, "status": "no_data", "why": NO_PROFILE}
    # the training profile holds each lead's features at the moment it became scoreable; a lead
    # first scored by a rescore after a promotion is an open lead scored again later (its days
    # since the last activity have grown, its trends have moved), not a new arrival, so it would
    # show drift that no review can remove
    rows = first[first["scored_by"] != RESCORE_SOURCE]
    rescored = len(first) - len(rows)
    if inputs.model_version is not None:
        rows = rows[rows["model_version"].astype(str) == str(inputs.model_version)]
    n, values = served_psi(rows["feature_bins"].tolist(), profile)
    out["scores"] = n
    if n < int(settings["min_drift_scores"]):
        return {**out, "status": "too_few",
                "why": f"too few leads served with feature bins to judge drift ({n} of at least "
                       f"{settings['min_drift_scores']}{_rescored(rescored, within=True)})"}
    ranked = sorted(values.items(), key=lambda kv: -kv[1])
    out["psi"] = {k: round(v, 4) for k, v in values.items()}
    out["top_movers"] = [{"feature": k, "psi": round(v, 4)}
                         for k, v in ranked[:int(settings["top_movers"])]]
    out["drifted"] = [k for k, v in ranked if v > out["limit"]]
    movers = ", ".join(f"{m['feature']} {m['psi']:.2f}" for m in out["top_movers"][:3])
    if out["drifted"]:
        return {**out, "status": "crossed",
                "why": f"inputs drifted from the training cohort: "
                       f"{plural(len(out['drifted']), 'feature')} with PSI above "
                       f"{out['limit']:g} ({capped(out['drifted'], 5)}; top movers {movers}; "
                       "--json lists all)"}
    return {**out, "status": "ok", "why": f"no feature's PSI is above {out['limit']:g} "
                                          f"(top movers {movers})"}


def monitor(inputs: MonitorInputs, config: Mapping[str, Any]) -> Monitor:
    """The five checks since the champion's review (see the module docstring)."""
    maturity = int(config["labels"]["maturity_days"])
    # lead ids compare as text in every frame (an empty frame's column has no type of its own)
    inputs = replace(inputs, **{
        name: getattr(inputs, name).assign(lead_id=getattr(inputs, name)["lead_id"].astype(str))
        for name in ("served", "leads", "dispositions", "outcomes", "high_intent")})
    if inputs.model_version is not None:
        # the champion's own scores: after a promote or rollback the log also holds another
        # version's, whose MQL flags came from its own threshold (and whose first score of a
        # lead would hide the champion's)
        served = inputs.served
        inputs = replace(inputs, served=served[served["model_version"].astype(str)
                                               == str(inputs.model_version)])
    first = first_scores(inputs.served, inputs.since, mql=False)
    first["label"] = decide(first, inputs, maturity)
    mqls = first_scores(inputs.served, inputs.since, mql=True)
    mqls["label"] = decide(mqls, inputs, maturity)
    figures = {
        "schema": SCHEMA, "model_version": inputs.model_version, "cycle": inputs.cycle,
        "since": pd.Timestamp(inputs.since).isoformat(),
        "as_of": pd.Timestamp(inputs.now).isoformat(),
        # where the stores' verdicts end, when before as_of (null: they run to as_of)
        "verdicts_to": (pd.Timestamp(inputs.verdicts_to).isoformat()
                        if inputs.verdicts_to is not None
                        and pd.Timestamp(inputs.verdicts_to) < pd.Timestamp(inputs.now)
                        else None),
        "served": {"scores": int((as_times(inputs.served["scored_at"])
                                  >= pd.Timestamp(inputs.since)).sum()),
                   "leads": len(first), "mqls": len(mqls)},
        "conversion": conversion(mqls, inputs, config),
        "volume": volume(mqls, first, inputs, config),
        "sla": sla(mqls, inputs, config),
        "drift": drift(first, inputs, config),
        "inversions": inversions(first, config),
    }
    return Monitor(figures)

