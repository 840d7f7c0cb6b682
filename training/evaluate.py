"""How good a set of scores is on a cohort: ranking, calibration, and what the threshold yields.

Every number returned here is logged as an MLflow metric, so the keys are valid metric names
(letters, digits, ``_ - . /`` and spaces) and per-source keys read ``source.<source>.<metric>``.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

_UNSAFE = re.compile(r"[^A-Za-z0-9_\-. /]+")


def metric_key(text: object) -> str:
    """``text`` made safe for an MLflow metric key ("Paid Search!" -> "Paid Search_")."""
    if text is None or (isinstance(text, float) and math.isnan(text)) or str(text).strip() == "":
        return "unknown"
    return _UNSAFE.sub("_", str(text).strip())


def _arrays(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if s.shape != y.shape:
        raise ValueError("scores and labels must have the same length")
    return s, y


def _two_classes(y: np.ndarray) -> bool:
    return bool(len(y)) and 0 < y.sum() < len(y)


def calibration_table(scores, labels, bins: int = 10) -> pd.DataFrame:
    """Equal-frequency bins of the scores: mean predicted vs observed SQL rate.

    Leads are ranked by score and cut into ``bins`` groups of (nearly) equal size, so every row
    rests on the same amount of evidence.

    Returns:
        DataFrame with columns ``bin`` (0 = lowest scores), ``mean_predicted``, ``observed``, ``n``.
    """
    s, y = _arrays(scores, labels)
    if len(s) == 0:
        return pd.DataFrame(columns=["bin", "mean_predicted", "observed", "n"])
    bins = max(1, min(bins, len(s)))
    order = np.argsort(s, kind="stable")
    bin_of = np.empty(len(s), dtype=np.int64)
    bin_of[order] = np.arange(len(s)) * bins // len(s)
    frame = pd.DataFrame({"bin": bin_of, "score": s, "label": y})
    table = frame.groupby("bin", sort=True).agg(
        mean_predicted=("score", "mean"), observed=("label", "mean"), n=("label", "size")
    )
    return table.reset_index()


def expected_calibration_error(scores, labels, bins: int = 10) -> float:
    """Size-weighted mean gap between predicted and observed rates over equal-frequency bins."""
    table = calibration_table(scores, labels, bins)
    if table.empty:
        return math.nan
    gap = (table["mean_predicted"] - table["observed"]).abs()
    return float((gap * table["n"]).sum() / table["n"].sum())


def calibration_noise(scores, bins: int = 10, *, rounds: int = 200,
                      seed: int = 0) -> tuple[float, float]:
    """The calibration error a perfectly calibrated model would show on these leads by chance.

    Draws ``rounds`` outcomes from the scores themselves (lead i converts with probability
    ``scores[i]``) and measures each draw like ``expected_calibration_error``. Returns the 5th and
    95th percentiles: on a cohort of a few thousand leads, an error inside that range cannot tell
    good scores from perfect ones (on 1,651 leads it is about 0.014-0.030). NaN without scores.
    """
    s = np.asarray(scores, dtype=np.float64)
    if len(s) == 0:
        return math.nan, math.nan
    bins = max(1, min(bins, len(s)))
    order = np.argsort(s, kind="stable")
    s = s[order]
    bin_of = np.arange(len(s)) * bins // len(s)  # the equal-frequency bins of calibration_table
    starts = np.flatnonzero(np.r_[True, np.diff(bin_of) > 0])
    predicted = np.add.reduceat(s, starts)
    rng = np.random.default_rng(seed)
    errors = []
    chunk = max(1, 4_000_000 // len(s))  # draws at a time, so memory stays small on big cohorts
    for first in range(0, rounds, chunk):
        draws = rng.random((min(chunk, rounds - first), len(s))) < s
        observed = np.add.reduceat(draws, starts, axis=1)
        errors.append(np.abs(predicted - observed).sum(axis=1) / len(s))
    low, high = np.percentile(np.concatenate(errors), [5, 95])
    return float(low), float(high)


def lift_top_decile(scores, labels) -> float:
    """SQL rate among the top 10 % of scores divided by the overall SQL rate."""
    s, y = _arrays(scores, labels)
    if len(s) == 0 or y.sum() == 0:
        return math.nan
    k = max(1, int(math.ceil(0.1 * len(s))))
    top = np.argsort(-s, kind="stable")[:k]
    return float(y[top].mean() / y.mean())


def oracle_auc(true_p, labels) -> float:
    """ROC-AUC of the true conversion probabilities: the best any model can rank this cohort."""
    return float(roc_auc_score(np.asarray(labels), np.asarray(true_p, dtype=np.float64)))


def _at_threshold(s: np.ndarray, y: np.ndarray, threshold: float) -> tuple[float, int]:
    passed = s >= threshold
    volume = int(passed.sum())
    return (float(y[passed].mean()) if volume else math.nan), volume


def evaluate(
    scores,
    labels,
    *,
    threshold: float,
    sources=None,
    weeks: float | None = None,
) -> dict[str, float]:
    """Metrics of calibrated ``scores`` against SQL ``labels`` on one cohort.

    Args:
        scores: calibrated probabilities of becoming an SQL.
        labels: 1 for an SQL, else 0.
        threshold: the MQL cut-off (``score >= threshold``).
        sources: optional lead source per row; adds ``source.<source>.*`` metrics.
        weeks: optional cohort length in weeks; adds ``mqls_per_week``.

    Returns:
        ``roc_auc``, ``pr_auc`` (average precision), ``brier``, ``ece`` (10 equal-frequency bins),
        ``lift_top_decile``, ``conversion_at_threshold``, ``volume_at_threshold``,
        ``mqls_per_week`` (with ``weeks``), ``n``, ``positives``, and per source ``n``,
        ``positives``, ``roc_auc`` (only where the source has both classes),
        ``conversion_at_threshold`` (only where it passes a lead), ``volume_at_threshold``.
        Undefined headline values (e.g. AUC with one class) are NaN.
    """
    s, y = _arrays(scores, labels)
    both = _two_classes(y)
    conversion, volume = _at_threshold(s, y, threshold)
    out: dict[str, float] = {
        "roc_auc": float(roc_auc_score(y, s)) if both else math.nan,
        "pr_auc": float(average_precision_score(y, s)) if both else math.nan,
        "brier": float(brier_score_loss(y, s)) if len(s) else math.nan,
        "ece": expected_calibration_error(s, y),
        "lift_top_decile": lift_top_decile(s, y),
        "conversion_at_threshold": conversion,
        "volume_at_threshold": float(volume),
        "n": float(len(s)),
        "positives": float(y.sum()),
    }
    if weeks:
        out["mqls_per_week"] = float(volume / weeks)
    if sources is not None:
        src = pd.Series(np.asarray(sources, dtype=object)).map(metric_key).to_numpy()
        if len(src) != len(s):
            raise ValueError("sources must have the same length as scores")
        for name in sorted(set(src)):
            mask = src == name
            ys, ss = y[mask], s[mask]
            prefix = f"source.{name}."
            out[prefix + "n"] = float(mask.sum())
            out[prefix + "positives"] = float(ys.sum())
            if _two_classes(ys):
                out[prefix + "roc_auc"] = float(roc_auc_score(ys, ss))
            conv, vol = _at_threshold(ss, ys, threshold)
            if vol:
                out[prefix + "conversion_at_threshold"] = conv
            out[prefix + "volume_at_threshold"] = float(vol)
    return out


def ranking_intervals(scores, labels, *, rounds: int, seed: int,
                      ) -> tuple[tuple[float, float], tuple[float, float]]:
    """95 % bootstrap percentile intervals of ROC-AUC and PR-AUC over resampled cohorts.

    A resample with one class only is skipped; NaN intervals when fewer than half the rounds
    could be measured (or ``rounds`` is 0).
    """
    s, y = _arrays(scores, labels)
    nan = (math.nan, math.nan)
    if rounds <= 0 or not _two_classes(y):
        return nan, nan
    rng = np.random.default_rng(seed)
    roc, pr = [], []
    for _ in range(rounds):
        idx = rng.integers(0, len(s), len(s))
        ys = y[idx]
        if not _two_classes(ys):
            continue
        roc.append(roc_auc_score(ys, s[idx]))
        pr.append(average_precision_score(ys, s[idx]))
    if len(roc) < rounds / 2:
        return nan, nan
    r = np.percentile(roc, [2.5, 97.5])
    p = np.percentile(pr, [2.5, 97.5])
    return (float(r[0]), float(r[1])), (float(p[0]), float(p[1]))


def pr_auc_gap_interval(ours, theirs, labels, *, rounds: int, seed: int
                        ) -> tuple[float, float]:
    """95 % paired bootstrap interval of ``PR-AUC(ours) - PR-AUC(theirs)`` on the same leads
    (both resampled together); NaN when fewer than half the rounds could be measured."""
    a, y = _arrays(ours, labels)
    b = np.asarray(theirs, dtype=np.float64)
    if rounds <= 0 or not _two_classes(y) or len(b) != len(a):
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    gaps = []
    for _ in range(rounds):
        idx = rng.integers(0, len(a), len(a))
        ys = y[idx]
        if _two_classes(ys):
            gaps.append(average_precision_score(ys, a[idx]) - average_precision_score(ys, b[idx]))
    if len(gaps) < rounds / 2:
        return math.nan, math.nan
    low, high = np.percentile(gaps, [2.5, 97.5])
    return float(low), float(high)


def evaluate_on(scores: np.ndarray, valid: pd.DataFrame, threshold: float, weeks: int) -> dict:
    """``evaluate`` on a cohort frame (labels and sources from its columns)."""
    return evaluate(scores, valid["label"].to_numpy(), threshold=threshold,
                    sources=valid["source"].to_numpy(dtype=object), weeks=weeks)
