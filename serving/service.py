"""The scoring API: BentoML service ``LeadScorer`` (``bentoml serve serving.service:LeadScorer``).

Endpoints:
    POST /score   score 1..1,000 leads (fit, intent, grade, MQL flag, reasons, model version,
                  changes since the previous score); a lead the stores know can be sent by id
    POST /events /dispositions /outcomes   the live loop: activities and lead upserts, reps'
                  verdicts, outcomes; stored once by natural key, answered after a durable commit
    GET  /model   the champion this worker serves: version, cycle, threshold, band, features,
                  metrics
    GET  /livez /readyz /metrics /docs.json   BentoML's health, readiness, Prometheus (with the
                  monitor's gauges, ``serving.monitor_gauges``), OpenAPI

A request runs the one scoring path the pyfunc and ``leadscore score`` run,
``ScoringBundle.score_records``: features built by ``features.online``, encoded by the bundle's
fitted ``FeatureEncoder``, scored and explained by the bundle; pandas and scikit-learn are never
called per request. Every worker
loads the champion once (LightGBM on one thread) and follows the alias (``serving.champion``).

Settings (environment over the config file named by ``LEADSCORE_CONFIG``):
    LEADSCORE_API_KEYS            comma-separated API keys; unset = auth off, loopback clients only
    MLFLOW_TRACKING_URI           the registry (config ``mlflow.tracking_uri``)
    LEADSCORE_RELOAD_INTERVAL_S   seconds between looks at the alias (``serving.reload_interval_s``)
    LEADSCORE_WORKERS             worker processes (default: one per CPU core)
    LEADSCORE_LIVE_URL            the live store (config ``live.url``; docs/api.md)
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import traceback
from typing import Any, ClassVar

import anyio
import bentoml
import pydantic_core
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from features.live_store import LiveStoreUnavailable
from features.text_rules import numeric_attribute_columns
from leadscore.config import load_config
from leadscore.mlflow_store import relocate_store
from serving.auth import KEYS_ENV, api_keys
from serving.champion import ChampionWatcher, ServedModel
from serving.gateway import (
    INTERNAL_ERROR,
    VALIDATED_KEY,
    Gateway,
    RequestRejected,
    error_body,
    known_paths,
    post_routes,
)
from serving.live import LiveLoop
from serving.live_schemas import (
    Disposition,
    DispositionsRequest,
    EventsRequest,
    LeadActivity,
    Outcome,
    OutcomesRequest,
    Stored,
)
from serving.monitor_gauges import MonitorRefresher, champion_monitor
from serving.openapi import DocumentedService
from serving.paths import scrub_access_log
from serving.schemas import Lead, ModelInfo, ScoreRequest, ScoreResponse
from serving.score_path import (
    lead_record,
    refuse_no_numbers,
    score_leads,
    stored_flat_attributes,
    with_flat_attributes,
)
from serving.workers import note_worker_start, watch_parent

logger = logging.getLogger("leadscore.serving")

CONFIG_ENV = "LEADSCORE_CONFIG"
RELOAD_ENV = "LEADSCORE_RELOAD_INTERVAL_S"
WORKERS_ENV = "LEADSCORE_WORKERS"
INLINE_MAX_LEADS = {False: 100, True: 10}
"""Batches up to this size (without / with reasons) are scored on the event loop, larger ones in a
worker thread. 100 leads without reasons take about 3 ms. Handing them to a thread bought no
throughput (scoring holds the GIL) and cost tail latency: 100-lead requests at concurrency 4 had
a p99 of 245-322 ms in three of four runs of bench/bench_serving.py, against 24-47 ms on the
loop. Reasons (TreeSHAP) cost about 0.35 ms a lead, so with them only small batches stay on the
loop, which must keep answering health checks."""


@functools.cache
def serving_config() -> dict[str, Any]:
    """The leadscore config of this process (``LEADSCORE_CONFIG`` names the file, if any)."""
    return load_config(os.environ.get(CONFIG_ENV) or None)


def serving_settings() -> dict[str, Any]:
    return dict(serving_config().get("serving") or {})


def reload_interval_s(config: dict[str, Any]) -> float:
    raw = os.environ.get(RELOAD_ENV)
    try:
        value = float(raw) if raw else float(config["serving"]["reload_interval_s"])
    except (TypeError, ValueError, KeyError):
        value = 10.0
    return max(value, 0.05)


def _workers() -> int | str:
    """``LEADSCORE_WORKERS`` (a positive integer) or one worker per CPU core."""
    raw = os.environ.get(WORKERS_ENV, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else "cpu_count"


def json_response(payload: dict[str, Any]) -> Response:
    """A 200 with ``payload`` serialised by pydantic-core: one body with its Content-Length.

    BentoML would validate the payload into a ``ScoreResponse`` again and stream it out in
    chunks; the tests hold the payload to that schema instead (tests/serving/test_service_asgi.py
    and the schemathesis fuzz).
    """
    return Response(pydantic_core.to_json(payload), media_type="application/json")


class GatewayInput(bentoml.IODescriptor):
    """An input model as BentoML reads it: the request the gateway already validated.

    The gateway parses and validates every POST body against its route's model (with its clean,
    value-free 4xx errors) and passes the result in the ASGI scope; parsing the same body a second
    time would cost as much again. A request that did not come through the gateway is parsed as
    usual. Give every new route's input model this base (``class XInput(GatewayInput, X)``).
    """

    @classmethod
    async def from_http_request(cls, request: Request, serde: Any) -> Any:
        validated = request.scope.get(VALIDATED_KEY)
        if isinstance(validated, cls):
            return validated
        return await super().from_http_request(request, serde)


class ScoreInput(GatewayInput, ScoreRequest):
    """``POST /score``'s body: ``ScoreRequest``, at most ``max_leads`` leads."""

    batch_field: ClassVar[str] = "leads"
    body_example: ClassVar[str] = '{"leads": [{"lead_id": "..."}]}'


