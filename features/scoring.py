"""The scoring bundle: everything needed to score a lead, shared by batch scoring and the API.

A bundle is a folder (logged as the MLflow model's artifact ``bundle``):

    manifest.json   version-independent metadata: cycle, trained_at, threshold, band, feature specs,
                    encoder state, calibration, grade cut-points, headline metrics, policy hash,
                    the feature config (windows, ICP) the features were built with
    full.txt        LightGBM booster on fit + intent features: `score` and the reasons
    fit.txt         LightGBM booster on fit features only: `fit_score` (needs no activity at all)
    intent.txt      LightGBM booster on intent features only: `intent_score`

Scores:
    score         calibrated probability of becoming an SQL: sigmoid(a * margin + b) on the full
                  booster's margin (Platt scaling keeps the ranking, so reasons still add up)
    fit_score     the same for the fit booster; intent_score for the intent booster
    grade         fit letter (A best .. D) from fit_score cut-points x intent digit (1 best .. 4)
                  from intent_score cut-points, both set at the training quartiles: "A1".."D4"
    is_mql        score >= threshold (the threshold comes from the agreed conversion band)
    reasons       exact TreeSHAP contributions of the full booster (log-odds, signed), top-k by
                  size, each with its feature group and a human-readable label

Nothing here imports pandas or scikit-learn on the per-request path: a request builds features
with ``features.build.build_online``, encodes them with ``FeatureEncoder.transform_record`` and
scores the numpy matrix with the boosters compiled into one ``features.forest.Forest``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from features.encoding import FeatureEncoder
from features.forest import Forest
from leadscore.errors import LeadscoreError

BOOSTERS = ("full", "fit", "intent")
FIT_LETTERS = "ABCD"
MANIFEST = "manifest.json"
OTHER_LABEL = "other"
"""What a reason shows for a category the model never learned (free text stays out of labels)."""


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # clipped so that extreme margins give 0 or 1 without an overflow warning
    return 1.0 / (1.0 + np.exp(-np.clip(x, -700.0, 700.0)))


@dataclass(frozen=True)
class Reason:
    """One signal behind a score: its label, its group and its signed impact (log-odds)."""

    feature: str
    label: str
    group: str
    impact: float

    def as_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "label": self.label, "group": self.group,
                "impact": round(self.impact, 6)}


@dataclass
class LeadScore:
    """The scores of one lead."""

    score: float
    fit_score: float
    intent_score: float
    grade: str
    is_mql: bool
    reasons: list[Reason] = field(default_factory=list)


@dataclass
class ScoringBundle:
    """A trained model, ready to score.

    Attributes:
        manifest: metadata (see module docstring); ``manifest["features"]`` is a list of
            ``{"name", "group", "kind"}`` in the encoder's column order.
        encoder: the fitted FeatureEncoder.
        boosters: ``{"full", "fit", "intent"}`` LightGBM boosters.
        num_threads: threads each prediction uses; None keeps the boosters' own setting.
    """

    manifest: dict[str, Any]
    encoder: FeatureEncoder
    boosters: dict[str, lgb.Booster]
    num_threads: int | None = None

    # ---- persistence -------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        manifest = dict(self.manifest, encoder=self.encoder.to_dict())
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
        boosters = {
            name: lgb.Booster(model_file=str(path / f"{name}.txt")) for name in BOOSTERS
        }
        bundle = cls(manifest=manifest, encoder=encoder, boosters=boosters,
                     num_threads=num_threads)
        # compile the forest now (numba, cached on disk), not on the first lead scored
        bundle.margins(np.zeros((1, len(manifest["features"]))))
        return bundle

    # ---- metadata ----------------------------------------------------------------------
    @property
    def threshold(self) -> float:
        return float(self.manifest["threshold"])

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

    def margins(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Raw log-odds of each booster for an encoded matrix (rows = leads).

        Bit-for-bit what ``Booster.predict(raw_score=True)`` returns, computed by
        ``features.forest.Forest`` (several times faster on the small batches a request sends).
        """
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
        out = {}
        for name, margin in margins.items():
            a, b = self.manifest["calibration"][name]
            out[name] = _sigmoid(a * margin + b)
        return out

    def grades(self, fit_score: np.ndarray, intent_score: np.ndarray) -> list[str]:
        """Fit letter x intent digit; cut-points are descending (best first)."""
        fit_cuts = np.asarray(self.manifest["grade_cuts"]["fit"], dtype=np.float64)
        intent_cuts = np.asarray(self.manifest["grade_cuts"]["intent"], dtype=np.float64)
        # how many cut-points each score is below (NaN is below none), as in a loop over cuts
        letters = (np.asarray(fit_score)[:, None] < fit_cuts[None, :]).sum(axis=1).tolist()
        digits = (np.asarray(intent_score)[:, None] < intent_cuts[None, :]).sum(axis=1).tolist()
        return [f"{FIT_LETTERS[f]}{1 + i}" for f, i in zip(letters, digits, strict=True)]

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Exact TreeSHAP contributions of the full booster: (n, n_features + 1), last = base."""
        return np.asarray(
            self.boosters["full"].predict(X, pred_contrib=True, **self._predict_params())
        )

    def reasons_for(
        self, contrib_row: np.ndarray, raw: dict[str, Any], top: int
    ) -> list[Reason]:
        """The ``top`` largest contributions of one lead, labelled from its raw feature values."""
        from features.definitions import other_reason, render_reason

        features = self.manifest["features"]
        values = contrib_row[:-1]
        order = np.argsort(-np.abs(values), kind="stable")[:top]
        out = []
        for i in order:
            if values[i] == 0.0:
                continue
            name = features[i]["name"]
            # a full spec (with its label template) keeps an attribute's original column name
            spec = features[i] if "label" in features[i] else None
            value = self._known_value(i, raw.get(name))
            label = (other_reason(name, spec) if value is OTHER_LABEL
                     else render_reason(name, value, spec))
            out.append(Reason(name, label, features[i]["group"], float(values[i])))
        return out

    def _known_value(self, column: int, value: Any) -> Any:
        """``value`` as a reason may show it: a category the model learned, else ``"other"``.

        A label never repeats free text a client sent (an e-mail or a name typed into
        ``industry``): only values of the model's own vocabulary, or numbers, get through.
        """
        if value is None or isinstance(value, bool):
            return value
        if self.encoder.feature_kinds_[column] == "categorical":
            known = self._vocabulary()[column]
            return value if str(value) in known else OTHER_LABEL
        if isinstance(value, str):  # a numeric feature sent as text that is not a number
            try:
                return float(value)
            except ValueError:
                return None
        return value

    def _vocabulary(self) -> dict[int, frozenset[str]]:
        cached = self.__dict__.get("_vocabulary_cache")
        if cached is None:
            enc = self.encoder
            cached = {i: frozenset(enc.categories_[name])
                      for i, name in enumerate(enc.feature_names_)
                      if enc.feature_kinds_[i] == "categorical"}
            self.__dict__["_vocabulary_cache"] = cached
        return cached

    def score_encoded(
        self, X: np.ndarray, raws: list[dict[str, Any]] | None = None, *, top_reasons: int = 0
    ) -> list[LeadScore]:
        """Score an encoded matrix; with ``top_reasons`` > 0 also explain each lead."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        probs = self.calibrated(self.margins(X))
        grades = self.grades(probs["fit"], probs["intent"])
        contrib = self.contributions(X) if top_reasons > 0 else None
        threshold = self.threshold
        full, fit, intent = (probs[k].tolist() for k in BOOSTERS)
        out = []
        for i in range(X.shape[0]):
            score = full[i]
            reasons = (
                self.reasons_for(contrib[i], raws[i] if raws else {}, top_reasons)
                if contrib is not None
                else []
            )
            out.append(LeadScore(score, fit[i], intent[i], grades[i], score >= threshold,
                                 reasons))
        return out


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
        p = _sigmoid(a * margin + b)
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
