"""Feature building: one definition, two paths, batch (training, batch scoring) and online (API).

* ``build_batch`` reads the DuckDB store: intent aggregates in SQL (each scoring point joined to its
  lead's activities with ``occurred_at <= as_of``), fit parsed in Python over the *unique* values of
  each lead column (titles, sizes and countries repeat, so a million leads parse in seconds).
* ``build_online`` takes one lead as a JSON-like dict (a leads-table row plus optional
  ``activities`` and ``attributes``) and computes the same features in plain Python, no pandas.
  ``build_online_many`` does it for a batch of such dicts at once (an API request, a pyfunc
  frame): the same fit functions per lead, and the intent loop compiled over every activity of
  the batch (``intent.intent_matrix``); lead i gets exactly what ``build_online`` gives it
  (``tests/features/test_online_many.py``).

Both call the same pure functions in ``features.fit`` and ``features.intent`` and read the same
registry (``features.definitions``), so they agree: integers exactly, floats to 1e-9, categories
as identical strings (``tests/features/test_parity.py``). Nothing dated after ``as_of`` reaches a
feature in either path (``tests/features/test_leakage.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from features import fit, intent
from features.definitions import FeatureSpec, attribute_value, feature_specs
from features.intent import EPOCH_UTC, ONE_US
from leadscore.errors import LeadscoreError

POINTS_VIEW = "_leadscore_points"
DEFAULT_CHUNK = 250_000


# ---- shared plan --------------------------------------------------------------------------------

def _roles_key(roles: Mapping[str, Sequence[str]] | None) -> tuple[tuple[str, str, str], ...]:
    return tuple(sorted((str(k), str(v[0]), str(v[1])) for k, v in (roles or {}).items()))


def _config_key(config: Mapping[str, Any]) -> tuple:
    icp = config.get("icp") or {}
    return (
        intent.windows_days(config),
        intent.high_intent_types(config),
        tuple((k, tuple(str(x) for x in (icp.get(k) or ()))) for k in sorted(icp)),
    )


@lru_cache(maxsize=64)
def _plan(config_key: tuple, roles_key: tuple) -> tuple:
    windows, high, icp_items = config_key
    config = {
        "features": {"windows_days": list(windows), "high_intent_activities": list(high)},
        "icp": {k: list(v) for k, v in icp_items},
    }
    roles = {name: (role, kind) for name, role, kind in roles_key}
    specs = tuple(feature_specs(roles, config))
    attrs = tuple(s for s in specs if s.attribute is not None)
    return specs, attrs, fit.icp_lists(config), windows, high


def attribute_roles(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """``{column: (role, kind)}`` from the store's ``attribute_roles`` table (empty without one)."""
    try:
        rows = con.execute("SELECT name, role, kind FROM attribute_roles").fetchall()
    except duckdb.CatalogException:
        return {}
    return {name: (role, kind) for name, role, kind in rows}


def specs_for_store(
    con: duckdb.DuckDBPyConnection, config: Mapping[str, Any]
) -> list[FeatureSpec]:
    """The feature registry of a store: fixed features plus its fit/intent attributes."""
    return feature_specs(attribute_roles(con), config)


# ---- online -------------------------------------------------------------------------------------

@lru_cache(maxsize=1024)
def _activity_key(raw: str) -> str:
    return intent.activity_type_key(raw)


def _activity_list(activities: Any) -> Sequence[Any]:
    if activities is None:
        return ()
    if not isinstance(activities, list | tuple) and (
        not isinstance(activities, Sequence) or isinstance(activities, str | bytes)
    ):
        raise LeadscoreError("activities must be a list of {activity_type, occurred_at} objects.")
    return activities


