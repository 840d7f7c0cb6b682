"""`leadscore score`: every input row out, with scores and reasons, and never an e-mail address."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from leadscore.config import default_config
from leadscore.errors import LeadscoreError
from scoring.pyfunc import lead_records
from tests.training.made_up import made_up_leads
from training.batch_score import score_file


def _input_frame(n: int = 40) -> pd.DataFrame:
    frame = pd.DataFrame(made_up_leads(n, seed=11))
    frame["activities"] = frame["activities"].map(json.dumps)
    frame["email"] = [f"person{i}@corp{i % 3}.example.org" for i in range(n)]
    frame.loc[::4, "as_of"] = None  # scored "now"
    return frame


@pytest.fixture
def bundle_dir(tiny_bundle, tmp_path):
    return str(tiny_bundle.save(tmp_path / "bundle"))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_every_row_scored_with_reasons_and_no_email(tiny_bundle, bundle_dir, tmp_path, suffix):
    leads = _input_frame()
    source = tmp_path / f"leads{suffix}"
    leads.to_csv(source, index=False) if suffix == ".csv" else leads.to_parquet(source)
    out = tmp_path / f"scores{suffix}"

    message = score_file(source, out, default_config(), model_uri=bundle_dir)

    scored = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert f"Scored {len(leads)} leads" in message
    assert list(scored["lead_id"]) == list(leads["lead_id"])
    assert scored["score"].between(0, 1).all() and scored["fit_score"].between(0, 1).all()
    assert scored["grade"].str.fullmatch(r"[A-D][1-4]").all()
    assert (scored["is_mql"] == (scored["score"] >= tiny_bundle.threshold)).all()
    for text in scored["reasons"]:
        reasons = json.loads(text)
        assert 1 <= len(reasons) <= 5
        assert {r["group"] for r in reasons} <= {"fit", "intent"}
    assert "email" not in scored.columns
    assert not scored.astype(str).apply(lambda c: c.str.contains("@|example.org")).any().any()
    if suffix == ".csv":
        assert "@" not in out.read_text()

    # the same numbers as the bundle gives the rows with an explicit moment
    dated = leads[leads["as_of"].notna()]
    records = lead_records(dated)
    expected = tiny_bundle.score_records(records, [r["as_of"] for r in records]).score
    np.testing.assert_allclose(scored.loc[dated.index, "score"], expected, rtol=1e-12)


def test_a_malformed_activity_names_its_row(bundle_dir, tmp_path):
    leads = _input_frame(5)
    leads.loc[3, "activities"] = '[{"activity_type": "pricing_view", "occurred_at": "yesterday"}]'
    source = tmp_path / "leads.csv"
    leads.to_csv(source, index=False)
    with pytest.raises(LeadscoreError, match=r"^Row 3: activities\[0\]\.occurred_at"):
        score_file(source, tmp_path / "out.csv", default_config(), model_uri=bundle_dir)


def test_wrong_file_types_are_one_sentence(bundle_dir, tmp_path):
    (tmp_path / "leads.txt").write_text("lead_id\n1\n")
    with pytest.raises(LeadscoreError, match="neither .csv nor .parquet"):
        score_file(tmp_path / "leads.txt", tmp_path / "o.csv", default_config(), bundle_dir)
    with pytest.raises(LeadscoreError, match="must end in .csv or .parquet"):
        score_file(tmp_path / "leads.txt", tmp_path / "o.json", default_config(), bundle_dir)
    with pytest.raises(LeadscoreError, match="No file at"):
        score_file(tmp_path / "missing.csv", tmp_path / "o.csv", default_config(), bundle_dir)


def test_no_champion_says_to_run_a_review(mlflow_config, tmp_path):
    source = tmp_path / "leads.csv"
    _input_frame(3).to_csv(source, index=False)
    with pytest.raises(LeadscoreError, match=r"No champion model yet: run `leadscore review`"):
        score_file(source, tmp_path / "out.csv", mlflow_config)
