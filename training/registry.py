"""The model registry: versions of ``leadscore``, the ``champion``/``challenger`` aliases, rollback.

MLflow keeps only where an alias points now, so the champion's past lives in a tag on the
registered model: ``champion_history``, a JSON list of versions, oldest first, whose last entry is
the current champion. Promoting pushes a version; rolling back pops the current one and moves
``champion`` to the entry below it. The alias moves first and the tag follows, so a crash in between
leaves a history that rollback still reads correctly (it trusts the alias for "now").
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from leadscore.errors import LeadscoreError
from scoring.champion_status import GATE_ORDER, NO_CHAMPION, no_champion, not_registered
from training import cycle_guard

CHAMPION = "champion"
CHALLENGER = "challenger"
HISTORY_TAG = "champion_history"
_HISTORY_KEEP = 200  # tag values are bounded in size; the oldest entries matter least
NOTHING_MOVED = "(nothing moved)"


def model_name(config: dict[str, Any]) -> str:
    return config["mlflow"]["registered_model"]


def champion_uri(config: dict[str, Any]) -> str:
    return f"models:/{model_name(config)}@{CHAMPION}"


def _client(config: dict[str, Any]):
    """The registry's client, or None when the configured store does not exist yet: then nothing
    is registered, and reading must not create an empty store."""
    from training.tracking import client, missing_store

    return None if missing_store(config) is not None else client(config)


def _registered(client, name: str):
    """The registered model, or None when nothing was ever registered under ``name``."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_registered_model(name)
    except MlflowException:
        return None


def alias_version(client, name: str, alias: str) -> int | None:
    """The version an alias points at, or None when the alias (or the model) does not exist."""
    model = _registered(client, name)
    if model is None or alias not in (model.aliases or {}):
        return None
    return int(model.aliases[alias])


def versions(client, name: str) -> list[int]:
    """Every registered version number of ``name``, ascending."""
    found = client.search_model_versions(f"name = '{name}'")
    return sorted(int(v.version) for v in found)


def champion_history(client, name: str) -> list[int]:
    """The champion's past versions, oldest first (last = current, when consistent)."""
    model = _registered(client, name)
    if model is None:
        return []
    raw = (model.tags or {}).get(HISTORY_TAG)
    if not raw:
        return []
    try:
        return [int(v) for v in json.loads(raw)]
    except (ValueError, TypeError):
        return []


def _move_champion(client, name: str, version: int, history: list[int]) -> None:
    client.set_registered_model_alias(name, CHAMPION, str(version))
    client.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history[-_HISTORY_KEEP:]))


def set_champion(client, name: str, version: int) -> int | None:
    """Point ``champion`` at ``version`` and push it on the history; return the previous one."""
    previous = alias_version(client, name, CHAMPION)
    history = champion_history(client, name)
    if previous is not None and (not history or history[-1] != previous):
        history.append(previous)  # an alias moved outside leadscore: keep it in the record
    if previous != version:
        history.append(version)
    _move_champion(client, name, version, history)
    return previous


def require_model_files(client, name: str, version: int) -> None:
    """Refuse a champion whose files are gone (an artifact store cleaned up or moved): every
    API worker would fail to load it and keep serving the old champion, while the registry and
    ``leadscore score`` said otherwise.

    Raises:
        LeadscoreError: naming the version, where its files should be, and the two ways out.
    """
    uri = client.get_model_version_download_uri(name, str(version))
    if not _holds_manifest(uri, depth=4):
        raise LeadscoreError(
            f"Model {name!r} v{version} has no model files at {uri} (moved or deleted?): restore "
            f"them, or promote another version; the champion did not move."
        )


def _holds_manifest(uri: str, depth: int) -> bool:
    """Whether the artifact folder ``uri`` holds a bundle manifest within ``depth`` levels."""
    import mlflow.artifacts  # mlflow takes a second to import: only the commands that need it

    from scoring.bundle import MANIFEST

    try:
        entries = mlflow.artifacts.list_artifacts(artifact_uri=uri)
    except Exception:  # noqa: BLE001 - any store's "not there" reads as missing files
        return False
    for entry in entries:
        base = entry.path.rstrip("/").rsplit("/", 1)[-1]
        if not entry.is_dir and base == MANIFEST:
            return True
        if entry.is_dir and depth > 1 and _holds_manifest(f"{uri.rstrip('/')}/{base}", depth - 1):
            return True
    return False


