"""Every registered version explains itself, is refit as deployed, and is judged only on weeks
it never saw; cycle names and reruns are said. The review cycles are conftest's ``reviewed``,
shared with test_review.py (run before this file)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from leadscore.errors import LeadscoreError
from tests.training.review_cycles import CYCLES
from training.deploy import METHODS

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_every_version_explains_itself_with_tags_and_a_description(env):
    client = env["client"]
    for summary in (*env["summaries"], env["rerun"]):
        version = client.get_model_version("leadscore", str(summary.version))
        tags = version.tags
        assert tags["cycle"] == summary.cycle
        assert tags["refit"] == "true" and tags["calibration_method"] in METHODS
        for gate in summary.gates["gates"]:
            assert tags[f"gate.{gate['name']}"] == ("pass" if gate["passed"] else "fail")
        assert float(tags["judged.roc_auc"]) == pytest.approx(
            summary.models["challenger"]["roc_auc"], abs=1e-4)
        assert version.description.startswith(f"Cycle {summary.cycle} (as of ")
        family = client.get_run(summary.run_id).data.params["model_family"]
        assert tags["model_family"] == family
        assert f": {family} model refit on all matured weeks" in version.description
        # the ROC-AUC is the judged model's: the refit learned from the validation cohort, so
        # "ROC-AUC 0.745 on the validation cohort" beside "refit" read as the version's own
        roc = summary.models["challenger"]["roc_auc"]
        assert (f"the model the gates judged (trained on the weeks before the validation cohort) "
                f"had ROC-AUC {roc:.3f} there") in version.description


def test_the_deployed_model_is_refit_on_every_matured_week(env):
    client = env["client"]
    summary = env["summaries"][-1]
    run = client.get_run(summary.run_id)
    from training.registry import load_bundle

    bundle, _ = load_bundle(f"models:/leadscore/{summary.version}", env["config"])
    deployment = bundle.manifest["deployment"]
    split = summary.split
    assert deployment["refit"] is True
    assert deployment["refit_leads"] == (split["train_leads"] + split["calib_leads"]
                                         + split["valid_leads"])
    # same parameters and number of trees as the judged model
    assert run.data.params["lightgbm.num_boost_round"] == str(
        bundle.manifest["lightgbm"]["num_boost_round"])
    assert bundle.boosters["full"].num_trees() == int(run.data.params["lightgbm.num_boost_round"])
    assert "deployed.ece" in run.data.metrics and "deployed (refit)" in summary.models


def test_a_champion_is_never_judged_on_weeks_it_learned_from(env):
    """The rerun of the first cycle meets a champion refit on every week of its cohort (v1 on
    the same weeks, or v2 on later ones): it is not compared, and the rerun cannot replace it."""
    client = env["client"]
    rerun = client.get_run(env["rerun"].run_id)
    if rerun.data.params["champion_version_before"] == "none":
        pytest.skip("neither cycle promoted a champion")
    gates = json.loads(Path(client.download_artifacts(rerun.info.run_id, "gates.json"))
                       .read_text())
    pr_auc = next(g for g in gates["gates"] if g["name"] == "pr_auc")
    assert not pr_auc["passed"]
    assert pr_auc["sentence"].startswith(
        "The champion's PR-AUC could not be measured on any week it did not learn from")
    assert np.isnan(rerun.data.metrics["champion.pr_auc"])
    # the second cycle's champion (v1, refit through the first cohort) saw none of its weeks
    second = client.get_run(env["summaries"][1].run_id)
    if "champion.pr_auc" in second.data.metrics:
        assert not np.isnan(second.data.metrics["champion.pr_auc"])


@pytest.mark.parametrize("name, why", [
    ("2026/W47", "cannot name a folder"),
    ("../../escape", "cannot name a folder"),
    ("line1\nline2", "control character"),
    ('the "final" one', "double quote"),
    ("w" * 101, "too long for a folder name"),
])
def test_a_cycle_name_the_report_cannot_use_is_refused_before_anything_is_written(env, name, why):
    """The review used to run to its end, register a version and then fail to write the report
    ('x/y'), or write a report under another name (a line break)."""
    from training.review import run_review

    client = env["client"]
    before = [v.version for v in client.search_model_versions("name = 'leadscore'")]
    runs = len(client.search_runs([client.get_experiment_by_name("leadscore").experiment_id]))
    with pytest.raises(LeadscoreError, match=why):
        run_review(name, CYCLES[-1][1], env["config"], promote=False)
    assert [v.version for v in client.search_model_versions("name = 'leadscore'")] == before
    assert len(client.search_runs([client.get_experiment_by_name("leadscore").experiment_id])) \
        == runs


def test_a_cycle_named_with_an_apostrophe_is_found_again_by_its_report(env, tmp_path):
    """The report's search dropped the apostrophe and said the cycle was never reviewed."""
    from training.report import write_report
    from training.review import run_review

    run_review("Anne's W41", CYCLES[-1][1], env["config"], promote=False)
    path = write_report("Anne's W41", env["config"], tmp_path)
    assert path.parent.name == "Anne's W41"
    assert "Lead scoring review: cycle Anne&#39;s W41" in path.read_text(encoding="utf-8")


def test_a_review_dated_before_the_last_one_says_so(env):
    """The module's rerun is dated 2026-10-01 after a review as of 2026-11-01; it ran in
    silence."""
    last_cycle, last_as_of = CYCLES[-1]
    expected = (f"This review is dated {CYCLES[0][1]}, before the last review (cycle {last_cycle}, "
                f"as of {last_as_of}): it learns from less evidence than that one did, and its "
                "report compares it with the last cycle dated on or before it.")
    assert expected in env["rerun"].notes
    assert not any("dated" in note and "before the last review" in note
                   for summary in env["summaries"] for note in summary.notes)


def test_a_cycle_reviewed_again_says_so(env):
    from training.review import run_review

    cycle, as_of = CYCLES[-1]
    first = env["summaries"][-1]
    again = run_review(cycle, as_of, env["config"], promote=False)
    assert (f"Cycle {cycle} was reviewed before (v{first.version}); this review registers "
            f"v{again.version}, and `leadscore report --cycle {cycle}` now reports this one."
            ) in again.notes
