"""The online feature builder: every feature of the leads of one request, sent as JSON.

``online_many_builder(config, roles)`` gives ``build(leads, as_ofs)``, which takes leads as
JSON-like dicts (a leads-table row plus optional ``activities`` and ``attributes``) and their
scoring moments, and computes every feature without pandas: the fit functions of
``features.fit`` per lead, and the intent kernel (``features.intent_kernel.intent_matrix``) over
every activity of the batch at once. The API, the MLflow pyfunc and ``leadscore score`` all build
features here (through ``scoring``).

The batch builder (``features.batch``) computes the same features from the store in SQL; both start
from ``features.plan`` and agree (``tests/features/test_parity.py``); nothing dated after
``as_of`` reaches a feature (``tests/features/test_leakage.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np

from features import fit, intent, intent_kernel
from features.definitions import attribute_value
from features.intent import EPOCH_UTC, ONE_US
from features.plan import config_key, plan_of_keys, roles_key
from leadscore.errors import LeadscoreError


@lru_cache(maxsize=1024)
def _activity_key(raw: str) -> str:
    return intent.activity_type_key(raw)


def _activity_list(activities: Any) -> Sequence[Any]:
    if activities is None:
        return ()
    if not isinstance(activities, list | tuple) and (
        not isinstance(activities, Sequence) or isinstance(activities, str | bytes)
    ):
        raise LeadscoreError("activities must be a list of {activity_type, occurred_at} objects.")
    return activities


def _activity(item: Any, i: int) -> tuple[str, int]:
    """``(activity type key, occurred_at in epoch microseconds)`` of activity ``i``."""
    if type(item) is not dict and not isinstance(item, Mapping):
        raise LeadscoreError(
            f"activities[{i}] must be an object with activity_type and occurred_at."
        )
    activity_type = item.get("activity_type")
    text = activity_type if type(activity_type) is str else (
        None if activity_type is None else str(activity_type))
    key = _activity_key(text) if text is not None else ""
    if not key and (text is None or not text.strip()):  # a key with a letter is never blank
        raise LeadscoreError(f"activities[{i}].activity_type is missing: name the activity.")
    try:
        at_us = intent.to_epoch_us(item.get("occurred_at"))
    except (TypeError, ValueError):
        raise LeadscoreError(
            f"activities[{i}].occurred_at is not an ISO-8601 timestamp: "
            "send it like 2026-03-01T14:30:00Z."
        ) from None
    return key, at_us


def _as_of_epoch_us(as_of: datetime | str | None) -> int:
    if as_of is None:
        as_of = datetime.now(UTC)
    try:
        return intent.to_epoch_us(as_of)
    except (TypeError, ValueError):
        raise LeadscoreError(
            "as_of is not an ISO-8601 timestamp: send it like 2026-03-01T14:30:00Z."
        ) from None


def _attribute_raw(lead: Mapping[str, Any], column: str) -> Any:
    attributes = lead.get("attributes")
    if isinstance(attributes, Mapping) and column in attributes:
        return attributes[column]
    return lead.get(column)


class LeadFeatureError(LeadscoreError):
    """Feature building refused lead ``index`` of a batch; the message names the field."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


class OnlineBatch:
    """The features of a batch of leads, column by column (``online_many_builder``).

    ``columns[name]`` holds one value per lead: a float64 array for each intent feature, a list
    of raw values (float, str or None) for the others. ``record(i)`` is lead i's features as a
    dict in registry order (what the reference's ``build_online`` gives, value for value).
    """

    def __init__(self, names: Sequence[str], columns: dict[str, Any], size: int) -> None:
        self.names = tuple(names)
        self.columns = columns
        self.size = size

    def __len__(self) -> int:
        return self.size

    def record(self, i: int) -> dict[str, float | str | None]:
        out: dict[str, Any] = {}
        for name in self.names:
            value = self.columns[name][i]
            out[name] = float(value) if isinstance(value, np.floating) else value
        return out

    def records(self) -> list[dict[str, float | str | None]]:
        return [self.record(i) for i in range(self.size)]


def online_many_builder(
    config: Mapping[str, Any],
    attribute_roles: Mapping[str, tuple[str, str]] | None = None,
) -> Callable[[Sequence[Mapping[str, Any]], Sequence[datetime | str | None]], OnlineBatch]:
    """The builder of ``config`` and ``attribute_roles``: ``build(leads, as_ofs)`` gives every
    feature of ``leads[i]`` at ``as_ofs[i]``, exactly what ``build_online`` of the pure-Python
    reference (``tests/features/reference.py``) gives lead by lead.

    Fit features come from the per-field functions of ``features.fit``; intent features from
    ``intent_kernel.intent_matrix``, the compiled kernel, over every activity of the batch at once.
    ``build`` raises ``LeadFeatureError`` for the first lead whose ``as_of`` or activity is
    malformed, with its index and the field.
    """
    return _many_builder(config_key(config), roles_key(attribute_roles))


