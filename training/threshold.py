"""The MQL threshold: the score cut-off that meets the agreed MQL-to-SQL conversion band.

Sales and marketing agree a band for the share of MQLs that become SQLs (say 25 %-50 %). Below the
band the MQL definition is too loose; above it marketing holds back leads sales would take. The
threshold is the LOWEST cut-off whose conversion on the newest matured cohort reaches the band's
minimum, because the lowest such cut-off passes the most leads (volume is maximised) while still
keeping the promise. Conversion is the observed SQL rate among leads at or above the cut-off; the
mean calibrated score of the same leads is reported beside it as a check on calibration.

When no cut-off reaches the band's minimum the band is infeasible, its own outcome: the message
names the best achievable conversion and the volume it implies, and the threshold follows a
documented fallback instead of silently passing every lead:

- with ``cycle.capacity_per_week`` set (how many MQLs a week sales can work), the cut-off that
  passes the top ``capacity_per_week`` leads a week, i.e. the best leads sales has time for;
- without it, the cut-off with the best conversion (at least ``min_mqls`` leads).

The threshold passes at most ``max_share`` of the cohort's leads (default 50 %,
``cycle.max_mql_share``) when a cut-off within that share reaches the band. One that cannot stay
within it (only a broader cut-off reaches the band, or the fallback passes more) is flagged
(``too_broad``): an MQL definition that passes most leads filters little, and the band gate fails.

The observed rate decides, not the mean score, because it is what the sales team will see; a
cut-off counts only where at least ``min_mqls`` leads pass it, so a handful of lucky top leads
cannot set the threshold. A bootstrap over the cohort gives the interval of the conversion at the
chosen cut-off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from features.messages import per_week as week_count

MIN_MQLS = 20


@dataclass(frozen=True)
class ThresholdDecision:
    """The chosen cut-off and what it implies.

    Attributes:
        feasible: True when some cut-off reaches the band's minimum with enough MQLs.
        threshold: the cut-off (a lead is an MQL when ``score >= threshold``). When infeasible,
            the fallback cut-off (see the module docstring), and the band gate fails.
        expected_conversion: observed MQL-to-SQL conversion at the cut-off on the cohort.
        ci_low, ci_high: 95 % bootstrap interval of that conversion.
        band_min, band_max: the agreed band.
        mqls_per_week: leads at or above the cut-off per week of the cohort.
        share_of_leads: the share of the cohort's leads that the cut-off passes.
        message: one plain sentence for the report and the command line.
        mean_score: mean calibrated score of the leads at or above the cut-off (what the model
            expects their conversion to be).
        mqls: how many of the cohort's leads pass the cut-off.
        outcome: ``in_band``, ``above_band`` (even the lowest cut-off converts above the maximum),
            ``infeasible`` (no cut-off reaches the minimum) or ``too_few`` (cohort too small).
        fallback: how an infeasible threshold was set (``capacity`` or ``best_conversion``).
        too_broad: the threshold passes more than ``max_share`` of the leads.
        capped: a lower cut-off also reaches the band's minimum, but passes more than
            ``max_share`` of the leads: the share limit, not the band, set the threshold.
        over_capacity: the band set the threshold and it passes more MQLs a week than
            ``capacity_per_week`` (which sets it only when no cut-off meets the band).
        capacity_per_week: the configured capacity (None: not set).
    """

    feasible: bool
    threshold: float
    expected_conversion: float
    ci_low: float
    ci_high: float
    band_min: float
    band_max: float
    mqls_per_week: float
    share_of_leads: float
    message: str
    mean_score: float = math.nan
    mqls: int = 0
    outcome: str = "in_band"
    fallback: str = ""
    too_broad: bool = False
    max_share: float = 0.5
    capped: bool = False
    over_capacity: bool = False
    capacity_per_week: float | None = None

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _pct(x: float) -> str:
    """A configured share (band, limit) as written: 25%, 12.5%."""
    return f"{100 * x:.1f}".removesuffix(".0") + "%"


configured_share = _pct


def band_text(low: float, high: float) -> str:
    """The agreed band as configured, the same in every sentence: "25%-50%", "12.5%-30%"."""
    return f"{_pct(low)}-{_pct(high)}"


def _rate(x: float) -> str:
    """A measured conversion with one decimal, as the tables show it: 2.9%, never "3%" beside a
    2.9% (nor "0%" for a 0.4% that is not zero)."""
    return f"{100 * x:.1f}%"


def _weekly(count: float, weeks: float) -> str:
    return f"{week_count(count / weeks)} MQL{'' if count == weeks else 's'}"


def _share(x: float) -> str:
    return f"{100 * x:.1f}%" if x < 0.1 else f"{100 * x:.0f}%"


def _cut_table(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per distinct score (descending): the cut-off, MQLs, SQLs and score sum at or above it."""
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    count = np.arange(1, len(s) + 1)
    sqls = np.cumsum(y)
    score_sum = np.cumsum(s)
    # a cut-off keeps all leads tied with it: only the last position of each tie run is a cut
    last_of_tie = np.r_[s[1:] != s[:-1], True]
    return s[last_of_tie], count[last_of_tie], sqls[last_of_tie], score_sum[last_of_tie]


