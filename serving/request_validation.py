"""Request validation for the gateway's POST routes: a body in, a validated Pydantic request or
one ``RequestRejected`` out.

Split from ``serving.gateway`` (which wraps every route in authentication, size limits and clean
errors, calls ``validate_request`` for each POST and still exports it) because turning Pydantic's
errors into the API's sentences is a job of its own: 400 for a body that is not JSON, 413 for too
many leads, 422 for anything else, each naming the field in the words batch scoring uses for the
same value (``features.text_rules``, ``features.timestamps``) and never quoting the rejected value.

``PostRoute`` lives here too: it is what a body is validated against (the route's model, its
capped list, the example quoted in a rejection). The gateway builds the table of them from a
BentoML service (``serving.gateway.post_routes``); nothing here knows BentoML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from features.text_rules import (
    ACTIVITIES_RULE,
    ACTIVITY_RULE,
    ATTRIBUTES_RULE,
    LEAD_ID_RULE,
    NUL_RULE,
    TEXT_RULE,
    TOO_LONG_RULE,
)
from features.timestamps import TIMESTAMP_RULE
from serving.body import is_utf8, lone_surrogates_replaced
from serving.errors import RequestRejected
from serving.live_schemas import MAX_ATTEMPTS
from serving.schemas import MAX_LEADS, field_path, model_field_names

MAX_LISTED_ERRORS = 20


@dataclass(frozen=True)
class PostRoute:
    """One POST route the gateway validates.

    Attributes:
        model: the Pydantic model of the request body.
        batch_field: the list field capped by ``max_leads`` (413 beyond it), if any.
        example: a minimal body, quoted in the 400/422 answers that say what to send.
    """

    model: type[BaseModel]
    batch_field: str | None = None
    example: str = "{...}"


def validate_request(body: bytes, route: PostRoute, max_leads: int = MAX_LEADS) -> BaseModel:
    """Parse and validate a POST body against its route's model.

    Raises:
        RequestRejected: 400 (not JSON), 413 (too many leads) or 422, naming the first bad field.
            Messages never contain the rejected values.
    """
    try:
        request = route.model.model_validate_json(body)
    except ValidationError as exc:
        repaired = (lone_surrogates_replaced(body) if exc.errors()[0]["type"] == "json_invalid"
                    else body)
        if repaired is not body and repaired != body:  # text cut mid-emoji (serving.body)
            return validate_request(repaired, route, max_leads)
        if exc.errors()[0]["type"] == "json_invalid" and not is_utf8(body):
            raise RequestRejected(
                400, "The body is not UTF-8 text: send JSON encoded as UTF-8, or name its "
                     "charset in Content-Type (`application/json; charset=ISO-8859-1`)."
            ) from None
        raise _rejection(exc, route, max_leads) from None
    if route.batch_field and len(getattr(request, route.batch_field)) > max_leads:
        raise _too_many(max_leads, route.batch_field)
    return request


def _too_many(max_leads: int, field: str) -> RequestRejected:
    return RequestRejected(
        413, f"Too many {field}: send at most {max_leads:,} per request (split the batch).",
        field
    )


def _rejection(exc: ValidationError, route: PostRoute, max_leads: int) -> RequestRejected:
    errors = exc.errors(include_url=False, include_input=False)  # ctx: a bound's value, no input
    first = errors[0]
    if first["type"] == "json_invalid":
        return RequestRejected(
            400, f"The body is not valid JSON ({first['msg'].removeprefix('Invalid JSON: ')}): "
                 f"send a JSON object like {route.example}."
        )
    if first["type"] == "model_type" and not first["loc"]:
        return RequestRejected(422, f"The body must be a JSON object like {route.example}.")
    if first["type"] == "too_long" and route.batch_field and \
            tuple(first["loc"]) == (route.batch_field,):
        return _too_many(max_leads, route.batch_field)
    if first["type"] == "too_long" and len(first["loc"]) == 1:
        # a top-level list of the live endpoints (leads, activities, verdicts) over its cap:
        # the same 413 and sentence as /score's leads, not pydantic's "List should have..."
        limit = exc.errors(include_url=False)[0].get("ctx", {}).get("max_length")
        if isinstance(limit, int):
            return _too_many(limit, str(first["loc"][0]))
    listed: list[dict[str, str]] = []
    for e in errors:
        entry = {"field": field_path(tuple(e["loc"]), model_field_names(route.model)),
                 "error": _message(e, route.model, route.example)}
        if entry["field"] not in {seen["field"] for seen in listed}:  # one per field
            listed.append(entry)
        if len(listed) == MAX_LISTED_ERRORS:
            break
    head = listed[0]
    return RequestRejected(422, f"{head['field']}: {head['error']}.", head["field"], listed)


_TIMESTAMP_ERRORS = frozenset({"datetime_parsing", "datetime_from_date_parsing", "datetime_type",
                               "datetime_object_invalid"})
_BOUND_ERRORS = frozenset({"greater_than_equal", "less_than"})
"""A bound is a timestamp's range (``serving.schemas.EventTime``) only when its value is no number
(Pydantic gives a time bound as its ISO text): ``attempts`` has bounds too, and -1 was answered
with the timestamp sentence."""

_NUMBER_RULES = {
    "attempts": f"must be a whole number from 0 to {MAX_ATTEMPTS:,} (the contact attempts), or "
                "null when unknown",
    "amount": "must be a finite number (the deal amount, such as 12000 or 12000.50, without "
              "currency or thousands separators), or null when unknown",
}
"""The numeric fields of the live endpoints, in one sentence each whatever Pydantic found."""


_SHAPES = {("dict_type", "attributes"): ATTRIBUTES_RULE,
           ("list_type", "activities"): ACTIVITIES_RULE,
           ("dict_type", "activities[]"): ACTIVITY_RULE}
"""The shape errors of a lead's JSON fields, in the words batch scoring uses for its columns."""


