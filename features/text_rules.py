"""The text rule of every scoring path: what a lead's text fields and attributes may hold, and
the shapes of its ``attributes`` and ``activities``.

The API enforces it with pydantic (``serving.schemas``: ``Text``, ``AttributeValue``); batch
rows (a file's cells, Parquet values) are checked by ``text_problem`` with the same limits, so a
value the API refuses is refused by ``leadscore score`` and Spark with the same sentence, after
the field's name.

* Text is at most ``MAX_TEXT`` characters: a longer title or campaign is a pasted document, not
  a CRM value, and the API bounds what one request may make it hold.
* No NUL character: PostgreSQL (the live store, the score log) cannot store one, and no CRM value
  means one.
* A contract field (title, country ...) is text or a number (``250`` is read as ``"250"``); an
  attribute is text, a number, true/false or null.
"""

from __future__ import annotations

import math
from typing import Any

MAX_TEXT = 1_000
MAX_ATTRIBUTE_NAME = 200
NO_NUL = r"^[^\x00]*$"
"""The pattern of text without a NUL character (JSON Schema, for the OpenAPI document)."""
NUL_RULE = "contains a NUL character (\\u0000), which no field may hold: remove it"
TOO_LONG_RULE = f"is longer than {MAX_TEXT:,} characters: shorten it"
TEXT_RULE = "must be text or a number"
ATTRIBUTE_VALUE_RULE = "an attribute value must be text, a number, true/false or null"
ATTRIBUTES_RULE = "must be an object of column: value pairs (JSON), or null"
ACTIVITIES_RULE = "must be a list of {activity_type, occurred_at} objects (JSON), or null"
ACTIVITY_RULE = "must be an object with activity_type and occurred_at"
LEAD_ID_RULE = "is empty: give every lead its CRM id"
"""A blank ``lead_id`` (``""``, spaces): scores are written and logged by it."""


def text_problem(value: Any, *, attribute: bool = False, limit: int = MAX_TEXT) -> str | None:
    """What is wrong with a field's value under the rule, or None when it is fine.

    ``attribute``: the value is an attribute's (true/false allowed); else a contract text field.
    A missing value (None, NaN) is always fine.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        if len(value) > limit:
            return TOO_LONG_RULE if limit == MAX_TEXT else f"is longer than {limit:,} characters"
        if "\x00" in value:
            return NUL_RULE
        return None
    if isinstance(value, bool):
        return None if attribute else TEXT_RULE
    if isinstance(value, int | float):
        return None
    return ATTRIBUTE_VALUE_RULE if attribute else TEXT_RULE
