"""The fields of a lead as every scoring path names them, and the near-misses it refuses.

A lead's fields are exact names (``title``, ``company_size``, and the export columns a mapping
declared as attributes, under their names: ``Lead Origin``). A field or column that differs from
one only in case, spaces or punctuation (``Title``, ``Company Size``, ``lead_origin``) is almost
certainly meant as it, but no path reads it: the model would score the lead as if the value were
blank. So the API (a 422) and ``leadscore score`` / Spark (an error) refuse it with one sentence
naming the name to use, instead of ignoring it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from functools import lru_cache

from features.contract import LEADS

LEAD_FIELDS = (*LEADS.columns, "email", "activities", "attributes", "as_of")
"""A lead's contract fields: a row of the leads table (``features.contract.LEADS``), the e-mail
it may carry instead of a domain, its activities and attributes, and ``as_of``."""


def misnamed_rule(meant: str) -> str:
    """What every path says of a near-miss of ``meant``, after the field's or column's name."""
    return (f"not a field of a lead: name it `{meant}` (names are exact; as sent it would be "
            "ignored and the lead scored as if it were blank)")


@lru_cache(maxsize=4096)
def _folded(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().casefold()).strip("_")


def misnamed(given: Iterable[str], expected: Collection[str]) -> list[tuple[str, str]]:
    """``(given name, the expected name it stands for)`` for each given name that is not an
    expected one but folds (case, spaces, punctuation) to one that was not given itself."""
    given = list(given)
    present = set(given)
    by_fold = {_folded(name): name for name in expected}
    out = []
    for name in given:
        meant = by_fold.get(_folded(name)) if isinstance(name, str) else None
        if meant is not None and name not in expected and meant not in present:
            out.append((name, meant))
    return out
