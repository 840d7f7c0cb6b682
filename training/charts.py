"""The report's charts: matplotlib figures rendered to inline SVG (no files, no external assets).

Each function takes plain tables and returns an ``<svg>`` string ready to drop into the HTML. The
SVG carries its text as text (``svg.fonttype = none``), no metadata, and ids prefixed per chart so
several charts on one page never share an id.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from training.report_figures import a_or_an

GROUP_COLOURS = {"fit": "#2b6cb0", "intent": "#dd6b20"}
VERDICT_COLOURS = {
    "booked": "#2f855a", "accepted": "#68d391", "rejected_fit": "#c53030",
    "rejected_intent": "#ed8936", "junk_or_recycled": "#a0aec0", "other": "#e2e8f0",
}
VERDICT_NAMES = {
    "booked": "{positive}", "accepted": "accepted / working",
    "rejected_fit": "rejected: fit", "rejected_intent": "rejected: intent",
    "junk_or_recycled": "excluded by the label policy", "other": "other",
}
BAND_COLOUR = "#c6f6d5"
_counter = itertools.count(1)


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def to_svg(fig, title: str) -> str:
    """The figure as an inline ``<svg>`` element with a ``<title>`` and unique ids."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "leadscore",
                                "font.family": "sans-serif"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None,
                                                 "Format": None, "Type": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    prefix = f"c{next(_counter)}-"
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    for old in sorted(ids, key=len, reverse=True):
        text = (text.replace(f'id="{old}"', f'id="{prefix}{old}"')
                .replace(f"#{old})", f"#{prefix}{old})")
                .replace(f'href="#{old}"', f'href="#{prefix}{old}"'))
    safe = title.replace("&", "&amp;").replace("<", "&lt;")
    text = re.sub(r"<svg ", '<svg class="chart" role="img" ', text, count=1)
    return re.sub(r"(<svg[^>]*>)", rf"\1<title>{safe}</title>", text, count=1)


def _words(value: object) -> str:
    return str(value).replace("_", " ")


def importance_chart(table: pd.DataFrame, positive: str, top: int = 12) -> str:
    """Horizontal bars of the strongest signals (mean |SHAP|), coloured by fit / intent."""
    from matplotlib.patches import Patch

    shown = table.head(top).iloc[::-1]
    fig = _figure(7.5, 0.34 * len(shown) + 1.2)
    ax = fig.add_subplot()
    ax.barh(shown["label"], shown["importance"],
            color=[GROUP_COLOURS.get(g, "grey") for g in shown["group"]])
    ax.set_xlabel("average impact on the score (mean |SHAP|, log-odds)")
    ax.legend(handles=[Patch(color=c, label=g) for g, c in GROUP_COLOURS.items()
                       if g in set(shown["group"])],  # no legend entry for a group not drawn
              loc="lower right", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return to_svg(fig, f"Which signals predicted {a_or_an(positive)}")


def group_share_chart(shares: Mapping[str, float]) -> str:
    """One stacked bar: the share of the score explained by fit and by intent."""
    fig = _figure(7.5, 1.0)
    ax = fig.add_subplot()
    draw_group_share(ax, shares)
    ax.set_axis_off()
    return to_svg(fig, "Share of the score explained by fit and by intent")


def draw_group_share(ax, shares: Mapping[str, float]) -> None:
    """Draw the fit / intent share of the score as one stacked bar on ``ax``."""
    left = 0.0
    for group in ("fit", "intent"):
        share = float(shares.get(group, 0.0))
        ax.barh([0], [share], left=left, color=GROUP_COLOURS[group])
        if share > 0.08:
            ax.text(left + share / 2, 0, f"{group} {share:.0%}", ha="center", va="center",
                    color="white", fontweight="bold")
        left += share
    ax.set_xlim(0, 1)


def verdict_chart(table: pd.DataFrame, column: str, verdicts: Sequence[str],
                  positive: str) -> str:
    """Stacked horizontal bars: each value of ``column``'s verdict mix (shares sum to 1); the
    positive verdict is named by the configured outcome (``positive``: "won deal" ...)."""
    shown = table.iloc[::-1]
    fig = _figure(7.5, 0.36 * len(shown) + 1.3)
    ax = fig.add_subplot()
    left = np.zeros(len(shown))
    for verdict in verdicts:
        values = shown[verdict].to_numpy(dtype=float)
        ax.barh(shown[column].map(_words), values, left=left,
                color=VERDICT_COLOURS[verdict],
                label=VERDICT_NAMES[verdict].format(positive=positive))
        left += values
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    # a figure legend the layout makes room for: one anchored under the axes was cut at the
    # figure's edge when long campaign names pushed the axes right ("excluded by the label pol")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=3,
               frameon=False, fontsize="small")
    ax.spines[["top", "right"]].set_visible(False)
    return to_svg(fig, f"Sales verdicts by {column}")


