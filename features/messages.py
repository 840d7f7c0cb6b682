"""Keeping what ingestion says short: lists of offending values are capped, and so is a message.

A column mapped the wrong way can have thousands of distinct values; an error that lists them all
is unreadable. Every list shows at most ``LIMIT`` items (with their counts), then "and N more", and
no message is longer than ``MAX_MESSAGE`` characters.
"""

from __future__ import annotations

from collections.abc import Sequence

from leadscore.errors import MAX_MESSAGE, fit_message

__all__ = ["LIMIT", "MAX_MESSAGE", "capped", "counted", "fit_message", "percent", "plural"]

LIMIT = 10


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def percent(share: float) -> str:
    """A share as a whole percentage: 0.256 -> "26%"."""
    return f"{100 * share:.0f}%"


def per_week(value: float) -> str:
    """A count a week as people read it: whole from 10 up (213, not 213.0), one decimal below
    (0.4 is not "0"), and a whole number without its ".0" (6, not 6.0)."""
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.1f}".removesuffix(".0")


def capped(items: Sequence[str], limit: int = LIMIT) -> str:
    """``items`` joined by commas: the first ``limit``, then "and N more"."""
    shown = ", ".join(items[:limit])
    rest = len(items) - limit
    return f"{shown} and {rest:,} more" if rest > 0 else shown


def counted(pairs: Sequence[tuple[str, int]], unit: str = "row", limit: int = LIMIT) -> str:
    """(label, count) pairs as "label (3 rows), ..." capped at ``limit``."""
    return capped([f"{label} ({plural(n, unit)})" for label, n in pairs], limit)


def renamed_sentence(undeclared: list[str], missing: list[str]) -> str:
    """The end of the sentence for an export that has columns its mapping does not declare and
    lacks ones it declares: most often a column the CRM renamed between two exports."""
    return (f"does not declare ({capped([repr(h) for h in undeclared])}) and lacks column(s) it "
            f"declares ({capped([repr(c) for c in missing])}): if the CRM renamed them, rename "
            "them under columns: in the mapping (their roles stay), else give each new column a "
            "role (ignore if unused) and remove the missing ones; then re-run.")
