"""``leadscore inspect``: profiles, leak suspects and a draft mapping that loads."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cli.main import cli
from features.ingest import ingest_paths
from features.inspect import inspect
from features.inspect_draft import draft
from features.mapping_v2 import load_any
from leadscore.errors import LeadscoreError

REPO = Path(__file__).resolve().parents[2]
X_EDUCATION = REPO.parent / "shared/datasets/x-education/Leads.csv"


@pytest.fixture
def export(tmp_path) -> Path:
    rng = np.random.default_rng(3)
    n = 400
    won = rng.random(n) < 0.4
    frame = pd.DataFrame({
        "Deal ID": [f"d{i:04d}" for i in range(n)],
        "Created": pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M"),
        "Region": rng.choice(["north", "south", "east"], n),
        "Visits": rng.integers(0, 20, n).astype(str),
        "Deal Amount": np.where(won, rng.integers(100, 900, n), 0).astype(str),
        "Lost Reason": np.where(won, "", rng.choice(["price", "timing"], n)),
        "Contact Name": [f"Person {i}" for i in range(n)],
        "Result": np.where(won, "yes", "no"),
        "Result Date": pd.date_range("2024-02-01", periods=n, freq="h").strftime("%Y-%m-%d"),
        "Invoice Date": pd.date_range("2024-03-01", periods=n, freq="h").strftime("%Y-%m-%d"),
    })
    path = tmp_path / "deals.csv"
    frame.to_csv(path, index=False, sep=";")
    return path


def test_profiles_and_leak_suspects_on_inline_data(export):
    found = inspect([export], outcome="Result", outcome_date="Result Date")
    columns = {c.name: c for c in found.main.columns}
    assert any("dated after Result Date" in leak for leak in columns["Invoice Date"].leaks)
    assert not any("dated after" in leak for leak in columns["Created"].leaks)
    assert columns["Deal ID"].kind == "id" and columns["Deal ID"].role == "id"
    assert columns["Created"].kind == "date"
    assert columns["Visits"].role == "intent numeric"
    assert any("ROC-AUC 1.00" in leak for leak in columns["Deal Amount"].leaks)
    assert any("blank for every Result = yes" in leak for leak in columns["Lost Reason"].leaks)
    assert not columns["Region"].leaks and not columns["Visits"].leaks
    assert not columns["Deal ID"].leaks  # an id does not decide anything out of fold
    assert "Person 1" not in found.text and "may be personal data" in found.text
    assert "delimiter ';' (sniffed)" in found.text


def test_the_draft_mapping_loads(export, tmp_path):
    found = inspect([export], outcome="Result")
    text = draft(found)
    assert "Person" not in text
    path = tmp_path / "draft.yaml"
    path.write_text(text)
    mapping = load_any(path)
    rules = mapping.main.columns
    assert rules["Deal Amount"].rule.role == "post_outcome"
    assert rules["Contact Name"].rule.role == "ignore"
    assert rules["Created"].rule.target == "created_at"


def test_the_command_writes_the_draft(export, tmp_path):
    out = tmp_path / "m.yaml"
    result = CliRunner().invoke(cli, ["inspect", str(export), "--outcome", "Result",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "leak suspects" in result.output and out.is_file()
    bad = CliRunner().invoke(cli, ["inspect", str(export), "--outcome", "Nope"])
    assert bad.exit_code == 1 and "is not a column" in bad.output


def test_a_draft_that_cannot_be_written_is_one_sentence_and_leaves_the_old_draft(export, tmp_path):
    # `--out` in a folder that does not exist printed a FileNotFoundError traceback
    missing = tmp_path / "no-such-folder" / "m.yaml"
    result = CliRunner().invoke(cli, ["inspect", str(export), "--outcome", "Result",
                                      "--out", str(missing)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert (f"error: {missing}: no such file or directory; check the path, its permissions and "
            "the free disk space, then re-run.") in result.output
    assert not missing.parent.exists()


def test_x_education_leak_suspects_include_the_post_contact_columns():
    if not X_EDUCATION.is_file():
        pytest.skip(f"X Education data set not found at {X_EDUCATION} (it is never shipped)")
    found = inspect([X_EDUCATION], outcome="Converted")
    flagged = {c.name for c in found.main.columns if c.leaks}
    expected = {"Tags", "Lead Quality", "Last Activity", "Last Notable Activity",
                "Asymmetrique Activity Index", "Asymmetrique Profile Index",
                "Asymmetrique Activity Score", "Asymmetrique Profile Score"}
    assert expected <= flagged
    # pre-contact fit and intent columns are not suspects
    assert not flagged & {"Lead Origin", "Lead Source", "TotalVisits", "Country", "City",
                          "Total Time Spent on Website", "What is your current occupation"}
    tags = next(c for c in found.main.columns if c.name == "Tags")
    assert any("decide Converted" in leak for leak in tags.leaks)


def test_parquet_nulls_are_blanks_not_filled_values(tmp_path):
    # a Parquet export holds blanks as nulls; they must count as unfilled, and a numeric column
    # with nulls must still read as numeric
    n = 100
    frame = pd.DataFrame({
        "Lead ID": [f"l{i:03d}" for i in range(n)],
        "Country": [None if i % 4 == 0 else "India" if i % 2 else "US" for i in range(n)],
        "Score": [None if i % 5 == 0 else float(i % 7) for i in range(n)],
        "Won": ["1" if i % 3 == 0 else "0" for i in range(n)],
    })
    path = tmp_path / "leads.parquet"
    frame.to_parquet(path, index=False)
    columns = {c.name: c for c in inspect([path], outcome="Won").main.columns}
    assert columns["Country"].fill == pytest.approx(0.75)
    assert columns["Score"].fill == pytest.approx(0.80)
    assert columns["Score"].kind == "numeric"


def test_decimal_commas_read_as_numbers_and_the_draft_says_so(tmp_path):
    # a semicolon export from a European spreadsheet writes 2,5 for 2.5
    lines = ["Lead ID;Pages per visit;Channel;Won"]
    lines += [f"l{i:03d};{i % 7},{i % 10};{'web' if i % 2 else 'mail'};{i % 3 == 0:d}"
              for i in range(120)]
    path = tmp_path / "leads.csv"
    path.write_text("\n".join(lines) + "\n")
    found = inspect([path], outcome="Won")
    columns = {c.name: c for c in found.main.columns}
    assert columns["Pages per visit"].kind == "numeric"
    text = draft(found)
    assert 'decimal: ","' in text
    draft_path = tmp_path / "draft.yaml"
    draft_path.write_text(text)
    assert load_any(draft_path).files["leads"].options.decimal == ","


def test_a_repeated_column_or_a_file_without_rows_is_one_sentence(tmp_path):
    twice = tmp_path / "twice.csv"
    twice.write_text("Id,Stage,Notes,Notes\na,Won,x,y\nb,Lost,z,w\n")
    result = CliRunner().invoke(cli, ["inspect", str(twice), "--outcome", "Stage"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    # a Google Sheets download with two "Notes" columns: "keep one" asked to throw one away
    says = ("twice.csv has the column 'Notes' twice (columns 3 and 4, C and D in a "
            "spreadsheet): rename one (or delete it) and re-run.")
    assert says in result.output
    leads = tmp_path / "x" / "leads.csv"
    leads.parent.mkdir()
    leads.write_text(twice.read_text())
    with pytest.raises(LeadscoreError) as caught:
        ingest_paths([leads], tmp_path / "s.duckdb")
    assert str(caught.value) == says.replace("twice.csv", "leads.csv")
    header = tmp_path / "header.csv"
    header.write_text("Id,Stage\n")
    result = CliRunner().invoke(cli, ["inspect", str(header), "--outcome", "Stage"])
    assert result.exit_code == 1 and "has no rows" in result.output


def test_the_outcome_date_dates_the_drafted_outcome(export, tmp_path):
    # --outcome-date names when the outcome happened: the draft must date it so, not at creation
    found = inspect([export], outcome="Result", positive=["yes"], outcome_date="Result Date")
    path = tmp_path / "draft.yaml"
    path.write_text(draft(found))
    outcome = load_any(path).main.columns["Result"]
    assert outcome.date == "Result Date"
    store = tmp_path / "s.duckdb"
    ingest_paths([export], store, mapping=path)  # the draft ingests as it stands
    con = duckdb.connect(str(store), read_only=True)
    first = con.execute("SELECT lead_id, occurred_at FROM outcomes ORDER BY lead_id LIMIT 1"
                        ).fetchone()
    frame = pd.read_csv(export, sep=";", dtype=str).set_index("Deal ID")
    assert str(first[1])[:10] == frame.loc[first[0], "Result Date"]


def test_without_dates_the_draft_orders_leads_by_a_running_number_not_a_random_id(tmp_path):
    # X Education: Prospect ID is a random UUID, Lead Number grows with time
    rng = np.random.default_rng(5)
    n = 120
    frame = pd.DataFrame({
        "Prospect ID": [f"{rng.integers(1 << 60):016x}-{i}" for i in range(n)],
        "Lead Number": [str(660000 + 3 * i) for i in range(n)],
        "Origin": rng.choice(["api", "form"], n),
        "Converted": rng.choice(["0", "1"], n),
    })
    path = tmp_path / "leads.csv"
    frame.to_csv(path, index=False)
    text = draft(inspect([path], outcome="Converted"))
    assert "created_at: {from_order: Lead Number," in text
    assert "check that this column grows with time" in text


def test_without_dates_or_ids_the_draft_orders_leads_by_row_and_ingests_once_dated(tmp_path):
    # a bank-marketing export: semicolons, no id column, no date; rows are in time order
    rng = np.random.default_rng(8)
    n = 90
    frame = pd.DataFrame({"age": rng.integers(18, 90, n).astype(str),
                          "job": rng.choice(["admin.", "student"], n),
                          "y": rng.choice(["no", "yes"], n)})
    path = tmp_path / "bank.csv"
    frame.to_csv(path, index=False, sep=";")
    text = draft(inspect([path], outcome="y", positive=["yes"]))
    assert "id: {from_row: true}" in text
    assert "created_at: {from_order: row number," in text
    assert "ROW ORDER COLUMN" not in text
    mapping = tmp_path / "bank.yaml"
    dated = text.replace('start: "YYYY-MM-DD", end: "YYYY-MM-DD"',
                         'start: "2008-05-01", end: "2008-07-29"')
    store = tmp_path / "s.duckdb"
    mapping.write_text(dated.replace("from_order: row number", "from_order: row"))
    with pytest.raises(LeadscoreError, match=r"\(or row number: the id is the row number"):
        ingest_paths([path], store, mapping=mapping)
    mapping.write_text(dated)
    ingest_paths([path], store, mapping=mapping)
    con = duckdb.connect(str(store), read_only=True)
    first, last = con.execute("SELECT min(created_at), max(created_at) FROM leads").fetchone()
    assert (str(first)[:10], str(last)[:10]) == ("2008-05-01", "2008-07-29")
    # the first row is the oldest lead, the last row the newest
    assert con.execute("SELECT lead_id FROM leads ORDER BY created_at LIMIT 1").fetchone()[0] == "1"


def test_call_duration_and_meeting_columns_are_flagged_as_post_contact(tmp_path):
    # the bank-marketing export's "duration" is the sales call's length: known only after it
    frame = pd.DataFrame({"Lead": [str(i) for i in range(40)],
                          "duration": [str(i) for i in range(40)],
                          "Calls made": ["1"] * 40, "Meeting Booked": ["no"] * 40,
                          "Region": ["EU", "US"] * 20, "Won": ["0", "1"] * 20})
    path = tmp_path / "leads.csv"
    frame.to_csv(path, index=False)
    found = inspect([path], outcome="Won")
    leaks = {c.name: c.leaks for c in found.main.columns}
    for name in ("duration", "Calls made", "Meeting Booked"):
        assert any(leak.startswith("named like a post-contact") for leak in leaks[name]), name
    assert not any(leak.startswith("named like a post-contact") for leak in leaks["Region"])


def test_a_wrong_outcome_date_or_value_is_one_sentence(export):
    with pytest.raises(LeadscoreError, match="--outcome-date 'Nope' is not a column"):
        inspect([export], outcome="Result", outcome_date="Nope")
    with pytest.raises(LeadscoreError, match="--positive 'yess' is not a value of Result") as info:
        inspect([export], outcome="Result", positive=["yess"])
    assert "yes" in str(info.value) and "no" in str(info.value)
    with pytest.raises(LeadscoreError, match="--negative 'maybe' is not a value of Result"):
        inspect([export], outcome="Result", positive=["yes"], negative=["maybe"])
    assert inspect([export], outcome="Result", positive=["YES"]).positive == ["YES"]


def test_repeated_codes_of_many_values_are_a_category_and_free_text_is_not(tmp_path):
    # 1,000 leads from 60 landing pages (hex ids): above the 50-value cut, still a category
    rng = np.random.default_rng(5)
    pages = [f"{rng.integers(16 ** 12):012x}" for _ in range(60)]
    notes = [f"called back on day {i} about the offer" for i in range(1000)]
    frame = pd.DataFrame({"lead": range(1000), "landing_page_id": rng.choice(pages, 1000),
                          "notes": rng.choice(notes[:300], 1000)})
    path = tmp_path / "leads.csv"
    frame.to_csv(path, index=False)
    columns = {c.name: c for c in inspect([path]).files[0].columns}
    assert columns["landing_page_id"].kind == "categorical"
    assert columns["landing_page_id"].spec == "{role: fit, kind: categorical}"
    assert columns["notes"].kind == "text"  # words, not codes: passed over as free text


def test_a_number_standing_for_never_is_noted_and_an_ordinary_maximum_is_not(tmp_path):
    rng = np.random.default_rng(6)
    n = 400
    contacted = rng.random(n) < 0.2
    frame = pd.DataFrame({"pdays": np.where(contacted, rng.integers(0, 28, n), 999),
                          "age": rng.integers(18, 99, n),
                          "revenue": np.where(rng.random(n) < 0.5, 0, rng.integers(1, 900, n))})
    path = tmp_path / "calls.csv"
    frame.to_csv(path, index=False, sep=";")
    found = inspect([path])
    notes = {c.name: c.note for c in found.files[0].columns}
    assert notes["pdays"].startswith("999 on 8") and "likely a code (such as 'never')" in notes[
        "pdays"]
    assert notes["age"] == notes["revenue"] == ""
    assert "pdays: {role: fit, kind: numeric}  # 999 on" in draft(found)


@pytest.mark.parametrize(("style", "day_first"), [("%m/%d/%Y %I:%M %p", False),
                                                  ("%d/%m/%Y %H:%M", True)])
def test_the_draft_states_the_date_order_so_a_small_later_export_reads_the_same(
        tmp_path, style, day_first):
    n = 80
    rng = np.random.default_rng(9)
    created = pd.date_range("2025-01-01", periods=n, freq="D")
    frame = pd.DataFrame({"Lead ID": [f"L{i}" for i in range(n)],
                          "Created Date": created.strftime(style),
                          "Industry": rng.choice(["Software", "Retail"], n),
                          "Status": rng.choice(["Won", "Lost"], n)})
    path = tmp_path / "leads.csv"
    frame.to_csv(path, index=False)
    text = draft(inspect([path], outcome="Status", positive=["Won"]))
    assert f"    day_first: {str(day_first).lower()}  # dates read like" in text
    mapping = tmp_path / "draft.yaml"
    mapping.write_text(text, encoding="utf-8")
    week = tmp_path / "week" / "leads.csv"  # the first days of a month: they read both ways
    week.parent.mkdir()
    frame[created.day <= 12].head(5).to_csv(week, index=False)
    ingest_paths([week], tmp_path / "s.duckdb", mapping=mapping)
    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    last = con.execute("select max(created_at) from leads").fetchone()[0]
    con.close()
    assert (last.month, last.day) == (1, 5)  # 5 January, not 1 May


def test_a_draft_whose_dates_never_tell_their_order_asks_for_it(tmp_path):
    path = tmp_path / "leads.csv"
    pd.DataFrame({"Lead ID": ["a", "b", "c"],
                  "Created Date": ["01/02/2025", "03/04/2025", "05/06/2025"],
                  "Status": ["Won", "Lost", "Lost"]}).to_csv(path, index=False)
    text = draft(inspect([path], outcome="Status", positive=["Won"]))
    assert "read both ways in every row here: add day_first: true" in text
    assert "    day_first:" not in text


def test_a_sample_of_a_few_rows_keeps_its_named_id_and_joins_its_activities(tmp_path):
    # a first try on 12 rows: "Lead ID" is the id (not row numbers) and the log joins on it
    leads, acts = tmp_path / "leads.csv", tmp_path / "acts.csv"
    ids = [f"00Q5e0000AbC{i:03d}" for i in range(12)]
    pd.DataFrame({"Lead ID": ids, "Created": [f"2025-01-{i + 1:02d}" for i in range(12)],
                  "Status": ["Won", "Lost", "Lost"] * 4}).to_csv(leads, index=False)
    pd.DataFrame({"Lead ID": ids * 2, "Date": ["2025-02-01"] * 24,
                  "Type": ["Web visit"] * 24}).to_csv(acts, index=False)
    text = draft(inspect([leads, acts], outcome="Status", positive=["Won"]))
    assert "      Lead ID: id" in text and "from_row" not in text
    assert "    key: Lead ID" in text
    numbered = tmp_path / "numbered.csv"
    pd.DataFrame({"Lead Number": [str(7000 + i) for i in range(12)],
                  "Created": [f"2025-01-{i + 1:02d}" for i in range(12)],
                  "Status": ["Won", "Lost", "Lost"] * 4}).to_csv(numbered, index=False)
    assert "      Lead Number: id" in draft(inspect([numbered], outcome="Status",
                                                   positive=["Won"]))
