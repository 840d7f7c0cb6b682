"""The MLflow pyfunc face of a scoring bundle: what ``mlflow models serve`` and ``spark_udf`` run.

A review cycle logs every model as ``LeadScorePyfunc`` with the bundle folder as the artifact
``bundle``. Its ``predict`` takes a DataFrame of lead rows, the same fields the API takes:

    lead_id, created_at, source, title, company_size, industry, country, email_domain (or email)
    activities   optional: a JSON string (or list) of {"activity_type", "occurred_at"}
    attributes   optional: a JSON string (or dict) of the store's extra lead columns; extra
                 columns of the frame itself are read as attributes too
    as_of        optional: the scoring moment (ISO-8601); missing means now

and returns one row per lead: ``score`` (the calibrated probability of becoming an SQL, not a class
label), ``fit_score``, ``intent_score``, ``grade`` and ``is_mql``. Features are built by
``features.build.build_online_many`` and encoded by the bundle's own encoder, exactly as the API
does, with the feature config (windows, ICP lists) saved in the bundle's manifest.

An e-mail address is reduced to its domain by feature building and never returned.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd

from features.build import LeadFeatureError, OnlineBatch, online_many_builder
from features.scoring import ScoringBundle
from leadscore.errors import LeadscoreError

OUTPUT_COLUMNS = ("score", "fit_score", "intent_score", "grade", "is_mql")
FEATURE_CONFIG_SECTIONS = ("features", "icp")


def feature_config(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The feature-building config a bundle was trained with (``manifest["feature_config"]``)."""
    stored = manifest.get("feature_config") or {}
    return {section: stored[section] for section in FEATURE_CONFIG_SECTIONS if section in stored}


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
    """Rows of a lead frame as ``build_online`` takes them (missing values as None, JSON parsed)."""
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


def encode_records(
    bundle: ScoringBundle,
    records: Sequence[Mapping[str, Any]],
    *,
    now: datetime | None = None,
) -> tuple[np.ndarray, OnlineBatch]:
    """Build and encode the leads' features; return the matrix and the raw feature values.

    Each record's ``as_of`` is its scoring moment; a record without one is scored at ``now``
    (default: the current time).

    Raises:
        LeadscoreError: naming the row when a lead's ``as_of`` or an activity is malformed.
    """
    manifest = bundle.manifest
    build = online_many_builder(feature_config(manifest), manifest.get("attribute_roles"))
    now = now or datetime.now(UTC)
    try:
        features = build(records, [record.get("as_of") or now for record in records])
    except LeadFeatureError as exc:
        raise LeadscoreError(f"Row {exc.index}: {exc}") from None
    return bundle.encoder.transform_columns(features.columns, len(features)), features


def score_records(bundle: ScoringBundle, X: np.ndarray) -> pd.DataFrame:
    """Scores of an encoded matrix as a frame with ``OUTPUT_COLUMNS``."""
    scored = bundle.score_encoded(X) if len(X) else []
    return pd.DataFrame(
        {
            "score": [s.score for s in scored],
            "fit_score": [s.fit_score for s in scored],
            "intent_score": [s.intent_score for s in scored],
            "grade": pd.Series([s.grade for s in scored], dtype=object),
            "is_mql": pd.Series([bool(s.is_mql) for s in scored], dtype=bool),
        },
        columns=list(OUTPUT_COLUMNS),
    )


class LeadScorePyfunc(mlflow.pyfunc.PythonModel):
    """A leadscore bundle as an MLflow ``python_function`` model (artifact ``bundle``)."""

    def load_context(self, context) -> None:
        self.bundle = ScoringBundle.load(context.artifacts["bundle"])

    # the pandas type hints tell MLflow to take the signature from the input example as is
    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        """Score a DataFrame of leads: calibrated probabilities, grade and MQL flag per row."""
        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame(model_input)
        X, _ = encode_records(self.bundle, lead_records(model_input))
        return score_records(self.bundle, X)
