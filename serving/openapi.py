"""The OpenAPI document of the scoring API, completed where BentoML cannot see.

BentoML documents the POST routes from their Pydantic signatures. What it cannot know:

* ``GET /model`` is served by a mounted Starlette app;
* the error answers come from ``serving.gateway`` (401, 403, 413, 415, 422, 503), all shaped as
  ``ErrorResponse``, not BentoML's generic 400/404/500; ``GET /readyz``'s 503 too;
* the bearer-key security scheme;
* a request example per POST route (Pydantic's model-level examples cannot ride on BentoML's
  component schemas, so they go on the request body).

``DocumentedService`` adds them to the document BentoML generates, so clients, the docs page and
contract tests (schemathesis) see the API as it behaves. Every POST route gets the gateway's
error answers and the bearer scheme, as every POST route gets the gateway's validation.

No private BentoML module is imported: the document is the public ``Service.openapi_spec``, and a
new path is made with the class of the paths already in it (``type(spec.paths["/score"])``), the
one place that relies on how BentoML builds that document.
"""

from __future__ import annotations

from typing import Any

import attrs
import bentoml

from leadscore import __version__
from serving.gateway import NOT_READY
from serving.live_schemas import DispositionsRequest, EventsRequest, OutcomesRequest, Stored
from serving.schemas import LEAD_EXAMPLE, ErrorResponse, ModelInfo, ScoreRequest, ScoreResponse

REF = "#/components/schemas/{model}"
DESCRIPTION = (
    "Lead scores with their reasons, from the champion model of the MLflow registry: `POST "
    "/score`, `GET /model`; and the live loop the next review cycle learns from: `POST /events`, "
    "`/dispositions`, `/outcomes`. Authenticate with `Authorization: Bearer <key>` (a key from "
    "the server's LEADSCORE_API_KEYS). Every error is JSON with an `error` sentence."
)
SECURITY = [{"bearerAuth": []}]

SCORE_ERRORS = {
    400: "The body is not valid JSON.",
    401: "Missing or wrong API key.",
    403: "The service runs without API keys and the caller is not on this machine.",
    413: "Body larger than `serving.max_body_bytes`, or more than 1,000 leads.",
    415: "The body is not JSON.",
    422: "A field has the wrong type or value; `field` names it (e.g. `leads[3].as_of`).",
    503: "No champion model is loaded yet (run `leadscore review`).",
}
UNUSED_SCHEMAS = frozenset({"TaskStatusResponse", "InvalidArgument", "NotFound",
                            "InternalServerError"})
MODEL_ERRORS = {401: SCORE_ERRORS[401], 403: SCORE_ERRORS[403], 503: SCORE_ERRORS[503]}
LIVE_ERRORS = {**SCORE_ERRORS,
               413: "Body larger than `serving.max_body_bytes`, or more items than the route "
                    "takes.",
               422: "A field has the wrong type or value, or a status, reason code or stage the "
                    "label policy does not know; `field` names it.",
               503: "The live store is off or not available; nothing was stored: retry later."}
LIVE_ROUTES: dict[str, tuple[type, str, dict[str, Any]]] = {
    "/events": (EventsRequest, "Store lead upserts and activities", {
        "leads": [{"lead_id": "00Q5e00001AbCdE", "created_at": "2026-10-28T14:02:00Z",
                   "title": "VP Marketing", "company_size": "201-1000", "country": "US",
                   "email_domain": "acme.io", "attributes": {"lead_origin": "Landing Page"}}],
        "activities": [{"lead_id": "00Q5e00001AbCdE", "activity_type": "pricing_view",
                        "occurred_at": "2026-10-30T10:00:00Z"}],
    }),
    "/dispositions": (DispositionsRequest, "Store reps' verdicts", {
        "dispositions": [{"lead_id": "00Q5e00001AbCdE", "dispositioned_at": "2026-11-03T15:00:00Z",
                          "status": "rejected", "reason_code": "wrong_title",
                          "rep_id": "rep-17", "attempts": 2,
                          "first_touch_at": "2026-11-02T10:00:00Z"}],
    }),
    "/outcomes": (OutcomesRequest, "Store outcomes", {
        "outcomes": [{"lead_id": "00Q5e00001AbCdE", "stage": "sql",
                      "occurred_at": "2026-11-05T12:00:00Z", "amount": 12000.0}],
    }),
}
"""Each live-loop route's body model, summary and request example (tests validate the example
against the model)."""


