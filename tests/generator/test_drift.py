"""``generate --drift``: each planted change is there, and nothing changes without the flag."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from generator import drift, generate_frames


@pytest.fixture(scope="module")
def pair():
    plain = generate_frames(6000, seed=5)
    drifted = generate_frames(6000, seed=5, drift=True)
    return plain, drifted


def _joined(export) -> pd.DataFrame:
    frame = export.truth.merge(export.leads[["lead_id", "created_at", "source"]], on="lead_id")
    start, end = pd.Timestamp("2025-11-01"), pd.Timestamp("2026-11-01")
    frame["t"] = (pd.to_datetime(frame["created_at"]) - start) / (end - start)
    return frame


def test_without_drift_the_export_is_unchanged_and_leads_are_the_same(pair):
    plain, drifted = pair
    assert plain.leads["title"].equals(drifted.leads["title"])  # drift draws its own stream
    assert not (plain.leads["source"] == drift.NEW_SOURCE).any()


def test_the_base_rate_moves_up(pair):
    _, drifted = pair
    frame = _joined(drifted)
    early = frame.loc[frame["t"] < 0.25, "true_p"].mean()
    late = frame.loc[frame["t"] > 0.75, "true_p"].mean()
    assert late > early + 0.08


def test_a_source_appears_mid_window_and_converts_better(pair):
    _, drifted = pair
    frame = _joined(drifted)
    new = frame["source"] == drift.NEW_SOURCE
    assert not new[frame["t"] < drift.NEW_SOURCE_FROM].any()
    share = new[frame["t"] >= drift.NEW_SOURCE_FROM].mean()
    assert share == pytest.approx(drift.NEW_SOURCE_SHARE, abs=0.04)
    late = frame["t"] >= drift.NEW_SOURCE_FROM
    assert frame.loc[late & new, "true_p"].mean() > frame.loc[late & ~new, "true_p"].mean()


def test_the_seniority_signal_weakens():
    t = np.array([0.0, 1.0])
    effect = np.array([1.1, 1.1])  # a VP's planted seniority effect
    term = drift.drift_term(t, effect, np.array([False, False]))
    base = drift.BASE_SHIFT_START + (drift.BASE_SHIFT_END - drift.BASE_SHIFT_START) * t
    # what seniority adds at the end is 20 % of what it adds at the start
    assert (effect + term - base)[1] == pytest.approx((1 - drift.FIT_FADE) * effect[1])
    assert (effect + term - base)[0] == pytest.approx(effect[0])
