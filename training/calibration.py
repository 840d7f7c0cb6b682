"""Calibration: Platt scaling fitted on the newest matured cohort's margins.

The bundle applies it (``scoring.bundle.ScoringBundle.calibrated``); training fits it here.
"""

from __future__ import annotations

import math

import numpy as np

from scoring.bundle import sigmoid


def platt(margin: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Fit Platt scaling ``sigmoid(a * margin + b)`` by Newton's method on the log-loss.

    Uses Platt's (1999) targets, ``(N+ + 1) / (N+ + 2)`` for SQLs and ``1 / (N- + 2)`` for the
    rest, so ``a`` and ``b`` stay finite when a small calibration set is perfectly separated; with
    thousands of leads they differ from 0/1 by a negligible amount. Each Newton step is halved
    until the loss decreases, so the fit cannot overshoot and diverge.
    """
    margin = np.asarray(margin, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n_pos = float(y.sum())
    n_neg = float(len(y)) - n_pos
    target = np.where(y > 0.5, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss(a: float, b: float) -> float:
        z = a * margin + b
        return float(np.sum(np.logaddexp(0.0, z) - target * z))

    a, b = 1.0, 0.0
    current = loss(a, b)
    for _ in range(100):
        p = sigmoid(a * margin + b)
        w = np.clip(p * (1 - p), 1e-12, None)
        g = np.array([np.sum((p - target) * margin), np.sum(p - target)])
        h = np.array([[np.sum(w * margin * margin), np.sum(w * margin)],
                      [np.sum(w * margin), np.sum(w)]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(h, g)
        scale = 1.0
        while scale > 1e-6:
            candidate = loss(a - scale * step[0], b - scale * step[1])
            if candidate <= current:
                break
            scale /= 2
        else:
            break  # no step lowers the loss: converged as far as floating point allows
        a, b = a - scale * step[0], b - scale * step[1]
        current = candidate
        if scale * math.hypot(*step) < 1e-10:
            break
    return float(a), float(b)