def conversion_band_chart(rows: pd.DataFrame, band: tuple[float, float]) -> str:
    """Bars of MQL-to-SQL conversion (``name``, ``conversion``) against the agreed band."""
    shown = rows.iloc[::-1]
    fig = _figure(7.5, 0.36 * len(shown) + 1.2)
    ax = fig.add_subplot()
    ax.axvspan(band[0], band[1], color=BAND_COLOUR)
    values = shown["conversion"].to_numpy(dtype=float)
    judged = shown["judged"] if "judged" in shown else pd.Series(True, index=shown.index)
    colours = ["#a0aec0" if not ok else "#2f855a" if band[0] <= v <= band[1] else "#c53030"
               for v, ok in zip(values, judged, strict=True)]
    bars = ax.barh(shown["name"].astype(str), np.nan_to_num(values), color=colours, height=0.6)
    for bar, value in zip(bars, values, strict=True):  # a 0% bar is still a figure
        ax.annotate("n/a" if not math.isfinite(value) else f"{value:.0%}",
                    (bar.get_width(), bar.get_y() + bar.get_height() / 2), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=8)
    top = max(band[1], float(np.nanmax(values)) if len(values) and np.isfinite(values).any()
              else 0.0) * 1.1
    ax.set_xlim(0, max(top, 0.1))
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    ax.set_xlabel("share of MQLs that converted\n(shaded: the agreed band; grey: too few MQLs "
                  "to judge)")
    ax.spines[["top", "right"]].set_visible(False)
    return to_svg(fig, "MQL conversion against the agreed band")


def grade_chart(table: pd.DataFrame) -> str:
    """A 4 x 4 heat map of conversion by grade: fit letter (rows) x intent digit (columns)."""
    grid = np.full((4, 4), np.nan)
    counts = np.zeros((4, 4), dtype=int)
    for _, row in table.iterrows():
        i, j = "ABCD".index(row["grade"][0]), int(row["grade"][1]) - 1
        grid[i, j] = row["sql_rate"]
        counts[i, j] = row["leads"]
    fig = _figure(5.0, 4.0)
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(grid), cmap="Greens", vmin=0,
                      vmax=max(0.05, float(np.nanmax(grid)) if np.isfinite(grid).any() else 0.05))
    for i, j in itertools.product(range(4), range(4)):
        n = counts[i, j]
        text = "no leads" if n == 0 else f"{grid[i, j]:.0%}\n{n:,} lead{'s' if n != 1 else ''}"
        dark = np.isfinite(grid[i, j]) and grid[i, j] > 0.6 * np.nanmax(grid)
        ax.text(j, i, text, ha="center", va="center", fontsize=8,
                color="white" if dark else "black")
    ax.set_xticks(range(4), [f"intent {d}" for d in "1234"])
    ax.set_yticks(range(4), [f"fit {c}" for c in "ABCD"])
    fig.colorbar(image, ax=ax, format=lambda x, _: f"{x:.0%}", shrink=0.8)
    return to_svg(fig, "Conversion by grade")


