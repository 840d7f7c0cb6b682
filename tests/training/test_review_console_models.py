"""The review's console table of models shows only models measured on the cohort, as the
report's table does."""

from __future__ import annotations

import math

from tests.training.test_report_truth import _console_summary


def test_a_champion_measured_on_nothing_gets_no_column_of_dashes():
    # a second review a day after the first: the champion learned from every week of the
    # cohort, is not compared, and the console printed a "champion v1" column of "-" cells
    # (the report leaves that column out)
    summary = _console_summary(evidence_passed=True)
    summary.models = {
        "challenger": {"roc_auc": 0.663, "pr_auc": 0.599, "mqls_per_week": 64.0},
        "champion v1": {"roc_auc": math.nan, "pr_auc": None},
        "logistic baseline": {"roc_auc": 0.664, "pr_auc": 0.599, "mqls_per_week": 64.0},
    }
    text = str(summary)
    assert "champion v1" not in text.split("Same validation cohort, every model")[1].split(
        "Threshold")[0]
    assert "challenger" in text and "logistic baseline" in text
    row = next(line for line in text.splitlines() if line.startswith("ROC-AUC"))
    assert "-" not in row.replace("ROC-AUC", "")
