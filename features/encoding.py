"""Encoding raw feature values into the numeric matrix LightGBM reads.

``FeatureEncoder`` follows scikit-learn's estimator contract (``__init__`` stores arguments, ``fit``
sets the ``_``-suffixed state and returns ``self``, ``get_params`` / ``set_params`` make ``clone``
work) without importing scikit-learn, so the serving path stays light:

* numeric features pass through as float64 (NaN stays NaN);
* a categorical feature becomes an integer code: the categories seen at least ``min_count`` times
  in training, in sorted order, get 0..k-1; a value seen in training, but fewer times, gets k
  (``"__other__"``, the rare pool the model learns an effect for); a value never seen in training
  gets k + 1 (``"__unseen__"``), a code no tree split and no linear level was fitted on; a missing
  value stays NaN. The codes are what LightGBM's ``categorical_feature`` expects.

Why an unseen value has its own code: pooled with the rare values, a lead source that appears
after training (a new campaign, a new form) would borrow whatever the rare sources taught the
model. With k + 1, LightGBM sends it where it sends a missing value (right of every categorical
split, as its ``CategoricalDecision`` does for any code outside a split's set), the linear model
gives it the column's training mean (no contribution), drift reports it as a bin of its own, and a
reason says it is new. To tell rare from new, the encoder keeps a short hash of each rare value
(not the value: rare values are where free text and names hide), up to ``MAX_RARE_KEPT`` per
feature; a feature with a longer tail keeps pooling unseen values with the rare ones, since there
a new value is just one more of the long tail.

Variants of one category that differ only by case and spacing ("Google", "google ", "GOOGLE")
are one category (``features.categories``): ``fit`` counts them together under their most
frequent spelling, and every scorer codes any variant as that category (a rare one's hash is
taken of its folded form, so a rare value is rare in any case too).

Bundles saved before this load with their own rule, so a registered model keeps scoring exactly
as it did until the next review retrains it: encoder ``format`` 1 gives an unseen value k, and
format 2 matches categories exactly as written.

``transform`` (a frame, for training and batch scoring) and ``transform_columns`` (the columns of
``features.online``, for the API; no pandas) give exactly the same numbers. ``to_dict`` /
``from_dict`` carry the fitted state as JSON inside the model bundle.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from features.categories import fold, spelled_categories

OTHER = "__other__"
"""The category the values seen in training, but too rarely to keep, fall into."""
UNSEEN = "__unseen__"
"""The category of a value never seen in training (format 2 encoders)."""
KEY_COLUMNS = ("lead_id", "as_of")
MAX_RARE_KEPT = 20_000
"""Rare values remembered per feature (as hashes); past it, unseen values pool with rare ones."""
_FORMAT = 3
_FORMATS = (1, 2, 3)
_FOLDING = 3
"""The first format whose categories are case- and space-insensitive."""


def rare_key(value: str) -> str:
    """The short hash a rare category is remembered by (16 hex digits)."""
    return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


class _Coder:
    """The code of one categorical value given as text: kept, rare pool, or unseen. A class, not
    a closure, so that a fitted encoder pickles (worker processes, Spark).

    ``folded`` (folded category -> code; None before format 3) matches any case and spacing
    variant of a kept category; a rare value is then remembered by its folded form's hash."""

    __slots__ = ("folded", "index", "other", "rare")

    def __init__(self, index: dict[str, float], rare: frozenset[str] | None,
                 folded: dict[str, float] | None = None) -> None:
        self.index, self.rare, self.other = index, rare, float(len(index))
        self.folded = folded

    def __call__(self, text: str) -> float:
        kept = self.index.get(text)
        if kept is not None:
            return kept
        key = text
        if self.folded is not None:
            key = fold(text)
            kept = self.folded.get(key)
            if kept is not None:
                return kept
        if self.rare is None or rare_key(key) in self.rare:
            return self.other
        return self.other + 1.0