def _last_name(loc: Any) -> str:
    """The last field name of a location, ``activities[]`` for an item of ``activities``."""
    loc = tuple(loc)
    if len(loc) >= 2 and isinstance(loc[-1], int) and loc[-2] == "activities":
        return "activities[]"
    return str(loc[-1]) if loc else ""


_ITEMS = {"leads": "lead", "activities": "activity", "dispositions": "verdict",
          "outcomes": "outcome"}
"""What one item of each list of a body is, in the sentences below."""

_EMPTY_KEYS = {"activity_type": "what the lead did (such as pricing_view)",
               "status": "the verdict's status (such as rejected)",
               "stage": "the stage the lead reached (such as sql)"}


def _shape_rule(kind: str, loc: tuple[Any, ...], example: str) -> str | None:
    """The sentence for a body's lists and objects, and the keys that may not be empty, that
    Pydantic words as "Input should be a valid array" or "List should have at least 1 item":
    they said what was wrong, never what to send."""
    item = _ITEMS.get(str(loc[0])) if loc else None
    if item and len(loc) == 1 and kind == "too_short":
        return f"is empty: send at least one {item}, in a body like {example}"
    if item and len(loc) == 1 and kind == "list_type":
        return f"must be a JSON list of {item} objects, as in {example}"
    if item and len(loc) == 2 and kind in ("model_type", "dict_type"):
        return f"must be an object of the {item}'s fields, as in {example}"
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false, as a JSON boolean (not text, 0 or 1)"
    if kind in ("string_too_short", "too_short") and loc and str(loc[-1]) in _EMPTY_KEYS:
        return f"is empty: send {_EMPTY_KEYS[str(loc[-1])]}"
    return None


def _message(error: dict[str, Any], model: type[BaseModel], example: str = "{...}") -> str:
    """Pydantic's message, which never holds the rejected value (include_input=False)."""
    kind = error["type"]
    shape_rule = _shape_rule(kind, tuple(error["loc"]), example)
    if shape_rule is not None and "attributes" not in error["loc"]:
        return shape_rule
    if kind == "extra_forbidden" and len(error["loc"]) == 1:
        taken = " and ".join(", ".join(f"`{n}`" for n in model.model_fields).rsplit(", ", 1))
        return f"unknown field; the request takes only {taken}"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required, but missing"
    if kind == "string_pattern_mismatch":  # the only pattern: features.text_rules.NO_NUL
        return NUL_RULE  # batch scoring's sentences too (features.text_rules)
    shape = _SHAPES.get((kind, _last_name(error["loc"])))
    if shape is not None and "attributes" not in error["loc"][:-1]:
        return shape  # batch scoring's sentence for the same JSON column (features.text_rules)
    if kind == "string_too_short" and error["loc"][-1:] == ("lead_id",):
        return LEAD_ID_RULE  # "" as "   ": batch scoring's sentence (features.text_rules)
    if kind == "string_too_long" and "attributes" not in error["loc"][:-1]:
        return TOO_LONG_RULE
    if kind == "string_type" and "attributes" not in error["loc"]:
        return TEXT_RULE
    number_rule = _NUMBER_RULES.get(_last_name(error["loc"]))
    if number_rule is not None and "attributes" not in error["loc"]:
        return number_rule
    bound = next(iter((error.get("ctx") or {}).values()), None)
    if kind in _TIMESTAMP_ERRORS or (kind in _BOUND_ERRORS and not isinstance(bound, int | float)):
        return TIMESTAMP_RULE  # what batch scoring says of the same value
    loc = tuple(error["loc"])
    if "attributes" in loc[:-2] and (kind.endswith("_type") or kind.endswith("_parsing")):
        # Pydantic reports each member of the value union; one sentence says what fits
        return "an attribute value must be text, a number, true/false or null"
    return str(error["msg"]).removeprefix("Value error, ").rstrip(".")
