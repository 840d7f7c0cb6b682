"""The demo-data generator: deterministic, on contract, dirty where it should be, and carrying the
ground truth it documents (docs/generator.md)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from cli.main import cli
from features.contract import PLACEHOLDERS, TABLES
from generator import PLANTED_SIGNALS, generate_export, generate_frames, planted
from leadscore.errors import LeadscoreError

N = 4000
END = pd.Timestamp("2026-11-01")
POLICY = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "features" / "label_policy.yaml").read_text()
)


@pytest.fixture(scope="module")
def export():
    return generate_frames(N, seed=11)


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _same_unit(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype({c: "datetime64[ns]" for c in df.columns if df[c].dtype.kind == "M"})


# ---- determinism ------------------------------------------------------------------------------

def test_same_seed_gives_identical_frames(export):
    again = generate_frames(N, seed=11)
    for name in ("leads", "activities", "dispositions", "outcomes", "truth"):
        pd.testing.assert_frame_equal(getattr(export, name), getattr(again, name))


def test_different_seed_gives_different_data(export):
    other = generate_frames(N, seed=12)
    assert not other.leads["title"].equals(export.leads["title"])
    assert not other.truth["true_p"].equals(export.truth["true_p"])


def test_export_is_byte_identical_for_the_same_arguments(tmp_path):
    for folder in ("a", "b"):
        generate_export(1500, seed=5, out_dir=tmp_path / folder, truth=True)
    generate_export(1500, seed=6, out_dir=tmp_path / "c", truth=True)
    first, second, other = (_digests(tmp_path / f) for f in ("a", "b", "c"))
    assert sorted(first) == ["activities.csv", "dispositions.csv", "leads.csv", "outcomes.csv",
                             "truth.csv"]
    assert first == second
    assert first["leads.csv"] != other["leads.csv"]


def test_export_holds_the_same_data_as_the_frames(tmp_path):
    frames = generate_frames(1500, seed=5)
    summary = generate_export(1500, seed=5, out_dir=tmp_path, fmt="parquet")
    for name in ("leads", "activities", "dispositions", "outcomes"):
        table = pq.read_table(tmp_path / f"{name}.parquet")
        read = table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
        pd.testing.assert_frame_equal(_same_unit(read), _same_unit(getattr(frames, name)))
        assert summary.rows[name] == len(read)
    text = str(summary)
    assert "leads.parquet" in text and f"{len(frames.activities):,}" in text


def test_csv_reads_back_as_the_frames(tmp_path):
    frames = generate_frames(1500, seed=5)
    generate_export(1500, seed=5, out_dir=tmp_path)
    leads = pd.read_csv(tmp_path / "leads.csv", keep_default_na=False, na_values=[""],
                        parse_dates=["created_at", "mql_at"])
    assert list(leads.columns) == list(frames.leads.columns)
    assert leads["title"].fillna("<missing>").tolist() == frames.leads["title"].fillna(
        "<missing>").tolist()
    assert (leads["created_at"] == frames.leads["created_at"]).all()


# ---- contract ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["leads", "activities", "dispositions", "outcomes"])
def test_tables_follow_the_contract(export, name):
    table = TABLES[name]
    frame = getattr(export, name)
    assert set(table.required) <= set(frame.columns)
    assert set(frame.columns) <= set(table.columns) | {"email"}
    for column in table.not_null:
        assert frame[column].notna().all(), column
    assert not frame.drop_duplicates().duplicated(list(table.key)).any()


def test_every_status_and_reason_code_is_in_the_label_policy(export):
    d = export.dispositions
    assert set(d["status"]) <= set(POLICY["statuses"])
    assert set(d["reason_code"].dropna()) <= set(POLICY["reason_codes"])
    assert set(export.outcomes["stage"]) <= set(POLICY["outcome_stages"])
    # every family shows up: positives, both kinds of negatives, exclusions, open work
    families = {POLICY["reason_codes"][r] for r in d["reason_code"].dropna()}
    assert families == {"positive", "fit_negative", "intent_negative", "excluded", "open"}


def test_dispositions_carry_reps_attempts_and_first_touch(export):
    d = export.dispositions
    assert d["rep_id"].str.fullmatch(r"rep_\d\d").all()
    assert d["attempts"].between(1, 8).all()
    assert (d["first_touch_at"] <= d["dispositioned_at"]).all()
    mql = d.merge(export.leads[["lead_id", "mql_at"]], on="lead_id")["mql_at"]
    assert (d["first_touch_at"].values > mql.values).all()


def test_nothing_is_dated_at_or_after_the_end_of_the_window():
    frames = generate_frames(3000, seed=3, start="2026-01-01", end="2026-03-01")
    end = pd.Timestamp("2026-03-01")
    stamps = [frames.leads["created_at"], frames.leads["mql_at"].dropna(),
              frames.activities["occurred_at"], frames.dispositions["dispositioned_at"],
              frames.dispositions["first_touch_at"], frames.outcomes["occurred_at"]]
    assert all((s < end).all() for s in stamps)
    assert frames.leads["created_at"].min() >= pd.Timestamp("2026-01-01")
    # the newest leads are still open: not yet MQL, or no verdict yet
    last_week = frames.leads[frames.leads["created_at"] >= end - pd.Timedelta(days=7)]
    decided = frames.dispositions.loc[
        frames.dispositions["status"].isin(["rejected", "meeting_booked"]), "lead_id"]
    assert last_week["lead_id"].isin(decided).mean() < 0.5
    assert frames.leads["mql_at"].isna().any()


def test_converted_leads_reach_sql_within_21_days_of_mql(export):
    sql = export.outcomes[export.outcomes["stage"] == "sql"].merge(export.leads, on="lead_id")
    delay = sql["occurred_at"] - sql["mql_at"]
    assert (delay > pd.Timedelta(0)).all() and (delay <= pd.Timedelta(days=21)).all()
    later = export.outcomes[export.outcomes["stage"] != "sql"]
    assert later["amount"].gt(0).all() and set(later["lead_id"]) <= set(sql["lead_id"])


# ---- dirt -------------------------------------------------------------------------------------

def test_fields_carry_missing_values_and_placeholders(export):
    leads = export.leads
    for column in ("title", "company_size", "industry", "country"):
        missing = leads[column].isna() | leads[column].str.strip().str.lower().isin(PLACEHOLDERS)
        assert 0.02 < missing.mean() < 0.12, column
    assert {"Select", "N/A"} <= set(leads["company_size"].dropna())


def test_text_fields_are_inconsistently_written(export):
    leads = export.leads
    assert {"Paid Search", "paid_search", "PAID SEARCH"} <= set(leads["source"])
    assert {"US", "USA", "United States"} <= set(leads["country"].dropna())
    size = leads["company_size"].dropna()
    assert size.str.fullmatch(r"[\d,]+").any() and size.str.contains("-").any()
    title = leads["title"].dropna()
    assert (title != title.str.strip()).any() and (title == title.str.lower()).any()


def test_activities_hold_exact_duplicate_rows(export):
    share = export.activities.duplicated().mean()
    assert 0.01 < share < 0.04


def test_new_categories_appear_only_in_later_months(export):
    leads = export.leads
    late = leads["created_at"] >= pd.Timestamp("2026-05-01")
    industry = leads["industry"].str.strip().str.lower()
    assert not (industry[~late] == "climate tech").any()
    assert (industry[late] == "climate tech").any()
    early_campaigns = set(leads.loc[~late, "campaign"].dropna())
    assert set(leads.loc[late, "campaign"].dropna()) - early_campaigns


def test_activity_counts_are_heavy_tailed(export):
    counts = export.activities.groupby("lead_id").size().reindex(export.leads["lead_id"],
                                                                  fill_value=0)
    assert (counts == 0).mean() > 0.15
    assert counts.quantile(0.99) > 5 * counts.median()


# ---- planted truth ----------------------------------------------------------------------------

def test_truth_is_internally_consistent(export):
    t = export.truth
    assert list(t["lead_id"]) == list(export.leads["lead_id"])
    logit = t["fit_logit"] + t["intent_term"]
    assert np.allclose(t["true_p"], 1 / (1 + np.exp(-logit)), atol=1e-5)
    fit = (planted.BASELINE + t["seniority"].map(planted.SENIORITY_EFFECT)
           + t["company_size_band"].map(planted.SIZE_EFFECT)
           + t["industry"].map(lambda v: planted.INDUSTRY_EFFECT.get(v, 0.0))
           + np.where(t["free_email"], planted.FREE_EMAIL_EFFECT, 0.0))
    assert np.allclose(t["fit_logit"], fit, atol=1e-5)
    assert (t["intent_term"] >= 0).all()


def test_destroyed_fields_read_as_unknown_in_the_truth(export):
    merged = export.leads.merge(export.truth, on="lead_id", suffixes=("", "_truth"))
    no_title = merged["title"].isna() | merged["title"].str.strip().str.lower().isin(PLACEHOLDERS)
    assert (merged.loc[no_title, "seniority"] == "unknown").all()
    assert (merged.loc[~no_title, "seniority"] != "unknown").all()
    no_email = merged["email"].isna()
    assert not merged.loc[no_email, "free_email"].any()


def test_overall_rate_and_top_decile_allow_the_agreed_band(export):
    p = export.truth["true_p"]
    assert 0.15 <= p.mean() <= 0.22
    assert p[p >= p.quantile(0.9)].mean() >= 0.5


def test_planted_fit_directions(export):
    t = export.truth
    by_level = t.groupby("seniority")["true_p"].mean()
    assert by_level["vp"] > by_level["manager"] > by_level["individual"] > by_level["student"]
    by_size = t.groupby("company_size_band")["true_p"].mean()
    assert by_size["51-200"] > by_size["1-10"] and by_size["201-1000"] > by_size["1-10"]
    assert t.loc[t["free_email"], "true_p"].mean() < t.loc[~t["free_email"], "true_p"].mean()
    assert PLANTED_SIGNALS["fit"][0] == "seniority"
    assert set(PLANTED_SIGNALS["intent"]) <= set(planted.INTENT_WEIGHTS)


def test_leads_with_a_demo_request_convert_more(export):
    t, a = export.truth.merge(export.leads, on="lead_id"), export.activities
    demo = a[a["activity_type"] == "demo_request"].merge(export.leads, on="lead_id")
    before = set(demo.loc[demo["occurred_at"] < demo["mql_at"], "lead_id"])
    asked = t["lead_id"].isin(before)
    assert asked.sum() > 100
    assert t.loc[asked, "converted"].mean() > 2 * t.loc[~asked, "converted"].mean()


def test_observed_sql_rate_matches_true_p_among_labelled_leads(export):
    t = export.truth.merge(export.leads[["lead_id", "mql_at"]], on="lead_id")
    matured = t["mql_at"].notna() & (t["mql_at"] + pd.Timedelta(days=30) < END)
    d = export.dispositions
    excluded = d.loc[d["status"].isin(["disqualified", "recycled"]), "lead_id"]
    labelled = t[matured & ~t["lead_id"].isin(excluded)]
    positive = labelled["lead_id"].isin(export.outcomes.loc[export.outcomes["stage"] == "sql",
                                                            "lead_id"])
    assert abs(positive.mean() - labelled["true_p"].mean()) < 0.025
    assert positive.sum() == labelled["converted"].sum()


def test_rejection_reasons_follow_their_cause(export):
    d = export.dispositions[export.dispositions["status"] == "rejected"]
    d = d.merge(export.truth, on="lead_id")
    family = d["reason_code"].map(POLICY["reason_codes"])
    low_fit = d["fit_logit"] <= d["fit_logit"].quantile(0.33)
    high_fit = d["fit_logit"] >= d["fit_logit"].quantile(0.67)
    assert (family[low_fit] == "fit_negative").mean() > (family[high_fit] == "fit_negative").mean()
    no_intent = d["intent_term"] == 0
    assert (family[no_intent] == "intent_negative").mean() > (
        family[~no_intent] == "intent_negative").mean()
    students = d[d["seniority"] == "student"]
    assert (students["reason_code"] == "student").mean() > 0.3


def test_converted_leads_show_extra_activity_after_mql(export):
    a = export.activities.drop_duplicates().merge(export.leads, on="lead_id")
    after = a[a["occurred_at"] > a["mql_at"]].groupby("lead_id").size()
    converted = export.truth.set_index("lead_id")["converted"]
    after = after.reindex(converted.index, fill_value=0)
    assert after[converted].mean() > after[~converted].mean() + 2


# ---- arguments and the command line -----------------------------------------------------------

@pytest.mark.parametrize(
    "kwargs",
    [{"fmt": "xlsx"}, {"seed": -1}, {"n_leads": 0}, {"start": "2026-01-01", "end": "2025-01-01"},
     {"start": "yesterday-ish"}],
)
def test_bad_arguments_raise_one_clear_error(tmp_path, kwargs):
    args = {"n_leads": 100, "seed": 1, "out_dir": tmp_path / "out"} | kwargs
    with pytest.raises(LeadscoreError):
        generate_export(**args)


def test_out_dir_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "taken"
    path.write_text("x")
    with pytest.raises(LeadscoreError, match="is a file"):
        generate_export(100, seed=1, out_dir=path)


def test_switching_format_in_one_folder_is_refused(tmp_path):
    generate_export(100, seed=1, out_dir=tmp_path, truth=True)
    with pytest.raises(LeadscoreError, match="already holds a csv export"):
        generate_export(100, seed=1, out_dir=tmp_path, fmt="parquet")
    generate_export(100, seed=1, out_dir=tmp_path)  # the same format again: replaced
    assert not (tmp_path / "truth" / "truth.csv").exists()


def test_cli_generate_writes_the_export(tmp_path):
    result = CliRunner().invoke(
        cli, ["generate", "--leads", "300", "--seed", "2", "--out", str(tmp_path), "--truth"]
    )
    assert result.exit_code == 0, result.output
    assert "leads.csv" in result.output and (tmp_path / "truth" / "truth.csv").exists()
    result = CliRunner().invoke(cli, ["generate", "--seed", "-1", "--out", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert result.output.startswith("error: seed=-1") and "Traceback" not in result.output
