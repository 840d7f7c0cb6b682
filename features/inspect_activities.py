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
        else:
            column.role, column.spec = "ignore", "ignore"
