"""The scoring bundle: everything needed to score a lead, shared by batch scoring and the API.

A bundle is a folder (logged as the MLflow model's artifact ``bundle``):

    manifest.json   version-independent metadata: cycle, trained_at, threshold, band, feature specs,
                    encoder state, calibration, grade cut-points, headline metrics, policy hash,
                    the feature config (windows, ICP) the features were built with
    full.txt        LightGBM booster on fit + intent features: `score` and the reasons
    fit.txt         LightGBM booster on fit features only: `fit_score` (needs no activity at all)
    intent.txt      LightGBM booster on intent features only: `intent_score`

The model family (``manifest["family"]``, chosen by ``training.tournament``) says what makes each
margin: ``lightgbm`` (the three boosters), ``logistic`` (three ``scoring.linear.LinearModel``
tables, stored in ``manifest["linear"]``; no booster files) or ``blend`` (both, margins averaged
with ``manifest["blend_weight"]`` on the trees). Every scorer goes through ``margins`` and
``contributions``, so all of them serve whichever family won.

Scores:
    score         calibrated probability of becoming an SQL: sigmoid(a * margin + b) on the full
                  booster's margin (Platt scaling) or an isotonic map of it (see ``calibrate``);
                  both keep the ranking, so reasons still add up
    fit_score     the same for the fit booster; intent_score for the intent booster
    grade         fit letter (A best .. D) from fit_score cut-points x intent digit (1 best .. 4)
                  from intent_score cut-points, both set at the training quartiles: "A1".."D4"
    is_mql        score >= threshold (the threshold comes from the agreed conversion band)
    reasons       exact contributions to the full model's margin (log-odds, signed): TreeSHAP for
                  trees, looked-up values for the linear model, their weighted sum for a blend;
                  top-k by size, each with its feature group and a human-readable label

One scoring path: ``score_records`` (leads as JSON-like records: the API, the pyfunc and so
``spark_udf``, ``leadscore score``) builds features with ``features.online``, encodes them with
the bundle's ``FeatureEncoder.transform_columns``; the function ``score_frame`` (features
already built from the store by ``features.batch``: the review, the report) encodes with
``transform``. Both end in
``score_encoded``, which scores the matrix with the boosters compiled into one
``scoring.forest.Forest`` and explains it with exact TreeSHAP (``scoring.reasons``). pandas and
scikit-learn are never called per request. The score record (``Scores``) and ``calibrate`` live in
``scoring.scores``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.encoding import FeatureEncoder
from features.online import OnlineBatch, online_many_builder
from leadscore.config import default_config
from leadscore.errors import LeadscoreError
from scoring.drift import BinPlan
from scoring.forest import Forest
from scoring.linear import LinearModel, blend_contributions
from scoring.reasons import top_reasons_of
from scoring.scores import OUTPUT_COLUMNS, Scores, calibrate, feature_hashes, sigmoid
from scoring.treeshap import TreeShap

BOOSTERS = ("full", "fit", "intent")
FIT_LETTERS = "ABCD"
MANIFEST = "manifest.json"
FEATURE_CONFIG_SECTIONS = ("features", "icp")
FAMILIES = ("lightgbm", "logistic", "blend")

# the score record and calibration moved to scoring.scores; their importers keep this path
__all__ = ["BOOSTERS", "FAMILIES", "FEATURE_CONFIG_SECTIONS", "FIT_LETTERS", "MANIFEST",
           "OUTPUT_COLUMNS", "Scores", "ScoringBundle", "calibrate", "feature_config",
           "feature_hashes", "score_frame", "sigmoid"]


@dataclass
class ScoringBundle:
    """A trained model, ready to score.

    Attributes:
        manifest: metadata (see module docstring); ``manifest["features"]`` is a list of
            ``{"name", "group", "kind"}`` in the encoder's column order.
        encoder: the fitted FeatureEncoder.
        boosters: ``{"full", "fit", "intent"}`` LightGBM boosters (empty for ``logistic``).
        num_threads: threads each prediction uses; None keeps the boosters' own setting.
        linear: ``{"full", "fit", "intent"}`` linear models (``logistic`` and ``blend`` only).
    """

    manifest: dict[str, Any]
    encoder: FeatureEncoder
    boosters: dict[str, lgb.Booster]
    num_threads: int | None = None
    linear: dict[str, LinearModel] = field(default_factory=dict)

    # ---- persistence -------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        manifest = dict(self.manifest, encoder=self.encoder.to_dict())
        if self.linear:
            manifest["linear"] = {name: m.as_dict() for name, m in self.linear.items()}
        (path / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
        for name, booster in self.boosters.items():
            booster.save_model(str(path / f"{name}.txt"))
        return path

    @classmethod
    def load(cls, path: str | Path, *, num_threads: int = 1) -> ScoringBundle:
        """Load a bundle folder; boosters run with ``num_threads`` threads (1 per API worker)."""
        path = Path(path)
        if not (path / MANIFEST).is_file():
            raise LeadscoreError(
                f"{path} is not a leadscore model bundle (no {MANIFEST}): "
                "point to a model logged by `leadscore review`."
            )
        manifest = json.loads((path / MANIFEST).read_text())
        encoder = FeatureEncoder.from_dict(manifest.pop("encoder"))
        # A booster loaded from a file ignores constructor params (LightGBM warns and keeps the
        # training run's num_threads), so the thread count is passed at prediction time instead.
        family = manifest.get("family", "lightgbm")
        boosters = {} if family == "logistic" else {
            name: lgb.Booster(model_file=str(path / f"{name}.txt")) for name in BOOSTERS
        }
        linear = {name: LinearModel.from_dict(m)
                  for name, m in (manifest.pop("linear", None) or {}).items()}
        bundle = cls(manifest=manifest, encoder=encoder, boosters=boosters,
                     num_threads=num_threads, linear=linear)
        # compile the forest and the TreeSHAP tables now (numba, cached on disk), not on the
        # first lead scored
        bundle.margins(np.zeros((1, len(manifest["features"]))))
        bundle._treeshap()
        return bundle

    # ---- metadata ----------------------------------------------------------------------
    @property
    def threshold(self) -> float:
        return float(self.manifest["threshold"])

    @property
    def family(self) -> str:
        """``lightgbm``, ``logistic`` or ``blend`` (an older manifest without one: lightgbm)."""
        return str(self.manifest.get("family", "lightgbm"))

    @property
    def blend_weight(self) -> float:
        """The trees' share of a blend's margin (1 for lightgbm, 0 for logistic)."""
        return {"lightgbm": 1.0, "logistic": 0.0}.get(self.family,
                                                      float(self.manifest.get("blend_weight", 1)))

    @property
    def feature_names(self) -> list[str]:
        return [f["name"] for f in self.manifest["features"]]

    @property
    def feature_groups(self) -> dict[str, str]:
        return {f["name"]: f["group"] for f in self.manifest["features"]}

    def _columns(self, group: str) -> list[int]:
        return [i for i, f in enumerate(self.manifest["features"]) if f["group"] == group]

    def _group_columns(self) -> dict[str, np.ndarray]:
        cached = self.__dict__.get("_group_columns_cache")
        if cached is None:
            cached = {g: np.asarray(self._columns(g), dtype=np.intp) for g in ("fit", "intent")}
            self.__dict__["_group_columns_cache"] = cached
        return cached

    # ---- scoring -----------------------------------------------------------------------
    def _predict_params(self) -> dict[str, Any]:
        return {} if self.num_threads is None else {"num_threads": self.num_threads}

    def _forest(self) -> Forest | None:
        """The three boosters compiled into one ``Forest`` (None if a booster has a split kind
        it does not cover; LightGBM's own predict then does the work)."""
        if "_forest_cache" not in self.__dict__:
            columns = {"full": range(len(self.manifest["features"])), **self._group_columns()}
            try:
                forest = Forest.of(self.boosters, columns, BOOSTERS)
            except ValueError:
                forest = None
            self.__dict__["_forest_cache"] = forest
        return self.__dict__["_forest_cache"]

    def _linear_margins(self, X: np.ndarray) -> dict[str, np.ndarray]:
        columns = self._group_columns()
        return {"full": self.linear["full"].margin(X),
                **{g: self.linear[g].margin(np.take(X, columns[g], axis=1))
                   for g in ("fit", "intent")}}

    def margins(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Raw log-odds of each model (full, fit, intent) for an encoded matrix (rows = leads).

        For trees, bit-for-bit what ``Booster.predict(raw_score=True)`` returns; for a linear
        model, the sum of its looked-up values; for a blend, their weighted average.
        """
        weight = self.blend_weight
        if weight == 0.0:
            return self._linear_margins(X)
        trees = self._tree_margins(X)
        if weight == 1.0:
            return trees
        linear = self._linear_margins(X)
        return {name: weight * trees[name] + (1.0 - weight) * linear[name] for name in BOOSTERS}

    def _tree_margins(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """The boosters' margins, computed by ``scoring.forest.Forest`` (several times faster
        than LightGBM's own predict on the small batches a request sends)."""
        forest = self._forest()
        if forest is not None:
            out = forest.margins(X)
            return {name: out[:, i] for i, name in enumerate(BOOSTERS)}
        kw = self._predict_params()
        columns = self._group_columns()
        return {
            "full": self.boosters["full"].predict(X, raw_score=True, **kw),
            "fit": self.boosters["fit"].predict(
                np.take(X, columns["fit"], axis=1), raw_score=True, **kw
            ),
            "intent": self.boosters["intent"].predict(
                np.take(X, columns["intent"], axis=1), raw_score=True, **kw
            ),
        }

    def calibrated(self, margins: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {name: calibrate(self.manifest["calibration"][name], margin)
                for name, margin in margins.items()}

    def grades(self, fit_score: np.ndarray, intent_score: np.ndarray) -> list[str]:
        """Fit letter x intent digit; cut-points are descending (best first)."""
        fit_cuts = np.asarray(self.manifest["grade_cuts"]["fit"], dtype=np.float64)
        intent_cuts = np.asarray(self.manifest["grade_cuts"]["intent"], dtype=np.float64)
        # how many cut-points each score is below (NaN is below none), as in a loop over cuts
        letters = (np.asarray(fit_score)[:, None] < fit_cuts[None, :]).sum(axis=1).tolist()
        digits = (np.asarray(intent_score)[:, None] < intent_cuts[None, :]).sum(axis=1).tolist()
        return [f"{FIT_LETTERS[f]}{1 + i}" for f, i in zip(letters, digits, strict=True)]

    def _treeshap(self) -> TreeShap | None:
        """The full booster's compiled TreeSHAP (None for a model kind it does not cover, or
        without boosters: a logistic bundle)."""
        if "_treeshap_cache" not in self.__dict__:
            try:
                explainer = TreeShap(self.boosters["full"]) if self.boosters else None
            except ValueError:
                explainer = None
            self.__dict__["_treeshap_cache"] = explainer
        return self.__dict__["_treeshap_cache"]

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Exact contributions to the full model's margin: (n, n_features + 1), last = base.

        TreeSHAP for the booster (``pred_contrib``'s values, to 1e-9, from
        ``scoring.treeshap.TreeShap``, an order of magnitude faster; large batches use every
        thread unless ``num_threads`` is 1), looked-up values for the linear model, the weighted
        sum of both for a blend; every row adds up to ``margins(X)["full"]``.
        """
        weight = self.blend_weight
        linear = self.linear["full"].contributions(X) if weight < 1.0 else None
        if weight == 0.0:
            return linear
        explainer = self._treeshap()
        if explainer is not None:
            trees = explainer.contributions(X, parallel=self.num_threads != 1)
        else:
            trees = np.asarray(
                self.boosters["full"].predict(X, pred_contrib=True, **self._predict_params())
            )
        return trees if linear is None else blend_contributions(trees, linear, weight)

    def vocabulary(self) -> dict[str, frozenset[str]]:
        """Each categorical feature's learned categories: what a reason label may show."""
        cached = self.__dict__.get("_vocabulary_cache")
        if cached is None:
            enc = self.encoder
            cached = {name: frozenset(enc.categories_[name])
                      for name, kind in zip(enc.feature_names_, enc.feature_kinds_, strict=True)
                      if kind == "categorical"}
            self.__dict__["_vocabulary_cache"] = cached
        return cached

    def score_encoded(
        self, X: np.ndarray, raws: Sequence[Mapping[str, Any]] | None = None, *,
        top_reasons: int = 0,
    ) -> Scores:
        """Score an encoded matrix; with ``top_reasons`` > 0 also explain each lead from its raw
        feature values ``raws`` (needed then, one per row)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        probs = self.calibrated(self.margins(X))
        reasons = None
        if top_reasons > 0:
            if raws is None or len(raws) != len(X):
                raise ValueError("reasons need the raw feature values of every row")
            reasons = top_reasons_of(self.contributions(X), raws, self.manifest["features"],
                                     top_reasons, self.vocabulary(), self.encoder.is_unseen,
                                     self.encoder.learned_category)
        return Scores(probs["full"], probs["fit"], probs["intent"],
                      self.grades(probs["fit"], probs["intent"]), probs["full"] >= self.threshold,
                      reasons)

    # ---- the one scoring path -----------------------------------------------------------------
    @property
    def attribute_columns(self) -> tuple[str, ...]:
        """The export's extra columns this model learned from (its attribute features), by the
        names a file's columns or a request's fields carry them."""
        return tuple(f["attribute"] for f in self.manifest["features"] if f.get("attribute"))

    @property
    def feature_config(self) -> dict[str, Any]:
        """The feature-building config (windows, ICP lists) this model's features are built with.

        Training writes it into the manifest, so every scorer (API, pyfunc, ``spark_udf``,
        ``leadscore score``) builds features exactly as training did, whatever config file the
        scorer runs with. A section an older manifest lacks is the shipped default's: the same in
        every scorer (``tests/scoring/test_scoring_path.py``).
        """
        cached = self.__dict__.get("_feature_config_cache")
        if cached is None:
            cached = feature_config(self.manifest)
            self.__dict__["_feature_config_cache"] = cached
        return cached

    def build_features(
        self, records: Sequence[Mapping[str, Any]], as_ofs: Sequence[datetime | str | None]
    ) -> OnlineBatch:
        """``features.online.build_online_many`` with this model's feature config.

        Raises:
            LeadFeatureError: naming the lead (its index) and the field.
        """
        build = self.__dict__.get("_builder_cache")
        if build is None:
            build = online_many_builder(self.feature_config, self.manifest.get("attribute_roles"))
            self.__dict__["_builder_cache"] = build
        return build(records, as_ofs)

    def score_records(
        self,
        records: Sequence[Mapping[str, Any]],
        as_ofs: Sequence[datetime | str | None],
        *,
        top_reasons: int = 0,
    ) -> Scores:
        """Score leads given as JSON-like records: build their features, encode, score, explain.

        The path of every scorer of single leads: the API, the MLflow pyfunc (and so
        ``spark_udf``) and ``leadscore score``. ``as_ofs[i]`` is lead i's scoring moment.

        Raises:
            LeadFeatureError: naming the lead (its index) and the field.
        """
        features = self.build_features(records, as_ofs)
        X = self.encoder.transform_columns(features.columns, len(features))
        scores = self.score_encoded(X, features.records() if top_reasons > 0 else None,
                                    top_reasons=top_reasons)
        plan = self._bin_plan()
        return replace(scores, feature_hash=feature_hashes(X),
                       feature_bins=plan.rows(X) if plan is not None else None)

    def _bin_plan(self) -> BinPlan | None:
        """The training profile's bins as arrays (``scoring.drift``), built once."""
        if "_bin_plan_cache" not in self.__dict__:
            self.__dict__["_bin_plan_cache"] = BinPlan.of(self.manifest.get("training_profile"))
        return self.__dict__["_bin_plan_cache"]


def score_frame(bundle: ScoringBundle, frame: pd.DataFrame) -> pd.DataFrame:
    """Score a feature frame built from the store (``features.batch.build_batch``, a review
    cycle's frame): ``score``, ``fit_score``, ``intent_score``, ``grade``, ``is_mql`` on the
    frame's index. The review and the report score here, through ``score_encoded`` as every
    scorer does."""
    return bundle.score_encoded(bundle.encoder.transform(frame)).frame(index=frame.index)


def feature_config(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The feature-building sections of a manifest, an older one's missing sections defaulted.

    Older manifests kept the sections under ``config`` or at the top level (where ``features``
    is the feature *list*, so only a mapping counts).
    """
    stored = manifest.get("feature_config") or manifest.get("config") or {}
    out = {section: stored[section] for section in FEATURE_CONFIG_SECTIONS if section in stored}
    defaults = default_config()
    for section in FEATURE_CONFIG_SECTIONS:
        value = manifest.get(section)
        if section not in out and isinstance(value, Mapping):
            out[section] = dict(value)
        if section not in out:
            out[section] = defaults[section]
    return out
