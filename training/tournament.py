"""The model tournament: each cycle, three families compete on time-ordered folds; the best wins.

Entrants, all on the same encoded features (``features.encoding.FeatureEncoder``):

* ``lightgbm``: LightGBM tuned with Optuna (TPE, seeded) over trees (early stopping), leaves, rows
  per leaf, learning rate, L2, feature fraction; the monotone constraints stay on;
* ``logistic``: L2-regularised logistic regression on splines and levels (``training.logistic``),
  its strength chosen on the same folds;
* ``blend``: a weighted average of the two margins, the weight chosen on the folds.

Folds come from ``training.folds.expanding_folds`` over the training weeks only, so nothing here
sees the cohort the gates judge. The entrants are ranked by their mean **log-loss** over the folds:
it scores every lead's probability, not only the order, so it stays steady on folds with a few
dozen SQLs where PR-AUC jumps with a handful of leads, and it is what every entrant minimises.
ROC-AUC and PR-AUC are recorded beside it.

An entrant ties with the best when its mean log-loss is within noise of the best's: within
``tie_standard_errors`` standard errors of the paired difference (each lead's log-loss under one
entrant minus under the other, on the same folds; the "one-standard-error rule" of Breiman et al.
1984 and Hastie, Tibshirani & Friedman, section 7.10), and never less than ``tie_tolerance``.
Ties go to the simpler family (logistic, then lightgbm, then blend). The rule matters most for the
blend: its weight is picked on the same folds it is scored on, so its fold score flatters it a
little, and a gap smaller than the noise says nothing about which model will score better next.

Early stopping picks each fold's number of trees on that fold's own check block, which flatters a
fold a little; the trial is therefore scored at the median of its folds' best rounds, one number
for every fold, and that number is what the winner trains with.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

from features.definitions import FeatureSpec
from features.encoding import FeatureEncoder
from leadscore.errors import LeadscoreError
from scoring.bundle import sigmoid
from training.folds import Fold, expanding_folds
from training.logistic import fit_linear

SIMPLICITY = ("logistic", "lightgbm", "blend")
"""Simplest first: the order ties are broken in."""
C_GRID = (0.01, 0.1, 1.0)
BLEND_WEIGHTS = tuple(round(float(w), 2) for w in np.linspace(0.1, 0.9, 9))
DEFAULTS: dict[str, Any] = {
    "enabled": True, "trials": 8, "folds": 3, "max_rounds": 600, "early_stopping": 40,
    "bins": 10, "tie_tolerance": 0.0005, "tie_standard_errors": 1.0, "max_tuning_leads": 60_000,
}


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
                f"{win.mean_log_loss:.4f} on {len(self.folds)} time-ordered folds of the "
                "training weeks")
        if other is None:
            return head + "; it was the only entrant)."
        gap, se = abs(self.margin), self.margin_se
        noise = (f"the gap, {gap:.4f}, is within {self.tie_standard_errors:g} standard error"
                 f"{'' if self.tie_standard_errors == 1 else 's'} ({se:.4f}) of the paired "
                 "difference" if gap <= self.tie_standard_errors * se
                 else f"the gap, {gap:.4f}, is under the tie tolerance {self.tie_tolerance:g}")
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


def tournament_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """``cycle.tournament`` over the defaults.

    Raises:
        LeadscoreError: an unknown key or a value of the wrong kind, named with its fix.
    """
    given = dict(config["cycle"].get("tournament") or {})
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise LeadscoreError(f"cycle.tournament has no setting {unknown[0]!r}: use one of "
                             f"{', '.join(DEFAULTS)}.")
    out = {**DEFAULTS, **given}
    for key, default in DEFAULTS.items():
        value = out[key]
        kind = type(default)
        ok = isinstance(value, bool) if kind is bool else (
            isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
            and (kind is float or float(value).is_integer()))
        if not ok or (kind is int and value < 1):
            wanted = "true or false" if kind is bool else f"a number like {default}"
            raise LeadscoreError(f"cycle.tournament.{key} is {value!r}: set it to {wanted}.")
    return out


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


def _lead_losses(y: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Each lead's log-loss, ``log(1 + e^m) - y m``, computed without overflow."""
    return np.logaddexp(0.0, margin) - y * margin


