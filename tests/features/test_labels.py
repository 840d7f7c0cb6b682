"""Labels: the policy's families, the maturity window, the review date, unknown codes."""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import resources

import pandas as pd
import pytest

from features.labels import (
    LABEL_COLUMNS,
    build_labels,
    check_codes,
    label_summary,
    load_policy,
)
from features.store import connect
from leadscore.errors import LeadscoreError

T0 = datetime(2024, 1, 3, 15, 0)  # a Wednesday; its ISO week starts Monday 2024-01-01
MATURITY = 30
POLICY = load_policy()


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


@pytest.fixture
def store(tmp_path):
    with connect(tmp_path / "store.duckdb") as con:
        # these tests are about the policy and the window: their export is declared final well
        # after every review date they use (the store's horizon has tests of its own,
        # tests/features/test_horizon.py)
        con.execute("INSERT INTO store_metadata VALUES ('exported_at', ?)",
                    [(T0 + timedelta(days=400)).date().isoformat()])
        yield con


def insert(con, leads=(), dispositions=(), outcomes=()):
    """Rows as tuples. leads: (lead_id, created_at[, mql_at[, source]]);
    dispositions: (lead_id, at, status, reason_code); outcomes: (lead_id, stage, at)."""
    for row in leads:
        lead_id, created_at, mql_at, source = (*row, None, "web")[:4]
        con.execute(
            "INSERT INTO leads (lead_id, created_at, mql_at, source, title, company_size, industry,"
            " country) VALUES (?, ?, ?, ?, NULL, NULL, NULL, NULL)",
            [lead_id, created_at, mql_at, source],
        )
    for row in dispositions:
        con.execute(
            "INSERT INTO dispositions (lead_id, dispositioned_at, status, reason_code)"
            " VALUES (?, ?, ?, ?)",
            list(row),
        )
    for row in outcomes:
        con.execute(
            "INSERT INTO outcomes (lead_id, stage, occurred_at) VALUES (?, ?, ?)", list(row)
        )


def labels_of(con, as_of, policy=POLICY, maturity=MATURITY) -> dict[str, dict]:
    frame = build_labels(con, as_of, policy, maturity)
    assert tuple(frame.columns) == LABEL_COLUMNS
    assert frame["lead_id"].is_unique
    return {r["lead_id"]: r for r in frame.to_dict("records")}


# --- every code of the shipped policy maps as the policy says -------------------------------------

EXPECTED = {
    "positive": (1, "positive"),
    "fit_negative": (0, "fit"),
    "intent_negative": (0, "intent"),
    "open": (0, "no_conversion"),  # matured with no verdict
    "excluded": None,
}
CASES = (
    [("reason_codes", code, family) for code, family in POLICY.reason_codes.items()]
    + [("statuses", s, family) for s, family in POLICY.statuses.items() if family is not None]
    + [("outcome_stages", stage, family) for stage, family in POLICY.outcome_stages.items()]
)


@pytest.mark.parametrize(("section", "code", "family"), CASES, ids=lambda v: str(v))
def test_every_policy_code_labels_as_its_family(store, section, code, family):
    if section == "reason_codes":
        # "rejected" alone has no family: the reason code must be what decides
        insert(store, [("L1", T0)], dispositions=[("L1", day(2), "rejected", code)])
    elif section == "statuses":
        insert(store, [("L1", T0)], dispositions=[("L1", day(2), code, None)])
    else:
        insert(store, [("L1", T0)], outcomes=[("L1", code, day(2))])

    got = labels_of(store, day(100))

    if EXPECTED[family] is None:
        assert got == {}
        excluded = label_summary(store, day(100), POLICY, MATURITY)["excluded"]
        assert excluded == {code: 1}
        return
    label, cause = EXPECTED[family]
    assert (got["L1"]["label"], got["L1"]["cause"]) == (label, cause)
    assert (
        pd.isna(got["L1"]["reason_code"]) if family == "open" else got["L1"]["reason_code"] == code
    )
    assert got["L1"]["matured"]


def test_shipped_policy_covers_every_family():
    families = {*POLICY.reason_codes.values(), *POLICY.outcome_stages.values()}
    assert families == set(EXPECTED)


