"""API keys: who may call the scoring API.

Keys come from ``LEADSCORE_API_KEYS`` (comma-separated, so a key can be rotated by running old and
new side by side). A request presents one as ``Authorization: Bearer <key>``; every configured key
is compared in constant time, so the response time says nothing about how close a guess was.

Without keys, authentication is off and the service answers loopback clients only: ``leadscore
serve`` refuses to bind anything but a loopback address, and the gateway turns away any request
that arrives from elsewhere all the same.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Mapping, Sequence

KEYS_ENV = "LEADSCORE_API_KEYS"
LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback"})


def api_keys(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The configured API keys (empty when authentication is off)."""
    raw = (os.environ if environ is None else environ).get(KEYS_ENV, "")
    return tuple(key.strip() for key in raw.split(",") if key.strip())


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def is_authorized(authorization: str | None, keys: Sequence[str]) -> bool:
    """True when the header carries one of ``keys``; every key is compared (constant time)."""
    token = bearer_token(authorization)
    if token is None:
        return False
    presented = token.encode("utf-8", "surrogateescape")
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented, key.encode("utf-8", "surrogateescape"))
    return matched


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and the name ``localhost``."""
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
