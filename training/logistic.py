"""Fitting the tournament's logistic entrant: L2-regularised logistic regression on binned features.

Each numeric column is cut at up to ``n_bins`` training quantiles and each categorical code is its
own level, plus a level for missing; the model learns one log-odds value per level
(``scoring.linear.LinearModel``). Bins rather than a straight line, because lead signals are rarely
linear (a visit yesterday is worth far more than one last month, then nothing changes). Counts the
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


def one_hot(terms: Sequence[LinearTerm], bins: np.ndarray) -> sparse.csr_matrix:
    """The one-hot matrix of every column's bin (missing included), columns term by term."""
    n = bins.shape[0]
    widths = [t.n_bins + 1 for t in terms]
    offsets = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
    cols = (bins + offsets[None, :]).ravel()
    rows = np.repeat(np.arange(n), len(terms))
    data = np.ones(len(cols), dtype=np.float64)
    return sparse.csr_matrix((data, (rows, cols)), shape=(n, int(sum(widths))))


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
    """Fit the binned logistic model on an encoded matrix.

    Args:
        X: encoded features (``features.encoding.FeatureEncoder``), rows = leads.
        y: 1 for an SQL, 0 otherwise.
        kinds: ``numeric`` / ``categorical`` per column of ``X``.
        levels: the number of category codes per column (ignored for numeric columns).
        C: inverse L2 strength (scikit-learn's meaning: smaller is stronger).
        n_bins: quantile bins per numeric column at most.
        increasing: per column, whether the value may only rise with the bin.
        weight: optional per-lead weight.
    """
    empty = terms_for(X, kinds, levels, n_bins)
    probe = LinearModel(0.0, tuple(LinearTerm(t.edges, t.levels, (0.0,) * (t.n_bins + 1), 0.0)
                                   for t in empty))
    bins = probe.bins(X)
    design = one_hot(empty, bins)
    model = LogisticRegression(C=C, max_iter=MAX_ITER, solver="lbfgs")
    model.fit(design, y, sample_weight=weight)
    coef = model.coef_.ravel()
    terms, start = [], 0
    for j, term in enumerate(empty):
        values = coef[start:start + term.n_bins + 1].copy()
        start += term.n_bins + 1
        if j < len(increasing) and increasing[j]:
            values[:-1] = np.maximum.accumulate(values[:-1])
        mean = float(np.mean(values[bins[:, j]])) if len(bins) else 0.0
        terms.append(LinearTerm(term.edges, term.levels, tuple(float(v) for v in values), mean))
    return LinearModel(float(model.intercept_[0]), tuple(terms))
