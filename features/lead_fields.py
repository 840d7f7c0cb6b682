"""The fields of a lead as every scoring path names them, and the near-misses it refuses.

A lead's fields are exact names (``title``, ``company_size``, and the export columns a mapping
declared as attributes, under their names: ``Lead Origin``). A field or column that differs from
one only in case, spaces or punctuation (``Title``, ``Company Size``, ``lead_origin``) is almost
certainly meant as it, but no path reads it: the model would score the lead as if the value were
blank. So the API (a 422) and ``leadscore score`` / Spark (an error) refuse it with one sentence
naming the name to use, instead of ignoring it.

Beyond spelling, ``SYNONYMS`` lists the names the common CRMs give the contract's lead fields
(Salesforce's ``CreatedDate``, ``LeadSource``, ``NumberOfEmployees``; HubSpot's ``Job Title``,
``Create Date``, ``Country/Region``): they are near-misses too, and an ingested leads file that
lacks a field but holds one of them is told which to rename. The list is short on purpose: only
names that mean the field and nothing else (``Id`` or ``Domain`` could be many things).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from functools import lru_cache

from features.contract import LEADS

LEAD_FIELDS = (*LEADS.columns, "email", "activities", "attributes", "as_of")
"""A lead's contract fields: a row of the leads table (``features.contract.LEADS``), the e-mail
it may carry instead of a domain, its activities and attributes, and ``as_of``."""


def misnamed_rule(meant: str) -> str:
    """What every path says of a near-miss of ``meant``, after the field's or column's name."""
    return (f"not a field of a lead: name it `{meant}` (names are exact; as sent it would be "
            "ignored and the lead scored as if it were blank)")


SYNONYMS: dict[str, tuple[str, ...]] = {
    # Dynamics 365's Created On, Zoho's Created Time, Pipedrive's Add time
    "created_at": ("created_date", "createddate", "create_date", "createdate", "date_created",
                   "created_on", "created_time", "add_time"),
    # Pipedrive's Source channel
    "source": ("lead_source", "leadsource", "original_source", "source_channel",
               "hs_analytics_source"),  # HubSpot's API name of Original Source
    "title": ("job_title", "jobtitle", "designation"),  # Zoho's Designation
    "company_size": ("employees", "number_of_employees", "numberofemployees", "no_of_employees",
                     "numemployees",  # HubSpot's API name
                     "employee_count", "headcount", "company_headcount"),
    "country": ("country_region",),
    "industry": ("industry_type",),  # Freshsales
    "mql_at": ("mql_date", "became_a_marketing_qualified_lead_date"),
    "campaign": ("campaign_name",),
    "email": ("email_address", "e_mail"),
}
"""Lead field -> other names CRMs give it, folded (lower case, ``_`` for spaces and punctuation)."""


@lru_cache(maxsize=4096)
def _folded(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().casefold()).strip("_")


_ENTITY = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)(?:\s*(?: - |: )\s*|\.(?=\S))(\S.*)$")
"""An export column named "Entity - Field" (Pipedrive: "Person - Email", "Organization - Number of
employees"), "Entity: Field", or "parent.field" (a JSON record's nested field)."""
_OWN = frozenset({"properties", "fields", "attributes", "values", "record"})
"""Prefixes that hold the record's own fields (an API's contact ``properties.jobtitle``)."""
_PEOPLE = frozenset({"person", "people", "contact", "lead"})
_ORGANISATIONS = frozenset({"organization", "organisation", "org", "company", "account", "lead"})
ENTITY_FIELDS: dict[str, frozenset[str]] = {"title": _PEOPLE, "email": _PEOPLE,
                                            "company_size": _ORGANISATIONS,
                                            "industry": _ORGANISATIONS}
"""The entities whose field is the lead's, for fields another entity has too: a deal's title is
its name ("Deal - Title"), not a job title. Other fields are the lead's under any entity."""


def lead_field_for(name: str) -> str | None:
    """The contract lead field ``name`` stands for by spelling or by a CRM's name for it
    (``"Job Title"`` -> ``"title"``), also after an entity prefix (``"Person - Job title"``,
    ``"Deal - Source channel"``; ``"Deal - Title"`` is a deal's name, so None), or None."""
    field = _field_named(name)
    if field is not None:
        return field
    prefixed = _ENTITY.match(name)
    if prefixed is None:
        return None
    field = _field_named(prefixed.group(2))
    entity = _folded(prefixed.group(1))
    if field is None or entity not in ENTITY_FIELDS.get(field, frozenset({entity})) | _OWN:
        return None
    return field


def _field_named(name: str) -> str | None:
    folded = _folded(name)
    if folded in LEAD_FIELDS:
        return folded
    return next((field for field, names in SYNONYMS.items() if folded in names), None)


def misnamed(given: Iterable[str], expected: Collection[str]) -> list[tuple[str, str]]:
    """``(given name, the expected name it stands for)`` for each given name that is not an
    expected one but folds (case, spaces, punctuation, also where the other has none:
    ``Total Visits`` for ``TotalVisits``) to one that was not given itself, or is a CRM's name
    for an expected lead field (``SYNONYMS``)."""
    given = list(given)
    present = set(given)
    by_fold = {_folded(name): name for name in expected}
    for field, names in SYNONYMS.items():
        if field in expected:
            for name in names:
                by_fold.setdefault(name, field)  # an expected column of that name is itself
    # "Total Visits" for TotalVisits: a space or punctuation where the name has none
    by_squash: dict[str, str] = {}
    for folded, name in by_fold.items():
        by_squash.setdefault(folded.replace("_", ""), name)
    out = []
    for name in given:
        meant = ((by_fold.get(_folded(name)) or by_squash.get(_folded(name).replace("_", "")))
                 if isinstance(name, str) else None)
        if meant is not None and name not in expected and meant not in present:
            out.append((name, meant))
    return out
