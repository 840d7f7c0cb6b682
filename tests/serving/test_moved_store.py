"""An MLflow store copied or moved to another folder serves its champion from there.

MLflow writes absolute artifact paths into its database. A project folder moved to a server (or
into a container image) still holds every model file, under its new path; the API must find them
there, as every other command does, not answer 503 "its files are missing".
"""

from __future__ import annotations

import shutil

from tests.serving.conftest import AUTH, _asgi_client, sqlite_uri
from tests.serving.model_factory import log_bundle


def test_a_moved_store_serves_its_champion(tmp_path, bundle_dir):
    before, after = tmp_path / "laptop" / "mlruns", tmp_path / "server" / "mlruns"
    version = log_bundle(bundle_dir, sqlite_uri(before))
    after.parent.mkdir()
    shutil.move(before, after)  # nothing is left at the recorded paths

    clients = _asgi_client(sqlite_uri(after), "testkey")
    api = next(clients)
    try:
        response = api.get("/model", headers=AUTH)
    finally:
        clients.close()
    assert response.status_code == 200, response.text
    assert response.json()["version"] == version
