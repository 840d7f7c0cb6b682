"""The cycle's dataset: matured labels joined to features as of scoreable_at, split by cohort."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from features.ingest import ingest_paths
from features.labels import load_policy
from features.store import connect
from generator import generate_export
from leadscore.config import default_config
from leadscore.errors import LeadscoreError
from tests.training import synthetic_leads as synthetic
from training.dataset import KEY_COLUMNS, CycleData, assemble, calendar_weeks, split

END = datetime(2026, 11, 1)


def _data(frame: pd.DataFrame) -> CycleData:
    return CycleData(frame=frame, specs=synthetic.specs(), attribute_roles={}, summary={},
                     as_of=END)


def test_split_is_time_ordered_by_cohort():
    frame = synthetic.leads(3000, seed=3, weeks=20)
    train, calib, valid = split(_data(frame), 4)
    assert len(train) + len(calib) + len(valid) == len(frame)
    cohorts = sorted(frame["cohort"].unique())
    assert set(valid["cohort"]) == set(cohorts[-4:])
    assert set(calib["cohort"]) == set(cohorts[-8:-4])
    assert train["cohort"].max() < calib["cohort"].min()


def test_thin_data_is_insufficient_evidence():
    frame = synthetic.leads(400, seed=3, weeks=12)
    with pytest.raises(LeadscoreError, match=r"^Insufficient evidence: the store has 400 "
                                             r"matured labelled leads") as info:
        split(_data(frame), 4)
    message = str(info.value)
    assert "at least 200 leads and 20 SQLs to train on" in message
    # three-week windows leave 200 leads to train on: the message names them, and they work
    assert message.endswith("; set cycle.validation_weeks to 3 (this store meets every minimum "
                            "with windows of 3 weeks), or ingest more history.")
    assert message.count(". ") == 0  # one sentence
    split(_data(frame), 3)


def test_too_few_leads_for_any_split_asks_for_more_data():
    frame = synthetic.leads(280, seed=3, weeks=12)  # under 200 + 50 + 50
    data = CycleData(frame=frame, specs=synthetic.specs(), attribute_roles={}, as_of=END,
                     summary={"unmatured_open_leads": 40, "unmatured_decided_leads": 25})
    with pytest.raises(LeadscoreError) as info:
        split(data, 4)
    message = str(info.value)
    assert message.endswith("; ingest more history, or wait for more cohorts to mature.")
    assert "validation_weeks to" not in message


def test_too_few_leads_with_every_cohort_matured_does_not_say_wait():
    # every lead created on one day and matured long ago: "or wait for more cohorts to mature"
    # sent the analyst waiting for cohorts the store does not hold
    frame = synthetic.leads(280, seed=3, weeks=12)
    data = CycleData(frame=frame, specs=synthetic.specs(), attribute_roles={}, as_of=END,
                     summary={"unmatured_open_leads": 0, "unmatured_decided_leads": 0})
    with pytest.raises(LeadscoreError) as info:
        split(data, 4)
    message = str(info.value)
    assert message.endswith("; ingest more history (every lead created by 2026-11-01 has "
                            "matured, so waiting adds none).")


def test_thin_windows_name_the_validation_weeks_that_work():
    # 20 weeks of 30 leads: one-week windows hold too few SQLs; lowering them (the old advice)
    # could never help, and below one week there is nothing to lower to
    frame = synthetic.leads(600, seed=3, weeks=20)
    with pytest.raises(LeadscoreError) as info:
        split(_data(frame), 1)
    message = str(info.value)
    assert "lower cycle.validation_weeks" not in message
    weeks = int(message.split("set cycle.validation_weeks to ")[1].split(" ")[0])
    assert weeks > 1
    train, calib, valid = split(_data(frame), weeks)  # the named value works
    assert len(valid) >= 50 and valid["label"].sum() >= 5


def test_too_little_training_names_fewer_validation_weeks():
    frame = synthetic.leads(1000, seed=3, weeks=20)
    with pytest.raises(LeadscoreError) as info:
        split(_data(frame), 9)  # 2 weeks of 50 leads left to train on
    weeks = int(str(info.value).split("set cycle.validation_weeks to ")[1].split(" ")[0])
    assert weeks < 9
    split(_data(frame), weeks)


def test_a_maturity_window_longer_than_the_history_names_maturity_days():
    frame = synthetic.leads(400, seed=3, weeks=12).iloc[0:0]  # nothing has matured
    data = CycleData(frame=frame, specs=synthetic.specs(), attribute_roles={}, as_of=END,
                     summary={"leads_considered": 5000, "maturity_days": 400})
    with pytest.raises(LeadscoreError) as info:
        split(data, 4)
    message = str(info.value)
    assert message == ("Insufficient evidence: none of the 5,000 leads created by 2026-11-01 has a "
                       "matured "
                       "label as of 2026-11-01 (labels.maturity_days is 400 days), so there is "
                       "nothing to learn from; lower labels.maturity_days to how long outcomes "
                       "take (ingest prints the outcome lag), or review later.")
    assert "0 weekly cohorts" not in message


def test_a_review_date_before_every_lead_says_so():
    frame = synthetic.leads(400, seed=3, weeks=12).iloc[0:0]
    data = CycleData(frame=frame, specs=synthetic.specs(), attribute_roles={}, as_of=END,
                     summary={"leads_considered": 0, "maturity_days": 30})
    with pytest.raises(LeadscoreError) as info:
        split(data, 4)
    assert str(info.value) == ("Insufficient evidence: the store holds no lead created by "
                               "2026-11-01, so there is nothing to learn from; review a later "
                               "date, or ingest the export that covers this one.")


def test_no_sqls_in_validation_is_insufficient():
    frame = synthetic.leads(3000, seed=3, weeks=20)
    newest = frame["cohort"] >= sorted(frame["cohort"].unique())[-4]
    frame.loc[newest, "label"] = 0
    with pytest.raises(LeadscoreError, match="validation"):
        split(_data(frame), 4)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("dataset")
    generate_export(4000, 11, root / "export", fmt="parquet")
    path = root / "store.duckdb"
    ingest_paths([root / "export"], path)
    return path


def test_assemble_keeps_matured_labels_with_features_as_of_scoreable_at(store):
    config = default_config()
    with connect(store, read_only=True) as con:
        data = assemble(con, END, config, load_policy())
    frame = data.frame
    assert list(frame.columns) == [*KEY_COLUMNS, *(s.name for s in data.specs
                                                   if s.name != "source")]
    assert frame["lead_id"].is_unique and len(frame) > 2000
    assert set(frame["label"].unique()) == {0, 1}
    maturity = timedelta(days=config["labels"]["maturity_days"])
    assert (frame["scoreable_at"] + maturity <= END).all()
    assert frame["scoreable_at"].is_monotonic_increasing
    # no activity after the scoring moment: every recency is zero or more days back
    assert (frame["days_since_last_activity"].dropna() >= 0).all()
    summary = data.summary
    assert summary["assembled_leads"] == len(frame) == summary["matured_labelled"]
    assert summary["assembled_positives"] == frame["label"].sum()
    assert summary["unmatured_open_leads"] > 0  # reported, never learned from
    assert frame["source"].dropna().str.fullmatch(r"[0-9a-z_]+").all()  # normalised feature


def test_a_store_without_a_single_positive_says_to_check_the_mapping():
    # every outcome mapped to none: more history would not help, the mapping would
    frame = synthetic.leads(3000, seed=3, weeks=20).assign(label=0)
    with pytest.raises(LeadscoreError) as info:
        split(_data(frame), 4)
    message = str(info.value)
    assert "(0 SQLs)" in message and "no lead has a positive label" in message
    assert "positive" in message and message.count(". ") == 0


def test_a_cohort_spans_its_calendar_weeks_empty_ones_included():
    # a validation cohort of 4 weekly cohorts over 5 calendar weeks (no lead in 2026-06-15): the
    # review divided its MQLs by the 4 cohorts it held, "18 MQLs a week" where the leads came at
    # 14 a week, a forecast the monitor then holds the served volume to
    gap = pd.Series(pd.to_datetime(["2026-06-01", "2026-06-08", "2026-06-22", "2026-06-29"]))
    assert calendar_weeks(gap.repeat(3)) == 5
    assert calendar_weeks(gap.iloc[[0]]) == 1
    assert calendar_weeks(gap.iloc[0:0]) == 0


def test_a_store_of_open_leads_only_says_no_lead_has_a_verdict_yet():
    # a snapshot export of open leads (no verdict, no outcome): every matured lead is a
    # no-conversion only because its window passed, and the review said "no lead has a positive
    # label, so check that the mapping maps the outcome's positive value", naming no cause
    frame = synthetic.leads(3000, seed=3, weeks=20).assign(label=0)
    data = CycleData(frame=frame, specs=synthetic.specs(), attribute_roles={}, as_of=END,
                     summary={"by_cause": {"positive": 0, "fit": 0, "intent": 0,
                                           "no_conversion": 3000}})
    with pytest.raises(LeadscoreError) as info:
        split(data, 4)
    assert str(info.value) == (
        "Insufficient evidence: none of the 3,000 leads matured as of 2026-11-01 has a verdict "
        "or outcome (all are open leads, each a no-conversion only because its window passed), "
        "as in an export of open leads only: ingest a later export that holds outcomes, or "
        "check that the mapping's outcome or disposition column maps its positive value to a "
        "stage (or a positive reason code), and re-ingest.")
    # a rejection on a fit reason is a verdict: the mapping sentence stays
    data.summary["by_cause"].update(fit=10, no_conversion=2990)
    with pytest.raises(LeadscoreError, match="no lead has a positive label"):
        split(data, 4)
