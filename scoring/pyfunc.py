"""The MLflow pyfunc face of a scoring bundle: what ``mlflow models serve`` and ``spark_udf`` run.

A review cycle logs every model as ``LeadScorePyfunc`` with the bundle folder as the artifact
``bundle``. Its ``predict`` takes a DataFrame of lead rows, the same fields the API takes:

    lead_id, created_at, source, title, company_size, industry, country, email_domain (or email)
    activities   optional: a JSON string (or list) of {"activity_type", "occurred_at"}
    attributes   optional: a JSON string (or dict) of the store's extra lead columns; extra
                 columns of the frame itself are read as attributes too
    as_of        optional: the scoring moment (ISO-8601); missing means now

and returns one row per lead: ``score`` (the calibrated probability of becoming an SQL, not a class
label), ``fit_score``, ``intent_score``, ``grade`` and ``is_mql``, through the one scoring path
the API and ``leadscore score`` use (``ScoringBundle.score_records``), with the feature config
(windows, ICP lists) saved in the bundle's manifest.

An e-mail address is reduced to its domain by feature building and never returned.

The logged signature (``output_signature``) has no input schema, so MLflow passes the frame as
sent (an int ``lead_id``, an all-NaN column, a pandas Timestamp, every column) and ``predict``
takes or refuses each value as ``leadscore score`` does, in one sentence that names the row and
field, never the values. On Spark, pass the columns by name:
``df.withColumn("out", mlflow.pyfunc.spark_udf(spark, uri)(struct(*df.columns)))``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature, infer_signature

from features.lead_fields import LEAD_FIELDS, misnamed, misnamed_rule
from features.online import LeadFeatureError
from features.text_rules import (
    ACTIVITIES_RULE,
    ACTIVITY_RULE,
    ATTRIBUTES_RULE,
    LEAD_ID_RULE,
    MAX_ATTRIBUTE_NAME,
    MAX_TEXT,
    attribute_number_problem,
    key_problem,
    numeric_attribute_columns,
    text_problem,
)
from features.timestamps import TIMESTAMP_RULE, TimestampError, parse_timestamp
from leadscore.errors import LeadscoreError
from scoring.bundle import Scores, ScoringBundle
from scoring.spellings import learned_spellings, respelled


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return value is pd.NaT or value is pd.NA


class LeadRowError(LeadscoreError):
    """Lead ``index`` (0-based) of a frame was refused; ``detail`` names the field and the fix.

    The message counts rows from 1, as a person counts a file's rows (the header not counted).
    """

    def __init__(self, index: int, detail: str) -> None:
        super().__init__(f"Row {index + 1}: {detail}")
        self.index = index
        self.detail = detail


def _json_field(value: Any, field: str, row: int) -> Any:
    if _missing(value):
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise LeadRowError(row, f"{field} is not valid JSON: send a JSON list or object.") \
                from None
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


TIMESTAMPS = ("created_at", "mql_at", "as_of")
"""A lead's own timestamps, read and refused by the API's rule (``features.timestamps``)."""
TEXT_FIELDS = ("lead_id", "source", "title", "company_size", "industry", "country", "email",
               "email_domain", "campaign")
"""The contract's text fields, held to the API's text rule (``features.text_rules``)."""


def _text_problems(record: dict[str, Any], attribute_columns: Sequence[str],
                   numeric_columns: Sequence[str] = ()) -> str | None:
    """``field: problem`` of the first value the API would refuse, or None (the API's rule:
    contract fields, every activity type, every attribute, the model's attribute columns)."""
    for field in TEXT_FIELDS:
        value = record.get(field)
        if value is None or (type(value) is str and len(value) <= MAX_TEXT  # the usual: fine
                             and "\x00" not in value):
            problem = None
        else:
            problem = text_problem(value)
        if not problem and field == "lead_id":
            problem = key_problem(value)  # scores are logged (indexed) by it
        if problem:
            return f"{field}: {problem}"
    for column in attribute_columns:
        problem = text_problem(record.get(column), attribute=True)
        if problem:
            return f"{column}: {problem}"
    attributes = record.get("attributes")
    if isinstance(attributes, dict):
        for key, value in attributes.items():
            # a key the model does not know is the client's: named as the API names it
            name = f"attributes.{key if key in attribute_columns else '<key>'}"
            problem = (text_problem(key, limit=MAX_ATTRIBUTE_NAME) if isinstance(key, str)
                       else None) or text_problem(value, attribute=True)
            if problem:
                return f"{name}: {problem}"
    activities = record.get("activities")
    if isinstance(activities, list):
        for j, item in enumerate(activities):
            problem = text_problem(item.get("activity_type")) if isinstance(item, dict) else None
            if problem:
                return f"activities[{j}].activity_type: {problem}"
    found = attribute_number_problem(record, numeric_columns) if numeric_columns else None
    return f"{found[0]}: {found[1]}" if found else None


def _activity_time(value: Any, row: int, j: int) -> datetime:
    try:
        return parse_timestamp(value)
    except TimestampError:
        raise LeadRowError(row, f"activities[{j}].occurred_at: {TIMESTAMP_RULE}.") from None


def lead_records(frame: pd.DataFrame, attribute_columns: Sequence[str] = (),
                 numeric_columns: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Rows of a lead frame as ``features.online`` takes them (missing as None, JSON parsed,
    timestamps parsed and text checked as the API parses and checks them).

    Args:
        frame: lead rows.
        attribute_columns: the model's attribute columns, checked as attributes where a row
            holds them (``ScoringBundle.attribute_columns``).
        numeric_columns: those it learned as numbers: text that is no number is refused
            (``features.text_rules.NUMBER_RULE``), as the API refuses it.

    Raises:
        LeadRowError: naming the row and the field of a malformed value.
    """
    records = []
    for i, row in enumerate(frame.to_dict(orient="records")):
        record = {str(k): (None if _missing(v) else v) for k, v in row.items()}
        record["activities"] = _json_field(record.get("activities"), "activities", i)
        record["attributes"] = _json_field(record.get("attributes"), "attributes", i)
        for key in TIMESTAMPS:
            value = record.get(key)
            if isinstance(value, str) and not value.strip():
                record[key] = None  # an empty text cell is no value, as "" is to the API
            elif value is not None:
                try:
                    record[key] = parse_timestamp(value)
                except TimestampError:
                    raise LeadRowError(i, f"{key}: {TIMESTAMP_RULE}.") from None
        activities, attributes = record["activities"], record["attributes"]
        if attributes is not None and not isinstance(attributes, dict):
            raise LeadRowError(i, f"attributes: {ATTRIBUTES_RULE}.")
        if activities is not None and not isinstance(activities, list):
            raise LeadRowError(i, f"activities: {ACTIVITIES_RULE}.")
        for j, item in enumerate(activities or ()):
            if not isinstance(item, dict):
                raise LeadRowError(i, f"activities[{j}]: {ACTIVITY_RULE}.")
        if activities:
            record["activities"] = [
                {**item, "occurred_at": _activity_time(item.get("occurred_at"), i, j)}
                for j, item in enumerate(activities)]
        problem = _text_problems(record, attribute_columns, numeric_columns)
        if problem:
            raise LeadRowError(i, f"{problem}.")
        records.append(record)
    return records


def score_lead_frame(
    bundle: ScoringBundle, frame: pd.DataFrame, *, now: datetime | None = None,
    top_reasons: int = 0,
) -> Scores:
    """Score a frame of lead rows through the one scoring path (``ScoringBundle.score_records``).

    Each row's ``as_of`` is its scoring moment; a row without one is scored at ``now`` (default:
    the current time).

    Raises:
        LeadRowError: naming the row when a lead's timestamps, activities or attributes are
            malformed.
    """
    records = respelled(lead_records(frame, bundle.attribute_columns,
                                     numeric_attribute_columns(bundle.manifest["features"])),
                        learned_spellings(bundle))
    now = now or datetime.now(UTC)
    try:
        return bundle.score_records(records, [r.get("as_of") or now for r in records],
                                    top_reasons=top_reasons)
    except LeadFeatureError as exc:
        raise LeadRowError(exc.index, str(exc)) from None


def output_signature(output: pd.DataFrame) -> ModelSignature:
    """The signature a review logs: ``output``'s columns (what ``spark_udf`` returns) and no input
    schema.

    MLflow enforces an input schema before ``predict`` runs and refuses with the frame's rows
    printed (e-mail addresses in a Spark job's log); one inferred from text columns refuses what
    the API and ``leadscore score`` take (an int ``lead_id``, an all-NaN column, a pandas
    Timestamp, Unix seconds), and any schema drops the columns it does not name (an attribute
    column, a misnamed ``Title``). So ``predict`` gets the frame as sent and checks it by the
    API's rules; the input example still shows the columns.
    """
    return ModelSignature(inputs=None, outputs=infer_signature(output).inputs)


def check_frame(frame: pd.DataFrame, attribute_columns: Sequence[str]) -> None:
    """Refuse a frame as ``leadscore score`` refuses a file: without a ``lead_id`` column, with a
    blank id, or with a column named like a lead field or attribute column but for case or
    punctuation (``Title``: it would be ignored, every lead scored as if blank).

    Raises:
        LeadscoreError: naming the column; LeadRowError naming the first blank id's row.
    """
    if "lead_id" not in frame.columns:
        raise LeadscoreError("The leads have no lead_id column: every lead is scored by its "
                             "CRM id; name the column that holds each lead's id lead_id and "
                             "score them again.")
    found = misnamed([str(c) for c in frame.columns], (*LEAD_FIELDS, *attribute_columns))
    if found:
        given, meant = found[0]
        raise LeadscoreError(f"The leads' column {given}: {misnamed_rule(meant)}; rename the "
                             "column and score them again.")
    for i, value in enumerate(frame["lead_id"].tolist()):
        if _missing(value) or not str(value).strip():
            raise LeadRowError(i, f"lead_id: {LEAD_ID_RULE}.")


class LeadScorePyfunc(mlflow.pyfunc.PythonModel):
    """A leadscore bundle as an MLflow ``python_function`` model (artifact ``bundle``)."""

    def load_context(self, context) -> None:
        self.bundle = ScoringBundle.load(context.artifacts["bundle"])

    # the logged signature (output_signature) has no input schema: every value checked here
    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        """Score a DataFrame of leads: calibrated probabilities, grade and MQL flag per row.

        Raises:
            LeadscoreError: one sentence naming a malformed lead's row and field, as
                ``leadscore score`` refuses it (never the lead's values).
        """
        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame(model_input)
        check_frame(model_input, self.bundle.attribute_columns)
        return score_lead_frame(self.bundle, model_input).frame()
