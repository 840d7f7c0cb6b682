"""The leaders' report: built from a small generated store and two review runs, then read as text.

The browser test (``test_report_browser.py``) checks what a person sees; this one checks content,
privacy and self-containment, and the pure helpers behind the figures.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

import pandas as pd
import pytest

from leadscore.errors import LeadscoreError
from tests.report_cycles import fake_cycle_run, reviewed_cycles
from training import report_duckdb as store
from training.report_figures import format_value, parse_value, tolerance

SECTIONS = ("summary", "signals", "dispositions", "conversion", "speed-to-lead", "model",
            "cohort-check", "glossary")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[A-Za-z]{2,}")
EXTERNAL = re.compile(r"""(?:src|href|xlink:href)\s*=\s*["']?\s*(?:https?:|//|ftp:)""", re.I)


@pytest.fixture(scope="module")
def cycles(tmp_path_factory):
    built = reviewed_cycles(tmp_path_factory.getbasetemp() / "report-cycles")
    with pytest.MonkeyPatch.context() as patch:
        yield built.use(patch)


@pytest.fixture(scope="module")
def report(cycles, tmp_path_factory):
    from training.report import write_report

    out = tmp_path_factory.mktemp("reports")
    path = write_report(cycles.cycles[-1][0], cycles.config, out)
    return path, path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def client(cycles):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=cycles.tracking_uri)


def _run(client, cycles, cycle):
    experiment = client.get_experiment_by_name(cycles.config["mlflow"]["experiment"])
    (run,) = client.search_runs([experiment.experiment_id], f"tags.cycle = '{cycle}'")
    return run


def test_report_lands_in_cycle_folder_with_every_section(report, cycles):
    path, html = report
    assert path.name == "index.html" and path.parent.name == cycles.cycles[-1][0]
    for section in SECTIONS:
        assert f'id="{section}"' in html, section
    assert html.count('<svg class="chart"') >= 7
    assert "What changed and what to do" in html
    assert ">Last cycle<" in html and ">Move<" in html  # a later cycle compares its ranking


def test_the_agreed_band_reads_as_configured_everywhere(report):
    # the KPI, the opening and the threshold paragraph wrote "25.0%-50.0%", the gates "25%-50%"
    _, html = report
    text = re.sub(r"<[^>]+>", "", html)
    assert "band 25%-50%" in text and "against the agreed band of 25%-50%" in text
    assert "25.0%-50.0%" not in text


def test_summary_speaks_from_the_numbers(report, cycles):
    _, html = report
    summary = html.split('id="summary"', 1)[1].split("</section>", 1)[0]
    assert "The new model converts" in summary
    assert f"in cycle {cycles.cycles[0][0]}" in summary  # compared with the previous cycle
    assert "promoted" in summary
    assert "MQLs a week" in summary
    assert "Sales accepted" in summary
    assert summary.count('data-metric="') >= 8


def test_no_personal_data(report, cycles):
    from features.store import connect

    _, html = report
    assert EMAIL.search(html) is None
    assert re.search(r"\bL\d{7}\b", html) is None  # no lead ids either: aggregates only
    with connect(cycles.store, read_only=True) as con:
        titles = [t for (t,) in con.execute(
            "SELECT DISTINCT title FROM leads WHERE length(title) > 12").fetchall()]
        domains = [d for (d,) in con.execute(
            "SELECT DISTINCT email_domain FROM leads WHERE email_domain IS NOT NULL").fetchall()]
    text = re.sub(r"<[^>]+>", " ", html)
    assert [t for t in titles if t in text] == []
    assert [d for d in domains if re.search(rf"\b{re.escape(d)}\b", text)] == []


