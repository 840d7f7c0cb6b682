"""The report's sections say only what their data shows: model, grades, signals, the opening and
the glossary, each on tiny inline data (sales sections: test_report_sales_truth.py; the
item-by-item truth rules: test_report_truth.py)."""

from __future__ import annotations

import html
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
from training.report_model import model_section, weekly_format
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


def test_the_directions_are_said_to_be_read_over_every_matured_lead():
    # "read over the matured leads the model learned from (all of them ...)": the impacts are the
    # judged model's, which never learned from the validation cohort, and with cycle.refit: false
    # neither did the deployed one; the directions are read over every matured lead
    from pathlib import Path

    import training

    template = (Path(training.__file__).parent / "templates" / "report.html.j2").read_text()
    assert "the model learned from (all of them" not in template
    assert "read over every matured lead, the validation cohort's included" in template


def test_a_tiny_p_value_reads_as_under_a_thousandth_not_as_zero():
    from training.report import render
    from training.report_figures import format_value, parse_value, tolerance

    # a gap of 7 pp on 371 leads: p = 3e-6, which three decimals show as "p = 0.000"
    assert format_value(3e-6, "p") == "p < 0.001"
    assert format_value(0.0432, "p") == "p = 0.043"
    for value, text in ((3e-6, "p < 0.001"), (0.0432, "p = 0.043"), (0.0005, "p < 0.001")):
        assert abs(parse_value(text, "p") - value) <= tolerance("p")
    check = store.CohortCheck("above prediction", 30, datetime(2026, 8, 8),
                              datetime(2026, 9, 3), 371, 119, 0.249, 0.072, 0.032, 0.113,
                              3e-6)
    figs = Figures("r1", {})
    cohort = _cohort(check, figs)
    assert html.unescape(TEXT.sub("", str(cohort["p_value"]))) == "p < 0.001"
    assert figs.new["report.cohort.p_value"] == pytest.approx(3e-6)
    template = (render.__globals__["__file__"].rsplit("/", 1)[0]
                + "/templates/report.html.j2")
    assert "p = {{ cohort.p_value }}" not in open(template).read()


def test_a_grade_with_no_lead_of_the_cohort_says_so_rather_than_n_a():
    from training.report_grades import grade_rows

    # an export without activity: every lead has intent digit 2, so 12 of 16 grades are empty
    scored = pd.DataFrame({"grade": ["A2"] * 3 + ["B2"] * 2, "label": [1, 0, 1, 0, 0]})
    rows = grade_rows(store.grade_table(scored), Figures("r1", {}))
    shown = {r["grade"]: (TEXT.sub("", str(r["leads"])), TEXT.sub("", str(r["rate"])))
             for r in rows}
    assert shown["A2"] == ("3", "66.7%") and shown["B2"] == ("2", "0.0%")
    assert shown["A1"] == ("0", "no leads")
    assert not any(rate == "n/a" for _, rate in shown.values())
