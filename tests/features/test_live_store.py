"""The live store on SQLite (tests/serving/test_live_loop.py runs both stores end to end) and
its merge into the DuckDB store."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from features.live_store import LiveStore
from features.live_sync import merge_live
from features.store import connect
from leadscore.config import default_config
from leadscore.errors import LeadscoreError

T = datetime(2026, 10, 30, 10)


@pytest.fixture
def live(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    monkeypatch.setenv("LEADSCORE_LIVE_URL", url)
    store = LiveStore(url)
    yield store
    store.close()


def test_rows_are_stored_once_by_natural_key_and_a_lead_keeps_fields_it_was_not_sent(live):
    live.write(leads=[{"lead_id": "a", "title": "VP", "created_at": T}],
               activities=[{"lead_id": "a", "activity_type": "pricing_view", "occurred_at": T}] * 2)
    live.write(leads=[{"lead_id": "a", "country": "US"}],
               activities=[{"lead_id": "a", "activity_type": "pricing_view", "occurred_at": T}])
    fields, activities = live.leads(["a", "b"])["a"]
    assert fields == {"title": "VP", "country": "US", "created_at": T}
    assert activities == [{"activity_type": "pricing_view", "occurred_at": T}]
    assert "b" not in live.leads(["b"])


def test_the_previous_score_is_the_latest_logged(live):
    for score in (0.1, 0.4):
        live.log_scores([{"lead_id": "a", "scored_at": T, "model_version": "1", "score": score,
                          "source": "api"}])
    assert live.previous_scores(["a", "b"])["a"]["score"] == 0.4
    assert list(live.scores(lead_id="a")["score"]) == [0.1, 0.4]


def test_a_url_that_is_not_a_database_is_one_clear_error():
    with pytest.raises(LeadscoreError, match="not a database URL"):
        LiveStore("not a url")


def test_the_merge_into_the_duckdb_store_is_idempotent_and_keeps_file_rows(live, tmp_path):
    config = default_config()
    config["store"] = str(tmp_path / "store.duckdb")
    with connect(config["store"]) as con:
        con.execute("INSERT INTO leads (lead_id, created_at, title, source, company_size, "
                    "industry, country) VALUES ('a', TIMESTAMP '2026-10-01', 'CEO', 'web', "
                    "'250', 'Software', 'US')")
    live.write(leads=[{"lead_id": "a", "country": "DE"}, {"lead_id": "new", "title": "VP"},
                      {"lead_id": "dated", "created_at": T}],
               activities=[{"lead_id": "a", "activity_type": "demo_request", "occurred_at": T}],
               dispositions=[{"lead_id": "a", "dispositioned_at": T, "status": "rejected",
                              "reason_code": "wrong_title"}],
               outcomes=[{"lead_id": "a", "stage": "sql", "occurred_at": T}])
    first = merge_live(config)
    merge_live(config)
    assert (first.leads, first.leads_waiting, first.activities) == (2, 1, 1)
    with duckdb.connect(config["store"], read_only=True) as con:
        assert con.execute("SELECT title, country FROM leads WHERE lead_id = 'a'").fetchone() \
            == ("CEO", "DE")
        assert con.execute("SELECT count(*) FROM leads").fetchone()[0] == 2
        for table in ("activities", "dispositions", "outcomes"):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 1


def test_the_merge_line_counts_only_rows_that_were_new_or_changed(live, tmp_path):
    config = default_config()
    config["store"] = str(tmp_path / "store.duckdb")
    with connect(config["store"]):
        pass
    live.write(leads=[{"lead_id": "a", "created_at": T, "title": "VP"}],
               activities=[{"lead_id": "a", "activity_type": "demo_request", "occurred_at": T}],
               dispositions=[{"lead_id": "a", "dispositioned_at": T, "status": "rejected",
                              "reason_code": "wrong_title"}])
    first = merge_live(config)
    assert (first.leads, first.activities, first.dispositions) == (1, 1, 1)
    # a rescore merged them already: the review's merge adds nothing, and must not say it did
    again = merge_live(config)
    assert (again.leads, again.activities, again.dispositions, again.outcomes) == (0, 0, 0, 0)
    assert again.line() == "Live store: nothing new to merge; 3 rows were in the store already."
    live.write(leads=[{"lead_id": "a", "title": "CEO"}],
               activities=[{"lead_id": "a", "activity_type": "pricing_view", "occurred_at": T}])
    changed = merge_live(config)
    assert (changed.leads, changed.activities, changed.dispositions) == (1, 1, 0)


def test_a_live_row_dated_in_the_future_waits_and_never_moves_the_horizon(live, tmp_path):
    """The API refuses such rows now; a live store written before it did may hold them."""
    from datetime import UTC, timedelta

    from features.horizon import last_record

    config = default_config()
    config["store"] = str(tmp_path / "store.duckdb")
    with connect(config["store"]):
        pass
    ahead = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=365)
    live.write(leads=[{"lead_id": "a", "created_at": T}, {"lead_id": "b", "created_at": ahead}],
               activities=[{"lead_id": "a", "activity_type": "demo_request", "occurred_at": T},
                           {"lead_id": "a", "activity_type": "demo_request",
                            "occurred_at": ahead}],
               outcomes=[{"lead_id": "a", "stage": "sql", "occurred_at": ahead}])
    merged = merge_live(config)
    assert (merged.leads, merged.activities, merged.outcomes, merged.future) == (1, 1, 0, 3)
    assert merged.line().endswith("; 3 rows dated more than 1 day after now wait in the live "
                                  "store until that date.")
    with duckdb.connect(config["store"], read_only=True) as con:
        assert last_record(con) == T


def test_an_empty_merge_says_nothing_was_new_not_a_list_of_zeros():
    from features.live_sync import LiveMerge

    empty = LiveMerge(leads=0, leads_waiting=0, activities=0, dispositions=0, outcomes=0)
    assert empty.line() == "Live store: nothing new to merge."
    one = LiveMerge(leads=0, leads_waiting=0, activities=0, dispositions=1, outcomes=0)
    assert one.line() == "Live store merged: 0 leads, 0 activities, 1 disposition, 0 outcomes."
