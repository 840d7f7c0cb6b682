"""The cohort check on the scores reps were shown (the score log)."""

from __future__ import annotations

import pandas as pd

from training.report_served import served_cohort


def test_each_lead_counts_with_the_first_score_served_after_it_became_scoreable():
    labels = pd.DataFrame({"lead_id": ["a", "b", "c", "d"], "label": [1, 0, 1, 0],
                           "scoreable_at": pd.to_datetime(["2026-10-01"] * 4)})
    served = pd.DataFrame({
        "lead_id": ["a", "a", "b", "c"],
        "scored_at": pd.to_datetime(["2026-10-02", "2026-10-05", "2026-10-03", "2026-09-01"]),
        "is_mql": [True, False, False, True],
    })
    counts = served_cohort(labels, served)
    # a: first served as MQL; b: served as not; c: only scored before it was scoreable; d: never
    assert counts == {"leads": 4, "served": 2, "unserved": 2, "mql_n": 1, "mql_sqls": 1,
                      "rest_n": 1, "rest_sqls": 0}


def test_the_prediction_is_the_served_score_where_there_is_one(tmp_path, monkeypatch):
    from datetime import datetime

    from features.live_store import LiveStore
    from leadscore.config import default_config
    from training.report_served import served_predictor

    url = f"sqlite:///{tmp_path / 'live.db'}"
    monkeypatch.setenv("LEADSCORE_LIVE_URL", url)
    store = LiveStore(url)
    store.log_scores([{"lead_id": "a", "scored_at": datetime(2026, 10, 3), "model_version": "1",
                       "score": 0.9, "source": "api"}])
    store.close()
    rows = pd.DataFrame({"lead_id": ["a", "b"],
                         "scoreable_at": pd.to_datetime(["2026-10-01", "2026-10-01"])})
    predict = served_predictor(lambda r: [0.2] * len(r), default_config())
    assert list(predict(rows)) == [0.9, 0.2]
    assert served_predictor(None, default_config()) is None


def test_a_score_served_after_the_review_date_is_not_what_reps_saw_before_it(tmp_path,
                                                                              monkeypatch):
    # a report written again later for an older cycle: the log now holds scores its own model
    # served afterwards, which must not stand in for what the earlier champion predicted
    from datetime import datetime

    from features.live_store import LiveStore
    from leadscore.config import default_config
    from training.report_served import served_predictor, served_scores

    url = f"sqlite:///{tmp_path / 'live.db'}"
    monkeypatch.setenv("LEADSCORE_LIVE_URL", url)
    store = LiveStore(url)
    store.log_scores([{"lead_id": "a", "scored_at": datetime(2026, 10, 3), "model_version": "1",
                       "score": 0.9, "source": "api"},
                      {"lead_id": "b", "scored_at": datetime(2026, 11, 30), "model_version": "2",
                       "score": 0.7, "source": "batch"}])
    store.close()
    rows = pd.DataFrame({"lead_id": ["a", "b"],
                         "scoreable_at": pd.to_datetime(["2026-10-01", "2026-10-01"])})
    predict = served_predictor(lambda r: [0.2] * len(r), default_config(),
                               until=datetime(2026, 11, 1))
    assert list(predict(rows)) == [0.9, 0.2]
    served = served_scores(default_config(), datetime(2026, 10, 1), datetime(2026, 11, 1))
    assert list(served["lead_id"]) == ["a"]
