"""The service through ``Service.to_asgi()`` and Starlette's TestClient, and called directly."""

from __future__ import annotations

import asyncio
import json

import pytest
from mlflow.tracking import MlflowClient

from serving.schemas import Lead, ScoreResponse
from tests.serving.conftest import AUTH
from tests.serving.leads import EMAIL, NAME, lead, score_body, unusual_leads

SCORE_FIELDS = {"lead_id", "score", "fit_score", "intent_score", "grade", "is_mql", "reasons",
                "changes"}


def test_scores_every_lead_in_order_with_all_fields(api, registry):
    leads = [lead(f"L-{i}") for i in range(3)] + unusual_leads()
    response = api.post("/score", json=score_body(leads), headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_version"] == registry.version
    assert 0 < body["threshold"] < 1
    assert [s["lead_id"] for s in body["scores"]] == [x["lead_id"] for x in leads]
    for score in body["scores"]:
        assert set(score) == SCORE_FIELDS
        assert 0 <= score["score"] <= 1 and 0 <= score["fit_score"] <= 1
        assert score["grade"][0] in "ABCD" and score["grade"][1] in "1234"
        assert score["is_mql"] == (score["score"] >= body["threshold"])
    reasons = body["scores"][0]["reasons"]
    assert 0 < len(reasons) <= 5
    assert {r["group"] for r in reasons} <= {"fit", "intent"}
    assert all(r["label"] and isinstance(r["impact"], float) for r in reasons)
    impacts = [abs(r["impact"]) for r in reasons]
    assert impacts == sorted(impacts, reverse=True)
    assert EMAIL not in response.text and NAME not in response.text
    # serialised straight from plain data, the body must still be a ScoreResponse, field for field
    assert ScoreResponse.model_validate_json(response.content).model_dump(mode="json") == body
    assert response.headers["content-length"] == str(len(response.content))


def test_reasons_false_gives_the_same_scores_without_reasons(api):
    with_reasons = api.post("/score", json=score_body([lead()]), headers=AUTH).json()
    without = api.post("/score", json=score_body([lead()], reasons=False), headers=AUTH).json()
    assert without["scores"][0]["reasons"] == []
    assert without["scores"][0]["score"] == with_reasons["scores"][0]["score"]


def test_activities_after_as_of_are_ignored(api):
    plain = lead("a", activities=[])
    future = lead("a", activities=[{"activity_type": "demo_request",
                                    "occurred_at": "2026-12-01T00:00:00Z"}])
    scores = [api.post("/score", json=score_body([x], False), headers=AUTH).json()["scores"][0]
              for x in (plain, future)]
    assert scores[0]["score"] == scores[1]["score"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": "testkey"}])
def test_score_and_model_need_a_key(api, headers):
    for response in (api.post("/score", json=score_body([lead()]), headers=headers),
                     api.get("/model", headers=headers)):
        assert response.status_code == 401
        assert "error" in response.json()


def test_health_and_docs_are_open(api):
    assert api.get("/livez").status_code == 200
    assert api.get("/readyz").status_code == 200
    assert api.get("/docs.json").status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (score_body([lead(), lead(activities=[{"activity_type": "x", "occurred_at": EMAIL}])]),
         422, "leads[1].activities[0].occurred_at"),
        (score_body([lead(as_of="yesterday-ish")]), 422, "leads[0].as_of"),
        (score_body([lead(company_size={"employees": 5})]), 422, "leads[0].company_size"),
        (score_body([lead(email=[EMAIL])]), 422, "leads[0].email"),
        ({"leads": [lead()], "extra": 1}, 422, "<key>"),  # a client key is never echoed
        (score_body([lead(str(i)) for i in range(1001)]), 413, "leads"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field_without_echoing_it(api, body, status, field):
    response = api.post("/score", json=body, headers=AUTH)
    assert response.status_code == status
    assert response.json()["field"] == field
    assert EMAIL not in response.text


def test_malformed_json_oversized_body_and_wrong_media_type(api):
    assert api.post("/score", content=b'{"leads": [', headers=AUTH).status_code == 400
    padded = [lead(title="x" * 990, campaign="y" * 990) for _ in range(999)]
    big = json.dumps(score_body(padded)).encode()
    assert len(big) > 2_000_000
    response = api.post("/score", content=big, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 413 and "bytes" in response.json()["error"]
    response = api.post("/score", content=b"leads", headers={**AUTH, "Content-Type": "image/png"})
    assert response.status_code == 415
    # curl -d without a Content-Type header still works
    form = api.post("/score", content=json.dumps(score_body([lead()])).encode(),
                    headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 200


def test_model_endpoint_describes_the_champion(api, registry):
    response = api.get("/model", headers=AUTH)
    assert response.status_code == 200
    info = response.json()
    assert info["version"] == registry.version and info["cycle"] == "2026-W44"
    assert info["band"] == {"min": 0.25, "max": 0.5}
    assert "n_pricing_view_30d" in info["feature_groups"]["intent"]
    assert "seniority" in info["feature_groups"]["fit"]
    assert 0 < info["metrics"]["roc_auc"] <= 1
    # the served refit's own calibration error, the one its version's tag records and the
    # calibration gate judged, beside the judged challenger's
    client = MlflowClient(tracking_uri=registry.tracking_uri, registry_uri=registry.tracking_uri)
    tags = client.get_model_version("leadscore", registry.version).tags
    assert tags["refit"] == "true"
    assert f"{info['deployed_metrics']['ece']:.4f}" == tags["deployed.ece"]
    assert f"{info['metrics']['ece']:.4f}" != tags["deployed.ece"]


def test_openapi_document_has_descriptions_examples_and_errors(api):
    doc = api.get("/docs.json").json()
    schemas = doc["components"]["schemas"]
    lead_props = schemas["Lead"]["properties"]
    assert all(p.get("description") for p in lead_props.values())
    assert lead_props["lead_id"]["examples"]
    assert schemas["ScoreRequest"]["additionalProperties"] is False
    score = doc["paths"]["/score"]["post"]
    assert {"200", "401", "413", "422", "503"} <= set(map(str, score["responses"]))
    assert score["requestBody"]["content"]["application/json"]["example"]["leads"]
    assert doc["paths"]["/model"]["get"]["responses"]
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_without_keys_only_loopback_clients_are_answered(open_api_factory):
    local = open_api_factory("127.0.0.1")
    assert local.post("/score", json=score_body([lead()])).status_code == 200
    remote = open_api_factory("203.0.113.9")
    response = remote.post("/score", json=score_body([lead()]))
    assert response.status_code == 403 and "LEADSCORE_API_KEYS" in response.json()["error"]
    assert remote.get("/readyz").status_code == 200


def test_without_a_champion_score_and_readiness_say_so(modelless_api):
    response = modelless_api.post("/score", json=score_body([lead()]), headers=AUTH)
    assert response.status_code == 503
    assert "leadscore review" in response.json()["error"]
    assert modelless_api.get("/model", headers=AUTH).status_code == 503
    assert modelless_api.get("/readyz").status_code == 503
    assert modelless_api.get("/livez").status_code == 200


def test_the_class_can_be_called_directly(registry, monkeypatch):
    from serving.service import LeadScorer, serving_config

    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry.tracking_uri)
    monkeypatch.setenv("LEADSCORE_RELOAD_INTERVAL_S", "60")
    serving_config.cache_clear()
    scorer = LeadScorer()
    try:
        assert scorer.__is_ready__()
        response = asyncio.run(scorer.score(leads=[Lead.model_validate(lead())], reasons=True))
        assert response.status_code == 200 and response.media_type == "application/json"
        result = ScoreResponse.model_validate_json(response.body)
        assert result.scores[0].lead_id == "L-1" and result.scores[0].reasons
        assert scorer.model_info().version == registry.version
    finally:
        scorer.stop_watching()
        serving_config.cache_clear()


def test_the_endpoint_takes_the_request_the_gateway_validated(api, monkeypatch):
    import bentoml

    from serving.service import LeadScorer, ScoreInput

    assert LeadScorer.apis["score"].input_spec is ScoreInput

    def parse_again(*args, **kwargs):
        raise AssertionError("BentoML parsed a body the gateway had already validated")

    # BentoML's own reading of a body: what GatewayInput skips when the gateway validated it
    monkeypatch.setattr(bentoml.IODescriptor, "from_http_request", classmethod(parse_again))
    response = api.post("/score", json=score_body([lead(), lead("L-2")], False), headers=AUTH)
    assert response.status_code == 200, response.text
    assert [s["lead_id"] for s in response.json()["scores"]] == [lead()["lead_id"], "L-2"]


def test_the_wire_reason_has_the_fields_of_the_scoring_reason():
    import dataclasses

    from scoring.reasons import Reason as ScoringReason
    from serving.schemas import Reason as WireReason

    assert [f.name for f in dataclasses.fields(ScoringReason)] == list(WireReason.model_fields)
    reason = ScoringReason("seniority", "Title seniority: VP", "fit", 0.1234567)
    assert WireReason(**reason.as_dict()).model_dump() == reason.as_dict()


@pytest.mark.parametrize(("path", "model"), [("/events", "EventsRequest"),
                                             ("/dispositions", "DispositionsRequest"),
                                             ("/outcomes", "OutcomesRequest")])
def test_every_live_loop_route_documents_a_request_example_its_schema_accepts(api, path, model):
    from serving import live_schemas

    operation = api.get("/docs.json").json()["paths"][path]["post"]
    body = operation["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": f"#/components/schemas/{model}"}
    example = body["example"]
    request = getattr(live_schemas, model).model_validate(example)  # the example is valid
    assert any(getattr(request, name) for name in type(request).model_fields)
    assert {"200", "401", "422", "503"} <= set(map(str, operation["responses"]))


def test_readiness_documents_its_503_and_the_body_it_sends(api, modelless_api):
    from serving.gateway import NOT_READY

    responses = api.get("/docs.json").json()["paths"]["/readyz"]["get"]["responses"]
    assert set(map(str, responses)) == {"200", "503"}
    documented = responses["503"]["content"]["application/json"]
    assert documented["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
    answered = modelless_api.get("/readyz")
    assert answered.status_code == 503
    assert answered.json() == documented["example"] == {"error": NOT_READY}