def _activity(item: Any, i: int) -> tuple[str, int]:
    """``(activity type key, occurred_at in epoch microseconds)`` of activity ``i``."""
    if type(item) is not dict and not isinstance(item, Mapping):
        raise LeadscoreError(
            f"activities[{i}] must be an object with activity_type and occurred_at."
        )
    activity_type = item.get("activity_type")
    text = activity_type if type(activity_type) is str else (
        None if activity_type is None else str(activity_type))
    key = _activity_key(text) if text is not None else ""
    if not key and (text is None or not text.strip()):  # a key with a letter is never blank
        raise LeadscoreError(f"activities[{i}].activity_type is missing: name the activity.")
    try:
        at_us = intent.to_epoch_us(item.get("occurred_at"))
    except (TypeError, ValueError):
        raise LeadscoreError(
            f"activities[{i}].occurred_at is not an ISO-8601 timestamp: "
            "send it like 2026-03-01T14:30:00Z."
        ) from None
    return key, at_us


def _activity_pairs(activities: Any) -> list[tuple[str, int]]:
    return [_activity(item, i) for i, item in enumerate(_activity_list(activities))]


def _as_of_epoch_us(as_of: datetime | str | None) -> int:
    if as_of is None:
        as_of = datetime.now(UTC)
    try:
        return intent.to_epoch_us(as_of)
    except (TypeError, ValueError):
        raise LeadscoreError(
            "as_of is not an ISO-8601 timestamp: send it like 2026-03-01T14:30:00Z."
        ) from None


def _attribute_raw(lead: Mapping[str, Any], column: str) -> Any:
    attributes = lead.get("attributes")
    if isinstance(attributes, Mapping) and column in attributes:
        return attributes[column]
    return lead.get(column)


def build_online(
    lead: Mapping[str, Any],
    as_of: datetime | str | None,
    config: Mapping[str, Any],
    attribute_roles: Mapping[str, tuple[str, str]] | None = None,
) -> dict[str, float | str | None]:
    """Every feature of one lead at ``as_of``, in registry order, in plain Python.

    Args:
        lead: the lead's contract fields (``source``, ``title``, ``company_size``, ``industry``,
            ``country``, ``email_domain`` or ``email``; any may be missing), optional
            ``activities`` (``[{"activity_type", "occurred_at"}]``, datetimes or ISO strings) and
            optional ``attributes`` (``{column: value}`` for the store's extra columns). An e-mail
            address is reduced to its domain and never kept or logged.
        as_of: the scoring moment (naive = UTC); None means now. Activities after it are ignored.
        config: the leadscore config (``icp`` and ``features`` sections).
        attribute_roles: ``{column: (role, kind)}`` of the store the model was trained on.

    Returns:
        ``{feature: value}``: floats (NaN when unknown) for numeric features, str or None for
        categorical ones.

    Raises:
        LeadscoreError: when ``as_of`` or an activity is malformed; the message names the field.
    """
    return online_builder(config, attribute_roles)(lead, as_of)


def online_builder(
    config: Mapping[str, Any],
    attribute_roles: Mapping[str, tuple[str, str]] | None = None,
) -> Callable[[Mapping[str, Any], datetime | str | None], dict[str, float | str | None]]:
    """``build_online`` with ``config`` and ``attribute_roles`` read once: ``build(lead, as_of)``
    gives exactly what ``build_online(lead, as_of, config, attribute_roles)`` does. For scoring
    many leads with one model (a request, a batch)."""
    return _builder(_config_key(config), _roles_key(attribute_roles))


@lru_cache(maxsize=64)
def _builder(config_key: tuple, roles_key: tuple) -> Callable[..., dict[str, Any]]:
    specs, attrs, icp, windows, high = _plan(config_key, roles_key)
    names = tuple(spec.name for spec in specs)
    attributes = tuple((spec.name, spec.attribute, spec.kind) for spec in attrs)
    fit_features, intent_features = fit.fit_features, intent.intent_features

    def build(lead: Mapping[str, Any], as_of: datetime | str | None) -> dict[str, Any]:
        as_of_us = _as_of_epoch_us(as_of)
        values: dict[str, Any] = fit_features(lead, icp)
        values.update(intent_features(
            _activity_pairs(lead.get("activities")), as_of_us, windows, high
        ))
        for name, column, kind in attributes:
            values[name] = attribute_value(_attribute_raw(lead, column), kind)
        return {name: values[name] for name in names}

    return build


