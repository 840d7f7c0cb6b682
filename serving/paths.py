"""Request paths as /metrics and the access log show them: only the API's own routes by name.

BentoML labels its request metrics (``endpoint="..."``) and writes its access-log line
(``path=...``) with the raw request path, in middleware that runs before the gateway. A path is
whatever a client sent: ``GET /leads/jane.doe@acme.io`` from an integration that guessed a REST
URL put the address on the open /metrics and in the log, and a scanner's thousands of paths
would each add series to /metrics. Both now show any path that is not a route of the API as
``<other>`` (its requests still counted, under that one label).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

from prometheus_client.utils import floatToGoString

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
OTHER = "<other>"
_ENDPOINT = re.compile(r'endpoint="((?:[^"\\]|\\.)*)"')
_PATH = re.compile(r"(?<=path=).*?(?=,type=|,length=|\Z)", re.DOTALL)


def scrub_metrics(text: str, known: Collection[str]) -> str:
    """Prometheus text with every ``endpoint`` label outside ``known`` read as ``<other>``; the
    samples that then share a series are summed (counters, histogram buckets, sums, counts and
    the in-progress gauge all add up)."""
    lines: list[str] = []
    merged: dict[str, float] = {}
    for line in text.splitlines():
        match = None if line.startswith("#") else _ENDPOINT.search(line)
        if match is None or match.group(1) in known:
            lines.append(line)
            continue
        series, _, value = line.rpartition(" ")
        series = f'{series[:match.start()]}endpoint="{OTHER}"{series[match.end():]}'
        if series not in merged:
            merged[series] = 0.0
            lines.append(series)
        merged[series] += float(value)
    return "\n".join(f"{line} {floatToGoString(merged[line])}" if line in merged else line
                     for line in lines) + "\n"


def scrubbed_metrics(send: Send, known: Collection[str]) -> Send:
    """``send`` of the /metrics answer with made-up paths read as ``<other>`` (whole body held:
    the text is small, and its length changes)."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
            return
        if message["type"] != "http.response.body" or start is None:
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        if start["status"] == 200:
            body = scrub_metrics(body.decode("utf-8"), known).encode("utf-8")
        headers = [(k, v) for k, v in start.get("headers", ()) if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return wrapped


class PathScrubber(logging.Filter):
    """A filter for BentoML's access logger: ``path=`` of an unknown path reads ``<other>``."""

    def __init__(self, known: Collection[str]) -> None:
        super().__init__()
        self.known = frozenset(known)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._scrub(a) if isinstance(a, str) else a for a in record.args)
        return True

    def _scrub(self, text: str) -> str:
        return _PATH.sub(lambda m: m.group(0) if m.group(0) in self.known else OTHER, text)


ACCESS_LOGGER = "bentoml.access"


def scrub_access_log(known: Collection[str]) -> None:
    """Put a ``PathScrubber`` on BentoML's access logger (once per process)."""
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, PathScrubber) for f in access.filters):
        access.addFilter(PathScrubber(known))
