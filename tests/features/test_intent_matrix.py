"""The compiled intent kernel (``intent_kernel.intent_matrix``) equals the per-lead reference
(``reference.intent_features``) bit for bit, on empty batches and leads without activity."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from features import intent, intent_kernel
from tests.features import reference
from tests.features.online_checks import AS_OF, DAY_US, HUGE_AS_OF, assert_identical

# ---- intent_matrix ------------------------------------------------------------------------------

def _intent_rows(leads: list[list[tuple[str, int]]], as_of_us: list[int], windows, high):
    """``intent_matrix``'s input for per-lead ``(type key, at_us)`` pairs, as documented."""
    type_of = {t: i for i, t in enumerate(intent.ACTIVITY_TYPES)}
    start, type_ids, ats = [0], [], []
    for pairs in leads:
        unique = sorted({(at, type_of.setdefault(t, len(type_of))) for t, at in pairs})
        ats += [at for at, _ in unique]
        type_ids += [t for _, t in unique]
        start.append(len(ats))
    is_high = np.array([t in high for t in type_of], dtype=np.bool_)
    return (np.array(start, dtype=np.int64), np.array(type_ids, dtype=np.int64),
            np.array(ats, dtype=np.int64), np.array(as_of_us, dtype=np.int64), windows, is_high)


def _assert_matrix_rows(leads, as_of_us, windows, high) -> np.ndarray:
    matrix = intent_kernel.intent_matrix(*_intent_rows(leads, as_of_us, windows, high))
    names = intent.intent_feature_names(windows)
    assert matrix.shape == (len(leads), len(names)) and matrix.dtype == np.float64
    for i, (pairs, as_of) in enumerate(zip(leads, as_of_us, strict=True)):
        want = reference.intent_features(pairs, as_of, windows, high)
        assert list(want) == names
        assert_identical(dict(zip(names, matrix[i].tolist(), strict=True)), want, f"lead {i}")
    return matrix


@pytest.mark.parametrize("windows", [(1, 7, 30, 90), (3, 14), (1,)])
def test_intent_matrix_of_an_empty_batch(windows):
    matrix = intent_kernel.intent_matrix(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64),
                                  np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                                  windows, np.zeros(len(intent.ACTIVITY_TYPES), dtype=np.bool_))
    assert matrix.shape == (0, len(intent.intent_feature_names(windows)))
    assert matrix.dtype == np.float64
    assert _assert_matrix_rows([], [], windows, ()).shape == matrix.shape


@pytest.mark.parametrize("windows", [(1, 7, 30, 90), (3, 14)])
def test_intent_matrix_with_leads_without_activity_in_between(windows):
    now = intent.to_epoch_us(AS_OF)
    old = intent.to_epoch_us(datetime(1, 1, 1, 0, 0, 0, 180))
    leads = [
        [],
        [("pricing_view", now), ("pricing_view", now), ("page_view", now - 3 * DAY_US),
         ("chat_started", now - DAY_US), ("sms", now - DAY_US), ("chat_started", now + 1)],
        [],
        [],
        [("demo_request", now + 5)],  # only in the future
        [("pricing_view", -DAY_US // 2), ("page_view", DAY_US // 2 - 1)],  # around the epoch
        [],
        [("pricing_view", old), ("page_view", now - 90 * DAY_US)],  # ages beyond 2**53 us
        [],
    ]
    as_of_us = [now, now, now, 0, now, DAY_US // 2, now, intent.to_epoch_us(HUGE_AS_OF), now]
    matrix = _assert_matrix_rows(leads, as_of_us, windows, ("pricing_view", "chat_started"))
    names = intent.intent_feature_names(windows)
    empty = [i for i, pairs in enumerate(leads) if not pairs]
    no_activity = [reference.intent_features([], 0, windows, ())[name] for name in names]
    for i in empty:
        np.testing.assert_array_equal(matrix[i], no_activity)
    assert matrix[5, names.index("active_days_30d")] == 2.0
    assert matrix[1, names.index("n_other_30d")] == 2.0  # chat_started, sms; not the future one
