"""What the leaders' report reads from MLflow: a cycle's run, the run before it, their artifacts.

A review cycle is one run in the experiment (``mlflow.experiment``) tagged ``cycle=<ID>``. The
*previous* run is the latest run of another cycle that started before it and is dated on or
before it.
Artifacts are found by file name wherever the review logged them (``threshold.json``, a file with
``gate`` in its name, ``calibration*.csv``, ``*importance*.csv``, ``*label*summary*.json``,
``valid_scores.parquet``/``.csv``), so the report does not break when a folder is renamed.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pandas as pd

from leadscore.errors import LeadscoreError
from training.cycle_name import cycle_filter

AS_OF_PARAMS = ("as_of",)
"""The review date: the param ``training.review_record.cycle_params`` writes (only that one)."""
WINDOW_START_PARAMS = ("data_window_start",)
"""The first training cohort, as ``training.cycle.data_window`` names it."""
# only a review that ran to its end is a cycle: FAILED and KILLED runs, and RUNNING ones (a review
# still going, or one whose process was killed before MLflow could close the run), are not
_COMPLETED = "FINISHED"


@dataclass
class CycleRun:
    """One review cycle's MLflow run, with its artifacts downloaded to ``artifacts``."""

    run_id: str
    cycle: str
    started: datetime
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    artifacts: Path | None = None
    _files: list[Path] = field(default_factory=list, repr=False)

    def metric(self, key: str, default: float = math.nan) -> float:
        value = self.metrics.get(key)
        return default if value is None else float(value)

    def param(self, *names: str) -> str | None:
        for name in names:
            if self.params.get(name) not in (None, "", "None"):
                return self.params[name]
        return None

    @property
    def as_of(self) -> datetime | None:
        return parse_time(self.param(*AS_OF_PARAMS))

    def files(self) -> list[Path]:
        if self.artifacts is None:
            return []
        if not self._files:
            self._files = sorted(p for p in self.artifacts.rglob("*") if p.is_file())
        return self._files

    def find(self, pattern: str, suffixes: tuple[str, ...]) -> Path | None:
        """The first artifact whose file name matches ``pattern`` (a regex) and a suffix."""
        rx = re.compile(pattern, re.IGNORECASE)
        hits = [p for p in self.files() if p.suffix.lower() in suffixes and rx.search(p.name)]
        return min(hits, key=lambda p: (len(p.parts), str(p))) if hits else None


def parse_time(text: str | None) -> datetime | None:
    """An ISO date or timestamp as a naive UTC datetime (the store's convention), else None."""
    if not text:
        return None
    try:
        value = pd.Timestamp(text)
    except (ValueError, TypeError):
        return None
    if value.tzinfo is not None:
        value = value.tz_convert("UTC").tz_localize(None)
    return value.to_pydatetime()


def _to_cycle_run(run) -> CycleRun:
    return CycleRun(
        run_id=run.info.run_id,
        cycle=run.data.tags.get("cycle", ""),
        started=datetime.fromtimestamp(run.info.start_time / 1000, tz=UTC).replace(tzinfo=None),
        params=dict(run.data.params),
        metrics={k: float(v) for k, v in run.data.metrics.items()},
        tags=dict(run.data.tags),
    )


def _experiment_id(client, config: dict[str, Any]) -> str:
    name = config["mlflow"]["experiment"]
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        raise LeadscoreError(
            f"The MLflow store has no experiment {name!r}: run `leadscore review --cycle ID` first."
        )
    return experiment.experiment_id


def find_cycle_run(client, config: dict[str, Any], cycle: str) -> CycleRun:
    """The newest completed run tagged ``cycle``.

    Raises:
        LeadscoreError: when no run carries the tag.
    """
    experiment = client.get_experiment_by_name(config["mlflow"]["experiment"])
    experiment_id = experiment.experiment_id if experiment is not None else None
    tagged = client.search_runs(
        [experiment_id],
        filter_string=cycle_filter(cycle),
        order_by=["attributes.start_time DESC"],
        max_results=20,
    ) if experiment_id is not None else []
    runs = [r for r in tagged if r.info.status == _COMPLETED]
    if not runs and tagged:
        # the cycle was reviewed, but the review stopped (too little evidence, an error):
        # "no review run" would be false, and running it again unchanged stops again
        state = ("did not finish (its MLflow run is marked failed)"
                 if tagged[0].info.status == "FAILED" else "has not finished")
        raise LeadscoreError(
            f"The review of cycle {cycle!r} {state}, so there is no report to write: fix "
            f"what stopped it (the review printed why) and run `leadscore review --cycle "
            f"{cycle}` again."
        )
    if not runs:
        elsewhere = _experiments_holding(client, cycle, experiment_id)
        if elsewhere:
            held = ", ".join(repr(name) for name in elsewhere)
            raise LeadscoreError(
                f"No review run for cycle {cycle!r} in experiment "
                f"{config['mlflow']['experiment']!r}; this MLflow store holds it in experiment "
                f"{held}: set mlflow.experiment (and mlflow.registered_model) to the config it "
                "was reviewed with, e.g. --config.")
        raise LeadscoreError(
            f"No review run for cycle {cycle!r} in experiment "
            f"{config['mlflow']['experiment']!r}: run `leadscore review --cycle {cycle}` first."
        )
    return _to_cycle_run(runs[0])


