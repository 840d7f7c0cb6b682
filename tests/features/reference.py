"""The pure-Python reference of the feature builders, for the tests only.

``intent_features`` is the intent definition written as the plainest possible loop over one lead's
activities, and ``build_online`` builds one lead's features with it. The product computes intent
with the compiled kernel and the SQL that ``features.intent`` generates from its declarative
definition; the parity tests hold both to this reference, which shares no code with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import pandas as pd

from features import fit
from features.contract import ACTIVITY_TYPES
from features.definitions import attribute_value
from features.intent import (
    DAY_US,
    OTHER_WINDOW_DAYS,
    TREND_LONG_DAYS,
    TREND_SHORT_DAYS,
    count_name,
    days,
    trend,
)
from features.online import _activity, _activity_list, _as_of_epoch_us, _attribute_raw
from features.plan import config_key, plan_of_keys, roles_key


@lru_cache(maxsize=64)
def _count_names(windows: tuple[int, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((t, tuple(count_name(t, w) for w in windows)) for t in ACTIVITY_TYPES)


def intent_features(
    activities: Iterable[tuple[str, int]],
    as_of_us: int,
    windows: Sequence[int],
    high_intent: Sequence[str],
) -> dict[str, float]:
    """The fixed intent features of one lead.

    Args:
        activities: ``(activity_type_key, occurred_at_us)`` pairs in any order. Pairs after
            ``as_of_us`` are ignored; a repeated pair counts once (the store's natural key).
        as_of_us: the scoring moment in epoch microseconds.
        windows: count windows in days.
        high_intent: activity types whose recency is ``days_since_high_intent``.
    """
    pairs = set(activities)
    windows = tuple(windows)
    if not pairs:  # a fit-only lead: every count 0, no recency, flat trend
        return dict(_no_activity(windows))
    limits = [w * DAY_US for w in windows]
    known = {t: [0] * len(limits) for t in ACTIVITY_TYPES}
    high = frozenset(high_intent)
    other_limit = OTHER_WINDOW_DAYS * DAY_US
    short_limit, long_limit = TREND_SHORT_DAYS * DAY_US, TREND_LONG_DAYS * DAY_US
    limit_30, limit_90 = 30 * DAY_US, 90 * DAY_US
    n_other = n_short = n_long = 0
    last_age = last_high_age = None
    days_30: set[int] = set()
    days_90: set[int] = set()
    for activity_type, at_us in pairs:
        age = as_of_us - at_us
        if age < 0:
            continue
        counts = known.get(activity_type)
        if counts is not None:
            for i, limit in enumerate(limits):
                if age < limit:
                    counts[i] += 1
        elif age < other_limit:
            n_other += 1
        if age < short_limit:
            n_short += 1
        if age < long_limit:
            n_long += 1
        if age < limit_90:
            days_90.add(at_us // DAY_US)
            if age < limit_30:
                days_30.add(at_us // DAY_US)
        if last_age is None or age < last_age:
            last_age = age
        if activity_type in high and (last_high_age is None or age < last_high_age):
            last_high_age = age
    out: dict[str, float] = {}
    for activity_type, names in _count_names(windows):
        for name, n in zip(names, known[activity_type], strict=True):
            out[name] = float(n)
    out[f"n_other_{OTHER_WINDOW_DAYS}d"] = float(n_other)
    out["days_since_high_intent"] = days(last_high_age)
    out["days_since_last_activity"] = days(last_age)
    out["active_days_30d"] = float(len(days_30))
    out["active_days_90d"] = float(len(days_90))
    out["trend_7_30"] = trend(n_short, n_long)
    return out


@lru_cache(maxsize=64)
def _no_activity(windows: tuple[int, ...]) -> dict[str, float]:
    """``intent_features`` of a lead without activity (callers copy it; never mutate it)."""
    out = {name: 0.0 for _, names in _count_names(windows) for name in names}
    out[f"n_other_{OTHER_WINDOW_DAYS}d"] = 0.0
    out["days_since_high_intent"] = days(None)
    out["days_since_last_activity"] = days(None)
    out["active_days_30d"] = 0.0
    out["active_days_90d"] = 0.0
    out["trend_7_30"] = trend(0, 0)
    return out


def _activity_pairs(activities: Any) -> list[tuple[str, int]]:
    return [_activity(item, i) for i, item in enumerate(_activity_list(activities))]


def build_online(
    lead: Mapping[str, Any],
    as_of: datetime | str | None,
    config: Mapping[str, Any],
    attribute_roles: Mapping[str, tuple[str, str]] | None = None,
) -> dict[str, float | str | None]:
    """Every feature of one lead at ``as_of``, in registry order, in plain Python.

    Args:
        lead: the lead's contract fields (``source``, ``title``, ``company_size``, ``industry``,
            ``country``, ``email_domain`` or ``email``; any may be missing), optional
            ``activities`` (``[{"activity_type", "occurred_at"}]``, datetimes or ISO strings) and
            optional ``attributes`` (``{column: value}`` for the store's extra columns). An e-mail
            address is reduced to its domain and never kept or logged.
        as_of: the scoring moment (naive = UTC); None means now. Activities after it are ignored.
        config: the leadscore config (``icp`` and ``features`` sections).
        attribute_roles: ``{column: (role, kind)}`` of the store the model was trained on.

    Returns:
        ``{feature: value}``: floats (NaN when unknown) for numeric features, str or None for
        categorical ones.

    Raises:
        LeadscoreError: when ``as_of`` or an activity is malformed; the message names the field.
    """
    return online_builder(config, attribute_roles)(lead, as_of)


def online_builder(
    config: Mapping[str, Any],
    attribute_roles: Mapping[str, tuple[str, str]] | None = None,
) -> Callable[[Mapping[str, Any], datetime | str | None], dict[str, float | str | None]]:
    """``build_online`` with ``config`` and ``attribute_roles`` read once: ``build(lead, as_of)``
    gives exactly what ``build_online(lead, as_of, config, attribute_roles)`` does. For scoring
    many leads with one model (a request, a batch)."""
    return _builder(config_key(config), roles_key(attribute_roles))


@lru_cache(maxsize=64)
def _builder(config_key: tuple, roles_key: tuple) -> Callable[..., dict[str, Any]]:
    specs, attrs, icp, windows, high = plan_of_keys(config_key, roles_key)
    names = tuple(spec.name for spec in specs)
    attributes = tuple((spec.name, spec.attribute, spec.kind) for spec in attrs)
    fit_features = fit.fit_features

    def build(lead: Mapping[str, Any], as_of: datetime | str | None) -> dict[str, Any]:
        as_of_us = _as_of_epoch_us(as_of)
        values: dict[str, Any] = fit_features(lead, icp)
        values.update(intent_features(
            _activity_pairs(lead.get("activities")), as_of_us, windows, high
        ))
        for name, column, kind in attributes:
            values[name] = attribute_value(_attribute_raw(lead, column), kind)
        return {name: values[name] for name in names}

    return build




def encode_record(encoder: Any, record: Mapping[str, Any]) -> Any:
    """One lead's raw features encoded through the frame path (``FeatureEncoder.transform``), the
    reference the API's column path (``transform_columns``) is held to."""
    frame = pd.DataFrame([{name: record.get(name) for name in encoder.feature_names_}])
    return encoder.transform(frame)[0]
