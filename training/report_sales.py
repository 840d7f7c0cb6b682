"""The report's sections on what sales did: dispositions by source, campaign and reason code,
and speed to lead (from ``training.report_duckdb``'s frames, every figure tagged and logged).

A breakdown that compares nothing (one source, no campaign) is left out with one line saying why;
the chart of sources draws those with enough leads, the table lists every one.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from markupsafe import Markup

from training import charts
from training import report_duckdb as store
from training.evaluate import metric_key
from training.report_figures import Figures, a_or_an, either, words

DEFAULT_SLA = {"high_intent_hours": 1.0, "other_hours": 24.0}
TOP_CAMPAIGNS = 15
TOP_SOURCES = 30
"""The source table's rows at most: a free-text source field can hold thousands of values."""
MIN_SOURCE_LEADS = 20
"""Leads (or MQLs) a source or campaign needs before a chart draws it or the band judges it."""
MIN_FLAGGED_LEADS = 10
"""Leads behind a flag the opening acts on (a source's closing reason, a campaign's engaged but
out-of-ICP leads): a share of a handful is noise, not advice."""
FLAG_ALPHA = 0.05
"""A source's closing reason is flagged only when that many more closings are unlikely by
chance: a one-sided binomial test against the overall share, at this level over all the pairs
tested (Bonferroni)."""
_BUCKET_KEYS = ("lt_5m", "5m_30m", "30m_1h", "1h_24h", "gt_24h")


def flag_reasons(reasons: pd.DataFrame) -> pd.DataFrame:
    """The (source, reason) rows a source gets at least 1.5 times as often as average, on
    ``MIN_FLAGGED_LEADS`` leads or more, and beyond chance (``FLAG_ALPHA``); largest ratio first.

    ``reasons`` is ``report_duckdb.reasons_by_source``: ``count`` closings out of the source's
    ``count / share`` dispositioned leads, against ``overall_share``. 12 of 40 leads where 15 %
    is average is 2x as often, yet 6 would be expected and 12 or more comes by chance about once
    in 80: with dozens of sources and reasons tested, such a flag is noise, not advice.
    """
    from scipy.stats import binom

    candidates = reasons[(reasons["count"] >= MIN_FLAGGED_LEADS) & (reasons["ratio"] >= 1.5)]
    if candidates.empty:
        return candidates.assign(p_value=pd.Series(dtype=float))
    leads = (candidates["count"] / candidates["share"]).round().astype(int)
    p = binom.sf(candidates["count"].astype(int) - 1, leads, candidates["overall_share"])
    candidates = candidates.assign(p_value=p)
    return (candidates[candidates["p_value"] < FLAG_ALPHA / len(candidates)]
            .sort_values("ratio", ascending=False))


