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

How a tie is decided and told (the paired standard error, the simpler family winning a tie, the
sentence) is in ``training.tournament_result``; its names are exported here too.

Early stopping picks each fold's number of trees on that fold's own check block, which flatters a
fold a little; the trial is therefore scored at the median of its folds' best rounds, one number
for every fold, and that number is what the winner trains with.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

from features.definitions import FeatureSpec
from features.encoding import FeatureEncoder
from leadscore.config import check_tournament
from leadscore.errors import LeadscoreError
from scoring.bundle import sigmoid
from training.folds import Fold, expanding_folds
from training.logistic import fit_linear
from training.tournament_result import (
    Entrant,
    ModelChoice,
    TournamentResult,
    distinct,
    paired_se,
    simplest_within_noise,
)

# The tie rule's names stay importable from here, where callers and tests have always found them.
__all__ = [
    "BLEND_WEIGHTS", "C_GRID", "DEFAULTS", "Entrant", "ModelChoice", "TournamentResult",
    "distinct", "paired_se", "run_tournament", "tournament_settings",
]

C_GRID = (0.01, 0.1, 1.0)
BLEND_WEIGHTS = tuple(round(float(w), 2) for w in np.linspace(0.1, 0.9, 9))
DEFAULTS: dict[str, Any] = {
    "enabled": True, "trials": 8, "folds": 3, "max_rounds": 600, "early_stopping": 40,
    "bins": 10, "tie_tolerance": 0.0005, "tie_standard_errors": 1.0, "max_tuning_leads": 60_000,
}


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
    check_tournament(out)
    return out


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
