"""The cohort check before anything scored since the last review has matured: it names when the
first such lead will have had its window, and says so when no lead has come in at all."""

from __future__ import annotations

import html
from datetime import datetime

import duckdb

from tests.training.report_context import TEXT, _ctx, _run, _text
from training import report_duckdb as store
from training.report import _cohort
from training.report_figures import Figures


def _store(created: list[str]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE leads (lead_id VARCHAR, created_at TIMESTAMP, mql_at TIMESTAMP)")
    for i, at in enumerate(created):
        con.execute("INSERT INTO leads VALUES (?, ?, NULL)", [f"L{i}", at])
    return con


def _said(check: store.CohortCheck) -> tuple[dict, list[str]]:
    figs = Figures("r1", {})
    cohort = _cohort(check, figs)
    return cohort, _text(_ctx(_run(), cohort=cohort) | {"figs": figs})


def test_no_lead_since_the_last_review_is_not_said_to_mature_on_a_date():
    # an export whose last lead came a week before the previous review, reviewed again a day
    # later: the report said "the first will have [had its 7 days] on 2026-11-15", of no lead
    con = _store(["2026-10-30 09:00", "2026-11-01 23:26"])
    check = store.cohort_check(con, None, datetime(2026, 11, 9), datetime(2026, 11, 8), 7)
    assert check.verdict == "insufficient evidence" and check.since_n == 0
    cohort, lines = _said(check)
    assert cohort["first_matures"] is None and cohort["none_since"]
    said = [line for line in lines if line.startswith("Insufficient evidence on how")]
    assert said == ["Insufficient evidence on how the scores held up since the last review: no "
                    "lead has become scoreable since then."]


def test_the_first_lead_since_the_last_review_matures_a_window_after_it_came_in():
    con = _store(["2026-11-01 23:26", "2026-11-08 10:30", "2026-11-08 18:00"])
    check = store.cohort_check(con, None, datetime(2026, 11, 9), datetime(2026, 11, 8), 7)
    assert check.since_n == 2
    cohort, lines = _said(check)
    # the first lead came in at 10:30 on the 8th: its 7 days end on the 15th
    assert cohort["first_matures"] == "2026-11-15 10:30" and not cohort["none_since"]
    assert ("Insufficient evidence on how the scores held up since the last review: no lead "
            "scored since then has matured yet.") in lines
    assert html.unescape(TEXT.sub("", str(cohort["since_n"]))) == "2"


def test_conversion_that_reads_the_same_is_not_said_to_have_moved():
    from training.report_mlflow import CycleRun

    # a second review where nothing changed: 38.32% against 38.31% shows 38.3% both times,
    # and "up from 38.3%" claims a rise the page cannot show
    previous = CycleRun("r0", "2026-W31", datetime(2026, 8, 1), {},
                        {"conversion_at_threshold": 0.38310, "base_rate": 0.2301}, {})
    run = _run(metrics={"conversion_at_threshold": 0.38321, "base_rate": 0.2302})
    ctx = _ctx(run, promoted=True) | {"previous": previous}
    said = [line for line in _text(ctx) if line.startswith("The new model converts")][0]
    assert "the same as 38.3% in cycle 2026-W31; it was promoted" in said
    assert "up from" not in said and "converted at" not in said


def _ranked(folder, cycle: str, features: list[str], metrics: dict):
    import pandas as pd

    from training.report_mlflow import CycleRun

    folder.mkdir()
    pd.DataFrame({"feature": features, "label": [f.capitalize() for f in features],
                  "group": ["fit"] * len(features),
                  "mean_abs_shap": [0.5 - 0.05 * i for i in range(len(features))],
                  "direction": [""] * len(features)}).to_csv(folder / "importance.csv",
                                                              index=False)
    run = CycleRun(f"r-{cycle}", cycle, datetime(2026, 8, 1), {}, metrics, {})
    run.artifacts = folder
    return run


def test_no_ranking_is_compared_with_a_last_cycle_whose_model_ranked_no_better_than_chance(
        tmp_path):
    from training.report import _signals

    # cycle W31's report said "no signal predicted a subscription" (its evidence gate failed);
    # W40's said "Region (fit), up from #6 last cycle", a rank of noise
    previous = _ranked(tmp_path / "w31", "2026-W31",
                       ["industry", "source", "title", "size", "country", "region"],
                       {"gates.evidence.passed": 0.0})
    run = _ranked(tmp_path / "w40", "2026-W40", ["region", "size", "source"], {})
    signals = _signals(run, previous, Figures(run.run_id, run.metrics), "subscription")
    assert signals["first_cycle"] and "region" not in str(signals["rows"][0]["previous"])
    assert signals["no_comparison"] == ("Cycle 2026-W31's model ranked no better than chance, "
                                        "so there is no earlier ranking to compare with.")
    ctx = _ctx(run, promoted=False, positive="subscription") | {"signals": signals}
    said = [line for line in _text(ctx) if line.startswith("The strongest signal")][0]
    assert "up from #" not in said
    assert ("Region (fit) (cycle 2026-W31's model ranked no better than chance: nothing to "
            "compare with)") in said
    # a last cycle with evidence is compared as before
    previous.metrics["gates.evidence.passed"] = 1.0
    signals = _signals(run, previous, Figures(run.run_id, run.metrics), "subscription")
    assert not signals["first_cycle"] and signals["top_previous"] == 6
