"""Promote and rollback on a real SQLite registry: aliases and the champion's history."""

from __future__ import annotations

import shutil

import pytest

from leadscore.errors import LeadscoreError
from scoring.champion_status import GATE_ORDER, NO_CHAMPION
from training import gates, registry
from training.tracking import artifact_location, client, setup_tracking


@pytest.fixture
def three_versions(mlflow_config, tmp_path):
    """A registered model with versions 1-3 (model folders holding only a bundle manifest: the
    registry looks for nothing more)."""
    mlflow_client = client(mlflow_config)
    name = registry.model_name(mlflow_config)
    mlflow_client.create_registered_model(name)
    for i in (1, 2, 3):
        source = tmp_path / f"model{i}"
        (source / "artifacts" / "bundle").mkdir(parents=True)
        (source / "artifacts" / "bundle" / "manifest.json").write_text("{}")
        mlflow_client.create_model_version(name, source.as_uri())
    return mlflow_client, name


def test_setup_creates_store_and_experiment_with_artifacts_beside_the_db(mlflow_config, tmp_path):
    experiment_id = setup_tracking(mlflow_config)
    assert (tmp_path / "mlruns" / "mlflow.db").is_file()
    experiment = client(mlflow_config).get_experiment(experiment_id)
    assert experiment.name == "leadscore"
    assert experiment.artifact_location == (tmp_path / "mlruns" / "artifacts").as_uri()
    assert setup_tracking(mlflow_config) == experiment_id  # idempotent


def test_default_store_keeps_artifacts_under_mlruns():
    config = {"mlflow": {"artifact_location": "mlruns/artifacts"}}
    location = artifact_location(config, "sqlite:///mlruns/mlflow.db")
    assert location.endswith("/mlruns/artifacts") and location.startswith("file://")


def test_promote_then_rollback_walks_the_history(three_versions, mlflow_config):
    mlflow_client, name = three_versions
    assert registry.promote_version(1, mlflow_config) == "champion: (none) -> v1"
    assert registry.promote_version(3, mlflow_config) == "champion: v1 -> v3"
    assert registry.promote_version(2, mlflow_config) == "champion: v3 -> v2"
    assert registry.champion_history(mlflow_client, name) == [1, 3, 2]

    assert registry.rollback_champion(mlflow_config) == "champion: v2 -> v3"
    assert int(mlflow_client.get_model_version_by_alias(name, "champion").version) == 3
    assert registry.rollback_champion(mlflow_config) == "champion: v3 -> v1"
    with pytest.raises(LeadscoreError, match="There is no earlier champion to roll back to."):
        registry.rollback_champion(mlflow_config)
    assert int(mlflow_client.get_model_version_by_alias(name, "champion").version) == 1


def test_a_version_whose_files_are_gone_is_never_made_champion(three_versions, mlflow_config,
                                                                 tmp_path):
    """Every API worker would fail to load it and keep serving the old champion, while the
    registry (and `leadscore score`) said otherwise."""
    mlflow_client, name = three_versions
    registry.promote_version(1, mlflow_config)
    registry.promote_version(2, mlflow_config)
    shutil.rmtree(tmp_path / "model3")
    with pytest.raises(LeadscoreError, match=r"v3 has no model files .*: restore them"):
        registry.promote_version(3, mlflow_config)
    shutil.rmtree(tmp_path / "model1" / "artifacts" / "bundle")
    with pytest.raises(LeadscoreError, match=r"v1 has no model files"):
        registry.rollback_champion(mlflow_config)
    assert int(mlflow_client.get_model_version_by_alias(name, "champion").version) == 2
    assert registry.champion_history(mlflow_client, name) == [1, 2]


def test_promote_unknown_version_lists_the_existing_ones(three_versions, mlflow_config):
    with pytest.raises(LeadscoreError, match=r"no version 9: choose one of v1, v2, v3\."):
        registry.promote_version(9, mlflow_config)


def test_promote_the_current_champion_moves_nothing(three_versions, mlflow_config):
    mlflow_client, name = three_versions
    registry.promote_version(2, mlflow_config)
    assert "nothing moved" in registry.promote_version(2, mlflow_config)
    assert registry.champion_history(mlflow_client, name) == [2]


def test_rollback_without_champion_says_to_review_first(mlflow_config):
    with pytest.raises(LeadscoreError, match="No champion model yet"):
        registry.rollback_champion(mlflow_config)
    with pytest.raises(LeadscoreError, match="No model is registered"):
        registry.promote_version(1, mlflow_config)


def test_rollback_trusts_the_alias_when_moved_by_hand(three_versions, mlflow_config):
    mlflow_client, name = three_versions
    registry.promote_version(1, mlflow_config)
    mlflow_client.set_registered_model_alias(name, "champion", "3")  # by hand, in the UI
    assert registry.rollback_champion(mlflow_config) == "champion: v3 -> v1"