def test_reason_code_decides_over_status_and_empty_code_falls_back_to_status(store):
    insert(
        store,
        [("fit", T0), ("booked", T0), ("placeholder", T0)],
        dispositions=[
            ("fit", day(1), "working", "wrong_title"),
            ("booked", day(1), "meeting_booked", ""),
            ("placeholder", day(1), "meeting_booked", "Select"),
        ],
    )
    got = labels_of(store, day(100))
    assert got["fit"]["cause"] == "fit"
    assert got["booked"]["label"] == 1 and got["booked"]["reason_code"] == "meeting_booked"
    assert got["placeholder"]["label"] == 1
    assert POLICY.family("working", "wrong_title") == "fit_negative"
    assert POLICY.family("meeting_booked", " ") == "positive"
    assert POLICY.family("rejected", None) is None
    assert POLICY.family("rejected", "lost_interest") is None


# --- the maturity window and the review date -----------------------------------------------------


def test_open_lead_is_unknown_inside_its_window_and_no_conversion_after(store):
    insert(
        store,
        [("quiet", T0), ("working", T0)],
        dispositions=[("working", day(3), "working", "follow_up")],
    )
    assert labels_of(store, day(MATURITY - 1)) == {}
    summary = label_summary(store, day(MATURITY - 1), POLICY, MATURITY)
    assert summary["unmatured_open_leads"] == 2
    assert summary["unmatured_open_cohorts"] == 1
    assert summary["labelled"] == 0

    got = labels_of(store, day(MATURITY))  # the window's last instant counts as passed
    for lead_id in ("quiet", "working"):
        assert got[lead_id]["label"] == 0
        assert got[lead_id]["cause"] == "no_conversion"
        assert pd.isna(got[lead_id]["reason_code"])
        assert got[lead_id]["matured"]


def test_verdict_inside_the_window_is_a_label_marked_unmatured(store):
    insert(store, [("L1", T0)], dispositions=[("L1", day(1), "rejected", "no_budget")])
    got = labels_of(store, day(5))
    assert got["L1"]["cause"] == "intent"
    assert not got["L1"]["matured"]


def test_rows_dated_after_the_review_date_do_not_exist(store):
    insert(
        store,
        [("rejected_later", T0), ("booked_later", T0), ("won_later", T0), ("new", day(20))],
        dispositions=[
            ("rejected_later", day(20), "rejected", "wrong_title"),
            ("booked_later", day(20), "meeting_booked", None),
            ("new", day(20), "rejected", "wrong_title"),
        ],
        outcomes=[("won_later", "closed_won", day(20))],
    )
    assert labels_of(store, day(10)) == {}
    summary = label_summary(store, day(10), POLICY, MATURITY)
    assert summary["leads_considered"] == 3  # "new" was created after the review date
    assert summary["unmatured_open_leads"] == 3

    got = labels_of(store, day(40))
    assert got["rejected_later"]["cause"] == "fit"
    assert got["booked_later"]["label"] == 1
    assert got["won_later"]["label"] == 1
    assert got["new"]["cause"] == "fit"


def test_latest_verdict_as_of_the_review_date_decides(store):
    insert(
        store,
        [("L1", T0)],
        dispositions=[
            ("L1", day(5), "rejected", "wrong_title"),
            ("L1", day(50), "rejected", "no_budget"),
        ],
    )
    assert labels_of(store, day(40))["L1"]["cause"] == "fit"
    assert labels_of(store, day(60))["L1"]["cause"] == "intent"


def test_conversion_after_the_window_is_no_conversion(store):
    insert(
        store,
        [("late_sql", T0), ("late_booking", T0), ("on_the_edge", T0)],
        dispositions=[("late_booking", day(MATURITY + 1), "meeting_booked", None)],
        outcomes=[
            ("late_sql", "sql", day(MATURITY + 15)),
            ("on_the_edge", "sql", day(MATURITY)),
        ],
    )
    got = labels_of(store, day(90))
    for lead_id in ("late_sql", "late_booking"):
        assert (got[lead_id]["label"], got[lead_id]["cause"]) == (0, "no_conversion")
    assert got["on_the_edge"]["label"] == 1


