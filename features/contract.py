"""The data contract: the four tables a CRM export provides, and how the store keeps them.

Every export, generated or real, lands in these four tables. Column names are the public surface:
the generator writes them, ingestion validates them, feature and label code reads them.

Personal data stays out: ingestion keeps an e-mail's domain (a fit signal) and drops the address,
and drops name and phone columns outright.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TIMESTAMP = "TIMESTAMP"
TEXT = "VARCHAR"
INTEGER = "BIGINT"
NUMBER = "DOUBLE"


@dataclass(frozen=True)
class Table:
    """One table of the contract.

    Attributes:
        name: the table's name in exports (file stem) and in the store.
        required: columns every export of this table must carry (values may be empty unless
            listed in ``not_null``).
        optional: known columns an export may carry.
        types: the store type of every known column.
        key: the natural key; re-ingesting a row with the same key replaces it, never duplicates it.
        not_null: columns that must have a value in every row.
    """

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    types: dict[str, str]
    key: tuple[str, ...]
    not_null: tuple[str, ...] = field(default=())

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional

    @property
    def timestamps(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if self.types[c] == TIMESTAMP)


LEADS = Table(
    name="leads",
    required=("lead_id", "created_at", "source", "title", "company_size", "industry", "country"),
    # `email` is accepted in exports but never stored: ingestion reduces it to `email_domain`.
    optional=("email_domain", "mql_at", "campaign"),
    types={
        "lead_id": TEXT,
        "created_at": TIMESTAMP,
        "source": TEXT,
        "title": TEXT,
        "company_size": TEXT,
        "industry": TEXT,
        "country": TEXT,
        "email_domain": TEXT,
        "mql_at": TIMESTAMP,
        "campaign": TEXT,
    },
    key=("lead_id",),
    not_null=("lead_id", "created_at"),
)

ACTIVITIES = Table(
    name="activities",
    required=("lead_id", "occurred_at", "activity_type"),
    optional=(),
    types={"lead_id": TEXT, "occurred_at": TIMESTAMP, "activity_type": TEXT},
    key=("lead_id", "occurred_at", "activity_type"),
    not_null=("lead_id", "occurred_at", "activity_type"),
)

DISPOSITIONS = Table(
    name="dispositions",
    required=("lead_id", "dispositioned_at", "status", "reason_code"),
    optional=("rep_id", "attempts", "first_touch_at"),
    types={
        "lead_id": TEXT,
        "dispositioned_at": TIMESTAMP,
        "status": TEXT,
        "reason_code": TEXT,
        "rep_id": TEXT,
        "attempts": INTEGER,
        "first_touch_at": TIMESTAMP,
    },
    key=("lead_id", "dispositioned_at", "status"),
    not_null=("lead_id", "dispositioned_at", "status"),
)

OUTCOMES = Table(
    name="outcomes",
    required=("lead_id", "stage", "occurred_at"),
    optional=("amount",),
    types={"lead_id": TEXT, "stage": TEXT, "occurred_at": TIMESTAMP, "amount": NUMBER},
    key=("lead_id", "stage"),
    not_null=("lead_id", "stage", "occurred_at"),
)

TABLES: dict[str, Table] = {t.name: t for t in (LEADS, ACTIVITIES, DISPOSITIONS, OUTCOMES)}

ACTIVITY_TYPES = (
    "demo_request",
    "pricing_view",
    "content_download",
    "webinar_attended",
    "email_click",
    "page_view",
)

OUTCOME_STAGES = ("sql", "opportunity", "closed_won", "closed_lost")

# Columns holding personal data: never stored, never logged, never reported.
# Words that name a column after a person or a way to reach one ("Lead Owner", "Sales Rep",
# "Contact Phone"): such a column holding text is personal data (inspect proposes ignore; ingest
# refuses to store it), a yes/no flag such as "Do Not Email" is not.
PERSONAL_TOKENS = frozenset({"name", "email", "mail", "phone", "mobile", "agent", "manager",
                             "owner", "rep", "contact", "person", "user", "address",
                             # who did something to the record: Salesforce's "Created By",
                             # "Last Modified By", "Assigned To", a deal's "Account Executive"
                             "by", "assigned", "assignee", "executive", "sdr", "bdr",
                             "salesperson", "representative", "creator", "author"})
FLAG_VALUES = ("yes", "no", "true", "false", "y", "n", "0", "1")


def name_tokens(name: str) -> set[str]:
    """The lower-case words of a column name ("LeadOwner", "lead_owner" -> {"lead", "owner"})."""
    return set(re.findall(r"[a-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", name).lower()))


ORGANISATION_TOKENS = frozenset({"company", "account", "organisation", "organization", "org",
                                 "business", "employer", "campaign", "product", "course", "brand",
                                 "school", "university", "event", "form", "page", "list",
                                 "segment", "team", "office", "partner", "vendor", "plan",
                                 "stage", "status", "pipeline", "source", "industry", "category",
                                 "region", "territory", "country", "city", "step"})
"""Words that make "name" the name of a thing, not of a person ("Company Name", "Campaign Name")."""
KIND_TOKENS = frozenset({"method", "channel", "type", "preference", "preferred", "source",
                         "status", "stage", "role", "count", "language", "segment", "tier"})
"""Words that make "contact" or "user" a kind of something ("Contact Method", "User Type")."""


JOINED_PERSONAL = frozenset({"firstname", "lastname", "fullname", "middlename", "givenname",
                             "familyname", "surname", "nickname", "mobilephone", "phonenumber",
                             "mobilenumber", "homephone", "workphone", "cellphone",
                             "emailaddress", "streetaddress"})
"""A person's field under an API's lower-case joined name (HubSpot's ``firstname``,
``mobilephone``): one word, so the word rules below do not see it."""
PERSON_ENTITIES = frozenset({"person", "people", "contact", "lead"})
_ENTITY_FIELD = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*(?: - |: )\s*(\S.*)$")


def _field_words(name: str) -> str:
    """The field's own words under a person entity's prefix ("Person - Job title" -> "Job
    title"): such a column holds the person's field, personal only if that field is."""
    prefixed = _ENTITY_FIELD.match(name)
    if prefixed and name_tokens(prefixed.group(1)) <= PERSON_ENTITIES:
        return prefixed.group(2)
    return name


def named_like_personal(name: str) -> bool:
    """Whether a column's name says it holds a person or a way to reach one.

    "Lead Owner", "Sales Rep", "Contact Name", "Mobile", "firstname" do; "Company Name",
    "Campaign Name", "Contact Method", "User Type" and "Person - Job title" do not: there "name"
    names a thing, "contact" or "user" is a kind, and a person's job title is not the person. A
    word that always means a person or a way to reach one ("owner", "email", "phone" ...) keeps
    the column personal whatever else the name says ("Account Owner").
    """
    tokens = name_tokens(_field_words(name))
    if tokens & JOINED_PERSONAL:
        return True
    personal = tokens & PERSONAL_TOKENS
    if "name" in personal and tokens & ORGANISATION_TOKENS:
        personal = personal - {"name"}
    if tokens & KIND_TOKENS:
        personal = personal - {"contact", "user"}
    return bool(personal)


AMBIGUOUS_PERSONAL = frozenset({"contact", "user"})
"""Personal words that as often name a kind as a person: a bank export's ``contact`` holds
"cellular" or "telephone", a CRM's "Contact" a person's name."""
CODE_VALUE = "[a-z][a-z0-9_-]*"
"""A value written as a code (lower case, one word): never how a CRM writes a person's name."""


def named_personal_by_kind(name: str) -> bool:
    """Whether ``name`` is named like personal data only through a word that can name a kind
    (``contact``, ``user``): its values decide, and a column whose every value is a code
    (``cellular``, ``telephone``) holds no person."""
    tokens = name_tokens(_field_words(name))
    return named_like_personal(name) and tokens & PERSONAL_TOKENS <= AMBIGUOUS_PERSONAL


PERSONAL_COLUMNS = frozenset(
    {"email", "first_name", "last_name", "name", "full_name", "phone", "mobile", "contact_name"}
)

# Values CRMs and web forms use for "no answer"; read as missing everywhere.
PLACEHOLDERS = frozenset(
    {"", "select", "n/a", "na", "none", "null", "-", "unknown", "not provided"}
)


def is_placeholder(value: object) -> bool:
    """True when ``value`` is missing or a form placeholder such as "Select" or "N/A"."""
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    return str(value).strip().lower() in PLACEHOLDERS
