"""Configuration: the shipped defaults, a user's file over them, the environment over both."""

from __future__ import annotations

import copy
import os
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from leadscore.errors import LeadscoreError


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def default_config() -> dict[str, Any]:
    """The shipped configuration (``leadscore/default.yaml``)."""
    text = resources.files("leadscore").joinpath("default.yaml").read_text()
    return yaml.safe_load(text)


def load_config(path: str | Path | None = None, *, store: str | Path | None = None
                ) -> dict[str, Any]:
    """Defaults, then the user's file (if any), then ``LEADSCORE_STORE`` / ``MLFLOW_TRACKING_URI``,
    then ``store`` (a command's ``--store``), which brings its own live store as the file's would.

    Raises:
        LeadscoreError: when the file is missing or is not a YAML mapping.
    """
    config = default_config()
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise LeadscoreError(f"Config file {path} does not exist: pass an existing YAML file.")
        try:
            user = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            problem = getattr(exc, "problem", None) or type(exc).__name__
            raise LeadscoreError(f"Config file {path} is not valid YAML ({where}{problem}): fix "
                                 "it and re-run.") from None
        if not isinstance(user, dict):
            raise LeadscoreError(f"Config file {path} must hold a YAML mapping of settings.")
        unknown = sorted(set(user) - set(config))
        if unknown:
            raise LeadscoreError(
                f"Config file {path} has unknown section(s) {', '.join(unknown)}: "
                f"use only {', '.join(sorted(config))}."
            )
        _check_keys(user, config, path)
        config = _merge(config, user)
        _check_review(config, path)
    else:
        user = {}
    if os.environ.get("LEADSCORE_STORE"):
        config["store"] = os.environ["LEADSCORE_STORE"]
    if os.environ.get("MLFLOW_TRACKING_URI"):
        config["mlflow"]["tracking_uri"] = os.environ["MLFLOW_TRACKING_URI"]
    if store is not None:
        config["store"] = str(store)
    if not (user.get("live") or {}).get("url"):
        config["live"]["url"] = live_url_for(config["store"], config["live"]["url"])
    check_monitor(config, path)
    return config


# each monitor / SLA setting: (lowest allowed, highest allowed, whole number?)
_LIMITS: dict[str, dict[str, tuple[float, float | None, bool]]] = {
    "sla": {"high_intent_hours": (0.0, None, False), "other_hours": (0.0, None, False),
            "disposition_hours": (0.0, None, False)},
    "monitor": {
        "confidence": (0.5, 0.999, False), "min_decided_mqls": (1, None, True),
        "min_weeks": (0.0, None, False), "volume_tolerance": (0.0, None, False),
        "min_coverage": (0.0, 1.0, False),
        "min_due_mqls": (1, None, True), "max_first_touch_missed": (0.0, 1.0, False),
        "max_disposition_missed": (0.0, 1.0, False), "max_psi": (0.0, None, False),
        "min_drift_scores": (1, None, True), "top_movers": (1, None, True),
        "inversion_min_leads": (1, None, True), "inversion_z": (0.0, None, False),
        "max_inversions": (0, None, True),
        "refresh_s": (1.0, None, False),
    },
}


# settings whose keys are free: LightGBM takes any of its own parameters
_OPEN = frozenset({"cycle.lightgbm"})

