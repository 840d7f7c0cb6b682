"""What a column's values say, for ``leadscore inspect``: numbers as exports write them (decimal
commas 2,5; currency and percent signs $1,200,000.00, 12.5 %; digits grouped in thousands 1,200,
1.200 or 1'200), how well the column alone separates the outcome (``single_column_auc``), and
whether it may hold personal data (``personal``).

Each helper looks at a whole column: a column is read as numbers only when every filled value is
one in that spelling, so a category or an id that happens to hold a few such values is left as
it is. The draft then states how ingest reads them (``decimal: ","``, ``thousands: ","``); a v2
mapping drops a currency or percent sign in a numeric column always
(``features.export_v2._number_text``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from features.contract import CODE_VALUE, named_like_personal, named_personal_by_kind
from features.ingest_sql import EMAIL_PATTERN

_COMMA_NUMBER = r"[+-]?\d+(,\d+)?"
UNITS = r"[$€£¥%]"
"""Signs around a number that are its unit, not part of it."""
WRITTEN_COMMA_DECIMAL = r"[+-]?[$€£¥]? ?\d[\d. ]*,\d+ ?[%$€£¥]?"
"""A number with a decimal comma, as written (2,5; 12,5 %; 1.200,50 €)."""


def decimal_commas(values: pd.Series) -> bool:
    """Whether every filled value is a number written with a decimal comma, at least one with
    a fraction (2,5), as spreadsheets in much of Europe save them."""
    filled = values[values != ""]
    return (not filled.empty and bool(filled.str.fullmatch(_COMMA_NUMBER).all())
            and bool(filled.str.contains(",", regex=False).any()))


def written_numbers(values: pd.Series, decimal: str) -> tuple[pd.Series, str | None] | None:
    """``values`` as plain numbers (``1200000.00``) when every filled value is a number with a
    currency or percent sign or with digits grouped in thousands (at least one so), and the
    thousands separator found (None when no value groups its digits); else None.

    Only groups of three count (1,200,000), so a decimal comma (1,5) is never read as grouping.
    """
    filled = values[values != ""]
    if filled.empty:
        return None
    unit = filled.str.contains(UNITS)
    bare = filled.str.replace(UNITS, "", regex=True).str.strip()
    plain = bare.str.fullmatch(rf"[+-]?\d+({re.escape(decimal)}\d+)?")
    for separator in ("," if decimal == "." else ".", " ", "'"):
        grouped = bare.str.fullmatch(rf"[+-]?\d{{1,3}}({re.escape(separator)}\d{{3}})+"
                                     rf"({re.escape(decimal)}\d+)?")
        if bool((plain | grouped).all()) and bool(grouped.any() or unit.any()):
            text = (values.str.replace(UNITS, "", regex=True).str.strip()
                    .str.replace(separator, "", regex=False))
            if decimal == ",":
                text = text.str.replace(",", ".", regex=False)
            return text, separator if grouped.any() else None
    return None


def _auc(score: np.ndarray, y: np.ndarray) -> float:
    ranks = pd.Series(score).rank(method="average").to_numpy()
    n1 = int(y.sum())
    n0 = len(y) - n1
    if not n1 or not n0:
        return 0.5
    auc = (ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
    return max(auc, 1 - auc)


def single_column_auc(values: pd.Series, y: np.ndarray, kind: str, seed: int = 0) -> float:
    """ROC-AUC of one column alone (either direction): numbers as they are, blanks at the median;
    categories target-encoded out of fold (5 folds), so memorising rows scores nothing."""
    if kind in ("numeric", "boolean") and kind != "boolean":
        number = pd.to_numeric(values, errors="coerce")
        return _auc(number.fillna(number.median()).to_numpy(), y)
    folds = np.random.default_rng(seed).integers(0, 5, len(values))
    score = np.zeros(len(values))
    prior = y.mean()
    for k in range(5):
        train = folds != k
        stats = pd.DataFrame({"v": values[train].to_numpy(), "y": y[train]}).groupby("v")["y"]
        rate = (stats.sum() + prior * 10) / (stats.count() + 10)
        score[~train] = values[~train].map(rate).fillna(prior).to_numpy()
    return _auc(score, y)


_PHONE = r"\+\d[\d ().-]{6,}\d|\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}"
"""A phone number: international (+44 20 7946 0958) or North American ((213) 555-4550)."""


def personal(name: str, kind: str, filled: pd.Series) -> bool:
    """Whether a column may hold personal data: by its name (a yes/no flag or a number named
    "Do Not Email" is not; a "contact" whose every value is a code such as "cellular" is not),
    or by its values (e-mail addresses or phone numbers under any name)."""
    if kind in ("boolean", "numeric", "date"):
        return False
    sample = filled.head(2000)
    if len(sample) and (sample.str.fullmatch(EMAIL_PATTERN).mean() > 0.5
                        or sample.str.fullmatch(_PHONE).mean() > 0.5):
        return True
    if named_personal_by_kind(name) and bool(sample.str.fullmatch(CODE_VALUE).all()):
        return False
    return named_like_personal(name)
