"""`leadscore score` as a nightly job runs it: a quiet day's header-only export, repeated lead
ids and the score log the run writes to, the same through a mapping as without one."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.config import default_config
from leadscore.errors import LeadscoreError
from tests.features.crm_exports import FLAT_MAPPING, VERDICT_COLUMNS, flat_export
from training.batch_score import FILE_COLUMNS, score_file
from training.export_score import score_export


@pytest.fixture()
def bundle_uri(tiny_bundle, tmp_path):
    return str(tiny_bundle.save(tmp_path / "bundle"))


def _mapping(tmp_path):
    mapping = tmp_path / "tiny.yaml"
    mapping.write_text(FLAT_MAPPING)
    return mapping


def test_a_header_only_main_file_scores_no_lead_through_a_mapping(bundle_uri, tmp_path):
    frame = flat_export(5, seed=2).drop(columns=VERDICT_COLUMNS).iloc[:0]
    frame.to_csv(tmp_path / "today.csv", index=False)
    said = score_export([tmp_path / "today.csv"], _mapping(tmp_path), tmp_path / "out.csv",
                        default_config(), model_uri=bundle_uri, workers=1)
    assert said.startswith("Scored 0 leads with model ")
    assert "no lead" in said and "today.csv" in said
    scored = pd.read_csv(tmp_path / "out.csv")
    assert list(scored.columns) == FILE_COLUMNS and scored.empty


def test_a_header_only_file_says_the_same_without_a_mapping(bundle_uri, tmp_path):
    pd.DataFrame(columns=["lead_id", "source", "title"]).to_csv(tmp_path / "today.csv",
                                                                  index=False)
    said = score_file(tmp_path / "today.csv", tmp_path / "out.csv", default_config(),
                      model_uri=bundle_uri, workers=1)
    assert said.startswith("Scored 0 leads with model ")
    assert "no lead" in said and "today.csv" in said
    assert list(pd.read_csv(tmp_path / "out.csv").columns) == FILE_COLUMNS


def test_a_file_that_is_not_the_main_file_is_still_refused(bundle_uri, tmp_path):
    # a header-only activities file given where the mapping wants its file of leads
    pd.DataFrame(columns=["Lead Ref", "At", "What"]).to_csv(tmp_path / "events.csv", index=False)
    with pytest.raises(LeadscoreError, match="lacks column"):
        score_export([tmp_path / "events.csv"], _mapping(tmp_path), tmp_path / "out.csv",
                     default_config(), model_uri=bundle_uri, workers=1)
    assert not (tmp_path / "out.csv").exists()


def _leads(ids: list[str], titles: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"lead_id": ids, "source": ["web"] * len(ids), "title": titles})


def test_a_repeated_row_is_scored_once_and_said_without_a_mapping(bundle_uri, tmp_path):
    _leads(["a", "b", "a", "c", "b"], ["CEO", "CTO", "CEO", "VP", "CTO"]).to_csv(
        tmp_path / "leads.csv", index=False)
    said = score_file(tmp_path / "leads.csv", tmp_path / "out.csv", default_config(),
                      model_uri=bundle_uri, workers=1)
    assert said.startswith("Scored 3 leads with model ")
    assert "2 rows repeated an earlier row's lead id and values" in said
    assert pd.read_csv(tmp_path / "out.csv")["lead_id"].tolist() == ["a", "b", "c"]


def test_a_lead_id_given_different_values_is_refused_without_a_mapping(bundle_uri, tmp_path):
    _leads(["a", "b", "a"], ["CEO", "CTO", "Intern"]).to_csv(tmp_path / "leads.csv", index=False)
    with pytest.raises(LeadscoreError, match=r"^leads.csv: rows 1, 3 give lead_id a different "
                                             r"values; keep one row per lead_id and re-run\.$"):
        score_file(tmp_path / "leads.csv", tmp_path / "out.csv", default_config(),
                   model_uri=bundle_uri, workers=1)
    assert not (tmp_path / "out.csv").exists()


def test_a_repeated_row_is_said_through_a_mapping(bundle_uri, tmp_path):
    frame = flat_export(5, seed=2).drop(columns=VERDICT_COLUMNS)
    pd.concat([frame, frame.iloc[[1]]]).to_csv(tmp_path / "new.csv", index=False)
    said = score_export([tmp_path / "new.csv"], _mapping(tmp_path), tmp_path / "out.csv",
                        default_config(), model_uri=bundle_uri, workers=1)
    assert said.startswith("Scored 5 leads with model ")
    assert "1 row repeated an earlier row's lead id and values" in said


def test_the_summary_names_the_score_log_and_says_when_this_run_created_it(
        bundle_uri, tmp_path, monkeypatch):
    log = tmp_path / "elsewhere" / "live.db"
    monkeypatch.setenv("LEADSCORE_LIVE_URL", f"sqlite:///{log}")
    _leads(["a", "b"], ["CEO", "CTO"]).to_csv(tmp_path / "leads.csv", index=False)
    first = score_file(tmp_path / "leads.csv", tmp_path / "out.csv", default_config(),
                       model_uri=bundle_uri, workers=1)
    assert f"2 scores added to the score log at {log}." in first
    assert f"The score log at {log} did not exist before this run" in first
    again = score_export  # the mapping path says the same, once the log exists
    frame = flat_export(3, seed=2).drop(columns=VERDICT_COLUMNS)
    frame.to_csv(tmp_path / "new.csv", index=False)
    second = again([tmp_path / "new.csv"], _mapping(tmp_path), tmp_path / "out.csv",
                   default_config(), model_uri=bundle_uri, workers=1)
    assert f"3 scores added to the score log at {log}." in second
    assert "did not exist" not in second


def test_rows_without_a_lead_id_are_not_counted_as_repeats(bundle_uri, tmp_path):
    _leads(["a", "", ""], ["CEO", "CTO", "VP"]).to_csv(tmp_path / "leads.csv", index=False)
    with pytest.raises(LeadscoreError, match=r"^Row 2: lead_id"):
        score_file(tmp_path / "leads.csv", tmp_path / "out.csv", default_config(),
                   model_uri=bundle_uri, workers=1)


def test_a_bad_row_in_a_later_chunk_logs_no_score(bundle_uri, tmp_path, monkeypatch):
    # the first chunks' scores went to the score log, then the bad row stopped the run with no
    # file: the log said leads were scored that nobody received, and a rerun logged them twice
    import sqlite3

    log = tmp_path / "live.db"
    monkeypatch.setenv("LEADSCORE_LIVE_URL", f"sqlite:///{log}")
    leads = _leads([f"L{i}" for i in range(12)], ["CEO"] * 12)
    leads["created_at"] = "2026-11-01T10:00:00Z"
    leads.loc[9, "created_at"] = "soon"
    leads.to_csv(tmp_path / "leads.csv", index=False)
    with pytest.raises(LeadscoreError, match=r"^Row 10 \(lead_id L9\)"):
        score_file(tmp_path / "leads.csv", tmp_path / "out.csv", default_config(),
                   model_uri=bundle_uri, workers=1, chunk=3)
    assert not (tmp_path / "out.csv").exists()
    if log.exists():
        with sqlite3.connect(log) as con:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            assert "score_log" not in tables or \
                con.execute("SELECT count(*) FROM score_log").fetchone()[0] == 0
    leads.loc[9, "created_at"] = "2026-11-01T10:00:00Z"  # fixed, and run again: 12, once each
    leads.to_csv(tmp_path / "leads.csv", index=False)
    said = score_file(tmp_path / "leads.csv", tmp_path / "out.csv", default_config(),
                      model_uri=bundle_uri, workers=1, chunk=3)
    assert "12 scores added to the score log" in said
    with sqlite3.connect(log) as con:
        assert con.execute("SELECT count(*), count(DISTINCT lead_id) FROM score_log"
                           ).fetchone() == (12, 12)