class EventsInput(GatewayInput, EventsRequest):
    """``POST /events``'s body."""

    body_example: ClassVar[str] = '{"activities": [{"lead_id": "...", ...}]}'


class DispositionsInput(GatewayInput, DispositionsRequest):
    """``POST /dispositions``'s body."""

    body_example: ClassVar[str] = '{"dispositions": [{"lead_id": "...", ...}]}'


class OutcomesInput(GatewayInput, OutcomesRequest):
    """``POST /outcomes``'s body."""

    body_example: ClassVar[str] = '{"outcomes": [{"lead_id": "...", ...}]}'


class StoredOutput(bentoml.IODescriptor, Stored):
    """What the live loop's endpoints answer after the commit."""


LIVE_UNAVAILABLE = ("The live store is not available (see the server log); the request was not "
                    "stored: retry later.")


class ScoreOutput(bentoml.IODescriptor, ScoreResponse):
    """``POST /score``'s answer as documented: ``ScoreResponse``. The endpoint sends it as JSON
    bytes it serialised itself (``json_response``), so its return type is ``Response``."""


async def _model_endpoint(request: Request) -> JSONResponse:
    """GET /model, served by a small Starlette app mounted beside the BentoML routes."""
    service = bentoml.get_current_service()
    return service.model_response()


model_routes = Starlette(routes=[Route("/model", _model_endpoint, methods=["GET"])])


