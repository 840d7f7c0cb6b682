"""Truth rules of the report's sales sections: sources, campaigns, verdicts, speed to lead and
rejection advice say only what their data shows (the rest: test_report_sections_truth.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.training.report_context import TEXT, _ctx, _dispositioned, _run, _text
from training import report_duckdb as store
from training.report_figures import Figures
from training.report_model import conversion_section
from training.report_sales import dispositions_section


def _speed_ctx(fast: int, slow: int) -> dict:
    figs = Figures("r1", {})
    bucket = [{"rate": figs.put("f", 0.077, "pct"), "raw_rate": 0.077, "raw_labelled": fast,
               "labelled": figs.put("fn", fast, "count")},
              {"rate": figs.put("s", 0.327, "pct"), "raw_rate": 0.327, "raw_labelled": slow,
               "labelled": figs.put("sn", slow, "count")}]
    return _ctx(_run()) | {"speed": {"available": True, "sla_met": "74.6%", "sla_high": 1.0,
                                     "sla_other": 24.0, "buckets": bucket}}


def test_speed_to_lead_rates_are_compared_only_on_enough_outcomes():
    # 1 of 13 against 18 of 55: a leader would read "touch slowly"; it is noise
    said = [line for line in _text(_speed_ctx(13, 55)) if "within their SLA" in line][0]
    assert said == "74.6% of leads were first touched within their SLA (1 h for high intent, " \
                   "24 h otherwise)."
    said = [line for line in _text(_speed_ctx(40, 55)) if "within their SLA" in line][0]
    assert "within 5 minutes converted at 7.7% (40 with a known outcome) vs 32.7% (55)" in said


def test_rejection_advice_fits_the_reason_and_reads_as_words():
    # the policy's excluded family holds junk, recycled and whatever a team excludes (a student)
    flagged = pd.DataFrame({"source": ["purchased_list"], "reason_code": ["recycled"],
                            "family": ["junk_or_recycled"], "ratio": [1.9]})
    ctx = _ctx(_run()) | {"dispositions": {"available": True, "acceptance": "17.5%",
                                           "dispositioned": "1,847", "flagged_raw": flagged,
                                           "worst_campaign": None}}
    said = [line for line in _text(ctx) if "closed as recycled" in line][0]
    assert "list list" not in said and "clean" not in said
    assert said.endswith("find out why purchased list leads end this way (the label policy "
                         "leaves them out of training).")
    ctx["dispositions"]["flagged_raw"] = flagged.assign(reason_code="student")
    said = [line for line in _text(ctx) if "closed as student" in line][0]
    assert "contact data" not in said and "forms" not in said


def test_a_source_with_a_handful_of_mqls_is_not_judged_against_the_band():

    run = _run(metrics={"conversion_at_threshold": 0.315, "volume_at_threshold": 130.0,
                        "source.purchased_list.conversion_at_threshold": 0.0,
                        "source.purchased_list.volume_at_threshold": 1.0,
                        "source.webinar.conversion_at_threshold": 0.2,
                        "source.webinar.volume_at_threshold": 25.0})
    section = conversion_section(run, (0.25, 0.5), Figures(run.run_id, run.metrics))
    status = {r["name"]: r["status"] for r in section["rows"]}
    assert status == {"all sources": "in band", "webinar": "below band",
                      "purchased list": "too few MQLs to judge (under 20)"}
    assert ">0%<" in section["chart"]  # a 0% bar still shows its figure


def test_a_breakdown_of_one_source_or_no_campaign_is_left_out_with_one_line():

    frame = _dispositioned([True, False] * 3, ["rejected_fit", "booked"] * 3)
    section = dispositions_section(frame.assign(source="webinar"), Figures("r1", {}))
    assert section["source_why"] == "every dispositioned lead came from one source (webinar)"
    assert section["campaign_why"] == "no dispositioned lead carries a campaign"
    both = dispositions_section(frame.assign(campaign=["a", "b"] * 3), Figures("r1", {}))
    assert both["source_why"] is None and both["campaign_why"] is None
    one = dispositions_section(frame.assign(campaign="Spring"), Figures("r1", {}))
    assert one["campaign_why"] == "every dispositioned lead came from one campaign (Spring)"
    # the conversion table shows no source row that only repeats the total
    run = _run(metrics={"source.webinar.conversion_at_threshold": 0.3,
                        "source.webinar.volume_at_threshold": 85.0})
    rows = conversion_section(run, (0.25, 0.5), Figures(run.run_id, run.metrics))["rows"]
    assert [r["name"] for r in rows] == ["all sources"]


def test_the_source_chart_draws_no_full_bar_for_a_source_of_one_lead():

    frame = _dispositioned([True, False] * 12, ["rejected_fit", "booked"] * 12)
    frame["source"] = ["webinar"] * 23 + ["bing"]
    section = dispositions_section(frame, Figures("r1", {}))
    assert ">webinar<" in section["source_chart"] and ">bing<" not in section["source_chart"]
    assert "at least 20 dispositioned leads" in section["source_chart_note"]
    assert [r["name"] for r in section["sources"]] == ["webinar", "bing"]  # the table has both


def test_a_store_without_sources_is_not_said_to_have_one_source_called_unknown():

    frame = _dispositioned([True, False] * 3, ["rejected_fit", "booked"] * 3)
    section = dispositions_section(frame.assign(source="unknown"), Figures("r1", {}))
    assert section["source_why"] == "no dispositioned lead carries a source"


def test_each_row_of_the_verdict_table_adds_up_to_all_its_leads():

    verdicts = ["rejected_fit", "booked", "junk_or_recycled", "rejected_intent"] * 6
    frame = _dispositioned([True, False] * 12, verdicts)
    section = dispositions_section(frame, Figures("r1", {}))
    for row in section["sources"]:
        shares = [row[k] for k in ("acceptance", "rejected_fit", "rejected_intent", "rest")]
        total = sum(float(TEXT.sub("", str(v)).rstrip("%")) for v in shares)
        assert total == pytest.approx(100.0, abs=0.2)
    rest = {r["name"]: TEXT.sub("", str(r["rest"])) for r in section["sources"]}
    assert rest == {"webinar": "50.0%", "event": "0.0%"}  # webinar's junk is its other half


def test_breakdowns_of_many_small_sources_and_campaigns_say_what_they_show():
    # free-text sources and campaigns (thousands of values, one or two leads each): the note said
    # "The chart shows the sources with at least 20 dispositioned leads" above no chart at all,
    # and "By campaign (largest first)" listed 15 one-lead campaigns of 1,899 as if they were
    # all, drawn as 15 full-width bars
    n = 60
    frame = _dispositioned([False] * n, ["rejected_fit", "booked"] * (n // 2))
    frame = frame.assign(source=[f"src-{i}" for i in range(n)],
                         campaign=[f"Campaign {i}" for i in range(n)])
    section = dispositions_section(frame, Figures("r1", {}))
    assert section["source_chart"] is None
    assert section["source_chart_note"] == ("No chart: no source has 20 or more dispositioned "
                                            "leads; the table lists the largest.")
    assert section["source_heading"] == "By source: the 30 largest of 60"
    assert len(section["campaigns"]) == 15
    assert section["campaign_heading"] == "By campaign: the 15 largest of 60"
    assert section["campaign_chart"] is None
    assert section["campaign_chart_note"] == ("No chart: no campaign has 20 or more "
                                              "dispositioned leads; the table lists the largest.")
    # one campaign large enough: the chart draws it alone, and the note says which it shows
    frame.loc[:24, "campaign"] = "Spring"
    section = dispositions_section(frame, Figures("r1", {}))
    assert section["campaign_heading"] == "By campaign: the 15 largest of 36"
    assert ">Spring<" in section["campaign_chart"]
    assert ">Campaign 30<" not in section["campaign_chart"]
    assert section["campaign_chart_note"] == ("The chart shows the campaigns with at least 20 "
                                              "dispositioned leads; the table lists the largest.")
    # few campaigns, all large: the table lists every one and no note is needed
    few = frame.assign(campaign=["a", "b"] * (n // 2), source=["webinar", "event"] * (n // 2))
    section = dispositions_section(few, Figures("r1", {}))
    assert section["campaign_heading"] == "By campaign (largest first)"
    assert section["campaign_chart_note"] is None and section["source_chart_note"] is None
    assert ">a<" in section["campaign_chart"]


def test_a_report_rewritten_on_a_store_that_lost_history_says_its_sales_figures_are_todays():
    # cycle S1 reported 1,899 dispositioned leads; the store was re-created from half the export
    # and `leadscore report --cycle S1` said "Sales accepted 17.7% of the 939 dispositioned
    # leads" of S1 as if its review had seen them
    frame = _dispositioned([True, False] * 3, ["rejected_fit", "booked"] * 3)
    section = dispositions_section(frame, Figures("r1", {"report.dispositioned_first": 1899.0,
                                                         "report.dispositioned": 939.0}))
    assert section["store_note"] == (
        "The store holds less history than when this report was first written (6 leads "
        "dispositioned by the review date against 1,899 then; re-created from a smaller "
        "export?): these sales figures are the store's now, not the review's.")
    first = Figures("r1", {})
    assert dispositions_section(frame, first)["store_note"] is None
    assert first.new["report.dispositioned_first"] == 6.0  # the first writing's count, kept
    again = Figures("r1", {"report.dispositioned_first": 6.0})
    assert dispositions_section(frame, again)["store_note"] is None
    assert "report.dispositioned_first" not in again.new
    ctx = _ctx(_run())
    ctx["dispositions"] = section
    said = _text(ctx)
    at = [i for i, line in enumerate(said) if line.startswith("Sales accepted")][0]
    assert said[at + 1].startswith("The store holds less history than when this report")


def test_the_verdict_chart_legend_fits_beside_long_campaign_names():
    # long campaign names pushed the axes right and the legend, anchored under them, was cut at
    # the figure's edge: the report read "excluded by the label pol"
    import re

    from training.charts import verdict_chart

    names = ["(none)", "CS | TechTarget | State of RevOps Report",
             "Webinar | 2026-07 | RevOps Metrics That Matter"]
    table = pd.DataFrame([{"campaign": n, "leads": 50,
                           **{v: 1 / len(store.VERDICTS) for v in store.VERDICTS}}
                          for n in names])
    svg = verdict_chart(table, "campaign", store.VERDICTS, "booked meeting")
    width = float(re.search(r'<svg[^>]*width="([\d.]+)pt"', svg).group(1))
    for label in ("excluded by the label policy", "rejected: intent", "booked meeting"):
        style, x = re.search(r'font-size: ([\d.]+)px[^>]*x="([\d.]+)"[^>]*>' + re.escape(label),
                             svg).groups()
        # DejaVu Sans averages well under 0.62 em a character
        assert float(x) + 0.62 * float(style) * len(label) <= width, label


def test_an_export_without_any_disposition_is_not_told_it_has_none_yet():
    # an export with no dispositions file: "Dispositions left out: no lead in this cycle's data
    # window has a disposition yet", as if verdicts were on their way
    empty = _dispositioned([], [])
    none = dispositions_section(empty, Figures("r1", {}), store_dispositions=0)
    assert none["why"].startswith("the store holds no disposition at all: none was ingested")
    later = dispositions_section(empty, Figures("r1", {}), store_dispositions=12)
    assert later["why"] == "no lead in this cycle's data window has a disposition yet"
