"""The role ``leadscore inspect`` proposes for a column: a main file's (id, dates, lead fields,
leak suspects, personal data) and a lookup's fit column, drafted as the lead field it is named
for where it is one (Pipedrive's ``Person - Job title`` beside its deals)."""

from __future__ import annotations

from features.contract import name_tokens
from features.contract_files import EMAIL_HEADERS, slug
from features.inspect import INTENT_TOKENS, Column
from features.inspect_values import EXCEL_SERIAL, named_for_mql, positive_stage
from features.lead_fields import lead_field_for

__all__ = ["ACCOUNT_TOKENS", "CREATION_TOKENS", "DRAFTED_FIELDS", "creation_date", "lookup_role",
           "main_role", "positive_stage"]

DRAFTED_FIELDS = ("title", "source", "company_size", "industry", "country", "campaign")
"""Lead fields a column named for one (by the contract's name or a CRM's, ``SYNONYMS``) is
drafted as, with ``as:``."""


ACCOUNT_TOKENS = frozenset({"company", "account", "organization", "organisation", "org", "firm",
                            "firma", "employer"})
"""Words of a column that names the lead's company ("Company", "Account Name", Pipedrive's
"Organization - Name")."""


def email_role(column: Column, state: dict) -> tuple[str, str] | None:
    """The role of the export's first e-mail column (a main file's, else a lookup's: Pipedrive's
    persons file beside its deals): the address is never stored, its domain is a fit signal
    (free mail, a company's); None for any other column."""
    if column.personal and not state.get("email") and (
            slug(column.name) in EMAIL_HEADERS or lead_field_for(column.name) == "email"):
        state["email"] = column.name
        return "fit (e-mail domain only)", "{role: fit, kind: categorical, as: email}"
    return None


def main_role(column: Column, state: dict) -> tuple[str, str]:
    """(proposed role as printed, its mapping spec) for one main-file column."""
    if (drafted := email_role(column, state)) is not None:
        return drafted
    if column.personal:
        return "ignore (personal?)", "ignore"
    if column.kind == "date" and not state.get("mql") and named_for_mql(column.name):
        # when the lead became an MQL: the moment it is scored, blank until then by nature
        state["mql"] = column.name
        return "timestamp (mql_at)", "{role: timestamp, as: mql_at}"
    if column.kind == "date" and not state.get("created") and \
            column.name == state.get("creation"):
        # a creation date is never a feature, so a leak suspect can still date the lead
        state["created"] = column.name
        return "timestamp (created_at)", "{role: timestamp, as: created_at}"
    if column.leaks:
        if column.kind == "date":
            return "ignore (leak suspect)", "ignore"
        kind = "numeric" if column.kind in ("numeric", "boolean") else "categorical"
        return "post_outcome (leak suspect)", f"{{role: post_outcome, kind: {kind}}}"
    if column.kind == "id" and not state.get("id"):
        state["id"] = column.name
        return "id", "id"
    field = lead_field_for(column.name)
    # numbers only for an employee count: a numeric "campaign" is a count of calls (the UCI
    # bank export's), not the lead's campaign, and a numeric "source" or "title" is a code
    numbers_fit = column.kind != "numeric" or field == "company_size"
    if field in DRAFTED_FIELDS and column.kind in ("categorical", "text", "numeric") and \
            numbers_fit and field not in state:
        # the contract's field, so the fit features read it: a title's seniority and
        # department, an employee count's size band, a country's region; as a plain category a
        # free-text title would be passed over and its strongest signal lost
        state[field] = column.name
        return f"fit (as {field})", f"{{role: fit, kind: categorical, as: {field}}}"
    if column.kind == "date":
        return "ignore (another date)", "ignore"
    if _company_name(column):
        column.note = COMPANY_NOTE
        return "ignore (a company's name)", "ignore"
    if column.distinct == 1 and column.fill == 1.0:
        # a masked column (the Kaggle campaign table's "IsConfid"), a filter of the export
        column.note = "one value on every row: it tells no lead from another"
        return "ignore (one value)", "ignore"
    if _other_ids(column):
        column.note = OTHER_IDS_NOTE
        return "ignore (ids of other records)", "ignore"
    if column.note.startswith(EXCEL_SERIAL):
        return "ignore (Excel serial dates)", "ignore"
    if column.kind in ("numeric", "boolean"):
        role = "intent" if name_tokens(column.name) & INTENT_TOKENS else "fit"
        return f"{role} numeric", f"{{role: {role}, kind: numeric}}"
    if column.kind == "categorical":
        return "fit categorical", "{role: fit, kind: categorical}"
    return "ignore", "ignore"


