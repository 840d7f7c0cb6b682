"""What the batch online path's tests share: configs, roles, instants at the window edges, and the
checks that a batch equals the per-lead reference (``build_online``) bit for bit.

Used by ``test_online_many.py`` (fixed batches, errors, encoding, extremes),
``test_online_random.py`` (random batches) and ``test_intent_matrix.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd

from features import intent
from features.definitions import feature_specs
from features.encoding import FeatureEncoder
from features.online import OnlineBatch, online_many_builder
from leadscore.config import default_config
from tests.features.reference import build_online, encode_record


def build_online_many(leads, as_ofs, config, roles=None) -> OnlineBatch:
    return online_many_builder(config, roles)(leads, as_ofs)


DAY = timedelta(days=1)
US = timedelta(microseconds=1)
DAY_US = intent.DAY_US

CONFIG = default_config()
# other windows (given unsorted), and a high-intent list with a type outside the contract
CUSTOM = {**CONFIG, "features": {"windows_days": [14, 3],
                                 "high_intent_activities": ["Chat Started", "demo_request"]}}
NARROW = {**CONFIG, "features": {"windows_days": [1], "high_intent_activities": []}}
CONFIGS = {"default": CONFIG, "custom": CUSTOM, "narrow": NARROW}

ROLES = {
    "Budget": ("fit", "numeric"),
    "Lead Quality": ("fit", "categorical"),
    "Visits": ("intent", "numeric"),
    "Channel": ("intent", "categorical"),
    "Tags": ("post_outcome", "categorical"),  # never a feature
    "Notes": ("ignore", "categorical"),  # never a feature
}

AS_OF = datetime(2026, 3, 10, 12, 0, 0)
EDGE_DAYS = (0, 1, 3, 7, 14, 30, 90)  # every window of the configs above, and the fixed ones
# an age above 2**53 us whose float conversion is inexact: days() must divide the exact integer
HUGE_AS_OF = datetime(9999, 12, 31, 23, 59, 59, 999999)
HUGE_AT = datetime(1, 1, 1, 0, 0, 0, 180)


def act(activity_type, occurred_at) -> dict:
    return {"activity_type": activity_type, "occurred_at": occurred_at}


def aware(instant: datetime, hours: float) -> datetime:
    """The naive-UTC ``instant`` as an aware datetime at a UTC offset of ``hours``."""
    return instant.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=hours)))


def assert_identical(got: dict, want: dict, where: str = "") -> None:
    """Same keys in the same order, same value types, floats bit-equal (NaN matches NaN)."""
    assert list(got) == list(want), where
    for name, expected in want.items():
        value = got[name]
        what = f"{where} {name}: batch {value!r}, reference {expected!r}"
        assert type(value) is type(expected), what
        if isinstance(expected, float):
            assert value.hex() == expected.hex(), what  # 'nan' == 'nan'; -0.0 != 0.0
        else:
            assert value == expected, what


def assert_batch_matches_reference(leads, as_ofs, config, roles=None) -> OnlineBatch:
    batch = build_online_many(leads, as_ofs, config, roles)
    names = [spec.name for spec in feature_specs(roles, config)]
    assert isinstance(batch, OnlineBatch)
    assert len(batch) == len(leads)
    assert list(batch.names) == names
    assert set(batch.columns) == set(names)
    for name in intent.intent_feature_names(intent.windows_days(config)):
        column = batch.columns[name]
        assert isinstance(column, np.ndarray) and column.dtype == np.float64, name
    for name, column in batch.columns.items():
        assert len(column) == len(leads), name
    records = batch.records()
    assert len(records) == len(leads)
    for i, (lead, as_of) in enumerate(zip(leads, as_ofs, strict=True)):
        want = build_online(lead, as_of, config, roles)
        assert_identical(batch.record(i), want, f"lead {i}")
        assert_identical(records[i], want, f"records()[{i}]")
    again = online_many_builder(config, roles)(leads, as_ofs)
    for i in range(len(leads)):
        assert_identical(again.record(i), records[i], f"online_many_builder lead {i}")
    return batch


def fitted_encoder(records: list[dict], config, roles, min_count: int = 2) -> FeatureEncoder:
    specs = feature_specs(roles, config)
    return FeatureEncoder(specs, min_count=min_count).fit(pd.DataFrame(records))


def assert_columns_encode_like_records(encoder: FeatureEncoder, columns, records) -> np.ndarray:
    matrix = encoder.transform_columns(columns, len(records))
    assert matrix.dtype == np.float64
    assert matrix.shape == (len(records), len(encoder.feature_names_))
    for i, record in enumerate(records):
        np.testing.assert_array_equal(matrix[i], encode_record(encoder, record), err_msg=str(i))
        # bit for bit, not only numerically: the same codes, NaN where the record gives NaN
        assert matrix[i].tobytes() == encode_record(encoder, record).tobytes(), i
    return matrix
