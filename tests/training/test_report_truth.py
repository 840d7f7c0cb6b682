"""Every sentence of the report is true by construction: one test per rule, on tiny inline data.

Each test builds the smallest context the sentence reads and checks that the false version cannot
be written: no champion sentence without a champion, no credit for drift, no zero-impact signal,
no empty section, the outcome's own name, numbers as people read them, and the insufficient
evidence headline first.
"""

from __future__ import annotations

import html
import re
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from training import report_duckdb as store
from training.charts import importance_chart
from training.report import _cohort, listed_signals, omitted, positive_name
from training.report_figures import Figures, a_or_an
from training.report_glossary import glossary
from training.report_mlflow import CycleRun, champion_after
from training.report_model import conversion_section, model_section, weekly_format
from training.report_opening import summary
from training.report_sales import dispositions_section, high_intent_words

TEXT = re.compile(r"<[^>]+>")


def _run(tags=None, params=None, metrics=None) -> CycleRun:
    metrics = {"conversion_at_threshold": 0.3, "mqls_per_week": 260.0, "threshold": 0.21,
               **(metrics or {})}
    return CycleRun("r1", "2026-W44", datetime(2026, 11, 1), params or {}, metrics, tags or {})


def _ctx(run: CycleRun, *, promoted=False, gates=None, champion=None, cohort=None,
         positive="booked meeting") -> dict:
    figs = Figures(run.run_id, run.metrics)
    gates = gates or {"passed": False, "gates": [
        {"name": "band", "passed": False, "sentence": "No threshold meets the band."}]}
    return {
        "figs": figs, "run": run, "previous": None, "promoted": promoted,
        "champion_after": champion, "positive": positive,
        "threshold": {"conversion_at_threshold": figs.show("conversion_at_threshold", "pct"),
                      "mqls_per_week": figs.show("mqls_per_week", "count"),
                      "threshold": figs.show("threshold", "ratio")},
        "conversion": {"band_min": "25%", "band_max": "50%"},
        "model": {"gates": gates},
        "signals": {"available": True, "first_cycle": True,
                    "rows": [{"label": "Title seniority", "group": "fit"}],
                    "fit_share": "60%", "intent_share": "40%", "top_previous": None},
        "dispositions": {"available": False}, "speed": {"available": False},
        "grades": {"available": False},
        "cohort": cohort or {"verdict": "first cycle"},
    }


def _text(ctx) -> list[str]:
    return [html.unescape(TEXT.sub("", str(line))) for line in summary(ctx)]


def test_no_champion_sentence_without_a_champion():
    run = _run(tags={"model_version": "3", "promoted": "false"},
               params={"champion_version_before": "none"})
    assert champion_after(run) is None
    lines = _text(_ctx(run, champion=champion_after(run)))
    assert not any("champion keeps" in line or "champion v" in line for line in lines)
    assert any("there is no champion" in line and "`leadscore promote 3`" in line
               for line in lines)
    # with a champion the sentence names it
    run = _run(tags={"model_version": "3", "promoted": "false"},
               params={"champion_version_before": "2"})
    lines = _text(_ctx(run, champion=champion_after(run)))
    assert any("so champion v2 keeps scoring" in line for line in lines)


def test_cohort_check_compares_with_what_the_scores_predicted_so_drift_is_not_credited():
    rng = np.random.default_rng(0)
    # the base rate moved: leads convert at ~30 % while the scores said ~15 %
    predicted = np.full(400, 0.15)
    labels = (rng.random(400) < 0.30).astype(int)
    diff, low, high, _ = store.observed_vs_predicted(labels, predicted)
    assert low > 0 and diff == pytest.approx(labels.mean() - 0.15)
    # scores that were right give "as predicted", however much conversion rose since before
    diff, low, high, _ = store.observed_vs_predicted(labels, np.full(400, labels.mean()))
    assert low < 0 < high
    check = store.CohortCheck("above prediction", 30, datetime(2026, 10, 1),
                              datetime(2026, 10, 15), 400, int(labels.sum()), 0.15,
                              labels.mean() - 0.15, 0.1, 0.2, 0.0)
    run = _run()
    figs = Figures(run.run_id, run.metrics)
    lines = _text(_ctx(run, cohort=_cohort(check, figs)) | {"figs": figs})
    said = [line for line in lines if line.startswith("Leads scored since the last review")][0]
    assert "above what their scores predicted" in said and "not the model's doing" in said
    assert "helped" not in " ".join(lines)


def test_cohort_without_a_serving_model_says_nothing_about_it():
    lines = _text(_ctx(_run(), cohort={"verdict": "no model", "check": store.CohortCheck(
        "no model")}))
    assert not any("Leads scored since" in line for line in lines)


