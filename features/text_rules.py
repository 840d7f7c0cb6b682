"""The text rule of every scoring path: what a lead's text fields and attributes may hold, and
the shapes of its ``attributes`` and ``activities``.

The API enforces it with pydantic (``serving.schemas``: ``Text``, ``AttributeValue``); batch
rows (a file's cells, Parquet values) are checked by ``text_problem`` with the same limits, so a
value the API refuses is refused by ``leadscore score`` and Spark with the same sentence, after
the field's name.

* Text is at most ``MAX_TEXT`` characters: a longer title or campaign is a pasted document, not
  a CRM value, and the API bounds what one request may make it hold.
* A key (a lead id; an activity type, status or stage the live loop stores) is at most
  ``MAX_KEY_BYTES`` in UTF-8 too: PostgreSQL indexes it (``KEY_BYTES_RULE``).
* No NUL character: PostgreSQL (the live store, the score log) cannot store one, and no CRM value
  means one.
* A contract field (title, country ...) is text or a number (``250`` is read as ``"250"``); an
  attribute is text, a number, true/false or null.
* An attribute the model learned as a number (a mapping's ``kind: numeric``) sent as text reads
  as a number (``"7"``, ``"1,200"``, ``"12.5%"``, ``"yes"``) or is blank / a placeholder
  (``"N/A"``): other text (``"lots"``) is refused with ``NUMBER_RULE``, as ingest refuses such a
  cell, never scored as if it were missing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from features.contract import is_placeholder
from features.definitions import numeric_value

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
NUMBER_RULE = ("is text that reads as no number, and the model learned this column as a number: "
               "send a number (250, 1,200 or 12.5%), true/false or yes/no, or null when it is "
               "unknown")
"""What every path says of a numeric attribute's text that is no number (``number_problem``)."""
MAX_KEY_BYTES = 1_000
KEY_BYTES_RULE = (f"is longer than {MAX_KEY_BYTES:,} bytes in UTF-8 (as many plain letters or "
                  "digits, about a third as many characters of most other scripts): a key must "
                  "fit a database index; shorten it")
"""What every path says of a key (a lead id; the live loop's activity type, status, stage) too
long to index: PostgreSQL refuses an index entry past about 2,700 bytes, and a 1,000-character
id of Chinese or accented text is 3,000; it was answered 503, "not available, retry later"."""
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


def key_problem(value: Any) -> str | None:
    """``KEY_BYTES_RULE`` when ``value`` is text longer than ``MAX_KEY_BYTES`` in UTF-8."""
    if isinstance(value, str) and len(value) > MAX_KEY_BYTES // 4 and \
            len(value.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return KEY_BYTES_RULE
    return None


def number_problem(value: Any) -> str | None:
    """``NUMBER_RULE`` when ``value`` is text that a numeric attribute cannot read as a number
    (``features.definitions.numeric_value``) and is no placeholder, else None. Numbers, true/false
    and missing values are fine."""
    if not isinstance(value, str) or is_placeholder(value):
        return None
    return None if math.isfinite(numeric_value(value)) else NUMBER_RULE


def numeric_attribute_columns(features: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The attribute columns a model learned as numbers, from its manifest's ``features``
    (``{"name", "kind", "attribute"?}`` each)."""
    return tuple(dict.fromkeys(f["attribute"] for f in features
                               if f.get("attribute") and f.get("kind") == "numeric"))


def attribute_number_problem(record: Mapping[str, Any],
                             numeric_columns: Sequence[str]) -> tuple[str, str] | None:
    """``(field, NUMBER_RULE)`` for the first numeric attribute of a lead record whose value is
    text that is no number, or None. The value is read where feature building reads it:
    ``attributes`` first (``attributes.TotalVisits``), else the record's own column."""
    attributes = record.get("attributes")
    for column in numeric_columns:
        if isinstance(attributes, Mapping) and column in attributes:
            value, field = attributes[column], f"attributes.{column}"
        else:
            value, field = record.get(column), column
        problem = number_problem(value)
        if problem:
            return field, problem
    return None
