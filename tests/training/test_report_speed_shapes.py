"""Speed to lead on shapes the demo data never has: leads touched at once, and response buckets
without a known outcome."""

from __future__ import annotations

import html

import pandas as pd

from tests.training.report_context import TEXT
from training.report_figures import Figures
from training.report_sales import speed_section


def _text(value) -> str:
    return html.unescape(TEXT.sub("", str(value)))


def _speed(hours: list[float], labels: dict[str, int]) -> dict:
    frame = pd.DataFrame({"lead_id": [f"L{i}" for i in range(len(hours))],
                          "response_hours": hours, "high_intent_first": False})
    labelled = pd.DataFrame({"lead_id": list(labels), "label": list(labels.values())})
    return speed_section(frame, labelled, {}, Figures("r1", {}))


def test_leads_touched_within_minutes_have_a_median_in_minutes_not_0_0_hours():
    # a CRM that logs the first touch when a rep opens the lead: the median was "0.0 hours"
    speed = _speed([0.02, 0.05, 0.04, 3.0], {"L0": 1})
    assert _text(speed["median"]) == "3 minutes"
    assert _text(speed["median_short"]) == "3 min"
    slow = _speed([2.0, 3.0, 30.0], {"L0": 1})
    assert _text(slow["median"]) == "3.0 hours" and _text(slow["median_short"]) == "3.0 h"


def test_a_response_bucket_without_a_known_outcome_says_so_rather_than_n_a():
    speed = _speed([0.02, 2.0, 30.0], {"L1": 1, "L2": 0})
    rates = {r["bucket"]: _text(r["rate"]) for r in speed["buckets"]}
    assert rates["<5 min"] == "no known outcome" and rates["5-30 min"] == "no leads"
    assert rates["1-24 h"] == "100.0%" and rates[">24 h"] == "0.0%"
    # the chart's bar says the same: leads were there, their outcomes are not known yet
    assert "no known" in speed["chart"] and "outcome" in speed["chart"]
