"""The tournament's outcome and the rule that decides it: who won, by how much, and whether the
gap is more than noise.

Split from ``training.tournament`` (which runs the entrants on the folds and still exports every
name here that other modules import) because deciding and telling the result is pure arithmetic on
the entrants' fold scores, with no LightGBM, Optuna or data: ``ModelChoice`` (what the challenger
is trained as), ``Entrant`` (one family's showing), ``TournamentResult`` (the table and its one
sentence) and the tie rule.

An entrant ties with the best when its mean log-loss is within noise of the best's: within
``tie_standard_errors`` standard errors of the paired difference (each lead's log-loss under one
entrant minus under the other, on the same folds; the "one-standard-error rule" of Breiman et al.
1984 and Hastie, Tibshirani & Friedman, section 7.10), and never less than ``tie_tolerance``.
Ties go to the simpler family (logistic, then lightgbm, then blend). The rule matters most for the
blend: its weight is picked on the same folds it is scored on, so its fold score flatters it a
little, and a gap smaller than the noise says nothing about which model will score better next.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

SIMPLICITY = ("logistic", "lightgbm", "blend")
"""Simplest first: the order ties are broken in."""


@dataclass(frozen=True)
class ModelChoice:
    """What the challenger is trained as: the winning family and its settings.

    ``lightgbm`` holds LightGBM parameters (without the objective, seed and threads, which
    ``training.model.lightgbm_params`` sets) and ``rounds``; ``C`` and ``bins`` the logistic
    model's; ``blend_weight`` the trees' share of a blend's margin.
    """

    family: str
    lightgbm: dict[str, Any] = field(default_factory=dict)
    rounds: int = 0
    C: float = 1.0
    bins: int = 10
    blend_weight: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"family": self.family, "lightgbm": dict(self.lightgbm), "rounds": self.rounds,
                "C": self.C, "bins": self.bins, "blend_weight": self.blend_weight}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelChoice:
        return cls(str(data["family"]), dict(data.get("lightgbm") or {}),
                   int(data.get("rounds", 0)), float(data.get("C", 1.0)),
                   int(data.get("bins", 10)), float(data.get("blend_weight", 1.0)))


@dataclass
class Entrant:
    """One family's showing: its fold scores (log-loss, ROC-AUC, PR-AUC), settings and time.

    ``lead_losses`` holds each fold's per-lead log-loss, for the paired standard errors.
    """

    family: str
    log_loss: list[float]
    roc_auc: list[float]
    pr_auc: list[float]
    params: dict[str, Any]
    seconds: float
    lead_losses: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def mean_log_loss(self) -> float:
        return float(np.mean(self.log_loss))

    def row(self) -> dict[str, Any]:
        return {"family": self.family, "mean_log_loss": self.mean_log_loss,
                "mean_roc_auc": float(np.mean(self.roc_auc)),
                "mean_pr_auc": float(np.mean(self.pr_auc)), "seconds": self.seconds}


@dataclass
class TournamentResult:
    """The tournament's outcome: the winner's settings, every entrant, the search's trials."""

    choice: ModelChoice
    entrants: list[Entrant]
    trials: pd.DataFrame
    folds: list[str]
    tie_tolerance: float
    tie_standard_errors: float = 1.0

    @property
    def table(self) -> pd.DataFrame:
        """One row per entrant, best mean log-loss first."""
        return (pd.DataFrame([e.row() for e in self.entrants])
                .sort_values("mean_log_loss", kind="stable").reset_index(drop=True))

    @property
    def winner(self) -> Entrant:
        return next(e for e in self.entrants if e.family == self.choice.family)

    @property
    def runner_up(self) -> Entrant | None:
        others = [e for e in self.entrants if e.family != self.choice.family]
        return min(others, key=lambda e: e.mean_log_loss) if others else None

    @property
    def margin(self) -> float:
        """The runner-up's mean log-loss minus the winner's (negative: a tie won by simplicity)."""
        other = self.runner_up
        return math.nan if other is None else other.mean_log_loss - self.winner.mean_log_loss

    @property
    def margin_se(self) -> float:
        """The standard error of ``margin``, paired by lead (NaN without a runner-up)."""
        other = self.runner_up
        return math.nan if other is None else paired_se(self.winner, other)

    def allowance(self, entrant: Entrant, against: Entrant) -> float:
        """How far ``entrant``'s mean log-loss may sit above ``against``'s and still tie."""
        return allowance(entrant, against, self.tie_tolerance, self.tie_standard_errors)

    def simplest_within_noise(self) -> str:
        """The simplest family whose mean log-loss ties with the best's (``allowance``)."""
        return simplest_within_noise(self.entrants, self.tie_tolerance, self.tie_standard_errors)

    def sentence(self) -> str:
        """One true sentence: which family won and by how much."""
        win, other = self.winner, self.runner_up
        head = (f"The {win.family} model won this cycle's tournament (mean log-loss "
                f"{win.mean_log_loss:.4f} on {len(self.folds)} time-ordered "
                f"fold{'' if len(self.folds) == 1 else 's'} of the "
                "training weeks")
        if other is None:
            return head + "; it was the only entrant)."
        gap, se = abs(self.margin), self.margin_se
        noise = (f"the gap, {gap:.4f}, is within {self.tie_standard_errors:g} standard error"
                 f"{'' if self.tie_standard_errors == 1 else 's'} ({se:.4f}) of the paired "
                 "difference" if self.tie_standard_errors > 0
                 and gap <= self.tie_standard_errors * se
                 # "0.0005 is under the tie tolerance 0.0005" reads false: a gap equal to the
                 # tolerance ties too, and the two are shown to the same places
                 else f"the gap, {gap:.4f}, is within the tie tolerance "
                      f"{self.tie_tolerance:.4f}")
        if self.margin < 0:
            return head + (f"), tied with {other.family} ({other.mean_log_loss:.4f}; {noise}): "
                           "a tie goes to the simpler model.")
        if self.margin <= self.allowance(other, self.winner):
            return head + (f"), tied with the more complex {other.family} "
                           f"({other.mean_log_loss:.4f}; {noise}): the simpler model wins a tie.")
        allowed = self.allowance(other, self.winner)
        margin, allowed_text = distinct(self.margin, allowed)
        return head + (f"), {margin} lower than {other.family}'s {other.mean_log_loss:.4f}: "
                       f"more than the {allowed_text} a tie allows (standard error of the gap "
                       f"{se:.4f}).")


