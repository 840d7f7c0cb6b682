"""The report's monitor section: the figures of the model that served between two reviews, or
one line saying why they are left out."""

from __future__ import annotations

import re

from features.live_store import LIVE_URL_ENV
from tests.scoring.monitor_world import END, build_world, scenario
from tests.serving.model_factory import working_directory
from training.report import omitted, write_report


def test_the_report_shows_the_monitor_since_the_last_cycle(tmp_path, monkeypatch):
    from training.review import run_review

    world = build_world(tmp_path / "world")
    dropped = scenario(world, "drop", conversion_drop=0.8)
    monkeypatch.setenv(LIVE_URL_ENV, dropped.config["live"]["url"])
    monkeypatch.setenv("MLFLOW_TRACKING_URI", world.config["mlflow"]["tracking_uri"])
    with working_directory(world.folder):
        run_review(cycle="2026-W44", as_of=END, config=dropped.config, promote=False)
    html = write_report("2026-W44", dropped.config, tmp_path / "reports").read_text()
    section = re.search(r'<section id="monitor">(.*?)</section>', html, re.S).group(1)
    assert f"Since v{world.version}'s review on 2026-08-01" in section
    assert "Conversion of served MQLs" in section and "limit crossed" in section
    assert "Limits crossed before this review: served MQLs convert at" in section
    assert 'data-metric="report.monitor.conversion.rate"' in section
    assert "L000" not in section  # counts only, never a lead's id

    first = write_report("2026-W31", dropped.config, tmp_path / "reports").read_text()
    assert ('<section id="monitor" class="omitted"><p class="note">Between reviews (the monitor) '
            "left out: this is the first cycle, so no model served before this review.</p>"
            ) in first


def test_the_monitor_section_is_left_out_with_one_line_when_nothing_was_served():
    # the dates bound the claim: a score served after a review dated today is not "between"
    ctx = {"monitor": {"available": False, "why": "no score was served (API or leadscore score) "
                                                  "between v3's review on 2026-11-01 and this "
                                                  "review's date, 2026-11-30 00:00"}}
    assert omitted(ctx) == {"monitor": "Between reviews (the monitor) left out: no score was "
                                       "served (API or leadscore score) between v3's review on "
                                       "2026-11-01 and this review's date, 2026-11-30 00:00."}


def test_nothing_served_names_the_dates_that_bound_it():
    from datetime import datetime

    from training.report_monitor import nothing_served

    later = nothing_served("4", "2026-11-01", datetime(2026, 11, 30))
    assert later == ("no score was served (API or leadscore score) between v4's review on "
                     "2026-11-01 and this review's date, 2026-11-30 00:00")
    same = nothing_served("1", "2026-11-01", datetime(2026, 11, 1))
    assert "no time between the two" in same and "no score was served" not in same


def test_the_overdue_count_reads_as_people_read_numbers():
    from training.report_monitor import overdue_sentence

    assert str(overdue_sentence(1283)).startswith(
        "1,283 MQLs were overdue for a first touch or a disposition; <code>leadscore monitor")
    assert str(overdue_sentence(1)).startswith("1 MQL was overdue")
    assert overdue_sentence(0) is None
