"""``leadscore inspect`` on exports a new user brings (a Pipedrive export of several files with
small overlapping ids, a HubSpot contacts export with its MQL date): tiny inline files, the draft
checked for what it makes of each file and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.inspect import inspect


def _write(path: Path, frame: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def test_an_mql_date_is_never_offered_as_the_outcome_date(tmp_path):
    # HubSpot: "Became a Marketing Qualified Lead Date" is filled for every SQL, Opportunity
    # and Customer (they all passed MQL) and blank for most plain leads, but it dates the MQL
    # moment, not the outcome: the draft maps it mql_at, and must not ask to date outcomes by it
    n = 200
    stages = ["Lead", "Lead", "Lead", "Marketing Qualified Lead", "Sales Qualified Lead",
              "Customer"]
    stage = [stages[i % len(stages)] for i in range(n)]
    frame = pd.DataFrame({
        "Record ID": [str(5000 + i) for i in range(n)],
        "Create Date": [f"{1 + i % 28:02d}/0{1 + i % 9}/2026 10:15" for i in range(n)],
        "Lifecycle Stage": stage,
        "Became a Marketing Qualified Lead Date": [
            "" if s == "Lead" else f"{2 + i % 26:02d}/0{1 + i % 9}/2026 11:00"
            for i, s in enumerate(stage)],
        "Industry": [["Retail", "Software"][i % 2] for i in range(n)],
    })
    path = _write(tmp_path / "contacts.csv", frame)
    found = inspect([path], "Lifecycle Stage", ["Sales Qualified Lead", "Customer"])
    mql = next(c for c in found.main.columns if c.name.startswith("Became a Marketing"))
    assert mql.role == "timestamp (mql_at)"
    assert not any("--outcome-date" in leak for leak in mql.leaks)
    assert "--outcome-date" not in found.text
