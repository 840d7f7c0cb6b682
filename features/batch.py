"""The batch feature builder: every feature of many scoring points, read from the DuckDB store.

Training, the review's evaluation and the report build features here: intent aggregates in SQL
(each scoring point joined to its lead's activities with ``occurred_at <= as_of``, queries built by
``features.intent``), fit parsed in Python over the *unique* values of each lead column (titles,
sizes and countries repeat, so a million leads parse in seconds).

The online builder (``features.online``) computes the same features for leads sent as JSON; both
start from ``features.plan.feature_plan`` and agree: integers exactly, floats to 1e-9, categories as
identical strings (``tests/features/test_parity.py``). Nothing dated after ``as_of`` reaches a
feature (``tests/features/test_leakage.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from features import fit, intent
from features.definitions import FeatureSpec, attribute_value
from features.plan import feature_plan
from leadscore.errors import LeadscoreError

POINTS_VIEW = "_leadscore_points"
DEFAULT_CHUNK = 250_000


def attribute_roles(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """``{column: (role, kind)}`` from the store's ``attribute_roles`` table (empty without one)."""
    try:
        rows = con.execute("SELECT name, role, kind FROM attribute_roles").fetchall()
    except duckdb.CatalogException:
        return {}
    return {name: (role, kind) for name, role, kind in rows}


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
    """The intent features of every point: ``intent.intent_sql`` per chunk of points, its integers
    turned into features by ``intent.finish`` (as the online kernel's are)."""
    sql = intent.intent_sql(windows, high, POINTS_VIEW)
    definition = intent.intent_definition(windows)
    n, width = len(points), len(definition)
    first = np.zeros((n, width), dtype=np.int64)
    second = np.zeros((n, width), dtype=np.int64)
    for j, feature in enumerate(definition):
        if feature.kind == "days_since":
            first[:, j] = -1  # no activity of that kind: no age
    for start in range(0, n, chunk_size):
        chunk = points.iloc[start:start + chunk_size]
        con.register(POINTS_VIEW, chunk)
        try:
            result = con.execute(sql).fetchnumpy()
        finally:
            con.unregister(POINTS_VIEW)
        rows = np.asarray(result["_pid"], dtype=np.int64)
        for j, feature in enumerate(definition):
            # NULL (no such activity) is -1, as in the kernel
            first[rows, j] = np.ma.filled(np.ma.asarray(result[f"a{j}"]).astype(np.int64), -1)
            if feature.kind == "trend":
                second[rows, j] = np.asarray(result[f"b{j}"], dtype=np.int64)
    matrix = intent.finish(definition, first, second)
    return {feature.name: matrix[:, j] for j, feature in enumerate(definition)}


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
    specs, attrs, icp, windows, high = feature_plan(config, roles)
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
