"""The report on exports leadscore had never seen (Salesforce, HubSpot, Pipedrive shapes): each
sentence true on their data, not only on the demo's."""

from __future__ import annotations

import html

from tests.training.report_context import TEXT, _ctx, _dispositioned, _run, _text
from training.report_figures import Figures
from training.report_sales import dispositions_section


def test_an_export_recording_only_rejections_is_given_no_acceptance_rate():
    # Pipedrive: a lost reason on every lost deal, nothing on the won ones. The report said
    # "Sales accepted 0.0% of the 1,633 dispositioned leads" (and 0.0% for every source) while
    # 1,720 deals of the window were won: a rate that is 0% by construction, read as a finding
    frame = _dispositioned([False] * 4, ["rejected_intent"] * 3 + ["rejected_fit"])
    ctx = _ctx(_run(), positive="won deal")
    section = dispositions_section(frame, ctx["figs"], "won deal", outcome_only=5)
    ctx["dispositions"] = section
    assert section["acceptance"] is None
    assert "report.acceptance_rate" not in ctx["figs"].new
    opening = _text(ctx)
    assert not any(line.startswith("Sales accepted") for line in opening)
    assert ("The export records sales verdicts only on rejected leads (4), none on the 5 that "
            "ended in a won deal, so no acceptance rate is given.") in opening
    said = html.unescape(TEXT.sub("", str(section["rejections_only"])))
    assert said == ("The export records a verdict only for leads sales turned down (4, every one "
                    "rejected; none accepted or being worked), while 5 leads of this window ended "
                    "in a won deal with no verdict recorded: an acceptance rate of these verdicts "
                    "would be 0% by construction, so none is given. The tables break the "
                    "rejections down by source and reason.")


def test_verdicts_that_accept_some_leads_keep_their_acceptance_rate():
    frame = _dispositioned([False] * 4, ["booked", "rejected_intent", "rejected_intent",
                                         "rejected_fit"])
    section = dispositions_section(frame, Figures("r1", {}), "won deal", outcome_only=5)
    assert section["rejections_only"] is None
    assert "25.0%" in str(section["acceptance"])
    # no lead ended positive without a verdict: every verdict a rejection is a finding
    alone = dispositions_section(_dispositioned([False] * 2, ["rejected_fit"] * 2),
                                 Figures("r1", {}), "won deal")
    assert alone["rejections_only"] is None and "0.0%" in str(alone["acceptance"])


def test_a_store_without_dispositions_does_not_say_the_export_has_no_verdicts():
    # HubSpot: the export's Lead Status holds the reps' verdicts (Unqualified - Budget, Bad
    # Timing, ...), ingested as post_outcome, not as dispositions. The report said "the store
    # holds no disposition at all (the export carries no rep verdicts)": false of that export,
    # and the report cannot know what an export carries, only what the store holds
    empty = _dispositioned([], [])
    none = dispositions_section(empty, Figures("r1", {}), store_dispositions=0)
    assert "export carries no" not in none["why"]
    assert none["why"] == (
        "the store holds no disposition at all: none was ingested (an export's rep verdicts or "
        "lead-status column, mapped as dispositions, would fill this section), so there is "
        "nothing to break down")
