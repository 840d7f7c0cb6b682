"""Case and space variants of a category ("Google", "google ", "GOOGLE") are one category: trained
as one, spelled as the most frequent variant, and scored alike by the API (the real ASGI app),
`leadscore score` on a file and the pyfunc, for an export's column and for the lead source."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from leadscore.config import default_config
from tests.serving.conftest import API_KEY, AUTH, _asgi_client, sqlite_uri
from tests.serving.model_factory import attribute_bundle, log_bundle
from training.batch_score import score_file

ROLES = {"Lead Channel": ("fit", "categorical")}
FEATURE = "attr_lead_channel"
AS_OF = "2026-10-01T00:00:00Z"
BASE = {"title": "VP Marketing", "company_size": "201-1000", "country": "US",
        "activities": [], "as_of": AS_OF}
# how an export spells the two channels; "Google" is the most frequent spelling
SPELLINGS = {"google": ("Google", "Google", "Google", "google ", "GOOGLE"),
             "other": ("Referral", "referral")}
SOURCES = ("Google", "google", "GOOGLE ", "Webinar")


def _channel_bundle():
    """Leads from the Google channel convert far more often, however it was spelled."""

    def fill(lead, rng):
        lead["attributes"] = {"Lead Channel": rng.choice(SPELLINGS[rng.choice(("google",
                                                                              "other"))])}
        lead["source"] = rng.choice(SOURCES)

    return attribute_bundle(
        ROLES, fill, lambda lead: lead["attributes"]["Lead Channel"].strip().lower() == "google",
        seed=7, cycle="tiny-channel")


@pytest.fixture(scope="module")
def champion(tmp_path_factory) -> tuple[str, Path, object]:
    work = tmp_path_factory.mktemp("variants")
    bundle = _channel_bundle()
    bundle_dir = Path(bundle.save(work / "bundle"))
    uri = sqlite_uri(work / "mlruns")
    log_bundle(bundle_dir, uri)
    return uri, bundle_dir, bundle


@pytest.fixture(scope="module")
def api(champion) -> Iterator:
    yield from _asgi_client(champion[0], API_KEY)


SENT = {"learned": "Google", "lower-space": "google ", "upper": "GOOGLE", "mixed": " gOOgle",
        "referral": "REFERRAL"}


def test_variants_train_as_one_category_spelled_as_the_most_frequent(champion):
    bundle = champion[2]
    assert bundle.encoder.categories_[FEATURE] == ["Google", "Referral"]
    assert "google" in bundle.encoder.categories_["source"]  # the source feature's own form
    assert len(bundle.encoder.categories_["source"]) == 2  # google and webinar, nothing else


def test_every_variant_scores_as_the_learned_category_by_api_file_and_pyfunc(api, champion,
                                                                             tmp_path,
                                                                             monkeypatch):
    leads = [{"lead_id": name, **BASE, "source": "Webinar", "Lead Channel": value}
             for name, value in SENT.items()]
    leads += [{"lead_id": f"source-{i}", **BASE, "source": source,
               "Lead Channel": "Google"} for i, source in enumerate(SOURCES[:3])]
    response = api.post("/score", headers=AUTH, json={"leads": leads, "reasons": True})
    assert response.status_code == 200, response.text
    scores = {s["lead_id"]: s for s in response.json()["scores"]}
    score = {name: s["score"] for name, s in scores.items()}
    for name in ("lower-space", "upper", "mixed"):
        assert score[name] == score["learned"], name
    assert score["learned"] > score["referral"]  # the column matters to this model
    assert score["source-1"] == score["source-0"] and score["source-2"] == score["source-0"]
    # a reason names the category as the model learned it, not as this lead spelled it
    labels = [r["label"] for r in scores["upper"]["reasons"] if r["feature"] == FEATURE]
    assert labels == ["Lead Channel: Google"]
    assert not any("GOOGLE" in r["label"] for r in scores["upper"]["reasons"])

    rows = pd.DataFrame([{"lead_id": name, **{k: v for k, v in BASE.items() if k != "activities"},
                          "source": "Webinar", "Lead Channel": value}
                         for name, value in SENT.items()])
    rows.to_csv(tmp_path / "leads.csv", index=False)
    score_file(tmp_path / "leads.csv", tmp_path / "scores.csv", default_config(),
               str(champion[1]), workers=1)
    batch = pd.read_csv(tmp_path / "scores.csv").set_index("lead_id")["score"]
    for name in SENT:
        assert abs(batch[name] - score[name]) < 1e-6, name  # the API rounds to 6 decimals

    monkeypatch.setenv("MLFLOW_TRACKING_URI", champion[0])
    model = mlflow.pyfunc.load_model("models:/leadscore@champion")
    frame = rows.assign(activities=json.dumps([]), as_of=AS_OF)
    by_pyfunc = model.predict(frame)["score"].to_numpy()
    np.testing.assert_allclose(by_pyfunc, batch[list(SENT)].to_numpy(), atol=1e-6)