class LeadFeatureError(LeadscoreError):
    """Feature building refused lead ``index`` of a batch; the message names the field."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


class OnlineBatch:
    """The features of a batch of leads, column by column (``build_online_many``).

    ``columns[name]`` holds one value per lead: a float64 array for each intent feature, a list
    of what ``build_online`` gives for the others. ``record(i)`` is lead i's ``build_online``
    dict, value for value.
    """

    def __init__(self, names: Sequence[str], columns: dict[str, Any], size: int) -> None:
        self.names = tuple(names)
        self.columns = columns
        self.size = size

    def __len__(self) -> int:
        return self.size

    def record(self, i: int) -> dict[str, float | str | None]:
        out: dict[str, Any] = {}
        for name in self.names:
            value = self.columns[name][i]
            out[name] = float(value) if isinstance(value, np.floating) else value
        return out

    def records(self) -> list[dict[str, float | str | None]]:
        return [self.record(i) for i in range(self.size)]


def build_online_many(
    leads: Sequence[Mapping[str, Any]],
    as_ofs: Sequence[datetime | str | None],
    config: Mapping[str, Any],
    attribute_roles: Mapping[str, tuple[str, str]] | None = None,
) -> OnlineBatch:
    """``build_online`` for many leads at once (a request, a frame): lead i's features are
    exactly ``build_online(leads[i], as_ofs[i], config, attribute_roles)``.

    Fit features come from the same per-field functions; intent features from
    ``intent.intent_matrix``, the compiled form of ``intent.intent_features``'s loop, over every
    activity of the batch at once.

    Raises:
        LeadFeatureError: for the first lead whose ``as_of`` or activity is malformed, with its
            index and the field.
    """
    return online_many_builder(config, attribute_roles)(leads, as_ofs)


def online_many_builder(
    config: Mapping[str, Any],
    attribute_roles: Mapping[str, tuple[str, str]] | None = None,
) -> Callable[[Sequence[Mapping[str, Any]], Sequence[datetime | str | None]], OnlineBatch]:
    """``build_online_many`` with ``config`` and ``attribute_roles`` read once."""
    return _many_builder(_config_key(config), _roles_key(attribute_roles))


@lru_cache(maxsize=64)
def _many_builder(config_key: tuple, roles_key: tuple) -> Callable[..., OnlineBatch]:
    specs, attrs, icp, windows, high = _plan(config_key, roles_key)
    names = tuple(spec.name for spec in specs)
    intent_names = tuple(intent.intent_feature_names(windows))
    fit_names = tuple(n for n in names if n not in set(intent_names)
                      and n not in {spec.name for spec in attrs})
    attributes = tuple((spec.name, spec.attribute, spec.kind) for spec in attrs)
    known_types = {t: i for i, t in enumerate(intent.ACTIVITY_TYPES)}
    fit_features = fit.fit_features

    def build(leads: Sequence[Mapping[str, Any]],
              as_ofs: Sequence[datetime | str | None]) -> OnlineBatch:
        n = len(leads)
        if len(as_ofs) != n:
            raise ValueError(f"{n} leads but {len(as_ofs)} as_of values")
        fit_rows = []
        as_of_us = np.empty(n, dtype=np.int64)
        type_of = dict(known_types)
        id_of_text: dict[str, int] = {}  # activity_type as sent -> type id, for this batch
        lead_index: list[int] = []
        type_ids: list[int] = []
        at_us: list[int] = []
        for i, lead in enumerate(leads):
            try:
                as_of_us[i] = _as_of_epoch_us(as_ofs[i])
                activities = _activity_list(lead.get("activities"))
                for j, item in enumerate(activities):
                    # The usual activity (a dict, a type text seen before, an aware datetime, as
                    # the API validates them) inline, as _activity would read it; anything else
                    # through _activity, once per type text, with its checks and messages.
                    type_id = text = None
                    if type(item) is dict:
                        text, at = item.get("activity_type"), item.get("occurred_at")
                        if type(text) is str and type(at) is datetime and at.tzinfo is not None:
                            type_id = id_of_text.get(text)
                            if type_id is not None:
                                try:
                                    at = (at - EPOCH_UTC) // ONE_US
                                except TypeError:  # a tzinfo without an offset: naive
                                    type_id = None
                    if type_id is None:
                        key, at = _activity(item, j)
                        type_id = type_of.get(key)
                        if type_id is None:
                            type_id = type_of[key] = len(type_of)
                        if type(text) is str:
                            id_of_text[text] = type_id
                    type_ids.append(type_id)
                    at_us.append(at)
            except LeadscoreError as exc:
                raise LeadFeatureError(i, str(exc)) from None
            lead_index.extend([i] * len(activities))
            fit_rows.append(fit_features(lead, icp))
        columns: dict[str, Any] = {name: [row[name] for row in fit_rows] for name in fit_names}
        block = intent.intent_matrix(*_sorted_activities(lead_index, type_ids, at_us, n),
                                     as_of_us, windows,
                                     np.array([t in high for t in type_of], dtype=np.bool_))
        for j, name in enumerate(intent_names):
            columns[name] = block[:, j]
        for name, column, kind in attributes:
            columns[name] = [attribute_value(_attribute_raw(lead, column), kind) for lead in leads]
        return OnlineBatch(names, columns, n)

    return build


def _sorted_activities(
    lead_index: list[int], type_ids: list[int], at_us: list[int], n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(lead_start, type_id, at_us)`` as ``intent.intent_matrix`` takes them: sorted by lead,
    time and type, each repeated (lead, type, time) kept once, as the store keeps it."""
    lead = np.array(lead_index, dtype=np.int64)
    types = np.array(type_ids, dtype=np.int64)
    at = np.array(at_us, dtype=np.int64)
    order = np.lexsort((types, at, lead))
    lead, types, at = lead[order], types[order], at[order]
    if len(lead) > 1:
        keep = np.ones(len(lead), dtype=np.bool_)
        keep[1:] = (lead[1:] != lead[:-1]) | (at[1:] != at[:-1]) | (types[1:] != types[:-1])
        if not keep.all():
            lead, types, at = lead[keep], types[keep], at[keep]
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(lead, minlength=n), out=start[1:])
    return start, types, at