def bucket_chart(buckets: pd.DataFrame) -> str:
    """Bars of conversion by response-time bucket, with each bucket's lead count."""
    fig = _figure(7.5, 3.0)
    ax = fig.add_subplot()
    rates = buckets["sql_rate"].to_numpy(dtype=float)
    bars = ax.bar(buckets["bucket"].astype(str), np.nan_to_num(rates), color="#2b6cb0")
    for bar, n, leads, rate in zip(bars, buckets["labelled"], buckets["leads"], rates,
                                   strict=True):
        # a bucket of leads none of which has a known outcome is not a bucket of no leads
        label = (f"{rate:.0%}\n({n:,})" if math.isfinite(rate)
                 else "no known\noutcome" if leads else "no leads")
        ax.annotate(label, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)
    ax.yaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    ax.set_ylabel("conversion")
    ax.set_xlabel("time from MQL to first touch")
    top = float(np.nanmax(rates)) if np.isfinite(rates).any() else 0.1
    ax.set_ylim(0, top * 1.35 + 0.01)
    ax.spines[["top", "right"]].set_visible(False)
    return to_svg(fig, "Conversion by speed to lead")


def calibration_chart(table: pd.DataFrame, deployed: pd.DataFrame | None = None) -> str:
    """Predicted vs observed conversion per score bin, against the diagonal: the challenger's
    scores, and ``deployed`` (the refit version's cross-fitted scores) when there is one."""
    fig = _figure(4.6, 4.2)
    ax = fig.add_subplot()
    tables = [table] if deployed is None else [table, deployed]
    top = max(max(float(t["mean_predicted"].max()), float(t["observed"].max())) for t in tables)
    top = max(top, 0.05) * 1.05
    ax.plot([0, top], [0, top], linestyle="--", color="grey", label="perfect calibration")
    ax.plot(table["mean_predicted"], table["observed"], marker="o", color="#2b6cb0",
            label="challenger")
    if deployed is not None:
        ax.plot(deployed["mean_predicted"], deployed["observed"], marker="s", color="#dd6b20",
                label="deployed (refit)")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    ax.yaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    ax.set_xlabel("predicted conversion (mean score)")
    ax.set_ylabel("observed conversion")
    ax.legend(loc="upper left", frameon=False)
    return to_svg(fig, "Predicted vs observed conversion")


def cohort_chart(predicted: float, chance: tuple[float, float], observed: float, n: int) -> str:
    """Two bars for the same ``n`` leads: the conversion their scores predicted, with the range
    ``chance`` that sampling alone gives if the scores were right (the cohort check's 95 %
    interval), and the rate observed. An observed bar ending inside the range is "as predicted"."""
    fig = _figure(5.0, 2.8)
    ax = fig.add_subplot()
    rates = np.array([predicted, observed], dtype=float)
    ax.bar(["predicted by the scores", "observed"], np.nan_to_num(rates),
           color=["#a0aec0", "#2b6cb0"])
    low, high = chance
    if math.isfinite(low) and math.isfinite(high):
        ax.errorbar([0], [predicted], yerr=[[predicted - low], [high - predicted]], fmt="none",
                    ecolor="black", capsize=6, label="95% range if the scores were right")
        ax.axhspan(low, high, color="#a0aec0", alpha=0.25)
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.45), frameon=False,
                  fontsize="small")
    for x, value in enumerate(rates):
        if math.isfinite(value):  # inside the bar's foot: clear of the range's whiskers
            ax.annotate(f"{value:.1%}", (x, 0), xytext=(0, 4), textcoords="offset points",
                        ha="center", fontsize=9, color="white" if value > 0 else "black")
    top = max(float(np.nanmax(np.append(rates, 0.05))), high if math.isfinite(high) else 0.0)
    ax.set_ylim(0, top * 1.2)
    ax.yaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    ax.set_ylabel("conversion")
    ax.set_title(f"the same {n:,} lead{'' if n == 1 else 's'}", fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return to_svg(fig, "Conversion the scores predicted vs observed, leads scored since the last "
                       "review")