def _completed_before(client, config: dict[str, Any], current: CycleRun) -> list[CycleRun]:
    """Completed review runs that started before ``current``, newest first."""
    experiment_id = _experiment_id(client, config)
    started_ms = int(current.started.replace(tzinfo=UTC).timestamp() * 1000)
    runs = client.search_runs(
        [experiment_id],
        filter_string=f"attributes.start_time < {started_ms}",
        order_by=["attributes.start_time DESC"],
        max_results=200,
    )
    return [_to_cycle_run(r) for r in runs
            if r.info.run_id != current.run_id and r.info.status == _COMPLETED
            and r.data.tags.get("cycle") is not None]


def _dated_after(run: CycleRun, current: CycleRun) -> bool:
    return run.as_of is not None and current.as_of is not None and run.as_of > current.as_of


def _experiments_holding(client, cycle: str, except_id: str | None) -> list[str]:
    """The names of the other experiments with a completed run of ``cycle``."""
    others = {e.experiment_id: e.name for e in client.search_experiments()
              if e.experiment_id != except_id}
    if not others:
        return []
    found = client.search_runs(list(others), filter_string=cycle_filter(cycle), max_results=50)
    return sorted({others[r.info.experiment_id] for r in found
                   if r.info.status == _COMPLETED})


def previous_run(client, config: dict[str, Any], current: CycleRun) -> CycleRun | None:
    """The cycle before ``current`` (None: first cycle): the latest completed run of another
    cycle that started before it and is dated on or before it. A review run later but dated
    earlier (``--as-of`` before the last review) is not compared with a cycle dated after it:
    "down from ... in cycle A", or "since the previous review (2026-06-01)" in a report dated
    2026-05-01, would be false."""
    for run in _completed_before(client, config, current):
        if run.cycle != current.cycle and not _dated_after(run, current):
            return run
    return None


def later_dated_before(client, config: dict[str, Any], current: CycleRun) -> CycleRun | None:
    """The latest completed run of another cycle that started before ``current`` but is dated
    after it (so it is not ``current``'s previous cycle; the report says so)."""
    for run in _completed_before(client, config, current):
        if run.cycle != current.cycle and _dated_after(run, current):
            return run
    return None


def earlier_reviews(client, config: dict[str, Any], current: CycleRun) -> list[CycleRun]:
    """Completed reviews of the same cycle that ran before ``current``, oldest first: a cycle
    reviewed again is reported from its latest review, which says the earlier ones exist."""
    return [r for r in reversed(_completed_before(client, config, current))
            if r.cycle == current.cycle]


def download(client, run: CycleRun, dest: Path | None = None) -> CycleRun:
    """Download the run's artifacts (a local copy; nothing in the run changes)."""
    uri = client.get_run(run.run_id).info.artifact_uri or ""
    if uri.startswith("file:"):
        # a local store: read the artifacts where they are (only read, never written)
        run.artifacts = Path(unquote(urlparse(uri).path))
        run._files = []
        return run
    dest = Path(dest or tempfile.mkdtemp(prefix="leadscore-report-"))
    dest.mkdir(parents=True, exist_ok=True)
    try:
        path = client.download_artifacts(run.run_id, "", str(dest))
    except Exception:  # noqa: BLE001 - a run without artifacts still gets a report
        path = str(dest)
    run.artifacts = Path(path)
    run._files = []
    return run


# ---- artifacts ---------------------------------------------------------------------------------

def read_json(path: Path | None) -> Any:
    if path is None:
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def read_table(path: Path | None) -> pd.DataFrame | None:
    if path is None:
        return None
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except (OSError, ValueError):
        return None


def _first_column(frame: pd.DataFrame, *names: str) -> str | None:
    lower = {c.lower(): c for c in frame.columns}
    for name in names:
        if name in lower:
            return lower[name]
    return None


def importance(run: CycleRun) -> pd.DataFrame | None:
    """Global SHAP importance: ``feature``, ``label``, ``group``, ``importance``, ``direction``.

    ``importance`` is the mean absolute SHAP value; ``direction`` says in words which way the
    signal moves the score ("higher raises the score", "vp raises it most"), "" when unknown.
    Sorted by importance, with ``rank`` 1 for the strongest signal.
    """
    frame = read_table(run.find(r"importance", (".csv", ".parquet")))
    if frame is None or frame.empty:
        return None
    feature = _first_column(frame, "feature", "name", "signal")
    value = _first_column(frame, "mean_abs_shap", "importance", "mean_abs", "shap", "value")
    if feature is None or value is None:
        return None
    group = _first_column(frame, "group")
    label = _first_column(frame, "label", "display", "description")
    direction = _first_column(frame, "direction", "sign", "correlation", "mean_shap_direction")
    out = pd.DataFrame({
        "feature": frame[feature].astype(str),
        "importance": pd.to_numeric(frame[value], errors="coerce").fillna(0.0),
    })
    out["group"] = frame[group].astype(str) if group else out["feature"].map(_group_of)
    out["label"] = frame[label].astype(str) if label else out["feature"].map(signal_name)
    out["direction"] = frame[direction].map(_direction_words) if direction else ""
    out = out[out["group"].isin(["fit", "intent"])]
    out = out.sort_values(["importance", "feature"], ascending=[False, True], kind="stable")
    out["rank"] = range(1, len(out) + 1)
    return out.reset_index(drop=True)


