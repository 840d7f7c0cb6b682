"""Every sentence of the report is true by construction: one test per rule, on tiny inline data.

Each test builds the smallest context the sentence reads and checks that the false version cannot
be written: no champion sentence without a champion, no credit for drift, no zero-impact signal,
no empty section, the outcome's own name, numbers as people read them, and the insufficient
evidence headline first.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from tests.training.report_context import TEXT, _ctx, _dispositioned, _run, _text
from training import report_duckdb as store
from training.charts import importance_chart
from training.report import _cohort, listed_signals, omitted, positive_name
from training.report_figures import Figures, a_or_an, positive_plural
from training.report_mlflow import champion_after
from training.report_model import model_section
from training.report_sales import dispositions_section


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


def test_the_failed_gates_are_counted_in_the_plural_they_need():
    run = _run(tags={"model_version": "3", "promoted": "false"})
    two = {"passed": False, "gates": [{"name": "evidence", "passed": False, "sentence": ""},
                                      {"name": "band", "passed": False, "sentence": ""}]}
    assert any("(failed gates: evidence, band)" in line
               for line in _text(_ctx(run, gates=two, champion=champion_after(run))))
    one = {"passed": False, "gates": [{"name": "band", "passed": False, "sentence": ""}]}
    assert any("(failed gate: band)" in line
               for line in _text(_ctx(run, gates=one, champion=champion_after(run))))


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


def test_an_unnamed_outcome_is_named_from_the_verdicts_that_made_leads_positive():
    # Salesforce's "Closed - Converted" and Pipedrive's won deals were reported as "booked
    # meetings": the name defaulted to the demo's, whatever decided the positives
    def named(codes, **labels):
        return positive_name({"labels": labels}, {"positive_codes": codes})

    assert named({"closed_won": 1805}) == "won deal"
    assert named({"meeting_booked": 40}) == "booked meeting"
    assert named({"converted": 3}) == "converted lead"
    # stages past SQL, none a booked meeting: what they share is that each lead reached SQL
    assert named({"sql": 10, "opportunity": 4, "closed_won": 2}) == "sales-qualified lead"
    assert named({"sql": 10}) == "sales-qualified lead"
    # a booked meeting among them: the product's word for an SQL, as before
    assert named({"meeting_booked": 2970, "sql": 278}) == "booked meeting"
    assert named({"closed_won": 5}, positive_name="paid enrolment") == "paid enrolment"
    assert named({}) == "booked meeting"
    assert positive_plural({"labels": {}}, {"positive_codes": {"closed_won": 2}}) == "won deals"


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


def test_the_registry_line_counts_failed_gates_in_the_plural_they_need():
    one = _console_summary(evidence_passed=False)
    assert one.registry_sentence().endswith("champion stays (none) (failed gate: evidence).")
    one.gates["gates"].append({"name": "band", "passed": False, "sentence": "No threshold."})
    assert one.registry_sentence().endswith("(failed gates: evidence, band).")


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
            "in 15 weekly cohorts, and 2,089 the label policy excludes (still_open: 2,089).") \
        in data


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


def data_line(labels) -> str:
    return str(_console_summary(True, labels)).splitlines()[1]


def test_the_data_line_names_only_the_kinds_of_leads_not_learned_from():
    # X Education: every lead matured; 156 excluded by the policy
    labels = {"assembled_leads": 9084, "assembled_positives": 3563, "assembled_cohorts": 53,
              "unmatured_open_leads": 0, "unmatured_decided_leads": 0, "unmatured_cohorts": 0,
              "excluded": {"junk_contact": 156}}
    data = str(_console_summary(True, labels)).splitlines()[1]
    assert "0 leads" not in data and "0 weekly cohorts" not in data
    assert data.startswith("Data: 9,084 matured labelled leads (3,563 SQLs) in 53 weekly "
                           "cohorts; not learned from: 156 the label policy excludes "
                           "(junk_contact: 156).")
    # why, by deciding code, largest first; a conversion before scoring is said in words
    labels.update(excluded={"junk_contact": 6, "converted_before_scoreable": 300, "a": 1,
                            "b": 1, "duplicate": 2})
    assert (
        "not learned from: 310 the label policy excludes (converted before becoming scoreable: "
        "300, junk_contact: 6, duplicate: 2, and 2 with 2 other codes).") in data_line(labels)
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


def test_a_band_changed_since_the_previous_cycle_is_said():
    # cycle b1 reviewed at 25%-50%, b2 at 30%-60%: the report read "The new model converts 37.8%
    # of MQLs (band 30.0% - 60.0%), up from 30.5% in cycle b1" and the console said nothing, as
    # if both thresholds had answered the same target
    from mlflow.entities import Param, Run, RunData, RunInfo, RunTag

    from training.review import band_note

    previous = _run(params={"band_min": "0.25", "band_max": "0.5"},
                    metrics={"conversion_at_threshold": 0.305})
    previous.cycle, previous.run_id = "b1", "r0"
    run = _run(params={"band_min": "0.3", "band_max": "0.6"},
               metrics={"conversion_at_threshold": 0.378})
    ctx = _ctx(run, promoted=True)
    ctx.update(previous=previous, band=(0.3, 0.6))
    line = _text(ctx)[0]
    assert ("up from 30.5% in cycle b1 (cycle b1's threshold was set against the 25%-50% band, "
            "not this one); it was promoted") in line, line
    previous.metrics["base_rate"], run.metrics["base_rate"] = 0.20, 0.22
    ctx = _ctx(run, promoted=True)
    ctx.update(previous=previous, band=(0.3, 0.6))
    line = _text(ctx)[0]
    assert ("in cycle b1 (all leads of its cohort converted at 22.0%, against 20.0% then; "
            "cycle b1's threshold was set against the 25%-50% band, not this one)") in line, line
    ctx["band"] = (0.25, 0.5)  # the same band: nothing to add
    assert "band, not this one" not in _text(ctx)[0]

    info = RunInfo(run_id="r0", experiment_id="1", user_id="", status="FINISHED", start_time=0,
                   end_time=1, lifecycle_stage="active")
    last = Run(info, RunData(params=[Param("band_min", "0.25"), Param("band_max", "0.5")],
                             tags=[RunTag("cycle", "b1"), RunTag("as_of", "2026-07-01")]))
    note = band_note([last], datetime(2026, 8, 1), {"min": 0.3, "max": 0.6})
    assert note == ("The agreed band changed since the last review (cycle b1, as of 2026-07-01): "
                    "25%-50% then, 30%-60% now (cycle.band), so the two reviews' thresholds and "
                    "conversions answer different targets.")
    assert band_note([last], datetime(2026, 8, 1), {"min": 0.25, "max": 0.5}) is None
    assert band_note([last], datetime(2026, 6, 1), {"min": 0.3, "max": 0.6}) is None  # after it


def test_a_review_run_with_no_promote_says_why_its_challenger_was_not_promoted():
    # review --no-promote with every gate passed: the report read "it was not promoted, so
    # champion v1 keeps scoring", with no reason, as if something had stopped it
    run = _run(tags={"promote_requested": "false"}, metrics={"conversion_at_threshold": 0.29})
    passed = {"passed": True, "gates": [{"name": "band", "passed": True, "sentence": "Met."}]}
    line = _text(_ctx(run, promoted=False, gates=passed, champion=1))[0]
    assert "it was not promoted (the review ran with --no-promote), so champion v1 keeps " \
        "scoring" in line, line
    failed = _text(_ctx(_run(tags={"promote_requested": "false"},
                             metrics={"conversion_at_threshold": 0.29}), champion=1))[0]
    assert "(failed gate: band)" in failed and "--no-promote" not in failed
    from training.report_opening import outcome
    ctx = _ctx(run, promoted=False, gates=passed, champion=1)
    ctx["champion_now"] = 1
    assert outcome(ctx) == "Outcome: not promoted (the review ran with --no-promote); champion " \
        "v1 stays."


def test_the_command_line_says_a_group_with_no_weight_in_words_as_the_report_does():
    # an export without activity: the report says "fit explains all of the score: no intent
    # signal carried any weight"; the console printed "share of the score: fit 100%, intent 0%"
    summary = _console_summary(evidence_passed=True)
    summary.group_shares = {"fit": 1.0, "intent": 0.0}
    text = str(summary)
    assert "intent 0%" not in text
    assert ("Top signals (fit explains all of the score: no intent signal carried any weight):"
            in text)
    # a share that is not zero never rounds to "0%" either
    summary.group_shares = {"fit": 0.996, "intent": 0.004}
    text = str(summary)
    assert "Top signals (share of the score: fit over 99%, intent under 1%):" in text
    summary.group_shares = {"fit": 0.63, "intent": 0.37}
    assert "Top signals (share of the score: fit 63%, intent 37%):" in str(summary)