def test_self_contained(report):
    _, html = report
    assert EXTERNAL.search(html) is None
    assert "<script" not in html.lower()
    assert "<link" not in html.lower() and "@import" not in html
    assert "url(http" not in html
    for ref in re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)""", html):
        assert ref.startswith(("#", "data:")), ref
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # charts' inner ids never collide


def test_report_is_logged_on_the_run_with_its_figures(report, cycles, client):
    _, html = report
    run = _run(client, cycles, cycles.cycles[-1][0])
    names = [a.path for a in client.list_artifacts(run.info.run_id, "report")]
    assert "report/index.html" in names
    metrics = run.data.metrics
    for key in ("report.acceptance_rate", "report.first_touch.within_1h",
                "report.first_touch.within_24h",
                "report.signals.fit_share", "report.grade.A1.leads"):
        assert key in metrics, key
    shown = re.search(r'data-metric="report.acceptance_rate" data-format="pct"[^>]*>([^<]+)<', html)
    assert abs(parse_value(shown.group(1), "pct") - metrics["report.acceptance_rate"]) <= tolerance(
        "pct")


def test_first_cycle_says_so(cycles, tmp_path):
    from training.report import write_report

    html = write_report(cycles.cycles[0][0], cycles.config, tmp_path).read_text()
    assert "First cycle" in html or "first cycle" in html
    assert "There is no earlier change" in html or "no earlier change" in html
    # nothing to compare the ranking with: no column repeating "first cycle" on every row
    assert ">Last cycle<" not in html and ">Move<" not in html


def test_run_without_scored_cohort_still_reports(cycles, tmp_path):
    from training.report import write_report

    config = dict(cycles.config)
    config["mlflow"] = {**cycles.config["mlflow"], "experiment": "leadscore-no-scores"}
    fake_cycle_run(config, "2026-W41", "2026-10-08", seed=3, promoted=False, with_scores=False)
    html = write_report("2026-W41", config, tmp_path).read_text()
    assert "Conversion by grade is not available" in html
    assert "not promoted" in html
    assert "First cycle" in html


def test_unknown_cycle_is_one_clear_error(cycles, tmp_path):
    from training.report import write_report

    with pytest.raises(LeadscoreError, match="No review run for cycle '1999-W01'"):
        write_report("1999-W01", cycles.config, tmp_path)
    with pytest.raises(LeadscoreError, match="cannot name a folder"):
        write_report("../x", cycles.config, tmp_path)


def test_a_report_in_a_folder_never_reviewed_creates_no_store(tmp_path):
    from leadscore.config import default_config
    from training.report import write_report

    config = default_config()
    db = tmp_path / "mlruns" / "mlflow.db"
    config["mlflow"]["tracking_uri"] = f"sqlite:///{db}"
    with pytest.raises(LeadscoreError, match=r"^No review run for cycle 'x': there is no MLflow "
                                             r"store at .*mlflow\.db yet"):
        write_report("x", config, tmp_path / "reports")
    assert not db.parent.exists()


def test_cli_report_command(cycles, tmp_path):
    from click.testing import CliRunner

    from cli.main import cli

    result = CliRunner().invoke(cli, ["report", "--cycle", cycles.cycles[-1][0],
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / cycles.cycles[-1][0] / "index.html").is_file()


# ---- pure helpers ------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "fmt", "text"), [
    (0.34129, "pct", "34.1%"), (-0.061, "pp", "-6.1 pp"), (0.81234, "ratio", "0.812"),
    (1234.4, "count", "1,234"), (120.46, "num1", "120.5"), (2.04, "times", "2.0x"),
    (math.nan, "pct", "n/a"), (None, "count", "n/a"),
    (0.25, "share", "25%"), (0.125, "share", "12.5%"),  # a configured share, as written
    # an interval's end just below zero is not "-0.0 pp" beside a verdict that it excludes zero
    # ("95% interval -1.9 pp to -0.0 pp, p = 0.043": below prediction)
    (-0.0004, "pp", "-0.04 pp"), (0.0003, "pp", "+0.03 pp"), (0.0, "pp", "+0.0 pp"),
])
def test_figure_format_round_trips(value, fmt, text):
    assert format_value(value, fmt) == text
    parsed = parse_value(text, fmt)
    if value is None or value != value:
        assert parsed is None
    else:
        assert abs(parsed - value) <= tolerance(fmt)


def test_grade_inversion_flags_only_clear_gaps():
    table = pd.DataFrame({"grade": ["A1", "B2", "C3"], "leads": [200, 200, 5],
                          "sql_rate": [0.10, 0.30, 0.9]})
    assert store.grade_inversions(table) == [("A1", "B2")]
    table.loc[1, "sql_rate"] = 0.11
    assert store.grade_inversions(table) == []


def test_acceptance_and_reasons_on_a_tiny_frame():
    frame = pd.DataFrame({
        "lead_id": list("abcdef"), "source": ["webinar"] * 3 + ["referral"] * 3,
        "campaign": ["w"] * 3 + ["r"] * 3,
        "verdict": ["rejected_fit", "rejected_fit", "booked", "accepted", "booked",
                    "rejected_intent"],
        "reason_code": ["wrong_title", "wrong_title", "meeting_booked", "accepted",
                        "meeting_booked", "no_budget"],
        "engaged": [True, False, True, True, True, False],
    })
    frame["accepted"] = frame["verdict"].isin(["booked", "accepted"])
    by_source = store.acceptance_by(frame, "source").set_index("source")
    assert by_source.loc["webinar", "acceptance_rate"] == pytest.approx(1 / 3)
    assert by_source.loc["referral", "acceptance_rate"] == pytest.approx(2 / 3)
    assert by_source.loc["webinar", "engaged_out_of_icp"] == pytest.approx(1 / 3)
    reasons = store.reasons_by_source(frame).set_index(["source", "reason_code"])
    # webinar: 2 of 3 leads wrong_title; overall 2 of 6: twice as often as average
    assert reasons.loc[("webinar", "wrong_title"), "ratio"] == pytest.approx(2.0)


def test_a_source_s_closing_reason_is_flagged_only_beyond_chance():
    from training.report_sales import flag_reasons

    # 12 of 15 event leads closed as competitor where 30 % is average: far beyond chance;
    # 10 of 40 list leads closed as no budget where 15 % is average: 1.7x, but 6 were expected
    # and 10 or more comes by chance about once in 15 (the report said "1.7x as often")
    reasons = pd.DataFrame({
        "source": ["event", "list", "web"], "reason_code": ["competitor", "no_budget", "x"],
        "family": ["rejected_intent"] * 3, "count": [12, 10, 3],
        "share": [12 / 15, 10 / 40, 3 / 5], "overall_share": [0.3, 0.15, 0.1]})
    reasons["ratio"] = reasons["share"] / reasons["overall_share"]
    flagged = flag_reasons(reasons)
    assert list(flagged["source"]) == ["event"]
    assert flagged["p_value"].iloc[0] < 0.001
    assert flag_reasons(reasons.iloc[1:]).empty


def test_cohort_check_is_honest_about_thin_evidence(cycles):
    from features.label_policy import load_policy
    from features.store import connect

    with connect(cycles.store, read_only=True) as con:
        first = store.cohort_check(con, load_policy(), datetime(2026, 10, 1), None, 30)
        thin = store.cohort_check(con, load_policy(), datetime(2026, 10, 1),
                                  datetime(2026, 9, 28), 30)
    assert first.verdict == "first cycle"
    assert thin.verdict == "insufficient evidence"



@pytest.mark.integration
@pytest.mark.slow
def test_real_review_writes_and_logs_the_report(tmp_path_factory, monkeypatch):
    """The contract with ``training.review``: its run carries what the report reads."""
    from mlflow.tracking import MlflowClient

    from tests.report_cycles import session_cycles

    cycles = session_cycles(tmp_path_factory).use(monkeypatch)
    cycle = cycles.cycles[-1][0]
    path = cycles.root / "reports" / cycle / "index.html"
    assert path.is_file(), "run_review did not write the report"
    html = path.read_text()
    client = MlflowClient(tracking_uri=cycles.tracking_uri)
    run = _run(client, cycles, cycle)
    assert "report/index.html" in [a.path for a in client.list_artifacts(run.info.run_id, "report")]
    assert "scored validation cohort." in html  # valid_scores.parquet was found
    # the deployed version was refit on the validation cohort: the glossary never says that
    # "the model never trained on them"
    assert "the deployed version, refit on every matured week, did" in html
    assert "the model never trained on them" not in html
    # the window starts on its first cohort's Monday, which may come before the first lead
    assert "data from the week of " in html
    assert "The review logged no signal importance table" not in html
    assert "The review logged no gate decisions" not in html
    assert 'data-metric="importance.fit"' in html
    assert "report.acceptance_rate" in run.data.metrics
    assert EMAIL.search(html) is None and EXTERNAL.search(html) is None


@pytest.mark.integration
@pytest.mark.slow
def test_grades_fall_back_to_rescoring_with_the_cycles_model(tmp_path_factory, monkeypatch):
    """Without a logged scored cohort the report scores the newest cohorts with the run's model."""
    from features.label_policy import load_policy
    from features.store import connect
    from tests.report_cycles import session_cycles
    from training import report_mlflow as report_data
    from training.report import _bundle_of
    from training.tracking import client as mlflow_client

    cycles = session_cycles(tmp_path_factory).use(monkeypatch)
    client = mlflow_client(cycles.config)
    run = report_data.find_cycle_run(client, cycles.config, cycles.cycles[-1][0])
    logged = report_data.valid_scores(report_data.download(client, run))
    with connect(cycles.store, read_only=True) as con:
        scored = store.score_validation_cohort(con, _bundle_of(client, cycles.config, run),
                                               load_policy(), cycles.config, run.as_of)
    assert set(scored["grade"]) <= {f"{a}{d}" for a in "ABCD" for d in "1234"}
    assert scored["score"].between(0, 1).all()
    # the same leads as the review's own validation table; the registered model is the refit
    # (it learned from these leads too), so its scores rank them alike but are not identical
    both = scored.merge(logged[["lead_id", "score"]], on="lead_id", suffixes=("", "_logged"))
    assert len(both) >= 0.9 * len(logged)
    assert both["score"].corr(both["score_logged"], method="spearman") > 0.8


