"""The champion on the validation cohort: judged only on the weeks it never learned from.

The deployed champion is refit on every matured week of its own review (``training.deploy``), so
the next review's validation cohort can hold weeks the champion learned from: with reviews every
4 weeks and a 10-week validation cohort, 6 of the 10. Its scores of those weeks are in-sample and
flatter it, and a PR-AUC gate reading them would keep an old champion against a better
challenger. So the champion and the challenger are compared on the cohort's weeks newer than the
newest week the champion learned from; when there is no such week, the comparison waits for one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scoring.bundle import ScoringBundle, score_frame
from training import registry
from training.dataset import aligned_frame, calendar_weeks
from training.evaluate import evaluate, evaluate_on, pr_auc_gap_interval
from training.tracking import client as mlflow_client


@dataclass
class ChampionCheck:
    """The champion's figures on the validation cohort, and which of its leads they cover.

    Attributes:
        version: the champion's registry version (None: there is no champion).
        metrics: its metrics on the ``rows`` it never learned from (NaN when it cannot be
            scored, or when no week of the cohort is new to it).
        note: one sentence for the review and the report, or None when all is well and the
            whole cohort is compared.
        rows: which of the cohort's leads the comparison uses (None: all of them).
        scope: the gate's words for those rows, e.g. "on the 4 weeks the champion never learned
            from (652 leads)"; empty when the whole cohort is compared.
        scores: the champion's scores of those rows (None when it was not scored).
    """

    version: int | None = None
    metrics: dict[str, float] | None = None
    note: str | None = None
    rows: np.ndarray | None = None
    scope: str = ""
    scores: np.ndarray | None = None


def registry_champion(config: dict[str, Any]):
    """``(version, bundle, note)`` of the registry's champion; ``(None, None, None)`` without one.

    A champion that cannot be loaded (say, logged by an incompatible release) does not stop the
    cycle: its bundle is None and the note says why.
    """
    name = registry.model_name(config)
    version = registry.alias_version(mlflow_client(config), name, registry.CHAMPION)
    if version is None:
        return None, None, None
    try:
        bundle, _ = registry.load_bundle(f"models:/{name}/{version}", config)
        return version, bundle, None
    except Exception as exc:  # noqa: BLE001 - see docstring
        return version, None, _unusable(version, exc)


def _unusable(version: int, exc: Exception) -> str:
    return (f"the champion v{version} could not be evaluated ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:160] if str(exc) else ''}); it is kept until a "
            "person promotes a version")


def learned_through(bundle: ScoringBundle) -> pd.Timestamp | None:
    """The newest weekly cohort the model learned from; None when its manifest does not say.

    A refit model learned from its review's validation cohort too; a model deployed as judged
    learned from every week before it (the training and calibration weeks).
    """
    window = bundle.manifest.get("data_window") or {}
    refit = bool((bundle.manifest.get("deployment") or {}).get("refit"))
    value = window.get("valid_last_cohort" if refit else "calib_last_cohort")
    return pd.Timestamp(value) if value else None


def _weeks(n: int) -> str:
    return f"{n} week{'' if n == 1 else 's'}"


def champion_on(champion, valid: pd.DataFrame, weeks: int) -> ChampionCheck:
    """The champion on the weeks of ``valid`` it never learned from.

    Args:
        champion: ``registry_champion``'s ``(version, bundle, note)``.
        valid: the validation cohort (``cohort``, ``label`` and the features).
        weeks: the cohort's number of weeks (for MQLs per week on the whole cohort).
    """
    version, bundle, note = champion
    if version is None:
        return ChampionCheck()
    unmeasured = {"pr_auc": math.nan, "ece": math.nan}
    if bundle is None:
        return ChampionCheck(version, unmeasured, note)
    cohorts = pd.to_datetime(valid["cohort"])
    through = learned_through(bundle)
    rows = np.ones(len(valid), dtype=bool) if through is None else (cohorts > through).to_numpy()
    day = through.date().isoformat() if through is not None else ""
    if not rows.any():
        return ChampionCheck(
            version, unmeasured,
            f"The champion v{version} learned from every week of this validation cohort "
            f"(through {day}), so its scores there are in-sample and it is not compared; "
            "the comparison waits for a week it has not seen, and it is kept until then.",
            rows, f"on any week it did not learn from (it learned through {day})")
    part = valid.loc[rows]
    n_weeks = calendar_weeks(cohorts[rows])
    try:
        scores = score_frame(bundle, aligned_frame(part, bundle.feature_names))["score"]
        metrics = evaluate_on(scores.to_numpy(), part, bundle.threshold, n_weeks)
    except Exception as exc:  # noqa: BLE001 - a champion that cannot be scored is kept
        return ChampionCheck(version, unmeasured, _unusable(version, exc))
    if rows.all():
        return ChampionCheck(version, metrics, note, scores=scores.to_numpy())
    # recorded with the metrics (``champion.compared_weeks``), so the report can say it too
    metrics.update(compared_weeks=float(n_weeks), compared_leads=float(len(part)))
    first, last = cohorts[rows].min().date(), cohorts[rows].max().date()
    span = f"the week of {first}" if first == last else f"{first}..{last}"
    scope = (f"on the {_weeks(n_weeks)} the champion never learned from ({span}, "
             f"{len(part):,} leads)")
    return ChampionCheck(
        version, metrics,
        f"The champion v{version} learned from this cohort's weeks through {day}, so it is "
        f"compared with the challenger {scope}; its column covers those weeks only.",
        rows, scope, scores.to_numpy())


def pr_auc_gap(scores: np.ndarray, labels: np.ndarray, check: ChampionCheck, *, rounds: int,
               seed: int) -> tuple[float, float] | None:
    """The paired 95 % interval of the challenger's PR-AUC minus the champion's on the rows they
    are compared on; None without champion scores."""
    if check.scores is None:
        return None
    rows = np.ones(len(labels), dtype=bool) if check.rows is None else check.rows
    return pr_auc_gap_interval(scores[rows], check.scores, labels[rows], rounds=rounds,
                               seed=seed)


def challenger_pr_auc(scores: np.ndarray, labels: np.ndarray, check: ChampionCheck,
                      whole: float) -> float:
    """The challenger's PR-AUC on the rows the champion is compared on; ``whole``, its PR-AUC on
    the whole cohort, when that is every row (or no row: the gate then has no champion figure)."""
    rows = check.rows
    if rows is None or rows.all() or not rows.any():
        return whole
    return float(evaluate(scores[rows], labels[rows], threshold=math.inf)["pr_auc"])
