"""Request models of the scoring API; their descriptions and examples are the OpenAPI.

The response models are in ``serving.response_schemas`` (re-exported here).

Validation policy (docs/api.md says the same to callers):

* The request's top level is strict: an unknown key is an error (a typo such as ``"lead"`` or
  ``"reason"`` would otherwise be silently ignored).
* A lead is lenient: CRM payloads carry many more columns than the data contract, so unknown lead
  fields (``first_name``, ``hs_object_id``, ...) are accepted and ignored: never stored, never
  logged. Extra fit/intent columns a mapping declared go in ``attributes``, or at the lead's top
  level as a batch file's columns do (``serving.score_path.lead_record``): a field named like a
  column the model learned from is read and checked as an attribute, never ignored.
* Numbers are accepted where text is expected (``"company_size": 250``, ``"lead_id": 123``).
* Timestamps follow the one rule of every scoring path (``features.timestamps``): ISO 8601
  (``2026-11-02T09:30:00Z``, ``2026-11-02``) or Unix seconds, a timestamp without a zone is UTC,
  and years outside 2000..2199 are rejected (typos, window overflow, or a compact date read as
  Unix seconds: ``"20261101"`` is 1970-08-23). A lead's optional timestamp sent as ``""`` is
  none, as an empty cell of a file is.
* Text holds no NUL character (``NO_NUL``): PostgreSQL cannot store one.
* ``hide_input_in_errors``: a rejected value never appears in a validation message, so an e-mail in
  the wrong field cannot reach a log line or an error body.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
    model_validator,
    with_config,
)
from typing_extensions import TypedDict

from features.text_rules import (
    ATTRIBUTE_VALUE_RULE,
    LEAD_ID_RULE,
    MAX_ATTRIBUTE_NAME,
    MAX_TEXT,
    NO_NUL,
    NUL_RULE,
    TOO_LONG_RULE,
    key_problem,
)
from features.timestamps import EARLIEST, LATEST
from serving.response_schemas import (
    Band,
    Changes,
    ErrorResponse,
    FieldError,
    LeadScore,
    ModelInfo,
    MovedReason,
    PreviousScore,
    Reason,
    ScoreResponse,
)

# the response models moved to serving.response_schemas; importers of this module keep working
__all__ = [
    "Band", "Changes", "ErrorResponse", "FieldError", "LeadScore", "ModelInfo", "MovedReason",
    "PreviousScore", "Reason", "ScoreResponse",
    "MAX_ACTIVITIES", "MAX_LEADS", "LEAD_EXAMPLE", "CLIENT_KEY", "Activity", "Attributes",
    "AttributeValue", "EventTime", "KeyText", "Lead", "LeadIdText", "Listed", "OptionalTimestamp",
    "ScoreRequest", "Text", "Timestamp", "attribute_value", "field_path", "model_field_names",
]

MAX_LEADS = 1000
MAX_ACTIVITIES = 10_000


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# pydantic-core checks the range itself (instants compared in UTC, a naive value read as UTC).
EventTime = Annotated[datetime, Field(
    ge=EARLIEST, lt=LATEST,
    # the range is enforced above; the OpenAPI document says it too (JSON Schema has no date-time
    # bounds, hence the ajv-formats keywords and the sentence)
    json_schema_extra={"formatMinimum": "2000-01-01T00:00:00Z",
                       "formatExclusiveMaximum": "2200-01-01T00:00:00Z",
                       "x-range": "2000-01-01T00:00:00Z <= value < 2200-01-01T00:00:00Z"},
)]
"""An activity's time, as sent (offset kept, naive = UTC): feature building converts each to
epoch microseconds, so a Python validator here would only add a call per activity, thousands in a
large request."""
Timestamp = Annotated[EventTime, AfterValidator(_as_utc)]
"""A lead's timestamp, in UTC."""


