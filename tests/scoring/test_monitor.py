"""The monitor's figures on tiny inline data: intervals, drift, the SLA, small samples, limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pandas as pd
import pytest

from leadscore.config import default_config, load_config
from leadscore.errors import LeadscoreError
from scoring.drift import feature_bins
from scoring.monitor import (
    CHECKS,
    EXIT_CROSSED,
    EXIT_OK,
    monitor,
    wilson,
)
from scoring.monitor_text import monitor_line, monitor_text
from tests.scoring.monitor_inputs import SINCE, inputs_of, profile_of, verdicts_end


def test_wilson_interval_matches_the_textbook_values():
    lo, hi = wilson(5, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.2366, 0.7634)
    assert wilson(0, 10)[0] == pytest.approx(0.0, abs=1e-12)
    assert round(wilson(0, 10)[1], 4) == 0.2775


def test_conversion_below_the_band_crosses_the_limit_and_recommends_an_early_review():
    result = monitor(inputs_of(60, 3), default_config())
    conversion = result.figures["conversion"]
    assert conversion["status"] == "crossed" and conversion["decided"] == 60
    assert conversion["ci_high"] < 0.25
    assert result.exit_code == EXIT_CROSSED and "conversion" in result.crossed
    assert result.recommendation.startswith("Review early")
    assert "below the agreed band of 25%-50%" in result.recommendation


def test_conversion_inside_the_band_is_not_flagged():
    result = monitor(inputs_of(60, 22), default_config())
    assert result.figures["conversion"]["status"] == "ok"
    assert "conversion" not in result.crossed


def test_few_decided_mqls_are_too_few_to_judge_never_a_flag():
    result = monitor(inputs_of(8, 0), default_config())
    conversion = result.figures["conversion"]
    assert conversion["status"] == "too_few"
    assert conversion["why"].startswith("too few decided MQLs to judge")
    # young MQLs (inside their maturity window) are not decided, whatever their early verdicts
    young = monitor(inputs_of(60, 0, now=SINCE + timedelta(days=10)), default_config())
    assert young.figures["conversion"]["decided"] == 0
    assert young.figures["conversion"]["status"] == "too_few"


def test_overdue_lists_hold_the_mqls_past_their_sla_and_nothing_else():
    t0 = [SINCE + timedelta(hours=i) for i in range(30)]
    touches = [t + timedelta(minutes=5) for t in t0]
    touches[0] = t0[0] + timedelta(hours=2)   # high intent (1 h SLA): missed
    touches[1] = t0[1] + timedelta(hours=2)   # other (24 h SLA): met
    touches[2] = t0[2] + timedelta(hours=30)  # other: missed
    inputs = inputs_of(30, 10, touches=touches)
    inputs.dispositions.loc[3, "dispositioned_at"] = t0[3] + timedelta(hours=50)
    inputs.dispositions.loc[2, "dispositioned_at"] = t0[2] + timedelta(hours=31)
    sla = monitor(inputs, default_config()).figures["sla"]
    assert sla["overdue"]["first_touch"] == ["L000", "L002"]
    assert sla["overdue"]["disposition"] == ["L003"]
    assert sla["first_touch_due"] == 30 and sla["status"] == "ok"


def test_volume_against_the_forecast():
    config = default_config()
    low = monitor(inputs_of(60, 22, manifest={"deployed_metrics": {"mqls_per_week": 200.0}}),
                  config)
    assert low.figures["volume"]["status"] == "crossed"
    # a count a week as people read it: 200, not 200.0
    assert "against the forecast of 200" in low.recommendation
    assert "200.0" not in low.recommendation
    none = monitor(inputs_of(60, 22, manifest={}), config).figures["volume"]
    assert none["status"] == "no_data" and "no MQL forecast" in none["why"]


def test_nothing_served_is_no_data_and_exit_zero():
    inputs = inputs_of(0, 0)
    result = monitor(inputs, default_config())
    assert result.exit_code == EXIT_OK and result.crossed == []
    assert monitor_line(result) == (
        "Monitor since the review on 2026-09-01 (0 scores served to 0 leads, 0 MQLs): no limit "
        "crossed; too little data yet to judge conversion, MQL volume, SLA, input drift, grades.")


@pytest.mark.parametrize("text, words", [
    ("monitor: {max_psi: -1}\n", "monitor.max_psi is -1; it must be a number 0 or more."),
    ("monitor: {min_decided_mqls: 2.5}\n", "monitor.min_decided_mqls is 2.5; it must be a whole"),
    ("monitor: {psi: 1}\n", "monitor has unknown setting(s) psi"),
    ("sla: {disposition_hours: soon}\n", "sla.disposition_hours is 'soon'"),
])
def test_bad_monitor_settings_are_one_sentence(tmp_path, text, words):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(LeadscoreError) as error:
        load_config(path)
    assert words in str(error.value) and "\n" not in str(error.value)


def test_mqls_with_no_verdict_at_all_are_overdue_once_their_deadlines_pass():
    inputs = inputs_of(25, 0)
    inputs.dispositions = inputs.dispositions.head(0)
    inputs.high_intent = inputs.high_intent.head(0)
    result = monitor(inputs, default_config())
    assert result.figures["sla"]["overdue"]["first_touch"] == sorted(inputs.served["lead_id"])
    assert result.figures["sla"]["status"] == "crossed"
    assert "100% of MQLs missed the first-touch SLA" in result.recommendation


def test_volume_is_not_judged_when_far_fewer_leads_were_scored_than_the_forecast_assumes():
    manifest = {"deployed_metrics": {"mqls_per_week": 200.0},
                "threshold_decision": {"mqls_per_week": 200.0, "share_of_leads": 0.2}}
    volume = monitor(inputs_of(60, 22, manifest=manifest), default_config()).figures["volume"]
    assert volume["status"] == "too_few" and volume["leads_per_week_forecast"] == 1000.0
    assert volume["why"].startswith("too few leads scored to judge volume")


def test_leads_first_scored_by_a_rescore_are_not_new_mqls_for_the_volume_forecast():
    inputs = inputs_of(60, 22, manifest={"deployed_metrics": {"mqls_per_week": 200.0}})
    inputs.served["source"] = "rescore"  # open leads scored again after a promotion
    volume = monitor(inputs, default_config()).figures["volume"]
    assert volume["status"] == "no_data" and volume["mqls"] == 0
    inputs.served.loc[:9, "source"] = "api"
    assert monitor(inputs, default_config()).figures["volume"]["mqls"] == 10


def test_the_rescore_source_is_the_one_leadscore_rescore_logs():
    from scoring.monitor import RESCORE_SOURCE
    from training.rescore import SOURCE

    assert RESCORE_SOURCE == SOURCE


def test_no_all_clear_when_no_check_had_data_to_judge():
    # nothing served since the review: every check is "--", so nothing says "no review needed"
    result = monitor(inputs_of(0, 0), default_config())
    assert not result.crossed
    assert all(result.figures[name]["status"] in ("too_few", "no_data") for name in CHECKS)
    last = monitor_text(result).splitlines()[-1]
    assert "no early review needed" not in last
    assert last.startswith("No check had enough data to judge")
    judged = monitor_text(monitor(inputs_of(60, 22), default_config())).splitlines()[-1]
    assert judged == "No limit crossed: no early review needed."


def test_conversion_by_source_names_only_sources_the_model_learned():
    """A CRM's source field is free text: an e-mail typed into it must not become a /metrics
    label or a line of `leadscore monitor` (it reads "other", as a reason label would)."""
    inputs = inputs_of(60, 22)
    inputs.sources = frozenset({"webinar"})
    inputs.leads.loc[:4, "source"] = "jane_doe_example_corp_test"
    inputs.leads.loc[5, "source"] = "unknown"
    by_source = {s["source"]: s["decided"]
                 for s in monitor(inputs, default_config()).figures["conversion"]["by_source"]}
    assert by_source == {"webinar": 54, "other": 5, "unknown": 1}
    # a model without learned sources names none
    inputs.sources = frozenset()
    by_source = monitor(inputs, default_config()).figures["conversion"]["by_source"]
    assert {s["source"] for s in by_source} == {"other", "unknown"}


def test_a_conversion_dated_by_day_counts_for_an_mql_served_later_that_day():
    # a date-only export: each call's outcome is stamped 00:00 of the day the API scored the
    # lead at 09:00 (the review's labels count it; dropping it read "convert at 0%")
    inputs = inputs_of(60, 0)
    days = [pd.Timestamp(t).normalize() + pd.Timedelta(days=i // 2) for i, t in
            enumerate(inputs.served["scored_at"])]
    inputs.served["scored_at"] = [d + pd.Timedelta(hours=9) for d in days]
    inputs.dispositions = inputs.dispositions.head(0)
    inputs.outcomes = pd.DataFrame({"lead_id": inputs.served["lead_id"][:20],
                                    "stage": "closed_won", "occurred_at": days[:20]})
    conversion = monitor(inputs, default_config()).figures["conversion"]
    assert conversion["decided"] == 60 and conversion["rate"] == pytest.approx(20 / 60)
    # with a time of day the order is known: a win at 08:00 came before the 09:00 score
    inputs.outcomes["occurred_at"] = [d + pd.Timedelta(hours=8) for d in days[:20]]
    conversion = monitor(inputs, default_config()).figures["conversion"]
    assert conversion["decided"] == 40 and conversion["rate"] == 0


def test_an_export_without_verdicts_is_no_sla_data_not_every_mql_overdue():
    # the bank export has no dispositions at all: "100% of MQLs missed the first-touch SLA"
    # recommended an early review every time
    inputs = inputs_of(25, 0)
    inputs.dispositions = inputs.dispositions.head(0)
    inputs.recorded = {"dispositions": 0, "first_touches": 0}
    result = monitor(inputs, default_config())
    sla = result.figures["sla"]
    assert sla["status"] == "no_data" and "sla" not in result.crossed
    assert sla["why"].startswith("the stores hold no disposition for any lead")
    assert sla["overdue"] == {"first_touch": [], "disposition": []}
    # verdicts recorded, never a first touch: dispositions are timed, first touches are not
    inputs = inputs_of(25, 0)
    inputs.dispositions["first_touch_at"] = pd.NaT
    inputs.recorded = {"dispositions": 25, "first_touches": 0}
    sla = monitor(inputs, default_config()).figures["sla"]
    assert sla["first_touch_missed_share"] is None and sla["overdue"]["first_touch"] == []
    assert sla["status"] == "ok" and "first touches not timed" in sla["why"]


def test_an_export_without_sources_does_not_count_its_one_source_as_a_second_finding():
    inputs = inputs_of(60, 3)
    inputs.leads = inputs.leads.assign(source="unknown")
    result = monitor(inputs, default_config())
    assert result.figures["conversion"]["status"] == "crossed"
    assert "outside it too" not in result.figures["conversion"]["why"]
    # two sources, both below: counted, and in words
    inputs.leads["source"] = ["webinar", "referral"] * 30
    inputs.sources = frozenset({"webinar", "referral"})
    result = monitor(inputs, default_config() | {"monitor": {
        **default_config()["monitor"], "min_decided_mqls": 10}})
    assert "(2 sources outside it too)" in result.figures["conversion"]["why"]


def test_young_mqls_that_converted_early_are_not_decided_before_their_peers():
    # 10 days after the review: 20 of 60 MQLs already booked, the other 40 still open. Counting
    # the 20 and not the 40 read as a 100% conversion; none of them has had its 30 days yet
    result = monitor(inputs_of(60, 20, now=SINCE + timedelta(days=10)), default_config())
    conversion = result.figures["conversion"]
    assert conversion["decided"] == 0 and conversion["status"] == "too_few"
    # once every window has passed, all 60 are decided and 20 converted
    result = monitor(inputs_of(60, 20, now=SINCE + timedelta(days=40)), default_config())
    assert result.figures["conversion"]["decided"] == 60
    assert result.figures["conversion"]["converted"] == 20


def test_a_threshold_that_now_passes_most_new_leads_is_flagged_even_at_a_tolerable_volume():
    # reviewed at 50% of leads and 149 MQLs a week; the base rate rose and 70% of the next
    # period's leads were served as MQLs: 213 a week is within the 50% volume tolerance
    inputs = inputs_of(60, 22)
    extra = pd.DataFrame({"lead_id": [f"N{i:03d}" for i in range(26)],
                          "scored_at": [SINCE + timedelta(hours=i) for i in range(26)],
                          "model_version": "3", "score": 0.1, "grade": "D4", "is_mql": False,
                          "feature_bins": None, "source": "api"})
    inputs.served = pd.concat([inputs.served, extra], ignore_index=True)
    inputs.manifest = {"band": {"min": 0.25, "max": 0.5},
                       "deployed_metrics": {"mqls_per_week": 4.5},
                       "threshold_decision": {"share_of_leads": 0.5, "max_share": 0.5}}
    result = monitor(inputs, default_config())
    volume = result.figures["volume"]
    assert volume["status"] == "crossed" and round(volume["mql_share"], 2) == 0.7
    assert ("70% of the 86 leads scored since the review were MQLs at their first score, more "
            "than the 50% a threshold may pass (cycle.max_mql_share)") in volume["why"]
    # 55% of leads is within noise of the 50% allowed: not flagged
    inputs.served.loc[60:, "is_mql"] = [True] * 9 + [False] * 17
    inputs.served = inputs.served.iloc[:100]
    inputs.served.loc[:59, "is_mql"] = [True] * 38 + [False] * 22
    assert "cycle.max_mql_share" not in monitor(inputs, default_config()).figures["volume"]["why"]


def test_deadlines_and_windows_after_the_stores_verdicts_end_are_not_judged():
    # the last export was taken a day after the review; judged 70 days on, the 60 MQLs served
    # after it have no verdict in the stores because the export does not reach them, not
    # because sales missed them or they failed to convert
    inputs = inputs_of(60, 22, now=SINCE + timedelta(days=70))
    end = SINCE + timedelta(hours=30)
    inputs = verdicts_end(inputs, end)
    result = monitor(inputs, default_config())
    sla, conversion = result.figures["sla"], result.figures["conversion"]
    assert sla["status"] == "too_few" and sla["first_touch_missed"] == 0
    assert "whose deadline ended after the stores' verdicts do (2026-09-02, the store's last " \
           "record) are not judged: ingest a newer export" in sla["why"]
    assert conversion["status"] == "too_few" and conversion["decided"] == 0
    assert "60 MQLs whose maturity window ended after the stores' verdicts do" in \
        conversion["why"]
    assert result.exit_code != EXIT_CROSSED
    assert result.figures["verdicts_to"] == "2026-09-02T06:00:00"
    assert monitor_text(result).splitlines()[-1] == (
        "No limit crossed on what the stores' verdicts reach (they end 2026-09-02): no early "
        "review needed so far; ingest a newer export to judge what came after.")
    # nothing judged at all: the advice names the export before more scores
    for name in ("volume", "drift", "inversions"):
        result.figures[name]["status"] = "too_few"
    assert monitor_text(result).splitlines()[-1] == (
        "No check had enough data to judge, so nothing says whether an early review is needed; "
        "ingest a newer export (the stores' verdicts end 2026-09-02), score new leads (API or "
        "leadscore score) and run it again.")
    # verdicts that run to the moment judged (the API receives them) change nothing
    fresh = monitor(inputs_of(60, 22), default_config())
    assert "not judged" not in fresh.figures["sla"]["why"] and fresh.figures["verdicts_to"] is None


def test_volume_and_drift_count_the_rescored_leads_they_leave_out():
    # only `leadscore rescore` served scores since the review: the header counts 30 leads, so
    # "0 leads served with feature bins" alone would contradict it
    from dataclasses import replace

    X, profile = profile_of()
    inputs = inputs_of(30, 5, manifest={"deployed_metrics": {"mqls_per_week": 5.0},
                                      "training_profile": profile})
    inputs = replace(inputs, served=inputs.served.assign(
        source="rescore", feature_bins=feature_bins(X[:30], profile)))
    result = monitor(inputs, default_config())
    assert result.figures["served"]["leads"] == 30
    volume, drifted = result.figures["volume"], result.figures["drift"]
    assert volume["why"] == ("no lead was scored (API or leadscore score) since the review (not "
                             "counting the 30 open leads leadscore rescore scored again, which "
                             "are not new arrivals)")
    assert drifted["why"] == ("too few leads served with feature bins to judge drift (0 of at "
                              "least 200; not counting the 30 open leads leadscore rescore "
                              "scored again, which are not new arrivals)")


def test_a_verdict_without_a_reason_code_does_not_shift_the_others_families():
    # pandas 3 strings keep a missing reason code missing through astype(str): its key was NaN,
    # its factorized code -1 became a group of its own, and every verdict read the family of the
    # one before it (meeting_booked as "open"): 510 of 578 served leads had booked a meeting and
    # the monitor said "served MQLs convert at 18% (14%-23%), below the agreed band"
    inputs = inputs_of(60, 20)
    disp = inputs.dispositions
    accepted = disp.iloc[:30].assign(status="accepted", reason_code=None,
                                     dispositioned_at=disp["dispositioned_at"].iloc[:30]
                                     - timedelta(minutes=10))
    inputs = replace(inputs, dispositions=pd.concat([accepted, disp], ignore_index=True).astype(
        {"status": "str", "reason_code": "str", "lead_id": "str"}))
    assert inputs.dispositions["reason_code"].isna().sum() == 30
    conversion = monitor(inputs, default_config()).figures["conversion"]
    assert (conversion["decided"], conversion["converted"]) == (60, 20)


def test_an_sla_part_within_its_limit_says_so_beside_one_that_crossed():
    # "Review early (...): 16% of MQLs missed the first-touch SLA; 41% of MQLs had no
    # disposition within 48 h (limit 25%)" and the report's "Limits crossed before this review:
    # 20% of MQLs missed the first-touch SLA; ..." listed a share inside its limit as a reason
    t0 = [SINCE + timedelta(hours=i) for i in range(40)]
    inputs = inputs_of(40, 10)
    late = inputs.dispositions.index[:20]  # half the MQLs dispositioned after 50 h
    inputs.dispositions.loc[late, "dispositioned_at"] = [t0[i] + timedelta(hours=50)
                                                        for i in range(20)]
    result = monitor(inputs, default_config())
    sla = result.figures["sla"]
    assert sla["status"] == "crossed"
    assert sla["why"].startswith("0% of MQLs missed the first-touch SLA (within the 25% allowed); "
                                 "50% of MQLs had no disposition within 48 h (limit 25%)")
    ok = monitor(inputs_of(40, 10), default_config()).figures["sla"]
    assert ok["status"] == "ok" and "within the" not in ok["why"]


def test_a_volume_within_tolerance_says_so_beside_a_share_that_crossed():
    # "36 MQLs a week against the forecast of 25; 54% of the 710 leads scored since the review
    # were MQLs at their first score, more than the 50% ..." gave the volume, inside its 50%
    # tolerance, as a reason to review early too
    inputs = inputs_of(300, 60, manifest={"band": {"min": 0.25, "max": 0.5},
                                        "threshold_decision": {"max_share": 0.5},
                                        "deployed_metrics": {"mqls_per_week": 25.0,
                                                             "share_of_leads": 0.5}})
    volume = monitor(inputs, default_config()).figures["volume"]
    assert volume["status"] == "crossed"
    assert volume["why"].startswith("30 MQLs a week against the forecast of 25 (within the 50% "
                                    "tolerance); 100% of the 300 leads scored")


def test_a_band_changed_in_the_config_since_the_champions_review_is_said():
    # the champion was reviewed against 25%-50%; the config now says 30%-60%: the monitor judged
    # against the champion's band (rightly) and called it "the agreed band of 25%-50%" unsaid
    config = default_config()
    config["cycle"]["band"] = {"min": 0.30, "max": 0.60}
    result = monitor(inputs_of(60, 3), config)
    assert ("below the agreed band of 25%-50% its review was held to (cycle.band is 30%-60% now: "
            "the next review judges against that)") in result.recommendation
    unchanged = monitor(inputs_of(60, 3), default_config())
    assert "its review was held to" not in unchanged.recommendation
