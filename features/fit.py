"""Fit: who the lead is, parsed from the free-text fields a CRM export carries.

Every function here is pure and works on one value, so the batch path (which applies them over the
*unique* values of a column) and the online path (one lead per request) share one definition.
Parsers are memoised: titles, sizes and countries repeat heavily across leads.

This module holds the company-size, industry, source and e-mail parsers and ``fit_features``,
which combines every parser into one lead's fit features. The title parsers (``seniority``,
``department``) live in ``features.fit_title`` and the country table (``normalise_country``,
``region``) in ``features.fit_country``; both are imported here, so ``features.fit`` stays the
one name callers use for every fit parser.

Missing values (``None``, NaN, "", "Select", "N/A", ... see ``features.contract.PLACEHOLDERS``)
read as missing everywhere: categorical parsers return ``"unknown"`` (seniority, department,
company_size_band, region) or ``None`` (source, industry, country).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from features.contract import is_placeholder
from features.fit_country import normalise_country, region
from features.fit_title import department, seniority
from features.raw_answer import PARSER_CACHE, answer_text

FIT_FIELDS = ("title", "company_size", "industry", "country", "email_domain", "source")
"""The six lead fields whose presence makes up ``completeness``."""

SIZE_BANDS = ("1-10", "11-50", "51-200", "201-1000", "1001-5000", "5001+")


# ---- company size -------------------------------------------------------------------------------

def size_band(employees: float) -> str:
    """The band of a head count: 1-10, 11-50, 51-200, 201-1000, 1001-5000 or 5001+."""
    for upper, band in ((10, "1-10"), (50, "11-50"), (200, "51-200"), (1000, "201-1000"),
                        (5000, "1001-5000")):
        if employees <= upper:
            return band
    return "5001+"


_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(k|m)?\b")
_SOLO = re.compile(r"\b(self employed|selfemployed|freelance|freelancer|sole trader|just me"
                   r"|myself only|solo|individual)\b")


@lru_cache(maxsize=PARSER_CACHE)
def company_size_band(raw: Any) -> str:
    """The size band of a raw company-size answer, or ``"unknown"``.

    Understands head counts ("250", "10,000", "1.5k"), ranges ("51-200", "1,001 to 5,000": the
    geometric middle decides), open ends ("5000+", "over 500", "<10") and "self-employed".

    >>> [company_size_band(v) for v in ("250", "51-200", "5000+", "10,000", "Select")]
    ['201-1000', '51-200', '5001+', '5001+', 'unknown']
    """
    text = answer_text(raw)
    if text is None:
        return "unknown"
    text = text.lower()
    if _SOLO.search(text.replace("-", " ")):
        return "1-10"
    text = re.sub(r"(?<=\d)[,'\u00a0 ](?=\d{3}\b)", "", text)  # thousands separators
    numbers = []
    for digits, suffix in _NUMBER.findall(text):
        value = float(digits) * {"k": 1e3, "m": 1e6}.get(suffix, 1.0)
        numbers.append(value)
    if not numbers:
        return "unknown"
    if len(numbers) >= 2:
        low, high = sorted(numbers[:2])
        employees = math.sqrt(max(low, 1.0) * max(high, 1.0))
    else:
        employees = numbers[0]
        if "+" in text or re.search(r"\b(over|more than|above|greater than)\b|>", text):
            employees += 1  # "5000+" means more than 5000
        elif re.search(r"\b(under|less than|below|fewer than)\b|<", text):
            employees = max(employees - 1, 1.0)
    return size_band(employees)


# ---- industry, source (country and region: features.fit_country) ---------------------------------

@lru_cache(maxsize=PARSER_CACHE)
def normalise_industry(raw: Any) -> str | None:
    """Industry in lower case with spaces trimmed and collapsed, or None.

    >>> normalise_industry("  Financial   Services ")
    'financial services'
    """
    text = answer_text(raw)
    return " ".join(text.lower().split()) if text is not None else None



@lru_cache(maxsize=PARSER_CACHE)
def normalise_source(raw: Any) -> str | None:
    """Lead source in lower snake case ("Paid Search" -> "paid_search"), or None."""
    text = answer_text(raw)
    if text is None:
        return None
    slug = re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")
    return slug or None


# ---- e-mail domain ------------------------------------------------------------------------------

_FREE_MAIL_NAMES = frozenset({
    "gmail", "googlemail", "yahoo", "ymail", "rocketmail", "hotmail", "outlook", "live", "msn",
    "aol", "icloud", "me", "mac", "protonmail", "proton", "pm", "gmx", "yandex", "mail", "inbox",
    "rediffmail", "qq", "163", "126", "sina", "zoho", "tutanota", "fastmail", "hey", "mailfence",
    "hushmail", "naver", "daum", "seznam", "wp", "onet", "libero", "virgilio", "laposte",
})
_FREE_MAIL_DOMAINS = frozenset({
    "web.de", "t-online.de", "freenet.de", "free.fr", "orange.fr", "wanadoo.fr", "sfr.fr",
    "mail.ru", "bk.ru", "list.ru", "rambler.ru", "btinternet.com", "sky.com", "virginmedia.com",
    "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bigpond.com", "shaw.ca",
})
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ne", "or"})


DOMAIN_AFTER_AT = r"""@([^@\s<>()\[\],;:"']+)[^@]*$"""
"""The domain of the last "@": the run of characters after it that a domain may hold, so that a
mail client's "Jane Doe <jane@acme.io>" or "jane@acme.io (work)" gives acme.io. Ingest's SQL
(``features.ingest_sql.email_domain``) uses the same pattern."""


def email_domain(email: Any) -> str | None:
    """The domain part of an e-mail address, lower case, or None. The address is never kept."""
    text = answer_text(email)
    if text is None or "@" not in text:
        return None
    found = re.search(DOMAIN_AFTER_AT, text)
    return normalise_domain(found.group(1)) if found else None


@lru_cache(maxsize=PARSER_CACHE)
def normalise_domain(raw: Any) -> str | None:
    """An e-mail domain in lower case without a leading "@" or trailing dot, or None."""
    text = answer_text(raw)
    if text is None:
        return None
    if "@" in text:
        found = re.search(DOMAIN_AFTER_AT, text)
        text = found.group(1) if found else ""
    text = text.strip().strip(".").lower()
    return text or None


@lru_cache(maxsize=PARSER_CACHE)
def free_email(domain: Any) -> float:
    """1.0 for a free mail provider's domain (gmail.com, yahoo.co.uk, web.de ...), 0.0 for any
    other domain, NaN when there is no domain."""
    dom = normalise_domain(domain)
    if dom is None:
        return math.nan
    if dom in _FREE_MAIL_DOMAINS:
        return 1.0
    labels = dom.split(".")
    if len(labels) == 2:
        return 1.0 if labels[0] in _FREE_MAIL_NAMES else 0.0
    if len(labels) == 3 and labels[1] in _SECOND_LEVEL and len(labels[2]) == 2:
        return 1.0 if labels[0] in _FREE_MAIL_NAMES else 0.0  # yahoo.co.uk, yahoo.com.br
    return 0.0  # includes subdomains such as mail.company.de: corporate


# ---- composite signals --------------------------------------------------------------------------

def icp_lists(config: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """The config's ICP lists, normalised like the features they are compared with.

    A list that is absent or empty is not checked.
    """
    icp = config.get("icp") or {}
    return {
        "company_size_band": frozenset(str(v) for v in icp.get("company_size_bands") or ()),
        "industry": frozenset(
            n for n in (normalise_industry(v) for v in icp.get("industries") or ()) if n
        ),
        "seniority": frozenset(str(v) for v in icp.get("seniorities") or ()),
        "region": frozenset(str(v) for v in icp.get("regions") or ()),
    }


def icp_match(
    size: str, industry: str | None, level: str, area: str, icp: Mapping[str, frozenset[str]]
) -> float:
    """1.0 when the lead's size band, industry, seniority and region are all in the ICP lists."""
    for value, key in ((size, "company_size_band"), (industry, "industry"),
                       (level, "seniority"), (area, "region")):
        allowed = icp.get(key)
        if allowed and value not in allowed:
            return 0.0
    return 1.0


def completeness(present: int) -> float:
    """Share of the six fit fields (``FIT_FIELDS``) that are filled in."""
    return present / len(FIT_FIELDS)


def is_present(value: Any) -> bool:
    """True when a raw field holds an answer (not missing, not a placeholder)."""
    return not is_placeholder(value)


def fit_features(lead: Mapping[str, Any], icp: Mapping[str, frozenset[str]]) -> dict[str, Any]:
    """The fixed fit features of one lead from its raw contract fields.

    ``lead`` holds any of ``FIT_FIELDS`` (``email`` stands in for a missing ``email_domain``);
    ``icp`` comes from ``icp_lists(config)``.
    """
    domain = lead.get("email_domain")
    if is_placeholder(domain):
        domain = email_domain(lead.get("email"))
    raw = {
        "title": lead.get("title"),
        "company_size": lead.get("company_size"),
        "industry": lead.get("industry"),
        "country": lead.get("country"),
        "email_domain": domain,
        "source": lead.get("source"),
    }
    level = seniority(raw["title"])
    size = company_size_band(raw["company_size"])
    industry = normalise_industry(raw["industry"])
    country = normalise_country(raw["country"])
    area = region(country)
    return {
        "source": normalise_source(raw["source"]),
        "seniority": level,
        "department": department(raw["title"]),
        "company_size_band": size,
        "industry": industry,
        "country": country,
        "region": area,
        "free_email": free_email(domain),
        "icp_match": icp_match(size, industry, level, area, icp),
        "completeness": completeness(sum(is_present(v) for v in raw.values())),
    }
