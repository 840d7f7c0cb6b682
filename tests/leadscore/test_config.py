"""The configuration floor: defaults, a user's file, the environment."""

from __future__ import annotations

import pytest

from leadscore.config import default_config, load_config
from leadscore.errors import LeadscoreError


def test_each_history_store_gets_its_own_live_store_unless_the_config_names_one(tmp_path,
                                                                              monkeypatch):
    monkeypatch.delenv("LEADSCORE_STORE", raising=False)
    assert load_config()["live"]["url"] == default_config()["live"]["url"]  # sqlite:///data/live.db
    other = tmp_path / "x.yaml"
    other.write_text("store: data/x-education.duckdb\n")
    # a second store must never merge the first one's events and verdicts into its reviews
    assert load_config(other)["live"]["url"] == "sqlite:///data/x-education.live.db"
    monkeypatch.setenv("LEADSCORE_STORE", str(tmp_path / "crm.duckdb"))
    assert load_config()["live"]["url"] == f"sqlite:///{tmp_path / 'crm.live.db'}"
    named = tmp_path / "named.yaml"
    named.write_text("store: data/x.duckdb\nlive: {url: 'postgresql+psycopg://u@h/db'}\n")
    assert load_config(named)["live"]["url"] == "postgresql+psycopg://u@h/db"


