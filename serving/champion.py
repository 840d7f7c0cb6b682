"""The model a worker serves: the registry's ``champion``, loaded once and swapped when it moves.

At start the watcher resolves the alias, downloads that version, loads its scoring bundle and
publishes it as one immutable ``ServedModel``. A background thread then asks the registry every
``interval_s`` seconds where the alias points; when it has moved, the new version is downloaded and
loaded *completely* before a single reference assignment publishes it. A request reads that
reference once, at its start, so requests already running finish on the model they began with and
no request ever sees half a model.

If the registry holds no champion (or cannot be reached), the worker keeps running, says so in one
log line, keeps polling, and reports not-ready until a model is loaded.

Serving never imports ``training``: this module talks to MLflow directly.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import gc
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from scoring.bundle import MANIFEST, ScoringBundle
from scoring.champion_status import NO_CHAMPION, no_champion

logger = logging.getLogger("leadscore.serving")

CHAMPION = "champion"
FEATURE_CONFIG_SECTIONS = ("features", "icp")


def no_champion_message(tracking_uri: str, model_name: str, why: str = NO_CHAMPION) -> str:
    """``why`` (``scoring.champion_status.no_champion``) says which case: never reviewed, or
    reviewed and never promoted (naming the last version, its failed gates, ``leadscore promote``).
    """
    return f"{why.removesuffix('.')} (model {model_name!r} in the registry at {tracking_uri})."


@dataclass(frozen=True)
class ServedModel:
    """A loaded champion and everything a request needs from it, never mutated once published."""

    model_name: str
    version: str
    bundle: ScoringBundle
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def threshold(self) -> float:
        return self.bundle.threshold

    def info(self) -> dict[str, Any]:
        """What ``GET /model`` shows."""
        manifest = self.bundle.manifest
        groups: dict[str, list[str]] = {}
        for spec in manifest["features"]:
            groups.setdefault(spec["group"], []).append(spec["name"])
        band = manifest.get("band")
        return {
            "model_name": self.model_name,
            "version": self.version,
            "cycle": _text_or_none(manifest.get("cycle")),
            "trained_at": _text_or_none(manifest.get("trained_at")),
            "threshold": self.threshold,
            "band": {"min": float(band["min"]), "max": float(band["max"])} if band else None,
            "feature_groups": groups,
            "metrics": dict(manifest.get("metrics") or {}),
            "deployed_metrics": dict(manifest.get("deployed_metrics") or {}),
            "loaded_at": self.loaded_at.isoformat().replace("+00:00", "Z"),
        }


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def load_version(
    tracking_uri: str,
    model_name: str,
    version: str,
    *,
    num_threads: int = 1,
) -> ServedModel:
    """Download registered ``version`` and load its bundle fully into memory (same files as
    ``mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}")``).

    The download lands in a temporary folder that is removed once the boosters are in memory.
    """
    import mlflow.artifacts
    from mlflow.tracking import MlflowClient

    # Not `models:/NAME/VERSION`: MLflow resolves such a URI against the process-wide registry
    # URI, whatever registry_uri is passed. The registry's own download location needs no lookup.
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    source = client.get_model_version_download_uri(model_name, str(version))
    workdir = Path(tempfile.mkdtemp(prefix=f"leadscore-v{version}-"))
    try:
        root = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=source,
                dst_path=str(workdir),
                tracking_uri=tracking_uri,
                registry_uri=tracking_uri,
            )
        )
        manifests = sorted(root.rglob(MANIFEST), key=lambda p: len(p.parts))
        if not manifests:
            raise FileNotFoundError(
                f"version {version} of {model_name!r} holds no {MANIFEST}: "
                "it was not logged by `leadscore review`."
            )
        bundle = ScoringBundle.load(manifests[0].parent, num_threads=num_threads)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    model = ServedModel(model_name=model_name, version=str(version), bundle=bundle)
    warm_up(model)
    return model


def warm_up(model: ServedModel) -> None:
    """Score one made-up lead, with reasons, in the loading thread.

    Everything a model builds lazily and keeps for its lifetime (the feature builder and its
    compiled intent loop, the encoder's plan, the compiled forest, the reason vocabulary) is then
    built here, in the watcher's one long-lived thread, not by the first request after a swap in
    whichever server thread takes it. glibc gives each thread its own heap (arena): a model's
    memory allocated in a request thread stayed in that arena as free space once the model was
    swapped out, and a worker's RSS rose by that much at every swap (468 -> 525 MiB over a
    10-minute load); allocated in one thread, each new model reuses the old one's space.
    """
    now = datetime.now(UTC)
    model.bundle.score_records(
        [{"activities": [{"activity_type": "page_view", "occurred_at": now}]}], [now],
        top_reasons=1)


class ChampionWatcher:
    """Holds the served model of one worker and keeps it in step with the registry's alias.

    Args:
        tracking_uri: the MLflow tracking/registry URI.
        model_name: the registered model (``mlflow.registered_model``).
        interval_s: seconds between two looks at the alias.
        alias: the alias to follow.
        loader: ``(version) -> ServedModel``; the default downloads from the registry.
    """

    def __init__(
        self,
        tracking_uri: str,
        model_name: str,
        *,
        interval_s: float,
        alias: str = CHAMPION,
        loader: Callable[[str], ServedModel] | None = None,
    ) -> None:
        self.tracking_uri = tracking_uri
        self.model_name = model_name
        self.interval_s = interval_s
        self.alias = alias
        self._loader = loader or self._load_from_registry
        self._current: ServedModel | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = None
        self._problem: str | None = None  # the last problem logged, so it is logged once
        self._why_none = NO_CHAMPION  # why no champion serves; read again while none does
        # a champion exists but cannot be loaded (its files deleted or moved): what to say then
        self._unloadable: str | None = None

    # ---- what requests read ------------------------------------------------------------------
    @property
    def current(self) -> ServedModel | None:
        """The model to use for one request: read it once and keep the reference."""
        return self._current

    @property
    def unavailable_message(self) -> str:
        if self._unloadable is not None:
            return self._unloadable
        return no_champion_message(self.tracking_uri, self.model_name, self._why_none)

    # ---- lifecycle -----------------------------------------------------------------------------
    def start(self) -> ChampionWatcher:
        """Load the champion now (if there is one) and start following the alias.

        The first load, like every later one, runs on the watcher's own thread (this call waits
        for it): every model's memory then comes from that one thread's heap (see ``warm_up``).
        """
        first = threading.Event()
        self._thread = threading.Thread(target=self._poll, args=(first,),
                                        name="champion-watcher", daemon=True)
        self._thread.start()
        first.wait()
        if self._current is None:
            logger.warning(self.unavailable_message)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(self.interval_s, 1.0) + 5.0)

    def _poll(self, first: threading.Event | None = None) -> None:
        try:
            self.refresh()
        finally:
            if first is not None:
                first.set()
        while not self._stop.wait(self.interval_s):
            self.refresh()

    # ---- one look at the registry ------------------------------------------------------------
    def refresh(self) -> bool:
        """Look at the alias once; load and publish a new version if it moved. True if swapped.

        Never raises: a problem is logged (once until it changes) and the current model stays.
        """
        try:
            version = self._alias_version()
        except Exception as exc:  # noqa: BLE001 - a broken registry must not kill the worker
            self._note(f"Cannot read the registry at {self.tracking_uri} ({_first_line(exc)}); "
                       "still serving the model already loaded, if any.")
            return False
        if version is None:
            self._unloadable = None
            if self._current is None and self._client is not None:
                self._why_none = no_champion(self._client, self.model_name)
            if self._current is not None:
                self._note(f"Alias {self.alias!r} of {self.model_name!r} is gone; "
                           f"still serving v{self._current.version}.")
            return False
        current = self._current
        if current is not None and current.version == version:
            self._problem = None
            return False
        try:
            loaded = self._loader(version)
        except Exception as exc:  # noqa: BLE001
            self._note(f"Cannot load v{version} of {self.model_name!r} ({_first_line(exc)}); "
                       "will try again.")
            if current is None:
                self._unloadable = (
                    f"The champion v{version} of {self.model_name!r} cannot be loaded (its files "
                    f"are missing or unreadable; see the server log): restore them, or "
                    f"`leadscore promote` another version. The server keeps trying.")
            return False
        self._current = loaded  # one reference assignment: the swap is atomic
        self._problem = None
        self._unloadable = None
        if current is None:
            logger.info("Serving %s v%s (cycle %s, threshold %.4f).", self.model_name,
                        loaded.version, loaded.bundle.manifest.get("cycle"), loaded.threshold)
        else:
            logger.info("Champion moved: v%s -> v%s; new requests use v%s.", current.version,
                        loaded.version, loaded.version)
        del current
        settle_heap()
        return True

    def _note(self, message: str) -> None:
        if message != self._problem:
            logger.warning(message)
            self._problem = message

    def _alias_version(self) -> str | None:
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient

        if self._client is None:
            self._client = MlflowClient(tracking_uri=self.tracking_uri,
                                        registry_uri=self.tracking_uri)
        try:
            return str(self._client.get_model_version_by_alias(self.model_name, self.alias).version)
        except MlflowException as exc:
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
            raise

    def _load_from_registry(self, version: str) -> ServedModel:
        return load_version(self.tracking_uri, self.model_name, version)


YOUNG_GC_THRESHOLD = 50_000
"""Allocations between two collections of the youngest generation (CPython 3.11: 700).

