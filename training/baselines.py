"""The baselines logged beside the challenger in every cycle.

A model is only worth its complexity when it beats what a team would otherwise use, so every review
cycle scores the same validation cohort with two simpler models:

``logistic``
    scikit-learn pipeline: numeric features signed-log transformed (counts are heavy-tailed),
    median-imputed with a missing-indicator and standardised; categorical features one-hot encoded
    (categories seen fewer than 10 times pooled, unseen ones ignored); L2 logistic regression.

``points``
    A hand-written points model of the kind marketing automation teams build in HubSpot or
    Marketo. The rules (``POINTS_RULES``; a rule whose feature the store lacks is skipped):

    ===========================================================  ======
    rule                                                         points
    ===========================================================  ======
    requested a demo in the last 30 days                          +20
    each pricing-page view in the last 7 days (at most 3 count)   +10
    attended a webinar in the last 90 days                        +10
    downloaded content in the last 30 days                         +5
    clicked an e-mail in the last 30 days                          +5
    no activity at all in the last 30 days                        -10
    title is C-level, VP or director                              +15
    title is manager                                               +5
    title is student or intern                                    -30
    company size 51-5000 employees (the ICP size bands)           +10
    company size 1-10 employees                                   -10
    matches the whole ideal customer profile                      +10
    free e-mail domain (gmail.com ...)                            -20
    ===========================================================  ======

    Points are not probabilities, so ``fit`` maps them to one with a one-variable logistic fit
    (Platt scaling) on the training cohorts. The ranking stays the hand-written one; only the scale
    is learned, so Brier score and calibration error compare fairly with the other models.
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
    """Logistic regression on every feature (see the module docstring)."""

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
            ("categorical", OneHotEncoder(handle_unknown="infrequent_if_exist",
                                          min_frequency=MIN_CATEGORY_COUNT),
             self.categorical_),
        ])
        self.pipeline_ = Pipeline([
            ("prepare", prepare),
            ("logistic", LogisticRegression(C=self.C, max_iter=2000, random_state=self.seed)),
        ])
        X = _logistic_input(train, self.numeric_, self.categorical_)
        self.pipeline_.fit(X, train["label"].to_numpy(dtype=np.int64))
        self.fitted_ = True
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        self._check_fitted()
        X = _logistic_input(frame, self.numeric_, self.categorical_)
        return self.pipeline_.predict_proba(X)[:, 1]


def fit_logistic(train: pd.DataFrame, specs: Sequence[FeatureSpec], *, seed: int) -> Baseline:
    """A fitted logistic-regression baseline (``name`` "logistic")."""
    return LogisticBaseline(specs, seed=seed).fit(train)


# ---- hand-written points -----------------------------------------------------------------------

@dataclass(frozen=True)
class PointsRule:
    """One line of a points model: ``points`` per lead where ``applies`` says so."""

    description: str
    feature: str
    points: float
    applies: Callable[[pd.Series], np.ndarray]


def _numeric(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(np.float64)


def _at_least_one(column: pd.Series) -> np.ndarray:
    return np.nan_to_num(_numeric(column)) >= 1


def _capped(cap: float) -> Callable[[pd.Series], np.ndarray]:
    return lambda column: np.clip(np.nan_to_num(_numeric(column)), 0, cap)


def _one_of(*values: str) -> Callable[[pd.Series], np.ndarray]:
    return lambda column: column.astype(object).isin(values).to_numpy()


def _is_one(column: pd.Series) -> np.ndarray:
    return np.nan_to_num(_numeric(column)) == 1


def _quiet_30d(column: pd.Series) -> np.ndarray:
    days = _numeric(column)
    return np.isnan(days) | (days >= 30)


POINTS_RULES: tuple[PointsRule, ...] = (
    PointsRule("requested a demo in the last 30 days", "n_demo_request_30d", 20, _at_least_one),
    PointsRule("each pricing-page view in the last 7 days (at most 3)", "n_pricing_view_7d", 10,
               _capped(3)),
    PointsRule("attended a webinar in the last 90 days", "n_webinar_attended_90d", 10,
               _at_least_one),
    PointsRule("downloaded content in the last 30 days", "n_content_download_30d", 5,
               _at_least_one),
    PointsRule("clicked an e-mail in the last 30 days", "n_email_click_30d", 5, _at_least_one),
    PointsRule("no activity in the last 30 days", "days_since_last_activity", -10, _quiet_30d),
    PointsRule("title is C-level, VP or director", "seniority", 15,
               _one_of("c_level", "vp", "director")),
    PointsRule("title is manager", "seniority", 5, _one_of("manager")),
    PointsRule("title is student or intern", "seniority", -30, _one_of("student")),
    PointsRule("company size 51-5000 employees", "company_size_band", 10,
               _one_of("51-200", "201-1000", "1001-5000")),
    PointsRule("company size 1-10 employees", "company_size_band", -10, _one_of("1-10")),
    PointsRule("matches the whole ideal customer profile", "icp_match", 10, _is_one),
    PointsRule("free e-mail domain", "free_email", -20, _is_one),
)


class PointsBaseline(Baseline):
    """The hand-written points model (see the module docstring), calibrated by ``fit``."""

    name = "points"
    description = "hand-written marketing points rules, mapped to a probability on training leads"

    def __init__(self, specs: Sequence[FeatureSpec], rules: Sequence[PointsRule] = POINTS_RULES):
        self.specs = list(specs)
        self.rules = tuple(rules)

    @property
    def active_rules(self) -> list[PointsRule]:
        """The rules whose feature the store has (the others are skipped)."""
        names = {s.name for s in self.specs}
        return [r for r in self.rules if r.feature in names]

    def points(self, frame: pd.DataFrame) -> np.ndarray:
        """Each lead's total points."""
        total = np.zeros(len(frame), dtype=np.float64)
        for rule in self.active_rules:
            total += rule.points * np.asarray(rule.applies(frame[rule.feature]), dtype=np.float64)
        return total

    def fit(self, train: pd.DataFrame) -> PointsBaseline:
        """Learn ``sigmoid(a * points + b)`` on the training leads' labels."""
        self.calibration_ = platt(self.points(train), train["label"].to_numpy(np.float64))
        self.fitted_ = True
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        self._check_fitted()
        a, b = self.calibration_
        return 1.0 / (1.0 + np.exp(-(a * self.points(frame) + b)))

    def describe(self) -> list[dict[str, Any]]:
        """The active rules as rows, for the report."""
        return [{"rule": r.description, "feature": r.feature, "points": r.points}
                for r in self.active_rules]


def points_model(specs: Sequence[FeatureSpec], train: pd.DataFrame | None = None) -> Baseline:
    """The points baseline; fitted on ``train`` when given, else call ``.fit(train)`` first."""
    model = PointsBaseline(specs)
    return model.fit(train) if train is not None else model
