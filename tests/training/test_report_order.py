"""Which review is a cycle's "previous" one, and what the report says of earlier reviews of the
same cycle, on a real SQLite MLflow store (runs made as the review tags them)."""

from __future__ import annotations

import pytest

from training import report_mlflow as data
from training.tracking import client, setup_tracking


@pytest.fixture
def runs(mlflow_config):
    """Make completed review runs: (cycle, as_of) in the order they ran."""
    mlflow_client = client(mlflow_config)
    experiment_id = setup_tracking(mlflow_config)
    made = {}

    def make(cycle: str, as_of: str, start_ms: int, status: str = "FINISHED") -> str:
        run = mlflow_client.create_run(experiment_id, start_time=start_ms,
                                       tags={"cycle": cycle, "as_of": as_of})
        mlflow_client.log_param(run.info.run_id, "as_of", as_of)
        mlflow_client.set_terminated(run.info.run_id, status=status)
        made[(cycle, start_ms)] = run.info.run_id
        return run.info.run_id

    return mlflow_client, make


def _previous(mlflow_client, config, cycle):
    current = data.find_cycle_run(mlflow_client, config, cycle)
    found = data.previous_run(mlflow_client, config, current)
    return None if found is None else found.cycle


def test_the_previous_cycle_is_the_last_one_dated_before_not_the_last_one_run(runs,
                                                                           mlflow_config):
    """B, reviewed after A but as of an earlier date, called A its previous cycle: "down from
    31.6% in cycle A" and "no lead that became scoreable after the previous review (2026-06-01)"
    in a report dated 2026-05-01."""
    mlflow_client, make = runs
    make("W18", "2026-04-01", 1_000)
    make("A", "2026-06-01", 2_000)
    make("B", "2026-05-01", 3_000)
    make("C", "2026-05-01", 4_000)  # the same date as B, reviewed after it
    assert _previous(mlflow_client, mlflow_config, "B") == "W18"
    assert _previous(mlflow_client, mlflow_config, "C") == "B"
    assert _previous(mlflow_client, mlflow_config, "A") == "W18"
    current = data.find_cycle_run(mlflow_client, mlflow_config, "B")
    later = data.later_dated_before(mlflow_client, mlflow_config, current)
    assert later is not None and later.cycle == "A"


def test_earlier_reviews_of_the_same_cycle_are_found(runs, mlflow_config):
    """A cycle reviewed again: its report said "previous cycle: none (first cycle)" and nothing
    of the earlier review whose version the rerun was compared with."""
    mlflow_client, make = runs
    first = make("A", "2026-06-01", 1_000)
    make("A", "2026-06-01", 2_000, status="FAILED")  # stopped: not a review that counts
    make("A", "2026-06-01", 3_000)
    current = data.find_cycle_run(mlflow_client, mlflow_config, "A")
    assert [r.run_id for r in data.earlier_reviews(mlflow_client, mlflow_config, current)] \
        == [first]
    assert data.previous_run(mlflow_client, mlflow_config, current) is None


def test_the_report_header_says_what_came_before(runs, mlflow_config):
    from training.report_opening import previous_line

    mlflow_client, make = runs
    make("W18", "2026-04-01", 1_000)
    make("A", "2026-06-01", 2_000)
    make("B", "2026-05-01", 3_000)
    make("B", "2026-05-01", 4_000)

    def line(cycle):
        current = data.find_cycle_run(mlflow_client, mlflow_config, cycle)
        return previous_line(data.previous_run(mlflow_client, mlflow_config, current),
                             data.later_dated_before(mlflow_client, mlflow_config, current),
                             data.earlier_reviews(mlflow_client, mlflow_config, current))

    assert line("W18") == "previous cycle: none (first cycle)"
    assert line("A") == "previous cycle: W18"
    first_b = data.earlier_reviews(mlflow_client, mlflow_config,
                                   data.find_cycle_run(mlflow_client, mlflow_config, "B"))[0]
    assert line("B") == (
        "previous cycle: W18 (cycle A, reviewed before this one, is dated 2026-06-01, after it) "
        f"· this cycle was reviewed once before (run {first_b.run_id[:8]}); this report is of "
        "its latest review")


def test_a_cycle_reviewed_under_another_experiment_is_named(runs, mlflow_config):
    """`leadscore report --cycle X2` without the X Education config said "run `leadscore review
    --cycle X2` first" of a cycle the store holds under experiment 'leadscore-x-education'."""
    from leadscore.errors import LeadscoreError

    mlflow_client, make = runs
    make("X2", "2015-10-01", 1_000)
    other = {**mlflow_config, "mlflow": {**mlflow_config["mlflow"], "experiment": "other"}}
    setup_tracking(other)
    with pytest.raises(LeadscoreError, match=(
            r"^No review run for cycle 'X2' in experiment 'other'; this MLflow store holds it "
            r"in experiment 'leadscore': set mlflow\.experiment \(and mlflow\.registered_model\) "
            r"to the config it was reviewed with, e\.g\. --config\.$")):
        data.find_cycle_run(mlflow_client, other, "X2")
