"""The role ``leadscore inspect`` drafts for a column whose values or name say it can teach the
model nothing before contact: one value on every row, a next step written by the rep."""

from __future__ import annotations

import pandas as pd

from features.inspect import inspect
from features.inspect_draft import draft


def _digital(path, n=80):
    pd.DataFrame({
        "CustomerID": [str(8000 + i) for i in range(n)],
        "Age": [str(18 + i % 50) for i in range(n)],
        "AdvertisingPlatform": ["IsConfid"] * n,  # the Kaggle campaign table's masked columns
        "Region": ["EMEA"] * (n // 2) + [""] * (n - n // 2),
        "Next step": [["", "follow up in Q1", "send deck"][i % 3] for i in range(n)],
        "Conversion": [str(i % 2) for i in range(n)],
    }).to_csv(path, index=False)
    return path


def test_a_column_of_one_value_on_every_row_is_drafted_ignore_with_why(tmp_path):
    # drafted {role: fit, kind: categorical}: a feature that can split no lead from another
    found = inspect([_digital(tmp_path / "campaign.csv")], "Conversion")
    text = draft(found)
    assert ("      AdvertisingPlatform: ignore  # one value on every row: it tells no lead "
            "from another") in text
    # filled on some rows only, the blank says something: still a feature
    assert "      Region: {role: fit, kind: categorical}" in text


def test_a_next_step_is_named_like_a_post_contact_field(tmp_path):
    # a lead tracker's "Next step" (the rep's plan after a call) was drafted fit categorical
    found = inspect([_digital(tmp_path / "campaign.csv")], "Conversion")
    column = next(c for c in found.main.columns if c.name == "Next step")
    assert column.role == "post_outcome (leak suspect)"