def set_challenger(client, name: str, version: int) -> None:
    client.set_registered_model_alias(name, CHALLENGER, str(version))


def _describe(previous: int | None, version: int) -> str:
    before = f"v{previous}" if previous is not None else "(none)"
    return f"champion: {before} -> v{version}"


def promote_version(version: int, config: dict[str, Any]) -> str:
    """Make ``version`` the champion (``leadscore promote VERSION``); say what moved.

    Raises:
        LeadscoreError: when no model is registered or ``version`` does not exist.
    """
    client = _client(config)
    name = model_name(config)
    if client is None or _registered(client, name) is None:
        raise LeadscoreError(
            (client is not None and not_registered(client, name))
            or f"No model is registered as {name!r} yet: run `leadscore review` first."
        )
    existing = versions(client, name)
    if version not in existing:
        listed = ", ".join(f"v{v}" for v in existing) or "none"
        raise LeadscoreError(
            f"Model {name!r} has no version {version}: choose one of {listed}."
        )
    previous = alias_version(client, name, CHAMPION)
    if previous == version:
        return f"champion: v{version} already {NOTHING_MOVED}"
    cycle_guard.require_completed_run(client, name, version)
    require_model_files(client, name, version)
    set_champion(client, name, version)
    return _describe(previous, version) + _failed_gates(client, name, version)


def _failed_gates(client, name: str, version: int, how: str = "promoted by hand") -> str:
    """`` (vN failed the band gate in its review, cycle C4: promoted by hand)`` when the version's
    review tags record failed gates, else nothing: a person may overrule the gates, but the line
    says that they did (``how``: what made it champion)."""
    tags = dict(client.get_model_version(name, str(version)).tags or {})
    failed = sorted((k.removeprefix("gate.") for k, v in tags.items()
                     if k.startswith("gate.") and v == "fail"),
                    key=lambda g: (GATE_ORDER.index(g) if g in GATE_ORDER else len(GATE_ORDER), g))
    if not failed:
        return ""
    cycle = f", cycle {tags['cycle']}" if tags.get("cycle") else ""
    return (f" (v{version} failed the {', '.join(failed)} gate{'s' if len(failed) > 1 else ''} "
            f"in its review{cycle}: {how})")


def _no_store(config: dict[str, Any]) -> str:
    """No champion because the configured MLflow store does not exist: say where it looked."""
    from training.tracking import missing_store

    return (f"{NO_CHAMPION.removesuffix('.')} (there is no MLflow store at "
            f"{missing_store(config)}: if you reviewed in another folder, run from there or set "
            "MLFLOW_TRACKING_URI to its store).")


def rollback_champion(config: dict[str, Any]) -> str:
    """Move ``champion`` back to the version that held it before (``leadscore rollback``).

    Raises:
        LeadscoreError: when there is no earlier champion to go back to.
    """
    client = _client(config)
    name = model_name(config)
    if client is None:
        raise LeadscoreError(_no_store(config))
    current = alias_version(client, name, CHAMPION)
    if current is None:
        raise LeadscoreError(no_champion(client, name))
    history = _earlier_champions(client, name, current)
    if not history:
        raise LeadscoreError("There is no earlier champion to roll back to.")
    target = history[-1]
    require_model_files(client, name, target)
    _move_champion(client, name, target, history)
    return _describe(current, target) + _failed_gates(client, name, target,
                                                      "champion again by rollback")


def _earlier_champions(client, name: str, current: int) -> list[int]:
    """The champion history below ``current``, oldest first: versions that still exist and whose
    review ran to its end (a killed or failed review's version is never a place to go back to)."""
    existing = set(versions(client, name))
    history = [v for v in champion_history(client, name) if v in existing
               and cycle_guard.run_status(client, name, v) in ("FINISHED", None)]
    while history and history[-1] == current:
        history.pop()
    return history


