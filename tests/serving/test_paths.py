"""A request path a client made up never reaches /metrics or the access log (serving/paths.py).

BentoML labels its request metrics and writes its access-log line with the raw path, before the
gateway runs: ``GET /leads/jane.doe@acme.io`` (an integration guessing a REST URL) put the
address on the open /metrics and in the log, and every scanned path added series.
"""

from __future__ import annotations

import logging

import httpx
import pytest

from serving.paths import OTHER, PathScrubber, scrub_metrics
from tests.serving.conftest import API_KEY, AUTH
from tests.serving.leads import EMAIL
from tests.serving.server import leadscore_command, server_env, start_server

KNOWN = frozenset({"/score", "/livez"})
METRICS = f"""# HELP bentoml_service_request_total Total number of HTTP requests
# TYPE bentoml_service_request_total counter
bentoml_service_request_total{{endpoint="/score",http_response_code="200"}} 7.0
bentoml_service_request_total{{endpoint="/{EMAIL}",http_response_code="404"}} 1.0
bentoml_service_request_total{{endpoint="/wp-login.php",http_response_code="404"}} 2.0
bentoml_service_request_total{{endpoint="/x",http_response_code="401"}} 1.0
leadscore_monitor_scores_served 3.0
"""


def test_unknown_endpoints_are_summed_under_one_label():
    out = scrub_metrics(METRICS, KNOWN)
    assert EMAIL not in out and "wp-login" not in out
    assert '{endpoint="/score",http_response_code="200"} 7.0' in out
    assert f'{{endpoint="{OTHER}",http_response_code="404"}} 3.0' in out
    assert f'{{endpoint="{OTHER}",http_response_code="401"}} 1.0' in out
    assert out.count("\n") == METRICS.count("\n") - 1  # two 404 series became one
    assert out.startswith("# HELP") and "leadscore_monitor_scores_served 3.0" in out


def test_the_access_log_line_shows_other_for_an_unknown_path():
    record = logging.LogRecord("bentoml.access", logging.INFO, __file__, 1, "%s (%s) (%s) %.3fms",
                               ("127.0.0.1:5", f"scheme=http,method=GET,path=/leads/{EMAIL},"
                                "type=,length=", "status=404", 0.2), None)
    assert PathScrubber(KNOWN).filter(record)
    assert EMAIL not in record.getMessage() and f"path={OTHER},type=" in record.getMessage()
    known = logging.LogRecord("bentoml.access", logging.INFO, __file__, 1, "%s (%s)",
                              ("a", "scheme=http,method=POST,path=/score,type=,length=5"), None)
    PathScrubber(KNOWN).filter(known)
    assert "path=/score," in known.getMessage()


@pytest.fixture(scope="module")
def own_server(registry, tmp_path_factory):
    """A server with a BentoML home of its own (``leadscore serve``): another test server
    starting on a shared home empties its request counters."""
    folder = tmp_path_factory.mktemp("paths")
    running = start_server(server_env(registry.tracking_uri, keys=API_KEY),
                           folder / "bentoml.log", command=leadscore_command)
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.integration
def test_metrics_and_the_log_never_show_a_path_a_client_made_up(own_server):
    server = own_server
    httpx.get(f"{server.url}/leads/{EMAIL}", headers=AUTH)
    httpx.get(f"{server.url}/{EMAIL}")  # unauthenticated: 401
    httpx.post(f"{server.url}/score", json={"leads": [{"lead_id": "m"}]}, headers=AUTH)
    response = httpx.get(f"{server.url}/metrics")
    assert response.status_code == 200
    assert EMAIL not in response.text
    assert 'endpoint="/score"' in response.text and f'endpoint="{OTHER}"' in response.text
    assert EMAIL not in server.log() and f"path={OTHER}" in server.log()