def test_load_bundle_without_champion_is_one_clear_sentence(mlflow_config):
    setup_tracking(mlflow_config)  # a store that exists and holds no model
    expected = r"^No champion model yet: run `leadscore review` first\.$"
    with pytest.raises(LeadscoreError, match=expected):
        registry.load_bundle(None, mlflow_config)


def test_no_champion_without_a_store_says_where_it_looked(mlflow_config, tmp_path):
    """Run from the wrong folder (or with another MLFLOW_TRACKING_URI), score and rollback said
    only "run `leadscore review` first": a review there starts a second registry whose v1 is
    not the v1 the score log names."""
    expected = (r"^No champion model yet: run `leadscore review` first \(there is no MLflow store "
                r"at .*/mlruns/mlflow\.db: if you reviewed in another folder, run from there or "
                r"set MLFLOW_TRACKING_URI to its store\)\.$")
    with pytest.raises(LeadscoreError, match=expected):
        registry.load_bundle(None, mlflow_config)
    with pytest.raises(LeadscoreError, match=expected):
        registry.rollback_champion(mlflow_config)
    assert not (tmp_path / "mlruns").exists()


def test_reading_the_registry_of_a_folder_never_reviewed_creates_no_store(mlflow_config,
                                                                         tmp_path):
    db = tmp_path / "mlruns" / "mlflow.db"
    with pytest.raises(LeadscoreError, match=r"^No champion model yet: run `leadscore review`"):
        registry.load_bundle(None, mlflow_config)
    with pytest.raises(LeadscoreError, match=r"no MLflow store at .*mlflow\.db yet"):
        registry.load_bundle("models:/leadscore/1", mlflow_config)
    with pytest.raises(LeadscoreError, match="No model is registered"):
        registry.promote_version(1, mlflow_config)
    with pytest.raises(LeadscoreError, match=r"^No champion model yet"):
        registry.rollback_champion(mlflow_config)
    assert registry.previous_champion(mlflow_config) == (None, None)
    assert not db.exists() and not db.parent.exists()
    setup_tracking(mlflow_config)  # a review creates it
    assert db.exists()


def test_the_no_champion_sentence_orders_gates_as_the_review_decides_them():
    decision = gates.decide({"pr_auc": 0.5, "ece": 0.01}, None, feasible=True,
                            threshold_message="", band=(0.25, 0.5),
                            gates_config={"pr_auc_tolerance": 0.01, "max_calibration_error": 0.05},
                            evidence=gates.Gate("evidence", True, ""))
    assert tuple(g.name for g in decision.gates) == GATE_ORDER


def test_no_champion_after_reviews_names_the_last_cycle_the_failed_gate_and_promote(
        three_versions, mlflow_config):
    mlflow_client, name = three_versions
    for key, value in {"cycle": "2026-W44", "gate.pr_auc": "fail", "gate.evidence": "pass",
                       "gate.band": "fail"}.items():
        mlflow_client.set_model_version_tag(name, "3", key, value)
    expected = (r"^No champion model yet: 3 reviews registered a model but none was promoted; "
                r"the last, v3 \(cycle 2026-W44\), failed the band, pr_auc gates\. Review it "
                r"and promote it by hand with `leadscore promote 3`")
    with pytest.raises(LeadscoreError, match=expected):
        registry.load_bundle(None, mlflow_config)
    with pytest.raises(LeadscoreError, match=expected):
        registry.rollback_champion(mlflow_config)
    # with a champion there is no "no champion" sentence at all
    registry.promote_version(3, mlflow_config)
    assert registry.alias_version(mlflow_client, name, registry.CHAMPION) == 3


def test_no_champion_when_never_reviewed_says_to_review(mlflow_config):
    mlflow_client = client(mlflow_config)
    assert registry.no_champion(mlflow_client, "leadscore") == NO_CHAMPION


def test_loading_a_version_whose_files_are_gone_says_so(three_versions, mlflow_config, tmp_path):
    """`leadscore score`, rescore and monitor said "models:/leadscore@champion is not a leadscore
    model (no bundle inside): use a model logged by `leadscore review`" of a champion that a
    review logged and whose files were deleted since."""
    registry.promote_version(2, mlflow_config)
    shutil.rmtree(tmp_path / "model2" / "artifacts")
    for uri in (None, "models:/leadscore/2", "models:/leadscore@champion"):
        with pytest.raises(LeadscoreError) as caught:
            registry.load_bundle(uri, mlflow_config)
        message = str(caught.value)
        assert message.startswith("Model 'leadscore' v2 (the champion) has no model files at ")
        assert "moved or deleted?" in message and "`leadscore rollback`" in message
        assert "not a leadscore model" not in message
    shutil.rmtree(tmp_path / "model3" / "artifacts")
    with pytest.raises(LeadscoreError, match=r"^Model 'leadscore' v3 has no model files at "):
        registry.load_bundle("models:/leadscore/3", mlflow_config)


