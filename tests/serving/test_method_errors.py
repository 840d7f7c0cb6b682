"""A wrong method or path gets the same JSON error sentence as every other error (docs/api.md,
"Errors"), not BentoML's plain-text "Method Not Allowed" / "Not Found"."""

from __future__ import annotations

import pytest

from tests.serving.conftest import AUTH


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "OPTIONS"])
def test_a_post_route_called_with_another_method_says_to_post(api, method):
    response = api.request(method, "/score", headers=AUTH)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["content-type"] == "application/json"
    assert "/score" in response.json()["error"] and "POST" in response.json()["error"]


def test_head_of_a_post_route_is_405_without_a_body(api):
    response = api.head("/events", headers=AUTH)
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.content == b""


def test_an_unknown_path_is_a_json_404_pointing_at_the_document(api):
    response = api.get("/scores", headers=AUTH)
    assert response.status_code == 404
    assert "/docs.json" in response.json()["error"]


def test_a_get_route_called_with_another_method_is_a_json_405(api):
    response = api.request("OPTIONS", "/model", headers=AUTH)
    assert response.status_code == 405 and "GET" in response.headers["allow"]
    assert "/docs.json" in response.json()["error"]


def test_the_model_and_health_routes_still_answer(api):
    assert api.get("/model", headers=AUTH).status_code == 200
    assert api.head("/livez").status_code == 200
    assert api.get("/docs.json").status_code == 200


def test_readyz_before_a_model_is_a_json_503_saying_where_to_look(modelless_api):
    """BentoML answered text/plain "Service is not ready because .__is_ready__() returns
    False.", which names neither the problem nor where to look."""
    response = modelless_api.get("/readyz")
    assert response.status_code == 503
    assert "champion" in response.json()["error"] and "/model" in response.json()["error"]
