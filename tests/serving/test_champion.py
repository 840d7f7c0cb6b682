"""Unit tests of model loading and the hot-swap logic of serving.champion."""

from __future__ import annotations

import gc
import logging
import threading
import time
import weakref

from mlflow.tracking import MlflowClient

from scoring.bundle import ScoringBundle
from serving.champion import (
    YOUNG_GC_THRESHOLD,
    ChampionWatcher,
    ServedModel,
    load_version,
    settle_heap,
)


class FakeRegistry:
    """Stands in for the alias lookup and the loader."""

    def __init__(self, bundle: ScoringBundle) -> None:
        self.bundle = bundle
        self.alias: str | None = None
        self.fail_load = False
        self.fail_lookup = False
        self.loads: list[str] = []

    def watcher(self) -> ChampionWatcher:
        watcher = ChampionWatcher("sqlite:///nowhere.db", "leadscore", interval_s=60,
                                  loader=self.load)
        watcher._alias_version = self.lookup  # the registry call, replaced
        return watcher

    def lookup(self) -> str | None:
        if self.fail_lookup:
            raise ConnectionError("registry down")
        return self.alias

    def load(self, version: str) -> ServedModel:
        if self.fail_load:
            raise OSError("download failed")
        self.loads.append(version)
        return ServedModel("leadscore", version, self.bundle)


def test_loads_the_champion_and_swaps_only_when_the_alias_moves(bundle_dir):
    fake = FakeRegistry(ScoringBundle.load(bundle_dir))
    fake.alias = "1"
    watcher = fake.watcher()
    assert watcher.refresh() is True
    first = watcher.current
    assert first.version == "1"
    assert watcher.refresh() is False and watcher.current is first  # nothing moved
    fake.alias = "2"
    assert watcher.refresh() is True
    assert watcher.current.version == "2"
    assert first.version == "1"  # a request holding the old reference keeps a whole model
    assert fake.loads == ["1", "2"]


def test_keeps_serving_when_the_registry_or_the_new_version_fails(bundle_dir, caplog):
    fake = FakeRegistry(ScoringBundle.load(bundle_dir))
    fake.alias = "1"
    watcher = fake.watcher()
    watcher.refresh()
    caplog.set_level(logging.WARNING, logger="leadscore.serving")
    fake.fail_lookup = True
    assert watcher.refresh() is False and watcher.refresh() is False
    fake.fail_lookup = False
    fake.alias, fake.fail_load = "2", True
    assert watcher.refresh() is False
    fake.alias = None
    assert watcher.refresh() is False
    assert watcher.current.version == "1"
    problems = [r.getMessage() for r in caplog.records]
    assert sum("Cannot read the registry" in m for m in problems) == 1  # logged once, not per poll
    assert any("Cannot load v2" in m for m in problems)
    assert any("is gone" in m for m in problems)


def test_start_without_a_champion_logs_one_clear_line_and_stays_unready(empty_registry, caplog):
    caplog.set_level(logging.WARNING, logger="leadscore.serving")
    watcher = ChampionWatcher(empty_registry, "leadscore", interval_s=60).start()
    try:
        assert watcher.current is None
        lines = [r.getMessage() for r in caplog.records if "No champion model" in r.getMessage()]
        assert lines == [watcher.unavailable_message]
        assert empty_registry in lines[0] and "leadscore review" in lines[0]
    finally:
        watcher.stop()


def test_load_version_downloads_the_bundle_with_its_feature_config(registry, empty_registry,
                                                                   monkeypatch):
    import mlflow

    # the process-wide MLflow URIs point at another store: only the given URI may be used
    monkeypatch.setenv("MLFLOW_TRACKING_URI", empty_registry)
    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(empty_registry)
    mlflow.set_registry_uri(empty_registry)
    try:
        model = load_version(registry.tracking_uri, "leadscore", registry.version)
    finally:
        mlflow.set_tracking_uri(before[0])
        mlflow.set_registry_uri(before[1])
    assert model.version == registry.version
    assert model.bundle.num_threads == 1
    assert model.bundle.feature_config == model.bundle.manifest["feature_config"]
    info = model.info()
    assert info["cycle"] == "2026-W44" and set(info["feature_groups"]) == {"fit", "intent"}


