"""Fixtures for the serving tests: a real MLflow store with a champion, the ASGI app, a server."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.serving.model_factory import download_bundle, review_champion
from tests.serving.server import RunningServer, server_env, start_server

API_KEY = "testkey"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@dataclass(frozen=True)
class Registry:
    tracking_uri: str
    version: str
    bundle_dir: Path


def sqlite_uri(folder: Path) -> str:
    return f"sqlite:///{folder / 'mlflow.db'}"


@pytest.fixture(scope="session")
def registry(tmp_path_factory) -> Registry:
    """A SQLite MLflow store whose ``leadscore`` champion came out of a real review cycle."""
    workdir = tmp_path_factory.mktemp("review")
    uri = sqlite_uri(workdir / "mlruns")
    version = review_champion(workdir, uri)
    bundle = download_bundle(uri, version, tmp_path_factory.mktemp("champion"))
    return Registry(uri, version, bundle)


@pytest.fixture(scope="session")
def bundle_dir(registry) -> Path:
    """The champion's bundle folder, as the review cycle logged it."""
    return registry.bundle_dir


@pytest.fixture(scope="session")
def empty_registry(tmp_path_factory) -> str:
    """A tracking URI with no registered model at all."""
    return sqlite_uri(tmp_path_factory.mktemp("mlruns-empty"))


def _forget_bentoml_metrics() -> None:
    """Each ``to_asgi()`` app registers BentoML's Prometheus metrics again; in one test process
    the second app would collide with the first, so the old ones are dropped first."""
    from prometheus_client import REGISTRY

    for collector, names in list(REGISTRY._collector_to_names.items()):
        if any(name.startswith("bentoml_") for name in names):
            REGISTRY.unregister(collector)


def _asgi_client(tracking_uri: str, keys: str | None, client_host: str = "127.0.0.1",
                 store: Path | None = None):
    from starlette.testclient import TestClient

    from serving.service import LeadScorer, serving_config

    _forget_bentoml_metrics()

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", tracking_uri)
        mp.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        mp.setenv("LEADSCORE_RELOAD_INTERVAL_S", "60")
        scratch = Path(tempfile.mkdtemp(prefix="leadscore-live-"))
        mp.setenv("LEADSCORE_LIVE_URL", f"sqlite:///{scratch / 'live.db'}")
        mp.setenv("LEADSCORE_STORE", str(store or scratch / "none.duckdb"))
        mp.delenv("LEADSCORE_CONFIG", raising=False)
        if keys is None:
            mp.delenv("LEADSCORE_API_KEYS", raising=False)
        else:
            mp.setenv("LEADSCORE_API_KEYS", keys)
        serving_config.cache_clear()
        try:
            with TestClient(LeadScorer.to_asgi(), client=(client_host, 50000),
                            raise_server_exceptions=False) as client:
                yield client
        finally:
            serving_config.cache_clear()


@pytest.fixture(scope="module")
def api(registry) -> Iterator:
    """The service's ASGI app (``Service.to_asgi()``) behind Starlette's TestClient; key set."""
    yield from _asgi_client(registry.tracking_uri, API_KEY)


@pytest.fixture
def open_api_factory(registry):
    """``(client_host) -> TestClient`` of the app with no API keys configured."""
    clients = []

    def make(client_host: str):
        gen = _asgi_client(registry.tracking_uri, None, client_host)
        clients.append(gen)
        return next(gen)

    yield make
    for gen in clients:
        gen.close()


@pytest.fixture
def modelless_api(empty_registry) -> Iterator:
    yield from _asgi_client(empty_registry, API_KEY)


@pytest.fixture(scope="session")
def server(registry, tmp_path_factory) -> Iterator[RunningServer]:
    """A real ``bentoml serve`` on the registry, key ``testkey``, reload interval 1 s."""
    log_path = tmp_path_factory.mktemp("server") / "bentoml.log"
    running = start_server(server_env(registry.tracking_uri, keys=API_KEY), log_path)
    try:
        yield running
    finally:
        running.stop()
