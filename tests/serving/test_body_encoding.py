"""How integrations really send a body: gzip-compressed, with a UTF-8 BOM, in another charset.

Each is scored exactly as the plain UTF-8 body is, or refused with a 4xx that names the header to
fix. Through the real app (``Service.to_asgi()``) and its gateway.
"""

from __future__ import annotations

import gzip
import json
import zlib

from tests.serving.conftest import AUTH
from tests.serving.leads import lead, score_body

JSON = {**AUTH, "Content-Type": "application/json"}
BODY = score_body([lead("enc-1", title="Directeur Général"), lead("enc-2")])
RAW = json.dumps(BODY, ensure_ascii=False).encode("utf-8")


def scores(response) -> list[tuple]:
    assert response.status_code == 200, response.text
    return [(s["lead_id"], s["score"], s["grade"]) for s in response.json()["scores"]]


def test_gzip_and_deflate_bodies_are_scored_like_the_plain_body(api):
    plain = scores(api.post("/score", content=RAW, headers=JSON))
    gzipped = api.post("/score", content=gzip.compress(RAW),
                       headers={**JSON, "Content-Encoding": "gzip"})
    assert scores(gzipped) == plain
    deflated = api.post("/score", content=zlib.compress(RAW),
                        headers={**JSON, "Content-Encoding": "deflate"})
    assert scores(deflated) == plain


def test_a_broken_or_unsupported_compression_names_content_encoding(api):
    broken = api.post("/score", content=b"\x1f\x8b not gzip at all",
                      headers={**JSON, "Content-Encoding": "gzip"})
    assert broken.status_code == 400
    assert "Content-Encoding" in broken.json()["error"]
    brotli = api.post("/score", content=RAW, headers={**JSON, "Content-Encoding": "br"})
    assert brotli.status_code == 415
    assert "Content-Encoding" in brotli.json()["error"]


def test_a_gzip_body_is_capped_after_decompression(api):
    # 3 MB of spaces compress to a few kB: the limit is on what the body becomes
    bomb = gzip.compress(RAW[:-1] + b" " * 3_000_000 + RAW[-1:])
    assert len(bomb) < 100_000
    response = api.post("/score", content=bomb, headers={**JSON, "Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert "bytes" in response.json()["error"]


def test_a_utf8_bom_and_a_declared_charset_are_read(api):
    plain = scores(api.post("/score", content=RAW, headers=JSON))
    with_bom = api.post("/score", content=b"\xef\xbb\xbf" + RAW, headers=JSON)
    assert scores(with_bom) == plain
    latin1 = json.dumps(BODY, ensure_ascii=False).encode("iso-8859-1")
    declared = api.post("/score", content=latin1,
                        headers={**AUTH, "Content-Type": "application/json; charset=ISO-8859-1"})
    assert scores(declared) == plain


def test_text_that_is_not_utf8_says_so(api):
    latin1 = json.dumps(BODY, ensure_ascii=False).encode("iso-8859-1")
    response = api.post("/score", content=latin1, headers=JSON)
    assert response.status_code == 400
    assert "UTF-8" in response.json()["error"] and "charset" in response.json()["error"]
    unknown = api.post("/score", content=RAW,
                       headers={**AUTH, "Content-Type": "application/json; charset=klingon"})
    assert unknown.status_code == 415
    assert "charset" in unknown.json()["error"]


def test_text_cut_in_the_middle_of_an_emoji_reads_as_the_replacement_character(api):
    """JavaScript truncates by UTF-16 units: "VP Marketing 🚀" cut to 14 leaves the rocket's
    first half, and JSON.stringify writes it as a lone \\ud83d escape. The body was a 400 "not
    valid JSON (unexpected end of hex escape ...)"; it reads as U+FFFD, as a broken byte does."""
    cut = json.dumps(score_body([lead("cut", title="VP Marketing \ufffd")]))
    sent = cut.replace("\\ufffd", "\\ud83d").encode()
    assert b"\\ud83d" in sent
    assert scores(api.post("/score", content=sent, headers=JSON)) == \
        scores(api.post("/score", content=cut.encode(), headers=JSON))
    stored = api.post("/events", headers=JSON, content=b'{"leads": [{"lead_id": "cut-ev", '
                      b'"title": "VP \\udc00 \\\\ud800"}]}')
    assert stored.status_code == 200, stored.text
    # an escaped backslash before "ud800" is text, never read as an escape
    assert api.post("/score", headers=JSON, content=b'{"leads": [{"lead_id": "x", '
                    b'"title": "\\\\ud800"}]}').status_code == 200