# ---- batch --------------------------------------------------------------------------------------

def _map_unique(func: Callable[[Any], Any], values: pd.Series) -> np.ndarray:
    """``func`` applied once per distinct value (missing values as None), spread back to rows."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = np.empty(len(uniques) + 1, dtype=object)
    results[:-1] = [func(u) for u in uniques]
    if (codes < 0).any():
        results[-1] = func(None)
    return results[codes]


def _map_unique_rows(func: Callable[..., Any], *columns: np.ndarray) -> np.ndarray:
    """``func(*row)`` applied once per distinct row of small-cardinality columns."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    decoders = []
    for column in columns:
        codes, uniques = pd.factorize(pd.Series(column, dtype=object), use_na_sentinel=True)
        decoders.append(np.append(np.asarray(uniques, dtype=object), None))
        key = key * (len(uniques) + 1) + np.where(codes < 0, len(uniques), codes)
    distinct, inverse = np.unique(key, return_inverse=True)
    results = np.empty(len(distinct), dtype=object)
    for i, packed in enumerate(distinct.tolist()):
        row = []
        for decoder in reversed(decoders):
            packed, code = divmod(packed, len(decoder))
            row.append(decoder[code])
        results[i] = func(*reversed(row))
    return results[inverse.ravel()]


def _as_of_us(values: pd.Series) -> pd.Series:
    try:
        if pd.api.types.is_datetime64_any_dtype(values):
            stamps = pd.to_datetime(values, utc=True)
        else:
            stamps = pd.to_datetime(values, utc=True, format="ISO8601")
    except (TypeError, ValueError) as exc:
        raise LeadscoreError(
            f"points.as_of holds a value that is not a timestamp ({exc}): fix the scoring points."
        ) from None
    if stamps.isna().any():
        raise LeadscoreError("points.as_of is empty for some rows: give every point its moment.")
    return stamps.dt.tz_localize(None).dt.floor("us").astype("datetime64[us]").astype("int64")