def dispositions_section(frame: pd.DataFrame, figs: Figures, positive: str = "booked meeting",
                         high_intent: str = "a demo request or a pricing view", *,
                         store_dispositions: int | None = None,
                         outcome_only: int = 0) -> dict[str, Any]:
    """The section on what sales said; ``store_dispositions``: how many the store holds at all
    (0 tells an export without verdicts from a window whose verdicts have not come yet);
    ``outcome_only``: leads of the window that ended positive with no disposition, which the
    acceptance rate does not count (said beside it)."""
    if frame.empty:
        return {"available": False,
                # what the store holds, not what the export carries: a HubSpot Lead Status of
                # the reps' verdicts may have been ingested as another role
                "why": "the store holds no disposition at all: none was ingested (an export's "
                       "rep verdicts or lead-status column, mapped as dispositions, would fill "
                       "this section), so there is nothing to break down"
                if store_dispositions == 0
                else "no lead in this cycle's data window has a disposition yet"}
    # a report written again reads the store as of the review date: it can only have lost
    # leads since (a store re-created from a smaller export), and then says so; the count of
    # the first writing is logged once, so every later writing compares with it
    earlier = figs.value("report.dispositioned_first")
    if not math.isfinite(earlier):
        figs.add("report.dispositioned_first", len(frame))
    store_note = (f"The store holds less history than when this report was first written "
                  f"({len(frame):,} leads dispositioned by the review date against "
                  f"{earlier:,.0f} then; re-created from a smaller export?): these sales figures "
                  "are the store's now, not the review's." if earlier > len(frame) else None)
    figs.add("report.dispositioned", len(frame))
    by_source = store.acceptance_by(frame, "source")
    by_campaign = store.acceptance_by(frame, "campaign")
    campaigns = len(by_campaign)
    by_campaign = by_campaign.head(TOP_CAMPAIGNS)
    reasons = store.reasons_by_source(frame)
    totals = store.reason_totals(frame)
    for table, name in ((by_source, "source"), (by_campaign, "campaign")):
        rows = []
        for _, r in table.iterrows():
            key = f"report.{name}.{metric_key(r[name])}"
            rows.append({
                "name": words(r[name]) if name == "source" else r[name],
                "leads": figs.put(key + ".dispositioned", r["leads"], "count"),
                "acceptance": figs.put(key + ".acceptance_rate", r["acceptance_rate"], "pct"),
                "rejected_fit": figs.put(key + ".rejected_fit", r["rejected_fit"], "pct"),
                "rejected_intent": figs.put(key + ".rejected_intent", r["rejected_intent"], "pct"),
                # the rest (excluded by the policy, or no family), so that each row adds up
                "rest": figs.put(key + ".excluded_or_other",
                                 max(0.0, 1.0 - r["acceptance_rate"] - r["rejected_fit"]
                                     - r["rejected_intent"]), "pct"),
                "engaged_out_of_icp": figs.put(key + ".engaged_out_of_icp",
                                               r["engaged_out_of_icp"], "pct"),
            })
        table.attrs["rows"] = rows
    reason_rows = []
    for _, r in totals.iterrows():
        key = f"report.reason.{metric_key(r['reason_code'])}"
        verdict = charts.VERDICT_NAMES[r["verdict"]].format(positive=positive)
        reason_rows.append({"code": words(r["reason_code"]), "verdict": verdict,
                            "count": figs.put(key + ".count", r["count"], "count"),
                            "share": figs.put(key + ".share", r["share"], "pct")})
    flagged = flag_reasons(reasons).head(8)
    flag_rows = []
    for _, r in flagged.iterrows():
        key = f"report.source.{metric_key(r['source'])}.reason.{metric_key(r['reason_code'])}"
        flag_rows.append({"source": words(r["source"]), "code": words(r["reason_code"]),
                          "family": r["family"],
                          "share": figs.put(key + ".share", r["share"], "pct"),
                          "overall": figs.show(f"report.reason.{metric_key(r['reason_code'])}"
                                               ".share", "pct"),
                          "ratio": figs.put(key + ".ratio", r["ratio"], "times")})
    engaged = by_campaign[(by_campaign["leads"] >= MIN_SOURCE_LEADS)
                          & (by_campaign["campaign"] != "(none)")
                          & (by_campaign["engaged_out_of_icp"] * by_campaign["leads"]
                             >= MIN_FLAGGED_LEADS - 1e-9)]
    overall_eoi = float((frame["engaged"] & (frame["verdict"] == "rejected_fit")).mean())
    figs.add("report.engaged_out_of_icp", overall_eoi)
    worst = engaged.sort_values("engaged_out_of_icp", ascending=False).head(1)
    eoi_why = _engaged_out_of_icp_missing(frame, high_intent)
    alone = (figs.put("report.undispositioned_positives", outcome_only, "count")
             if outcome_only else None)
    only_rejected = (_rejections_only(figs.show("report.dispositioned", "count"), alone,
                                      outcome_only, positive)
                     if alone is not None and not frame["accepted"].any() else None)
    return {
        "available": True,
        "eoi_why": eoi_why, "store_note": store_note,
        # a breakdown of one value compares nothing: left out with one line saying why
        "source_why": _one_source(by_source),
        "campaign_why": _one_campaign(by_campaign),
        # verdicts recorded on rejected leads only: their acceptance rate is 0% by construction
        "acceptance": None if only_rejected else figs.put(
            "report.acceptance_rate", float(frame["accepted"].mean()), "pct"),
        "rejections_only": only_rejected,
        "outcome_only": alone, "outcome_only_n": outcome_only,
        "dispositioned": figs.show("report.dispositioned", "count"), "n": len(frame),
        "sources": by_source.attrs["rows"][:TOP_SOURCES], "campaigns": by_campaign.attrs["rows"],
        "reasons": reason_rows, "flagged": flag_rows, "flagged_raw": flagged,
        "worst_campaign": None if eoi_why or worst.empty or worst.iloc[0]["engaged_out_of_icp"]
        <= 1.5 * overall_eoi else worst.iloc[0],
        # a source or campaign of one lead draws a full-width bar as loud as one of thousands:
        # the charts show those with enough leads, the tables the largest sources and campaigns
        **_breakdown_chart(by_source, "source",
                           "every source" if len(by_source) <= TOP_SOURCES else "the largest",
                           positive),
        "source_heading": "By source" if len(by_source) <= TOP_SOURCES
        else f"By source: the {TOP_SOURCES} largest of {len(by_source):,}",
        **_breakdown_chart(by_campaign, "campaign",
                           "every campaign" if campaigns <= TOP_CAMPAIGNS else "the largest",
                           positive),
        "campaign_heading": "By campaign (largest first)" if campaigns <= TOP_CAMPAIGNS
        else f"By campaign: the {TOP_CAMPAIGNS} largest of {campaigns:,}",
    }


