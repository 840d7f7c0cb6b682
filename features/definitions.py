"""The feature registry: every feature's name, group, kind and the reason label a person reads.

A feature belongs to exactly one group, ``fit`` (who the lead is) or ``intent`` (what the lead did),
and is ``numeric`` (a float, NaN when unknown) or ``categorical`` (a string, None when unknown).
The fixed features are the same for every store; the dynamic ones come from the store's extra lead
columns (``attribute_roles``): a ``fit`` or ``intent`` attribute becomes ``attr_<slug>``, while
``post_outcome`` and ``ignore`` attributes never become features, whatever their name.

Each spec carries its reason label's templates; ``features.reason_labels`` renders them from a
lead's raw feature value: "Viewed pricing 3 times in the last 7 days", "Title seniority: VP".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from features import intent
from features.contract import ACTIVITY_TYPES, is_placeholder

GROUPS = ("fit", "intent")
KINDS = ("numeric", "categorical")
FEATURE_ROLES = frozenset(GROUPS)
"""Attribute roles that become features; every other role (post_outcome, ignore) never does."""
ATTRIBUTE_PREFIX = "attr_"


@dataclass(frozen=True)
class FeatureSpec:
    """One feature.

    Attributes:
        name: column name in feature frames and in the model.
        group: ``fit`` or ``intent``.
        kind: ``numeric`` or ``categorical``.
        label: reason template; fields ``{value}`` (display form), ``{n}`` (whole number), ``{s}``
            (plural "s"), ``{times}`` ("once", "3 times"), ``{days}`` ("2 days"),
            ``{percent}`` ("67%").
        definition: one sentence for the documentation.
        missing_label: the reason when the value is missing (NaN / None / "unknown").
        zero_label: the reason when a numeric value is 0 (counts, flags).
        attribute: for ``attr_`` features, the extra lead column it reads from ``leads.attributes``.
    """

    name: str
    group: str
    kind: str
    label: str
    definition: str = ""
    missing_label: str | None = None
    zero_label: str | None = None
    attribute: str | None = None

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValueError(f"feature {self.name}: group must be one of {GROUPS}")
        if self.kind not in KINDS:
            raise ValueError(f"feature {self.name}: kind must be one of {KINDS}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form, as stored in a model bundle's manifest."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSpec:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in fields})


# ---- fixed features -----------------------------------------------------------------------------

_FIT = (
    FeatureSpec("source", "fit", "categorical", "Source: {value}",
                "Lead source in lower snake case (\"Paid Search\" -> paid_search).",
                missing_label="Source unknown"),
    FeatureSpec("seniority", "fit", "categorical", "Title seniority: {value}",
                "Seniority parsed from the free-text title: c_level, vp, director, manager, "
                "individual, student, unknown.",
                missing_label="Title seniority unknown"),
    FeatureSpec("department", "fit", "categorical", "Department: {value}",
                "Function parsed from the title: sales, marketing, engineering, it, finance, "
                "operations, hr, executive, other, unknown.",
                missing_label="Department unknown"),
    FeatureSpec("company_size_band", "fit", "categorical", "Company size: {value} employees",
                "Head-count band parsed from the raw company size: 1-10, 11-50, 51-200, 201-1000, "
                "1001-5000, 5001+, unknown.",
                missing_label="Company size unknown"),
    FeatureSpec("industry", "fit", "categorical", "Industry: {value}",
                "Industry in lower case, spaces trimmed and collapsed.",
                missing_label="Industry unknown"),
    FeatureSpec("country", "fit", "categorical", "Country: {value}",
                "Canonical country name (US, USA, United States -> united states).",
                missing_label="Country unknown"),
    FeatureSpec("region", "fit", "categorical", "Region: {value}",
                "Sales region of the country: north_america, europe, apac, latam, mea, unknown.",
                missing_label="Region unknown"),
    FeatureSpec("free_email", "fit", "numeric", "Free e-mail domain",
                "1 for a free mail provider's domain (gmail.com ...), 0 for a corporate domain, "
                "NaN without a domain.",
                missing_label="No e-mail domain", zero_label="Corporate e-mail domain"),
    FeatureSpec("icp_match", "fit", "numeric", "Matches the ideal customer profile",
                "1 when size band, industry, seniority and region are all in the config's icp "
                "lists (an empty list is not checked), else 0.",
                zero_label="Outside the ideal customer profile"),
    FeatureSpec("completeness", "fit", "numeric", "Profile {percent} complete",
                "Share of the six fit fields (title, company_size, industry, country, "
                "email_domain, source) that are filled in.",
                zero_label="Profile empty: no fit field filled in"),
)

# activity type -> (label template with {times}/{n}/{s}, zero label, noun for high-intent phrases)
_ACTIVITY_TEXT = {
    "demo_request": ("Requested a demo {times}", "No demo request", "demo request"),
    "pricing_view": ("Viewed pricing {times}", "No pricing views", "pricing view"),
    "content_download": ("Downloaded content {times}", "No content downloads", "content download"),
    "webinar_attended": ("Attended {n} webinar{s}", "No webinars attended", "webinar"),
    "email_click": ("Clicked {n} e-mail{s}", "No e-mail clicks", "e-mail click"),
    "page_view": ("Viewed {n} page{s}", "No page views", "page view"),
}


def _window_text(window: int) -> str:
    return "day" if window == 1 else f"{window} days"


def _activity_text(activity_type: str) -> tuple[str, str, str]:
    if activity_type in _ACTIVITY_TEXT:
        return _ACTIVITY_TEXT[activity_type]
    words = activity_type.replace("_", " ")
    return (f"{words.capitalize()} {{times}}", f"No {words}", words)


def count_spec(activity_type: str, window: int) -> FeatureSpec:
    """The spec of ``n_<activity_type>_<window>d``."""
    template, zero, _ = _activity_text(activity_type)
    span = f" in the last {_window_text(window)}"
    return FeatureSpec(
        intent.count_name(activity_type, window), "intent", "numeric", template + span,
        f"Number of {activity_type} activities in (as_of - {window} days, as_of].",
        zero_label=zero + span, missing_label=zero + span,
    )


def _high_intent_phrase(high_intent: tuple[str, ...]) -> str:
    nouns = [_activity_text(t)[2] for t in high_intent] or ["high-intent activity"]
    return " or ".join(nouns)


def _intent_specs(windows: tuple[int, ...], high_intent: tuple[str, ...]) -> list[FeatureSpec]:
    """The specs of ``intent.intent_definition``: each feature with the texts it is declared with;
    a count of a contract type declared without texts gets ``count_spec``'s."""
    words = {"{high}": _high_intent_phrase(high_intent), "{high_types}": " / ".join(high_intent)}

    def text(template: str | None) -> str | None:
        for key, value in words.items():
            template = template.replace(key, value) if template else template
        return template

    specs = []
    for feature in intent.intent_definition(windows):
        if not feature.label and feature.kind == "count" and feature.activity in ACTIVITY_TYPES:
            spec = count_spec(feature.activity, feature.window_days)
            specs.append(FeatureSpec(**{**asdict(spec), "name": feature.name}))
        else:
            specs.append(FeatureSpec(feature.name, "intent", "numeric", text(feature.label),
                                     text(feature.definition), missing_label=text(
                                         feature.missing_label),
                                     zero_label=text(feature.zero_label)))
    return specs


