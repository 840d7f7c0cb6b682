"""Against a real `bentoml serve serving.service:LeadScorer` subprocess."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.serving.conftest import AUTH
from tests.serving.leads import EMAIL, NAME, lead, score_body, unusual_leads

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def test_a_batch_is_scored_in_order_with_every_field(http, registry):
    leads = [lead(f"L-{i}") for i in range(20)] + unusual_leads()
    response = http.post("/score", json=score_body(leads), headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_version"] == registry.version
    assert [s["lead_id"] for s in body["scores"]] == [x["lead_id"] for x in leads]
    for score in body["scores"]:
        assert {"lead_id", "score", "fit_score", "intent_score", "grade", "is_mql",
                "reasons"} == set(score)
    assert body["scores"][0]["reasons"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
def test_no_key_or_a_wrong_key_is_401(http, headers):
    response = http.post("/score", json=score_body([lead()]), headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert http.get("/model", headers=headers).status_code == 401


@pytest.mark.parametrize(
    ("content", "status", "field"),
    [
        (score_body([lead(), lead(activities=[{"activity_type": "x", "occurred_at": "later"}])]),
         422, "leads[1].activities[0].occurred_at"),
        (score_body([lead(as_of=12.5e20)]), 422, "leads[0].as_of"),
        (score_body([{"title": "CEO"}]), 422, "leads[0].lead_id"),
        (score_body([lead(activities={"a": 1})]), 422, "leads[0].activities"),
        ({"leads": [lead()], "reason": True}, 422, "<key>"),  # a client key is never echoed
        (score_body([lead(str(i)) for i in range(1001)]), 413, "leads"),
        (b'{"leads": [{"lead_id": "a"}', 400, None),
        (b"[]", 422, None),
    ],
)
def test_each_bad_input_class_is_its_4xx(http, content, status, field):
    raw = content if isinstance(content, bytes) else json.dumps(content).encode()
    response = http.post("/score", content=raw,
                         headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]
    assert body.get("field") == field
    assert "Traceback" not in response.text


def test_an_oversized_body_is_413(http):
    raw = b'{"leads": [{"lead_id": "' + b"x" * 2_100_000 + b'"}]}'
    headers = {**AUTH, "Content-Type": "application/json"}
    response = http.post("/score", content=raw, headers=headers)
    assert response.status_code == 413


def test_health_metrics_and_model(http, registry):
    assert http.get("/livez").status_code == 200
    assert http.get("/readyz").status_code == 200
    metrics = http.get("/metrics")
    assert metrics.status_code == 200 and "bentoml_service_request" in metrics.text
    info = http.get("/model", headers=AUTH)
    assert info.status_code == 200 and info.json()["version"] == registry.version


def test_no_email_or_name_reaches_the_log(http, server):
    marker = "zq-" + EMAIL
    leads = [lead("pii-1", email=marker, first_name=NAME, last_name=NAME)]
    assert http.post("/score", json=score_body(leads), headers=AUTH).status_code == 200
    # e-mails in wrongly typed fields: validation fails, the values must not be logged
    for bad in (lead("pii-2", as_of=marker), lead("pii-3", email=[marker], first_name=[NAME]),
                lead("pii-4", activities=[{"activity_type": marker, "occurred_at": marker}])):
        response = http.post("/score", json=score_body([bad]), headers=AUTH)
        assert response.status_code == 422
        assert marker not in response.text
    response = http.post("/score", content=b'{"leads": [{"lead_id": "' + marker.encode() + b'"',
                         headers=AUTH)
    assert response.status_code == 400
    assert http.post("/score", json=score_body([lead(email=marker)]),
                     headers={"Authorization": "Bearer " + marker}).status_code == 401
    time.sleep(0.5)
    log = server.log()
    assert marker not in log and EMAIL not in log
    assert NAME not in log
    assert "example-corp" not in log
