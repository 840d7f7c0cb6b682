"""Fit from a country answer: its canonical name and the sales region it belongs to.

Split from ``features.fit`` (which still exports ``normalise_country`` and ``region`` and uses
them in ``fit_features``) because the country table, every alias a CRM export spells a country
with and its region, is data of its own that grows with each export seen. The parser is pure and
memoised (``features.raw_answer``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from features.raw_answer import PARSER_CACHE, answer_text

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


@lru_cache(maxsize=PARSER_CACHE)
def normalise_country(raw: Any) -> str | None:
    """A country's canonical lower-case name ("US", "USA" -> "united states"), or None.

    A country the table does not know is kept in lower case with spaces collapsed.

    >>> [normalise_country(v) for v in ("US", "U.S.A.", "UK", " germany ", "Atlantis")]
    ['united states', 'united states', 'united kingdom', 'germany', 'atlantis']
    """
    text = answer_text(raw)
    if text is None:
        return None
    key = " ".join(text.lower().replace(".", " ").split())
    return _COUNTRY_ALIASES.get(key, " ".join(text.lower().split()))


def region(country: str | None) -> str:
    """The sales region of a *normalised* country name, or ``"unknown"``."""
    if country is None:
        return "unknown"
    return _REGION_OF.get(country, "unknown")
