"""The monitor judges the champion's own scores: after a promote or rollback the score log also
holds scores of other versions, whose MQL flags came from another threshold."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pandas as pd

from leadscore.config import default_config
from scoring.monitor import monitor
from scoring.monitor_text import monitor_text
from tests.scoring.test_monitor import SINCE, _inputs


def test_scores_of_another_version_are_not_counted_as_the_champions():
    inputs = _inputs(60, 22)  # 60 MQLs served by v3, the champion judged
    other = pd.DataFrame({"lead_id": [f"X{i:03d}" for i in range(500)],
                          "scored_at": [SINCE + timedelta(days=1, minutes=i) for i in range(500)],
                          "model_version": "2", "score": 0.5, "grade": "A1", "is_mql": True,
                          "feature_bins": None, "source": "api"})
    # v2 also scored three of v3's leads first, before v3 was promoted (a rollback's world)
    before = inputs.served.iloc[:3].assign(model_version="2",
                                            scored_at=SINCE + timedelta(minutes=1))
    mixed = replace(inputs, served=pd.concat([before, inputs.served, other],
                                             ignore_index=True))
    alone = monitor(inputs, default_config()).figures
    figures = monitor(mixed, default_config()).figures
    assert figures["served"] == alone["served"] == {"scores": 60, "leads": 60, "mqls": 60}
    assert figures["volume"]["mqls"] == alone["volume"]["mqls"] == 60
    assert figures["conversion"]["mqls"] == 60
    assert figures["conversion"]["decided"] == alone["conversion"]["decided"]
    assert "60 scores served to 60 leads, 60 MQLs" in monitor_text(monitor(mixed,
                                                                           default_config()))