# review settings: (lowest allowed, highest allowed, whole number?, null allowed?, lowest
# excluded?); null means "not set" for the settings whose comment in default.yaml says so
_REVIEW_LIMITS: dict[tuple[str, ...], tuple[float, float | None, bool, bool, bool]] = {
    ("labels", "maturity_days"): (1, None, True, False, False),
    ("cycle", "validation_weeks"): (1, None, True, False, False),
    ("cycle", "seed"): (0, 2**32 - 1, True, False, False),
    ("cycle", "lock_wait_s"): (0, None, False, False, False),
    ("cycle", "max_mql_share"): (0.0, 1.0, False, False, True),
    ("cycle", "capacity_per_week"): (0.0, None, False, True, True),
    ("cycle", "recency_half_life_weeks"): (0.0, None, False, True, True),
    ("cycle", "bootstrap_rounds"): (20, None, True, False, False),
    ("cycle", "gates", "pr_auc_tolerance"): (0.0, 1.0, False, False, False),
    ("cycle", "gates", "max_calibration_error"): (0.0, 1.0, False, False, False),
}
# cycle.tournament (docs/tournament.md): (lowest allowed, whole number?); tuning on fewer than
# 1,000 leads a fold draws samples too small to hold both outcomes
_TOURNAMENT_LIMITS: dict[str, tuple[float, bool]] = {
    "trials": (1, True), "folds": (1, True), "max_rounds": (1, True), "early_stopping": (1, True),
    "bins": (1, True), "tie_tolerance": (0.0, False), "tie_standard_errors": (0.0, False),
    "max_tuning_leads": (1000, True),
}
_REVIEW_SWITCHES = (("labels", "accept_maturity_window"), ("cycle", "refit"))
_WHY = {
    ("cycle", "bootstrap_rounds"): " (a 95% interval read from fewer resamples is not one)",
    ("cycle", "capacity_per_week"): " (MQLs a week sales can work), or null",
    ("cycle", "recency_half_life_weeks"): " (weeks), or null to weigh every lead the same",
    ("cycle", "max_mql_share"): " (0 would let no lead be an MQL)",
}


def _out_of_range(value: Any, low: float, high: float | None, whole: bool,
                  low_open: bool = False) -> bool:
    return (isinstance(value, bool) or not isinstance(value, int | float)
            or value != value or (whole and value != int(value))
            or (value <= low if low_open else value < low)
            or (high is not None and value > high))


def _span(low: float, high: float | None, whole: bool, low_open: bool = False) -> str:
    kind = "a whole number" if whole else "a number"
    low_text = f"{low:g}"
    if high is not None:
        high_text = f"{int(high)}" if whole else f"{high:g}"
        if low_open:
            return f"{kind} above {low_text} and at most {high_text}"
        return f"{kind} between {low_text} and {high_text}"
    return f"{kind} above {low_text}" if low_open else f"{kind} {low_text} or more"


def _check_keys(user: dict[str, Any], defaults: dict[str, Any], path: Path,
                prefix: str = "") -> None:
    """Every key of the user's file is a setting the defaults know: a misspelt one would be
    ignored while the user believes it took."""
    for key, value in user.items():
        name = f"{prefix}{key}"
        if prefix and key not in defaults:
            known = ", ".join(str(k) for k in defaults)
            raise LeadscoreError(f"Config file {path}: {name} is not a setting; "
                                 f"{prefix.rstrip('.')} has {known}.")
        default = defaults.get(key)
        if not prefix and key in _LIMITS:
            continue  # check_monitor checks these sections, keys and values alike
        if isinstance(default, dict) and name not in _OPEN:
            if not isinstance(value, dict):
                raise LeadscoreError(f"Config file {path}: {name} must be a mapping of settings "
                                     f"({', '.join(str(k) for k in default)}).")
            _check_keys(value, default, path, f"{name}.")


def _setting(config: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys[:-1]:
        config = config.get(key) or {}
    return config.get(keys[-1])


def _check_review(config: dict[str, Any], path: Path) -> None:
    """The review settings a team edits first hold numbers in range, and the band is a pair of
    fractions: a band written in percent (60-85) would make every threshold infeasible."""
    for keys, (low, high, whole, nullable, low_open) in _REVIEW_LIMITS.items():
        value = _setting(config, keys)
        if (value is None and nullable) or not _out_of_range(value, low, high, whole, low_open):
            continue
        raise LeadscoreError(f"Config file {path}: {'.'.join(keys)} is {value!r}; it must be "
                             f"{_span(low, high, whole, low_open)}{_WHY.get(keys, '')}.")
    for keys in _REVIEW_SWITCHES:
        value = _setting(config, keys)
        if not isinstance(value, bool):
            raise LeadscoreError(f"Config file {path}: {'.'.join(keys)} is {value!r}; it must "
                                 "be true or false (unquoted).")
    check_tournament(config["cycle"].get("tournament") or {}, f"Config file {path}: ")
    _check_lists(config, path)
    band = config["cycle"].get("band") or {}
    low, high = band.get("min"), band.get("max")
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high))
    if not numbers or not 0 < low < high <= 1:
        raise LeadscoreError(f"Config file {path}: cycle.band is {band!r}; give min and max as "
                             "fractions with 0 < min < max <= 1, e.g. {min: 0.60, max: 0.85} "
                             "for 60%-85%.")


