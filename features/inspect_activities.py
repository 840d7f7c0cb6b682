"""What ``leadscore inspect`` drafts for an activity file: its roles (key, occurred_at,
activity_type), and for its type column the CRM's names for the contract's activity types, read
as those types with ``replace:``.

The intent features count each of the contract's activity types (``features.contract.
ACTIVITY_TYPES``: demo_request, pricing_view, content_download, webinar_attended, email_click,
page_view) in its own windows; every other type counts only together, as "other activity". A
marketing-automation log names the same acts its own way (Marketo's "Visit Webpage", "Click
Email", "Attend Event"): read as written they all land in "other", and the intent signal the log
holds is blurred into one count. ``ACTIVITY_SYNONYMS`` is the short list of names that mean a
contract type and nothing else; a value is matched after lower-casing and folding spaces and
punctuation, as ingest stores types.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pandas as pd

from features.contract import ACTIVITY_TYPES, name_tokens
from features.inspect_values import instants
from features.intent import activity_type_key

if TYPE_CHECKING:
    from features.inspect import Column, FileProfile

TYPE_TOKENS = ("type", "activity", "event", "action", "kind", "channel", "subject")
"""Words naming an activity file's type column, the likeliest first."""

ACTIVITY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "page_view": ("visit_webpage", "visit_web_page", "web_page_visit", "webpage_visit",
                  "website_visit", "web_visit", "page_visit", "pageview", "viewed_page"),
    "pricing_view": ("pricing_page_view", "viewed_pricing_page", "visit_pricing_page",
                     "pricing_page_visit"),
    "email_click": ("click_email", "clicked_email", "email_clicked", "click_link_in_email",
                    "email_link_click"),
    "webinar_attended": ("attend_event", "attended_event", "attend_webinar",
                         "attended_webinar", "webinar_attendance", "event_attended"),
    "content_download": ("download", "downloaded_content", "asset_download",
                         "download_content", "whitepaper_download"),
    "demo_request": ("request_demo", "requested_demo", "demo_requested", "book_demo",
                     "demo_booked"),
}
"""Contract activity type -> other names logs give it, as ``activity_type_key`` folds them."""

_BY_NAME = {name: kind for kind, names in ACTIVITY_SYNONYMS.items() for name in names}


def activity_type_spec(values: pd.Series) -> tuple[str, str]:
    """The draft spec of an activity file's type column holding ``values``, and its comment:
    ``replace:`` for each value another name of a contract type, and which types will count
    only as other activity."""
    seen = [v for v in values.value_counts().index if v != ""]
    replace = {v: _BY_NAME[activity_type_key(v)] for v in seen
               if activity_type_key(v) in _BY_NAME}
    other = [v for v in seen if v not in replace and activity_type_key(v) not in ACTIVITY_TYPES]
    spec = "{as: activity_type}"
    if replace:
        pairs = ", ".join(f"{_quote(k)}: {v}" for k, v in replace.items())
        spec = f"{{as: activity_type, replace: {{{pairs}}}}}"
    if not other:
        return spec, ""
    shown = ", ".join(other[:6]) + (f" and {len(other) - 6} more" if len(other) > 6 else "")
    return spec, (f"{shown} count only together, as other activity: map those that mean one of "
                  f"{', '.join(ACTIVITY_TYPES)} with replace:")


def _quote(text: str) -> str:
    return text if text.replace(" ", "").isalnum() else json.dumps(text, ensure_ascii=False)


DETAIL_TOKENS = frozenset({"attribute", "page", "url", "form", "asset", "detail", "link"})
"""Words naming the column of a log that says which page, form or asset an event was about
(Marketo's "Primary Attribute Value")."""
DETAIL_PATTERNS = (("*pricing*", "pricing_view"), ("*demo*", "demo_request"))
"""What a page's or form's name says of a visit or a form fill: a pricing page, a demo form."""


def _with_detail(file: FileProfile, spec: str) -> str:
    """``spec`` with ``replace_by:`` on the log's detail column, where some of its values name a
    pricing page or a demo form: a visit to the pricing page is a pricing_view, a demo request
    form's fill a demo_request, where the type column says only "Visit Webpage", "Fill Out
    Form"."""
    for column in file.columns:
        if column.kind not in ("categorical", "text") or column.personal or not (
                name_tokens(column.name) & DETAIL_TOKENS):
            continue
        values = file.frame[column.name].str.lower()
        found = [(p, kind) for p, kind in DETAIL_PATTERNS
                 if values.str.contains(p.strip("*"), regex=False).any()]
        if found:
            pairs = ", ".join(f"{json.dumps(p)}: {kind}" for p, kind in found)
            return f"{spec[:-1]}, replace_by: {{{_quote(column.name)}: {{{pairs}}}}}}}"
    return spec


def propose_activities(file: FileProfile, key: Column) -> None:
    """An activity file's roles: its key, the first date as occurred_at, a type-like category
    (else the first category) as activity_type; every other column is passed over."""
    dates = [c for c in file.columns if c.kind == "date"]
    types = [c for c in file.columns if c.kind == "categorical" and not c.personal]
    # "Type" before "Subject": a subject is typed by people ("Call with ...") where a type is
    # the CRM's own code
    typed = next((c for token in TYPE_TOKENS for c in types if token in name_tokens(c.name)),
                 types[0] if types else None)
    for column in file.columns:
        if column is key:
            column.role = column.spec = "key"
        elif dates and column is dates[0]:
            column.role, column.spec = "occurred_at", "{as: occurred_at}"
        elif column is typed:
            column.role = "activity_type"
            column.spec, column.note = activity_type_spec(file.frame[column.name])
            column.spec = _with_detail(file, column.spec)
        else:
            column.role, column.spec = "ignore", "ignore"


LATE_SHARE = 0.5
"""An activity file most of whose events come after their lead's scoring moment is said to teach
the model nothing."""


def events_after_scoring(file: FileProfile, key: Column, main: FileProfile,
                         lead_id: str | None) -> str | None:
    """The sentence for an activity file whose events mostly come after their lead's creation,
    where the main file maps no MQL date: a lead is then scored at its creation, and intent
    features count only events up to that moment (``features.intent``), so the log (a Marketo
    lead list's activity log, every event after the lead was created) teaches nothing. None
    where an MQL date is mapped, or most events come before."""
    specs = {c.name: c.spec for c in main.columns}
    created = next((n for n, s in specs.items() if s == "{role: timestamp, as: created_at}"),
                   None)
    occurred = next((c.name for c in file.columns if c.spec == "{as: occurred_at}"), None)
    if (lead_id is None or created is None or occurred is None
            or any("as: mql_at" in s for s in specs.values())):
        return None
    born = main.frame.drop_duplicates(lead_id).set_index(lead_id)[created]
    when = instants(file.frame[occurred])
    start = instants(file.frame[key.name].map(born).fillna(""))
    known = when.notna() & start.notna()
    if known.sum() == 0:
        return None
    later = int((when[known] > start[known]).sum())
    if later / known.sum() < LATE_SHARE:
        return None
    return (f"{file.path.name}: {later:,} of its {int(known.sum()):,} events "
            f"({later / known.sum():.0%}) come after their lead's {created}, the moment a lead "
            "is scored where no MQL date is mapped, and features count only what came before "
            "it: the model learns nothing from them; if the export holds the day each lead "
            "became an MQL (or was handed to sales), map that column {role: timestamp, as: "
            "mql_at}, so that each lead is scored then")