def _breakdown_chart(table: pd.DataFrame, column: str, listed: str, positive: str
                     ) -> dict[str, Any]:
    """The verdict chart of the values of ``column`` with ``MIN_SOURCE_LEADS`` leads or more, and
    the note that says what it leaves out (``listed``: what the table lists)."""
    drawn = table[table["leads"] >= MIN_SOURCE_LEADS]
    if drawn.empty:
        note = (f"No chart: no {column} has {MIN_SOURCE_LEADS} or more dispositioned leads; "
                f"the table lists {listed}.")
    elif len(drawn) < len(table):
        note = (f"The chart shows the {column}s with at least {MIN_SOURCE_LEADS} dispositioned "
                f"leads; the table lists {listed}.")
    else:
        note = None
    chart = None if drawn.empty else charts.verdict_chart(drawn, column, store.VERDICTS, positive)
    return {f"{column}_chart": chart, f"{column}_chart_note": note}


def _one_source(by_source: pd.DataFrame) -> str | None:
    """Why the source breakdown compares nothing (None: it compares two or more)."""
    if len(by_source) > 1:
        return None
    only = by_source.iloc[0]["source"]
    if only == "unknown":  # what the store reads a missing source as
        return "no dispositioned lead carries a source"
    return f"every dispositioned lead came from one source ({words(only)})"


def _one_campaign(by_campaign: pd.DataFrame) -> str | None:
    """Why the campaign breakdown compares nothing (None: it compares two or more)."""
    named = by_campaign[by_campaign["campaign"] != "(none)"]
    if named.empty:
        return "no dispositioned lead carries a campaign"
    if len(by_campaign) == 1:
        return f"every dispositioned lead came from one campaign ({named.iloc[0]['campaign']})"
    return None


def _rejections_only(dispositioned: Markup, alone: Markup, outcome_only: int,
                     positive: str) -> Markup:
    """The section's line when the export records verdicts on rejected leads alone.

    Pipedrive's lost reason, a closed-lost field: no lead is dispositioned accepted while leads
    of the window did end positive with no verdict. "Sales accepted 0.0%" of such verdicts is
    true of the store and false of sales.
    """
    leads = "lead" if outcome_only == 1 else "leads"
    return Markup(
        "The export records a verdict only for leads sales turned down ({}, every one rejected; "
        "none accepted or being worked), while {} {} of this window ended in {} with no verdict "
        "recorded: an acceptance rate of these verdicts would be 0% by construction, so none is "
        "given. The tables break the rejections down by source and reason."
    ).format(dispositioned, alone, leads, a_or_an(positive))