def test_an_open_deal_the_policy_keeps_out_of_training_is_being_worked_not_junk(tmp_path):
    # Maven CRM: an Engaging deal is (working, still_open); still_open is an excluded code,
    # so it has no label, but sales' verdict is "being worked", not junk or recycled
    from features.label_policy import load_policy
    from features.store import connect
    from leadscore.config import default_config

    with connect(tmp_path / "store.duckdb") as con:
        for lead_id in ("engaging", "junk", "won"):
            con.execute("INSERT INTO leads (lead_id, created_at, source) VALUES (?, ?, 'web')",
                        [lead_id, datetime(2026, 1, 5)])
        for lead_id, status, code in (("engaging", "working", "still_open"),
                                      ("junk", "disqualified", "junk_contact"),
                                      ("won", "converted", "converted")):
            con.execute("INSERT INTO dispositions (lead_id, dispositioned_at, status, reason_code)"
                        " VALUES (?, ?, ?, ?)", [lead_id, datetime(2026, 1, 9), status, code])
        frame = store.dispositioned_leads(con, load_policy(None), default_config(), None,
                                          datetime(2026, 3, 1)).set_index("lead_id")
    assert frame.loc["engaging", "verdict"] == "accepted" and frame.loc["engaging", "accepted"]
    assert frame.loc["junk", "verdict"] == "junk_or_recycled"
    assert frame.loc["won", "verdict"] == "booked"