def _none_if_blank(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


OptionalTimestamp = Annotated[Timestamp | None, BeforeValidator(
    _none_if_blank, json_schema_input_type=Timestamp | None)]
"""A lead's optional timestamp: ``""`` (what CRM webhooks send for an empty date) is none, as an
empty cell of a batch file is."""
Text = Annotated[str, Field(max_length=MAX_TEXT, pattern=NO_NUL)]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError(LEAD_ID_RULE)
    return fits_key(value)


def fits_key(value: str) -> str:
    """``value`` when it fits a database index (``features.text_rules.key_problem``)."""
    problem = key_problem(value)
    if problem:
        raise ValueError(problem)
    return value


LeadIdText = Annotated[Text, Field(min_length=1), AfterValidator(_not_blank)]
"""A lead's id: text with a character other than a space (scores are written and logged by it;
batch refuses a blank one alike), at most ``MAX_KEY_BYTES`` in UTF-8 (every store indexes it)."""
KeyText = Annotated[Text, AfterValidator(fits_key)]
"""Text the live store keys a row by (an activity type, a status, a stage)."""
AttributeValue = Annotated[str, Field(max_length=MAX_TEXT, pattern=NO_NUL)] | float | bool | None


def _empty_if_null(value: Any) -> Any:
    return [] if value is None else value


def _empty_dict_if_null(value: Any) -> Any:
    return {} if value is None else value


def Listed(kind: Any, *, max_items: int) -> Any:  # noqa: N802 - used as a type
    """A list of at most ``max_items`` where JSON ``null`` means empty: CRM webhooks send null
    for every empty property. The OpenAPI document says both (array or null)."""
    bounded = Annotated[list[kind], Field(max_length=max_items)]  # type: ignore[valid-type]
    return Annotated[bounded, BeforeValidator(_empty_if_null,
                                              json_schema_input_type=bounded | None)]

_INPUT = ConfigDict(hide_input_in_errors=True, coerce_numbers_to_str=True, extra="ignore")

# Model-level examples live here, not in ``json_schema_extra``: BentoML's OpenAPI component
# builder rejects an ``examples`` key on a model schema. ``serving.openapi`` puts them on the
# request body instead.
LEAD_EXAMPLE: dict[str, Any] = {
    "lead_id": "00Q5e00001AbCdE",
    "created_at": "2026-10-28T14:02:00Z",
    "source": "webinar",
    "title": "VP Marketing",
    "company_size": "201-1000",
    "industry": "Software",
    "country": "US",
    "email_domain": "acme.io",
    "campaign": "q4-launch",
    "activities": [
        {"activity_type": "pricing_view", "occurred_at": "2026-10-30T10:00:00Z"},
        {"activity_type": "demo_request", "occurred_at": "2026-10-31T16:20:00Z"},
    ],
    "as_of": "2026-11-01T00:00:00Z",
}


# A typed dict rather than a model: a request may carry thousands of activities, and a plain
# dict is what feature building reads anyway (pydantic builds it without a Python call).
@with_config(_INPUT)
class Activity(TypedDict):
    """One intent event of a lead (a row of the `activities` table)."""

    activity_type: Annotated[Text, Field(
        min_length=1,
        description=(
            "What the lead did: demo_request, pricing_view, content_download, webinar_attended, "
            "email_click, page_view, or any other type (counted as `other`)."
        ),
        examples=["demo_request"],
    )]
    occurred_at: Annotated[EventTime, Field(
        description=(
            "When it happened (ISO 8601; no zone means UTC). Events after `as_of` are ignored."
        ),
        examples=["2026-10-30T10:00:00Z"],
    )]


_AttributeMap = dict[Annotated[str, Field(max_length=MAX_ATTRIBUTE_NAME, pattern=NO_NUL)],
                     AttributeValue]
Attributes = Annotated[_AttributeMap, BeforeValidator(
    _empty_dict_if_null, json_schema_input_type=_AttributeMap | None)]


class Lead(BaseModel):
    """One lead: a row of the `leads` table, its activities, and the moment to score it at.

    Other fields are kept aside (``__pydantic_extra__``) unvalidated: one named like a column the
    served model learned from is its attribute (``attribute_value``); the rest are ignored.
    """

    model_config = ConfigDict(**{**_INPUT, "extra": "allow"})

    lead_id: LeadIdText = Field(
        description="The CRM's id of the lead; echoed back with its scores.",
        examples=["00Q5e00001AbCdE"],
    )
    created_at: OptionalTimestamp = Field(
        default=None, description="When the lead was created.", examples=["2026-10-28T14:02:00Z"]
    )
    source: Text | None = Field(
        default=None, description="Lead source (paid search, webinar, referral ...).",
        examples=["webinar"],
    )
    title: Text | None = Field(
        default=None, description="Job title, free text.", examples=["VP Marketing"]
    )
    company_size: Text | None = Field(
        default=None,
        description="Head count or band, free text (\"250\", \"51-200\", \"5000+\").",
        examples=["201-1000"],
    )
    industry: Text | None = Field(default=None, description="Industry.", examples=["Software"])
    country: Text | None = Field(
        default=None, description="Country name or ISO code.", examples=["US"]
    )
    email: Text | None = Field(
        default=None,
        description=(
            "E-mail address. Only its domain is used (corporate vs free mail); the address is "
            "never stored or logged. Send `email_domain` instead when you can."
        ),
        examples=["jane.doe@acme.io"],
    )
    email_domain: Text | None = Field(
        default=None, description="Domain of the lead's e-mail address.", examples=["acme.io"]
    )
    campaign: Text | None = Field(
        default=None, description="Campaign that brought the lead in.", examples=["q4-launch"]
    )
    mql_at: OptionalTimestamp = Field(
        default=None, description="When the lead became an MQL, if it has.", examples=[None]
    )
    activities: Listed(Activity, max_items=MAX_ACTIVITIES) = Field(
        default_factory=list,
        description="The lead's intent events; an empty list (or null) is normal (fit-only lead).",
    )
    attributes: Attributes = Field(
        default_factory=dict,
        description=(
            "Extra fit/intent columns a mapping declared (for example form answers); names the "
            "model does not know are ignored; null is none."
        ),
        examples=[{"lead_origin": "Landing Page Submission"}],
    )
    as_of: OptionalTimestamp = Field(
        default=None,
        description="The moment to score the lead at; default: now (UTC).",
        examples=["2026-11-01T00:00:00Z"],
    )


_ATTRIBUTE_VALUE: TypeAdapter[Any] = TypeAdapter(AttributeValue, config=_INPUT)


def attribute_value(value: Any) -> Any:
    """A top-level attribute field's value, checked as ``attributes`` values are.

    Raises:
        ValueError: ``ATTRIBUTE_VALUE_RULE`` (never the value itself).
    """
    try:
        return _ATTRIBUTE_VALUE.validate_python(value)
    except ValidationError as exc:
        kinds = {e["type"] for e in exc.errors(include_input=False)}
        if "string_pattern_mismatch" in kinds:
            raise ValueError(NUL_RULE) from None
        if "string_too_long" in kinds:
            raise ValueError(TOO_LONG_RULE) from None
        raise ValueError(ATTRIBUTE_VALUE_RULE) from None


class ScoreRequest(BaseModel):
    """A batch of leads to score; or one lead sent on its own (``{"lead_id": "..."}``).

    A lead the live store or the DuckDB store knows is scored from its stored fields and history;
    the fields and activities a request sends are added to them (docs/api.md, "Score by id").
    """

    model_config = ConfigDict(hide_input_in_errors=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _one_lead(cls, data: Any) -> Any:
        """``{"lead_id": ..., ...}`` is a batch of that one lead."""
        if isinstance(data, dict) and "leads" not in data and "lead_id" in data:
            lead = {k: v for k, v in data.items() if k != "reasons"}
            return {"leads": [lead], **({"reasons": data["reasons"]} if "reasons" in data else {})}
        return data

    leads: list[Lead] = Field(
        min_length=1,
        max_length=MAX_LEADS,
        description=f"1 to {MAX_LEADS:,} leads; scores come back in the same order.",
    )
    reasons: StrictBool = Field(  # strict: 0, 1, "yes" are refused, as the schema says boolean
        default=True,
        description="Explain each score with its top signals (TreeSHAP). `false` is faster.",
        examples=[True],
    )


CLIENT_KEY = "<key>"
"""What an error path shows instead of a key the client chose (an attribute name, an unknown
top-level key): such a key can be an e-mail address or a name, and errors never echo input."""


def _field_names() -> frozenset[str]:
    names = set(ScoreRequest.model_fields) | set(Lead.model_fields)
    names |= set(Activity.__annotations__)
    return frozenset(names)


@functools.cache
def model_field_names(model: type[BaseModel]) -> frozenset[str]:
    """The field names of ``model`` and of every model nested in its fields (a route's own
    schema: ``dispositions[0].reason_code`` is named, a key the client chose is not)."""
    names: set[str] = set()

    def walk(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.update(model_field_names(annotation))
        for arg in typing.get_args(annotation):
            walk(arg)

    for name, info in model.model_fields.items():
        names.add(name)
        walk(info.annotation)
    return frozenset(names)


def field_path(loc: tuple[Any, ...], names: Iterable[str] = ()) -> str:
    """A Pydantic error location as a path: ``("leads", 3, "as_of")`` -> ``leads[3].as_of``.

    Only field names of the schema (the scoring request's, plus ``names``: a route's own model)
    are shown; the first other key becomes ``<key>`` and ends the path (what follows it is
    Pydantic's name for a union member, not a field).
    """
    known = _FIELD_NAMES.union(names)
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        name = part if part in known else CLIENT_KEY
        out += f".{name}" if out else name
        if name == CLIENT_KEY:
            break
    return out


_FIELD_NAMES = _field_names()
