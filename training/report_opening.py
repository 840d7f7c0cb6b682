"""The report's opening summary: what changed this cycle and what to do about it, in sentences
generated from the numbers (each number a tagged figure, see ``training.report_figures``)."""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup

from training.evaluate import metric_key
from training.report_figures import a_or_an, plural, sentence, words
from training.threshold import band_text
from training.tournament_log import SENTENCE_TAG

_ADVICE = {
    "rejected_fit": "tighten the {source} targeting",
    "rejected_intent": "check the offer and timing of {source} leads before routing them",
    # the policy's excluded codes are whatever a team says teaches nothing (junk, recycled,
    # a student ...): no one remedy fits them all
    "junk_or_recycled": "find out why {source} leads end this way (the label policy leaves "
                        "them out of training)",
}
MIN_BUCKET_OUTCOMES = 30
"""Leads with a known outcome a speed-to-lead bucket needs before the summary compares it."""


def _conversion(ctx: dict[str, Any]) -> Markup:
    figs, run, previous = ctx["figs"], ctx["run"], ctx["previous"]
    conv = ctx["threshold"]["conversion_at_threshold"]
    band = ctx["conversion"]
    rate = ctx["run"].metric("conversion_at_threshold")
    lo, hi = ctx.get("band") or (math.nan, math.nan)
    # where it stands against the band, said, not left to the reader (76% against 25-50%)
    where = ("above the band, " if rate > hi else "below the band, " if rate < lo else "band ")
    parts: list[Any] = ["The new model converts ", conv, f" of MQLs ({where}", band["band_min"],
                        "-", band["band_max"], ")"]
    if previous is not None and "conversion_at_threshold" in previous.metrics:
        # compared as shown: 38.32% against 38.31% reads "38.3%" twice, and "up from 38.3%"
        # would claim a rise the page cannot show
        was = round(100 * previous.metrics["conversion_at_threshold"], 1)
        now = round(100 * run.metric("conversion_at_threshold"), 1)
        trend = "up from" if now > was else "down from" if now < was else "the same as"
        parts += [f", {trend} ", figs.show("conversion_at_threshold", "pct",
                                           run_id=previous.run_id, metrics=previous.metrics),
                  f" in cycle {previous.cycle}"]
        asides: list[list[Any]] = []
        was_base, now_base = previous.metrics.get("base_rate"), run.metrics.get("base_rate")
        if was_base is not None and now_base is not None and now != was:
            # the threshold is set on each cycle's own cohort: when that cohort's conversion
            # moved (drift), so does the MQLs' conversion, and "up from" must not read as credit
            asides.append(["all leads of its cohort converted at ", figs.show("base_rate", "pct"),
                           ", against ", figs.show("base_rate", "pct", run_id=previous.run_id,
                                                   metrics=previous.metrics), " then"])
        band_then = _band_then(previous, (lo, hi))
        if band_then:
            asides.append([band_then])
        for i, aside in enumerate(asides):
            parts += [" (" if i == 0 else "; ", *aside]
        if asides:
            parts.append(")")
    promoted = _promoted(ctx)
    gates = ctx["model"]["gates"]
    moved = _moved(ctx)
    if promoted is True:
        parts.append("; it was promoted to champion.")
    elif promoted is False:
        failed = [g["name"].replace("_", "-") for g in gates.get("gates", [])
                  if not g.get("passed")]
        why = (f" (failed gate{'s' if len(failed) > 1 else ''}: {', '.join(failed)})"
               if failed else " (the review ran with --no-promote)"
               if run.tags.get("promote_requested") == "false" else "")
        champion = ctx.get("champion_after")
        if champion is not None:
            keeps = "kept scoring then" if moved else "keeps scoring"
            parts.append(f"; it was not promoted{why}, so champion v{champion} {keeps}.")
        elif moved:
            parts.append(f"; it was not promoted{why}, and there was no champion then.")
        else:
            version = ctx["run"].tags.get("model_version")
            promote = f"`leadscore promote {version}`" if version else "`leadscore promote`"
            parts.append(f"; it was not promoted{why}, and there is no champion: nothing scores "
                         f"leads until a version is promoted ({promote} after review).")
    else:
        parts.append(".")
    return sentence(*parts)


