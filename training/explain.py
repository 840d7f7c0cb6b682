"""Why the model scores as it does: exact TreeSHAP, globally and per lead, and the charts.

SHAP values are LightGBM's ``pred_contrib`` on the full booster, computed by the compiled
``scoring.treeshap.TreeShap`` (``ScoringBundle.contributions``): exact TreeSHAP in log-odds,
one column per feature plus the base value, summing to the booster's raw margin. Platt scaling
is monotone, so a positive contribution always raises ``score``.

Per-lead reasons come from ``scoring.reasons``, as in the API and batch scoring, so a reason in
the leaders' report reads exactly as it does in the CRM. ``explanation`` gives the same values as a
``shap.Explanation`` for shap's own plots (beeswarm, waterfall, scatter).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shap
from matplotlib import pyplot

from features.encoding import FeatureEncoder
from features.reason_labels import display_value
from scoring.bundle import ScoringBundle
from scoring.reasons import NOISE_LOG_ODDS
from training.charts import GROUP_COLOURS, draw_group_share

MIN_CATEGORY_LEADS = 20
"""A category needs this many leads before it can be named as raising or lowering the score."""
MIN_CORRELATION = 0.1
DIRECTION_LEADS = 50_000
"""At most this many leads (a seeded sample) are read for the directions."""

_COUNT = re.compile(r"n_(.+)_(\d+)d")
_PLURALS = {
    "demo_request": "Demo requests",
    "pricing_view": "Pricing views",
    "content_download": "Content downloads",
    "webinar_attended": "Webinars attended",
    "email_click": "E-mail clicks",
    "page_view": "Page views",
    "other": "Other activities",
}
_TITLES = {
    "days_since_high_intent": "Days since the last high-intent activity",
    "days_since_last_activity": "Days since the last activity",
    "active_days_30d": "Active days, last 30 days",
    "active_days_90d": "Active days, last 90 days",
    "trend_7_30": "Activity pace, last 7 days vs the 23 before",
    "completeness": "Profile completeness",
    "free_email": "Free e-mail domain",
    "icp_match": "Matches the ideal customer profile",
}


def shap_values(bundle: ScoringBundle, X: np.ndarray) -> np.ndarray:
    """Exact TreeSHAP of the full booster: ``(n, n_features + 1)``, the last column the base value.

    Each row sums to the booster's raw margin (log-odds) for that lead.
    """
    return bundle.contributions(np.ascontiguousarray(X, dtype=np.float64))


def feature_title(spec: Mapping[str, Any],
                  high_intent: tuple[str, ...] = ("demo_request", "pricing_view")) -> str:
    """A short name for a feature in charts and tables ("Pricing views, last 7 days").

    ``high_intent``: the activity types ``features.high_intent_activities`` names, whose recency
    ``days_since_high_intent`` measures ("Days since the last webinar attended").
    """
    name = spec["name"]
    if name == "days_since_high_intent" and high_intent:
        return "Days since the last " + " or ".join(t.replace("_", " ") for t in high_intent)
    if name in _TITLES:
        return _TITLES[name]
    match = _COUNT.fullmatch(name)
    if match:
        activity, window = match.group(1), int(match.group(2))
        words = activity.replace("_", " ")
        what = _PLURALS.get(activity, f"{words[:1].upper()}{words[1:]} activities")
        span = "last day" if window == 1 else f"last {window} days"
        return f"{what}, {span}"
    label = str(spec.get("label") or name.replace("_", " ").capitalize())
    if ":" in label:
        return label.split(":", 1)[0].strip()
    return " ".join(re.sub(r"\{[a-z]+\}", "", label).split())


COUNTED = ("{n}", "{times}", "{days}", "{percent}")
"""Label fields of a number that counts or measures (a count, days, a share): never a yes/no."""


def _numeric_direction(values: np.ndarray, shap: np.ndarray, label: str = "") -> str:
    """"higher raises the score" / "yes lowers the score": a flag (0/1 values, ``label`` naming
    no count) reads yes; a count reads higher even where this data holds only 0 and 1."""
    known = np.isfinite(values)
    x, s = values[known], shap[known]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(s) == 0:
        return "no consistent direction"
    # rank correlation: counts and days are skewed, and only the direction matters
    r = np.corrcoef(pd.Series(x).rank().to_numpy(), pd.Series(s).rank().to_numpy())[0, 1]
    if not np.isfinite(r) or abs(r) < MIN_CORRELATION:
        return "no consistent direction"
    verb = "raises" if r > 0 else "lowers"
    if set(np.unique(x)) <= {0.0, 1.0} and not any(field in label for field in COUNTED):
        return f"yes {verb} the score"
    return f"higher {verb} the score"


def learned_values(encoder: FeatureEncoder, name: str, values: pd.Series) -> pd.Series:
    """Each value as the category the model learned it as (its case and spacing variants too);
    None for a rare one (pooled) or one never seen in training (scored like a missing value):
    such a value moves the score as its pool, not as itself, so it is never named."""
    spelled = {v: encoder.learned_category(name, v) for v in values.dropna().unique()}
    return values.map(spelled)


def _categorical_direction(name: str, values: pd.Series, shap: np.ndarray) -> str:
    frame = pd.DataFrame({"value": values.astype(object).to_numpy(), "shap": shap}).dropna()
    means = frame.groupby("value")["shap"].agg(["mean", "size"])
    means = means[means["size"] >= MIN_CATEGORY_LEADS]
    if len(means) < 2:
        return "mixed"
    best, worst = means["mean"].idxmax(), means["mean"].idxmin()
    parts = []
    if means.loc[best, "mean"] > 0:
        parts.append(f"{display_value(name, best)} raises it most")
    if means.loc[worst, "mean"] < 0:
        parts.append(f"{display_value(name, worst)} lowers it most")
    return "; ".join(parts) or "mixed"


def global_importance(
    bundle: ScoringBundle, X: np.ndarray, raw_frame: pd.DataFrame | None = None,
    high_intent: tuple[str, ...] = ("demo_request", "pricing_view"),
    direction_frame: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Mean |SHAP| per feature over a cohort, largest first.

    Args:
        bundle: the trained bundle.
        X: the cohort's encoded matrix (``bundle.encoder.transform``).
        raw_frame: the same rows' raw features; names the categories that move the score most.
        direction_frame: more leads to read the directions from (the review passes every
            matured lead): a validation cohort of a few hundred leads holds too few of most
            categories to name the one that raises the score most, and naming the best of the
            few it does hold would be false. None: the directions come from ``raw_frame``.

    Returns:
        Columns ``feature``, ``group``, ``label`` (a short title), ``mean_abs_shap`` (log-odds),
        ``direction`` in words ("higher raises the score", "yes lowers the score",
        "vp raises it most; student lowers it most", "mixed", "no consistent direction").
    """
    contrib = shap_values(bundle, X)[:, :-1]
    contrib = np.where(np.abs(contrib) < NOISE_LOG_ODDS, 0.0, contrib)
    if direction_frame is not None:
        raw_frame = direction_frame
        X_dir = bundle.encoder.transform(direction_frame)
        contrib_dir = shap_values(bundle, X_dir)[:, :-1]
    else:
        X_dir, contrib_dir = X, contrib
    rows = []
    for j, spec in enumerate(bundle.manifest["features"]):
        name = spec["name"]
        if spec["kind"] == "numeric":
            direction = _numeric_direction(np.asarray(X_dir[:, j], dtype=np.float64),
                                           contrib_dir[:, j], str(spec.get("label") or ""))
        elif raw_frame is not None and name in raw_frame.columns:
            direction = _categorical_direction(
                name, learned_values(bundle.encoder, name, raw_frame[name]), contrib_dir[:, j])
        else:
            direction = "mixed"
        rows.append({
            "feature": name,
            "group": spec["group"],
            "label": feature_title(spec, high_intent),
            "mean_abs_shap": float(np.abs(contrib[:, j]).mean()) if len(contrib) else 0.0,
            "direction": direction,
        })
    table = pd.DataFrame(rows, columns=["feature", "group", "label", "mean_abs_shap", "direction"])
    return table.sort_values("mean_abs_shap", ascending=False, kind="stable").reset_index(
        drop=True
    )