def _scores(y: np.ndarray, margin: np.ndarray) -> tuple[float, float, float]:
    p = np.clip(sigmoid(margin), 1e-12, 1 - 1e-12)
    return (float(log_loss(y, p, labels=[0, 1])), float(roc_auc_score(y, p)),
            float(average_precision_score(y, p)))


def _subsample(rows: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    if len(rows) <= limit:
        return rows
    return np.sort(rng.choice(rows, size=limit, replace=False))


class _Search:
    """The data every trial shares: the folds' matrices, LightGBM datasets built once."""

    def __init__(self, X, y, folds: Sequence[Fold], base: dict[str, Any], categorical, monotone,
                 settings: dict[str, Any], seed: int) -> None:
        rng = np.random.default_rng(seed)
        limit = int(settings["max_tuning_leads"])
        self.base, self.settings = base, settings
        self.parts = []
        for fold in folds:
            fit = _subsample(fold.fit, limit, rng)
            check = _subsample(fold.check, limit, rng)
            self.parts.append((X[fit], y[fit], X[check], y[check]))
        self.categorical, self.monotone = categorical, monotone
        self.fold_margins: dict[int, list[np.ndarray]] = {}

    def trees(self, params: dict[str, Any]) -> tuple[list[np.ndarray], int]:
        """Each fold's check margins at the median of the folds' early-stopped rounds."""
        full = {**self.base, **params}
        if any(self.monotone):
            full["monotone_constraints"] = list(self.monotone)
        boosters, best = [], []
        for X_fit, y_fit, X_check, y_check in self.parts:
            train = lgb.Dataset(X_fit, y_fit, categorical_feature=self.categorical,
                                params={"verbosity": -1})
            check = lgb.Dataset(X_check, y_check, reference=train)
            booster = lgb.train(full, train, num_boost_round=int(self.settings["max_rounds"]),
                                valid_sets=[check], callbacks=[lgb.early_stopping(
                                    int(self.settings["early_stopping"]), verbose=False)])
            boosters.append(booster)
            best.append(max(1, booster.best_iteration))
        rounds = int(np.median(best))
        return [b.predict(part[2], raw_score=True, num_iteration=rounds)
                for b, part in zip(boosters, self.parts, strict=True)], rounds

    def linear(self, C: float, kinds, levels, increasing) -> list[np.ndarray]:
        out = []
        for X_fit, y_fit, X_check, _ in self.parts:
            model = fit_linear(X_fit, y_fit, kinds, levels, C=C,
                               n_bins=int(self.settings["bins"]), increasing=increasing)
            out.append(model.margin(X_check))
        return out

    def entrant(self, family: str, margins: list[np.ndarray], params: dict[str, Any],
                seconds: float) -> Entrant:
        scored = [_scores(part[3], m) for part, m in zip(self.parts, margins, strict=True)]
        return Entrant(family, [s[0] for s in scored], [s[1] for s in scored],
                       [s[2] for s in scored], params, seconds,
                       [_lead_losses(part[3], m) for part, m in
                        zip(self.parts, margins, strict=True)])


def _space(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 4, 48, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 10, 200, log=True),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-2, 30.0, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.5, 1.0),
    }


