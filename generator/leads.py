"""Who the leads are: companies, people, fields as a web form records them, and the dirt.

Dirt comes in two kinds, applied in this order:

1. information-destroying (a missing or placeholder title, size, industry, country or e-mail): it
   happens *before* the planted model reads the lead, so the truth uses "unknown";
2. cosmetic (case, whitespace, country spellings, a head count instead of a band): it happens
   after, and a careful parser can undo all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator import catalog as cat
from generator.planted import INDUSTRY_CODES, SENIORITY_CODES, SIZE_CODES
from generator.timeline import DAY, LATE_FRACTION, Arrivals, Campaign, Window

N_COMPANIES = 6000
N_LATE_COMPANIES = 300
LATE_COMPANY_SHARE = 0.06  # share of leads from late-industry companies once they appear
_UNKNOWN_SENIORITY = SENIORITY_CODES.index("unknown")
_UNKNOWN_SIZE = SIZE_CODES.index("unknown")
_UNKNOWN_INDUSTRY = INDUSTRY_CODES.index("unknown")
_LATE_INDUSTRY = INDUSTRY_CODES.index(cat.LATE_INDUSTRY.lower())
REGION_CODES = ("north_america", "europe", "apac", "latam", "mea", "unknown")

# Information-destroying dirt: (missing share, placeholder share) at an average source.
MISSING_TITLE = (0.030, 0.015)
MISSING_SIZE = (0.030, 0.020)
MISSING_INDUSTRY = (0.030, 0.015)
MISSING_COUNTRY = (0.025, 0.010)
MISSING_EMAIL = 0.010
SIZE_AS_COUNT = 0.35  # share of size answers written as a head count rather than a band


def _pick(rng: np.random.Generator, weights, n: int) -> np.ndarray:
    cdf = np.cumsum(np.asarray(weights, dtype=float))
    return np.searchsorted(cdf / cdf[-1], rng.random(n), side="right")


def _unique(values) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


_TITLES = {k: np.array(_unique(v), dtype=object) for k, v in cat.TITLES.items()}
_SEN_CDF = np.array([np.cumsum(cat.SENIORITY_MIX[s]) / sum(cat.SENIORITY_MIX[s])
                     for s in cat.SOURCE_KEYS])


@dataclass(frozen=True)
class Companies:
    """The companies leads work at. Company ``k`` has one domain, industry and head count."""

    domain: np.ndarray  # object: "brightlane.io"
    industry: np.ndarray  # code into INDUSTRY_CODES
    band: np.ndarray  # code into SIZE_CODES
    employees: np.ndarray
    regular_cdf: np.ndarray  # popularity of the regular companies (heavy-tailed)
    late_start: int  # companies[late_start:] are the late industry's


def build_companies(rng: np.random.Generator) -> Companies:
    pairs = [(p, s) for p in cat.DOMAIN_PREFIXES for s in cat.DOMAIN_SUFFIXES]
    forms = ("{p}{s}", "{p}{s}hq", "get{p}{s}", "{p}-{s}", "{p}{s}group", "try{p}{s}")
    names = [f.format(p=p, s=s) for f in forms for p, s in pairs]
    order = rng.permutation(len(names))[: N_COMPANIES + N_LATE_COMPANIES]
    tld = np.array([t for t, _ in cat.DOMAIN_TLDS], dtype=object)[
        _pick(rng, [w for _, w in cat.DOMAIN_TLDS], len(order))
    ]
    domain = np.array([f"{names[i]}.{t}" for i, t in zip(order, tld, strict=True)], dtype=object)
    industry = np.concatenate([
        _pick(rng, [w for _, w in cat.INDUSTRIES], N_COMPANIES),
        np.full(N_LATE_COMPANIES, _LATE_INDUSTRY),
    ])
    band = _pick(rng, [b[1] for b in cat.SIZE_BANDS], len(order))
    low = np.array([b[2] for b in cat.SIZE_BANDS])[band]
    high = np.array([b[3] for b in cat.SIZE_BANDS])[band]
    employees = np.floor(np.exp(rng.uniform(np.log(low), np.log(high + 1)))).astype(np.int64)
    employees = np.clip(employees, low, high)
    popularity = 1.0 / (rng.permutation(N_COMPANIES) + 20.0) ** 0.9
    cdf = np.cumsum(popularity)
    return Companies(domain, industry, band, employees, cdf / cdf[-1], N_COMPANIES)


@dataclass
class LeadChunk:
    """One chunk of leads: the raw export columns, and the clean values the truth reads."""

    created_at: np.ndarray
    mql_at: np.ndarray
    source: np.ndarray  # code into catalog.SOURCE_KEYS
    seniority: np.ndarray  # codes into SENIORITY_CODES (after destroying dirt)
    size: np.ndarray  # code into SIZE_CODES
    industry: np.ndarray  # code into INDUSTRY_CODES
    free_email: np.ndarray  # bool
    region: np.ndarray  # code into REGION_CODES
    raw: dict[str, np.ndarray]  # export columns (object arrays, None for missing)


def _campaigns(source, created, campaigns: list[Campaign], rng) -> np.ndarray:
    out = np.full(len(source), None, dtype=object)
    for code in np.unique(source):
        rows = np.flatnonzero(source == code)
        mine = [c for c in campaigns if c.source == code]
        names = np.array([c.name for c in mine], dtype=object)
        t = created[rows, None]
        active = (t >= np.array([c.active_from for c in mine])) & (
            t < np.array([c.active_to for c in mine])
        )
        # no campaign running: the most recently launched one still gets the credit
        none = ~active.any(axis=1)
        if none.any():
            launched = t[none] >= np.array([c.active_from for c in mine])
            latest = np.where(launched, np.array([c.active_from for c in mine]), -1).argmax(1)
            active[none, latest] = True
        cum = np.cumsum(active, axis=1)
        target = np.floor(rng.random(len(rows)) * cum[:, -1]).astype(np.int64) + 1
        out[rows] = names[(cum < target[:, None]).sum(axis=1)]
        share_missing = cat.CAMPAIGN_MISSING.get(cat.SOURCE_KEYS[code], 0.0)
        out[rows[rng.random(len(rows)) < share_missing]] = None
    return out


def _restyle(values: np.ndarray, rng, lower: float, upper: float, pad: float) -> np.ndarray:
    """Cosmetic dirt on text: lower case, upper case, stray spaces."""
    values = values.copy()
    r = rng.random(len(values))
    present = np.array([v is not None for v in values], dtype=bool)
    for mask, fn in (
        (r < lower, str.lower),
        ((r >= lower) & (r < lower + upper), str.upper),
    ):
        idx = np.flatnonzero(mask & present)
        values[idx] = [fn(v) for v in values[idx]]
    side = rng.random(len(values))
    idx = np.flatnonzero((r >= lower + upper) & (r < lower + upper + pad) & present)
    values[idx] = [
        f" {v}" if s < 0.3 else (f"{v} " if s < 0.7 else v.replace(" ", "  ", 1) + " ")
        for v, s in zip(values[idx], side[idx], strict=True)
    ]
    return values


def _spell(codes: np.ndarray, spellings, rng) -> np.ndarray:
    """Raw text for each code, drawn from that code's weighted spellings."""
    out = np.empty(len(codes), dtype=object)
    r = rng.random(len(codes))
    for code, options in enumerate(spellings):
        rows = np.flatnonzero(codes == code)
        if len(rows) == 0:
            continue
        cdf = np.cumsum([w for _, w in options])
        texts = np.array([t for t, _ in options], dtype=object)
        out[rows] = texts[np.searchsorted(cdf / cdf[-1], r[rows], side="right")]
    return out


