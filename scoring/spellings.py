"""One category per meaning at scoring time: a lead's categorical attribute, sent as JSON ``true``
or as ``"TRUE"``, is read as the spelling the model learned (``"True"``).

Ingestion stores an export's text as the export wrote it (``True``, ``Yes``, ``TRUE``; a JSON
Lines file's ``true``), and training learns those spellings as categories. A request, or a batch
file written by another tool, often spells the same value differently: JSON ``true`` (read as
``"true"``), ``"TRUE"``, ``"retail"`` for ``"Retail"``. Read as written, such a value is a
category the model never saw, and the lead is scored as if it had none. So every scorer of single
leads (the API, ``leadscore score``, the pyfunc and Spark) respells a categorical attribute's value
before its features are built:

* a value the model learned, exactly, is left alone (so nothing a model scored before changes
  for it, and nothing it learned is touched);
* otherwise, text that equals one learned category ignoring case and spacing becomes it;
* a JSON boolean, and the words numeric attributes already read as one (yes/true/y,
  no/false/n, any case), becomes the one learned category that is such a word for the same
  truth value, where exactly one is.

Anything else (no learned match, or two learned spellings of it) stays as sent. Since encoder
format 3 a model learns one spelling per category (``features.categories``), so the second case
is left to models trained before it; the encoder itself codes any case or spacing variant as the
learned category on every path, respelled here or not.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from features.categories import fold

TRUE_WORDS = frozenset({"true", "yes", "y"})
FALSE_WORDS = frozenset({"false", "no", "n"})
"""The words ``features.definitions.numeric_value`` reads as 1 and 0."""
_TRUE, _FALSE = "\x00true", "\x00false"  # keys no text folds to (NUL is refused in every text)

_CACHE: dict[int, tuple[weakref.ref, dict[str, dict[str, str]]]] = {}
"""id(bundle) -> (the bundle, its tables); a bundle is a dataclass, so unhashable."""


def learned_spellings(bundle: Any) -> dict[str, dict[str, str]]:
    """Each categorical attribute column of ``bundle`` (a ``ScoringBundle``) -> its respelling
    table: folded text (and the two truth keys) -> the learned category. Built once per bundle."""
    held = _CACHE.get(id(bundle))
    if held is not None and held[0]() is bundle:
        return held[1]
    table = spelling_tables(bundle.manifest["features"], bundle.vocabulary())
    key = id(bundle)
    _CACHE[key] = (weakref.ref(bundle, lambda _: _CACHE.pop(key, None)), table)
    return table


def spelling_tables(features: Sequence[Mapping[str, Any]],
                    vocabulary: Mapping[str, frozenset[str]]) -> dict[str, dict[str, str]]:
    """The respelling tables of the categorical attribute features in ``features`` (a bundle
    manifest's), from their learned categories ``vocabulary`` (feature name -> categories)."""
    out: dict[str, dict[str, str]] = {}
    for feature in features:
        column = feature.get("attribute")
        if not column or feature.get("kind") != "categorical":
            continue
        learned = sorted(vocabulary.get(feature["name"], ()))
        by_fold: dict[str, list[str]] = {}
        for category in learned:
            by_fold.setdefault(fold(category), []).append(category)
        table = {key: spelled[0] for key, spelled in by_fold.items() if len(spelled) == 1}
        for key, words in ((_TRUE, TRUE_WORDS), (_FALSE, FALSE_WORDS)):
            hits = [c for c in learned if fold(c) in words]
            if len(hits) == 1:
                table[key] = hits[0]
        if table:
            out[column] = table
    return out


def respelled(records: Sequence[dict[str, Any]],
              tables: Mapping[str, Mapping[str, str]]) -> list[dict[str, Any]]:
    """``records`` with each categorical attribute value respelled as the model learned it (a
    record that changes is copied; the others are the same objects)."""
    out = list(records)
    if not tables:
        return out
    for i, record in enumerate(records):
        attributes = record.get("attributes")
        nested = attributes if isinstance(attributes, Mapping) else {}
        top: dict[str, Any] = {}
        inner: dict[str, Any] = {}
        for column, table in tables.items():
            # ``attributes`` wins over a top-level field of the same name (features.online)
            where, value = ((inner, nested[column]) if column in nested
                            else (top, record.get(column)))
            learned = _respell(value, table)
            if learned is not None:
                where[column] = learned
        if top or inner:
            out[i] = {**record, **top}
            if inner:
                out[i]["attributes"] = {**nested, **inner}
    return out


def _respell(value: Any, table: Mapping[str, str]) -> str | None:
    """The learned spelling ``value`` stands for, or None to leave it as it is."""
    if isinstance(value, bool):
        return table.get(_TRUE if value else _FALSE)
    if not isinstance(value, str):
        return None
    folded = fold(value)
    learned = table.get(folded)
    if learned is None:
        if folded in TRUE_WORDS:
            learned = table.get(_TRUE)
        elif folded in FALSE_WORDS:
            learned = table.get(_FALSE)
    return learned if learned is not None and learned != " ".join(value.split()) else None