def previous_champion(config: dict[str, Any]) -> tuple[int | None, int | None]:
    """``(current, previous)`` champion versions: the previous one is where ``leadscore
    rollback`` would go; either is None when there is none."""
    client = _client(config)
    name = model_name(config)
    current = None if client is None else alias_version(client, name, CHAMPION)
    if current is None:
        return None, None
    earlier = _earlier_champions(client, name, current)
    return current, (earlier[-1] if earlier else None)


def load_bundle(model_uri: str | None, config: dict[str, Any]):
    """Download a logged model and load its scoring bundle.

    Args:
        model_uri: any MLflow model URI (``models:/leadscore@champion``, ``models:/leadscore/2``,
            ``runs:/<id>/model``) or a local folder; None means the champion.

    Returns:
        ``(bundle, version)``: the ScoringBundle and the registry's ModelVersion (None when the URI
        does not name a registered version).

    Raises:
        LeadscoreError: when there is no champion, or the URI does not hold a leadscore bundle.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    uri = model_uri or champion_uri(config)
    local = Path(uri)
    if "://" not in uri and ":/" not in uri and local.exists():
        return _bundle_in(local, uri), None  # a bundle or model folder: no store involved
    client = _client(config)
    name = model_name(config)
    if client is None:
        from training.tracking import missing_store

        raise LeadscoreError(_no_store(config) if model_uri is None else (
            f"Cannot load the model {uri}: there is no MLflow store at {missing_store(config)} "
            "yet; run `leadscore review` first, or set MLFLOW_TRACKING_URI to your store."))
    version = _version_of(client, uri)
    if model_uri is None and version is None:
        raise LeadscoreError(no_champion(client, name))
    from training.tracking import quiet_mlflow

    # the boosters and the manifest are read into memory, so the download can go at once
    with tempfile.TemporaryDirectory(prefix=cycle_guard.temp_prefix("model")) as tmp:
        try:
            with quiet_mlflow():
                root = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp))
        except MlflowException as exc:
            if version is not None:  # the registry names it: its files are what is missing
                raise LeadscoreError(_files_gone(client, name, version)) from None
            if uri == champion_uri(config):
                raise LeadscoreError(no_champion(client, name)) from None
            first = str(exc).strip().splitlines()[0][:200]
            raise LeadscoreError(
                f"Cannot load the model {uri} ({first}): "
                f"check the URI, e.g. models:/{name}@champion."
            ) from None
        if version is not None and not any(root.rglob(_manifest_name())):
            # a review logged it (the registry has it), so "not a leadscore model" would be false
            raise LeadscoreError(_files_gone(client, name, version))
        return _bundle_in(root, uri), version


def _manifest_name() -> str:
    from scoring.bundle import MANIFEST

    return MANIFEST


def _files_gone(client, name: str, version) -> str:
    """A registered version's files are missing: where they should be, and the ways out."""
    number = int(version.version)
    champion = alias_version(client, name, CHAMPION) == number
    where = client.get_model_version_download_uri(name, str(number))
    return (f"Model {name!r} v{number}{' (the champion)' if champion else ''} has no model files "
            f"at {where} (moved or deleted?): restore them, or make another version the "
            "champion (`leadscore rollback`, or `leadscore promote N`).")


def _bundle_in(root: Path, uri: str):
    from scoring.bundle import MANIFEST, ScoringBundle

    manifests = sorted(root.rglob(MANIFEST), key=lambda p: len(p.parts))
    if not manifests:
        raise LeadscoreError(
            f"{uri} is not a leadscore model (no bundle inside): "
            "use a model logged by `leadscore review`."
        )
    return ScoringBundle.load(manifests[0].parent)


def _version_of(client, uri: str):
    """The ModelVersion a ``models:/`` URI names, or None (no such alias/version, other URI)."""
    from mlflow.exceptions import MlflowException

    if not uri.startswith("models:/"):
        return None
    ref = uri[len("models:/"):]
    try:
        if "@" in ref:
            name, alias = ref.split("@", 1)
            return client.get_model_version_by_alias(name, alias)
        name, _, tail = ref.partition("/")
        if tail.isdigit():
            return client.get_model_version(name, tail)
    except MlflowException:
        return None
    return None
