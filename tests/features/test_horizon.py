"""The store's data horizon: a window that closes after the day the evidence runs to is unknown.

Tiny stores written inline. A review dated after the store's last record leaves the leads whose
window closes in between unlabelled (they were "no conversion" negatives before); a declared
export date keeps them; positives seen by the review date still count; the sentence about it is
said exactly when the review date is after the horizon.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from features.horizon import DECLARED, LAST_RECORD, data_horizon, future_records, horizon_sentence
from features.labels import build_labels, label_summary, load_policy, open_leads
from features.store import connect

T0 = datetime(2024, 1, 3, 15, 0)
MATURITY = 30
POLICY = load_policy()


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


@pytest.fixture
def store(tmp_path):
    """The export ends on day 40 (its last record): "early"'s window closed on day 30, "quiet"'s
    and "won"'s close on day 50 and 55, after it; "new" is still inside its window on day 60."""
    with connect(tmp_path / "store.duckdb") as con:
        for lead_id, created in (("early", 0), ("quiet", 20), ("won", 25), ("new", 40)):
            con.execute("INSERT INTO leads (lead_id, created_at, source) VALUES (?, ?, 'web')",
                        [lead_id, day(created)])
        con.execute("INSERT INTO outcomes (lead_id, stage, occurred_at) VALUES (?, ?, ?)",
                    ["won", "sql", day(30)])
        yield con


def _labels(con, as_of) -> dict[str, tuple[int, bool]]:
    frame = build_labels(con, as_of, POLICY, MATURITY)
    return {r.lead_id: (r.label, r.matured) for r in frame.itertuples()}


def test_a_window_closing_after_the_last_record_is_unknown_not_a_negative(store):
    assert data_horizon(store).source == LAST_RECORD and data_horizon(store).at == day(40)
    got = _labels(store, day(60))
    # before: "quiet" was a matured no-conversion negative, though the export ends on day 40
    assert "quiet" not in got
    assert got["early"] == (0, True)
    # a positive is a positive whenever seen; its window is not closed by the evidence yet
    assert got["won"] == (1, False)
    assert set(open_leads(store, day(60), POLICY, MATURITY)["lead_id"]) == {"quiet", "new"}
    summary = label_summary(store, day(60), POLICY, MATURITY)
    assert summary["past_horizon_leads"] == 1  # "quiet"; "new"'s window ends after day 60 too
    assert summary["past_horizon_decided_leads"] == 1  # "won": a positive, its cohort waits
    assert summary["horizon"] == day(40).isoformat() and summary["horizon_source"] == LAST_RECORD
    assert summary["by_cause"]["no_conversion"] == 1


def test_a_declared_export_date_keeps_them(store):
    store.execute("INSERT INTO store_metadata VALUES ('exported_at', ?)",
                  [day(60).date().isoformat()])
    horizon = data_horizon(store)
    assert horizon.source == DECLARED and horizon.runs_to == day(60).date()
    assert horizon.at == datetime.combine(day(61).date(), datetime.min.time())
    got = _labels(store, day(60))
    assert got["quiet"] == (0, True) and got["won"] == (1, True)
    # what the review logs as its data_horizon param: the declared day, not the instant after it
    assert label_summary(store, day(60), POLICY, MATURITY)["horizon_day"] == "2024-03-03"
    assert label_summary(store, day(60), POLICY, MATURITY)["past_horizon_leads"] == 0
    assert horizon_sentence(label_summary(store, day(60), POLICY, MATURITY)) is None


def test_a_declared_date_before_the_last_record_does_not_pull_the_horizon_back(store):
    store.execute("INSERT INTO store_metadata VALUES ('exported_at', ?)",
                  [day(10).date().isoformat()])
    horizon = data_horizon(store)
    assert horizon.source == LAST_RECORD and horizon.at == day(40)
    assert horizon.declared == day(10).date()


def test_a_review_before_the_horizon_is_unchanged(store):
    assert _labels(store, day(35)) == {"early": (0, True), "won": (1, False)}
    assert horizon_sentence(label_summary(store, day(35), POLICY, MATURITY)) is None


