"""``leadscore inspect`` on a two-file funnel export: the leads, and a file with one row per won
lead (features/inspect_outcomes.py). The won file is the outcome, its other columns post-outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.ingest import ingest_paths
from features.inspect import inspect
from features.inspect_draft import draft
from leadscore.errors import LeadscoreError
from tests.features.test_mapping import query


@pytest.fixture
def funnel(tmp_path):
    rng = np.random.default_rng(3)
    n = 60
    ids = [f"{rng.integers(16 ** 12):012x}" for _ in range(n)]
    leads = pd.DataFrame({"lead_ref": ids,
                          "first_contact": pd.date_range("2024-01-01", periods=n).strftime(
                              "%Y-%m-%d"),
                          "channel": rng.choice(["paid", "organic", "email"], n)})
    won = pd.DataFrame({"lead_ref": ids[::10], "closed_on": pd.date_range(
        "2024-03-01 10:30", periods=6).strftime("%Y-%m-%d %H:%M:%S"),
        "segment": ["pet", "toys", "pet", "home", "toys", "pet"],
        "revenue": ["0", "1200", "0", "", "300", "0"]})
    folder = tmp_path / "export"
    folder.mkdir()
    leads.to_csv(folder / "leads.csv", index=False)
    won.to_csv(folder / "won_deals.csv", index=False)
    return folder


def test_a_file_with_one_row_per_won_lead_is_drafted_as_the_outcome(funnel, tmp_path):
    found = inspect([funnel])
    assert "won_deals.csv: one row for each of 6 of the 60 leads of leads.csv (by lead_ref): " \
           "drafted as their outcome" in found.text
    assert "leak suspects in won_deals.csv: filled only for the leads it names, so known only " \
           "after their outcome, drafted ignore: segment, revenue" in found.text
    assert "no column of it holds" not in found.text
    text = draft(found)
    assert "kind: outcomes" in text and "stage: closed_won" in text
    assert "key: lead_ref" in text and "closed_on: {as: occurred_at}" in text
    assert "segment: ignore  # only for the leads this file names" in text
    mapping = tmp_path / "draft.yaml"
    mapping.write_text(text)
    store = tmp_path / "s.duckdb"
    ingest_paths([funnel], store, mapping=mapping)  # the draft ingests as written
    assert query(store, "SELECT count(*), min(stage) FROM outcomes") == [(6, "closed_won")]
    assert query(store, "SELECT count(*) FROM leads") == [(60,)]
    assert "segment" not in query(store, "SELECT CAST(attributes AS VARCHAR) FROM leads")[0][0]


def test_naming_the_won_files_date_as_the_outcome_says_to_let_the_rows_be_it(funnel):
    with pytest.raises(LeadscoreError) as caught:
        inspect([funnel], outcome="closed_on")
    assert str(caught.value).startswith(
        "--outcome 'closed_on' is a column of won_deals.csv, which has one row for each of 6 of "
        "the 60 leads of leads.csv (by lead_ref), so its rows are the outcome")
    assert "run inspect without --outcome" in str(caught.value)


def test_a_leads_column_filled_only_for_leads_with_a_won_row_is_a_leak_suspect(funnel, tmp_path):
    leads = pd.read_csv(funnel / "leads.csv", dtype=str)
    won = set(pd.read_csv(funnel / "won_deals.csv", dtype=str)["lead_ref"])
    leads["deal_segment"] = np.where(leads["lead_ref"].isin(won), "pet", "")
    leads.to_csv(funnel / "leads.csv", index=False)
    found = inspect([funnel])
    assert "leak suspects in leads.csv (row in won_deals.csv: positive present, negative the " \
           "rest):" in found.text
    assert "  deal_segment: blank for every row in won_deals.csv = absent" in found.text
    columns = {c.name: c for c in found.main.columns}
    assert columns["deal_segment"].spec.startswith("{role: post_outcome")
    assert not columns["channel"].leaks and columns["channel"].spec.startswith("{role: fit")


def test_naming_the_won_files_date_as_the_outcome_date_says_it_is_used_already(funnel):
    with pytest.raises(LeadscoreError) as caught:
        inspect([funnel], outcome_date="closed_on")
    assert str(caught.value).startswith(
        "--outcome-date 'closed_on' is a column of won_deals.csv, whose rows are the outcome of "
        "leads.csv's leads: the draft dates each outcome by that file's first date column "
        "already, so drop --outcome-date")
    with pytest.raises(LeadscoreError, match="'nope' is not a column of leads.csv; name it"):
        inspect([funnel], outcome_date="nope")
