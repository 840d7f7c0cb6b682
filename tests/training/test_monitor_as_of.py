"""``leadscore monitor --as-of`` judges what has happened: a date after today is refused.

Verdicts cannot run past the present. Judged as of a future date, every served MQL without a
verdict yet read as a lead that did not convert, and the monitor printed "served MQLs convert at
0% (0%-1%), below the agreed band" and exit 3 for leads whose windows had not even ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadscore.config import default_config
from leadscore.errors import LeadscoreError
from training.monitor import champion_monitor


def test_a_moment_after_now_is_refused_with_one_sentence(tmp_path):
    config = default_config()
    config["mlflow"]["tracking_uri"] = f"sqlite:///{tmp_path / 'mlflow.db'}"
    later = (datetime.now(UTC) + timedelta(days=45)).date().isoformat()
    with pytest.raises(LeadscoreError, match=rf"^--as-of {later} is after now \("):
        champion_monitor(config, later)


def test_a_moment_before_the_champions_review_is_refused_with_one_sentence():
    # judged as of 2026-07-03 a champion reviewed on 2026-08-01 printed "0 scores served ...",
    # five checks without data and "score new leads (API or leadscore score) and run it again"
    from training.monitor import judged_moment

    with pytest.raises(LeadscoreError) as info:
        judged_moment("2026-07-03", reviewed="2026-08-01T00:00:00", version="1")
    assert str(info.value) == (
        "--as-of 2026-07-03 is before the review of the champion v1 (2026-08-01), so it had "
        "served nothing yet: give a date after 2026-08-01, or leave --as-of out.")
    assert judged_moment("2026-08-03", reviewed="2026-08-01T00:00:00",
                         version="1") == datetime(2026, 8, 3)
    assert judged_moment(None, reviewed="2026-08-01T00:00:00", version="1") is None
