"""The API's front door: an ASGI middleware in front of every BentoML route.

It does, in order, for each HTTP request:

1. lets health, metrics and the OpenAPI document through untouched;
2. authenticates (``Authorization: Bearer <key>``; 401 otherwise), or, when no keys are
   configured, turns away any client that is not on this machine (403);
3. for every POST route, from one table (``post_routes``: each BentoML API's route and its
   Pydantic input model): checks the media type (415), reads the body with a size cap (413),
   decodes it (gzip/deflate, a declared charset, a byte-order mark: 400/415 naming the header),
   parses and validates it against the route's model (400 malformed JSON, 413 too many leads,
   422 anything else, each naming the field), then hands the validated request (in the ASGI
   scope) and the untouched body on to BentoML, which uses the former instead of parsing again
   (``serving.service.GatewayInput``); a POST to a path outside the table is a 404 here. The
   body's validation and its sentences are ``serving.request_validation``'s;
4. catches anything that escapes and answers a clean JSON 500 without a traceback.

A route added to the service with ``@bentoml.api`` is in the table by construction, so it is
validated and scrubbed as ``/score`` is (``tests/serving/test_gateway_routes.py``).

Why validate here rather than let BentoML do it: BentoML logs a failed validation together with
the rejected input, so an e-mail address sent in the wrong field would land in the log. Here a
rejected value is never logged and never echoed (the models also set ``hide_input_in_errors``).
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Awaitable, Callable, Collection, Mapping, MutableMapping
from typing import Any

from serving.auth import api_keys, is_authorized, is_loopback
from serving.body import decode_body
from serving.errors import RequestRejected, error_body, too_large
from serving.paths import scrubbed_metrics
from serving.request_validation import PostRoute, validate_request
from serving.schemas import MAX_LEADS

logger = logging.getLogger("leadscore.serving")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_PATHS = frozenset({"/livez", "/healthz", "/readyz", "/metrics", "/", "/docs.json",
                        "/schema.json"})
OPEN_PREFIXES = ("/static_content/", "/assets/")
JSON_TOLERATED = frozenset({"", "application/json", "text/json", "text/plain",
                            "application/x-www-form-urlencoded"})
VALIDATED_KEY = "leadscore.validated_request"
"""The ASGI scope key under which a validated request model travels to the endpoint."""
DEFAULT_MAX_BODY_BYTES = 2_000_000
NOT_FOUND = "No such endpoint: see /docs.json for the API."
NOT_READY = ("Not ready: no champion model is loaded yet; GET /model (or the server log) says "
             "why and what to do.")
PLAIN_ERRORS = {404: NOT_FOUND,
                405: "This endpoint does not take that method: see /docs.json for the API."}
INTERNAL_ERROR = ("Internal error; it has been logged without the request's data. Retry, and "
                  "report it if it persists.")


async def send_json(send: Send, status: int, body: dict[str, Any],
                    headers: list[tuple[bytes, bytes]] | None = None, *,
                    head: bool = False) -> None:
    """A JSON answer (``head``: its headers only, as a HEAD request is answered)."""
    payload = json.dumps(body).encode("utf-8")
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()), *(headers or [])],
    })
    await send({"type": "http.response.body", "body": b"" if head else payload})


def known_paths(routes: Collection[str], other_paths: Collection[str] = ()) -> frozenset[str]:
    """The paths /metrics and the access log name: the open ones, the POST routes, the rest."""
    return OPEN_PATHS | frozenset(routes) | frozenset(other_paths)


def _json_not_found(send: Send, *, head: bool = False,
                    messages: Mapping[int, str] = PLAIN_ERRORS) -> Send:
    """``send`` with BentoML's plain-text 404 ("Not Found") and 405 ("Method Not Allowed"), or
    the statuses in ``messages``, replaced by the JSON error every other answer uses (``head``:
    headers only)."""
    replaced = False

    async def wrapped(message: Message) -> None:
        nonlocal replaced
        if message["type"] == "http.response.start" and message["status"] in messages:
            replaced = True
            payload = json.dumps(error_body(messages[message["status"]])).encode("utf-8")
            allow = [(k, v) for k, v in message.get("headers", ()) if k.lower() == b"allow"]
            await send({**message, "headers": [(b"content-type", b"application/json"),
                                               (b"content-length", str(len(payload)).encode()),
                                               *allow]})
            await send({"type": "http.response.body", "body": b"" if head else payload})
        elif not replaced:
            await send(message)

    return wrapped


_SENDS = {"/score": "leads", "/events": "events", "/dispositions": "verdicts",
          "/outcomes": "outcomes"}
"""What each POST route takes, in the 415 sentence (every route said "Send the leads")."""


def post_routes(service: Any) -> dict[str, PostRoute]:
    """The table of a BentoML service's POST routes: each ``@bentoml.api`` route with its input
    model (``input_spec``); a model's ``batch_field`` / ``body_example`` class attributes fill
    the rest."""
    return {
        api.route: PostRoute(api.input_spec, getattr(api.input_spec, "batch_field", None),
                             getattr(api.input_spec, "body_example", "{...}"))
        for api in service.apis.values()
    }


class Gateway:
    """ASGI middleware: authentication, size limits, validation, clean errors (module docstring).

    Args:
        app: the BentoML application it wraps.
        keys: API keys; None reads ``LEADSCORE_API_KEYS``.
        max_body_bytes: largest accepted request body.
        max_leads: most leads per request.
        settings: ``() -> dict`` giving ``max_body_bytes`` / ``max_leads`` lazily (the serving
            config); explicit arguments win.
        routes: the POST routes and their models (``post_routes(service)``); a POST anywhere
            else is answered 404 before it reaches BentoML.
        other_paths: the service's other routes (``/model``): with the routes and the open
            paths, the only paths /metrics names (``serving.paths``).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: tuple[str, ...] | None = None,
        max_body_bytes: int | None = None,
        max_leads: int | None = None,
        settings: Callable[[], dict[str, Any]] | None = None,
        routes: Mapping[str, PostRoute] | None = None,
        other_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self.routes = dict(routes or {})
        self.known_paths = known_paths(self.routes, other_paths)
        configured = settings() if settings is not None else {}
        self.keys = api_keys() if keys is None else tuple(keys)
        self.max_body_bytes = int(max_body_bytes or configured.get("max_body_bytes")
                                  or DEFAULT_MAX_BODY_BYTES)
        self.max_leads = min(int(max_leads or configured.get("max_leads") or MAX_LEADS), MAX_LEADS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._handle(scope, receive, tracking_send)
        except RequestRejected as rejected:
            if not started:
                await send_json(send, rejected.status, rejected.body, _headers(rejected.status),
                                head=scope.get("method") == "HEAD")
        except Exception as exc:  # noqa: BLE001 - the last line of defence: never a traceback out
            # The exception's message may quote input; log its type and where it happened only.
            where = "".join(traceback.format_tb(exc.__traceback__, limit=-3)).strip()
            logger.error("Unexpected %s while answering %s %s:\n%s", type(exc).__name__,
                         scope.get("method"), scope.get("path"), where)
            if not started:
                await send_json(send, 500, error_body(INTERNAL_ERROR))

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if path == "/metrics":
            await self.app(scope, receive, scrubbed_metrics(send, self.known_paths))
            return
        if path == "/readyz":  # BentoML's 503 is a text naming its own hook
            await self.app(scope, receive, _json_not_found(
                send, head=scope.get("method") == "HEAD", messages={503: NOT_READY}))
            return
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        self._check_caller(scope)
        if scope.get("method") != "POST":
            if path in self.routes:
                raise RequestRejected(405, f"{path} takes POST only: send the request as a JSON "
                                           "body with POST.")
            await self.app(scope, receive,
                           _json_not_found(send, head=scope.get("method") == "HEAD"))
            return
        route = self.routes.get(path)
        if route is None:
            raise RequestRejected(404, self._not_found(path))
        headers = _header_map(scope)
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if not _reads_as_json(media_type):
            raise RequestRejected(415, f"Send the {_SENDS.get(path, 'request')} as JSON, a body "
                                       f"like {route.example}, with Content-Type: "
                                       "application/json.")
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise self._too_large()
        body = decode_body(await self._read_body(receive), headers, self.max_body_bytes)
        request = validate_request(body, route, self.max_leads)
        # BentoML takes the validated request from the scope instead of parsing the body again
        # (``serving.service.GatewayInput``); the body still follows for anything that reads it
        await self.app({**_as_json(scope, len(body)), VALIDATED_KEY: request},
                       _replay(body, receive), send)

    def _not_found(self, path: str) -> str:
        """``NOT_FOUND``, naming the route a path means when it differs only in its slashes or
        case (``/score/``, ``//score``: a webhook's base URL ending in "/"). The path sent is
        never repeated: it is the client's text."""
        meant = "/" + "/".join(part for part in path.lower().split("/") if part)
        if meant in self.routes:
            return (f"No such endpoint: did you mean POST {meant}? Paths are exact (no trailing "
                    "or double slash); see /docs.json for the API.")
        return NOT_FOUND

    def _check_caller(self, scope: Scope) -> None:
        if self.keys:
            if not is_authorized(_header_map(scope).get("authorization"), self.keys):
                raise RequestRejected(
                    401, "Missing or wrong API key: send `Authorization: Bearer <key>` with a key "
                         "from LEADSCORE_API_KEYS."
                )
            return
        client = scope.get("client")
        if not client or not is_loopback(client[0]):
            raise RequestRejected(
                403, "This service runs without API keys and answers only this machine: "
                     "set LEADSCORE_API_KEYS on the server to open it to others."
            )

    def _too_large(self) -> RequestRejected:
        return too_large(self.max_body_bytes)

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise RequestRejected(400, "The client closed the connection mid-request.")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _reads_as_json(media_type: str) -> bool:
    """JSON, or what a client sends when it forgets the header (curl -d: form-urlencoded)."""
    return media_type in JSON_TOLERATED or media_type.endswith("+json")


def _as_json(scope: Scope, length: int) -> Scope:
    """The scope with ``Content-Type: application/json``, so BentoML parses the body as JSON
    whatever the client declared (BentoML would hand form-urlencoded to its multipart parser),
    and the headers of the decoded body it is handed (no Content-Encoding, its own length)."""
    headers = [(k, v) for k, v in scope.get("headers", ())
               if k.lower() not in (b"content-type", b"content-encoding", b"content-length")]
    return {**scope, "headers": [*headers, (b"content-type", b"application/json"),
                                 (b"content-length", str(length).encode())]}


def _headers(status: int) -> list[tuple[bytes, bytes]]:
    if status == 401:
        return [(b"www-authenticate", b'Bearer realm="leadscore"')]
    if status == 405:
        return [(b"allow", b"POST")]
    return []


def _header_map(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        out[name.decode("latin-1").lower()] = value.decode("latin-1")
    return out


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the body already read, then defers to the real one."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