def _fit_columns(leads: pd.DataFrame, icp: Mapping[str, frozenset[str]]) -> dict[str, np.ndarray]:
    title = leads["title"]
    size = _map_unique(fit.company_size_band, leads["company_size"])
    industry = _map_unique(fit.normalise_industry, leads["industry"])
    country = _map_unique(fit.normalise_country, leads["country"])
    region = _map_unique(fit.region, pd.Series(country, dtype=object))
    level = _map_unique(fit.seniority, title)
    present = sum(
        _map_unique(fit.is_present, leads[f]).astype(np.int64) for f in fit.FIT_FIELDS
    )
    return {
        "source": _map_unique(fit.normalise_source, leads["source"]),
        "seniority": level,
        "department": _map_unique(fit.department, title),
        "company_size_band": size,
        "industry": industry,
        "country": country,
        "region": region,
        "free_email": _map_unique(fit.free_email, leads["email_domain"]).astype(np.float64),
        "icp_match": _map_unique_rows(
            lambda s, i, lv, r: fit.icp_match(s, i, lv, r, icp), size, industry, level, region
        ).astype(np.float64),
        "completeness": _map_unique(fit.completeness, pd.Series(present)).astype(np.float64),
    }


def _attribute_columns(
    raw_json: pd.Series, attrs: Sequence[FeatureSpec]
) -> dict[str, np.ndarray]:
    if not attrs:
        return {}
    codes, uniques = pd.factorize(raw_json, use_na_sentinel=True)
    parsed = [json.loads(u) if isinstance(u, str) else u for u in uniques] + [None]
    out = {}
    for spec in attrs:
        per_unique = np.empty(len(parsed), dtype=object)
        per_unique[:] = [
            attribute_value(p.get(spec.attribute) if isinstance(p, dict) else None, spec.kind)
            for p in parsed
        ]
        column = per_unique[codes]
        out[spec.name] = column.astype(np.float64) if spec.kind == "numeric" else column
    return out


def _intent_columns(
    con: duckdb.DuckDBPyConnection,
    points: pd.DataFrame,
    windows: tuple[int, ...],
    high: tuple[str, ...],
    chunk_size: int,
) -> dict[str, np.ndarray]:
    counts_sql, recency_sql = intent.intent_sql(windows, high, POINTS_VIEW)
    n = len(points)
    names = [*intent.intent_feature_names(windows), "n_all_7d", "n_all_30d"]
    out = {name: np.zeros(n, dtype=np.float64) for name in names}
    last_age = np.full(n, np.nan)
    last_high_age = np.full(n, np.nan)
    for start in range(0, n, chunk_size):
        chunk = points.iloc[start:start + chunk_size]
        con.register(POINTS_VIEW, chunk)
        try:
            counts = con.execute(counts_sql).fetchnumpy()
            recency = con.execute(recency_sql).fetchnumpy()
        finally:
            con.unregister(POINTS_VIEW)
        stop = start + len(chunk)
        pivot = intent.pivot_counts(
            np.asarray(counts["_pid"]) - start, np.asarray(counts["type_code"]),
            np.asarray(counts["bucket"]), np.asarray(counts["n"]), len(chunk), windows,
        )
        for name, values in pivot.items():
            out[name][start:stop] = values
        rows = np.asarray(recency["_pid"])
        for name in ("active_days_30d", "active_days_90d"):
            out[name][rows] = np.asarray(recency[name], dtype=np.float64)
        # ages are whole microseconds below 2**53, so float64 holds them exactly and dividing
        # rounds like the online path's int / int; NULL (no such activity) becomes NaN
        for target, age in ((last_age, "last_age_us"), (last_high_age, "last_high_age_us")):
            values = recency[age]
            target[rows] = np.ma.filled(np.ma.asarray(values).astype(np.float64), np.nan)
    short, long = out.pop("n_all_7d"), out.pop("n_all_30d")
    out["trend_7_30"] = (short + 1) / (
        (long - short) * intent.TREND_SHORT_DAYS
        / (intent.TREND_LONG_DAYS - intent.TREND_SHORT_DAYS) + 1
    )
    out["days_since_last_activity"] = last_age / intent.DAY_US
    out["days_since_high_intent"] = last_high_age / intent.DAY_US
    return out


