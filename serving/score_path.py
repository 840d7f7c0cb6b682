"""Scoring validated leads with one served model: each lead as a record (with the attribute
columns it sent at its top level, respelled as the model learned them), scored through the one
scoring path (``ScoringBundle.score_records``), as the ``ScoreResponse`` payload. The service
(``serving.service``) wires it to the endpoints; this holds no BentoML.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from features.lead_fields import LEAD_FIELDS, misnamed, misnamed_rule
from features.online import LeadFeatureError
from features.text_rules import attribute_number_problem, numeric_attribute_columns
from scoring.spellings import learned_spellings, respelled
from serving.champion import ServedModel
from serving.gateway import RequestRejected
from serving.schemas import Lead, attribute_value


def lead_record(lead: Lead) -> dict[str, Any]:
    """A validated lead as feature building takes it: its fields (contract fields, activities as
    plain ``{activity_type, occurred_at}`` dicts, attributes, as_of), read in place."""
    return vars(lead)


def with_flat_attributes(records: list[dict[str, Any]], leads: Sequence[Lead],
                         columns: Sequence[str]) -> list[dict[str, Any]]:
    """``records`` with each attribute the model learned from that a lead sent at its top level
    (``"lead_origin": "API"`` beside ``title``), as a batch file's column is read: one rule for
    both paths, and ``attributes`` wins when a lead sends both (``features.online``).

    Raises:
        RequestRejected: 422 naming ``leads[i].<column>`` when such a value is not an attribute
            value (text, a number, true/false or null).
    """
    out = list(records)
    for i, lead in enumerate(leads):
        values = flat_attribute_values(i, lead, columns)
        if values:
            out[i] = {**out[i], **values}  # a new dict: never the lead's own __dict__
            stored = out[i].get("attributes")
            if stored:
                # a score by id merged the stored attributes into ``attributes``: a value sent
                # now wins over them (sent fields win), only the lead's own ``attributes`` over it
                sent = lead.attributes or {}
                out[i]["attributes"] = {k: v for k, v in stored.items()
                                        if k in sent or k not in values or values[k] is None}
    return out


def flat_attribute_values(i: int, lead: Lead, columns: Sequence[str]) -> dict[str, Any]:
    """The attribute columns of the model that lead ``i`` sent at its top level, as attribute
    values, after refusing a near-miss of a field's name (``refuse_misnamed``).

    Raises:
        RequestRejected: 422 naming ``leads[i].<column>`` for a value no attribute may hold.
    """
    refuse_misnamed_attributes(i, lead, columns)
    extra = lead.__pydantic_extra__
    if not extra:
        return {}
    refuse_misnamed(i, lead, columns)
    values = {}
    for column in columns:
        if column in extra and column not in Lead.model_fields:
            try:
                values[column] = attribute_value(extra[column])
            except ValueError as exc:
                raise RequestRejected(422, f"leads[{i}].{column}: {exc}.",
                                      f"leads[{i}].{column}") from None
    return values


def refuse_misnamed(i: int, lead: Lead, columns: Sequence[str]) -> None:
    """A 422 for an unknown field of lead ``i`` that differs from a lead field or an attribute
    column of the model only in case or punctuation (``Title``): batch refuses such a column too
    (``features.lead_fields``). The name is shown: it is a known name, written differently.

    Raises:
        RequestRejected: naming ``leads[i].<field as sent>`` and the name to use.
    """
    for given, meant in misnamed(lead.__pydantic_extra__, (*LEAD_FIELDS, *columns)):
        # beside the exact name ("title", or "Lead Origin" in attributes) it is only noise
        if meant not in lead.model_fields_set and meant not in (lead.attributes or {}):
            raise RequestRejected(422, f"leads[{i}].{given}: {misnamed_rule(meant)}.",
                                  f"leads[{i}].{given}")


def refuse_misnamed_attributes(i: int, lead: Lead, columns: Sequence[str]) -> None:
    """``refuse_misnamed`` for the keys of ``attributes``: ``{"totalvisits": 5}`` was ignored in
    silence and the lead scored as if it had no visits, while a batch column of that name is
    refused. A key beside the exact name (sent in ``attributes`` or at the top level) is noise.

    Raises:
        RequestRejected: naming ``leads[i].attributes.<key as sent>`` and the name to use.
    """
    sent = lead.attributes
    if not sent or not columns:
        return
    for given, meant in misnamed(sent, columns):
        if meant not in (lead.__pydantic_extra__ or {}):
            raise RequestRejected(422, f"leads[{i}].attributes.{given}: "
                                       f"{misnamed_rule(meant)}.", f"leads[{i}].attributes.{given}")


def refuse_no_numbers(records: Sequence[dict[str, Any]], numeric_columns: Sequence[str],
                      leads: Sequence[Lead]) -> None:
    """A 422 for the first lead whose numeric attribute is text that is no number
    (``features.text_rules.NUMBER_RULE``): feature building would read it as missing, and the
    lead would be scored as if the CRM had left it blank. Batch scoring and Spark refuse such a
    row with the same sentence (``scoring.pyfunc``). A value the request did not send came from
    a store (a lead scored by id): the sentence says so, and how to replace it.

    Raises:
        RequestRejected: naming ``leads[i].<column>`` (or ``leads[i].attributes.<column>``), or
            ``leads[i]`` for a stored value.
    """
    if not numeric_columns:
        return
    for i, record in enumerate(records):
        found = attribute_number_problem(record, numeric_columns)
        if not found:
            continue
        field, problem = found
        column = field.removeprefix("attributes.")
        if column in (leads[i].attributes or {}) or column in (leads[i].__pydantic_extra__ or {}):
            raise RequestRejected(422, f"leads[{i}].{field}: {problem}.", f"leads[{i}].{field}")
        raise RequestRejected(
            422, f"leads[{i}]: its stored {column} is text that reads as no number, and the "
            "model learned this column as a number: send the number in this request, or post "
            "the lead with it (POST /events) to replace the stored value.", f"leads[{i}]")


def stored_flat_attributes(leads: list[Lead], columns: Sequence[str]) -> list[Lead]:
    """Lead upserts with each top-level field named like an attribute column of the served model
    moved into ``attributes`` (which wins when both hold it), so ``POST /events`` stores what
    ``POST /score`` would read (``with_flat_attributes``); other unknown fields are never stored.

    Raises:
        RequestRejected: 422 naming ``leads[i].<column>`` for a value no attribute may hold.
    """
    out = leads
    for i, lead in enumerate(leads):
        values = flat_attribute_values(i, lead, columns)
        if not values:
            continue
        out = list(out) if out is leads else out
        out[i] = lead.model_copy(update={"attributes": {**values, **(lead.attributes or {})}})
    return out


def score_payload(
    model: ServedModel,
    leads: Sequence[Lead],
    *,
    reasons: bool,
    top_reasons: int,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Score validated leads with one model, in order: the ``ScoreResponse`` as plain JSON data.

    Raises:
        RequestRejected: 422 when feature building refuses a lead (the message names it).
    """
    return score_leads(model, leads, [lead_record(lead) for lead in leads], reasons=reasons,
                       top_reasons=top_reasons, now=now)[0]


