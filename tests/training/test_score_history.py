"""`leadscore score` records in the score log; `history` and `export-scores` read it back."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from leadscore.config import default_config
from leadscore.errors import LeadscoreError
from tests.training.made_up import made_up_leads
from training.batch_score import score_file
from training.score_history import export_scores, history_text


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("LEADSCORE_LIVE_URL", f"sqlite:///{tmp_path / 'live.db'}")
    return default_config()


def test_batch_scores_are_logged_and_read_back(tiny_bundle, tmp_path, config):
    leads = pd.DataFrame(made_up_leads(12, seed=3))
    leads["activities"] = leads["activities"].map(json.dumps)
    source = tmp_path / "leads.csv"
    leads.to_csv(source, index=False)
    bundle_dir = str(tiny_bundle.save(tmp_path / "bundle"))
    message = score_file(source, tmp_path / "out.csv", config, model_uri=bundle_dir)
    assert "12 scores added to the score log" in message
    assert "feature_hash" not in pd.read_csv(tmp_path / "out.csv").columns

    lead_id = str(leads["lead_id"].iloc[0])
    text = history_text(lead_id, config)
    assert text.startswith(f"1 score of lead {lead_id}") and "batch" in text

    out = tmp_path / "scores.parquet"
    assert "Exported 12 scores" in export_scores("2000-01-01", out, config)
    exported = pd.read_parquet(out)
    assert set(exported["source"]) == {"batch"} and exported["feature_hash"].str.len().eq(16).all()
    assert "Exported 0 scores" in export_scores("2199-01-01", tmp_path / "none.csv", config)


def test_unknown_leads_bad_dates_and_no_store_are_one_sentence(tmp_path, config):
    with pytest.raises(LeadscoreError, match="no live store yet"):
        history_text("x", config)
    with pytest.raises(LeadscoreError, match="not a date"):
        export_scores("last week", tmp_path / "a.csv", config)
    with pytest.raises(LeadscoreError, match=r"\.csv or \.parquet"):
        export_scores("2026-01-01", tmp_path / "a.json", config)