def test_no_champion_under_another_name_names_the_models_the_store_holds(three_versions,
                                                                          mlflow_config):
    """A config naming another registered model (`leadscore-eu`) on a store whose reviews
    registered `leadscore` was told "No champion model yet: run `leadscore review` first"."""
    mlflow_client, _ = three_versions
    registry.promote_version(2, mlflow_config)
    other = {**mlflow_config, "mlflow": {**mlflow_config["mlflow"],
                                         "registered_model": "leadscore-eu"}}
    expected = (r"^No model is registered as 'leadscore-eu' in this MLflow store, which holds "
                r"'leadscore' \(champion v2\): set mlflow\.registered_model to the model your "
                r"reviews register, or run `leadscore review` first\.$")
    for attempt in (lambda: registry.load_bundle(None, other),
                    lambda: registry.rollback_champion(other),
                    lambda: registry.promote_version(1, other)):
        with pytest.raises(LeadscoreError, match=expected):
            attempt()
    assert registry.no_champion(mlflow_client, "leadscore-eu").startswith("No model is registered")


def test_no_champion_after_the_alias_was_removed_does_not_say_none_was_promoted(three_versions,
                                                                              mlflow_config):
    """The alias deleted by hand in the MLflow UI: "none was promoted" would be false."""
    mlflow_client, name = three_versions
    registry.promote_version(1, mlflow_config)
    registry.promote_version(3, mlflow_config)
    mlflow_client.delete_registered_model_alias(name, "champion")
    expected = (r"^No champion model now: the `champion` alias was removed \(the last champion "
                r"was v3\); make a version the champion with `leadscore promote N` "
                r"\(e\.g\. `leadscore promote 3`\)\.$")
    with pytest.raises(LeadscoreError, match=expected):
        registry.load_bundle(None, mlflow_config)


def test_promoting_a_version_that_failed_its_gates_says_so(three_versions, mlflow_config):
    """`leadscore promote 4` of a version whose review kept the champion moved it in silence."""
    mlflow_client, name = three_versions
    for key, value in {"cycle": "C4", "gate.evidence": "pass", "gate.band": "fail",
                       "gate.pr_auc": "fail", "gates_passed": "false"}.items():
        mlflow_client.set_model_version_tag(name, "2", key, value)
    mlflow_client.set_model_version_tag(name, "3", "gates_passed", "true")
    assert registry.promote_version(3, mlflow_config) == "champion: (none) -> v3"
    assert registry.promote_version(2, mlflow_config) == (
        "champion: v3 -> v2 (v2 failed the band, pr_auc gates in its review, cycle C4: "
        "promoted by hand)")
    assert registry.rollback_champion(mlflow_config) == "champion: v2 -> v3"
    # back to a champion that failed its gates: the rollback says so, as promote did
    registry.promote_version(1, mlflow_config)
    registry.promote_version(2, mlflow_config)
    assert registry.promote_version(1, mlflow_config) == "champion: v2 -> v1"
    assert registry.rollback_champion(mlflow_config) == (
        "champion: v1 -> v2 (v2 failed the band, pr_auc gates in its review, cycle C4: "
        "champion again by rollback)")


def test_no_champion_never_advises_promoting_a_version_from_an_unfinished_review(
        three_versions, mlflow_config, tmp_path):
    """A review killed after registering v4 left a bare version: "the last, v4, was not promoted
    ... `leadscore promote 4`", which promote then refuses."""
    mlflow_client, name = three_versions
    mlflow_client.set_model_version_tag(name, "3", "cycle", "2026-W44")
    mlflow_client.set_model_version_tag(name, "3", "gate.band", "fail")
    run = mlflow_client.create_run(setup_tracking(mlflow_config), tags={"cycle": "2026-W48"})
    mlflow_client.set_terminated(run.info.run_id, status="KILLED")
    source = tmp_path / "model4" / "artifacts" / "bundle"
    source.mkdir(parents=True)
    (source / "manifest.json").write_text("{}")
    mlflow_client.create_model_version(name, source.parent.parent.as_uri(),
                                       run_id=run.info.run_id)
    expected = (r"the last from a finished review, v3 \(cycle 2026-W44\), failed the band gate\. "
                r"Review it and promote it by hand with `leadscore promote 3`")
    with pytest.raises(LeadscoreError, match=expected):
        registry.load_bundle(None, mlflow_config)
