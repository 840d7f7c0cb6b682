"""Sample request bodies for the serving tests."""

from __future__ import annotations

from typing import Any

EMAIL = "jane.doe@example-corp.test"
NAME = "Zephyrine"


def lead(lead_id: str = "L-1", **extra: Any) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "created_at": "2026-10-20T09:00:00Z",
        "source": "Webinar",
        "title": "VP Marketing",
        "company_size": "201-1000",
        "industry": "Software",
        "country": "US",
        "email": EMAIL,
        "first_name": NAME,
        "campaign": "q4",
        "activities": [
            {"activity_type": "pricing_view", "occurred_at": "2026-10-30T10:00:00Z"},
            {"activity_type": "demo_request", "occurred_at": "2026-10-31T16:20:00Z"},
        ],
        "as_of": "2026-11-01T00:00:00Z",
        **extra,
    }


def unusual_leads() -> list[dict[str, Any]]:
    """Input that is odd but valid: every one must be scored."""
    return [
        {"lead_id": "bare"},
        lead("unknown-categories", title="Chief Vibes Officer",
             industry="Underwater basket weaving", country="Atlantis", source="carrier pigeon",
             company_size="a few", email=None, email_domain="gmail.com"),
        lead("no-activities", activities=[]),
        lead("future-activity", activities=[
            {"activity_type": "demo_request", "occurred_at": "2027-01-01T00:00:00Z"}]),
        lead("odd-activity", activities=[
            {"activity_type": "Trade Show Booth Visit", "occurred_at": "2026-10-01"}]),
        lead("placeholders", title="Select", company_size="N/A", country="", industry="null"),
        lead("attributes", attributes={"Lead Origin": "API", "TotalVisits": 3.0, "flag": True,
                                       "none": None}),
        lead("numbers", company_size=250, lead_time=3),
    ]


def score_body(leads: list[dict[str, Any]], reasons: bool = True) -> dict[str, Any]:
    return {"leads": leads, "reasons": reasons}