def test_positive_in_the_window_wins_over_any_rejection(store):
    insert(
        store,
        [("rejected_first", T0), ("rejected_after", T0)],
        dispositions=[
            ("rejected_first", day(1), "rejected", "bad_timing"),
            ("rejected_first", day(10), "meeting_booked", None),
            ("rejected_after", day(40), "rejected", "wrong_title"),
        ],
        outcomes=[("rejected_after", "sql", day(5))],
    )
    got = labels_of(store, day(90))
    assert got["rejected_first"]["label"] == 1
    assert got["rejected_first"]["reason_code"] == "meeting_booked"
    assert got["rejected_after"]["label"] == 1
    assert got["rejected_after"]["reason_code"] == "sql"


def test_excluded_latest_verdict_drops_the_lead_and_a_later_verdict_restores_it(store):
    insert(
        store,
        [("recycled", T0), ("rejected_again", T0), ("same_instant", T0)],
        dispositions=[
            ("recycled", day(1), "rejected", "wrong_title"),
            ("recycled", day(2), "recycled", None),
            ("rejected_again", day(1), "recycled", None),
            ("rejected_again", day(2), "rejected", "no_budget"),
            ("same_instant", day(2), "working", "follow_up"),
            ("same_instant", day(2), "rejected", "out_of_icp"),
        ],
    )
    got = labels_of(store, day(90))
    assert "recycled" not in got
    assert got["rejected_again"]["cause"] == "intent"
    assert got["same_instant"]["cause"] == "fit"
    summary = label_summary(store, day(90), POLICY, MATURITY)
    assert summary["excluded"] == {"recycled": 1}


def test_scoreable_at_is_the_mql_date_once_known_and_cohort_is_its_monday(store):
    mql = datetime(2024, 2, 18, 23, 30)  # a Sunday: still the week of Monday 2024-02-12
    insert(
        store,
        [("mql", T0, mql), ("no_mql", T0), ("converted_before_mql", T0, mql)],
        dispositions=[
            ("mql", mql + timedelta(days=MATURITY + 1), "meeting_booked", None),
            ("converted_before_mql", day(1), "meeting_booked", None),
        ],
    )
    got = labels_of(store, mql + timedelta(days=60))
    assert got["mql"]["scoreable_at"] == mql
    assert got["mql"]["cohort"] == datetime(2024, 2, 12)
    assert got["mql"]["cause"] == "no_conversion"  # booked 31 days after the MQL date
    assert got["no_mql"]["cohort"] == datetime(2024, 1, 1)
    assert "converted_before_mql" not in got
    summary = label_summary(store, mql + timedelta(days=60), POLICY, MATURITY)
    assert summary["excluded"] == {"converted_before_scoreable": 1}

    # before the MQL date the lead counts from its creation: the MQL date was not known yet
    early = labels_of(store, day(MATURITY + 0.5))
    assert early["mql"]["scoreable_at"] == T0
    assert early["mql"]["cause"] == "no_conversion"
    assert early["converted_before_mql"]["label"] == 1


def test_summary_counts_add_up(store):
    insert(
        store,
        [(f"L{i}", day(i)) for i in range(8)],
        dispositions=[
            ("L0", day(1), "meeting_booked", None),
            ("L1", day(2), "rejected", "wrong_title"),
            ("L2", day(3), "rejected", "no_response"),
            ("L3", day(4), "rejected", "junk_contact"),
            ("L7", day(8), "rejected", "bad_timing"),
        ],
    )
    as_of = day(MATURITY + 4.5)  # L0..L4 matured; L5, L6 open in their window
    summary = label_summary(store, as_of, POLICY, MATURITY)
    frame = build_labels(store, as_of, POLICY, MATURITY)
    assert summary["leads_considered"] == 8
    assert summary["labelled"] == len(frame) == 5
    assert summary["positives"] == int(frame["label"].sum()) == 1
    assert summary["by_cause"] == {"positive": 1, "fit": 1, "intent": 2, "no_conversion": 1}
    assert summary["excluded"] == {"junk_contact": 1}
    assert summary["unmatured_open_leads"] == 2
    assert summary["matured_labelled"] == int(frame["matured"].sum()) == 4
    assert summary["policy_hash"] == POLICY.short_hash
    assert list(frame["scoreable_at"]) == sorted(frame["scoreable_at"])