def test_the_sentence_is_said_exactly_when_the_review_date_is_after_the_horizon(store):
    sentence = horizon_sentence(label_summary(store, day(60), POLICY, MATURITY))
    assert sentence == (
        f"The store's evidence runs to {day(40).date()} (its last record), before the review "
        f"date {day(60).date()}; of the leads whose 30-day window ends between the two, 1 open "
        "lead is left unlabelled, not counted as no conversion and 1 lead with a verdict is not "
        "learned from yet; if the export was taken later, declare it with `exported_at:` in the "
        "mapping or `leadscore ingest --exported-at`.")
    # the review date exactly at the last record: nothing is said
    assert horizon_sentence(label_summary(store, day(40), POLICY, MATURITY)) is None
    # a declared date: named as such, the day it was declared
    store.execute("INSERT INTO store_metadata VALUES ('exported_at', '2024-02-20')")
    text = horizon_sentence(label_summary(store, day(80), POLICY, MATURITY))
    assert text.startswith("The store's evidence runs to 2024-02-20 (its declared export date), "
                           f"before the review date {day(80).date()}; ")
    # summaries from before the horizon existed say nothing
    assert horizon_sentence({"as_of": day(60).isoformat(), "past_horizon_leads": 3}) is None


def test_each_count_is_said_of_its_own_leads_and_none_says_nothing():
    summary = {"horizon": day(40).isoformat(), "as_of": day(41).isoformat(), "maturity_days": 30,
               "horizon_day": day(40).date().isoformat(), "horizon_source": LAST_RECORD}
    # the open and the decided leads are different leads: no "0 leads ... and the 1" of them
    only_decided = horizon_sentence({**summary, "past_horizon_leads": 0,
                                     "past_horizon_decided_leads": 2})
    assert "ends between the two, 2 leads with a verdict are not learned from yet;" in only_decided
    assert "0 " not in only_decided and "unlabelled" not in only_decided
    only_open = horizon_sentence({**summary, "past_horizon_leads": 3,
                                  "past_horizon_decided_leads": 0})
    assert "3 open leads are left unlabelled, not counted as no conversion;" in only_open
    assert "verdict" not in only_open
    # a review date after the horizon that costs no lead any evidence needs no sentence
    assert horizon_sentence({**summary, "past_horizon_leads": 0,
                             "past_horizon_decided_leads": 0}) is None


def test_an_empty_store_has_no_horizon(tmp_path):
    with connect(tmp_path / "store.duckdb") as con:
        assert data_horizon(con) is None
        assert build_labels(con, day(60), POLICY, MATURITY).empty


def test_an_old_store_without_the_metadata_table_reads_its_last_record(tmp_path):
    path = tmp_path / "store.duckdb"
    with connect(path) as con:
        con.execute("INSERT INTO leads (lead_id, created_at, source) VALUES ('a', ?, 'web')",
                    [day(0)])
        con.execute("DROP TABLE store_metadata")
    with connect(path, read_only=True) as con:  # as a review opens it
        assert data_horizon(con).source == LAST_RECORD
    with connect(path) as con:  # the next write migrates it
        assert con.execute("SELECT count(*) FROM store_metadata").fetchone() == (0,)
        assert date.fromisoformat("2024-01-03") == data_horizon(con).runs_to


def test_a_record_dated_after_the_clock_does_not_move_the_horizon(store):
    # a typo'd year in an export (2062 for 2026): without the cut the horizon ran to 2062, and
    # "quiet" (window closing on day 50, after the export's real end on day 40) was a negative
    store.execute("INSERT INTO activities (lead_id, occurred_at, activity_type) "
                  "VALUES ('quiet', ?, 'page_view')", [datetime(2062, 1, 5, 9, 0)])
    assert data_horizon(store).at == day(40)
    assert "quiet" not in _labels(store, day(60))
    assert future_records(store) == (1, datetime(2062, 1, 5, 9, 0))
    # its day come, it counts: judged as of a clock past it, the horizon runs to it
    assert data_horizon(store, now=datetime(2062, 2, 1)).at == datetime(2062, 1, 5, 9, 0)
    assert future_records(store, now=datetime(2062, 2, 1)) == (0, None)


def test_ingest_says_which_records_are_dated_after_today(tmp_path):
    from features.ingest import ingest_paths

    export = tmp_path / "export"
    export.mkdir()
    head = "lead_id,created_at,source,title,company_size,industry,country\n"
    (export / "leads.csv").write_text(f"{head}L1,2026-01-05,web,,,,\nL2,2026-01-06,web,,,,\n")
    (export / "activities.csv").write_text("lead_id,occurred_at,activity_type\n"
                                           "L1,2026-01-05,page_view\nL2,2062-01-07,page_view\n")
    report = ingest_paths([export], tmp_path / "s.duckdb")
    assert ("1 record of the store is dated after today (the latest 2062-01-07): kept, but the "
            "store's data horizon leaves it out until that day comes; check the export's dates "
            "(a year typed wrong?)") in report.notes
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "leads.csv").write_text(f"{head}L1,2026-01-05,web,,,,\n")
    assert not any("after today" in n for n in ingest_paths([plain], tmp_path / "p.duckdb").notes)