def run_tournament(
    frame: pd.DataFrame,
    specs: Sequence[FeatureSpec],
    config: Mapping[str, Any],
    *,
    base_params: dict[str, Any],
    increasing: set[str],
    seed: int,
    min_category_count: int = 10,
) -> TournamentResult | None:
    """Run the tournament on the training weeks; None when they give no usable fold.

    Args:
        frame: the training weeks (every cohort before the validation cohort), with ``label``,
            ``cohort``, ``scoreable_at`` and the raw feature columns.
        specs: the features, in model column order.
        config: the leadscore config (``cycle.tournament``).
        base_params: LightGBM's fixed parameters (objective, seed, threads, determinism).
        increasing: features the score may only rise with.
        seed: seeds the search and the subsampling.
    """
    settings = tournament_settings(config)
    folds = expanding_folds(frame, int(settings["folds"]))
    if not folds:
        return None
    specs = list(specs)
    encoder = FeatureEncoder(features=specs, min_count=min_category_count).fit(frame)
    X = encoder.transform(frame)
    y = frame["label"].to_numpy(dtype=np.float64)
    kinds = [s.kind for s in specs]
    levels = [len(encoder.categories_.get(s.name, [])) + 1 for s in specs]
    flags = [s.name in increasing for s in specs]
    categorical = [j for j, k in enumerate(kinds) if k == "categorical"]
    search = _Search(X, y, folds, base_params, categorical, [int(f) for f in flags], settings,
                     seed)

    # 1. LightGBM, tuned: each trial scored by its mean fold log-loss
    started = time.perf_counter()
    found: dict[int, tuple[list[np.ndarray], int]] = {}

    def objective(trial: optuna.Trial) -> float:
        margins, rounds = search.trees(_space(trial))
        found[trial.number] = (margins, rounds)
        trial.set_user_attr("rounds", rounds)
        return float(np.mean([_scores(p[3], m)[0]
                              for p, m in zip(search.parts, margins, strict=True)]))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize",
                                sampler=optuna.samplers.TPESampler(seed=seed))
    study.enqueue_trial({"learning_rate": 0.03, "num_leaves": 7, "min_child_samples": 50,
                         "reg_lambda": 5.0, "feature_fraction": 0.8})  # the untuned settings
    study.optimize(objective, n_trials=max(1, int(settings["trials"])))
    best = study.best_trial
    tree_margins, rounds = found[best.number]
    trees = search.entrant("lightgbm", tree_margins, {**best.params, "rounds": rounds},
                           time.perf_counter() - started)

    # 2. the logistic model, its strength chosen on the same folds
    started = time.perf_counter()
    by_c = {C: search.linear(C, kinds, levels, flags) for C in C_GRID}
    tried = {C: search.entrant("logistic", m, {"C": C}, 0.0) for C, m in by_c.items()}
    best_c = min(C_GRID, key=lambda C: tried[C].mean_log_loss)
    logistic = tried[best_c]
    logistic.params["bins"] = int(settings["bins"])
    logistic.seconds = time.perf_counter() - started

    # 3. the blend of the two, its weight chosen on the folds
    started = time.perf_counter()
    blends = {w: search.entrant("blend", [w * t + (1 - w) * lin for t, lin in
                                          zip(tree_margins, by_c[best_c], strict=True)],
                                {"blend_weight": w}, 0.0) for w in BLEND_WEIGHTS}
    weight = min(BLEND_WEIGHTS, key=lambda w: blends[w].mean_log_loss)
    blend = blends[weight]
    blend.seconds = time.perf_counter() - started  # the weight search; the fits are reused

    entrants = [logistic, trees, blend]
    trials = study.trials_dataframe(attrs=("number", "value", "params", "user_attrs",
                                           "duration"))
    tolerance, standard_errors = (float(settings["tie_tolerance"]),
                                  float(settings["tie_standard_errors"]))
    family = simplest_within_noise(entrants, tolerance, standard_errors)
    choice = ModelChoice(family, dict(best.params), rounds, best_c, int(settings["bins"]),
                         float({"lightgbm": 1.0, "logistic": 0.0, "blend": weight}[family]))
    return TournamentResult(choice, entrants, trials, [f.first_check_cohort for f in folds],
                            tolerance, standard_errors)