def test_signals_with_near_zero_importance_are_not_listed():
    table = pd.DataFrame({"feature": list("abcd"), "importance": [0.6, 0.39, 0.01, 0.0],
                          "rank": [1, 2, 3, 4]})
    assert list(listed_signals(table)["feature"]) == ["a", "b", "c"]
    assert list(listed_signals(table, min_share=0.02)["feature"]) == ["a", "b"]
    assert listed_signals(table.assign(importance=0.0)).empty


def test_a_section_without_data_is_left_out_with_one_line_saying_why():
    ctx = {"signals": {"available": True},
           "dispositions": {"available": False, "why": "no lead has a disposition yet"},
           "speed": {"available": False, "why": "no disposition records a first touch"}}
    out = omitted(ctx)
    assert set(out) == {"dispositions", "speed"}
    assert out["speed"] == "Speed to lead left out: no disposition records a first touch."


def test_the_outcome_is_named_from_config():
    assert positive_name({"labels": {"positive_name": "won deal"}}) == "won deal"
    assert positive_name({"labels": {}}) == "booked meeting"
    lines = _text(_ctx(_run(), positive="subscription"))
    assert any("The strongest signal of a subscription is" in line for line in lines)
    assert not any("booked meeting" in line for line in lines)


def test_numbers_read_as_people_read_them():
    lines = _text(_ctx(_run(), promoted=True))
    volume = [line for line in lines if line.startswith("Expect about")][0]
    assert volume == "Expect about 260 MQLs a week at threshold 0.210."


def test_no_mqls_are_expected_from_a_threshold_that_was_not_promoted():
    lines = _text(_ctx(_run(), promoted=False))
    assert not any(line.startswith("Expect about") for line in lines)
    assert "Its threshold 0.210 (about 260 MQLs a week on the validation cohort) is not in use." \
        in lines


def test_insufficient_evidence_leads_the_report():
    sentence = ("Insufficient evidence: the model does not rank leads better than chance beyond "
                "noise (its ROC-AUC 95% interval 0.480-0.560 includes 0.5 (chance)), so nothing "
                "is promoted.")
    gates = {"passed": False, "gates": [{"name": "evidence", "passed": False,
                                         "sentence": sentence}]}
    lines = _text(_ctx(_run(), gates=gates))
    assert lines[0] == sentence


def test_no_strongest_signal_is_named_without_evidence():
    gates = {"passed": False, "gates": [{"name": "evidence", "passed": False,
                                         "sentence": "Insufficient evidence: ..."}]}
    lines = _text(_ctx(_run(), gates=gates))
    assert not any("strongest signal" in line for line in lines)


def test_the_command_line_summary_lists_no_zero_impact_signal():
    from training.review import listed

    table = pd.DataFrame({"feature": list("abc"), "label": list("abc"), "group": ["fit"] * 3,
                          "mean_abs_shap": [0.5, 0.2, 0.0], "direction": ["up"] * 3})
    assert list(listed(table)["feature"]) == ["a", "b"]


