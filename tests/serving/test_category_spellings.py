"""JSON true, "TRUE" and a file's "True" are one category at scoring time: through the real ASGI
app and through `leadscore score` on a CSV file, against a tiny real bundle that learned the
spellings "True" / "False" of an export column (as ingest stores a CSV's text)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from leadscore.config import default_config
from tests.serving.conftest import API_KEY, AUTH, _asgi_client, sqlite_uri
from tests.serving.model_factory import attribute_bundle, log_bundle
from training.batch_score import score_file

ROLES = {"Opted In": ("fit", "categorical")}
AS_OF = "2026-10-01T00:00:00Z"
BASE = {"title": "VP Marketing", "company_size": "201-1000", "country": "US",
        "source": "webinar", "activities": [], "as_of": AS_OF}


def _opted_in_bundle():
    """Opted-in leads ("True", as the export spelled it) convert far more often."""

    def fill(lead, rng):
        lead["attributes"] = {"Opted In": rng.choice(("True", "False"))}

    return attribute_bundle(ROLES, fill, lambda lead: lead["attributes"]["Opted In"] == "True",
                            seed=5, cycle="tiny-opted-in")


@pytest.fixture(scope="module")
def champion(tmp_path_factory) -> tuple[str, Path]:
    work = tmp_path_factory.mktemp("spellings")
    bundle_dir = Path(_opted_in_bundle().save(work / "bundle"))
    uri = sqlite_uri(work / "mlruns")
    log_bundle(bundle_dir, uri)
    return uri, bundle_dir


@pytest.fixture(scope="module")
def api(champion) -> Iterator:
    yield from _asgi_client(champion[0], API_KEY)


SENT = {"json-true": True, "TRUE": "TRUE", "true": "true", "yes": "Yes", "learned": "True",
        "json-false": False, "FALSE": "FALSE", "learned-false": "False", "new": "Maybe"}


def test_json_booleans_and_a_files_spellings_score_as_the_learned_category(api, champion,
                                                                          tmp_path):
    leads = [{"lead_id": name, **BASE, "Opted In": value} for name, value in SENT.items()]
    leads.append({"lead_id": "nested-true", **BASE, "attributes": {"Opted In": True}})
    response = api.post("/score", headers=AUTH, json={"leads": leads})
    assert response.status_code == 200, response.text
    score = {s["lead_id"]: s["score"] for s in response.json()["scores"]}

    for name in ("json-true", "TRUE", "true", "yes", "nested-true"):
        assert score[name] == score["learned"], name
    for name in ("json-false", "FALSE"):
        assert score[name] == score["learned-false"], name
    assert score["learned"] > score["learned-false"]  # the column matters to this model
    # a value the model never learned goes one way of its split: read as sent, the spellings of
    # the other way would score as it does, so that side proves they were respelled
    other = "learned-false" if score["new"] == score["learned"] else "learned"
    assert score["new"] != score[other]

    rows = pd.DataFrame([{"lead_id": name, **{k: v for k, v in BASE.items() if k != "activities"},
                          "Opted In": "TRUE" if name == "upper" else "True"}
                         for name in ("upper", "learned")])
    rows.to_csv(tmp_path / "leads.csv", index=False)
    score_file(tmp_path / "leads.csv", tmp_path / "scores.csv", default_config(),
               str(champion[1]), workers=1)
    batch = pd.read_csv(tmp_path / "scores.csv").set_index("lead_id")["score"]
    assert batch["upper"] == batch["learned"]
    assert abs(batch["learned"] - score["learned"]) < 1e-6  # the API rounds to 6 decimals