def score_leads(
    model: ServedModel,
    leads: Sequence[Lead],
    records: Sequence[dict[str, Any]],
    *,
    reasons: bool,
    top_reasons: int,
    now: datetime | None = None,
) -> tuple[dict[str, Any], list[str] | None, list[str] | None]:
    """``score_payload`` of leads given as records (a lead with its stored history merged in),
    and each lead's feature hash and feature bins for the score log."""
    now = now or datetime.now(UTC)
    records = with_flat_attributes(records, leads, model.bundle.attribute_columns)
    refuse_no_numbers(records, numeric_attribute_columns(model.bundle.manifest["features"]),
                      leads)
    # JSON true and "TRUE" read as the "True" the model learned (scoring.spellings)
    records = respelled(records, learned_spellings(model.bundle))
    try:
        scored = model.bundle.score_records(
            records, [lead.as_of or now for lead in leads],
            top_reasons=top_reasons if reasons else 0,
        )
    except LeadFeatureError as exc:
        raise RequestRejected(422, f"leads[{exc.index}]: {exc}", f"leads[{exc.index}]") from None
    explained = scored.reasons or [()] * len(leads)
    return {
        "model_version": model.version,
        "threshold": model.threshold,
        "scores": [
            {
                "lead_id": lead.lead_id,
                "score": round(score, 6),
                "fit_score": round(fit_score, 6),
                "intent_score": round(intent_score, 6),
                "grade": grade,
                "is_mql": is_mql,
                "reasons": [r.as_dict() for r in lead_reasons],
            }
            for lead, score, fit_score, intent_score, grade, is_mql, lead_reasons in zip(
                leads, scored.score.tolist(), scored.fit_score.tolist(),
                scored.intent_score.tolist(), scored.grade, scored.is_mql.tolist(), explained,
                strict=True,
            )
        ],
    }, scored.feature_hash, scored.feature_bins