def group_importance(importance: pd.DataFrame) -> dict[str, float]:
    """Each group's share of the total mean |SHAP|: ``{"fit": 0.45, "intent": 0.55}``."""
    totals = importance.groupby("group")["mean_abs_shap"].sum()
    whole = float(totals.sum())
    return {
        group: (float(totals.get(group, 0.0)) / whole if whole > 0 else 0.0)
        for group in ("fit", "intent")
    }


def explanation(
    bundle: ScoringBundle, X: np.ndarray, raw_frame: pd.DataFrame | None = None
) -> shap.Explanation:
    """Exact TreeSHAP of the full booster as a ``shap.Explanation``, for shap's own plots.

    ``shap.plots.beeswarm(e)``, ``shap.plots.waterfall(e[i])``, ``shap.plots.scatter(e[:, name])``
    work on it as on any explainer's output. Values are log-odds (the booster's margin, before
    Platt scaling), one row per lead of ``X`` (``bundle.encoder.transform``), and each row plus its
    base value sums to the lead's margin.

    Args:
        bundle: the trained bundle.
        X: the leads' encoded matrix.
        raw_frame: the same rows' raw features; shown as the values in plots (categories by name
            instead of their codes).
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    contrib = shap_values(bundle, X)
    names = bundle.feature_names
    display = None
    if raw_frame is not None and all(n in raw_frame.columns for n in names):
        display = raw_frame[names].to_numpy(dtype=object)
    return shap.Explanation(
        values=contrib[:, :-1], base_values=contrib[:, -1], data=X, display_data=display,
        feature_names=names,
    )


def plot_beeswarm(explained: shap.Explanation, path: str | Path, *, top: int = 15) -> Path:
    """shap's beeswarm of a cohort (each dot a lead, colour its feature value), saved (PNG/SVG)."""
    fig = pyplot.figure(figsize=(8, 0.4 * top + 1.5))
    try:
        with warnings.catch_warnings():
            # a feature with no value in the cohort (a column the export leaves empty) has an
            # all-NaN colour range; shap warns about it on the console, the plot is right
            warnings.simplefilter("ignore", RuntimeWarning)
            shap.plots.beeswarm(explained, max_display=top, show=False, plot_size=None,
                                ax=fig.add_subplot())
        fig.tight_layout()
        return _save(fig, path)
    finally:
        pyplot.close(fig)