# ---- dynamic (attribute) features ---------------------------------------------------------------

def slug(name: str) -> str:
    """A column name as a lower snake-case identifier ("Lead Quality" -> "lead_quality")."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_") or "unnamed"


def attribute_spec(name: str, role: str, kind: str) -> FeatureSpec:
    """The spec of one ``fit`` or ``intent`` attribute column.

    Raises:
        ValueError: for any other role: post-outcome and ignored columns are never features.
    """
    if role not in FEATURE_ROLES:
        raise ValueError(
            f"attribute {name!r} has role {role!r}: only fit and intent become features"
        )
    kind = kind if kind in KINDS else "categorical"
    missing = f"{name}: not answered" if kind == "categorical" else f"{name}: no value"
    return FeatureSpec(
        ATTRIBUTE_PREFIX + slug(name), role, kind, f"{name}: {{value}}",
        f"The export's column \"{name}\" ({role}, {kind}).",
        missing_label=missing, attribute=name,
    )


def feature_specs(
    attribute_roles: Mapping[str, tuple[str, str]] | None, config: Mapping[str, Any]
) -> list[FeatureSpec]:
    """Every feature of a store, in model column order: fit, fit attributes, intent, intent
    attributes (attributes sorted by name).

    Args:
        attribute_roles: ``{column: (role, kind)}`` from the store's ``attribute_roles`` table;
            only ``fit`` and ``intent`` roles are used.
        config: the leadscore config (``features.windows_days``,
            ``features.high_intent_activities``).
    """
    windows = intent.windows_days(config)
    high = intent.high_intent_types(config)
    attrs: dict[str, list[FeatureSpec]] = {"fit": [], "intent": []}
    taken: set[str] = set()
    for name in sorted(attribute_roles or {}, key=str):
        role, kind = attribute_roles[name]
        if role not in FEATURE_ROLES:
            continue
        spec = attribute_spec(name, role, kind)
        feature_name, k = spec.name, 2
        while feature_name in taken:  # "Lead Source" and "lead_source" must not collide
            feature_name, k = f"{spec.name}_{k}", k + 1
        taken.add(feature_name)
        attrs[role].append(FeatureSpec(**{**asdict(spec), "name": feature_name}))
    return [*_FIT, *attrs["fit"], *_intent_specs(windows, high), *attrs["intent"]]


def attribute_value(value: Any, kind: str) -> float | str | None:
    """An attribute's raw value as a feature value: float (NaN if unusable) or str (None)."""
    return numeric_value(value) if kind == "numeric" else categorical_value(value)