A 100-lead request allocates tens of thousands of objects that live until it is answered. At 700
the collector ran dozens of times inside every such request, walking those objects and promoting
them to older generations, whose collections then walked them again: about a tenth of a worker's
time and its worst latencies. Reference counting frees nearly all of them anyway; the collector is
only for cycles, and a few megabytes of young objects bound them between collections. Two
one-worker servers taking turns, 100-lead requests at concurrency 1: mean 5.49 -> 4.91 ms,
slowest 81 -> 24 ms, as with the collector off."""


def settle_heap() -> None:
    """Put what is alive now (the libraries, the model) out of the cyclic collector's way, and
    collect young objects less often (``YOUNG_GC_THRESHOLD``).

    A worker holds about half a million long-lived objects, and each full collection walks them
    all with the GIL held: about 0.25 s, every few hundred requests, a stall in the tail of
    whichever requests are waiting. Frozen, they are skipped; requests' short-lived objects are
    collected as before, and reference counting still frees a frozen object nobody holds. Run
    after each load: what an earlier load froze is thawed and collected first.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    _return_free_memory()
    young, older, oldest = gc.get_threshold()
    gc.set_threshold(max(YOUNG_GC_THRESHOLD, young), older, oldest)
    _thaw_at_exit()


def _return_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``), so what the old
    model used shows as free in the worker's RSS; a no-op where there is no glibc."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


@cache
def _thaw_at_exit() -> None:
    """Let the interpreter's last collection see everything again (extension modules such as
    DuckDB's report frozen objects as leaks at exit)."""
    atexit.register(gc.unfreeze)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]