# ---- charts --------------------------------------------------------------------------------------

def _figure(width: float, height: float):
    # a bare Figure needs no pyplot and no global backend: safe in threads and on servers
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format=path.suffix.lstrip(".").lower() or "png")
    return path


def plot_importance(importance: pd.DataFrame, path: str | Path, *, top: int = 15) -> Path:
    """Horizontal bars of the ``top`` features by mean |SHAP|, coloured by group (PNG or SVG)."""
    from matplotlib.patches import Patch

    shown = importance.head(top).iloc[::-1]
    fig = _figure(8, 0.35 * len(shown) + 1.5)
    ax = fig.add_subplot()
    ax.barh(shown["label"], shown["mean_abs_shap"],
            color=[GROUP_COLOURS.get(g, "grey") for g in shown["group"]])
    ax.set_xlabel("mean |SHAP| (log-odds)")
    ax.set_title("Which signals move the score")
    ax.legend(handles=[Patch(color=c, label=g) for g, c in GROUP_COLOURS.items()],
              loc="lower right")
    return _save(fig, path)


def plot_group_importance(groups: Mapping[str, float], path: str | Path) -> Path:
    """One stacked bar: the share of the score explained by fit vs intent."""
    fig = _figure(6, 1.6)
    ax = fig.add_subplot()
    draw_group_share(ax, groups)
    ax.set_yticks([])
    ax.set_xticks([])
    ax.set_title("Share of the score explained by fit and by intent")
    return _save(fig, path)


def plot_calibration(table: pd.DataFrame, path: str | Path) -> Path:
    """Predicted vs observed SQL rate per score bin (``training.evaluate.calibration_table``)."""
    fig = _figure(5, 5)
    ax = fig.add_subplot()
    top = float(max(table["mean_predicted"].max(), table["observed"].max(), 0.05)) * 1.05
    ax.plot([0, top], [0, top], linestyle="--", color="grey", label="perfect calibration")
    ax.plot(table["mean_predicted"], table["observed"], marker="o", label="model")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("mean predicted score")
    ax.set_ylabel("observed SQL rate")
    ax.set_title("Calibration on the newest cohort")
    ax.legend(loc="upper left")
    return _save(fig, path)
