"""The report's sections say only what their data shows: sales, sources, grades, signals and the
glossary, each on tiny inline data (the item-by-item truth rules are in test_report_truth.py)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from tests.training.report_context import TEXT, _ctx, _dispositioned, _run, _text
from training import report_duckdb as store
from training.charts import importance_chart
from training.report import _cohort
from training.report_figures import Figures
from training.report_glossary import glossary
from training.report_mlflow import CycleRun
from training.report_model import conversion_section, model_section, weekly_format
from training.report_sales import dispositions_section, high_intent_words


def _importance_run(tmp_path, importance: list[float]) -> CycleRun:
    names = [f"signal_{i}" for i in range(len(importance))]
    pd.DataFrame({"feature": names, "label": [f"Signal {i}" for i in range(len(importance))],
                  "group": ["fit"] * len(importance), "mean_abs_shap": importance,
                  "direction": [""] * len(importance)}).to_csv(tmp_path / "importance.csv",
                                                               index=False)
    run = _run()
    run.artifacts = tmp_path
    return run


def test_the_signal_chart_shows_no_signal_the_table_leaves_out(tmp_path):
    from training.report import _signals

    run = _importance_run(tmp_path, [0.6, 0.3, 0.0, 0.0])
    section = _signals(run, None, Figures(run.run_id, run.metrics), "booked meeting")
    assert [r["label"] for r in section["rows"]] == ["Signal 0", "Signal 1"]
    # a zero-impact bar would name the signal as one that predicted the outcome
    assert ">Signal 1<" in section["chart"] and ">Signal 2<" not in section["chart"]
    assert ">Signal 3<" not in section["chart"]


def test_the_verdict_legend_and_reason_table_name_the_configured_outcome():

    frame = _dispositioned([True, False] * 12, ["rejected_fit", "booked"] * 12)
    section = dispositions_section(frame.assign(source="webinar"), Figures("r1", {}),
                            "subscription")
    assert ">subscription<" in section["source_chart"]
    assert "meeting booked" not in section["source_chart"]
    booked = [r for r in section["reasons"] if r["code"] == "meeting booked"][0]
    assert booked["verdict"] == "subscription"
    # an excluded code is named for what the policy does with it, not "junk / recycled"
    assert "excluded by the label policy" in section["source_chart"]


def test_the_model_table_shows_the_deployed_version_the_calibration_gate_judged():
    metrics = {"ece": 0.074, "roc_auc": 0.83, "deployed.ece": 0.030, "deployed.roc_auc": 0.828,
               "champion.ece": 0.052}
    run = _run(params={"deployed.refit": "True", "deployed.calibration_method": "platt",
                       "champion_version_before": "2"}, metrics=metrics)
    model = model_section(run, Figures(run.run_id, run.metrics))
    assert model["columns"][:3] == ["challenger (this cycle)", "deployed (refit)", "champion v2"]
    ece = [r for r in model["rows"] if r["name"] == "Calibration error"][0]["cells"]
    assert [TEXT.sub("", str(c)) for c in ece[:3]] == ["0.074", "0.030", "0.052"]
    assert "calibration gate, which judges the deployed" in model["deployed_note"]
    # registered, not necessarily served: an unpromoted version serves nothing
    assert "registered and served" not in model["deployed_note"]
    # a run without a deployed version has no such column and no note
    plain = _run(metrics={"ece": 0.05})
    assert model_section(plain, Figures(plain.run_id, plain.metrics))["deployed_note"] is None


def test_the_calibration_chart_draws_the_deployed_scores_the_gate_judged(tmp_path):
    # the challenger over-predicts in its top bins; the refit version's scores are on the diagonal
    labels = [0, 0, 0, 0, 1, 0, 1, 1, 1, 1] * 20
    challenger = [0.1, 0.1, 0.2, 0.2, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9] * 20
    deployed = [0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0] * 20
    frame = pd.DataFrame({"lead_id": [str(i) for i in range(200)], "label": labels,
                          "grade": "A1", "score": challenger, "deployed_score": deployed})
    frame.to_parquet(tmp_path / "valid_scores.parquet", index=False)
    pd.DataFrame({"bin": [0, 1], "mean_predicted": [0.15, 0.9], "observed": [0.0, 0.67],
                  "n": [80, 120]}).to_csv(tmp_path / "calibration.csv", index=False)
    refit = _run(params={"deployed.refit": "True"}, metrics={"deployed.ece": 0.0})
    refit.artifacts = tmp_path
    model = model_section(refit, Figures(refit.run_id, refit.metrics))
    assert model["deployed_in_chart"] and ">deployed (refit)<" in model["calibration_chart"]
    # a version that was not refit is the challenger: one line, and the text says only that
    plain = _run(metrics={"ece": 0.05})
    plain.artifacts = tmp_path
    model = model_section(plain, Figures(plain.run_id, plain.metrics))
    assert not model["deployed_in_chart"] and "deployed" not in model["calibration_chart"]
    assert ">challenger<" in model["calibration_chart"]


def test_the_cohort_chart_is_titled_as_what_it_compares():
    check = store.CohortCheck("as predicted", 30, datetime(2026, 8, 1), datetime(2026, 9, 1),
                              355, 58, 0.181, -0.018, -0.053, 0.018, 0.34)
    chart = _cohort(check, Figures("r1", {}))["chart"]
    assert "before and after" not in chart
    assert "predicted vs observed" in chart and ">predicted by the scores<" in chart
    assert ">the same 355 leads<" in chart
    # its whiskers are the verdict's own interval, not a binomial one around the observation
    assert "95% range if the scores were right" in chart


def test_a_grade_inversion_or_a_matured_lead_is_counted_in_the_singular():
    from training.report_figures import plural

    assert plural("lead", 1) == "lead" and plural("lead", 2) == "leads"
    assert plural("lead", 0) == "leads" and plural("MQL", 1.04) == "MQL"
    ctx = _ctx(_run()) | {"grades": {"available": True, "inversions": [("A1", "B1")],
                                     "count": "1"}}
    said = [line for line in _text(ctx) if line.startswith("Grade inversion")][0]
    assert "(1 inversion in all)" in said
    check = store.CohortCheck("insufficient evidence", 30, datetime(2026, 8, 1),
                              datetime(2026, 9, 1), 1, 0)
    figs = Figures("r1", {})
    lines = _text(_ctx(_run(), cohort=_cohort(check, figs)) | {"figs": figs})
    assert any(line.endswith("(1 matured lead).") for line in lines)


def test_a_few_mqls_a_week_are_never_rounded_to_none():

    run = _run(metrics={"mqls_per_week": 0.4})
    figs = Figures(run.run_id, run.metrics)
    shown = TEXT.sub("", str(figs.show("mqls_per_week", weekly_format(run))))
    assert shown == "0.4"
    assert weekly_format(_run()) == "count"  # 260 a week stays 260
    # a whole number of MQLs a week reads as one: 6, not 6.0
    run = _run(metrics={"mqls_per_week": 6.0})
    figs = Figures(run.run_id, run.metrics)
    assert TEXT.sub("", str(figs.show("mqls_per_week", weekly_format(run)))) == "6"


def test_sla_hours_and_high_intent_activities_come_from_config():
    from training.report_figures import format_value

    assert format_value(24.0, "num") == "24" and format_value(0.5, "num") == "0.5"
    assert high_intent_words({"features": {"high_intent_activities": ["demo_request",
                                                                      "pricing_view"]}}) == \
        "a demo request or a pricing view"
    assert high_intent_words({"features": {"high_intent_activities": ["trial_signup"]}}) == \
        "a trial signup"
    assert "none is configured" in high_intent_words({"features": {}})


def test_the_strongest_signal_comparison_is_about_the_signal_not_the_shares():
    ctx = _ctx(_run())
    ctx["signals"] = {**ctx["signals"], "first_cycle": False, "top_previous": 1}
    said = [line for line in _text(ctx) if line.startswith("The strongest signal")][0]
    assert said == ("The strongest signal of a booked meeting is Title seniority (fit), as in the "
                    "previous cycle; fit explains 60% of the score and intent 40%.")


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


def test_a_group_with_no_weight_is_said_in_words_not_as_zero_percent():
    ctx = _ctx(_run())
    ctx["signals"] = {**ctx["signals"], "silent_group": "intent", "fit_share": "100.0%",
                      "intent_share": "0.0%"}
    said = [line for line in _text(ctx) if line.startswith("The strongest signal")][0]
    assert "0.0%" not in said and "100.0%" not in said
    assert said.endswith("; fit explains all of the score: no intent signal carried any weight.")
    # the chart's legend names only the groups it draws
    chart = importance_chart(pd.DataFrame({"label": ["Title"], "importance": [0.4],
                                           "group": ["fit"]}), "booked meeting")
    assert ">fit<" in chart and ">intent<" not in chart


def test_a_grade_part_every_lead_shares_is_said_to_separate_nothing():
    from training.report import flat_grade_parts

    no_activity = pd.Series(["A1", "B1", "C1", "D1", "A1"])
    assert flat_grade_parts(no_activity) == [
        "Every lead of the cohort has intent digit 1, so the intent digit separates nothing here."]
    assert flat_grade_parts(pd.Series(["A1", "B2"])) == []


def test_the_source_chart_draws_no_full_bar_for_a_source_of_one_lead():

    frame = _dispositioned([True, False] * 12, ["rejected_fit", "booked"] * 12)
    frame["source"] = ["webinar"] * 23 + ["bing"]
    section = dispositions_section(frame, Figures("r1", {}))
    assert ">webinar<" in section["source_chart"] and ">bing<" not in section["source_chart"]
    assert "at least 20 dispositioned leads" in section["source_chart_note"]
    assert [r["name"] for r in section["sources"]] == ["webinar", "bing"]  # the table has both


def test_no_grade_order_is_claimed_for_a_model_without_evidence():
    grades = {"available": True, "inversions": [], "count": "0", "compared": 3, "min_leads": 20}
    lines = _text(_ctx(_run()) | {"grades": grades})
    assert any(line.startswith("Grades are in order") for line in lines)
    gates = {"passed": False, "gates": [{"name": "evidence", "passed": False,
                                         "sentence": "Insufficient evidence: ..."}]}
    lines = _text(_ctx(_run(), gates=gates) | {"grades": grades})
    assert not any(line.startswith("Grade") for line in lines)


def test_grade_order_is_claimed_only_among_grades_large_enough_to_compare():
    # a drifted cohort: almost every lead in A2, six in C2 converting above it by chance
    table = pd.DataFrame({"grade": ["A2", "B2", "C2"], "leads": [1024, 166, 6],
                          "sqls": [298, 28, 2], "sql_rate": [298 / 1024, 28 / 166, 2 / 6]})
    grades = {"available": True, "inversions": store.grade_inversions(table), "count": "0",
              "compared": store.grades_compared(table), "min_leads": store.MIN_GRADE_LEADS}
    said = [line for line in _text(_ctx(_run()) | {"grades": grades})
            if line.startswith("Grade")]
    # "no better grade converted below a worse one" would be false: A2 and B2 convert below C2
    assert said == ["Grades are in order: no better grade converted clearly below a worse one "
                    "(2 grades with 20 or more leads compared)."]
    one = {**grades, "compared": 1}
    said = [line for line in _text(_ctx(_run()) | {"grades": one}) if line.startswith("Grade")]
    assert said == ["Grade order could not be checked: fewer than two grades hold 20 or more "
                    "leads of the cohort."]


def test_a_store_without_sources_is_not_said_to_have_one_source_called_unknown():

    frame = _dispositioned([True, False] * 3, ["rejected_fit", "booked"] * 3)
    section = dispositions_section(frame.assign(source="unknown"), Figures("r1", {}))
    assert section["source_why"] == "no dispositioned lead carries a source"


def test_a_model_measured_on_nothing_gets_no_column_of_n_a():
    # the champion learned from every week of the cohort: the review logs no figure for it
    metrics = {"roc_auc": 0.65, "champion.compared_weeks": 0.0, "baseline.logistic.roc_auc": 0.6}
    run = _run(params={"champion_version_before": "1"}, metrics=metrics)
    columns = model_section(run, Figures(run.run_id, run.metrics))["columns"]
    assert columns == ["challenger (this cycle)", "logistic baseline"]


def test_too_little_data_is_counted_in_the_outcome_s_own_name():
    from leadscore.errors import LeadscoreError
    from training.dataset import CycleData, split

    frame = pd.DataFrame({"cohort": ["2026-01-05"] * 30, "label": [1] * 3 + [0] * 27,
                          "scoreable_at": pd.Timestamp("2026-01-05")})
    with pytest.raises(LeadscoreError) as raised:
        split(CycleData(frame=frame, specs=[], attribute_roles={}), 1, positives="won deals")
    text = str(raised.value)
    assert "(3 won deals)" in text and "SQLs" not in text and "week(s)" not in text


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



def test_the_outcome_s_plural_follows_english_rules():
    from training.report_figures import plural_of, positive_plural

    assert positive_plural({"labels": {"positive_name": "opportunity"}}) == "opportunities"
    assert positive_plural({"labels": {"positive_name": "won deal"}}) == "won deals"
    assert plural_of("match") == "matches" and plural_of("renewal") == "renewals"
    assert plural_of("key") == "keys"


def test_the_recency_signal_is_named_by_the_configured_high_intent_activities():
    from training.explain import feature_title

    spec = {"name": "days_since_high_intent"}
    assert feature_title(spec) == "Days since the last demo request or pricing view"
    assert feature_title(spec, ("webinar_attended",)) == "Days since the last webinar attended"
    assert feature_title(spec, ()) == "Days since the last high-intent activity"


def test_the_opening_says_when_conversion_is_outside_the_band():
    run = _run(metrics={"conversion_at_threshold": 0.76})
    said = _text(_ctx(run, promoted=True) | {"band": (0.25, 0.5)})[0]
    assert said.startswith("The new model converts 76.0% of MQLs (above the band, 25%-50%)")
    run = _run(metrics={"conversion_at_threshold": 0.3})
    said = _text(_ctx(run, promoted=True) | {"band": (0.25, 0.5)})[0]
    assert said.startswith("The new model converts 30.0% of MQLs (band 25%-50%)")


def test_the_glossary_defines_only_terms_of_sections_on_the_page():
    base = {"positive": "won deal", "maturity": 30, "model": {"refit": False},
            "high_intent": "a demo request", "unmatured": None}
    bare = dict(base, dispositions={"available": False}, speed={"available": False})
    assert [term for term, _ in glossary(bare)] == ["MQL / conversion", "Validation cohort",
                                                    "Figures"]
    full = dict(base, dispositions={"available": True, "eoi_why": None},
                speed={"available": True})
    terms = dict(glossary(full))
    assert list(terms) == ["MQL / conversion", "Validation cohort", "Acceptance rate",
                           "Engaged but out of ICP", "Time to first touch", "Figures"]
    defined = terms["MQL / conversion"]
    assert "a won deal" in defined and "within 30 days" in defined
    assert "refit" not in terms["Validation cohort"]
    no_eoi = dict(full, dispositions={"available": True, "eoi_why": "no activity is recorded"})
    assert "Engaged but out of ICP" not in dict(glossary(no_eoi))


def test_the_glossary_says_the_deployed_version_trained_on_the_cohort_only_when_refit():
    ctx = {"positive": "booked meeting", "maturity": 30, "model": {"refit": True},
           "dispositions": {}, "speed": {}, "unmatured": "12", "unmatured_n": 12}
    cohort = dict(glossary(ctx))["Validation cohort"]
    assert "refit on every matured week" in cohort
    assert "12 newer leads are inside their maturity window" in cohort


def test_conversion_up_from_the_last_cycle_says_the_cohort_itself_moved():
    # drift: the cohort's own conversion rose from 30.8% to 40.7%; the MQLs' from 34.6% to 46.0%
    previous = CycleRun("r0", "2010-W14", datetime(2010, 4, 5), {},
                        {"conversion_at_threshold": 0.346, "base_rate": 0.308}, {})
    run = _run(metrics={"conversion_at_threshold": 0.46, "base_rate": 0.407})
    ctx = _ctx(run, promoted=True) | {"previous": previous}
    said = [line for line in _text(ctx) if line.startswith("The new model converts")][0]
    assert ("up from 34.6% in cycle 2010-W14 (all leads of its cohort converted at 40.7%, "
            "against 30.8% then); it was promoted to champion.") in said
    # an older run without the figure keeps the plain comparison
    previous.metrics.pop("base_rate")
    said = [line for line in _text(ctx) if line.startswith("The new model converts")][0]
    assert "up from 34.6% in cycle 2010-W14; it was promoted" in said


def test_after_a_rollback_or_a_hand_promotion_the_report_says_what_scores_now():
    # cycle 7 promoted v7, then `leadscore rollback` put v6 back: the API serves v6
    run = _run(tags={"model_version": "7"})
    gates = {"passed": True, "gates": [{"name": "band", "passed": True, "sentence": "ok"}]}
    lines = _text(_ctx(run, promoted=True, gates=gates, champion=7) | {"champion_now": 6})
    assert ("Since this review the champion has moved from v7 to v6 (a later review, `leadscore "
            "promote` or `leadscore rollback`): v6 scores leads now.") in lines
    assert not any(line.startswith("Expect about") for line in lines)  # v7's threshold is idle
    # cycle 1 promoted nothing, then `leadscore promote 1` made its version champion by hand
    run = _run(tags={"model_version": "1"})
    lines = _text(_ctx(run, promoted=False, champion=None) | {"champion_now": 1})
    assert not any("nothing scores leads" in line for line in lines)
    assert "Since this review the champion has moved from none to v1" in " ".join(lines)
    assert any(line.startswith("Its threshold") is False and line.startswith("Expect about")
               for line in lines)
    # nothing moved: the review's own words
    lines = _text(_ctx(run, promoted=False, champion=None) | {"champion_now": None})
    assert any("nothing scores leads until a version is promoted" in line for line in lines)
    assert not any(line.startswith("Since this review") for line in lines)


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
    assert none["why"] == ("the store holds no disposition at all (the export carries no rep "
                           "verdicts), so there is nothing to break down")
    later = dispositions_section(empty, Figures("r1", {}), store_dispositions=12)
    assert later["why"] == "no lead in this cycle's data window has a disposition yet"


def test_the_directions_are_said_to_be_read_over_every_matured_lead():
    # "read over the matured leads the model learned from (all of them ...)": the impacts are the
    # judged model's, which never learned from the validation cohort, and with cycle.refit: false
    # neither did the deployed one; the directions are read over every matured lead
    from pathlib import Path

    import training

    template = (Path(training.__file__).parent / "templates" / "report.html.j2").read_text()
    assert "the model learned from (all of them" not in template
    assert "read over every matured lead, the validation cohort's included" in template