def _fails(tmp_path, text: str) -> str:
    path = tmp_path / "my.yaml"
    path.write_text(text)
    with pytest.raises(LeadscoreError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_a_misspelt_setting_is_an_error_naming_it(tmp_path):
    # a typo silently ignored would leave the user believing the setting took
    message = _fails(tmp_path, "cycle:\n  validaton_weeks: 4\n")
    assert "cycle.validaton_weeks" in message and "validation_weeks" in message
    assert "labels.maturity_dayz" in _fails(tmp_path, "labels:\n  maturity_dayz: 60\n")
    path = tmp_path / "ok.yaml"  # LightGBM takes any of its own parameters
    path.write_text("cycle:\n  lightgbm: {max_depth: 4}\n")
    assert load_config(path)["cycle"]["lightgbm"]["max_depth"] == 4


def test_settings_a_review_reads_are_checked_for_range(tmp_path):
    message = _fails(tmp_path, "labels:\n  maturity_days: thirty\n")
    assert "labels.maturity_days is 'thirty'" in message
    message = _fails(tmp_path, "cycle:\n  band: {min: 60, max: 85}\n")
    assert "cycle.band" in message and "0.60" in message
    assert "cycle.band" in _fails(tmp_path, "cycle:\n  band: {min: 0.5, max: 0.4}\n")
    assert "cycle.validation_weeks" in _fails(tmp_path, "cycle:\n  validation_weeks: 0\n")


def test_a_yaml_error_is_one_line_with_its_place(tmp_path):
    message = _fails(tmp_path, "cycle: [1,2\n")
    assert "is not valid YAML" in message and "line 2" in message


def test_capacity_and_half_life_are_null_or_positive(tmp_path):
    # 0 read as "not set" and a negative half-life weighed OLD leads up: both ran without a word
    for value in (0, -5, "ten"):
        message = _fails(tmp_path, f"cycle:\n  capacity_per_week: {value}\n")
        assert f"cycle.capacity_per_week is {value!r}" in message
        assert "above 0" in message and "null" in message
    for value in (0, -4, "four"):
        message = _fails(tmp_path, f"cycle:\n  recency_half_life_weeks: {value}\n")
        assert f"cycle.recency_half_life_weeks is {value!r}" in message and "null" in message
    path = tmp_path / "ok.yaml"
    path.write_text("cycle:\n  capacity_per_week: 12.5\n  recency_half_life_weeks: null\n")
    assert load_config(path)["cycle"]["capacity_per_week"] == 12.5


def test_switches_are_true_or_false(tmp_path):
    # a quoted 'no' is a string, and any non-empty string is true: refit ran while the user had
    # switched it off
    message = _fails(tmp_path, "cycle:\n  refit: 'no'\n")
    assert "cycle.refit is 'no'" in message and "true or false" in message
    assert "labels.accept_maturity_window" in _fails(
        tmp_path, "labels:\n  accept_maturity_window: 'yes'\n")
    path = tmp_path / "ok.yaml"
    path.write_text("cycle:\n  refit: no\n")  # YAML's unquoted no is false
    assert load_config(path)["cycle"]["refit"] is False


def test_bootstrap_rounds_are_enough_for_an_interval(tmp_path):
    # one resample printed "conversion 37.8% (95% interval 42.8%-42.8%)": an interval that is a
    # point, and not even around the figure it qualifies
    message = _fails(tmp_path, "cycle:\n  bootstrap_rounds: 1\n")
    assert "cycle.bootstrap_rounds is 1" in message and "20 or more" in message
    path = tmp_path / "ok.yaml"
    path.write_text("cycle:\n  bootstrap_rounds: 20\n")
    assert load_config(path)["cycle"]["bootstrap_rounds"] == 20


def test_max_mql_share_lets_some_leads_through(tmp_path):
    # 0 failed every review's band gate with "more than the 0% allowed"
    message = _fails(tmp_path, "cycle:\n  max_mql_share: 0\n")
    assert "cycle.max_mql_share is 0" in message and "above 0 and at most 1" in message
    assert "cycle.max_mql_share" in _fails(tmp_path, "cycle:\n  max_mql_share: 1.5\n")


def test_gates_are_fractions(tmp_path):
    # 'high' trained the whole cycle and then stopped with a ValueError traceback at the gates
    message = _fails(tmp_path, "cycle:\n  gates: {max_calibration_error: high}\n")
    assert "cycle.gates.max_calibration_error is 'high'" in message
    assert "between 0 and 1" in message
    assert "cycle.gates.pr_auc_tolerance" in _fails(
        tmp_path, "cycle:\n  gates: {pr_auc_tolerance: -0.5}\n")


def test_seed_and_lock_wait_are_checked(tmp_path):
    # 'abc' and -1 stopped the review part-way with a ValueError traceback
    assert "cycle.seed is 'abc'" in _fails(tmp_path, "cycle:\n  seed: abc\n")
    assert "cycle.seed is -1" in _fails(tmp_path, "cycle:\n  seed: -1\n")
    assert "cycle.lock_wait_s is -1" in _fails(tmp_path, "cycle:\n  lock_wait_s: -1\n")
    assert "between 0 and 4294967295" in _fails(tmp_path, "cycle:\n  seed: 1.5\n")


def test_tournament_settings_are_checked_before_any_work(tmp_path):
    # trials: 0 was refused only once the store was read and the MLflow run opened (a FAILED
    # run), and max_tuning_leads: 5 drew one-class samples: a scikit-learn traceback
    message = _fails(tmp_path, "cycle:\n  tournament: {trials: 0}\n")
    assert "cycle.tournament.trials is 0" in message and "1 or more" in message
    message = _fails(tmp_path, "cycle:\n  tournament: {max_tuning_leads: 5}\n")
    assert "cycle.tournament.max_tuning_leads is 5" in message and "1000 or more" in message
    assert "cycle.tournament.enabled" in _fails(tmp_path,
                                                "cycle:\n  tournament: {enabled: 'off'}\n")
    assert "cycle.tournament.tie_tolerance" in _fails(
        tmp_path, "cycle:\n  tournament: {tie_tolerance: -1}\n")


def test_feature_and_icp_lists_are_lists(tmp_path):
    # windows_days: [] fell back to [1, 7, 30, 90] without a word, and icp.regions: europe (a
    # string, not a list) was read letter by letter: no lead's region is "e", so no lead
    # matched the ideal customer profile
    message = _fails(tmp_path, "features:\n  windows_days: []\n")
    assert "features.windows_days is []" in message and "at least one" in message
    message = _fails(tmp_path, "icp:\n  regions: europe\n")
    assert "icp.regions is 'europe'" in message and "[europe]" in message
    assert "features.high_intent_activities" in _fails(
        tmp_path, "features:\n  high_intent_activities: demo_request\n")
    assert "icp.industries" in _fails(tmp_path, "icp:\n  industries: [software, [x]]\n")
    path = tmp_path / "ok.yaml"
    path.write_text("icp:\n  regions: []\nfeatures:\n  high_intent_activities: []\n")
    assert load_config(path)["icp"]["regions"] == []  # an empty list is not checked


def test_the_outcome_name_is_words(tmp_path):
    # positive_name: 5 printed "655 5s" on the console; "" fell back to "booked meeting" unsaid
    assert "labels.positive_name is 5" in _fails(tmp_path, "labels:\n  positive_name: 5\n")
    message = _fails(tmp_path, "labels:\n  positive_name: ''\n")
    assert "labels.positive_name is ''" in message and "won deal" in message


def test_sla_hours_are_above_zero(tmp_path):
    # sla: {high_intent_hours: 0, other_hours: 0} reported "0.0% of leads were first touched
    # within their SLA (0 h for high intent, 0 h otherwise)": no lead can be touched in no time
    message = _fails(tmp_path, "sla:\n  high_intent_hours: 0\n")
    assert "sla.high_intent_hours is 0" in message and "above 0" in message
    assert "sla.disposition_hours" in _fails(tmp_path, "sla:\n  disposition_hours: 0\n")
    path = tmp_path / "ok.yaml"
    path.write_text("sla:\n  high_intent_hours: 0.25\n")
    assert load_config(path)["sla"]["high_intent_hours"] == 0.25
