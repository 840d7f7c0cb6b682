"""The monitor counts every MQL a deadline of which the stores' verdicts do not reach: the
first-touch deadline and the disposition deadline alike."""

from __future__ import annotations

from datetime import timedelta

from leadscore.config import default_config
from scoring.monitor import monitor
from tests.scoring.monitor_inputs import SINCE, inputs_of, verdicts_end


def test_an_mql_whose_disposition_deadline_the_export_does_not_reach_is_counted_as_not_judged():
    # 60 MQLs served an hour apart; the export ends 60 h after the review, judged 80 h after it.
    # First-touch deadlines (24 h) of MQLs 37-56 and disposition deadlines (48 h) of MQLs 13-32
    # fall between the export's end and now: 40 MQLs have a deadline nobody can judge yet (a
    # real store said "1 MQL ... is not judged" where 6 more had their 48 h pass unseen)
    inputs = inputs_of(60, 22, now=SINCE + timedelta(hours=80))
    end = SINCE + timedelta(hours=60)
    inputs = verdicts_end(inputs, end)
    sla = monitor(inputs, default_config()).figures["sla"]
    assert sla["unjudged"] == 40
    assert ("40 MQLs whose deadline ended after the stores' verdicts do (2026-09-03, the store's "
            "last record) are not judged: ingest a newer export") in sla["why"]
    assert sla["first_touch_due"] == 37 and sla["disposition_due"] == 13
