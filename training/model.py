"""Training the challenger: three models (full, fit, intent), Platt calibration, grade cut-points.

``train_bundle`` turns a training frame and a calibration frame (both from
``training.dataset.split``) into a ``scoring.bundle.ScoringBundle``:

* the encoder (``features.encoding.FeatureEncoder``) is fitted on the training frame only;
* ``full`` learns from every feature and gives ``score`` and the reasons; ``fit`` learns from the
  fit features alone (a fit score exists for a lead with no activity); ``intent`` from the intent
  features alone;
* each booster's margin is Platt-scaled on the calibration cohorts, which the boosters never saw,
  so a score of 0.3 means "3 in 10 such leads became SQLs" (``training.deploy`` passes a
  calibration fitted on out-of-sample margins instead, when the boosters learned those weeks);
* grade cut-points are the training quartiles of fit_score and intent_score;
* counts of high-intent activities carry a monotone constraint: more never lowers a score.

Training is deterministic: the same data, config and seed give byte-identical boosters
(``deterministic=True``, a fixed thread count, every LightGBM seed derived from ``seed``).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.definitions import FeatureSpec
from features.encoding import FeatureEncoder
from features.intent import high_intent_types
from leadscore.errors import LeadscoreError
from scoring.bundle import BOOSTERS, ScoringBundle
from scoring.drift import training_profile
from training.calibration import platt
from training.logistic import fit_linear
from training.tournament import ModelChoice

NUM_THREADS = 1
"""Default threads per training run (``cycle.lightgbm.num_threads`` overrides it). Fixed, because
LightGBM's results may differ across thread counts; one by default, because OpenMP threads that
share busy cores spin-wait and can make training twenty times slower, while one thread trains
tens of thousands of leads in seconds."""
MIN_CATEGORY_COUNT = 10
"""A category seen fewer times than this in training is folded into ``__other__``."""
PLACEHOLDER_THRESHOLD = 0.5
"""The threshold a bundle carries until ``training.threshold`` sets the real one."""
_ROUNDS_KEYS = ("n_estimators", "num_iterations", "num_boost_round", "num_rounds", "num_trees")
_TUNED_ALIASES = {"feature_fraction": ("colsample_bytree", "sub_feature"),
                  "reg_lambda": ("lambda_l2",), "min_child_samples": ("min_data_in_leaf",)}


def lightgbm_params(config: Mapping[str, Any], seed: int) -> tuple[dict[str, Any], int]:
    """LightGBM parameters from ``config["cycle"]["lightgbm"]`` and the number of rounds.

    The config may use scikit-learn names (``subsample``, ``colsample_bytree``, ...): LightGBM
    reads them as aliases. The objective, seed and determinism are always set here, and the
    thread count is fixed (``num_threads`` in the config, else ``NUM_THREADS``).
    """
    params = dict(config["cycle"]["lightgbm"])
    num_threads = int(params.pop("num_threads", NUM_THREADS))
    rounds = 100
    for key in _ROUNDS_KEYS:
        if key in params:
            rounds = int(params.pop(key))
    params.update(
        objective="binary",
        seed=int(seed),
        deterministic=True,
        force_col_wise=True,
        num_threads=num_threads,
        verbosity=-1,
    )
    return params, rounds


def _lightgbm_names() -> frozenset[str] | None:
    """Every parameter name LightGBM knows, aliases included (None if this LightGBM cannot say)."""
    try:
        from lightgbm.basic import _ConfigAliases

        aliases = _ConfigAliases._get_all_param_aliases()
    except (ImportError, AttributeError):  # pragma: no cover - another LightGBM release
        return None
    return frozenset(aliases) | frozenset(a for names in aliases.values() for a in names)


@contextlib.contextmanager
def _quiet_stderr():
    """File descriptor 2 points at /dev/null inside (what a C library writes there included)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def check_lightgbm(config: Mapping[str, Any]) -> None:
    """``cycle.lightgbm`` holds parameters LightGBM knows, with values it takes, checked on a
    tiny made-up frame before a review reads anything: a misspelt name would be ignored while the
    user believes it took, and a bad value would stop the review after its run had started.

    Raises:
        LeadscoreError: one sentence naming the setting and the fix.
    """
    given = config["cycle"].get("lightgbm") or {}
    known = _lightgbm_names()
    for key in given:
        if known is not None and key not in known and key not in _ROUNDS_KEYS:
            raise LeadscoreError(f"cycle.lightgbm.{key} is not a LightGBM parameter: fix its "
                                 "name (e.g. num_leaves, learning_rate, min_child_samples).")
    for key in _ROUNDS_KEYS:
        value = given.get(key)
        if key in given and (isinstance(value, bool) or not isinstance(value, int | float)
                             or value != int(value) or value < 1):
            raise LeadscoreError(f"cycle.lightgbm.{key} is {value!r}; it must be a whole number "
                                 "of trees, 1 or more.")
    x = np.random.default_rng(0).random((500, 2))
    try:
        params, _ = lightgbm_params(config, 0)
        # LightGBM prints its refusal on the process's stderr as well: the sentence below says it
        with warnings.catch_warnings(), _quiet_stderr():
            warnings.simplefilter("ignore")
            lgb.train({**params, "num_threads": 1},
                      lgb.Dataset(x, (x[:, 0] > 0.5).astype(float)), num_boost_round=1)
    except (lgb.basic.LightGBMError, ValueError, TypeError) as exc:
        why = str(exc).split(" at /")[0].strip().rstrip(".")
        raise LeadscoreError(f"cycle.lightgbm holds a value LightGBM refuses ({why}): fix it "
                             "in the config.") from None