def _engaged_out_of_icp_missing(frame: pd.DataFrame, high_intent: str) -> str | None:
    """Why the "engaged but out of ICP" share says nothing on this data (None: it does).

    It counts engaged leads rejected for fit; an export without activity, or without fit
    rejections, would show 0% everywhere: a true figure that reads as a finding.
    """
    if not frame["engaged"].any():
        return (f"no dispositioned lead shows engagement ({high_intent}, or three activities) in "
                "this data")
    if not (frame["verdict"] == "rejected_fit").any():
        return "no dispositioned lead was rejected for fit in this data"
    return None


def high_intent_words(config: dict[str, Any]) -> str:
    """The configured high-intent activities in words ("a demo request or a pricing view")."""
    return either(list((config.get("features") or {}).get("high_intent_activities") or []))


def speed_section(frame: pd.DataFrame, labels: pd.DataFrame, config,
                  figs: Figures) -> dict[str, Any]:
    sla = {**DEFAULT_SLA, **(config.get("sla") or {})}
    result = store.first_touch(frame, labels, sla)
    if not result["touched"]:
        return {"available": False,
                "why": "no disposition in this cycle's data window records a first touch"}
    out = {"available": True, "sla_high": sla["high_intent_hours"], "sla_other": sla["other_hours"],
           "touched": figs.put("report.first_touch.touched", result["touched"], "count"),
           "sla_high_fig": figs.put("report.first_touch.sla_high_intent_hours",
                                    sla["high_intent_hours"], "num"),
           "sla_other_fig": figs.put("report.first_touch.sla_other_hours", sla["other_hours"],
                                     "num"),
           "high_intent": high_intent_words(config)}
    for name, fmt in (("within_1h", "pct"), ("within_24h", "pct"), ("median_hours", "num1"),
                      ("sla_met", "pct"), ("high_intent_within_sla", "pct"),
                      ("other_within_sla", "pct")):
        out[name] = figs.put(f"report.first_touch.{name}", result[name], fmt)
    # a median under an hour in minutes: leads touched at once read "3 minutes", not "0.0 hours"
    median = result["median_hours"]
    if median < 1:
        minutes = figs.put("report.first_touch.median_minutes", median * 60, "count")
        word = "minute" if round(median * 60) == 1 else "minutes"
        out["median"], out["median_short"] = (Markup("{} {}").format(minutes, word),
                                              Markup("{} min").format(minutes))
    else:
        out["median"] = Markup("{} hours").format(out["median_hours"])
        out["median_short"] = Markup("{} h").format(out["median_hours"])
    out["raw"] = result
    # a share of no leads is no figure: the sentence names only the groups that had leads
    out["has_high"] = bool(result["high_intent_leads"])
    out["has_other"] = result["high_intent_leads"] < result["touched"]
    rows = []
    for key, (_, r) in zip(_BUCKET_KEYS, result["buckets"].iterrows(), strict=True):
        prefix = f"report.first_touch.bucket.{key}"
        rows.append({"bucket": r["bucket"],
                     "leads": figs.put(prefix + ".leads", r["leads"], "count"),
                     "labelled": figs.put(prefix + ".labelled", r["labelled"], "count"),
                     # a rate of nobody is no figure: the row says why it has none
                     "rate": (figs.put(prefix + ".sql_rate", r["sql_rate"], "pct")
                              if r["labelled"] else "no known outcome" if r["leads"]
                              else "no leads"),
                     "raw_rate": r["sql_rate"], "raw_labelled": int(r["labelled"])})
    out["buckets"] = rows
    out["chart"] = charts.bucket_chart(result["buckets"])
    return out
