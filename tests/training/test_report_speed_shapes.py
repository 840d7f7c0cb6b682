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