@lru_cache(maxsize=64)
def _many_builder(config: tuple, roles: tuple) -> Callable[..., OnlineBatch]:
    specs, attrs, icp, windows, high = plan_of_keys(config, roles)
    names = tuple(spec.name for spec in specs)
    intent_names = tuple(intent.intent_feature_names(windows))
    fit_names = tuple(n for n in names if n not in set(intent_names)
                      and n not in {spec.name for spec in attrs})
    attributes = tuple((spec.name, spec.attribute, spec.kind) for spec in attrs)
    known_types = {t: i for i, t in enumerate(intent.ACTIVITY_TYPES)}
    fit_features = fit.fit_features

    def build(leads: Sequence[Mapping[str, Any]],
              as_ofs: Sequence[datetime | str | None]) -> OnlineBatch:
        n = len(leads)
        if len(as_ofs) != n:
            raise ValueError(f"{n} leads but {len(as_ofs)} as_of values")
        fit_rows = []
        as_of_us = np.empty(n, dtype=np.int64)
        type_of = dict(known_types)
        id_of_text: dict[str, int] = {}  # activity_type as sent -> type id, for this batch
        lead_index: list[int] = []
        type_ids: list[int] = []
        at_us: list[int] = []
        for i, lead in enumerate(leads):
            try:
                as_of_us[i] = _as_of_epoch_us(as_ofs[i])
                activities = _activity_list(lead.get("activities"))
                for j, item in enumerate(activities):
                    # The usual activity (a dict, a type text seen before, an aware datetime, as
                    # the API validates them) inline, as _activity would read it; anything else
                    # through _activity, once per type text, with its checks and messages.
                    type_id = text = None
                    if type(item) is dict:
                        text, at = item.get("activity_type"), item.get("occurred_at")
                        if type(text) is str and type(at) is datetime and at.tzinfo is not None:
                            type_id = id_of_text.get(text)
                            if type_id is not None:
                                try:
                                    at = (at - EPOCH_UTC) // ONE_US
                                except TypeError:  # a tzinfo without an offset: naive
                                    type_id = None
                    if type_id is None:
                        key, at = _activity(item, j)
                        type_id = type_of.get(key)
                        if type_id is None:
                            type_id = type_of[key] = len(type_of)
                        if type(text) is str:
                            id_of_text[text] = type_id
                    type_ids.append(type_id)
                    at_us.append(at)
            except LeadscoreError as exc:
                raise LeadFeatureError(i, str(exc)) from None
            lead_index.extend([i] * len(activities))
            fit_rows.append(fit_features(lead, icp))
        columns: dict[str, Any] = {name: [row[name] for row in fit_rows] for name in fit_names}
        block = intent_kernel.intent_matrix(*_sorted_activities(lead_index, type_ids, at_us, n),
                                     as_of_us, windows,
                                     np.array([t in high for t in type_of], dtype=np.bool_))
        for j, name in enumerate(intent_names):
            columns[name] = block[:, j]
        for name, column, kind in attributes:
            columns[name] = [attribute_value(_attribute_raw(lead, column), kind) for lead in leads]
        return OnlineBatch(names, columns, n)

    return build


def _sorted_activities(
    lead_index: list[int], type_ids: list[int], at_us: list[int], n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(lead_start, type_id, at_us)`` as ``intent_kernel.intent_matrix`` takes them: sorted by
    lead, time and type, each repeated (lead, type, time) kept once, as the store keeps it."""
    lead = np.array(lead_index, dtype=np.int64)
    types = np.array(type_ids, dtype=np.int64)
    at = np.array(at_us, dtype=np.int64)
    order = np.lexsort((types, at, lead))
    lead, types, at = lead[order], types[order], at[order]
    if len(lead) > 1:
        keep = np.ones(len(lead), dtype=np.bool_)
        keep[1:] = (lead[1:] != lead[:-1]) | (at[1:] != at[:-1]) | (types[1:] != types[:-1])
        if not keep.all():
            lead, types, at = lead[keep], types[keep], at[keep]
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(lead, minlength=n), out=start[1:])
    return start, types, at