@bentoml.asgi_app(model_routes, path="/", name="model-info")
@bentoml.service(
    name="leadscore",
    description=(
        "Lead scoring API: fit + intent scores, grade, MQL flag and the reasons behind each "
        "score, from the registry's champion model. Authenticate with "
        "`Authorization: Bearer <key>`."
    ),
    workers=_workers(),
    traffic={"timeout": 60},
    service_class=DocumentedService,
)
class LeadScorer:
    """Scores leads with the champion; one instance per worker process."""

    def __init__(self) -> None:
        if logger.level == logging.NOTSET:  # BentoML's root logger shows warnings only
            logger.setLevel(logging.INFO)
        config = serving_config()
        self.settings = serving_settings()
        self.top_reasons = int(self.settings.get("top_reasons") or 5)
        self._limiter: anyio.CapacityLimiter | None = None
        if not api_keys():
            logger.warning("%s is not set: authentication is OFF; only clients on this machine "
                           "are answered.", KEYS_ENV)
        note_worker_start(logger, bentoml.server_context.worker_index)
        watch_parent(logger)
        scrub_access_log(known_paths(post_routes(LeadScorer), OTHER_PATHS))
        # a store copied or moved here (a deployed project folder, an image) still records its
        # old absolute artifact paths: point it at its own files before loading the champion
        try:
            relocate_store(config)
        except sqlite3.Error as exc:  # a read-only image: say why the champion may not load
            logger.warning("Cannot point the copied MLflow store at its own files (%s): make "
                           "its folder writable; the API rewrites the paths at its next start.",
                           exc)
        self.champion = ChampionWatcher(
            config["mlflow"]["tracking_uri"],
            config["mlflow"]["registered_model"],
            interval_s=reload_interval_s(config),
        ).start()
        self.live = LiveLoop(config) if (config.get("live") or {}).get("enabled", True) else None
        # one worker computes the monitor's gauges for /metrics (all workers would repeat it)
        self.monitor = (MonitorRefresher(champion_monitor(self.champion, config,
                                                          lambda: self.live.store),
                                         float(config["monitor"]["refresh_s"])).start()
                        if self.live is not None
                        and bentoml.server_context.worker_index in (None, 1) else None)

    def __is_ready__(self) -> bool:
        return self.champion.current is not None

    @bentoml.on_shutdown
    def stop_watching(self) -> None:
        self.champion.stop()
        if self.monitor is not None:
            self.monitor.stop()
        if self.live is not None:
            self.live.close()

    # ``output_spec`` gives BentoML the response schema; the body itself is sent as JSON bytes
    # (``json_response``), which BentoML passes through as it does any Response.
    @bentoml.api(route="/score", input_spec=ScoreInput, output_spec=ScoreOutput)
    async def score(self, leads: list[Lead], reasons: bool = True) -> Response:
        """Score 1 to 1,000 leads with the champion model.

        Each lead gets its calibrated score, fit and intent scores, grade (A1..D4), MQL flag and,
        unless `reasons` is false, its top reasons. Scores come back in request order, with the
        model version that produced them. Unknown lead fields are ignored; unknown categories,
        missing fields and empty activity lists are scored normally.
        """
        model = self.champion.current  # read once: a swap mid-request does not affect it
        if model is None:
            return JSONResponse(error_body(self.champion.unavailable_message), status_code=503)
        if len(leads) <= INLINE_MAX_LEADS[bool(reasons)]:
            result = self._score(model, leads, reasons)
        else:
            if self._limiter is None:
                self._limiter = anyio.CapacityLimiter(1)  # one batch computes at a time per worker
            result = await anyio.to_thread.run_sync(self._score, model, leads, reasons,
                                                    limiter=self._limiter)
        if isinstance(result, Response):
            return result
        payload, hashes, bins, previous = result
        if self.live is not None:
            try:
                await self.live.finish(payload, hashes, previous, bins=bins)
            except Exception as exc:  # noqa: BLE001 - the message may name the database host
                logger.error("Score log write failed (%s); answered 503.", type(exc).__name__)
                return JSONResponse(error_body(LIVE_UNAVAILABLE), status_code=503)
        return json_response(payload)

    def _score(self, model: ServedModel, leads: list[Lead],
               reasons: bool) -> Response | tuple[dict[str, Any], list[str] | None,
                                                  list[str] | None, dict]:
        try:
            try:
                records, previous = (self.live.records(leads) if self.live is not None
                                     else ([lead_record(lead) for lead in leads], {}))
            except (sa.exc.SQLAlchemyError, LiveStoreUnavailable) as exc:  # may name the host
                # a store that cannot be read now (PostgreSQL down) is a 503, as a failed write
                logger.error("Live store read failed (%s); answered 503.", type(exc).__name__)
                return JSONResponse(error_body(LIVE_UNAVAILABLE), status_code=503)
            payload, hashes, bins = score_leads(model, leads, records, reasons=reasons,
                                                top_reasons=self.top_reasons)
            return payload, hashes, bins, previous
        except RequestRejected as rejected:
            return JSONResponse(rejected.body, status_code=rejected.status)
        except Exception as exc:  # noqa: BLE001 - BentoML would log the message, which may quote input
            where = "".join(traceback.format_tb(exc.__traceback__, limit=-3)).strip()
            logger.error("Unexpected %s while scoring %d lead(s) with v%s:\n%s",
                         type(exc).__name__, len(leads), model.version, where)
            return JSONResponse(error_body(INTERNAL_ERROR), status_code=500)

    @bentoml.api(route="/events", input_spec=EventsInput, output_spec=StoredOutput)
    async def events(self, leads: list[Lead], activities: list[LeadActivity]) -> Response:
        """Store lead upserts and activities (marketing automation, web tracking).

        Each is stored once by its natural key (a lead by `lead_id`, an activity by lead, time and
        type): posting the same event twice changes nothing. The answer comes after a durable
        commit: what was acknowledged survives a crash. `POST /score` with a stored lead's id
        scores it from what was stored.
        """
        model = self.champion.current
        try:
            if model is not None:  # store a numeric attribute only as a scoring path reads it
                columns = model.bundle.attribute_columns
                refuse_no_numbers(
                    with_flat_attributes([lead_record(lead) for lead in leads], leads, columns),
                    numeric_attribute_columns(model.bundle.manifest["features"]), leads)
            leads = stored_flat_attributes(leads, model.bundle.attribute_columns if model else ())
        except RequestRejected as rejected:
            return JSONResponse(rejected.body, status_code=rejected.status)
        request = EventsRequest.model_construct(leads=leads, activities=activities)
        return await self._store(self.live.events if self.live else None, request)

    @bentoml.api(route="/dispositions", input_spec=DispositionsInput, output_spec=StoredOutput)
    async def dispositions(self, dispositions: list[Disposition]) -> Response:
        """Store reps' verdicts as the CRM's webhook sends them.

        Each is checked against the label policy (an unknown reason code or status is a 422
        naming the field) and stored once by lead, time and status; the next review cycle takes
        them as labels.
        """
        request = DispositionsRequest.model_construct(dispositions=dispositions)
        return await self._store(self.live.dispositions if self.live else None, request)

    @bentoml.api(route="/outcomes", input_spec=OutcomesInput, output_spec=StoredOutput)
    async def outcomes(self, outcomes: list[Outcome]) -> Response:
        """Store outcomes (a lead reaching SQL, opportunity, closed won or lost).

        Each stage is checked against the label policy and stored once by lead and stage.
        """
        request = OutcomesRequest.model_construct(outcomes=outcomes)
        return await self._store(self.live.outcomes if self.live else None, request)

    async def _store(self, write: Any, request: Any) -> Response:
        if write is None:
            return JSONResponse(error_body("The live store is off on this server (config "
                                           "live.enabled)."), status_code=503)
        try:
            stored = await anyio.to_thread.run_sync(write, request)
        except RequestRejected as rejected:
            return JSONResponse(rejected.body, status_code=rejected.status)
        except Exception as exc:  # noqa: BLE001 - the message may quote a value or a host
            logger.error("Live store write failed (%s); answered 503.", type(exc).__name__)
            return JSONResponse(error_body(LIVE_UNAVAILABLE), status_code=503)
        return json_response(stored)

    def model_info(self) -> ModelInfo | None:
        """What ``GET /model`` shows, or None while no model is loaded."""
        model = self.champion.current
        return None if model is None else ModelInfo(**model.info())

    def model_response(self) -> JSONResponse:
        info = self.model_info()
        if info is None:
            return JSONResponse(error_body(self.champion.unavailable_message), status_code=503)
        return JSONResponse(info.model_dump(mode="json"))


OTHER_PATHS = ("/model",)
"""The service's routes besides the POST ones and the open ones (``model_routes``)."""
LeadScorer.add_asgi_middleware(Gateway, settings=serving_settings,
                               routes=post_routes(LeadScorer), other_paths=OTHER_PATHS)