CREATION_TOKENS = frozenset({"created", "create", "creation", "added"})
"""Words of a date column that says when the record was made ("Created On", "Deal created",
"Date Added")."""


def creation_date(columns: list[Column]) -> str | None:
    """The date column drafted as created_at: the first one named for the record's creation,
    else the first date not named like a post-contact field. Column order decides nothing
    more: Dynamics puts "(Do Not Modify) Modified On" before "Created On", and dating every
    lead by its last change would put its verdict before its creation."""
    dates = [c for c in columns if c.kind == "date" and not c.personal
             and not any(leak.startswith("named like") for leak in c.leaks)
             and "update" not in name_tokens(c.name)  # Pipedrive's Update time
             and "mql" not in name_tokens(c.name)
             and not {"marketing", "qualified"} <= name_tokens(c.name)]
    named = [c for c in dates if name_tokens(c.name) & CREATION_TOKENS
             or lead_field_for(c.name) == "created_at"]
    return (named or dates)[0].name if named or dates else None


def lookup_role(column: Column, state: dict) -> tuple[str, str]:
    """(proposed role as printed, its mapping spec) for a lookup column that is a fit
    attribute: the lead field it is named for, where the main file drafted none (a person's job
    title, an organisation's size or industry, so the fit features read it), else a plain
    fit attribute."""
    field = lead_field_for(column.name)
    numbers_fit = column.kind != "numeric" or field == "company_size"
    if field is None and _company_name(column):
        column.note = COMPANY_NOTE
        return "ignore (a company's name)", "ignore"
    if field in DRAFTED_FIELDS and numbers_fit and field not in state:
        state[field] = column.name
        return f"fit (as {field})", f"{{role: fit, kind: categorical, as: {field}}}"
    if _other_ids(column):
        column.note = OTHER_IDS_NOTE
        return "ignore (ids of other records)", "ignore"
    kind = "numeric" if column.kind in ("numeric", "boolean") else "categorical"
    return f"fit {kind}", f"{{role: fit, kind: {kind}}}"


OTHER_IDS_NOTE = ("ids of other records written as numbers: no amount a lead has more or less "
                  "of; map it {role: fit, kind: categorical} if its values are a few codes")


def _other_ids(column: Column) -> bool:
    """Whether ``column`` holds ids of other records as numbers (Pipedrive's "Deal -
    Organization ID", "Person - Organization ID"): as a numeric feature, organisation 1,200
    would rank above organisation 3."""
    return column.kind == "numeric" and "id" in name_tokens(column.name)


COMPANY_NOTE = ("a company's name: as a feature the model would learn accounts, not fit; map its "
                "size and industry instead")


def _company_name(column: Column) -> bool:
    """Whether ``column`` names the lead's company ("Company", "Account Name", "Organization -
    Name"). Learning a company's name memorises accounts ("Firma 39 GmbH raises it most"), while
    the fit features read what the company is: its size, industry and e-mail domain."""
    tokens = name_tokens(column.name)
    return column.kind in ("categorical", "text") and bool(tokens & ACCOUNT_TOKENS) and \
        tokens <= ACCOUNT_TOKENS | {"name", "business"}
