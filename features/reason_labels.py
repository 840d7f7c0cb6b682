"""Reason labels: the sentence a person reads for one feature value of one lead.

Labels are templates on the feature's spec (``features.definitions.FeatureSpec``), rendered from
the lead's raw feature value: "Viewed pricing 3 times in the last 7 days", "Title seniority: VP",
"Free e-mail domain"; a category the model grouped as other, or never saw, gets its own sentence.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from features.definitions import FeatureSpec, spec_for

_DISPLAY = {
    "seniority": {"c_level": "C-level", "vp": "VP", "individual": "Individual contributor"},
    "department": {"it": "IT", "hr": "HR"},
    "region": {"north_america": "North America", "apac": "APAC", "latam": "Latin America",
               "mea": "Middle East & Africa", "europe": "Europe"},
}
_UNKNOWN_CATEGORY = {"seniority", "department", "company_size_band", "region"}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def display_value(name: str, value: Any) -> str:
    """A feature's value as people read it: "VP", "IT", "Paid search", "United States"."""
    return _display(name, value)


def _display(name: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = str(value)
        if name in _DISPLAY and text in _DISPLAY[name]:
            return _DISPLAY[name][text]
        if name == "country":
            return text.title() if text.islower() else text
        if name in ("source", "industry", "department", "seniority"):
            text = text.replace("_", " ")
            return text[:1].upper() + text[1:]
        return text
    return _number(value)


def _days_text(value: float) -> str:
    if value < 1:
        return "less than a day"
    whole = int(value)
    return "1 day" if whole == 1 else f"{whole} days"


def render_reason(
    name: str, value: Any, spec: FeatureSpec | Mapping[str, Any] | None = None
) -> str:
    """The human-readable reason for one feature value of one lead.

    Args:
        name: the feature name.
        value: the raw (unencoded) feature value, as the feature builders give it.
        spec: the feature's spec (or its ``as_dict()`` form, e.g. from a model manifest). Without
            it the label is derived from the name, which for ``attr_`` features loses the
            export's original spelling of the column.

    >>> render_reason("n_pricing_view_7d", 3.0)
    'Viewed pricing 3 times in the last 7 days'
    >>> render_reason("company_size_band", "201-1000")
    'Company size: 201-1000 employees'
    """
    if isinstance(spec, Mapping):
        spec = FeatureSpec.from_dict(spec)
    spec = spec or spec_for(name)
    if spec is None:
        return f"{name.replace('_', ' ').capitalize()}: {'unknown' if _missing(value) else value}"
    unknown = (
        _missing(value)
        or value == ""
        or (spec.name in _UNKNOWN_CATEGORY and value == "unknown")
    )
    if unknown:
        return spec.missing_label or f"{name.replace('_', ' ').capitalize()}: unknown"
    if spec.kind == "numeric" and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return spec.label.format(value=value, n=value, s="s", times=value, days=value,
                                     percent=value)
    if spec.kind == "numeric" and not isinstance(value, str) and float(value) == 0.0:
        if spec.zero_label:
            return spec.zero_label
    fields: dict[str, Any] = {"value": _display(spec.name, value)}
    if spec.kind == "numeric":
        number = float(value)
        whole = int(round(number))
        fields.update(
            n=_number(number),
            s="" if whole == 1 else "s",
            times="once" if whole == 1 else f"{_number(number)} times",
            days=_days_text(number),
            percent=f"{round(number * 100)}%",
        )
    else:
        fields.update(n=fields["value"], s="s", times=fields["value"], days=fields["value"],
                      percent=fields["value"])
    return spec.label.format(**fields)


def other_reason(name: str, spec: FeatureSpec | Mapping[str, Any] | None = None) -> str:
    """The reason for a category the model never learned: the feature's title and "other".

    >>> other_reason("company_size_band")
    'Company size: other'
    """
    if isinstance(spec, Mapping):
        spec = FeatureSpec.from_dict(spec)
    spec = spec or spec_for(name)
    return f"{_title(name, spec)}: other"


def unseen_reason(name: str, spec: FeatureSpec | Mapping[str, Any] | None = None) -> str:
    """The reason for a category never seen in training: the feature's title and that it is new.

    >>> unseen_reason("company_size_band")
    'Company size: not seen in training'
    """
    if isinstance(spec, Mapping):
        spec = FeatureSpec.from_dict(spec)
    return f"{_title(name, spec or spec_for(name))}: not seen in training"


def _title(name: str, spec: FeatureSpec | None) -> str:
    template = spec.label if spec is not None else ""
    return template.split(":", 1)[0] if ":" in template else name.replace("_", " ").capitalize()
