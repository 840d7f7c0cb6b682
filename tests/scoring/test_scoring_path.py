"""One scoring path: the API, the MLflow pyfunc and `leadscore score` score a lead alike, also with
a bundle logged before manifests carried their feature config."""

from __future__ import annotations

import json
from datetime import datetime

import mlflow
import numpy as np
import pandas as pd
import pytest

from scoring.bundle import ScoringBundle, feature_config
from scoring.pyfunc import LeadScorePyfunc, lead_records
from serving.champion import ServedModel
from serving.schemas import ScoreRequest
from serving.score_path import score_payload
from tests.training.made_up import made_up_leads, train_tiny_bundle
from training.batch_score import score_chunk
from training.review import input_example


@pytest.fixture(scope="module")
def older_bundle_dir(tmp_path_factory):
    """A bundle whose manifest has no ``feature_config`` (as bundles logged before it had)."""
    bundle = train_tiny_bundle()
    del bundle.manifest["feature_config"]
    return bundle.save(tmp_path_factory.mktemp("older") / "bundle")


def test_an_older_manifest_builds_the_same_features_in_the_api_and_the_pyfunc(
    older_bundle_dir, tmp_path
):
    leads = made_up_leads(40, seed=11)
    # the API: the worker's loaded bundle, leads validated as the gateway validates them
    served = ServedModel("leadscore", "1", ScoringBundle.load(older_bundle_dir))
    request = ScoreRequest.model_validate_json(json.dumps({"leads": leads}))
    api = score_payload(served, request.leads, reasons=True, top_reasons=3)
    # the pyfunc, saved and loaded by MLflow as `spark_udf` would load it
    mlflow.pyfunc.save_model(
        str(tmp_path / "model"), python_model=LeadScorePyfunc(),
        artifacts={"bundle": str(older_bundle_dir)},
        input_example=input_example(datetime(2026, 10, 1)), pip_requirements=["mlflow"],
    )
    pyfunc = mlflow.pyfunc.load_model(str(tmp_path / "model"))
    frame = pd.DataFrame(leads)
    frame["activities"] = frame["activities"].map(json.dumps)
    out = pyfunc.predict(frame)

    np.testing.assert_allclose(out["score"], [s["score"] for s in api["scores"]], atol=5e-7)
    assert list(out["grade"]) == [s["grade"] for s in api["scores"]]
    # the features themselves, value for value, from the two loaded bundles
    loaded = pyfunc.unwrap_python_model().bundle
    records = lead_records(frame)
    by_pyfunc = loaded.build_features(records, [r["as_of"] for r in records])
    by_api = served.bundle.build_features([vars(lead) for lead in request.leads],
                                          [lead.as_of for lead in request.leads])
    pd.testing.assert_frame_equal(pd.DataFrame(by_pyfunc.records()),
                                  pd.DataFrame(by_api.records()))
    assert loaded.feature_config == served.bundle.feature_config
    # batch scoring (`leadscore score`) takes the same path and gives the same reasons
    batch = score_chunk(loaded, frame, now=datetime(2026, 10, 1), top=3)
    assert [json.loads(r) for r in batch["reasons"]] == [s["reasons"] for s in api["scores"]]


def test_feature_config_fills_what_an_older_manifest_lacks_with_the_shipped_defaults():
    from leadscore.config import default_config

    defaults = default_config()
    assert feature_config({"features": [{"name": "x"}]}) == {
        "features": defaults["features"], "icp": defaults["icp"]}
    stored = {"feature_config": {"icp": {"regions": ["europe"]}}}
    assert feature_config(stored) == {"icp": {"regions": ["europe"]},
                                      "features": defaults["features"]}
    legacy = {"config": {"features": {"windows_days": [7]}}, "icp": {"regions": ["apac"]}}
    assert feature_config(legacy) == {"features": {"windows_days": [7]},
                                      "icp": {"regions": ["apac"]}}
