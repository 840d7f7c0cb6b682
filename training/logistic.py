"""Fitting the tournament's logistic entrant: L2-regularised logistic regression on splines.

Each numeric column is a linear spline with knots at up to ``n_bins`` training quantiles, each
categorical code is its own level, and a missing value has its own slot; the model learns one
log-odds value per knot or level (``scoring.linear.LinearModel``). A spline rather than a straight
line, because lead signals are rarely linear (a visit yesterday is worth far more than one last
month, then nothing changes). Counts the
score may only rise with (``training.model.increasing_features``) have their values made
non-decreasing after the fit, the linear model's version of LightGBM's monotone constraint.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from scoring.linear import LinearModel, LinearTerm, terms_for

MAX_ITER = 300


def design(terms: Sequence[LinearTerm], X: np.ndarray) -> sparse.csr_matrix:
    """The basis matrix: for each column, its slots (knots or levels, then missing), each row
    holding the weights that make ``design @ values`` the column's value."""
    n = X.shape[0]
    rows, cols, data = [], [], []
    offset = 0
    for j, term in enumerate(terms):
        a, b, w = term.basis(X[:, j])
        rows += [np.arange(n), np.arange(n)]
        cols += [a + offset, b + offset]
        data += [w, 1.0 - w]
        offset += term.slots + 1
    matrix = sparse.csr_matrix((np.concatenate(data), (np.concatenate(rows),
                                                        np.concatenate(cols))), shape=(n, offset))
    matrix.sum_duplicates()  # a category's two entries (w = 1 and 0) become one
    return matrix


def fit_linear(
    X: np.ndarray,
    y: np.ndarray,
    kinds: Sequence[str],
    levels: Sequence[int],
    *,
    C: float,
    n_bins: int,
    increasing: Sequence[bool] = (),
    weight: np.ndarray | None = None,
) -> LinearModel:
    """Fit the spline-and-level logistic model on an encoded matrix.

    Args:
        X: encoded features (``features.encoding.FeatureEncoder``), rows = leads.
        y: 1 for an SQL, 0 otherwise.
        kinds: ``numeric`` / ``categorical`` per column of ``X``.
        levels: the number of category codes per column (ignored for numeric columns).
        C: inverse L2 strength (scikit-learn's meaning: smaller is stronger).
        n_bins: knots per numeric column at most (training quantiles).
        increasing: per column, whether the value may only rise with the feature.
        weight: optional per-lead weight.
    """
    empty = terms_for(X, kinds, levels, n_bins)
    model = LogisticRegression(C=C, max_iter=MAX_ITER, solver="lbfgs")
    model.fit(design(empty, X), y, sample_weight=weight)
    coef = model.coef_.ravel()
    terms, start = [], 0
    for j, term in enumerate(empty):
        values = coef[start:start + term.slots + 1].copy()
        start += term.slots + 1
        if j < len(increasing) and increasing[j]:
            values[:-1] = np.maximum.accumulate(values[:-1])
        fitted = LinearTerm(term.knots, term.levels, tuple(float(v) for v in values), 0.0)
        mean = float(np.mean(fitted.value(X[:, j]))) if len(X) else 0.0
        terms.append(LinearTerm(term.knots, term.levels, fitted.values, mean))
    return LinearModel(float(model.intercept_[0]), tuple(terms))