def test_an_empty_store_gives_an_empty_frame(store):
    frame = build_labels(store, day(10), POLICY, MATURITY)
    assert frame.empty and tuple(frame.columns) == LABEL_COLUMNS


def test_bad_maturity_is_a_clear_error(store):
    with pytest.raises(LeadscoreError, match="maturity_days"):
        build_labels(store, day(10), POLICY, 0)


# --- unknown codes ------------------------------------------------------------------------------


def test_unknown_codes_fail_listing_every_one(store):
    insert(
        store,
        [(f"L{i}", T0) for i in range(6)],
        dispositions=[
            ("L0", day(1), "rejected", "lost_interest"),
            ("L1", day(1), "rejected", "lost_interest"),
            ("L2", day(1), "nurture", None),
            ("L3", day(1), "rejected", None),
            ("L4", day(1), "rejected", "wrong_title"),
        ],
        outcomes=[("L5", "demo_held", day(2))],
    )
    with pytest.raises(LeadscoreError) as error:
        check_codes(store, POLICY)
    message = str(error.value)
    assert "dispositions.reason_code 'lost_interest' (2 rows)" in message
    assert "dispositions.status 'nurture' (1 row)" in message
    assert "dispositions.status 'rejected' with an empty reason_code (1 row;" in message
    assert "outcomes.stage 'demo_held' (1 row)" in message
    assert "wrong_title" not in message
    assert "features/label_policy.yaml" in message and "labels.policy" in message
    # labels are never built past an unknown code
    with pytest.raises(LeadscoreError, match="lost_interest"):
        build_labels(store, day(90), POLICY, MATURITY)
    with pytest.raises(LeadscoreError, match="demo_held"):
        label_summary(store, day(90), POLICY, MATURITY)


def shipped_text() -> str:
    return resources.files("features").joinpath("label_policy.yaml").read_text()


def test_a_user_policy_names_its_own_file_and_labels_its_codes(store, tmp_path):
    text = shipped_text() + "\n  lost_interest: intent_negative\n"
    path = tmp_path / "team_policy.yaml"
    path.write_text(text)
    insert(
        store,
        [("L1", T0), ("L2", T0)],
        dispositions=[
            ("L1", day(1), "rejected", "lost_interest"),
            ("L2", day(1), "rejected", "gone_dark"),
        ],
    )
    policy = load_policy(path)
    assert policy.source == str(path)
    with pytest.raises(LeadscoreError) as error:
        build_labels(store, day(90), policy, MATURITY)
    assert str(path) in str(error.value) and "gone_dark" in str(error.value)
    assert "lost_interest" not in str(error.value)

    store.execute("DELETE FROM dispositions WHERE reason_code = 'gone_dark'")
    assert labels_of(store, day(90), policy)["L1"]["cause"] == "intent"


# --- the policy file ----------------------------------------------------------------------------


def test_the_summary_counts_decided_leads_inside_their_window_as_not_learned_from(store):
    # a verdict inside the window labels a lead, but the review learns only from matured
    # cohorts: the summary must count such leads among those not learned from
    insert(store, [("early_no", T0), ("early_yes", T0), ("quiet", T0), ("old", day(-60))],
           dispositions=[("early_no", day(1), "rejected", "no_budget"),
                         ("early_yes", day(1), "meeting_booked", None)])
    summary = label_summary(store, day(5), POLICY, MATURITY)
    assert summary["matured_labelled"] == 1  # "old"
    assert summary["unmatured_decided_leads"] == 2
    assert summary["unmatured_open_leads"] == 1
    assert summary["unmatured_cohorts"] == 1


def test_the_summary_counts_the_codes_that_made_leads_positive(store):
    # the console and report name the outcome from them when labels.positive_name is not set
    insert(
        store,
        [("won", T0), ("booked", T0), ("sql_then_won", T0), ("lost", T0)],
        dispositions=[("booked", day(1), "meeting_booked", None),
                      ("lost", day(1), "rejected", "no_budget")],
        outcomes=[("won", "closed_won", day(3)), ("sql_then_won", "sql", day(2)),
                  ("sql_then_won", "closed_won", day(4))],
    )
    summary = label_summary(store, day(90), POLICY, MATURITY)
    assert summary["positive_codes"] == {"closed_won": 1, "meeting_booked": 1, "sql": 1}