def test_the_report_names_the_configured_outcome_never_sqls(cycles, tmp_path):
    # a bank's report spoke of SQLs and MQL-to-SQL conversion for term-deposit subscriptions
    from training.report import write_report

    labels = {**cycles.config.get("labels", {}), "positive_name": "subscription"}
    path = write_report(cycles.cycles[-1][0], {**cycles.config, "labels": labels}, tmp_path)
    text = re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))
    assert "SQL" not in text
    assert "MQL conversion to subscription against the agreed band" in text
    assert "a subscription" in text


def test_the_report_of_a_cycle_whose_review_stopped_says_so(tmp_path):
    from leadscore.config import default_config
    from training import report_mlflow as report_data
    from training.tracking import client as mlflow_client
    from training.tracking import setup_tracking

    config = default_config()
    config["mlflow"].update(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db",
                            artifact_location=str(tmp_path / "artifacts"))
    experiment_id = setup_tracking(config)
    client = mlflow_client(config)
    run = client.create_run(experiment_id, tags={"cycle": "2026-W02"})
    client.set_terminated(run.info.run_id, "FAILED")  # as a review that stopped leaves it
    with pytest.raises(LeadscoreError) as info:
        report_data.find_cycle_run(client, config, "2026-W02")
    assert str(info.value) == (
        "The review of cycle '2026-W02' did not finish (its MLflow run is marked failed), so "
        "there is no report to write: fix what stopped it (the review printed why) and run "
        "`leadscore review --cycle 2026-W02` again.")
    with pytest.raises(LeadscoreError, match="^No review run for cycle '2026-W03'"):
        report_data.find_cycle_run(client, config, "2026-W03")


def test_report_reads_the_store_given_as_review_takes_it(tmp_path_factory, tmp_path,
                                                         monkeypatch):
    from click.testing import CliRunner

    from cli.main import cli
    from tests.report_cycles import session_cycles

    cycles = session_cycles(tmp_path_factory)
    # the registry is found, the store only through --store (as `review --store` was given)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", cycles.tracking_uri)
    monkeypatch.delenv("LEADSCORE_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    cycle = cycles.cycles[-1][0]
    result = CliRunner().invoke(cli, ["report", "--cycle", cycle, "--store", str(cycles.store),
                                      "--out", str(tmp_path / "reports")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "reports" / cycle / "index.html").exists()
    result = CliRunner().invoke(cli, ["monitor", "--store", str(tmp_path / "elsewhere.duckdb")])
    assert result.exit_code != 2, result.output  # an option monitor takes, like review