def _direction_words(value: Any) -> str:
    """The direction as words: text passes through; a number's sign becomes words."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, int | float):
        if value == 0:
            return ""
        return "higher raises the score" if value > 0 else "higher lowers the score"
    return str(value)


def _group_of(feature: str) -> str:
    from features.definitions import feature_specs

    groups = {s.name: s.group for s in feature_specs(None, {})}
    if feature in groups:
        return groups[feature]
    return "intent" if feature.startswith(("n_", "days_since", "active_days", "trend_")) else "fit"


_ACTIVITY_NOUNS = {
    "demo_request": "Demo requests", "pricing_view": "Pricing views",
    "content_download": "Content downloads", "webinar_attended": "Webinars attended",
    "email_click": "E-mail clicks", "page_view": "Page views", "other": "Other activity",
}
_FIXED_NAMES = {
    "source": "Lead source", "seniority": "Title seniority", "department": "Department",
    "company_size_band": "Company size", "industry": "Industry", "country": "Country",
    "region": "Region", "free_email": "Free e-mail domain", "icp_match": "ICP match",
    "completeness": "Profile completeness", "days_since_high_intent": "Days since demo/pricing",
    "days_since_last_activity": "Days since last activity",
    "active_days_30d": "Active days, last 30 days", "active_days_90d": "Active days, last 90 days",
    "trend_7_30": "Activity trend (7 vs 30 days)",
}


def signal_name(feature: str) -> str:
    """A short readable name of a feature ("n_pricing_view_7d" -> "Pricing views, last 7 days")."""
    if feature in _FIXED_NAMES:
        return _FIXED_NAMES[feature]
    match = re.fullmatch(r"n_(.+)_(\d+)d", feature)
    if match:
        kind, days = match.groups()
        noun = _ACTIVITY_NOUNS.get(kind, kind.replace("_", " ").capitalize())
        return f"{noun}, last {'day' if days == '1' else days + ' days'}"
    if feature.startswith("attr_"):
        return feature[5:].replace("_", " ").capitalize()
    return feature.replace("_", " ").capitalize()


def gates(run: CycleRun) -> dict[str, Any]:
    """The gate decisions: ``{"passed": bool|None, "gates": [{name, passed, sentence, ...}]}``."""
    data = read_json(run.find(r"gate", (".json",)))
    if isinstance(data, dict) and isinstance(data.get("gates"), list):
        return data
    if isinstance(data, list):
        return {"passed": all(g.get("passed") for g in data), "gates": data}
    found = []
    for key, value in sorted(run.metrics.items()):
        match = re.fullmatch(r"gate[s]?\.([^.]+)(?:\.passed)?", key)
        if match:
            found.append({"name": match.group(1), "passed": bool(value), "sentence": ""})
    return {"passed": all(g["passed"] for g in found) if found else None, "gates": found}


def promoted(run: CycleRun) -> bool | None:
    """Whether the cycle moved ``champion`` to its challenger (None: not recorded)."""
    for key in ("promoted", "champion.promoted", "gates_passed"):
        text = run.tags.get(key)
        if text is not None:
            return text.strip().lower() in ("true", "1", "yes")
        if key in run.metrics:
            return bool(run.metrics[key])
    return None


def champion_after(run: CycleRun) -> int | None:
    """The champion's version once the cycle ended: its own version when promoted, else the one it
    started with (None: there was, and is, no champion)."""
    if promoted(run):
        version = run.tags.get("model_version")
        return int(version) if version and version.isdigit() else None
    before = run.param("champion_version_before")
    return int(before) if before and before.isdigit() else None


def calibration(run: CycleRun) -> pd.DataFrame | None:
    frame = read_table(run.find(r"calibration", (".csv", ".parquet")))
    if frame is None or not {"mean_predicted", "observed"} <= set(frame.columns):
        return None
    return frame


def threshold(run: CycleRun) -> dict[str, Any]:
    data = read_json(run.find(r"^threshold", (".json",)))
    return data if isinstance(data, dict) else {}


def label_summary(run: CycleRun) -> dict[str, Any]:
    data = read_json(run.find(r"label.*summary|summary.*label|labels", (".json",)))
    return data if isinstance(data, dict) else {}


def valid_scores(run: CycleRun) -> pd.DataFrame | None:
    """The scored validation cohort when the review logged it (lead_id, score, grade, label ...)."""
    frame = read_table(run.find(r"valid.*scor|scor.*valid", (".parquet", ".csv")))
    if frame is None or not {"grade", "label"} <= set(frame.columns):
        return None
    return frame