def _emails(first, last, domain, free, rng) -> np.ndarray:
    pattern = rng.integers(0, 4, len(first))
    digits = rng.integers(1, 100, len(first))
    out = []
    for f, la, d, is_free, p, n in zip(first, last, domain, free, pattern, digits, strict=True):
        f, la = f.lower(), la.lower()
        if is_free:
            local = (f"{f}.{la}{n}", f"{f}{la}", f"{f[0]}{la}{n:02d}", f"{f}_{la}")[p]
        else:
            local = (f"{f[0]}.{la}", f"{f}.{la}", f"{f}{la[0]}", f"{f[0]}{la}")[p]
        out.append(f"{local}@{d}")
    return np.array(out, dtype=object)


def make_leads(
    first_index: int,
    count: int,
    n_total: int,
    window: Window,
    arrivals: Arrivals,
    campaigns: list[Campaign],
    companies: Companies,
    rng: np.random.Generator,
) -> LeadChunk:
    """Leads ``first_index .. first_index + count - 1`` of ``n_total``."""
    j = np.arange(first_index, first_index + count, dtype=np.float64)
    created = arrivals.times((j + rng.random(count)) / n_total)
    source = _pick(rng, [s[1] for s in cat.SOURCES], count)
    campaign = _campaigns(source, created, campaigns, rng)

    late = (created >= window.at(LATE_FRACTION)) & (rng.random(count) < LATE_COMPANY_SHARE)
    company = np.searchsorted(companies.regular_cdf, rng.random(count), side="right")
    company = np.minimum(company, companies.late_start - 1)
    company[late] = companies.late_start + rng.integers(0, N_LATE_COMPANIES, late.sum())

    seniority = (rng.random(count)[:, None] > _SEN_CDF[source]).sum(axis=1)
    seniority = np.minimum(seniority, len(cat.SENIORITY_KEYS) - 1)
    pick = rng.random(count)
    title = np.empty(count, dtype=object)
    for code, key in enumerate(cat.SENIORITY_KEYS):
        rows = np.flatnonzero(seniority == code)
        options = _TITLES[key]
        title[rows] = options[np.floor(pick[rows] * len(options)).astype(np.int64)]

    profile = {k: np.array([cat.SOURCE_PROFILE[s][k] for s in cat.SOURCE_KEYS])
               for k in ("free_email", "missing")}
    p_free = profile["free_email"][source]
    p_free = np.where(seniority == cat.SENIORITY_KEYS.index("student"),
                      np.minimum(3 * p_free, 0.9), p_free)
    free = rng.random(count) < p_free
    first = np.array(cat.FIRST_NAMES, dtype=object)[rng.integers(0, len(cat.FIRST_NAMES), count)]
    last = np.array(cat.LAST_NAMES, dtype=object)[rng.integers(0, len(cat.LAST_NAMES), count)]
    free_domains = np.array([d for d, _ in cat.FREE_EMAIL_DOMAINS], dtype=object)
    domain = np.where(
        free,
        free_domains[_pick(rng, [w for _, w in cat.FREE_EMAIL_DOMAINS], count)],
        companies.domain[company],
    )
    email = _emails(first, last, domain, free, rng)
    country = _pick(rng, [c[2] for c in cat.COUNTRIES], count)
    region_of = np.array([REGION_CODES.index(c[1]) for c in cat.COUNTRIES])
    industry = companies.industry[company]
    size = companies.band[company]

    # ---- 1. information-destroying dirt: the truth sees its result ----------------------------
    scale = profile["missing"][source]

    def lost(shares) -> tuple[np.ndarray, np.ndarray]:
        r = rng.random(count)
        missing = r < shares[0] * scale
        return missing, ~missing & (r < (shares[0] + shares[1]) * scale)

    title_missing, title_placeholder = lost(MISSING_TITLE)
    size_missing, size_placeholder = lost(MISSING_SIZE)
    industry_missing, industry_placeholder = lost(MISSING_INDUSTRY)
    country_missing, country_placeholder = lost(MISSING_COUNTRY)
    email_missing = rng.random(count) < MISSING_EMAIL * scale

    clean_seniority = np.where(title_missing | title_placeholder, _UNKNOWN_SENIORITY, seniority)
    clean_size = np.where(size_missing | size_placeholder, _UNKNOWN_SIZE, size)
    clean_industry = np.where(industry_missing | industry_placeholder, _UNKNOWN_INDUSTRY, industry)
    clean_free = free & ~email_missing
    clean_region = np.where(country_missing | country_placeholder,
                            REGION_CODES.index("unknown"), region_of[country])

    # ---- 2. cosmetic dirt ---------------------------------------------------------------------
    title = _restyle(title, rng, lower=0.06, upper=0.03, pad=0.04)
    title[title_placeholder] = np.array(cat.TITLE_PLACEHOLDERS, dtype=object)[
        rng.integers(0, len(cat.TITLE_PLACEHOLDERS), title_placeholder.sum())
    ]
    title[title_missing] = None

    band_text = _spell(
        size, [[(s, w) for s, w in zip(cat.SIZE_BAND_SPELLINGS[b], (0.75, 0.15, 0.10), strict=True)]
               for b in cat.SIZE_BAND_KEYS], rng)
    employees = companies.employees[company]
    as_count = rng.random(count) < SIZE_AS_COUNT
    comma = rng.random(count) < 0.3
    company_size = band_text.copy()
    idx = np.flatnonzero(as_count)
    company_size[idx] = [f"{e:,}" if c else str(e) for e, c in zip(employees[idx], comma[idx],
                                                                   strict=True)]
    company_size[size_placeholder] = np.array(cat.FIELD_PLACEHOLDERS, dtype=object)[
        rng.integers(0, len(cat.FIELD_PLACEHOLDERS), size_placeholder.sum())
    ]
    company_size[size_missing] = None

    industry_names = np.array([n for n, _ in cat.INDUSTRIES] + [cat.LATE_INDUSTRY], dtype=object)
    industry_text = _restyle(industry_names[industry], rng, lower=0.08, upper=0.03, pad=0.04)
    industry_text[industry_placeholder] = np.array(cat.FIELD_PLACEHOLDERS + ("-",), dtype=object)[
        rng.integers(0, 3, industry_placeholder.sum())
    ]
    industry_text[industry_missing] = None

    country_text = _spell(country, [c[3] for c in cat.COUNTRIES], rng)
    country_text = _restyle(country_text, rng, lower=0.0, upper=0.0, pad=0.02)
    country_text[country_placeholder] = "Select"
    country_text[country_missing] = None

    source_text = _spell(source, [s[2] for s in cat.SOURCES], rng)
    email = _restyle(email, rng, lower=0.0, upper=0.02, pad=0.01)
    email[email_missing] = None

    # MQL: at once for a fifth of leads (a demo-request form), else within days
    delay = np.where(rng.random(count) < 0.2, 0.0, rng.exponential(1.5 * DAY, count))
    mql = created + np.minimum(delay, 14 * DAY).astype(np.int64)

    return LeadChunk(
        created_at=created,
        mql_at=mql,
        source=source,
        seniority=clean_seniority,
        size=clean_size,
        industry=clean_industry,
        free_email=clean_free,
        region=clean_region,
        raw={
            "source": source_text,
            "title": title,
            "company_size": company_size,
            "industry": industry_text,
            "country": country_text,
            "email": email,
            "campaign": campaign,
        },
    )
