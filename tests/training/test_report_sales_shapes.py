"""The report's sales section on export shapes: conversions recorded as outcomes alone, and a
free-text source field of thousands of values."""

from __future__ import annotations

from datetime import datetime

from tests.training.report_context import _ctx, _dispositioned, _run, _text
from training import report_duckdb as store
from training.report_figures import Figures
from training.report_sales import dispositions_section


def test_conversions_recorded_only_as_outcomes_are_said_beside_the_acceptance_rate(tmp_path):
    # a Salesforce-shaped export: reasons only for rejections, conversions as outcomes alone;
    # the acceptance rate read "0.0% of 2 leads" with nothing said of the converted lead
    from features.label_policy import load_policy
    from features.store import connect

    with connect(tmp_path / "s.duckdb") as con:
        for lead in ("rejected", "won_alone", "won_booked", "later"):
            created = datetime(2026, 3, 20 if lead == "later" else 2)
            con.execute("INSERT INTO leads (lead_id, created_at, source) VALUES (?, ?, 'web')",
                        [lead, created])
        con.execute("INSERT INTO dispositions (lead_id, dispositioned_at, status, reason_code) "
                    "VALUES ('rejected', '2026-03-03', 'rejected', 'no_budget'), "
                    "('won_booked', '2026-03-03', 'meeting_booked', 'meeting_booked')")
        con.execute("INSERT INTO outcomes (lead_id, stage, occurred_at) VALUES "
                    "('won_alone', 'sql', '2026-03-05'), ('won_booked', 'sql', '2026-03-05'), "
                    "('later', 'sql', '2026-03-21')")
        assert store.undispositioned_positives(con, load_policy(), datetime(2026, 3, 1),
                                               datetime(2026, 3, 10)) == 1
    frame = _dispositioned([False, False], ["rejected_intent", "rejected_intent"])
    figs = Figures("r1", {})
    section = dispositions_section(frame, figs, outcome_only=1)
    assert 'data-metric="report.undispositioned_positives"' in str(section["outcome_only"])
    assert section["outcome_only_n"] == 1
    assert dispositions_section(frame, Figures("r1", {}))["outcome_only"] is None


def test_the_opening_says_the_conversions_the_acceptance_rate_leaves_out():
    run = _run()
    # one accepting verdict: verdicts on rejected leads alone get no rate at all
    # (test_report_new_exports)
    frame = _dispositioned([False, False], ["booked", "rejected_intent"])
    for alone, said in ((0, None), (1, "; 1 more lead ended in a booked meeting with no "
                                        "disposition recorded (not in that rate).")):
        ctx = _ctx(run)
        ctx["dispositions"] = dispositions_section(frame, ctx["figs"], outcome_only=alone)
        line = next(t for t in _text(ctx) if t.startswith("Sales accepted"))
        assert line.endswith(said) if said else line.endswith("dispositioned leads.")


def test_a_free_text_source_field_lists_its_largest_sources_only():
    # 1,899 free-text sources made a table of 1,899 rows (a 2.2 MB page)
    n = 200
    frame = _dispositioned([False] * n, ["rejected_intent"] * n)
    frame["source"] = [f"source {i % 60}" if i < 120 else "webinar" for i in range(n)]
    section = dispositions_section(frame, Figures("r1", {}))
    assert len(section["sources"]) == 30 and section["sources"][0]["name"] == "webinar"
    assert section["source_heading"] == "By source: the 30 largest of 61"
    few = dispositions_section(_dispositioned([False] * 4, ["booked"] * 4), Figures("r1", {}))
    assert few["source_heading"] == "By source"
