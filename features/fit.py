"""Fit: who the lead is, parsed from the free-text fields a CRM export carries.

Every function here is pure and works on one value, so the batch path (which applies them over the
*unique* values of a column) and the online path (one lead per request) share one definition.
Parsers are memoised: titles, sizes and countries repeat heavily across leads.

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

FIT_FIELDS = ("title", "company_size", "industry", "country", "email_domain", "source")
"""The six lead fields whose presence makes up ``completeness``."""

SIZE_BANDS = ("1-10", "11-50", "51-200", "201-1000", "1001-5000", "5001+")

_CACHE = 1 << 16


def _text(value: Any) -> str | None:
    """The value as stripped text, or None when it is missing or a placeholder."""
    if is_placeholder(value):
        return None
    return str(value).strip()


# ---- title: seniority and department ------------------------------------------------------------

def _title_words(title: Any) -> str | None:
    """A title as lower-case words, or None when there is no title (missing, placeholder, no
    letters). "Sr. V.P., Sales & Ops" -> "sr vp sales and ops": dots vanish so abbreviations stay
    one word."""
    text = _text(title)
    if text is None:
        return None
    text = text.lower().replace(".", "").replace("&", " and ")
    words = " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())
    return words if re.search(r"[a-z]", words) else None


_C_LEVEL = re.compile(
    r"\b(chief|ceo|cto|cfo|coo|cmo|cio|cro|cso|ciso|cpo|cdo|cco|chro|cxo|c level|c suite"
    r"|founder|cofounder|co founder|(?<!product )(?<!process )(?<!data )owner"
    r"|(?<!vice )president|chairman|chairwoman|chairperson|managing director|managing partner"
    r"|executive director|general partner)\b"
)
_VP = re.compile(r"\b(vp|svp|evp|avp|vice president|vicepresident|vice pres)\b")
_DIRECTOR = re.compile(r"\b(director|dir|head|general manager|gm)\b")
_TRAINEE = re.compile(r"\b(intern|interns|internship|trainee|apprentice|werkstudent)\b")
_MANAGER = re.compile(r"\b(manager|mgr|supervisor|team lead|team leader|superintendent)\b")
_STUDENT = re.compile(r"\b(student|undergraduate|graduate student|phd candidate|pupil)\b")


@lru_cache(maxsize=_CACHE)
def seniority(title: Any) -> str:
    """Seniority of a free-text job title.

    One of ``c_level``, ``vp``, ``director``, ``manager``, ``individual``, ``student``,
    ``unknown`` (no title). A title that names no level is an individual contributor.

    >>> [seniority(t) for t in ("Founder & CEO", "SVP Sales", "Head of Marketing", "Sr. Manager")]
    ['c_level', 'vp', 'director', 'manager']
    """
    words = _title_words(title)
    if words is None:
        return "unknown"
    # "Executive Vice President" is a VP although "executive" and "president" both occur
    if _VP.search(words):
        return "vp"
    if _C_LEVEL.search(words):
        return "c_level"
    if _DIRECTOR.search(words):
        return "director"
    if _TRAINEE.search(words):
        return "student"
    if _MANAGER.search(words):
        return "manager"
    if _STUDENT.search(words):
        return "student"
    return "individual"


_DEPARTMENT_RULES = (
    ("sales", r"\b(sales|sale|account executive|ae|account manager|account director"
              r"|business development|bdr|sdr|bdm|revenue|cro|commercial|partnerships?|channel)\b"),
    ("marketing", r"\b(marketing|marketer|cmo|growth|demand gen|demand generation|brand|content"
                  r"|seo|sem|communications|comms|pr|public relations|social media|campaigns?"
                  r"|digital)\b"),
    ("finance", r"\b(finance|financial|cfo|accountant|accounting|accounts|controller|comptroller"
                r"|treasurer|treasury|fpa|audit|auditor|tax|payroll)\b"),
    ("hr", r"\b(hr|chro|human resources|people|talent|recruiter|recruiting|recruitment"
           r"|hiring|learning and development)\b"),
    ("it", r"\b(it|cio|ciso|information technology|information officer|information security"
           r"|infosec|systems|administrator|admin"
           r"|sysadmin|system administrator|network|helpdesk|help desk|infrastructure"
           r"|security|technical support)\b"),
    ("engineering", r"\b(engineer|engineering|developer|dev|software|cto|devops|architect"
                    r"|data analyst|data analytics|analytics"
                    r"|programmer|data scientist|data science|machine learning|ml|qa|sre"
                    r"|r and d|research and development|technology|technical)\b"),
    ("operations", r"\b(operations|operational|operating|ops|coo|supply chain|logistics"
                   r"|procurement"
                   r"|purchasing|facilities|project management|program management)\b"),
    ("executive", r"\b(ceo|founder|cofounder|co founder|owner|president|chairman|chairwoman"
                  r"|chairperson|managing director|managing partner|general manager"
                  r"|chief executive|executive director|partner|principal)\b"),
)
_DEPARTMENTS = tuple((name, re.compile(pattern)) for name, pattern in _DEPARTMENT_RULES)


@lru_cache(maxsize=_CACHE)
def department(title: Any) -> str:
    """Department of a free-text job title.

    One of ``sales``, ``marketing``, ``engineering``, ``it``, ``finance``, ``operations``, ``hr``,
    ``executive``, ``other`` (a title naming no known function) or ``unknown`` (no title). A
    functional word wins over a generic executive one: "Chief Revenue Officer" is sales.

    >>> [department(t) for t in ("VP Sales", "CMO", "Founder & CEO", "Student")]
    ['sales', 'marketing', 'executive', 'other']
    """
    words = _title_words(title)
    if words is None:
        return "unknown"
    for name, pattern in _DEPARTMENTS:
        if pattern.search(words):
            return name
    return "other"


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


@lru_cache(maxsize=_CACHE)
def company_size_band(raw: Any) -> str:
    """The size band of a raw company-size answer, or ``"unknown"``.

    Understands head counts ("250", "10,000", "1.5k"), ranges ("51-200", "1,001 to 5,000": the
    geometric middle decides), open ends ("5000+", "over 500", "<10") and "self-employed".

    >>> [company_size_band(v) for v in ("250", "51-200", "5000+", "10,000", "Select")]
    ['201-1000', '51-200', '5001+', '5001+', 'unknown']
    """
    text = _text(raw)
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


# ---- industry, country, region, source ----------------------------------------------------------

@lru_cache(maxsize=_CACHE)
def normalise_industry(raw: Any) -> str | None:
    """Industry in lower case with spaces trimmed and collapsed, or None.

    >>> normalise_industry("  Financial   Services ")
    'financial services'
    """
    text = _text(raw)
    return " ".join(text.lower().split()) if text is not None else None


# (canonical name, region, aliases). Aliases include ISO 3166 alpha-2/alpha-3 codes and common
# spellings; matching is on lower case with dots removed and spaces collapsed.
_COUNTRIES = (
    ("united states", "north_america", ("us", "usa", "u s", "u s a", "united states of america",
                                        "america", "the united states", "unitedstates")),
    ("canada", "north_america", ("ca", "can")),
    ("mexico", "latam", ("mx", "mex", "méxico")),
    ("united kingdom", "europe", ("uk", "u k", "gb", "gbr", "great britain", "britain", "england",
                                  "scotland", "wales", "northern ireland", "the united kingdom")),
    ("ireland", "europe", ("ie", "irl", "republic of ireland", "eire")),
    ("germany", "europe", ("de", "deu", "deutschland")),
    ("france", "europe", ("fr", "fra")),
    ("spain", "europe", ("es", "esp", "españa", "espana")),
    ("portugal", "europe", ("pt", "prt")),
    ("italy", "europe", ("it", "ita", "italia")),
    ("netherlands", "europe", ("nl", "nld", "the netherlands", "holland")),
    ("belgium", "europe", ("be", "bel")),
    ("luxembourg", "europe", ("lu", "lux")),
    ("switzerland", "europe", ("ch", "che", "schweiz", "suisse")),
    ("austria", "europe", ("at", "aut", "österreich", "osterreich")),
    ("sweden", "europe", ("se", "swe", "sverige")),
    ("norway", "europe", ("no", "nor", "norge")),
    ("denmark", "europe", ("dk", "dnk", "danmark")),
    ("finland", "europe", ("fi", "fin", "suomi")),
    ("iceland", "europe", ("is", "isl")),
    ("poland", "europe", ("pl", "pol", "polska")),
    ("czech republic", "europe", ("cz", "cze", "czechia")),
    ("slovakia", "europe", ("sk", "svk")),
    ("hungary", "europe", ("hu", "hun")),
    ("romania", "europe", ("ro", "rou")),
    ("bulgaria", "europe", ("bg", "bgr")),
    ("greece", "europe", ("gr", "grc")),
    ("croatia", "europe", ("hr", "hrv")),
    ("slovenia", "europe", ("si", "svn")),
    ("serbia", "europe", ("rs", "srb")),
    ("estonia", "europe", ("ee", "est")),
    ("latvia", "europe", ("lv", "lva")),
    ("lithuania", "europe", ("lt", "ltu")),
    ("ukraine", "europe", ("ua", "ukr")),
    ("russia", "europe", ("ru", "rus", "russian federation")),
    ("turkey", "mea", ("tr", "tur", "türkiye", "turkiye")),
    ("israel", "mea", ("il", "isr")),
    ("united arab emirates", "mea", ("ae", "are", "uae", "u a e", "emirates", "dubai")),
    ("saudi arabia", "mea", ("sa", "sau", "ksa")),
    ("qatar", "mea", ("qa", "qat")),
    ("kuwait", "mea", ("kw", "kwt")),
    ("bahrain", "mea", ("bh", "bhr")),
    ("oman", "mea", ("om", "omn")),
    ("egypt", "mea", ("eg", "egy")),
    ("morocco", "mea", ("ma", "mar")),
    ("nigeria", "mea", ("ng", "nga")),
    ("kenya", "mea", ("ke", "ken")),
    ("ghana", "mea", ("gh", "gha")),
    ("south africa", "mea", ("za", "zaf", "rsa")),
    ("india", "apac", ("in", "ind", "bharat")),
    ("pakistan", "apac", ("pk", "pak")),
    ("bangladesh", "apac", ("bd", "bgd")),
    ("sri lanka", "apac", ("lk", "lka")),
    ("china", "apac", ("cn", "chn", "prc", "people's republic of china")),
    ("hong kong", "apac", ("hk", "hkg")),
    ("taiwan", "apac", ("tw", "twn")),
    ("japan", "apac", ("jp", "jpn")),
    ("south korea", "apac", ("kr", "kor", "korea", "republic of korea")),
    ("singapore", "apac", ("sg", "sgp")),
    ("malaysia", "apac", ("my", "mys")),
    ("indonesia", "apac", ("id", "idn")),
    ("thailand", "apac", ("th", "tha")),
    ("vietnam", "apac", ("vn", "vnm", "viet nam")),
    ("philippines", "apac", ("ph", "phl")),
    ("australia", "apac", ("au", "aus")),
    ("new zealand", "apac", ("nz", "nzl")),
    ("brazil", "latam", ("br", "bra", "brasil")),
    ("argentina", "latam", ("ar", "arg")),
    ("chile", "latam", ("cl", "chl")),
    ("colombia", "latam", ("co", "col")),
    ("peru", "latam", ("pe", "per")),
    ("uruguay", "latam", ("uy", "ury")),
    ("costa rica", "latam", ("cr", "cri")),
    ("panama", "latam", ("pa", "pan")),
)
_COUNTRY_ALIASES = {
    alias: name for name, _, aliases in _COUNTRIES for alias in (name, *aliases)
}
_REGION_OF = {name: region for name, region, _ in _COUNTRIES}


@lru_cache(maxsize=_CACHE)
def normalise_country(raw: Any) -> str | None:
    """A country's canonical lower-case name ("US", "USA" -> "united states"), or None.

    A country the table does not know is kept in lower case with spaces collapsed.

    >>> [normalise_country(v) for v in ("US", "U.S.A.", "UK", " germany ", "Atlantis")]
    ['united states', 'united states', 'united kingdom', 'germany', 'atlantis']
    """
    text = _text(raw)
    if text is None:
        return None
    key = " ".join(text.lower().replace(".", " ").split())
    return _COUNTRY_ALIASES.get(key, " ".join(text.lower().split()))


def region(country: str | None) -> str:
    """The sales region of a *normalised* country name, or ``"unknown"``."""
    if country is None:
        return "unknown"
    return _REGION_OF.get(country, "unknown")


@lru_cache(maxsize=_CACHE)
def normalise_source(raw: Any) -> str | None:
    """Lead source in lower snake case ("Paid Search" -> "paid_search"), or None."""
    text = _text(raw)
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


def email_domain(email: Any) -> str | None:
    """The domain part of an e-mail address, lower case, or None. The address is never kept."""
    text = _text(email)
    if text is None or "@" not in text:
        return None
    return normalise_domain(text.rsplit("@", 1)[1])


@lru_cache(maxsize=_CACHE)
def normalise_domain(raw: Any) -> str | None:
    """An e-mail domain in lower case without a leading "@" or trailing dot, or None."""
    text = _text(raw)
    if text is None:
        return None
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    text = text.strip().strip(".").lower()
    return text or None


@lru_cache(maxsize=_CACHE)
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
