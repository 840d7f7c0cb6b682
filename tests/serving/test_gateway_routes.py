"""The gateway's route table: every POST route of a service is validated and scrubbed alike.

A service grows a new POST route (here ``/verdicts``, with its own Pydantic model) and does
nothing else: the gateway, built from ``post_routes(service)``, authenticates it, rejects bad
bodies with a 4xx naming the field and never the value, keeps the value out of every log, and
hands the validated model to the endpoint.
"""

from __future__ import annotations

import logging
from typing import Literal

import bentoml
from pydantic import BaseModel, ConfigDict, Field
from starlette.testclient import TestClient

from serving.gateway import Gateway, post_routes
from serving.service import GatewayInput, LeadScorer, ScoreInput
from tests.serving.conftest import _forget_bentoml_metrics

EMAIL = "jane.doe@example-corp.test"
KEY = "route-test-key"
RECEIVED: list[str] = []


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    lead_id: str = Field(max_length=100)
    reason_code: Literal["meeting_booked", "no_budget", "wrong_title"]
    attempts: int = Field(default=0, ge=0)


class VerdictInput(GatewayInput, Verdict):
    pass


@bentoml.service(name="verdicts-test")
class WithVerdicts:
    @bentoml.api(route="/verdicts", input_spec=VerdictInput)
    def verdicts(self, lead_id: str, reason_code: str, attempts: int = 0) -> dict:
        RECEIVED.append(lead_id)
        return {"lead_id": lead_id, "reason_code": reason_code}


WithVerdicts.add_asgi_middleware(Gateway, keys=(KEY,), routes=post_routes(WithVerdicts))


def test_every_route_of_the_scoring_service_is_in_the_gateways_table():
    (gateway, options), = LeadScorer.middlewares
    assert gateway is Gateway
    assert options["routes"] == post_routes(LeadScorer)
    assert {api.route for api in LeadScorer.apis.values()} == set(options["routes"])
    assert options["routes"]["/score"].model is ScoreInput


def test_a_new_post_route_gets_the_gateways_validation_and_scrubbing(caplog):
    _forget_bentoml_metrics()
    caplog.set_level(logging.DEBUG)
    auth = {"Authorization": f"Bearer {KEY}"}
    with TestClient(WithVerdicts.to_asgi(), raise_server_exceptions=False) as client:
        ok = client.post("/verdicts", json={"lead_id": "L1", "reason_code": "no_budget"},
                         headers=auth)
        assert ok.status_code == 200 and ok.json() == {"lead_id": "L1",
                                                       "reason_code": "no_budget"}
        assert RECEIVED == ["L1"]

        wrong = client.post("/verdicts", headers=auth,
                            json={"lead_id": "L2", "reason_code": EMAIL, "attempts": EMAIL})
        assert wrong.status_code == 422
        body = wrong.json()
        assert body["field"] == "reason_code"
        assert {e["field"] for e in body["errors"]} == {"reason_code", "attempts"}
        extra = client.post("/verdicts", headers=auth,
                            json={"lead_id": "L3", "reason_code": "no_budget", "email": EMAIL})
        assert extra.status_code == 422 and extra.json()["field"] == "email"
        assert "`lead_id`, `reason_code` and `attempts`" in extra.json()["error"]
        assert client.post("/verdicts", headers=auth, content=b'{"lead_id": ').status_code == 400
        assert client.post("/verdicts", json={"lead_id": "L4", "reason_code": "no_budget"}
                           ).status_code == 401
        assert client.post("/elsewhere", headers=auth, json={}).status_code == 404

    assert RECEIVED == ["L1"]  # nothing rejected reached the endpoint
    for response in (wrong, extra):
        assert EMAIL not in response.text
    assert EMAIL not in caplog.text


def test_a_path_off_by_a_slash_or_case_is_told_the_route_it_means():
    """A webhook's base URL ending in "/" posts to //verdicts; a copied URL keeps a trailing
    slash. Both were "No such endpoint: see /docs.json" with no hint; the sent path is still
    never repeated."""
    _forget_bentoml_metrics()
    auth = {"Authorization": f"Bearer {KEY}"}
    with TestClient(WithVerdicts.to_asgi(), raise_server_exceptions=False) as client:
        for path in ("/verdicts/", "/Verdicts"):
            response = client.post(path, headers=auth, json={})
            assert response.status_code == 404
            assert response.json()["error"].startswith(
                "No such endpoint: did you mean POST /verdicts? Paths are exact")
        other = client.post(f"/{EMAIL}/", headers=auth, json={})
        assert other.json()["error"] == "No such endpoint: see /docs.json for the API."
