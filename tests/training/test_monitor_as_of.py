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
