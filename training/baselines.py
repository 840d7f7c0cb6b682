"""The baselines logged beside the challenger in every cycle.

A model is only worth its complexity when it beats what a team would otherwise use, so every review
cycle scores the same validation cohort with two simpler models:

``logistic``
    scikit-learn pipeline: numeric features signed-log transformed (counts are heavy-tailed),
    median-imputed with a missing-indicator and standardised; categorical features one-hot encoded
    (categories seen fewer than 10 times pooled; a value never seen adds the column's average
    contribution over the training leads); L2 logistic regression.

``points``
    A points model of the kind marketing automation teams build in HubSpot or Marketo, built from
    the data instead of by hand, so it means something on any export: for every feature of the
    training weeks, leads are put in bins (each category seen at least 10 times; numbers cut at
    their quartiles; missing as its own bin), and each bin's conversion is compared with the
    conversion of the bin's own weekly cohorts as a smoothed log-odds lift. So a column that only
    tells the weeks apart (an interest rate that moves with a drifting base rate) earns no points:
    it would give every lead of a newer cohort the same score. The ``TOP_PER_GROUP`` strongest fit
    and intent columns (largest lead-weighted mean absolute lift) become rules worth
    ``round(POINTS_PER_LOGIT * lift)`` points per bin, e.g. "industry is software: +6".

    Points are not probabilities, so ``fit`` maps them to one with a one-variable logistic fit
    (Platt scaling) on the training cohorts. The ranking is the points table's; only the scale is
    learned, so Brier score and calibration error compare fairly with the other models. A points
    model is constant only when no column of the training weeks separates converters within
    their weeks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.definitions import FeatureSpec
from training.calibration import platt

MIN_CATEGORY_COUNT = 10


class Baseline:
    """A baseline model: ``name``, ``description``, ``fit(frame)`` and ``predict_proba(frame)``.

    ``predict_proba`` returns the probability of becoming an SQL, one float per row (not
    scikit-learn's two-column array), so it lines up with the challenger's ``score``.
    """

    name: str = "baseline"
    description: str = ""

    def fit(self, train: pd.DataFrame) -> Baseline:  # pragma: no cover - interface
        raise NotImplementedError

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not getattr(self, "fitted_", False):
            raise ValueError(f"The {self.name} baseline is not fitted yet: call fit(train) first.")


# ---- logistic regression -----------------------------------------------------------------------

def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def _logistic_input(
    frame: pd.DataFrame, numeric: list[str], categorical: list[str]
) -> pd.DataFrame:
    """Numeric columns as float64, categorical ones as object with missing as ``"__missing__"``."""
    out = {}
    for name in numeric:
        out[name] = _signed_log(pd.to_numeric(frame[name], errors="coerce").to_numpy(np.float64))
    for name in categorical:
        column = frame[name].astype(object)
        out[name] = column.where(column.notna(), "__missing__").astype(str).to_numpy(dtype=object)
    return pd.DataFrame(out, index=frame.index)


class LogisticBaseline(Baseline):
    """Logistic regression on every feature (see the module docstring).

    A category the training weeks never had (a new month, a new source) has no effect of its own:
    its one-hot block is all zeros, and the feature then adds its average contribution over the
    training leads, as if the value were unknown. Pooling it with the rare categories instead
    would hand it whatever the few rare leads taught the model.
    """

    name = "logistic"
    description = "logistic regression on one-hot categoricals and scaled signed-log numerics"

    def __init__(self, specs: Sequence[FeatureSpec], *, seed: int = 0, C: float = 1.0) -> None:
        self.specs = list(specs)
        self.seed = seed
        self.C = C

    def fit(self, train: pd.DataFrame) -> LogisticBaseline:
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        self.numeric_ = [s.name for s in self.specs if s.kind == "numeric"]
        self.categorical_ = [s.name for s in self.specs if s.kind == "categorical"]
        prepare = ColumnTransformer([
            ("numeric", Pipeline([
                ("impute", SimpleImputer(strategy="median", add_indicator=True,
                                         keep_empty_features=True)),
                ("scale", StandardScaler()),
            ]), self.numeric_),
            # one encoder per column, so each column's block of the matrix can be found
            *((f"categorical:{name}", OneHotEncoder(handle_unknown="ignore",
                                                    min_frequency=MIN_CATEGORY_COUNT), [name])
              for name in self.categorical_),
        ])
        self.pipeline_ = Pipeline([
            ("prepare", prepare),
            ("logistic", LogisticRegression(C=self.C, max_iter=2000, random_state=self.seed)),
        ])
        X = _logistic_input(train, self.numeric_, self.categorical_)
        self.pipeline_.fit(X, train["label"].to_numpy(dtype=np.int64))
        # each column's mean contribution over the training leads: what an unseen value adds
        matrix = prepare.transform(X)
        coef = self.pipeline_.named_steps["logistic"].coef_[0]
        self.unseen_margin_ = {}
        for name in self.categorical_:
            block = prepare.output_indices_[f"categorical:{name}"]
            mean = np.asarray(matrix[:, block].mean(axis=0)).ravel()
            self.unseen_margin_[name] = float(mean @ coef[block])
        self.fitted_ = True
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        self._check_fitted()
        X = _logistic_input(frame, self.numeric_, self.categorical_)
        margin = self.pipeline_.decision_function(X)
        prepare = self.pipeline_.named_steps["prepare"]
        for name in self.categorical_:
            seen = prepare.named_transformers_[f"categorical:{name}"].categories_[0]
            unseen = ~X[name].isin(seen).to_numpy()
            margin = margin + unseen * self.unseen_margin_[name]
        return 1.0 / (1.0 + np.exp(-margin))


def fit_logistic(train: pd.DataFrame, specs: Sequence[FeatureSpec], *, seed: int) -> Baseline:
    """A fitted logistic-regression baseline (``name`` "logistic")."""
    return LogisticBaseline(specs, seed=seed).fit(train)


# ---- points from the data ------------------------------------------------------------------

TOP_PER_GROUP = 3
"""How many fit columns and how many intent columns the points table uses."""
POINTS_PER_LOGIT = 10
"""Points per unit of log-odds lift (a bin converting e times the odds of the base is +10)."""
SMOOTHING = 20.0
"""Pseudo-leads at the base rate added to every bin, so a small bin's lift stays modest."""


@dataclass(frozen=True)
class PointsRule:
    """One line of a points model: ``points`` per lead where ``applies`` says so."""

    description: str
    feature: str
    points: float
    applies: Callable[[pd.Series], np.ndarray]


def _numeric(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(np.float64)


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def _number(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"{x:,.2f}"


def _range_text(name: str, lo: float, hi: float) -> str:
    if lo == -np.inf:
        return f"{name} below {_number(hi)}" if hi != np.inf else f"{name} any value"
    if hi == np.inf:
        return f"{name} {_number(lo)} or more"
    return f"{name} from {_number(lo)} to below {_number(hi)}"


def _within(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (x >= lo) & (x < hi)


def _bins(spec: FeatureSpec, column: pd.Series) -> list[tuple[str, Callable]]:
    """``(description, applies)`` for each bin of one column of the training weeks."""
    name = spec.name.replace("_", " ")
    out: list[tuple[str, Callable]] = []
    if spec.kind == "categorical":
        values = column.astype(object)
        counts = values.value_counts(dropna=True)
        for value in counts[counts >= MIN_CATEGORY_COUNT].index:
            out.append((f"{name} is {value}",
                        lambda c, v=value: c.astype(object).eq(v).to_numpy(dtype=bool)))
    else:
        x = _numeric(column)
        seen = x[~np.isnan(x)]
        if len(seen):
            cuts = np.unique(np.quantile(seen, [0.25, 0.5, 0.75]))
            cuts = cuts[cuts > seen.min()]  # a cut at the minimum would leave an empty bin
            edges = [-np.inf, *cuts, np.inf]
            for lo, hi in zip(edges[:-1], edges[1:], strict=True):
                out.append((_range_text(name, lo, hi),
                            lambda c, a=lo, b=hi: _within(_numeric(c), a, b)))
    if column.isna().any():
        out.append((f"{name} missing", lambda c: c.isna().to_numpy(dtype=bool)))
    return out


def _expected_rate(train: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    """Each training lead's expected conversion before its columns are read: its weekly
    cohort's rate (smoothed towards the overall rate) when the frame has cohorts, else the
    overall rate. Under drift the base rate moves week by week, and a bin's lift is measured
    against the weeks its leads come from, not against the average of all weeks."""
    base = float(np.clip(y.mean(), 1e-6, 1 - 1e-6)) if len(y) else 0.5
    if "cohort" not in train.columns or not len(y):
        return np.full(len(y), base)
    week = train["cohort"].astype(str).to_numpy()
    frame = pd.DataFrame({"week": week, "y": y})
    stats = frame.groupby("week")["y"].agg(["sum", "count"])
    rate = (stats["sum"] + SMOOTHING * base) / (stats["count"] + SMOOTHING)
    return frame["week"].map(rate).to_numpy(np.float64)


def derive_rules(train: pd.DataFrame, specs: Sequence[FeatureSpec],
                 top: int = TOP_PER_GROUP) -> list[PointsRule]:
    """The points table from the training weeks (see the module docstring)."""
    y = train["label"].to_numpy(np.float64)
    expected = _expected_rate(train, y)
    scored: dict[str, list[tuple[float, FeatureSpec, list[PointsRule]]]] = {"fit": [],
                                                                          "intent": []}
    for spec in specs:
        if spec.name not in train.columns or spec.group not in scored:
            continue
        rules, strength = [], 0.0
        for text, applies in _bins(spec, train[spec.name]):
            mask = np.asarray(applies(train[spec.name]), dtype=bool)
            n = int(mask.sum())
            if n == 0:
                continue
            # against what the bin's own weeks converted at: a column that only tells the
            # weeks apart (a rate index moving with a drifting base rate) earns no points
            base = float(np.clip(expected[mask].mean(), 1e-6, 1 - 1e-6))
            rate = (y[mask].sum() + SMOOTHING * base) / (n + SMOOTHING)
            lift = _logit(float(np.clip(rate, 1e-6, 1 - 1e-6))) - _logit(base)
            strength += n / len(y) * abs(lift)
            points = round(POINTS_PER_LOGIT * lift)
            if points:
                rules.append(PointsRule(text, spec.name, float(points), applies))
        if rules:
            scored[spec.group].append((strength, spec, rules))
    out: list[PointsRule] = []
    for group in ("fit", "intent"):
        ranked = sorted(scored[group], key=lambda item: (-item[0], item[1].name))
        for _, _, rules in ranked[:top]:
            out.extend(rules)
    return out


class PointsBaseline(Baseline):
    """A points table built from the training weeks (see the module docstring)."""

    name = "points"
    description = ("points from the univariate conversion of the strongest fit and intent "
                   "columns of the training weeks, mapped to a probability")

    def __init__(self, specs: Sequence[FeatureSpec], top: int = TOP_PER_GROUP):
        self.specs = list(specs)
        self.top = top

    def points(self, frame: pd.DataFrame) -> np.ndarray:
        """Each lead's total points."""
        self._check_fitted()
        total = np.zeros(len(frame), dtype=np.float64)
        for rule in self.rules_:
            if rule.feature in frame.columns:
                total += rule.points * np.asarray(rule.applies(frame[rule.feature]),
                                                  dtype=np.float64)
        return total

    def fit(self, train: pd.DataFrame) -> PointsBaseline:
        """Build the points table on the training leads and learn ``sigmoid(a * points + b)``."""
        self.rules_ = derive_rules(train, self.specs, self.top)
        self.fitted_ = True
        self.calibration_ = platt(self.points(train), train["label"].to_numpy(np.float64))
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        self._check_fitted()
        a, b = self.calibration_
        return 1.0 / (1.0 + np.exp(-(a * self.points(frame) + b)))

    def describe(self) -> list[dict[str, Any]]:
        """The rules as rows, for the report."""
        self._check_fitted()
        return [{"rule": r.description, "feature": r.feature, "points": r.points}
                for r in self.rules_]


def points_model(specs: Sequence[FeatureSpec], train: pd.DataFrame | None = None) -> Baseline:
    """The points baseline; fitted on ``train`` when given, else call ``.fit(train)`` first."""
    model = PointsBaseline(specs)
    return model.fit(train) if train is not None else model