def distinct(larger: float, smaller: float, digits: int = 4) -> tuple[str, str]:
    """Both numbers with 4 decimals, or as many more as it takes (up to 8) to show which is larger:
    "0.0031 lower ... more than the 0.0031 a tie allows" would read as a tie."""
    for places in range(digits, 9):
        a, b = f"{larger:.{places}f}", f"{smaller:.{places}f}"
        if a != b:
            return a, b
    return a, b


def paired_se(a: Entrant, b: Entrant) -> float:
    """The standard error of ``a.mean_log_loss - b.mean_log_loss``, paired by lead.

    The mean log-loss is the mean over K folds of each fold's mean, so its variance is
    ``sum_k var(d_k) / n_k / K**2`` where ``d_k`` is the per-lead difference on fold k.
    """
    if not a.lead_losses or len(a.lead_losses) != len(b.lead_losses):
        return 0.0
    var = sum(float(np.var(x - y, ddof=1)) / len(x) if len(x) > 1 else 0.0
              for x, y in zip(a.lead_losses, b.lead_losses, strict=True))
    return math.sqrt(var) / len(a.lead_losses)


def allowance(entrant: Entrant, against: Entrant, tolerance: float,
              standard_errors: float) -> float:
    """How far ``entrant``'s mean log-loss may sit above ``against``'s and still tie: the
    tolerance, or ``standard_errors`` paired standard errors of the gap when that is more."""
    return max(tolerance, standard_errors * paired_se(entrant, against))


def simplest_within_noise(entrants: Sequence[Entrant], tolerance: float,
                          standard_errors: float) -> str:
    """The simplest family (``SIMPLICITY``) whose mean log-loss ties with the best's."""
    leader = min(entrants, key=lambda e: e.mean_log_loss)
    return next(e.family for f in SIMPLICITY for e in entrants if e.family == f and
                e.mean_log_loss - leader.mean_log_loss
                <= allowance(e, leader, tolerance, standard_errors))
