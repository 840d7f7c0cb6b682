"""The online path of the intent definition: one compiled kernel over a request's activities.

``intent_matrix`` turns ``features.intent.intent_definition`` into arrays (per feature its
operation, window, long window, and which activity types count), runs one numba loop over every
activity of every lead of the batch, and hands the integers to ``features.intent.finish``, the
arithmetic the SQL path shares. Row i equals, value for value, the plain-Python reference of lead
i (``tests/features/test_intent_matrix.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numba import njit

from features import intent
from features.contract import ACTIVITY_TYPES
from features.intent import ALL, DAY_US, HIGH, NO_DAY, OPS, OTHER, IntentFeature, finish, limit_us


def intent_matrix(
    lead_start: np.ndarray,
    type_id: np.ndarray,
    at_us: np.ndarray,
    as_of_us: np.ndarray,
    windows: Sequence[int],
    is_high: np.ndarray,
) -> np.ndarray:
    """Every intent feature of many leads at once, compiled, in ``intent_feature_names(windows)``
    order, as the definition says.

    Args:
        lead_start: ``(n + 1,)`` int64 offsets: lead i's activities are ``lead_start[i]`` up to
            ``lead_start[i + 1]`` in the arrays below.
        type_id: int64 per activity: the index into ``ACTIVITY_TYPES`` for a known type, a larger
            number for any other type (one number per distinct type key).
        at_us: int64 per activity, epoch microseconds. Within each lead the activities must be
            sorted by ``(at_us, type_id)`` with repeated pairs removed (``np.lexsort`` and a
            neighbour comparison do both).
        as_of_us: ``(n,)`` int64 scoring moments.
        windows: count windows in days.
        is_high: bool per type id: whether it is a high-intent type.

    Returns:
        An ``(n, len(intent_feature_names(windows)))`` float64 matrix.
    """
    definition = intent.intent_definition(tuple(windows))
    n_types = max(len(is_high), len(ACTIVITY_TYPES),
                  int(type_id.max()) + 1 if len(type_id) else 0)
    high = np.zeros(n_types, dtype=np.bool_)
    high[:len(is_high)] = is_high
    ops, limits, long_limits, selects = _kernel_arrays(definition, tuple(high.tolist()))
    n, width = len(as_of_us), len(definition)
    first = np.zeros((n, width), dtype=np.int64)
    second = np.zeros((n, width), dtype=np.int64)
    _intent_kernel(lead_start, type_id, at_us, as_of_us, ops, limits, long_limits, selects,
                   first, second, np.empty(width, dtype=np.int64))
    return finish(definition, first, second)


@lru_cache(maxsize=256)
def _kernel_arrays(
    definition: tuple[IntentFeature, ...], high: tuple[bool, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The definition as the kernel reads it: per feature its operation, window and long window
    (microseconds), and per (feature, type id) whether the type counts (``high``: whether each
    type id is a high-intent type). Cached: a request's type ids are almost always the same."""
    n_types = len(high)
    known = {t: i for i, t in enumerate(ACTIVITY_TYPES)}
    ops = np.array([OPS[f.kind] for f in definition], dtype=np.int64)
    limits = np.array([limit_us(f.window_days) for f in definition], dtype=np.int64)
    long_limits = np.array([limit_us(f.long_days) for f in definition], dtype=np.int64)
    selects = np.zeros((len(definition), n_types), dtype=np.bool_)
    for j, feature in enumerate(definition):
        if feature.activity == ALL:
            selects[j] = True
        elif feature.activity == OTHER:
            selects[j, len(ACTIVITY_TYPES):] = True
        elif feature.activity == HIGH:
            selects[j] = np.array(high, dtype=np.bool_)
        elif feature.activity in known:
            selects[j, known[feature.activity]] = True
        else:
            raise ValueError(f"intent feature {feature.name}: unknown activity "
                             f"{feature.activity!r} (an ACTIVITY_TYPES key, ALL, OTHER or HIGH)")
    return ops, limits, long_limits, selects


@njit(cache=True, nogil=True)
def _intent_kernel(lead_start, type_id, at_us, as_of_us, ops, limits, long_limits, selects,
                   first, second, last_day):  # pragma: no cover - compiled
    # Activities are sorted by time within a lead, so distinct days are value changes.
    width = len(ops)
    for i in range(len(as_of_us)):
        as_of = as_of_us[i]
        for j in range(width):
            last_day[j] = NO_DAY
            if ops[j] == 1:
                first[i, j] = -1
        for k in range(lead_start[i], lead_start[i + 1]):
            age = as_of - at_us[k]
            if age < 0:
                continue
            t = type_id[k]
            day = at_us[k] // DAY_US
            for j in range(width):
                if not selects[j, t]:
                    continue
                op = ops[j]
                if op == 0:
                    if age < limits[j]:
                        first[i, j] += 1
                elif op == 1:
                    if first[i, j] < 0 or age < first[i, j]:
                        first[i, j] = age
                elif op == 2:
                    if age < limits[j] and day != last_day[j]:
                        first[i, j] += 1
                        last_day[j] = day
                else:
                    if age < limits[j]:
                        first[i, j] += 1
                    if age < long_limits[j]:
                        second[i, j] += 1
