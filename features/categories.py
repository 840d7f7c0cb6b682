"""One category per meaning: case and spacing variants of a categorical value are the same value.

CRM exports spell one category several ways ("Google" and "google", "Retail " with a trailing
space, "Web  Form" with two). ``fold`` is the one rule for what counts as the same: equal after
trimming, collapsing runs of white space and ignoring case. ``spelled_categories`` merges the
variants seen in training into one category each, named by its most frequent spelling (white
space tidied; a tie goes to the spelling first in code-point order, so "Google" before "google"),
which is the spelling the model's reasons and reports show. The encoder (``features.encoding``)
fits and codes with it; ``scoring.spellings`` respells requests with the same ``fold``.
"""

from __future__ import annotations

from collections.abc import Mapping


def fold(text: str) -> str:
    """The form variants of one category share: trimmed, single-spaced, case-folded.

    >>> fold("  GOOGLE   Ads ")
    'google ads'
    """
    return " ".join(text.split()).casefold()


def spelled_categories(counts: Mapping[str, int]) -> dict[str, int]:
    """Values and their counts -> one spelling per category (its most frequent variant) and the
    category's summed count.

    >>> spelled_categories({"Google": 3, "google ": 1, "GOOGLE": 1, "Referral": 2})
    {'Google': 5, 'Referral': 2}
    """
    by_spelling: dict[str, int] = {}
    for value, count in counts.items():
        tidy = " ".join(value.split())
        by_spelling[tidy] = by_spelling.get(tidy, 0) + count
    variants: dict[str, list[tuple[int, str]]] = {}
    for spelling, count in by_spelling.items():
        variants.setdefault(fold(spelling), []).append((count, spelling))
    out: dict[str, int] = {}
    for seen in variants.values():
        # most frequent first; among equals, the first in code-point order
        _, spelling = min(seen, key=lambda pair: (-pair[0], pair[1]))
        out[spelling] = sum(count for count, _ in seen)
    return out
