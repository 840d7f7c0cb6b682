"""Response models of the scoring API (scores, reasons, changes, model info, errors).

What the API sends back, never validated from a client: their descriptions and examples are the
OpenAPI document's response schemas. ``hide_input_in_errors`` holds here too, so a bad value built
by a bug never reaches a log line. The request side lives in ``serving.schemas``, which re-exports
these names for its importers.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_OUTPUT = ConfigDict(hide_input_in_errors=True)


class Reason(BaseModel):
    """One signal behind a score."""

    model_config = _OUTPUT

    feature: str = Field(description="Feature name.", examples=["n_pricing_view_30d"])
    label: str = Field(
        description="Human-readable statement of the signal.",
        examples=["Viewed pricing 2 times in the last 30 days"],
    )
    group: Literal["fit", "intent"] = Field(
        description="`fit` (who the lead is) or `intent` (what the lead did).", examples=["intent"]
    )
    impact: float = Field(
        description="Signed contribution to the score's log-odds (positive raises the score).",
        examples=[0.412],
    )


class MovedReason(BaseModel):
    """A signal whose push on the score changed since the lead's previous score."""

    model_config = _OUTPUT

    feature: str = Field(description="Feature name.", examples=["n_pricing_view_7d"])
    label: str = Field(description="The signal as it reads now.",
                       examples=["Viewed pricing 2 times in the last 7 days"])
    impact_before: float = Field(description="Its impact in the previous score (0: not among "
                                 "that score's reasons).", examples=[0.0])
    impact_now: float = Field(description="Its impact now (0: not among this score's reasons).",
                              examples=[0.41])


class PreviousScore(BaseModel):
    """The lead's previous score, from the score log."""

    model_config = _OUTPUT

    score: float = Field(description="The previous score.", examples=[0.18])
    grade: str | None = Field(description="The previous grade.", examples=["B2"])
    model_version: str = Field(description="The model that gave it.", examples=["3"])
    scored_at: str = Field(description="When (ISO 8601, UTC).", examples=["2026-11-01T09:00:00Z"])


class Changes(BaseModel):
    """What changed since this lead was last scored."""

    model_config = _OUTPUT

    previous: PreviousScore | None = Field(
        description="The previous score; null for a lead scored for the first time.")
    moved: list[MovedReason] = Field(
        description="The reasons whose impact moved most since then, largest move first.")
    summary: str = Field(description="One line for a rep.",
                         examples=["Viewed pricing 2 times in the last 7 days; grade B2 -> A1"])


class LeadScore(BaseModel):
    """The scores of one lead."""

    model_config = _OUTPUT

    lead_id: str = Field(description="The lead's id, as sent.", examples=["00Q5e00001AbCdE"])
    score: float = Field(
        ge=0.0, le=1.0,
        description="Calibrated probability that the lead becomes an SQL.", examples=[0.37],
    )
    fit_score: float = Field(
        ge=0.0, le=1.0, description="Score from fit features alone.", examples=[0.52]
    )
    intent_score: float = Field(
        ge=0.0, le=1.0, description="Score from intent features alone.", examples=[0.31]
    )
    grade: str = Field(
        pattern=r"^[A-D][1-4]$",
        description="Fit letter (A best .. D) x intent digit (1 best .. 4).", examples=["B1"],
    )
    is_mql: bool = Field(description="`score >= threshold`.", examples=[True])
    reasons: list[Reason] = Field(
        description="Top signals, largest first; empty when `reasons` was false."
    )
    changes: Changes | None = Field(
        default=None,
        description="This lead's previous score and the reasons that moved since (null when the "
                    "live store is off).",
    )


class ScoreResponse(BaseModel):
    """Scores for every lead of the request, in request order."""

    model_config = _OUTPUT

    model_version: str = Field(
        description="Registry version of the model that scored this batch.", examples=["3"]
    )
    threshold: float = Field(description="The MQL threshold on `score`.", examples=[0.31])
    scores: list[LeadScore] = Field(description="One entry per lead, in request order.")


class Band(BaseModel):
    """The agreed MQL-to-SQL conversion band."""

    model_config = _OUTPUT

    min: float = Field(description="Lowest acceptable conversion.", examples=[0.25])
    max: float = Field(description="Highest acceptable conversion.", examples=[0.5])


class ModelInfo(BaseModel):
    """The champion model this worker is serving."""

    model_config = _OUTPUT

    model_name: str = Field(description="Registered model name.", examples=["leadscore"])
    version: str = Field(description="Registry version.", examples=["3"])
    cycle: str | None = Field(description="Review cycle that trained it.", examples=["2026-W44"])
    trained_at: str | None = Field(
        description="When it was trained (ISO 8601).", examples=["2026-11-01T06:12:09Z"]
    )
    threshold: float = Field(description="The MQL threshold on `score`.", examples=[0.31])
    band: Band | None = Field(description="The conversion band the threshold was set from.")
    feature_groups: dict[str, list[str]] = Field(
        description="Feature names by group (`fit`, `intent`).",
        examples=[{"fit": ["seniority", "company_size_band"], "intent": ["n_pricing_view_30d"]}],
    )
    metrics: dict[str, Any] = Field(
        description="Headline validation metrics of the review cycle: ranking and calibration of "
                    "the judged challenger (trained on the weeks before the validation cohort), "
                    "conversion and MQLs a week at the threshold of the served scores.",
        examples=[{"roc_auc": 0.81, "pr_auc": 0.44, "brier": 0.11}],
    )
    deployed_metrics: dict[str, Any] = Field(
        default_factory=dict,
        description="The same figures for this served version's own scores of the validation "
                    "cohort (a refit: its calibration cross-fitted there); `ece` is what the "
                    "calibration gate judged. Empty for a model from before the refit.",
        examples=[{"roc_auc": 0.80, "pr_auc": 0.43, "brier": 0.11, "ece": 0.02}],
    )
    loaded_at: str = Field(
        description="When this worker loaded it (ISO 8601).", examples=["2026-11-02T08:00:00Z"]
    )


class FieldError(BaseModel):
    """One problem with the request."""

    model_config = _OUTPUT

    field: str = Field(
        description="Path of the field.", examples=["leads[3].activities[0].occurred_at"]
    )
    error: str = Field(description="What is wrong.", examples=["Input should be a valid datetime"])


class ErrorResponse(BaseModel):
    """Every error the API returns: one sentence, and the field it is about when there is one."""

    model_config = _OUTPUT

    error: str = Field(
        description="What went wrong and what to do.",
        examples=["leads[3].activities[0].occurred_at: Input should be a valid datetime"],
    )
    field: str | None = Field(
        default=None, description="Path of the first bad field.",
        examples=["leads[3].activities[0].occurred_at"],
    )
    errors: list[FieldError] | None = Field(
        default=None, description="Every bad field found (at most 20)."
    )
