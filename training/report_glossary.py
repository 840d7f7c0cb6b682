"""The report's Definitions: a term is defined only when a section on the page uses it.

A section left out for want of data (dispositions, speed to lead) takes its terms with it, so the
glossary never defines a figure the reader cannot find.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from training.report_figures import a_or_an, plural


def glossary(ctx: dict[str, Any]) -> list[tuple[str, Markup]]:
    """(term, definition) pairs for the terms the page's shown sections use, in page order."""
    positive = a_or_an(ctx["positive"])
    terms = [("MQL / conversion", Markup(
        "An MQL scored at or above the threshold. Conversion is the share of leads (of MQLs, "
        "at the threshold) whose outcome was {} (the label policy's positive outcome) within "
        "{} days.").format(positive, ctx["maturity"]))]
    cohort = Markup("The newest leads whose outcome is known (their maturity window has passed); "
                    "the challenger the gates judged never trained on them")
    if (ctx.get("model") or {}).get("refit"):
        cross = (ctx.get("model") or {}).get("cross_fitted", True)
        cohort += Markup(" (the deployed version, refit on every matured week, did: its figures "
                         "on them are {})").format("cross-fitted" if cross else "in-sample")
    cohort += Markup(".")
    if ctx.get("unmatured"):
        n = ctx.get("unmatured_n")
        said = Markup(" {} newer {} {} inside their maturity window and not yet counted.")
        cohort += said.format(ctx["unmatured"], plural("lead", n), "is" if n == 1 else "are")
    if ctx.get("horizon_note"):  # the review date is after the store's evidence: say what it left
        cohort += Markup(" {}").format(ctx["horizon_note"])
    terms.append(("Validation cohort", cohort))
    dispositions = ctx.get("dispositions") or {}
    if dispositions.get("available") and not dispositions.get("rejections_only"):
        terms.append(("Acceptance rate", Markup(
            "Share of dispositioned leads whose latest verdict is accepted, being worked or {}."
        ).format(positive)))
    if dispositions.get("available") and dispositions.get("eoi_why") is None:
        terms.append(("Engaged but out of ICP", Markup(
            "Leads with {}, or three or more activities, rejected for fit (wrong title, out "
            "of ICP, ...).").format(ctx["high_intent"])))
    if (ctx.get("speed") or {}).get("available"):
        terms.append(("Time to first touch", Markup(
            "From the moment a lead became an MQL (else was created) to its first touch, in "
            "clock hours.")))
    terms.append(("Figures", Markup(
        "Every figure on this page is a metric on the cycle's MLflow run (computed ones under "
        "<code>report.</code>). Percentages show one decimal; scores and AUCs three; counts are "
        "whole numbers, and so are MQLs a week from 10 up (below 10 they keep one decimal); hours "
        "show as set or with one decimal.")))
    return terms
