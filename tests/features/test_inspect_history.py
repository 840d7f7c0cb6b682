"""``leadscore inspect`` on a stage history beside its leads (one row per lead per stage change),
then ingest of the draft as written, into a real DuckDB store."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from features.ingest import ingest_paths
from features.inspect import inspect
from features.inspect_draft import draft

N = 60


def _export(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"LeadId": [str(500 + i) for i in range(N)],
                  "LeadSource": [["Web", "Partner"][i % 2] for i in range(N)],
                  "CreatedDate": [f"2026-01-{1 + i % 28:02d} 09:00:00" for i in range(N)]},
                 ).to_csv(folder / "leads.csv", index=False)
    rows = []
    for i in range(N):  # New, Working, then a verdict: Meeting Booked for every fourth lead
        day = 1 + i % 28
        rows += [(str(500 + i), "New", f"2026-01-{day:02d} 09:00:00"),
                 (str(500 + i), "Working", f"2026-02-{day:02d} 10:{i % 60:02d}:00"),
                 (str(500 + i), "Meeting Booked" if i % 4 == 0 else "Unqualified",
                  f"2026-03-{day:02d} 11:{i % 60:02d}:00")]
    pd.DataFrame(rows, columns=["LeadId", "Stage", "ChangedAt"]).to_csv(
        folder / "lead_stage_history.csv", index=False)
    return folder


def test_a_stage_history_is_drafted_as_the_outcomes_of_the_leads_beside_it(tmp_path):
    # the history is the larger file and has no id column: inspect took it for the leads (120
    # "leads" dated by row number, LeadId a numeric fit feature, the stage a post_outcome)
    export = _export(tmp_path / "export")
    found = inspect([export], "Stage", ["Meeting Booked"])
    assert found.main.path.name == "leads.csv"
    text = draft(found)
    assert "      LeadId: id\n" in text and "from_order" not in text
    stage = next(line for line in text.splitlines() if line.startswith("      Stage: "))
    assert stage.startswith("      Stage: {as: stage, values: {")
    for value, mapped in (("New", "none"), ("Working", "none"), ("Unqualified", "none"),
                          ("Meeting Booked", "sql")):
        assert f'"{value}": {mapped}' in stage
    assert "      ChangedAt: {as: occurred_at}\n" in text
    assert (f"lead_stage_history.csv: {3 * N} rows for {N} of the {N} leads of leads.csv (by "
            "LeadId), several per lead: a history of stage changes, drafted as the leads' "
            "outcomes, each dated by ChangedAt") in found.text
    mapping = tmp_path / "draft.yaml"
    mapping.write_text(text)
    store = tmp_path / "s.duckdb"
    report = ingest_paths([export], store, mapping=mapping)
    assert report.tables["leads"].new == N
    with duckdb.connect(str(store), read_only=True) as con:
        won = con.execute("SELECT lead_id, occurred_at FROM outcomes WHERE stage = 'sql' "
                          "ORDER BY lead_id").fetchall()
    assert [w[0] for w in won] == [str(500 + i) for i in range(0, N, 4)]
    assert str(won[0][1]) == "2026-03-01 11:00:00"  # dated by the change, not at creation


def test_without_an_outcome_the_history_is_still_not_the_leads_file(tmp_path):
    found = inspect([_export(tmp_path / "export")])
    assert found.main.path.name == "leads.csv"
    assert "none reads positive: name it with --outcome Stage --positive VALUE" in draft(found)


def test_a_lookup_joined_on_a_leak_suspect_is_no_feature_without_an_outcome(tmp_path):
    # Salesforce's Opportunity joins Lead.ConvertedOpportunityId, filled only for converted
    # leads: without --outcome its Amount was drafted {role: fit, kind: numeric}, a value that
    # exists only for the leads that converted
    export = tmp_path / "sf"
    export.mkdir()
    n = 60
    pd.DataFrame({"Id": [f"00Q{i:05d}" for i in range(n)],
                  "LeadSource": [["Web", "Partner"][i % 2] for i in range(n)],
                  "ConvertedOpportunityId": [f"006{i:05d}" if i % 3 == 0 else ""
                                             for i in range(n)]}
                 ).to_csv(export / "Lead.csv", index=False)
    pd.DataFrame({"Id": [f"006{i:05d}" for i in range(0, n, 3)],
                  "Amount": [str(1000 + 10 * i) for i in range(0, n, 3)]}
                 ).to_csv(export / "Opportunity.csv", index=False)
    found = inspect([export])
    opportunity = next(f for f in found.files if f.path.name == "Opportunity.csv")
    amount = next(c for c in opportunity.columns if c.name == "Amount")
    assert amount.spec == "ignore"
    assert "joined on ConvertedOpportunityId, itself a leak suspect" in "; ".join(amount.leaks)


def test_a_history_stage_is_drafted_as_the_stage_its_positive_value_names(tmp_path):
    # every positive stage of a history was drafted closed_won: a report would then say an SQL
    # was won, as the main file's outcome already no longer did (inspect_roles.positive_stage)
    export = _export(tmp_path / "export")
    history = export / "lead_stage_history.csv"
    frame = pd.read_csv(history, dtype=str)
    frame["Stage"] = frame["Stage"].replace({"Meeting Booked": "Sales Qualified Lead"})
    frame.to_csv(history, index=False)
    text = draft(inspect([export], "Stage", ["Sales Qualified Lead"]))
    stage = next(line for line in text.splitlines() if line.startswith("      Stage: "))
    assert '"Sales Qualified Lead": sql}' in stage
