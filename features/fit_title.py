"""Fit from a job title: the lead's seniority and department, parsed from free text.

Split from ``features.fit`` (which still exports ``seniority`` and ``department`` and combines them
with the other fields in ``fit_features``) because the title rules are the largest and most
often tuned part of fit: word patterns for levels and functions, and the order they are tried in.
Both parsers are pure, one value in, and memoised (``features.raw_answer``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from features.raw_answer import PARSER_CACHE, answer_text


def _title_words(title: Any) -> str | None:
    """A title as lower-case words, or None when there is no title (missing, placeholder, no
    letters). "Sr. V.P., Sales & Ops" -> "sr vp sales and ops": dots vanish so abbreviations stay
    one word."""
    text = answer_text(title)
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


@lru_cache(maxsize=PARSER_CACHE)
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


@lru_cache(maxsize=PARSER_CACHE)
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