def test_the_watcher_follows_a_real_alias(registry):
    client = MlflowClient(tracking_uri=registry.tracking_uri, registry_uri=registry.tracking_uri)
    watcher = ChampionWatcher(registry.tracking_uri, "leadscore", interval_s=60)
    assert watcher._alias_version() == registry.version
    client.set_registered_model_alias("leadscore", "other", registry.version)
    assert ChampionWatcher(registry.tracking_uri, "leadscore", interval_s=60,
                           alias="other")._alias_version() == registry.version
    client.delete_registered_model_alias("leadscore", "other")


def test_settle_heap_freezes_what_is_alive_and_collects_young_objects_less_often():
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        kept = [{"alive": i} for i in range(1000)]
        settle_heap()
        assert gc.get_freeze_count() >= len(kept)
        assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, 10, 10)
        gc.set_threshold(10 * YOUNG_GC_THRESHOLD, 10, 10)
        settle_heap()  # never lowers a threshold someone raised further
        assert gc.get_threshold()[0] == 10 * YOUNG_GC_THRESHOLD
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_a_registry_reviewed_but_never_promoted_says_so_and_how_to_promote(tmp_path, caplog):
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("leadscore", artifact_location=str(tmp_path / "art"))
    run = client.create_run(experiment)
    client.log_text(run.info.run_id, "not a model", "model/MLmodel")
    client.set_terminated(run.info.run_id)
    client.create_registered_model("leadscore")
    client.create_model_version("leadscore", f"runs:/{run.info.run_id}/model",
                                run_id=run.info.run_id,
                                tags={"cycle": "2026-W47", "gate.calibration": "fail"})
    assert mlflow.get_tracking_uri() != uri  # only the watcher's own URI is used
    caplog.set_level(logging.WARNING, logger="leadscore.serving")
    watcher = ChampionWatcher(uri, "leadscore", interval_s=60).start()
    try:
        assert watcher.current is None
        message = watcher.unavailable_message
        assert "none was promoted" in message and "v1 (cycle 2026-W47)" in message
        assert "failed the calibration gate" in message and "leadscore promote 1" in message
        assert "run `leadscore review` first" not in message  # not the never-reviewed sentence
        assert [r.getMessage() for r in caplog.records if "No champion" in r.getMessage()] == [
            message]
    finally:
        watcher.stop()


def test_every_model_is_loaded_and_warmed_on_the_watchers_thread_and_freed_after_a_swap(
        registry, monkeypatch):
    """Fault 7 of issue 12: a worker's RSS rose at every swap because a model's lazily built state
    was allocated in whichever request thread used it first (glibc keeps a heap per thread).
    Every load, the first and each swap, now builds that state on the watcher's one thread, and
    the swapped-out model is freed."""
    import serving.champion as champion

    warmed_on: list[str] = []
    original = champion.warm_up

    def recording_warm_up(model):
        warmed_on.append(threading.current_thread().name)
        original(model)

    monkeypatch.setattr(champion, "warm_up", recording_warm_up)
    alias = {"version": "1"}

    def load(version: str) -> ServedModel:  # the real download and load, under any version
        real = load_version(registry.tracking_uri, "leadscore", registry.version)
        return ServedModel("leadscore", version, real.bundle)

    watcher = ChampionWatcher(registry.tracking_uri, "leadscore", interval_s=0.05, loader=load)
    watcher._alias_version = lambda: alias["version"]
    watcher.start()
    try:
        first = weakref.ref(watcher.current.bundle)
        for version in ("2", "3"):
            alias["version"] = version
            deadline = time.monotonic() + 60
            while watcher.current.version != version and time.monotonic() < deadline:
                time.sleep(0.05)
            assert watcher.current.version == version
    finally:
        watcher.stop()
    assert warmed_on == ["champion-watcher"] * 3
    gc.collect()
    assert first() is None  # nothing keeps a swapped-out model alive


def test_a_champion_whose_files_are_gone_is_named_not_called_missing(tmp_path, caplog):
    """The registry names a champion but its files were deleted: the 503 said "No champion
    model yet: run `leadscore review` first", sending the operator the wrong way."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("leadscore")
    client.create_model_version("leadscore", (tmp_path / "deleted").as_uri())
    client.set_registered_model_alias("leadscore", "champion", "1")
    caplog.set_level(logging.WARNING, logger="leadscore.serving")
    watcher = ChampionWatcher(uri, "leadscore", interval_s=60).start()
    try:
        assert watcher.current is None
        message = watcher.unavailable_message
        assert "v1" in message and "cannot be loaded" in message
        assert "leadscore promote" in message and "leadscore review" not in message
        assert not [r for r in caplog.records if "No champion model yet" in r.getMessage()]
    finally:
        watcher.stop()
