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
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd

from features.online import LeadFeatureError
from leadscore.errors import LeadscoreError
from scoring.bundle import Scores, ScoringBundle


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return value is pd.NaT or value is pd.NA


def _json_field(value: Any, field: str, row: int) -> Any:
    if _missing(value):
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise LeadscoreError(
                f"Row {row}: {field} is not valid JSON: send a JSON list or object."
            ) from None
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def lead_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a lead frame as ``features.online`` takes them (missing as None, JSON parsed)."""
    records = []
    for i, row in enumerate(frame.to_dict(orient="records")):
        record = {str(k): (None if _missing(v) else v) for k, v in row.items()}
        record["activities"] = _json_field(record.get("activities"), "activities", i)
        record["attributes"] = _json_field(record.get("attributes"), "attributes", i)
        for key in ("created_at", "as_of"):
            if isinstance(record.get(key), pd.Timestamp):
                record[key] = record[key].to_pydatetime()
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
        LeadscoreError: naming the row when a lead's ``as_of``, activities or attributes are
            malformed.
    """
    records = lead_records(frame)
    now = now or datetime.now(UTC)
    try:
        return bundle.score_records(records, [r.get("as_of") or now for r in records],
                                    top_reasons=top_reasons)
    except LeadFeatureError as exc:
        raise LeadscoreError(f"Row {exc.index}: {exc}") from None


class LeadScorePyfunc(mlflow.pyfunc.PythonModel):
    """A leadscore bundle as an MLflow ``python_function`` model (artifact ``bundle``)."""

    def load_context(self, context) -> None:
        self.bundle = ScoringBundle.load(context.artifacts["bundle"])

    # the pandas type hints tell MLflow to take the signature from the input example as is
    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        """Score a DataFrame of leads: calibrated probabilities, grade and MQL flag per row."""
        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame(model_input)
        return score_lead_frame(self.bundle, model_input).frame()