def _dispositioned(engaged: list[bool], verdicts: list[str]) -> pd.DataFrame:
    n = len(engaged)
    return pd.DataFrame({
        "source": ["webinar", "event"] * (n // 2) + ["webinar"] * (n % 2),
        "campaign": ["(none)"] * n, "engaged": engaged, "verdict": verdicts,
        "accepted": [v in ("booked", "accepted") for v in verdicts],
        "reason_code": ["wrong_title" if v == "rejected_fit" else "meeting_booked"
                        for v in verdicts],
    })


def test_engaged_but_out_of_icp_is_left_out_where_the_data_cannot_show_it():

    # an export with no activity: every lead reads as unengaged, so the share would be 0% everywhere
    quiet = _dispositioned([False] * 6, ["rejected_fit", "booked"] * 3)
    section = dispositions_section(quiet, Figures("r1", {}))
    assert "engagement" in section["eoi_why"] and section["worst_campaign"] is None
    # no fit rejection at all: the same false "0%"
    no_fit = _dispositioned([True] * 6, ["rejected_intent", "booked"] * 3)
    assert "rejected for fit" in dispositions_section(no_fit, Figures("r1", {}))["eoi_why"]
    # both present: the column is shown (no reason to leave it out)
    both = _dispositioned([True, False] * 3, ["rejected_fit", "booked"] * 3)
    assert dispositions_section(both, Figures("r1", {}))["eoi_why"] is None


def test_a_campaign_is_flagged_out_of_icp_only_on_enough_leads():
    # 4 engaged fit rejections in a campaign of 200 (2% against 1% overall) are noise: no advice
    n, overall = 200, 1000
    engaged = [i < 4 for i in range(n)] + [i < 6 for i in range(overall - n)]
    verdicts = ["rejected_fit" if e else "booked" for e in engaged]
    frame = _dispositioned(engaged, verdicts).assign(campaign=["SaaStr"] * n
                                                     + ["Other"] * (overall - n))
    assert dispositions_section(frame, Figures("r1", {}))["worst_campaign"] is None
    # 12 of them (6%) are enough to act on
    engaged = [i < 12 for i in range(n)] + [i < 6 for i in range(overall - n)]
    verdicts = ["rejected_fit" if e else "booked" for e in engaged]
    frame = _dispositioned(engaged, verdicts).assign(campaign=["SaaStr"] * n
                                                     + ["Other"] * (overall - n))
    assert dispositions_section(frame, Figures("r1", {}))["worst_campaign"]["campaign"] == "SaaStr"


def _console_summary(evidence_passed: bool, labels: dict | None = None):
    from training.review_console import ReviewSummary

    cohort = {"train_first_cohort": "2026-01-05", "train_last_cohort": "2026-08-03",
              "calib_first_cohort": "2026-08-10", "calib_last_cohort": "2026-08-31",
              "valid_first_cohort": "2026-09-07", "valid_last_cohort": "2026-09-28",
              "train_leads": 900, "calib_leads": 100, "valid_leads": 100, "valid_positives": 60}
    sentence = ("The model ranks better than chance beyond noise." if evidence_passed else
                "Insufficient evidence: the model does not rank leads better than chance.")
    return ReviewSummary(
        cycle="2026-W44", as_of=datetime(2026, 11, 1), run_id="r1" * 8, labels=labels or {},
        split=cohort,
        threshold={"band_min": 0.25, "band_max": 0.5, "feasible": False, "message": "None."},
        models={"challenger": {"roc_auc": 0.51}},
        signals=[{"label": "Product", "group": "fit", "direction": "GTX Pro raises it most"}],
        group_shares={"fit": 1.0},
        gates={"passed": evidence_passed,
               "gates": [{"name": "evidence", "passed": evidence_passed, "sentence": sentence}]},
        version=1, champion_before=None, champion_after=None, promote=True)


def test_the_command_line_summary_names_no_signal_without_evidence():
    assert "1. Product (fit)" in str(_console_summary(evidence_passed=True))
    text = str(_console_summary(evidence_passed=False))
    assert text.splitlines()[1].startswith("Insufficient evidence")
    assert "Product" not in text and "Top signals: none named" in text


def test_no_signal_is_called_predictive_when_the_evidence_gate_failed():
    from training.report import no_evidence

    failed = {"gates": {"passed": False, "gates": [{"name": "evidence", "passed": False}]}}
    passed = {"gates": {"passed": True, "gates": [{"name": "evidence", "passed": True}]}}
    assert no_evidence(failed) and not no_evidence(passed)
    assert not no_evidence({"gates": None})  # an older run without gates.json


def test_a_cohort_window_that_has_not_opened_is_never_printed_backwards():
    # a review a week after the previous one: nothing scored since has had its 30 days yet
    check = store.CohortCheck("insufficient evidence", 30, datetime(2026, 11, 1),
                              datetime(2026, 10, 9))
    out = _cohort(check, Figures("r1", {}))
    assert out["first_matures"] == "2026-12-01" and out["chart"] is None
    opened = store.CohortCheck("insufficient evidence", 30, datetime(2026, 10, 1),
                               datetime(2026, 10, 9))
    assert _cohort(opened, Figures("r1", {}))["first_matures"] is None


def test_the_signal_chart_and_sentences_name_the_configured_outcome():
    # a config's positive_name reaches the chart's title, with the article it takes
    table = pd.DataFrame({"label": ["Visits"], "importance": [0.4], "group": ["intent"]})
    chart = importance_chart(table, "enrolment")
    assert "Which signals predicted an enrolment" in chart and "booked meeting" not in chart
    assert a_or_an("enrolment") == "an enrolment" and a_or_an("won deal") == "a won deal"
    assert a_or_an("user signup") == "a user signup" and a_or_an("upgrade") == "an upgrade"
    assert a_or_an("unit sale") == "a unit sale" and a_or_an("order") == "an order"
    lines = _text(_ctx(_run(), positive="order"))
    assert any("The strongest signal of an order is" in line for line in lines)


def test_the_data_line_counts_every_lead_not_learned_from():
    # Maven-like: open deals carry an excluded code, and decided deals inside the window wait
    labels = {"assembled_leads": 5330, "assembled_positives": 2999, "assembled_cohorts": 48,
              "unmatured_open_leads": 0, "unmatured_decided_leads": 1381,
              "unmatured_cohorts": 15, "excluded": {"still_open": 2089}}
    data = str(_console_summary(True, labels)).splitlines()[1]
    assert data.startswith("Data: 5,330 matured labelled leads (2,999 SQLs) in 48 weekly")
    summary = _console_summary(True, labels)
    summary.positives = "won deals"  # labels.positive_name, as run_review sets it
    assert str(summary).splitlines()[1].startswith(
        "Data: 5,330 matured labelled leads (2,999 won deals) in 48 weekly")
    assert ("not learned from: 1,381 leads inside their maturity window (1,381 decided, 0 open) "
            "in 15 weekly cohorts, and 2,089 the label policy excludes.") in data


def test_the_leads_not_yet_counted_include_those_decided_inside_their_window():
    from training.report import _unmatured

    figs = Figures("r1", {"labels.unmatured_open_leads": 0.0,
                          "labels.unmatured_decided_leads": 1381.0})
    assert TEXT.sub("", str(_unmatured({}, figs))) == "1,381"
    none = Figures("r1", {"labels.unmatured_open_leads": 0.0})
    assert _unmatured({}, none) is None  # "0 newer leads" is never said


def test_the_champion_column_says_when_it_covers_only_the_weeks_it_never_learned_from():
    metrics = {"roc_auc": 0.9, "champion.roc_auc": 0.91, "champion.pr_auc": 0.88,
               "baseline.logistic.roc_auc": 0.85}
    run = _run(metrics=metrics)
    assert model_section(run, Figures(run.run_id, run.metrics))["columns"][1] == "champion"
    run = _run(metrics={**metrics, "champion.compared_weeks": 4.0,
                        "champion.compared_leads": 556.0})
    columns = model_section(run, Figures(run.run_id, run.metrics))["columns"]
    assert columns[1] == "champion (only the 4 weeks it never learned from)"
    assert columns[2] == "logistic baseline"


def test_the_command_line_table_says_when_the_champion_covers_fewer_weeks():
    summary = _console_summary(evidence_passed=True)
    assert "Same validation cohort, every model" in str(summary)
    assert "every model (" not in str(summary)  # no champion: nothing to qualify
    summary.models["champion v1"] = {"roc_auc": 0.6, "compared_weeks": 4.0}
    assert ("Same validation cohort, every model (the champion v1: only the 4 weeks it never "
            "learned from)") in " ".join(str(summary).split())


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


def test_the_data_line_names_only_the_kinds_of_leads_not_learned_from():
    # X Education: every lead matured; 156 excluded by the policy
    labels = {"assembled_leads": 9084, "assembled_positives": 3563, "assembled_cohorts": 53,
              "unmatured_open_leads": 0, "unmatured_decided_leads": 0, "unmatured_cohorts": 0,
              "excluded": {"junk_contact": 156}}
    data = str(_console_summary(True, labels)).splitlines()[1]
    assert "0 leads" not in data and "0 weekly cohorts" not in data
    assert data.startswith("Data: 9,084 matured labelled leads (3,563 SQLs) in 53 weekly "
                           "cohorts; not learned from: 156 the label policy excludes.")
    labels.update(excluded={})
    assert "not learned from" not in str(_console_summary(True, labels)).splitlines()[1]


def test_the_console_never_rounds_a_few_mqls_a_week_to_none():
    from training.review_console import weekly

    assert weekly(0.4) == "0.4" and weekly(6.8) == "6.8" and weekly(82.4) == "82"
    assert weekly(6.0) == "6" and weekly(5.98) == "6"  # not "6.0"
    summary = _console_summary(True)
    summary.models["challenger"]["mqls_per_week"] = 0.4
    row = [line for line in str(summary).splitlines() if line.startswith("MQLs per week")][0]
    assert row.split()[-1] == "0.4"


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


def test_the_outcome_line_tells_the_review_in_the_past_once_the_champion_moved():
    from training.report_opening import outcome

    run = _run(tags={"model_version": "1"})
    # nothing moved since the review: what it left holds now
    assert outcome(_ctx(run, promoted=False, champion=None) | {"champion_now": None}) == \
        "Outcome: not promoted, and there is no champion yet."
    # `leadscore promote 1` since: "there is no champion yet" would contradict "v1 scores leads"
    line = outcome(_ctx(run, promoted=False, champion=None) | {"champion_now": 1})
    assert line == ("Outcome: not promoted, and there was no champion then. Since this review "
                    "the champion has moved: v1 scores leads now.")
    line = outcome(_ctx(run, promoted=False, champion=3) | {"champion_now": 4})
    assert line.startswith("Outcome: not promoted; champion v3 stayed. Since this review")
    assert outcome(_ctx(run, promoted=False, champion=3) | {"champion_now": 3}) == \
        "Outcome: not promoted; champion v3 stays."
