"""The pyfunc model: MLflow loads it and returns probabilities equal to the bundle's own scores."""

from __future__ import annotations

import json
from datetime import datetime

import mlflow
import numpy as np
import pandas as pd
import pytest

from scoring.bundle import OUTPUT_COLUMNS
from scoring.pyfunc import LeadScorePyfunc, lead_records
from tests.training.made_up import made_up_leads, train_tiny_bundle
from training.review import input_example
from training.tournament import ModelChoice


@pytest.fixture(scope="module")
def tiny_bundle():
    return train_tiny_bundle()


def test_saved_pyfunc_scores_like_the_bundle(tiny_bundle, tmp_path):
    bundle_dir = tiny_bundle.save(tmp_path / "bundle")
    mlflow.pyfunc.save_model(
        str(tmp_path / "model"), python_model=LeadScorePyfunc(),
        artifacts={"bundle": str(bundle_dir)},
        input_example=input_example(datetime(2026, 10, 1)), pip_requirements=["mlflow"],
    )
    model = mlflow.pyfunc.load_model(str(tmp_path / "model"))
    leads = pd.DataFrame(made_up_leads(30, seed=5))
    leads["activities"] = leads["activities"].map(json.dumps)
    leads["email"] = "someone@gmail.com"  # reduced to its domain by feature building

    out = model.predict(leads)

    assert list(out.columns) == list(OUTPUT_COLUMNS) and len(out) == len(leads)
    assert out["score"].dtype == np.float64
    assert out["score"].between(0, 1).all() and out["score"].nunique() > 2  # not class labels
    # the bundle's own numbers for the same leads, built and encoded by hand
    records = lead_records(leads)
    features = tiny_bundle.build_features(records, [r["as_of"] for r in records])
    frame = pd.DataFrame({n: features.columns[n] for n in tiny_bundle.feature_names})
    expected = tiny_bundle.score_encoded(tiny_bundle.encoder.transform(frame))
    np.testing.assert_allclose(out["score"], expected.score, rtol=1e-12)
    assert list(out["grade"]) == expected.grade
    assert not out.astype(str).apply(lambda c: c.str.contains("@")).any().any()


@pytest.mark.parametrize("family", ["logistic", "blend"])
def test_every_family_serves_through_the_pyfunc_with_reasons_that_add_up(family, tmp_path):
    bundle = train_tiny_bundle(ModelChoice(family, C=0.1, bins=6, blend_weight=0.5))
    assert bundle.family == family
    mlflow.pyfunc.save_model(
        str(tmp_path / "model"), python_model=LeadScorePyfunc(),
        artifacts={"bundle": str(bundle.save(tmp_path / "bundle"))},
        input_example=input_example(datetime(2026, 10, 1)), pip_requirements=["mlflow"],
    )
    leads = pd.DataFrame(made_up_leads(20, seed=6))
    leads["activities"] = leads["activities"].map(json.dumps)
    out = mlflow.pyfunc.load_model(str(tmp_path / "model")).predict(leads)
    records = lead_records(leads)
    as_ofs = [r["as_of"] for r in records]
    expected = bundle.score_records(records, as_ofs, top_reasons=3)
    np.testing.assert_allclose(out["score"], expected.score, rtol=1e-12)
    assert all(len(r) > 0 for r in expected.reasons)
    features = bundle.build_features(records, as_ofs)
    X = bundle.encoder.transform_columns(features.columns, len(features))
    np.testing.assert_allclose(bundle.contributions(X).sum(axis=1), bundle.margins(X)["full"],
                               atol=1e-6)


def test_lead_records_parse_json_and_blank_missing_values():
    frame = pd.DataFrame({"lead_id": ["a", "b"], "title": ["VP", np.nan],
                          "activities": ['[{"activity_type": "page_view", '
                                         '"occurred_at": "2026-01-01T00:00:00"}]', None],
                          "attributes": ['{"x": 1}', ""]})
    first, second = lead_records(frame)
    assert first["activities"][0]["activity_type"] == "page_view"
    assert first["attributes"] == {"x": 1}
    assert second["title"] is None and second["activities"] is None
    assert second["attributes"] is None
