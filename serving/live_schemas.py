"""Request and response models of the live loop's endpoints: ``/events``, ``/dispositions``,
``/outcomes``. Same policy as ``serving.schemas``: strict top level, no value in an error."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from serving.schemas import (
    MAX_ACTIVITIES,
    MAX_LEADS,
    EventTime,
    KeyText,
    Lead,
    LeadIdText,
    Listed,
    Text,
    Timestamp,
)

MAX_ATTEMPTS = 10_000
"""More contact attempts than any rep makes: a larger number is a wrong field (and past 2**63
no database column holds it: it was answered with the 503 of a store that is down)."""
_STRICT = ConfigDict(hide_input_in_errors=True, extra="forbid", coerce_numbers_to_str=True)
_ROW = ConfigDict(hide_input_in_errors=True, extra="ignore", coerce_numbers_to_str=True)
LeadId = Annotated[LeadIdText, Field(description="The CRM's id of the lead.",
                                     examples=["00Q5e00001AbCdE"])]


class LeadActivity(BaseModel):
    """One activity of a lead, as web tracking or marketing automation sends it."""

    model_config = _ROW

    lead_id: LeadId
    activity_type: Annotated[KeyText, Field(min_length=1, description="What the lead did.",
                                         examples=["pricing_view"])]
    occurred_at: EventTime = Field(description="When (ISO 8601; no zone means UTC).",
                                   examples=["2026-10-30T10:00:00Z"])


class EventsRequest(BaseModel):
    """Lead upserts and activities; each stored once by its natural key."""

    model_config = _STRICT

    leads: Listed(Lead, max_items=MAX_LEADS) = Field(
        default_factory=list,
        description=(f"0 to {MAX_LEADS:,} lead upserts (null: none): the fields sent replace "
                     "the stored ones (others are kept); a lead's `activities` are stored with "
                     "it; `as_of` is ignored; `email` is reduced to its domain and never "
                     "stored."),
    )
    activities: Listed(LeadActivity, max_items=MAX_ACTIVITIES) = Field(
        default_factory=list,
        description=(f"0 to {MAX_ACTIVITIES:,} activities (null: none), keyed by (lead, time, "
                     "type)."),
    )


class Disposition(BaseModel):
    """A rep's verdict on a lead, as the CRM's webhook sends it."""

    model_config = _ROW

    lead_id: LeadId
    dispositioned_at: Timestamp = Field(description="When the rep decided.",
                                        examples=["2026-11-03T15:00:00Z"])
    status: Annotated[KeyText, Field(min_length=1, description="The disposition status.",
                                  examples=["rejected"])]
    reason_code: Text | None = Field(default=None, description="Its reason code, if any.",
                                     examples=["wrong_title"])
    rep_id: Text | None = Field(default=None, description="The rep's id.", examples=["rep-17"])
    attempts: int | None = Field(default=None, ge=0, le=MAX_ATTEMPTS,
                                 description="Contact attempts.", examples=[2])
    first_touch_at: Timestamp | None = Field(default=None, description="First contact.",
                                             examples=["2026-11-02T10:00:00Z"])


class DispositionsRequest(BaseModel):
    """Verdicts, checked against the label policy; keyed by (lead, time, status)."""

    model_config = _STRICT

    dispositions: list[Disposition] = Field(min_length=1, max_length=MAX_LEADS,
                                            description=f"1 to {MAX_LEADS:,} verdicts.")


class Outcome(BaseModel):
    """A lead reaching a pipeline stage."""

    model_config = _ROW

    lead_id: LeadId
    stage: Annotated[KeyText, Field(min_length=1, description="The stage (sql, opportunity, ...).",
                                 examples=["sql"])]
    occurred_at: Timestamp = Field(description="When.", examples=["2026-11-05T12:00:00Z"])
    amount: float | None = Field(default=None, allow_inf_nan=False,
                                 description="Deal amount, if any.", examples=[12000.0])


class OutcomesRequest(BaseModel):
    """Outcomes, checked against the label policy; keyed by (lead, stage)."""

    model_config = _STRICT

    outcomes: list[Outcome] = Field(min_length=1, max_length=MAX_LEADS,
                                    description=f"1 to {MAX_LEADS:,} outcomes.")


class StoredCounts(BaseModel):
    """Distinct rows of the request by natural key (a repeat within the request counts once)."""

    model_config = ConfigDict(hide_input_in_errors=True)

    leads: int = Field(description="Leads (by lead id).", examples=[1])
    activities: int = Field(description="Activities (by lead, time and type).", examples=[1])
    dispositions: int = Field(description="Verdicts (by lead, time and status).", examples=[0])
    outcomes: int = Field(description="Outcomes (by lead and stage).", examples=[0])


class Stored(BaseModel):
    """What was committed (durably) before this answer: each count is of what the request carried,
    every item of it stored (a repeat by natural key once); ``new`` and ``already_stored`` split
    its distinct rows by whether the store held their key before (a retried batch is all
    ``already_stored``)."""

    model_config = ConfigDict(hide_input_in_errors=True)

    leads: int = Field(description="Lead upserts received (several of one lead are folded into "
                                   "its one stored row, in order).", examples=[1])
    activities: int = Field(description="Activities received (a repeat is stored once).",
                            examples=[2])
    dispositions: int = Field(description="Verdicts received (a repeat of one lead, time and "
                                          "status is stored once).", examples=[0])
    outcomes: int = Field(description="Outcomes received (a repeat of one lead and stage is "
                                      "stored once).", examples=[0])
    new: StoredCounts = Field(description=(
        "Of the distinct rows received, those whose key the store did not hold: new leads, "
        "new activities, first verdicts and outcomes of their key."),
        examples=[{"leads": 1, "activities": 1, "dispositions": 0, "outcomes": 0}])
    already_stored: StoredCounts = Field(description=(
        "Of the distinct rows received, those whose key the store held already: an activity "
        "is kept as it was; a lead's sent fields, a verdict or an outcome replace the stored "
        "ones. A retried request counts here."),
        examples=[{"leads": 0, "activities": 1, "dispositions": 0, "outcomes": 0}])