def build_batch(
    con: duckdb.DuckDBPyConnection,
    points: pd.DataFrame,
    config: Mapping[str, Any],
    *,
    chunk_size: int = DEFAULT_CHUNK,
) -> pd.DataFrame:
    """Every feature for many scoring points, read from the store.

    Args:
        con: an open store (``features.store.connect``).
        points: one row per scoring point: ``lead_id`` and ``as_of`` (timestamps; naive = UTC).
            A lead may appear at several moments. A lead missing from the store gets the
            features of a lead with no fields and no activity.
        config: the leadscore config (``icp`` and ``features`` sections).
        chunk_size: points aggregated per SQL query; bounds memory on large stores.

    Returns:
        One row per point, in the order given, on a fresh RangeIndex: ``lead_id``, ``as_of`` (as
        given), then every feature of ``feature_specs`` in order; numeric features as float64
        (NaN when unknown), categorical ones as strings (missing when unknown).

    Raises:
        LeadscoreError: when ``points`` lacks a column or an ``as_of``.
    """
    missing = [c for c in ("lead_id", "as_of") if c not in points.columns]
    if missing:
        raise LeadscoreError(
            f"The scoring points lack column(s) {', '.join(missing)}: give lead_id and as_of."
        )
    roles = attribute_roles(con)
    specs, attrs, icp, windows, high = _plan(_config_key(config), _roles_key(roles))
    lead_ids = points["lead_id"].astype(str).to_numpy(dtype=object)
    frame = pd.DataFrame({
        "_pid": np.arange(len(points), dtype=np.int64),
        "lead_id": pd.Series(lead_ids, dtype="str"),
        "as_of_us": _as_of_us(points["as_of"].reset_index(drop=True)).to_numpy(),
    })

    columns: dict[str, np.ndarray] = _intent_columns(con, frame, windows, high, chunk_size)

    unique_ids = pd.DataFrame({"lead_id": pd.unique(frame["lead_id"])})
    attr_sql = ", CAST(l.attributes AS VARCHAR) AS attributes" if attrs else ""
    con.register(POINTS_VIEW, unique_ids)
    try:
        leads = con.execute(
            "SELECT u.lead_id, l.source, l.title, l.company_size, l.industry, l.country, "
            f"l.email_domain{attr_sql} FROM {POINTS_VIEW} AS u "
            "LEFT JOIN leads AS l ON l.lead_id = u.lead_id"
        ).fetch_df()
    finally:
        con.unregister(POINTS_VIEW)
    row_of_lead = pd.Index(leads["lead_id"]).get_indexer(frame["lead_id"])
    lead_columns = _fit_columns(leads, icp)
    if attrs:
        lead_columns.update(_attribute_columns(leads["attributes"], attrs))
    for name, values in lead_columns.items():
        columns[name] = values[row_of_lead]

    out = {
        "lead_id": points["lead_id"].reset_index(drop=True),
        "as_of": points["as_of"].reset_index(drop=True),
    }
    for spec in specs:
        values = columns[spec.name]
        if spec.kind == "numeric":
            out[spec.name] = np.asarray(values, dtype=np.float64)
        else:
            out[spec.name] = pd.Series(values, dtype="str")
    return pd.DataFrame(out)
