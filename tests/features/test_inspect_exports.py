"""``leadscore inspect`` on export shapes of real CRMs (HubSpot, Salesforce, Pipedrive), tiny
inline files: no traceback, no false sentence."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.inspect import inspect


def _write(path: Path, frame: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def test_utc_timestamps_and_plain_dates_are_compared_for_the_outcome_date(tmp_path):
    # Salesforce: CreatedDate "2024-01-02T08:00:00.000Z", CloseDate "2024-01-20"
    n = 60
    frame = pd.DataFrame({
        "Id": [f"006{i:05d}" for i in range(n)],
        "CreatedDate": [f"2024-01-{1 + i % 28:02d}T08:00:00.000Z" for i in range(n)],
        "LastModifiedDate": [f"2024-03-{1 + i % 28:02d}T08:00:00.000Z" for i in range(n)],
        "CloseDate": [f"2024-02-{1 + i % 28:02d}" for i in range(n)],
        "StageName": ["Closed Won" if i % 3 else "Closed Lost" for i in range(n)],
    })
    found = inspect([_write(tmp_path / "Opportunity.csv", frame)], "StageName", ["Closed Won"],
                    outcome_date="CloseDate")
    leaks = {c.name: c.leaks for c in found.main.columns}
    assert "dated after CloseDate in most rows" in leaks["LastModifiedDate"]
    assert "dated after CloseDate in most rows" not in leaks["CreatedDate"]