def _check_lists(config: dict[str, Any], path: Path) -> None:
    """The ICP and feature lists are YAML lists of names (a bare string would be read letter by
    letter), the windows not empty (they would fall back to the defaults unsaid), and the
    outcome's name is words (it is printed in every count)."""
    for section, key in (("icp", "company_size_bands"), ("icp", "industries"),
                         ("icp", "seniorities"), ("icp", "regions"),
                         ("features", "high_intent_activities")):
        value = (config.get(section) or {}).get(key)
        if value is None:  # features' own meaning: not checked, or the default activities
            continue
        if not isinstance(value, list) or not all(isinstance(v, str | int | float)
                                                  and not isinstance(v, bool) for v in value):
            example = f"[{value}]" if isinstance(value, str) else "[a, b]"
            raise LeadscoreError(f"Config file {path}: {section}.{key} is {value!r}; give a "
                                 f"list of names, e.g. {example} (an empty list [] checks none).")
    name = config["labels"].get("positive_name")  # None: named from the positives' verdicts
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise LeadscoreError(f"Config file {path}: labels.positive_name is {name!r}; give what a "
                             "converted lead is called, in words, e.g. won deal.")
    windows = (config.get("features") or {}).get("windows_days")
    if not isinstance(windows, list) or not windows or any(
            _out_of_range(w, 1, None, True) for w in windows):
        raise LeadscoreError(f"Config file {path}: features.windows_days is {windows!r}; give at "
                             "least one window of whole days, 1 or more, e.g. [1, 7, 30, 90].")


def check_tournament(settings: dict[str, Any], where: str = "") -> None:
    """``cycle.tournament`` holds a true/false ``enabled`` and numbers in range.

    Args:
        where: what starts the sentence ("Config file x.yaml: "), or nothing.

    Raises:
        LeadscoreError: one sentence naming the setting and what it must be.
    """
    if not isinstance(settings.get("enabled"), bool):
        raise LeadscoreError(f"{where}cycle.tournament.enabled is {settings.get('enabled')!r}; "
                             "it must be true or false (unquoted).")
    for key, (low, whole) in _TOURNAMENT_LIMITS.items():
        value = settings.get(key)
        if _out_of_range(value, low, None, whole):
            raise LeadscoreError(f"{where}cycle.tournament.{key} is {value!r}; it must be "
                                 f"{_span(low, None, whole)}.")


def check_monitor(config: dict[str, Any], path: str | Path | None = None) -> None:
    """The ``sla`` and ``monitor`` sections hold known keys with numbers in range.

    Raises:
        LeadscoreError: one sentence naming the setting and what it must be.
    """
    where = f"Config file {path}" if path is not None else "The configuration"
    for section, limits in _LIMITS.items():
        values = config.get(section)
        if not isinstance(values, dict):
            raise LeadscoreError(f"{where}: {section} must be a mapping of settings "
                                 f"({', '.join(limits)}).")
        unknown = sorted(set(values) - set(limits))
        if unknown:
            raise LeadscoreError(f"{where}: {section} has unknown setting(s) "
                                 f"{', '.join(unknown)}: use only {', '.join(limits)}.")
        for key, (low, high, whole) in limits.items():
            value = values.get(key)
            low_open = section == "sla"  # a target of 0 hours is one no lead can meet
            if _out_of_range(value, low, high, whole, low_open):
                raise LeadscoreError(f"{where}: {section}.{key} is {value!r}; it must be "
                                     f"{_span(low, high, whole, low_open)}.")


def live_url_for(store: str | Path, default_url: str) -> str:
    """The embedded live store that belongs to ``store``, when the config names no other.

    The live store feeds its events and verdicts into the next review of one history store; two
    stores sharing one live file would merge each other's leads. The shipped store keeps the
    shipped ``data/live.db``; any other store gets ``<store>.live.db`` beside it.
    """
    if Path(store) == Path(default_config()["store"]):
        return default_url
    path = Path(store)
    return f"sqlite:///{path.with_name(path.stem + '.live.db')}"
