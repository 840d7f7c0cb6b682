"""A request body as the gateway validates it: UTF-8 JSON text.

Integrations compress (``Content-Encoding: gzip``), Windows clients prefix a byte-order mark,
some declare ``charset=ISO-8859-1``; each is decoded here, and anything that cannot be gets a
400/415 sentence naming the header to fix.
"""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Mapping

from serving.errors import RequestRejected, too_large

UTF8_NAMES = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
BOM = b"\xef\xbb\xbf"
ZLIB_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS,
              "deflate": 32 + zlib.MAX_WBITS}
"""``Content-Encoding`` values read, and zlib's window for each (deflate: a zlib stream; 32+
lets zlib take a gzip header too, as some clients label gzip ``deflate``)."""


def decode_body(body: bytes, headers: Mapping[str, str], max_body_bytes: int) -> bytes:
    """The body as UTF-8 JSON text: decompressed (``Content-Encoding`` gzip or deflate, the
    size cap applied to the result), transcoded from the charset ``Content-Type`` names, a
    byte-order mark dropped (Windows clients send one)."""
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        body = _decompress(body, encoding, max_body_bytes)
    charset = _charset(headers.get("content-type", ""))
    if charset is not None and charset not in UTF8_NAMES:
        try:
            body = body.decode(codecs.lookup(charset).name).encode("utf-8")
        except LookupError:
            raise RequestRejected(
                415, "Unknown charset in Content-Type: send UTF-8 JSON "
                     "(`Content-Type: application/json`).") from None
        except UnicodeDecodeError:
            raise RequestRejected(
                400, "The body does not read as the charset its Content-Type names: send "
                     "UTF-8 JSON, or name the charset it is in.") from None
    return body.removeprefix(BOM)


def _decompress(body: bytes, encoding: str, max_body_bytes: int) -> bytes:
    wbits = ZLIB_WBITS.get(encoding)
    if wbits is None:
        raise RequestRejected(
            415, "Unsupported Content-Encoding: send the body uncompressed, or compressed "
                 "with `Content-Encoding: gzip`.")
    inflater = zlib.decompressobj(wbits)
    try:
        # never inflate more than the cap (a few kB of gzip can expand to gigabytes)
        out = inflater.decompress(body, max_body_bytes + 1)
        if len(out) > max_body_bytes:
            raise too_large(max_body_bytes)
        out += inflater.flush()
    except zlib.error:
        out = b""
    if not inflater.eof:
        raise RequestRejected(
            400, f"The body is not valid {encoding} data, as its Content-Encoding says: "
                 "compress the whole body, or drop the header and send it uncompressed.")
    return out


def _charset(content_type: str) -> str | None:
    """The ``charset`` parameter of a Content-Type, lower-cased; None when absent."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower() or None
    return None


def is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_ESCAPES = re.compile(rb"\\\\|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
                      rb"|\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
"""An escaped backslash, a surrogate pair's escape, or half of one (matched left to right, so
``\\\\ud800`` is a backslash and text, never an escape)."""


def _whole(match: re.Match[bytes]) -> bytes:
    found = match.group()
    return b"\\ufffd" if len(found) == 6 else found  # a lone half; a backslash or pair is 2 or 12


def lone_surrogates_replaced(body: bytes) -> bytes:
    """``body`` with each escape of half a UTF-16 surrogate pair (``\\ud83d`` without its
    partner) written as U+FFFD, the replacement character.

    JavaScript cuts text by UTF-16 units: a CRM or automation tool that truncates a title to
    255 of them can cut an emoji in half, and ``JSON.stringify`` then writes the lone half as
    an escape. JSON's grammar allows it, but it is no character: the parser refuses the body,
    and no store could hold it. The broken character reads as U+FFFD instead, as a decoder
    reads a broken byte sequence.
    """
    return _ESCAPES.sub(_whole, body) if b"\\u" in body else body
