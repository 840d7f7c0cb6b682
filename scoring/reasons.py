"""Reasons: the signals behind a score, from the full booster's exact TreeSHAP contributions.

Each reason is one feature's signed contribution in log-odds, with its group (fit / intent) and a
label a person reads ("Viewed pricing 3 times in the last 7 days"), rendered from the lead's raw
feature value by the feature registry (``features.reason_labels.render_reason``).

``Reason`` here is the value the scoring path produces; ``serving.schemas.Reason`` is its wire
form (descriptions and examples for the OpenAPI document). They are two because scoring may not
import serving and the hot path builds plain dataclasses, not validated Pydantic models;
``tests/serving/test_service_asgi.py`` holds their fields equal.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from features.definitions import FeatureSpec, numeric_value
from features.reason_labels import other_reason, render_reason, unseen_reason

NOISE_LOG_ODDS = 1e-12
"""A contribution smaller than this (log-odds) is float noise, never a reason: a linear term of a
feature every lead shares is its value minus its mean, which rounds to ~1e-17 rather than 0."""
OTHER = object()
"""``shown_value``'s answer for a category the model never learned: the label reads "other", or
"not seen in training" when the encoder never saw it at all."""


@dataclass(frozen=True)
class Reason:
    """One signal behind a score: its label, its group and its signed impact (log-odds)."""

    feature: str
    label: str
    group: str
    impact: float

    def as_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "label": self.label, "group": self.group,
                "impact": round(self.impact, 6)}


def shown_value(value: Any, known: frozenset[str] | None, kind: str | None) -> Any:
    """``value`` as a reason may show it: a category the model learned, else ``OTHER``.

    A label never repeats free text a client sent (an e-mail or a name typed into ``industry``):
    only values of the model's own vocabulary (``known``, for a categorical feature), or numbers,
    get through.
    """
    if value is None or isinstance(value, bool):
        return value
    if known is not None:
        return value if str(value) in known else OTHER
    if kind == "numeric" and isinstance(value, str):  # as the model read it; unreadable: unknown
        number = numeric_value(value)
        return None if math.isnan(number) else number
    return value


class _Labels:
    """The labels of one batch: each feature's spec parsed once, each (feature, value) rendered
    once. Rendering was a third of batch scoring once TreeSHAP was compiled, and the same few
    values recur over many leads."""

    def __init__(self, features: Sequence[Mapping[str, Any]],
                 vocabulary: Mapping[str, frozenset[str]] | None = None,
                 unseen: Callable[[str, Any], bool] | None = None,
                 learned: Callable[[str, Any], str | None] | None = None) -> None:
        # a full spec (with its label template) keeps an attribute's original column name
        self.specs = [FeatureSpec.from_dict(f) if "label" in f else None for f in features]
        self.known = [(vocabulary or {}).get(f["name"]) for f in features]
        self.kinds = [f.get("kind") for f in features]
        self.unseen = unseen
        self.learned = learned
        self.rendered: dict[tuple, str] = {}

    def __call__(self, i: int, name: str, raw_value: Any) -> str:
        known = self.known[i]
        if (self.learned is not None and known is not None and isinstance(raw_value, str)
                and raw_value not in known):
            # a case or spacing variant of a learned category reads as the model learned it
            raw_value = self.learned(name, raw_value) or raw_value
        value = shown_value(raw_value, known, self.kinds[i])
        if value is OTHER:
            if self.unseen is not None and self.unseen(name, raw_value):
                return unseen_reason(name, self.specs[i])
            return other_reason(name, self.specs[i])
        key = (i, type(value), value)
        try:
            label = self.rendered.get(key)
        except TypeError:  # an unhashable value
            return render_reason(name, value, self.specs[i])
        if label is None:
            label = self.rendered[key] = render_reason(name, value, self.specs[i])
        return label


def reasons_for(
    contrib_row: np.ndarray, raw: Mapping[str, Any], features: Sequence[Mapping[str, Any]],
    top: int, labels: _Labels | None = None,
    vocabulary: Mapping[str, frozenset[str]] | None = None,
    unseen: Callable[[str, Any], bool] | None = None,
) -> list[Reason]:
    """The ``top`` largest contributions of one lead, labelled from its raw feature values.

    Args:
        contrib_row: the lead's contributions, one per feature, then the base value.
        raw: the lead's raw (unencoded) feature values.
        features: the manifest's feature specs, in the contributions' order.
        top: how many reasons at most; a zero contribution (under ``NOISE_LOG_ODDS``) is never
            a reason.
        labels: a batch's label cache (``top_reasons_of`` passes one).
        vocabulary: each categorical feature's learned categories; any other value reads
            "other" (None: every categorical value is shown as sent).
        unseen: whether a feature's value was never seen in training
            (``FeatureEncoder.is_unseen``): such a value reads "not seen in training".
    """
    values = contrib_row[:-1]
    order = np.argsort(-np.abs(values), kind="stable")[:top]
    out = []
    for i in order:
        if abs(values[i]) < NOISE_LOG_ODDS:
            continue
        name = features[i]["name"]
        if labels is None:
            labels = _Labels(features, vocabulary, unseen)
        label = labels(i, name, raw.get(name))
        out.append(Reason(name, label, features[i]["group"], float(values[i])))
    return out


def top_reasons_of(
    contributions: np.ndarray, raws: Sequence[Mapping[str, Any]],
    features: Sequence[Mapping[str, Any]], top: int,
    vocabulary: Mapping[str, frozenset[str]] | None = None,
    unseen: Callable[[str, Any], bool] | None = None,
    learned: Callable[[str, Any], str | None] | None = None,
) -> list[list[Reason]]:
    """``reasons_for`` of every row of a contributions matrix (``learned``: the learned category
    a value is coded as, ``FeatureEncoder.learned_category``; a variant of one reads as it)."""
    labels = _Labels(features, vocabulary, unseen, learned)
    return [reasons_for(contributions[i], raws[i], features, top, labels)
            for i in range(len(contributions))]
