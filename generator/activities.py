"""What the leads do: intent events before their MQL moment, and after it.

Each lead has a latent engagement level (Gamma with a small shape: most leads do little, a few do
a lot) that scales how many events it produces. Most events fall in the weeks before ``mql_at``;
some come after, and a lead that converts gets extra events after ``mql_at`` (meeting follow-ups):
a leakage trap for any feature that looks past the scoring moment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.catalog import SOURCE_KEYS, SOURCE_PROFILE
from generator.planted import ACTIVITY_CODES
from generator.timeline import DAY, HOUR

ENGAGEMENT_SHAPE = 0.5
EVENTS_BEFORE = 4.0  # mean events before mql_at per unit of engagement
EVENTS_AFTER = 1.5  # mean events after mql_at per unit of engagement
DUPLICATE_SHARE = 0.02  # exact duplicate rows, as CRM syncs produce
_CODE = {name: i for i, name in enumerate(ACTIVITY_CODES)}
# Mix of the everyday (non-demo) events, before and after mql_at.
_EVERYDAY = {"page_view": 0.50, "email_click": 0.20, "content_download": 0.15,
             "webinar_attended": 0.05, "pricing_view": 0.10}
# Mix of the extra events of a converted lead after its mql_at.
_FOLLOW_UP = {"page_view": 0.40, "pricing_view": 0.25, "email_click": 0.20,
              "content_download": 0.15}
_ENGAGEMENT = np.array([SOURCE_PROFILE[s]["engagement"] for s in SOURCE_KEYS])
_DEMO = np.array([SOURCE_PROFILE[s]["demo"] for s in SOURCE_KEYS])
_WEBINAR = SOURCE_KEYS.index("webinar")


@dataclass
class Events:
    lead: np.ndarray  # row of the lead in its chunk
    at: np.ndarray  # int64 seconds
    kind: np.ndarray  # code into ACTIVITY_CODES

    @staticmethod
    def concat(parts: list[Events]) -> Events:
        return Events(*(np.concatenate([getattr(p, f) for p in parts])
                        for f in ("lead", "at", "kind")))


def _kinds(mix: dict[str, float], n: int, rng) -> np.ndarray:
    codes = np.array([_CODE[k] for k in mix])
    cdf = np.cumsum(list(mix.values()))
    return codes[np.searchsorted(cdf / cdf[-1], rng.random(n), side="right")]


def engagement(source: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Latent engagement per lead (mean = the source's engagement level)."""
    return rng.gamma(ENGAGEMENT_SHAPE, 1.0 / ENGAGEMENT_SHAPE, len(source)) * _ENGAGEMENT[source]


def before_mql(
    created: np.ndarray, mql: np.ndarray, source: np.ndarray, level: np.ndarray, rng
) -> Events:
    """Events strictly before each lead's mql_at (by at least a minute)."""
    n = len(mql)
    # everyday events: recent ones dominate, with a long flat tail of older browsing
    count = rng.poisson(EVENTS_BEFORE * level)
    lead = np.repeat(np.arange(n), count)
    m = len(lead)
    age = np.where(rng.random(m) < 0.7, rng.exponential(7 * DAY, m), rng.uniform(0, 90 * DAY, m))
    parts = [Events(lead, mql[lead] - 60 - age.astype(np.int64), _kinds(_EVERYDAY, m, rng))]
    # a demo request: rarer, more likely for engaged leads, usually just before the MQL
    p_demo = np.clip(0.025 + 0.04 * level, 0.0, 0.6) * _DEMO[source]
    demo = np.flatnonzero(rng.random(n) < p_demo)
    age = rng.exponential(2 * DAY, len(demo)).astype(np.int64)
    parts.append(Events(demo, mql[demo] - 60 - age, np.full(len(demo), _CODE["demo_request"])))
    # webinar leads attended the webinar that created them
    attended = np.flatnonzero((source == _WEBINAR) & (rng.random(n) < 0.7))
    at = np.minimum(created[attended] - rng.integers(0, HOUR, len(attended)),
                    mql[attended] - 60)
    parts.append(Events(attended, at, np.full(len(attended), _CODE["webinar_attended"])))
    return Events.concat(parts)


def after_mql(mql: np.ndarray, level: np.ndarray, converted: np.ndarray, rng) -> Events:
    """Events after each lead's mql_at: everyday ones, plus follow-ups of converted leads."""
    count = rng.poisson(EVENTS_AFTER * level)
    lead = np.repeat(np.arange(len(mql)), count)
    m = len(lead)
    at = mql[lead] + 60 + rng.exponential(12 * DAY, m).astype(np.int64)
    parts = [Events(lead, at, _kinds(_EVERYDAY, m, rng))]
    extra = np.where(converted, 1 + rng.poisson(3.0, len(mql)), 0)
    lead = np.repeat(np.arange(len(mql)), extra)
    m = len(lead)
    at = mql[lead] + rng.integers(60, 30 * DAY, m)
    parts.append(Events(lead, at, _kinds(_FOLLOW_UP, m, rng)))
    return Events.concat(parts)


def distinct(events: Events) -> Events:
    """Events sorted by lead, time and type, without repeats of the natural key."""
    order = np.lexsort((events.kind, events.at, events.lead))
    lead, at, kind = events.lead[order], events.at[order], events.kind[order]
    keep = np.ones(len(lead), dtype=bool)
    keep[1:] = (lead[1:] != lead[:-1]) | (at[1:] != at[:-1]) | (kind[1:] != kind[:-1])
    return Events(lead[keep], at[keep], kind[keep])


def with_duplicates(events: Events, rng) -> Events:
    """Repeat about DUPLICATE_SHARE of the rows right after themselves (exact duplicates)."""
    copies = 1 + (rng.random(len(events.lead)) < DUPLICATE_SHARE)
    return Events(*(np.repeat(a, copies) for a in (events.lead, events.at, events.kind)))