def _band_then(previous, band: tuple[float, float]) -> str:
    """"cycle C3's threshold was set against the 25%-50% band, not this one" when the previous
    cycle's band was another one: its conversion answered another target."""
    try:
        then = (float(previous.param("band_min")), float(previous.param("band_max")))
    except (TypeError, ValueError):
        return ""
    if not all(map(math.isfinite, band)) or all(
            math.isclose(a, b) for a, b in zip(then, band, strict=True)):
        return ""
    return (f"cycle {previous.cycle}'s threshold was set against the {band_text(*then)} band, "
            "not this one")


def previous_line(previous, later_dated, earlier: list) -> str:
    """The header's word on what came before this review: the previous cycle (by date), a cycle
    reviewed before it but dated after it, and earlier reviews of the same cycle."""
    text = f"previous cycle: {previous.cycle}" if previous is not None else (
        "previous cycle: none" if later_dated is not None else "previous cycle: none (first cycle)")
    if later_dated is not None:
        dated = later_dated.as_of.strftime("%Y-%m-%d")
        text += (f" (cycle {later_dated.cycle}, reviewed before this one, is dated {dated}, "
                 "after it)")
    if earlier:
        runs = ", ".join(
            f"run {r.run_id[:8]}" + (f", v{r.tags['model_version']}"
                                     if r.tags.get("model_version") else "") for r in earlier)
        times = "once" if len(earlier) == 1 else f"{len(earlier)} times"
        text += (f" · this cycle was reviewed {times} before ({runs}); this report is of its "
                 "latest review")
    return text


def _moved(ctx: dict[str, Any]) -> bool:
    """Whether the champion is no longer the one this review left (a promote or rollback since,
    read from the registry when the report was written)."""
    return "champion_now" in ctx and ctx["champion_now"] != ctx.get("champion_after")


def _since(ctx: dict[str, Any]) -> Markup | None:
    """What scores leads now, when that changed after the review: the report is rewritten after
    ``leadscore promote`` or ``rollback`` and must agree with the registry and the API."""
    if not _moved(ctx):
        return None
    after, now = ctx.get("champion_after"), ctx["champion_now"]
    was = f"v{after}" if after is not None else "none"
    if now is None:
        return sentence(f"Since this review the champion alias was removed (it was {was}): no "
                        "version scores leads now.")
    return sentence(f"Since this review the champion has moved from {was} to v{now} (a later "
                    f"review, `leadscore promote` or `leadscore rollback`): v{now} scores leads "
                    "now.")


def outcome(ctx: dict[str, Any]) -> str:
    """The gates section's last line: what the review did, then what scores leads now when that
    changed since. What the review left is told in the past once the champion has moved, so the
    line never says "there is no champion yet" beside "v1 scores leads now"."""
    promoted, after, moved = ctx["promoted"], ctx.get("champion_after"), _moved(ctx)
    held = (" (the review ran with --no-promote)"
            if ctx["run"].tags.get("promote_requested") == "false"
            and ctx["model"]["gates"].get("passed") else "")
    if promoted is True:
        head = "the challenger was promoted to champion."
    elif promoted is False and after is not None:
        head = f"not promoted{held}; champion v{after} {'stayed' if moved else 'stays'}."
    elif promoted is False:
        head = (f"not promoted{held}, and there was no champion then." if moved
                else f"not promoted{held}, and there is no champion yet.")
    else:
        head = "not recorded."
    if moved:
        now = ctx["champion_now"]
        head += (" Since this review the champion has moved: "
                 + ("no version scores leads now." if now is None else
                    f"v{now} scores leads now."))
    return f"Outcome: {head}"


def _promoted(ctx: dict[str, Any]) -> bool | None:
    """Whether the challenger became champion (the gates' verdict when the run did not say)."""
    promoted = ctx["promoted"]
    return ctx["model"]["gates"].get("passed") if promoted is None else promoted


