"""The feature plan of a config and a store: which features exist, in which order, and the
values both builders read once (ICP lists, count windows, high-intent activity types).

``features.online`` (one request's leads, in Python) and ``features.batch`` (scoring points read
from the store, in SQL) both start from ``feature_plan``, so they build the same features in the
same order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from features import fit, intent
from features.definitions import FeatureSpec, feature_specs


class FeaturePlan(NamedTuple):
    specs: tuple[FeatureSpec, ...]
    attributes: tuple[FeatureSpec, ...]
    icp: Mapping[str, frozenset[str]]
    windows: tuple[int, ...]
    high_intent: tuple[str, ...]


def roles_key(roles: Mapping[str, Sequence[str]] | None) -> tuple[tuple[str, str, str], ...]:
    """``attribute_roles`` as a hashable key (for the builders' caches)."""
    return tuple(sorted((str(k), str(v[0]), str(v[1])) for k, v in (roles or {}).items()))


def config_key(config: Mapping[str, Any]) -> tuple:
    """The feature-building part of a config as a hashable key (validated on the way)."""
    icp = config.get("icp") or {}
    return (
        intent.windows_days(config),
        intent.high_intent_types(config),
        tuple((k, tuple(str(x) for x in (icp.get(k) or ()))) for k in sorted(icp)),
    )


def feature_plan(
    config: Mapping[str, Any], attribute_roles: Mapping[str, Sequence[str]] | None = None
) -> FeaturePlan:
    """The plan of ``config`` (``features`` and ``icp`` sections) and a store's attributes."""
    return plan_of_keys(config_key(config), roles_key(attribute_roles))


@lru_cache(maxsize=64)
def plan_of_keys(config_key: tuple, roles_key: tuple) -> FeaturePlan:
    windows, high, icp_items = config_key
    config = {
        "features": {"windows_days": list(windows), "high_intent_activities": list(high)},
        "icp": {k: list(v) for k, v in icp_items},
    }
    roles = {name: (role, kind) for name, role, kind in roles_key}
    specs = tuple(feature_specs(roles, config))
    attrs = tuple(s for s in specs if s.attribute is not None)
    return FeaturePlan(specs, attrs, fit.icp_lists(config), windows, high)