def tuned_params(params: dict[str, Any], tuned: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with the tournament's tuned values in place of the config's (and of their
    aliases, which LightGBM would otherwise have to choose between)."""
    out = dict(params)
    for key in tuned:
        for alias in _TUNED_ALIASES.get(key, ()):
            out.pop(alias, None)
    return {**out, **tuned}


def _group_columns(specs: Sequence[FeatureSpec]) -> dict[str, list[int]]:
    all_columns = list(range(len(specs)))
    return {
        "full": all_columns,
        "fit": [i for i, s in enumerate(specs) if s.group == "fit"],
        "intent": [i for i, s in enumerate(specs) if s.group == "intent"],
    }


def increasing_features(specs: Sequence[FeatureSpec], config: Mapping[str, Any]) -> set[str]:
    """Features the score may only rise with: counts of high-intent activities.

    More demo requests or pricing views must never lower a lead's score. Trees fitted freely can
    dip where data is thin (the few leads with five pricing views in a week), so the boosters get
    a monotone constraint on these counts; every other feature, recency included, is learned
    freely, so decay still comes from the data.
    """
    counts = re.compile(
        "n_(" + "|".join(re.escape(t) for t in high_intent_types(config)) + r")_\d+d"
    )
    return {
        s.name for s in specs
        if s.kind == "numeric" and s.group == "intent" and counts.fullmatch(s.name)
    }


def _train_booster(
    X: np.ndarray,
    y: np.ndarray,
    columns: list[int],
    specs: Sequence[FeatureSpec],
    params: dict[str, Any],
    rounds: int,
    increasing: set[str] = frozenset(),
    weight: np.ndarray | None = None,
) -> lgb.Booster:
    names = [specs[i].name for i in columns]
    categorical = [j for j, i in enumerate(columns) if specs[i].kind == "categorical"]
    monotone = [1 if name in increasing else 0 for name in names]
    if any(monotone):
        params = {**params, "monotone_constraints": monotone}
    dataset = lgb.Dataset(
        X[:, columns],
        label=y,
        weight=weight,
        feature_name=names,
        categorical_feature=categorical,
        params={"verbosity": -1},
        free_raw_data=True,
    )
    return lgb.train(params, dataset, num_boost_round=rounds)


def _labels(frame: pd.DataFrame, what: str) -> np.ndarray:
    y = frame["label"].to_numpy(dtype=np.float64)
    if len(y) == 0 or y.min() == y.max():
        raise ValueError(f"the {what} frame needs both SQLs and non-SQLs to train on")
    return y


def train_bundle(
    train: pd.DataFrame,
    calib: pd.DataFrame,
    specs: Sequence[FeatureSpec],
    config: Mapping[str, Any],
    *,
    seed: int,
    meta: Mapping[str, Any],
    attribute_roles: Mapping[str, Sequence[str]] | None = None,
    weight: np.ndarray | None = None,
    choice: ModelChoice | None = None,
    calibration: Mapping[str, Any] | None = None,
) -> ScoringBundle:
    """Train the full, fit and intent models of the chosen family and calibrate them.

    Args:
        train: older matured cohorts: feature columns (raw, as ``build_batch`` gives them) and
            ``label``.
        calib: the cohorts between training and validation, same columns: Platt scaling only.
        specs: the features, in model column order (``features.definitions.feature_specs``).
        config: the leadscore config (``cycle.lightgbm``, ``cycle.band``, ``features``, ``icp``).
        seed: seeds every random choice LightGBM makes.
        meta: metadata copied into the manifest (cycle, trained_at, policy hash, ...).
        attribute_roles: ``{column: (role, kind)}`` of the store, so serving builds attribute
            features exactly as training did.
        weight: optional per-lead training weight (recency weighting, ``training.deploy``).
        choice: the family and settings the tournament chose (``training.tournament``); None
            trains LightGBM with the config's fixed settings.
        calibration: each booster's stored calibration, fitted elsewhere on out-of-sample
            margins (``training.deploy``); None fits Platt scaling on ``calib``'s margins.

    Returns:
        A bundle whose threshold is the placeholder 0.5 until the cycle sets the real one.
    """
    specs = list(specs)
    for group in ("fit", "intent"):
        if not any(s.group == group for s in specs):
            raise ValueError(f"no {group} feature among the specs: both groups are needed")
    y_train = _labels(train, "training")
    y_calib = _labels(calib, "calibration")
    encoder = FeatureEncoder(features=specs, min_count=MIN_CATEGORY_COUNT).fit(train)
    X_train = encoder.transform(train)
    params, rounds = lightgbm_params(config, seed)
    choice = choice or ModelChoice("lightgbm")
    if choice.lightgbm:
        params, rounds = tuned_params(params, choice.lightgbm), choice.rounds
    columns = _group_columns(specs)
    increasing = increasing_features(specs, config)
    boosters = {} if choice.family == "logistic" else {
        name: _train_booster(X_train, y_train, columns[name], specs, params, rounds, increasing,
                             weight)
        for name in BOOSTERS
    }
    linear = {} if choice.family == "lightgbm" else {
        name: fit_linear(X_train[:, columns[name]], y_train,
                         [specs[i].kind for i in columns[name]],
                         [len(encoder.categories_.get(specs[i].name, [])) + 1
                          for i in columns[name]],
                         C=choice.C, n_bins=choice.bins,
                         increasing=[specs[i].name in increasing for i in columns[name]],
                         weight=weight)
        for name in BOOSTERS
    }

    manifest: dict[str, Any] = {
        "threshold": PLACEHOLDER_THRESHOLD,
        "band": dict(config["cycle"]["band"]),
        **dict(meta),
        "features": [s.as_dict() for s in specs],
        "feature_config": {
            "features": dict(config.get("features") or {}),
            "icp": dict(config.get("icp") or {}),
        },
        "attribute_roles": {k: list(v) for k, v in sorted((attribute_roles or {}).items())},
        "family": choice.family,
        "blend_weight": choice.blend_weight,
        "model_choice": choice.as_dict(),
        "lightgbm": {**params, "num_boost_round": rounds},
        "monotone_increasing": sorted(increasing),
        "seed": int(seed),
        "training": {
            "train_leads": len(train),
            "train_positives": int(y_train.sum()),
            "calibration_leads": len(calib),
            "calibration_positives": int(y_calib.sum()),
        },
        "calibration": {},
        "grade_cuts": {},
    }
    # the training cohort's shares per feature bin: what the monitor measures drift against
    manifest["training_profile"] = training_profile(
        X_train, manifest["features"],
        {name: encoder.code_count(name) - 1 for name in encoder.categories_})
    bundle = ScoringBundle(manifest=manifest, encoder=encoder, boosters=boosters, linear=linear)
    if calibration is None:
        calib_margins = bundle.margins(encoder.transform(calib))
        calibration = {name: list(platt(calib_margins[name], y_calib)) for name in BOOSTERS}
    recalibrate(bundle, calibration, X_train)
    return bundle


def recalibrate(bundle: ScoringBundle, calibration: Mapping[str, Any], X: np.ndarray) -> None:
    """Give ``bundle`` a new calibration per booster and the grade cut-points it implies.

    The cut-points are the quartiles of the calibrated fit and intent scores of ``X`` (the
    encoded rows the model learned from), so grades keep their meaning under the new map.
    """
    bundle.manifest["calibration"] = dict(calibration)
    probs = bundle.calibrated(bundle.margins(X))
    bundle.manifest["grade_cuts"] = {group: quartile_cuts(probs[group])
                                     for group in ("fit", "intent")}


def quartile_cuts(scores: np.ndarray) -> list[float]:
    """The grade cut-points, best first: the 75th, 50th and 25th percentiles of ``scores``.

    A group of leads tied on a percentile (every lead without activity has the same intent
    score; a model without intent features gives everyone one score) goes wholly to the quarter
    its middle rank falls in: the cut is the tied value when the group's middle rank is at or
    above the percentile (the group is graded up), and just above it otherwise. Plain
    ``score >= percentile`` gave a tie the best quarter it touched: digit 1, "most intent", to a
    cohort where nobody had any activity. Without ties the cuts are the plain percentiles.
    """
    ordered = np.sort(np.asarray(scores, dtype=np.float64))
    cuts = []
    for q in (0.75, 0.5, 0.25):
        cut = float(np.quantile(ordered, q))
        first = int(np.searchsorted(ordered, cut, "left"))
        last = int(np.searchsorted(ordered, cut, "right"))
        if last - first > 1 and (first + last) / 2 / len(ordered) < q:
            cut = float(np.nextafter(cut, np.inf))  # the tie sits mostly below: grade it down
        cuts.append(cut)
    return cuts
