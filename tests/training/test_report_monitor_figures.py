"""The monitor section's figures read as the rest of the report reads them."""

from __future__ import annotations

from tests.training.report_context import TEXT
from training.report_figures import Figures
from training.report_monitor import _figures


def _shown(check: dict) -> list[str]:
    return [TEXT.sub("", str(f)) for f in _figures("volume", check, Figures("r1", {}))]


def test_mqls_a_week_are_whole_from_ten_up_as_the_sentence_beside_them_says():
    # the row said "65.6 / 42.8" beside "66 MQLs a week against the forecast of 43", and the
    # page's own rule: MQLs a week are whole numbers from 10 up
    assert _shown({"per_week": 65.6, "forecast": 42.8}) == ["66", "43"]
    # below 10 a decimal stays (0.4 a week is not "0"), a whole number loses its ".0"
    assert _shown({"per_week": 0.4, "forecast": 6.0}) == ["0.4", "6"]