def _schemas(model: type) -> dict[str, Any]:
    mode = "serialization" if model in (ScoreResponse, ErrorResponse, ModelInfo, Stored) \
        else "validation"
    schema = model.model_json_schema(ref_template=REF, mode=mode)
    defs = schema.pop("$defs", {})
    return {model.__name__: schema, **defs}


def _json(ref_or_schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": ref_or_schema}}


def _error_responses(errors: dict[int, str]) -> dict[int, dict[str, Any]]:
    ref = {"$ref": REF.format(model="ErrorResponse")}
    return {status: {"description": text, "content": _json(ref)} for status, text in errors.items()}


def complete(spec: Any, post_paths: list[str] | None = None) -> Any:
    """Add ``GET /model``, the gateway's error answers and bearer auth to a BentoML spec.

    The request and response bodies are referenced by their own names (BentoML inlines copies
    titled ``...IODescriptor``), BentoML's unused generic error and task schemas are dropped, and
    the document is declared OpenAPI 3.1, the dialect Pydantic's JSON Schema is written in.
    """
    schemas = spec.components["schemas"]
    for name in [n for n in schemas if n.endswith("IODescriptor") or n in UNUSED_SCHEMAS]:
        del schemas[name]
    for model in (ScoreRequest, ScoreResponse, ErrorResponse, ModelInfo, Stored,
                  *(model for model, _, _ in LIVE_ROUTES.values())):
        schemas.update(_schemas(model))
    spec.components["securitySchemes"] = {
        "bearerAuth": {"type": "http", "scheme": "bearer",
                       "description": "A key from the server's LEADSCORE_API_KEYS."}
    }

    for path in post_paths or ["/score"]:
        operation = spec.paths[path].post
        operation["security"] = SECURITY
        operation["responses"] = {
            **{k: v for k, v in operation["responses"].items() if int(k) == 200},
            **_error_responses(SCORE_ERRORS),
        }

    score = spec.paths["/score"].post
    score["summary"] = "Score leads"
    score["requestBody"] = {
        "required": True,
        "content": {"application/json": {
            "schema": {"$ref": REF.format(model="ScoreRequest")},
            "example": {"leads": [LEAD_EXAMPLE], "reasons": True},
        }},
    }
    score["responses"] = {
        200: {"description": "Scores in request order.",
              "content": _json({"$ref": REF.format(model="ScoreResponse")})},
        **_error_responses(SCORE_ERRORS),
    }

    for path, (model, summary, example) in LIVE_ROUTES.items():
        if path not in spec.paths:
            continue
        operation = spec.paths[path].post
        operation["summary"] = summary
        operation["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": REF.format(model=model.__name__)}, "example": example}}}
        operation["responses"] = {
            200: {"description": "Stored (after a durable commit): what the request carried.",
                  "content": _json({"$ref": REF.format(model="Stored")})},
            **_error_responses(LIVE_ERRORS),
        }

    path_item = type(spec.paths["/score"])  # BentoML's PathItem, without its private module
    if "/readyz" in spec.paths:  # BentoML documents only its 200; the gateway answers the 503
        readyz = spec.paths["/readyz"].get
        spec.paths["/readyz"] = path_item(get={
            "tags": list(readyz.tags or ["Infrastructure"]),
            "description": readyz.description or "Readiness.",
            "responses": {
                200: {"description": "A champion is loaded: the worker scores."},
                503: {"description": "No champion model is loaded yet (GET /model says why).",
                      "content": {"application/json": {
                          "schema": {"$ref": REF.format(model="ErrorResponse")},
                          "example": {"error": NOT_READY}}}},
            },
        })

    spec.paths["/model"] = path_item(get={
        "summary": "The served model",
        "description": "The champion this worker serves: version, review cycle, training time, "
                       "MQL threshold, conversion band, features by group, headline metrics.",
        "tags": ["Service APIs"],
        "operationId": "leadscore__model",
        "security": SECURITY,
        "responses": {
            200: {"description": "The served model.",
                  "content": _json({"$ref": REF.format(model="ModelInfo")})},
            **_error_responses(MODEL_ERRORS),
        },
    })
    # BentoML's own title page (its badges, version "None" outside a built Bento) says nothing
    # of this API
    info = attrs.evolve(spec.info, version=__version__, description=DESCRIPTION)
    return attrs.evolve(spec, openapi="3.1.0", info=info)


class DocumentedService(bentoml.Service):
    """A BentoML service whose OpenAPI document also covers the gateway and ``GET /model``."""

    @property
    def openapi_spec(self) -> Any:
        return complete(super().openapi_spec, [api.route for api in self.apis.values()])