def _bootstrap(
    scores: np.ndarray, labels: np.ndarray, threshold: float, rounds: int, seed: int
) -> tuple[float, float]:
    """95 % percentile interval of the conversion at ``threshold`` over resampled cohorts."""
    if rounds <= 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    passed = scores >= threshold
    n = len(scores)
    rates = []
    for _ in range(rounds):
        idx = rng.integers(0, n, n)
        mask = passed[idx]
        if mask.any():
            rates.append(labels[idx][mask].mean())
    if not rates:
        return math.nan, math.nan
    low, high = np.percentile(rates, [2.5, 97.5])
    return float(low), float(high)


def choose_threshold(
    scores,
    labels,
    weeks: float,
    band: dict,
    *,
    rounds: int,
    seed: int,
    min_mqls: int = MIN_MQLS,
    capacity_per_week: float | None = None,
    max_share: float = 0.5,
) -> ThresholdDecision:
    """Pick the lowest cut-off whose conversion on the cohort reaches ``band["min"]``.

    Args:
        scores: calibrated scores of the newest matured cohort.
        labels: 1 when the lead became an SQL, else 0 (same order).
        weeks: how many weeks the cohort spans (for MQLs per week).
        band: ``{"min": 0.25, "max": 0.50}``, the agreed MQL-to-SQL conversion band.
        rounds: bootstrap resamples for the interval (0 skips it).
        seed: seed of the bootstrap.
        min_mqls: a cut-off must pass at least this many leads to count.
        capacity_per_week: MQLs a week sales can work; the fallback when the band is infeasible.
        max_share: a threshold passing more than this share of leads is flagged ``too_broad``.

    Returns:
        The decision; ``feasible`` is False, with a message saying so, when no cut-off reaches
        the band's minimum.

    Example:
        >>> d = choose_threshold([0.9, 0.8, 0.2, 0.1] * 10, [1, 0, 0, 0] * 10, 1.0,
        ...                      {"min": 0.4, "max": 0.6}, rounds=0, seed=0, min_mqls=5)
        >>> d.threshold, d.expected_conversion
        (0.8, 0.5)
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    if scores.shape != labels.shape:
        raise ValueError("scores and labels must have the same length")
    band_min, band_max = float(band["min"]), float(band["max"])
    n = len(scores)
    weeks = float(weeks) if weeks else math.nan

    def decision(feasible, cut, count, sqls, score_sum, message, ci=(math.nan, math.nan),
                 outcome="in_band", fallback="", capped=False, over_capacity=False):
        share = float(count / n) if n else math.nan
        too_broad = bool(share == share and share > max_share)
        if too_broad:
            message += (f" This threshold marks {_share(share)} of leads as MQLs, more than the "
                        f"{_pct(max_share)} allowed (cycle.max_mql_share): it filters too little.")
        return ThresholdDecision(
            feasible=feasible,
            threshold=float(cut),
            expected_conversion=float(sqls / count) if count else math.nan,
            ci_low=ci[0],
            ci_high=ci[1],
            band_min=band_min,
            band_max=band_max,
            mqls_per_week=float(count / weeks) if count and weeks == weeks else math.nan,
            share_of_leads=share,
            message=message,
            mean_score=float(score_sum / count) if count else math.nan,
            mqls=int(count),
            outcome=outcome,
            fallback=fallback,
            too_broad=too_broad,
            max_share=float(max_share),
            capped=capped,
            over_capacity=over_capacity,
            capacity_per_week=float(capacity_per_week) if capacity_per_week else None,
        )

    if n < min_mqls:
        return decision(
            False, math.nan, 0, 0, 0.0,
            f"The newest cohort has only {n} leads, fewer than the {min_mqls} MQLs needed to "
            "measure conversion at any cut-off, so this review promotes nothing.",
            outcome="too_few",
        )
    cuts, count, sqls, score_sum = _cut_table(scores, labels)
    conversion = sqls / count
    enough = count >= min_mqls
    meets = enough & (conversion >= band_min)
    if not meets.any():
        best = int(np.argmax(np.where(enough, conversion, -1.0)))
        per_week = (f", {_weekly(count[best], weeks)} a week" if weeks == weeks else "")
        head = (f"Band infeasible: no cut-off reaches the {_pct(band_min)} minimum; the best "
                f"achievable is {_rate(conversion[best])} conversion at the top "
                f"{_share(count[best] / n)} of leads{per_week}.")
        k, fallback = best, "best_conversion"
        tail = " The threshold falls back to that best-converting cut-off."
        if capacity_per_week and weeks == weeks:
            allowed = max(1, int(capacity_per_week * weeks))
            within = np.flatnonzero(count <= allowed)
            if len(within):
                k, fallback = int(within[-1]), "capacity"
                tail = (f" The threshold falls back to sales capacity "
                        f"(cycle.capacity_per_week = {week_count(capacity_per_week)}): "
                        f"{cuts[k]:.3f} passes {_weekly(count[k], weeks)} a week, converting "
                        f"at {_rate(conversion[k])}.")
        return decision(False, cuts[k], count[k], sqls[k], score_sum[k], head + tail,
                        outcome="infeasible", fallback=fallback)
    # cuts are in descending order, so the last qualifying one is the lowest cut-off; it may
    # pass at most max_share of the leads when some qualifying cut-off does
    within = meets & (count <= max_share * n)
    lowest = int(np.flatnonzero(meets)[-1])
    k = int(np.flatnonzero(within)[-1]) if within.any() else lowest
    capped = k != lowest
    ci = _bootstrap(scores, labels, cuts[k], rounds, seed)
    rate = conversion[k]
    if rate > band_max:
        where = (
            f"above the {_pct(band_max)} maximum even with every lead passed, so marketing "
            "can send sales more leads than this cohort had"
            if count[k] == n
            else f"above the {_pct(band_max)} maximum"
        )
    else:
        where = f"inside the {band_text(band_min, band_max)} band"
    per_week = f", {_weekly(count[k], weeks)} per week" if weeks == weeks else ""
    interval = f" (95% interval {_rate(ci[0])}-{_rate(ci[1])})" if ci[0] == ci[0] else ""
    # a lower cut-off reaches the minimum; it need not be inside the band (every cut-off of a
    # cohort that mostly converts is above the maximum)
    cap = (f" (capped at cycle.max_mql_share: a lower cut-off also reaches the {_pct(band_min)} "
           f"minimum but would pass more than {_pct(max_share)} of leads)" if capped else "")
    message = (
        f"Threshold {cuts[k]:.3f} passes the top {_share(count[k] / n)} of leads{per_week}, "
        f"converting at {_rate(rate)}{interval}, {where}{cap}."
    )
    # capacity sets the threshold only when the band cannot be met: a band threshold beyond it
    # is said, since a user who set it expects no more MQLs than sales can work
    over = bool(capacity_per_week and weeks == weeks and count[k] / weeks > capacity_per_week)
    if over:
        message += " " + over_capacity_sentence(capacity_per_week)
    outcome = "above_band" if rate > band_max else "in_band"
    return decision(True, cuts[k], count[k], sqls[k], score_sum[k], message, ci, outcome=outcome,
                    capped=capped, over_capacity=over)


def over_capacity_sentence(capacity_per_week: float) -> str:
    """What a band threshold passing more MQLs a week than sales can work adds."""
    return (f"That is more than the {week_count(capacity_per_week)} MQLs a week sales can work "
            "(cycle.capacity_per_week), which sets the threshold only when no cut-off meets the "
            "band.")