class NotFittedError(ValueError, AttributeError):
    """The encoder was used before ``fit`` (same bases as scikit-learn's ``NotFittedError``)."""


def _spec_pair(feature: Any) -> tuple[str, str]:
    if isinstance(feature, Mapping):
        return str(feature["name"]), str(feature.get("kind", "numeric"))
    if isinstance(feature, str):
        return feature, "numeric"
    return str(feature.name), str(feature.kind)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pd.NA and NaT are unequal to themselves
    except (TypeError, ValueError):
        return True  # pd.NA raises on bool(); it is missing


def _number(value: Any) -> float:
    if _is_missing(value):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


class FeatureEncoder:
    """Raw feature values (as ``features.batch`` / ``features.online`` build them) -> matrix.

    Args:
        features: the features to encode, in column order: ``FeatureSpec`` objects, or dicts
            with ``name`` and ``kind`` (``numeric`` / ``categorical``). None: every column of the
            training frame except ``lead_id`` and ``as_of``, categorical when its dtype is not
            numeric.
        min_count: a category seen fewer times than this in training becomes ``"__other__"``;
            one never seen becomes ``"__unseen__"``.

    Example:
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"seniority": ["vp", "vp", "cto", None], "n": [1.0, 2, 0, 3]})
        >>> enc = FeatureEncoder(min_count=2).fit(frame)
        >>> enc.categories_
        {'seniority': ['vp']}
        >>> enc.transform(frame)[:, 0].tolist()
        [0.0, 0.0, 1.0, nan]
        >>> enc.transform_columns({"seniority": ["vp"], "n": [5.0]}, 1)[0].tolist()
        [0.0, 5.0]
        >>> enc.transform_columns({"seniority": ["intern"], "n": [5.0]}, 1)[0].tolist()
        [2.0, 5.0]
    """

    def __init__(self, features: Sequence[Any] | None = None, min_count: int = 10) -> None:
        self.features = features
        self.min_count = min_count

    # ---- scikit-learn contract ------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"features": self.features, "min_count": self.min_count}

    def set_params(self, **params: Any) -> FeatureEncoder:
        for key, value in params.items():
            if key not in ("features", "min_count"):
                raise ValueError(f"FeatureEncoder has no parameter {key!r}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        n = "None" if self.features is None else f"<{len(self.features)} features>"
        return f"FeatureEncoder(features={n}, min_count={self.min_count})"

    def _check_fitted(self) -> None:
        if not hasattr(self, "feature_names_"):
            raise NotFittedError("This FeatureEncoder is not fitted yet: call fit(frame) first.")

    # ---- fitting --------------------------------------------------------------------------------
    def fit(self, frame: Any, y: Any = None) -> FeatureEncoder:
        """Learn the feature order and each categorical feature's kept categories.

        Raises:
            ValueError: when ``min_count`` is not a positive integer, a feature's kind is unknown,
                or the frame lacks a feature column.
        """
        import pandas as pd

        if isinstance(self.min_count, bool) or not isinstance(self.min_count, int | np.integer) \
                or self.min_count < 1:
            raise ValueError(f"min_count must be a positive integer, got {self.min_count!r}")
        if self.features is None:
            pairs = [
                (str(c), "numeric" if pd.api.types.is_numeric_dtype(frame[c])
                 and not pd.api.types.is_bool_dtype(frame[c]) else "categorical")
                for c in frame.columns if c not in KEY_COLUMNS
            ]
        else:
            pairs = [_spec_pair(f) for f in self.features]
        bad = [f"{n} ({k})" for n, k in pairs if k not in ("numeric", "categorical")]
        if bad:
            raise ValueError(
                f"Unknown feature kind for {', '.join(bad)}: use numeric or categorical."
            )
        self._require_columns(frame, [n for n, _ in pairs])
        categories: dict[str, list[str]] = {}
        rare: dict[str, list[str] | None] = {}
        for name, kind in pairs:
            if kind != "categorical":
                continue
            codes, uniques = pd.factorize(frame[name], use_na_sentinel=True)
            counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
            seen: dict[str, int] = {}
            for value, count in zip(uniques, counts, strict=True):
                key = str(value)
                seen[key] = seen.get(key, 0) + int(count)
            merged = spelled_categories(seen)
            categories[name] = sorted(v for v, c in merged.items() if c >= self.min_count)
            few = [v for v, c in merged.items() if c < self.min_count]
            rare[name] = (sorted(rare_key(fold(v)) for v in few) if len(few) <= MAX_RARE_KEPT
                          else None)
        self.feature_names_ = [n for n, _ in pairs]
        self.feature_kinds_ = [k for _, k in pairs]
        self.categories_ = categories
        self.rare_ = rare
        self.format_ = _FORMAT
        self.categorical_indices_ = [i for i, (_, k) in enumerate(pairs) if k == "categorical"]
        self.n_features_in_ = len(pairs)
        self._prepare()
        return self

    def _prepare(self) -> None:
        # per feature: (name, None, None) for numeric; for categorical (name, {category: code},
        # the code of any other value as text)
        self._plan = []
        for name, kind in zip(self.feature_names_, self.feature_kinds_, strict=True):
            if kind != "categorical":
                self._plan.append((name, None, None))
                continue
            index = {c: float(i) for i, c in enumerate(self.categories_[name])}
            rare = self.rare_.get(name)
            folded = ({fold(c): code for c, code in index.items()}
                      if self.format_ >= _FOLDING else None)
            self._plan.append((name, index, _Coder(
                index, None if rare is None else frozenset(rare), folded)))

    @staticmethod
    def _require_columns(frame: Any, names: Sequence[str]) -> None:
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise ValueError(
                f"The feature frame lacks column(s) {', '.join(missing[:10])}"
                f"{' ...' if len(missing) > 10 else ''}: build it with features.batch."
            )

    # ---- transforming ---------------------------------------------------------------------------
    def transform(self, frame: Any) -> np.ndarray:
        """Encode a frame (rows = leads) into an (n, n_features) float64 matrix."""
        import pandas as pd

        self._check_fitted()
        self._require_columns(frame, self.feature_names_)
        out = np.empty((len(frame), len(self._plan)), dtype=np.float64)
        for j, (name, index, code) in enumerate(self._plan):
            column = frame[name]
            if index is None:
                if pd.api.types.is_numeric_dtype(column):
                    out[:, j] = column.to_numpy(dtype=np.float64, na_value=np.nan)
                else:
                    codes, uniques = pd.factorize(column, use_na_sentinel=True)
                    lookup = np.append([_number(u) for u in uniques], np.nan)
                    out[:, j] = lookup[codes]
            else:
                codes, uniques = pd.factorize(column, use_na_sentinel=True)
                lookup = np.append([code(str(u)) for u in uniques], np.nan)
                out[:, j] = lookup[codes]
        return out

    def transform_columns(self, columns: Mapping[str, Any], size: int) -> np.ndarray:
        """Encode features given column by column (``{name: values}``, each ``size`` long, as
        ``features.online.OnlineBatch`` holds them) into an (size, n_features) float64 matrix;
        row i is exactly ``transform`` of a frame of the same values. No pandas.

        A numeric column may be a float64 array (copied as is) or a list; a feature absent from
        ``columns`` is missing (NaN).
        """
        self._check_fitted()
        out = np.empty((size, len(self._plan)), dtype=np.float64)
        for j, (name, index, code) in enumerate(self._plan):
            values = columns.get(name)
            if values is None:
                out[:, j] = math.nan
            elif index is None:
                if isinstance(values, np.ndarray) and values.dtype == np.float64:
                    out[:, j] = values
                else:
                    out[:, j] = [v if type(v) is float else _number(v) for v in values]
            else:
                out[:, j] = [
                    index[v] if type(v) is str and v in index
                    else math.nan if _is_missing(v) else code(str(v))
                    for v in values
                ]
        return out

    def fit_transform(self, frame: Any, y: Any = None) -> np.ndarray:
        return self.fit(frame, y).transform(frame)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        self._check_fitted()
        return np.asarray(self.feature_names_, dtype=object)

    def category_code(self, name: str, value: Any) -> float:
        """The code of one categorical value (NaN when missing), e.g. to read a tree split."""
        self._check_fitted()
        if _is_missing(value):
            return math.nan
        _, _, code = self._plan[self.feature_names_.index(name)]
        return code(str(value))

    def category_of(self, name: str, code: float) -> str | None:
        """The category a code stands for (``"__other__"`` for the rare pool, ``"__unseen__"``
        for a value never seen in training, None for NaN)."""
        self._check_fitted()
        if _is_missing(code):
            return None
        kept = self.categories_[name]
        if int(code) < len(kept):
            return kept[int(code)]
        return OTHER if int(code) == len(kept) else UNSEEN

    def learned_category(self, name: str, value: Any) -> str | None:
        """The category the model learned that a categorical ``value`` is coded as: itself, or
        the learned spelling of its case or spacing variant; None when it is coded as rare,
        unseen or missing, or ``name`` is not categorical."""
        self._check_fitted()
        if name not in self.categories_ or _is_missing(value):
            return None
        code = self.category_code(name, value)
        kept = self.categories_[name]
        return kept[int(code)] if int(code) < len(kept) else None

    def is_unseen(self, name: str, value: Any) -> bool:
        """Whether a categorical ``value`` of feature ``name`` gets the unseen code: never seen in
        training (and the encoder remembers its rare values). False for missing values and for
        a feature that is not categorical."""
        if name not in self.categories_:
            return False
        return self.category_of(name, self.category_code(name, value)) == UNSEEN

    def code_count(self, name: str) -> int:
        """How many codes a categorical feature's values can get: the kept categories, the rare
        pool, and the unseen code where the encoder tells unseen from rare."""
        self._check_fitted()
        extra = 1 if self.rare_.get(name) is None else 2
        return len(self.categories_[name]) + extra

    # ---- persistence ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The fitted state as plain JSON types."""
        self._check_fitted()
        return {
            "format": self.format_,
            "min_count": int(self.min_count),
            "features": [
                {"name": n, "kind": k}
                for n, k in zip(self.feature_names_, self.feature_kinds_, strict=True)
            ],
            "categories": {k: list(v) for k, v in self.categories_.items()},
            "rare": {k: None if v is None else list(v) for k, v in self.rare_.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureEncoder:
        """Rebuild a fitted encoder from ``to_dict``'s output.

        Raises:
            ValueError: when ``data`` is not an encoder's state.
        """
        if not isinstance(data, Mapping) or data.get("format") not in _FORMATS:
            raise ValueError("Not a FeatureEncoder state (missing or unknown 'format').")
        features = [dict(f) for f in data["features"]]
        encoder = cls(features=features, min_count=int(data["min_count"]))
        encoder.feature_names_ = [f["name"] for f in features]
        encoder.feature_kinds_ = [f["kind"] for f in features]
        encoder.categories_ = {k: list(v) for k, v in data["categories"].items()}
        encoder.format_ = int(data["format"])
        # format 1 knew no rare values: every value not kept, unseen ones too, is "__other__"
        rare = data.get("rare") or {}
        encoder.rare_ = {k: None if rare.get(k) is None else list(rare[k])
                         for k in encoder.categories_}
        encoder.categorical_indices_ = [
            i for i, f in enumerate(features) if f["kind"] == "categorical"
        ]
        encoder.n_features_in_ = len(features)
        encoder._prepare()
        return encoder
