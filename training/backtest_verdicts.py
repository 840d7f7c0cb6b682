"""What the backtest may say from its figures: each claim only beyond noise.

- ``mean_roc_interval``: a model's mean ROC-AUC over the periods, with a 95 % bootstrap interval
  (each period resampled within itself); ``chance_sentence`` names the models whose interval
  includes 0.5.
- ``one_outcome_sentence``: why ROC-AUC and PR-AUC are missing where a period holds one outcome.
- ``brier_gap_interval``: retrained minus trained_once in mean Brier score, with a paired 95 %
  bootstrap interval; ``retraining_sentence`` says "better" or "worse" only when it excludes 0.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import roc_auc_score


def mean_roc_interval(parts: list[tuple[np.ndarray, np.ndarray]], *, rounds: int,
                      seed: int) -> tuple[float, float]:
    """95 % bootstrap interval of the mean ROC-AUC over periods, each ``(scores, labels)``.

    Every round resamples each period within itself, so a base rate that moves between periods
    is not taken for ranking. NaN when ``rounds`` is 0, a period has one class only, or fewer
    than half the rounds could be measured.
    """
    nan = (math.nan, math.nan)
    if rounds <= 0 or not parts or any(len(np.unique(y)) < 2 for _, y in parts):
        return nan
    rng = np.random.default_rng(seed)
    means = []
    for _ in range(rounds):
        aucs = []
        for scores, labels in parts:
            idx = rng.integers(0, len(labels), len(labels))
            if len(np.unique(labels[idx])) < 2:
                break
            aucs.append(roc_auc_score(labels[idx], scores[idx]))
        else:
            means.append(float(np.mean(aucs)))
    if len(means) < rounds / 2:
        return nan
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def brier_gap_interval(pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]], *, rounds: int,
                       seed: int) -> tuple[float, float, float] | None:
    """Retrained minus trained_once in mean Brier score over the periods both scored, with a
    paired 95 % bootstrap interval.

    Each pair is one period's ``(trained_once scores, retrained scores, labels)``. Every round
    resamples each period's leads within it and scores both models on the same draw, so what
    the two share (a hard period, a moved base rate) cancels. None when ``rounds`` is 0 or no
    period was scored by both.
    """
    if rounds <= 0 or not pairs:
        return None
    gaps = [(r - y) ** 2 - (o - y) ** 2 for o, r, y in pairs]
    point = float(np.mean([g.mean() for g in gaps]))
    rng = np.random.default_rng(seed)
    means = np.zeros(rounds)
    for gap in gaps:
        chunk = max(1, 4_000_000 // len(gap))  # draws at a time, so memory stays small
        for first in range(0, rounds, chunk):
            k = min(chunk, rounds - first)
            means[first:first + k] += gap[rng.integers(0, len(gap), (k, len(gap)))].mean(axis=1)
    low, high = np.percentile(means / len(gaps), [2.5, 97.5])
    return point, float(low), float(high)


def _decimals(*values: float, least: int = 4, most: int = 8) -> int:
    """Decimals that show every non-zero value as non-zero and tell different values apart: a
    Brier gap of 0.00004 on a 1 % base rate is "+0.00004", not "+0.0000" called beyond noise."""
    finite = [v for v in values if math.isfinite(v)]
    for d in range(least, most + 1):
        shown = [round(v, d) for v in finite]
        if all(s != 0 for s, v in zip(shown, finite, strict=True) if v != 0) and \
                len(set(shown)) == len(set(finite)):
            return d
    return most


def retraining_sentence(retrained: float, once: float, wins: int, later: int,
                        gap: tuple[float, float, float] | None) -> str:
    """The verdict on retraining every cycle against training once, in mean Brier score: better
    or worse only where the paired interval of the gap excludes 0 (without an interval, by the
    figures alone, as rounded)."""
    cycles = f"{later} {'cycle' if later == 1 else 'cycles'} after the first"
    same = "(in the first cycle the two are the same model)"
    d = _decimals(retrained, once, *(gap or ()))
    figures = f"{retrained:.{d}f} vs {once:.{d}f}"
    if gap is None:
        verdict = ("better" if round(retrained, 4) < round(once, 4) else "no better"
                   if round(retrained, 4) == round(once, 4) else "worse")
        return (f"Retraining every cycle is {verdict} than training once in mean Brier score: "
                f"{figures}; lower in {wins} of the {cycles} {same}.")
    point, low, high = gap
    interval = (f"retrained minus once {point:+.{d}f}, 95% bootstrap interval {low:+.{d}f} to "
                f"{high:+.{d}f}")
    if low <= 0 <= high:
        return (f"Retraining every cycle and training once do not differ in mean Brier score "
                f"beyond noise: {figures} ({interval}, which includes 0); retraining was lower "
                f"in {wins} of the {cycles} {same}.")
    verdict = "better" if high < 0 else "worse"
    return (f"Retraining every cycle is {verdict} than training once in mean Brier score, "
            f"beyond noise: {figures} ({interval}); lower in {wins} of the {cycles} {same}.")


def one_outcome_sentence(periods: list[tuple[int, int, int]], positive: str) -> str | None:
    """Why ROC-AUC and PR-AUC are missing: the scored periods (``(cycle, leads, positives)``)
    that hold one outcome only (a holiday without a single conversion, say); None when none."""
    none = [(c, n) for c, n, p in periods if p == 0]
    only = [(c, n) for c, n, p in periods if p == n]
    if not none and not only:
        return None
    parts = []
    for found, holds in ((none, f"no {positive}"), (only, f"only {positive}s")):
        if found:
            cycles = " and ".join(str(c) for c, _ in found)
            leads = ", ".join(f"{n:,}" for _, n in found)
            many = len(found) > 1
            s = "s" if many else ""
            parts.append(f"the period{s} after cycle{s} {cycles} ({leads} leads) "
                         f"{'hold' if many else 'holds'} {holds}")
    text = "; ".join(parts)
    return (f"{text[0].upper()}{text[1:]}: ROC-AUC and PR-AUC need both outcomes, so they are "
            "not measured there, and their means over the cycles are left out.")


def thin_period_sentence(periods: list[tuple[int, int]], minimum: int) -> str | None:
    """Why a cycle's rows are blank: the periods (``(cycle, leads)``) with fewer than ``minimum``
    leads, which are not scored (weeks without leads, say); None when none."""
    thin = [(c, n) for c, n in periods if n < minimum]
    if not thin:
        return None
    many = len(thin) > 1
    cycles = " and ".join(str(c) for c, _ in thin)
    leads = ", ".join(f"{n:,}" for _, n in thin)
    noun = "lead" if thin[-1][1] == 1 else "leads"
    return (f"The period{'s' if many else ''} after cycle{'s' if many else ''} {cycles} "
            f"({leads} {noun}) {'are' if many else 'is'} not scored: a period needs {minimum} "
            f"leads or more, so {'their' if many else 'its'} rows are blank.")


def chance_sentence(intervals: dict[str, tuple[float, float]]) -> str:
    """The mean ROC-AUC intervals, and which models rank no better than chance beyond noise."""
    known = {m: iv for m, iv in intervals.items() if all(math.isfinite(v) for v in iv)}
    if not known:
        return ""
    listed = ", ".join(f"{m} {lo:.3f}-{hi:.3f}" for m, (lo, hi) in known.items())
    chance = [m for m, (lo, hi) in known.items() if lo <= 0.5 <= hi]
    text = (f"Mean ROC-AUC over the periods each model scored, 95% bootstrap interval: {listed}.")
    if len(chance) == len(known):
        return (f"{text} Every interval includes 0.5: no model ranked the following periods "
                "better than chance beyond noise.")
    if chance:
        return (f"{text} {', '.join(chance)} {'includes' if len(chance) == 1 else 'include'} "
                "0.5: no better than chance beyond noise.")
    return text
