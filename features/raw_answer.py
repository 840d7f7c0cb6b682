"""One raw CRM answer as the fit parsers read it, shared by every parser module.

``features.fit``, ``features.fit_title`` and ``features.fit_country`` each parse a free-text
field; they read a value the same way (stripped text, or None when it is missing or a
placeholder, see ``features.contract.PLACEHOLDERS``) and memoise on the raw value with the same
bound. Both live here, once, so the parser modules need not import one another.
"""

from __future__ import annotations

from typing import Any

from features.contract import is_placeholder

PARSER_CACHE = 1 << 16
"""How many raw values each parser memoises: titles, sizes and countries repeat heavily across
leads, so the batch path parses each distinct value once."""


def answer_text(value: Any) -> str | None:
    """The value as stripped text, or None when it is missing or a placeholder."""
    if is_placeholder(value):
        return None
    return str(value).strip()