def _volume(ctx: dict[str, Any]) -> Markup | None:
    t = ctx["threshold"]
    if not math.isfinite(ctx["run"].metric("mqls_per_week")):
        return None
    version = ctx["run"].tags.get("model_version")
    in_use = (str(ctx["champion_now"]) == version if _moved(ctx) and version
              else _promoted(ctx) is not False)
    if not in_use:  # its threshold marks nobody: no MQLs to expect from it
        return sentence("Its threshold ", t["threshold"], " (about ", t["mqls_per_week"],
                        " MQLs a week on the validation cohort) is not in use.")
    return sentence("Expect about ", t["mqls_per_week"], " MQLs a week at threshold ",
                    t["threshold"], ".")


def _signal(ctx: dict[str, Any]) -> Markup | None:
    signals = ctx["signals"]
    if not signals.get("available") or _evidence(ctx) is not None:
        return None  # a model that ranks no better than chance has no signal to name
    top = signals["rows"][0]
    # the comparison belongs to the signal it is about, not to the fit / intent shares after it
    if signals["first_cycle"]:
        short = signals.get("no_comparison_short", "first cycle: nothing to compare with yet")
        tail = f" ({short})"
    elif signals["top_previous"] in (None, 1):
        tail = ", as in the previous cycle" if signals["top_previous"] == 1 else ", a new signal"
    else:
        tail = Markup(", up from #{} last cycle").format(signals["top_previous"])
    silent = signals.get("silent_group")
    shares: list[Any] = (
        ["; fit explains ", signals["fit_share"], " of the score and intent ",
         signals["intent_share"], "."] if silent is None else
        [f"; {'fit' if silent == 'intent' else 'intent'} explains all of the score: no "
         f"{silent} signal carried any weight."])
    return sentence(f"The strongest signal of {a_or_an(ctx['positive'])} is ",
                    f"{top['label']} ({top['group']})", tail, *shares)


def _dispositions(ctx: dict[str, Any]) -> list[Markup]:
    d = ctx["dispositions"]
    if not d.get("available"):
        return []
    figs = ctx["figs"]
    leads = "lead" if d.get("outcome_only_n") == 1 else "leads"
    alone = (["; ", d["outcome_only"], f" more {leads} ended in {a_or_an(ctx['positive'])} "
              "with no disposition recorded (not in that rate)"] if d.get("outcome_only") else [])
    out = [sentence("Sales accepted ", d["acceptance"], " of the ", d["dispositioned"],
                    " dispositioned leads", *alone, ".") if not d.get("rejections_only")
           # verdicts on rejected leads only: a rate of 0% by construction is no finding
           else sentence("The export records sales verdicts only on rejected leads (",
                         d["dispositioned"], "), none on the ", d["outcome_only"],
                         f" that ended in {a_or_an(ctx['positive'])}, so no acceptance rate "
                         "is given.")]
    if d.get("store_note"):
        out.append(sentence(d["store_note"]))
    flagged = d["flagged_raw"]
    if not flagged.empty:
        r = flagged.iloc[0]
        key = f"report.source.{metric_key(r['source'])}.reason.{metric_key(r['reason_code'])}"
        advice = _ADVICE.get(r["family"], "look into {source} leads").format(
            source=words(r["source"]))
        out.append(sentence(f"{words(r['source']).capitalize()} leads are closed as "
                            f"{words(r['reason_code'])} ", figs.show(key + ".ratio", "times"),
                            f" as often as average: {advice}."))
    worst = d["worst_campaign"]
    if worst is not None:
        key = f"report.campaign.{metric_key(worst['campaign'])}.engaged_out_of_icp"
        out.append(sentence(f"Campaign {worst['campaign']} brings engaged but out-of-ICP leads (",
                            figs.show(key, "pct"), " of its leads vs ",
                            figs.show("report.engaged_out_of_icp", "pct"),
                            " overall): keep its content, retarget its audience."))
    return out


def _speed(ctx: dict[str, Any]) -> Markup | None:
    s = ctx["speed"]
    if not s.get("available"):
        return None
    parts: list[Any] = [s["sla_met"], " of leads were first touched within their SLA (",
                        f"{s['sla_high']:g} h for high intent, {s['sla_other']:g} h otherwise)"]
    fast, slow = s["buckets"][0], s["buckets"][-1]
    # a rate of a dozen leads is noise: compared only when both buckets hold enough outcomes
    if min(fast["raw_labelled"], slow["raw_labelled"]) >= MIN_BUCKET_OUTCOMES:
        parts += ["; leads touched within 5 minutes converted at ", fast["rate"], " (",
                  fast["labelled"], " with a known outcome) vs ", slow["rate"], " (",
                  slow["labelled"], ") after a day"]
    return sentence(*parts, ".")


