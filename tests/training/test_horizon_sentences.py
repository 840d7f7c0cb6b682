"""The review date after the store's evidence: the console and the report say so, and only then.

The report test logs review-shaped runs on a small generated store (whose export ends on
2026-11-01) with the label summary a review logs, once as of a day before its last record and
once after it, and reads the page.
"""

from __future__ import annotations

import html as html_module
import re
from datetime import datetime

import pytest
from mlflow.tracking import MlflowClient

from features.horizon import horizon_sentence
from features.label_policy import load_policy
from features.labels import label_summary
from features.store import connect
from tests.report_cycles import fake_cycle_run, reviewed_cycles
from tests.training.test_report_truth import _console_summary

TEXT = re.compile(r"<[^>]+>")
SAID = "The store's evidence runs to"


@pytest.fixture(scope="module")
def cycles(tmp_path_factory):
    built = reviewed_cycles(tmp_path_factory.getbasetemp() / "report-cycles")
    with pytest.MonkeyPatch.context() as patch:
        yield built.use(patch)


def _summary(store, as_of: str) -> dict:
    with connect(store, read_only=True) as con:
        return label_summary(con, datetime.fromisoformat(as_of), load_policy(), 30)


def _report(cycles, tmp_path, cycle: str, as_of: str) -> tuple[str, dict]:
    from training.report import write_report

    config = dict(cycles.config)
    config["mlflow"] = {**cycles.config["mlflow"], "experiment": f"leadscore-horizon-{cycle}"}
    run_id = fake_cycle_run(config, cycle, as_of, seed=5, promoted=False)
    summary = _summary(cycles.store, as_of)
    MlflowClient(tracking_uri=cycles.tracking_uri).log_dict(
        run_id, summary, "evaluation/label_summary.json")  # what the review logs
    page = write_report(cycle, config, tmp_path).read_text(encoding="utf-8")
    return " ".join(html_module.unescape(TEXT.sub("", page)).split()), summary


def test_the_report_says_it_after_the_store_s_evidence_and_only_then(cycles, tmp_path):
    text, summary = _report(cycles, tmp_path / "after", "2026-W51", "2026-12-15")
    assert summary["past_horizon_leads"] > 0
    expected = horizon_sentence(summary).replace("`", "")
    assert expected.startswith(f"{SAID} 2026-10-31 (its last record), before the review date "
                               "2026-12-15; of the leads whose 30-day window ends between the "
                               f"two, {summary['past_horizon_leads']:,} open leads")
    assert expected in text
    text, summary = _report(cycles, tmp_path / "before", "2026-W40b", "2026-10-01")
    assert horizon_sentence(summary) is None and SAID not in text


def test_the_console_says_it_after_the_data_line_and_only_then():
    labels = {"assembled_leads": 900, "assembled_positives": 200, "assembled_cohorts": 30,
              "as_of": "2026-11-30T00:00:00", "horizon": "2026-10-01T12:00:00",
              "horizon_source": "last record", "past_horizon_leads": 412, "maturity_days": 30}
    lines = str(_console_summary(True, labels)).splitlines()
    assert lines[1].startswith("Data: 900 matured labelled leads")
    assert lines[2] == (
        "The store's evidence runs to 2026-10-01 (its last record), before the review date "
        "2026-11-30; of the leads whose 30-day window ends between the two, 412 open leads are "
        "left unlabelled, "
        "not counted as no conversion; if the export was taken later, declare it with "
        "`exported_at:` in the mapping or `leadscore ingest --exported-at`.")
    before = {**labels, "as_of": "2026-10-01T00:00:00", "past_horizon_leads": 0}
    assert SAID not in str(_console_summary(True, before))
    assert SAID not in str(_console_summary(True, {}))  # a summary from before horizons


def test_a_review_with_too_few_matured_leads_names_the_horizon_only_when_it_is_after_it(cycles):
    from leadscore.errors import LeadscoreError
    from training.cycle import load_cycle_data

    config = {**cycles.config, "cycle": {**cycles.config["cycle"], "validation_weeks": 40}}
    with pytest.raises(LeadscoreError) as after:
        load_cycle_data(datetime(2026, 12, 15), config)
    assert str(after.value).startswith("Insufficient evidence: the store has ")
    assert f"{SAID} 2026-10-31 (its last record), before the review date 2026-12-15" in str(
        after.value)
    with pytest.raises(LeadscoreError) as before:
        load_cycle_data(datetime(2026, 10, 1), config)
    assert str(before.value).startswith("Insufficient evidence: the store has ")
    assert SAID not in str(before.value)
