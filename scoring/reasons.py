"""Reasons: the signals behind a score, from the full booster's exact TreeSHAP contributions.

Each reason is one feature's signed contribution in log-odds, with its group (fit / intent) and a
label a person reads ("Viewed pricing 3 times in the last 7 days"), rendered from the lead's raw
feature value by the feature registry (``features.definitions.render_reason``).

``Reason`` here is the value the scoring path produces; ``serving.schemas.Reason`` is its wire
form (descriptions and examples for the OpenAPI document). They are two because scoring may not
import serving and the hot path builds plain dataclasses, not validated Pydantic models;
``tests/serving/test_service_asgi.py`` holds their fields equal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from features.definitions import render_reason


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


def reasons_for(
    contrib_row: np.ndarray, raw: Mapping[str, Any], features: Sequence[Mapping[str, Any]],
    top: int,
) -> list[Reason]:
    """The ``top`` largest contributions of one lead, labelled from its raw feature values.

    Args:
        contrib_row: the lead's contributions, one per feature, then the base value.
        raw: the lead's raw (unencoded) feature values.
        features: the manifest's feature specs, in the contributions' order.
        top: how many reasons at most; a zero contribution is never a reason.
    """
    values = contrib_row[:-1]
    order = np.argsort(-np.abs(values), kind="stable")[:top]
    out = []
    for i in order:
        if values[i] == 0.0:
            continue
        name = features[i]["name"]
        # a full spec (with its label template) keeps an attribute's original column name
        spec = features[i] if "label" in features[i] else None
        out.append(Reason(name, render_reason(name, raw.get(name), spec),
                          features[i]["group"], float(values[i])))
    return out


def top_reasons_of(
    contributions: np.ndarray, raws: Sequence[Mapping[str, Any]],
    features: Sequence[Mapping[str, Any]], top: int,
) -> list[list[Reason]]:
    """``reasons_for`` of every row of a contributions matrix."""
    return [reasons_for(contributions[i], raws[i], features, top)
            for i in range(len(contributions))]