def _grades(ctx: dict[str, Any]) -> Markup | None:
    g = ctx["grades"]
    if not g.get("available") or _evidence(ctx) is not None:
        return None  # grades of a model no better than chance are "in order" by chance
    if g["inversions"]:
        better, worse = g["inversions"][0]
        n = len(g["inversions"])
        return sentence(f"Grade inversion: {worse} leads converted above {better} leads (",
                        g["count"], f" {plural('inversion', n)} in all); review the grade "
                        "cut-points.")
    compared, least = g.get("compared", 0), g.get("min_leads", 20)
    if compared < 2:
        # one grade holding (nearly) every lead is in no order at all: there is nothing to rank
        return sentence(f"Grade order could not be checked: fewer than two grades hold {least} "
                        "or more leads of the cohort.")
    # smaller grades take no part, and a gap within noise is no inversion: said, not implied
    return sentence(f"Grades are in order: no better grade converted clearly below a worse "
                    f"one ({compared} grades with {least} or more leads compared).")


def _cohort(ctx: dict[str, Any]) -> Markup | None:
    c = ctx["cohort"]
    verdict = c["verdict"]
    if verdict == "first cycle":
        return sentence("First cycle: there is no earlier change to judge yet.")
    if verdict == "no model":
        return None  # no champion scored these leads: there is no prediction to check
    if verdict == "insufficient evidence":
        if c.get("none_since"):
            return sentence("Insufficient evidence on how the scores held up since the last "
                            "review: no lead has become scoreable since then.")
        if not c["check"].after_n:
            return sentence("Insufficient evidence on how the scores held up since the last "
                            "review: no lead scored since then has matured yet.")
        return sentence("Insufficient evidence on how the scores held up since the last review (",
                        c["after_n"], f" matured {plural('lead', c['check'].after_n)}).")
    head = (f"Leads scored since the last review converted to {a_or_an(ctx['positive'])} "
            "at ")
    tail = {
        "as predicted": ", as their scores predicted (",
        "above prediction": ", above what their scores predicted (",
        "below prediction": ", below what their scores predicted (",
    }[verdict]
    meaning = {
        "as predicted": "): the scores held up.",
        "above prediction": "): conversion rose for reasons the model did not see, such as a "
                            "moving base rate; it is not the model's doing, and retraining "
                            "catches up with it.",
        "below prediction": "): the scores are too optimistic for recent leads; retraining "
                            "catches up with it.",
    }[verdict]
    return sentence(head, c["after_rate"], tail, c["predicted"], " for the same ", c["after_n"],
                    " leads, difference ", c["diff"], ", 95% interval ", c["ci_low"], " to ",
                    c["ci_high"], meaning)


def _evidence(ctx: dict[str, Any]) -> Markup | None:
    """The evidence gate's sentence when it failed: the report leads with it."""
    for gate in ctx["model"]["gates"].get("gates", []):
        if gate.get("name") == "evidence" and not gate.get("passed"):
            return sentence(gate.get("sentence", "Insufficient evidence."))
    return None


def _tournament(ctx: dict[str, Any]) -> Markup | None:
    """Which model family won the cycle's tournament and by how much (logged by the review);
    nothing when no tournament ran."""
    text = ctx["run"].tags.get(SENTENCE_TAG) if ctx.get("run") is not None else None
    return sentence(text) if text else None


def summary(ctx: dict[str, Any]) -> list[Markup]:
    """The summary's sentences, most important first."""
    parts = [_evidence(ctx), _conversion(ctx), _since(ctx), _volume(ctx), _signal(ctx),
             *_dispositions(ctx),
             _speed(ctx), _grades(ctx), _cohort(ctx), _tournament(ctx)]
    return [p for p in parts if p is not None]
