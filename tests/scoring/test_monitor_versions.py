"""The monitor judges the champion's own scores: after a promote or rollback the score log also
holds scores of other versions, whose MQL flags came from another threshold."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pandas as pd

from leadscore.config import default_config
from scoring.monitor import monitor
from scoring.monitor_text import monitor_text
from tests.scoring.monitor_inputs import SINCE, inputs_of


def test_scores_of_another_version_are_not_counted_as_the_champions():
    inputs = inputs_of(60, 22)  # 60 MQLs served by v3, the champion judged
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


def test_the_share_sentence_says_it_counts_first_scores_beside_a_header_counting_every_mql():
    # 100 leads, all first scored below the threshold... and 60 of them MQLs at a later score
    # (fields arrived), besides 100 more that were MQLs at their first score
    inputs = inputs_of(1, 0, manifest={"band": {"min": 0.25, "max": 0.5},
                                     "deployed_metrics": {"mqls_per_week": 10.0},
                                     "threshold_decision": {"max_share": 0.5,
                                                            "share_of_leads": 0.5}})
    rows = []
    for i in range(200):
        t = SINCE + timedelta(hours=i)
        if i < 100:
            rows.append((f"M{i}", t, True))
        else:
            rows.append((f"M{i}", t, False))
            if i < 160:
                rows.append((f"M{i}", t + timedelta(hours=1), True))
    served = pd.DataFrame(rows, columns=["lead_id", "scored_at", "is_mql"]).assign(
        model_version="3", score=0.5, grade="A1", feature_bins=None, source="api")
    result = monitor(replace(inputs, served=served), default_config())
    assert result.figures["served"]["mqls"] == 160  # every lead served as an MQL at some score
    text = monitor_text(result)
    # 100 of 200 is exactly the 50% allowed; the sentence must not say 50% "were MQLs" when 160
    # of the 200 were: it counts their first scores
    assert "were MQLs" not in text or "at their first score" in text
    many = replace(inputs, served=pd.concat([served, served.assign(
        lead_id=served["lead_id"] + "b", is_mql=True)], ignore_index=True))
    why = monitor(many, default_config()).figures["volume"]["why"]
    assert "of the 400 leads scored since the review were MQLs at their first score" in why
