"""The report's figures and sentences: every number shown is tagged with the metric it comes from.

A figure renders as
``<span class="fig" data-metric="KEY" data-format="FMT" data-run="RUN_ID">TEXT</span>``:
``KEY`` is the metric's name on the MLflow run ``RUN_ID`` (the cycle's run, or the previous
cycle's for "up from" figures), and ``TEXT`` is the value formatted by ``FMT``:

=========  ==================================================  ===========
format     rule                                                example
=========  ==================================================  ===========
``pct``    100 x value, one decimal, then ``%``                ``34.1%``
``share``  a configured share as written: ``pct`` without      ``25%``, ``12.5%``
           a trailing ``.0`` (the agreed band)
``pp``     100 x value, signed, one decimal, then `` pp``      ``+3.2 pp``
           (two decimals under 0.05 pp, never ``-0.0 pp``)     ``-0.04 pp``
``ratio``  three decimals                                      ``0.812``
``count``  rounded to a whole number, thousands with commas    ``1,234``
``num1``   one decimal                                         ``12.5``
``num``    up to two decimals, no trailing zeros               ``1``, ``0.5``
``times``  one decimal, then ``x``                             ``2.0x``
``p``      a p-value: ``p = `` and three decimals, or           ``p = 0.043``
           ``p < 0.001`` below that (never ``p = 0.000``)        ``p < 0.001``
=========  ==================================================  ===========

A value that is missing or NaN shows as ``n/a``. Figures the report computes itself (acceptance,
speed to lead, the cohort check, grade conversion ...) are logged on the cycle's run under
``report.``, so the page and the run always agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from markupsafe import Markup, escape

from training.threshold import configured_share

FORMATS = ("pct", "share", "pp", "ratio", "count", "num1", "num", "times", "p")


def format_value(value: float | None, fmt: str) -> str:
    """``value`` as the report shows it (see the module's table)."""
    if value is None or not math.isfinite(float(value)):
        return "n/a"
    value = float(value)
    if fmt == "pct":
        return f"{100 * value:.1f}%"
    if fmt == "share":  # as the gates and the console write a configured share
        return configured_share(value)
    if fmt == "pp":  # a gap that is not zero never reads as "-0.0 pp": it keeps a second decimal
        return f"{100 * value:+.{2 if 0 < abs(100 * value) < 0.05 else 1}f} pp"
    if fmt == "ratio":
        return f"{value:.3f}"
    if fmt == "count":
        return f"{round(value):,}"
    if fmt == "num1":
        return f"{value:.1f}"
    if fmt == "num":  # a setting such as an SLA in hours: "24 h", not "24.0 h"
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if fmt == "times":
        return f"{value:.1f}x"
    if fmt == "p":  # a p-value of 3e-6 is not zero: "p = 0.000" reads as a certainty
        return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"
    raise ValueError(f"unknown figure format {fmt!r}: use one of {', '.join(FORMATS)}")


def parse_value(text: str, fmt: str) -> float | None:
    """The number a formatted figure shows (the inverse of ``format_value``, to its precision)."""
    text = text.strip()
    if text == "n/a":
        return None
    if fmt == "p":  # "p < 0.001" is a value in [0, 0.001): its middle, within tolerance
        return 0.0005 if "<" in text else float(text.split("=")[1])
    clean = text.replace(",", "").replace("%", "").replace("pp", "").replace("x", "").strip()
    number = float(clean)
    return number / 100 if fmt in ("pct", "share", "pp") else number


def tolerance(fmt: str) -> float:
    """Half a unit of the last digit shown: the most a shown figure may differ from the metric."""
    return {"pct": 0.0005, "share": 0.0005, "pp": 0.0005, "ratio": 0.0005, "count": 0.5,
            "num1": 0.05, "num": 0.005, "times": 0.05, "p": 0.0005}[fmt] + 1e-9


class Figures:
    """Formats figures for the page and remembers the ones the report must log on the run."""

    def __init__(self, run_id: str, metrics: Mapping[str, float]):
        self.run_id = run_id
        self.metrics = dict(metrics)
        self.new: dict[str, float] = {}

    def add(self, key: str, value: float | None) -> float | None:
        """Record a figure the report computed (logged as ``key`` on the run)."""
        if value is None or not math.isfinite(float(value)):
            return None
        self.new[key] = float(value)
        self.metrics[key] = float(value)
        return float(value)

    def value(self, key: str) -> float:
        value = self.metrics.get(key)
        return math.nan if value is None else float(value)

    def show(self, key: str, fmt: str, *, run_id: str | None = None,
             metrics: Mapping[str, float] | None = None) -> Markup:
        """The figure ``key`` of this run (or of ``run_id``'s ``metrics``) as a tagged span."""
        source = self.metrics if metrics is None else metrics
        value = source.get(key)
        text = format_value(value, fmt)
        return Markup(
            '<span class="fig" data-metric="{}" data-format="{}" data-run="{}">{}</span>'
        ).format(key, fmt, run_id or self.run_id, text)

    def put(self, key: str, value: float | None, fmt: str) -> Markup:
        """Record a computed figure and show it."""
        self.add(key, value)
        return self.show(key, fmt)


def words(name: object) -> str:
    """A code as words ("wrong_title" -> "wrong title", "paid_search" -> "paid search")."""
    return str(name).replace("_", " ")


_YOU_SOUND = ("uni", "use", "usu", "ure", "uti", "eu", "one")
"""Vowel-led beginnings that sound like a consonant: "a user signup", "a one-off order"."""


def a_or_an(name: str) -> str:
    """``name`` with its indefinite article ("a won deal", "an enrolment", "a user signup"), read
    by how the outcome names teams use begin."""
    low = name.lower()
    vowel = low[:1] in "aeiou" and not low.startswith(_YOU_SOUND)
    return f"{'an' if vowel else 'a'} {name}"


NAMED_BY_CODE = {"meeting_booked": "booked meeting", "closed_won": "won deal",
                 "converted": "converted lead", "opportunity": "opportunity",
                 "sql": "sales-qualified lead"}
"""What a positive is called when every positive lead was decided by this code."""

PAST_SQL = frozenset({"sql", "opportunity", "closed_won", "closed_lost"})
"""Outcome stages that each mean the lead reached SQL (the shipped label policy's target)."""


def positive_name(config: Mapping, summary: Mapping | None = None) -> str:
    """What the outcome is called: ``labels.positive_name`` when set ("paid enrolment"), else
    named from the codes that decided the positives (``summary``: a label summary's
    ``positive_codes``): "won deal" when every one is closed_won, "sales-qualified lead" for
    stages past SQL with no booked meeting among them, else "booked meeting" (an SQL, in the
    product's words)."""
    named = (config.get("labels") or {}).get("positive_name")
    if named:
        return str(named)
    codes = {c for c, n in ((summary or {}).get("positive_codes") or {}).items() if n}
    names = {NAMED_BY_CODE.get(c) for c in codes}
    if len(names) == 1 and None not in names:
        return names.pop()
    if codes and codes <= PAST_SQL:
        return "sales-qualified lead"
    return "booked meeting"


def plural_of(noun: str) -> str:
    """A noun phrase's plural by the regular English rules ("won deal" -> "won deals",
    "opportunity" -> "opportunities", "match" -> "matches")."""
    low = noun.lower()
    if low.endswith("y") and low[-2:-1] not in tuple("aeiou"):
        return noun[:-1] + "ies"
    if low.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def positive_plural(config: Mapping, summary: Mapping | None = None) -> str:
    """The outcome's name for several leads ("won deals"), as the console counts them."""
    return plural_of(positive_name(config, summary))


def plural(word: str, count: float | None) -> str:
    """``word`` as the count shown before it reads: "1 lead", "2 leads", "1.5 leads" (a count
    shown as 1 after rounding takes the singular)."""
    one = count is not None and math.isfinite(float(count)) and round(float(count), 1) == 1
    return word if one else plural_of(word)


def either(names: list[str] | tuple[str, ...]) -> str:
    """Activity codes as one phrase: ["demo_request", "pricing_view"] -> "a demo request or a
    pricing view" (what the configured high-intent activities are, in words)."""
    said = [a_or_an(words(n)) for n in names]
    if not said:
        return "a high-intent activity (none is configured)"
    return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " or " + said[-1]


def sentence(*parts: object) -> Markup:
    """Join escaped text and figure spans into one sentence."""
    return Markup("").join(p if isinstance(p, Markup) else escape(str(p)) for p in parts)