def numeric_value(value: Any) -> float:
    """A raw value as a float: numbers as they are, yes/no and true/false as 1/0, else NaN."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else math.nan
    if is_placeholder(value):
        return math.nan
    text = str(value).strip().lower()
    if text in ("yes", "true", "y"):
        return 1.0
    if text in ("no", "false", "n"):
        return 0.0
    try:
        number = float(text)  # the common case: a plain number, no pattern to run
    except ValueError:
        number = _written_number(text)
    return number if math.isfinite(number) else math.nan


_LEADING_UNIT = re.compile(r"^([+-]?)\s*[$€£¥]\s*")
_TRAILING_UNIT = re.compile(r"\s*[$€£¥%]$")
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?")


def _written_number(text: str) -> float:
    """A number as exports write it, by ingest's rule (``features.export_v2``): a currency or
    percent sign dropped ($1,200.00 reads 1200, 12.5% reads 12.5), digits grouped by commas in
    threes joined; any other comma (1,5) is NaN, never read as 15; text that is no number, NaN."""
    text = _TRAILING_UNIT.sub("", _LEADING_UNIT.sub(r"\1", text.replace("\u00a0", " ")))
    if "," in text:
        if not _GROUPED.fullmatch(text):
            return math.nan
        text = text.replace(",", "")
    try:
        return float(text)
    except ValueError:
        return math.nan


def categorical_value(value: Any) -> str | None:
    """A raw value as a category: stripped text (whole floats without ".0"), None if missing."""
    if is_placeholder(value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def spec_for(name: str) -> FeatureSpec | None:
    """The spec of a feature known by its name alone (fixed features, counts, ``attr_`` columns):
    what a reason label falls back to when no manifest spec is given."""
    for spec in _FIT:
        if spec.name == name:
            return spec
    match = re.fullmatch(r"n_(.+)_(\d+)d", name)
    if match and not name.startswith(f"n_other_{intent.OTHER_WINDOW_DAYS}"):
        return count_spec(match.group(1), int(match.group(2)))
    for spec in _intent_specs((), ("demo_request", "pricing_view")):
        if spec.name == name:
            return spec
    if name.startswith(ATTRIBUTE_PREFIX):
        column = name[len(ATTRIBUTE_PREFIX):].replace("_", " ").capitalize()
        return FeatureSpec(name, "fit", "categorical", f"{column}: {{value}}",
                           missing_label=f"{column}: not answered", attribute=column)
    return None
