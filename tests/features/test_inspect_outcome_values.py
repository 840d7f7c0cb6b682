"""``leadscore inspect`` on what an outcome column's values say: counts rather than one lead's
outcome (an ad-level table), the stage a positive value names, values neither positive nor
negative, open-looking values, the outcome's date and a name given in another case or nesting.
Tiny inline files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.inspect import inspect
from features.inspect_draft import draft
from leadscore.errors import LeadscoreError


def _ads(path, n=60):
    pd.DataFrame({
        "ad_id": [str(708746 + 3 * i) for i in range(n)],
        "age": [["30-34", "35-39", "40-44"][i % 3] for i in range(n)],
        "Impressions": [str(1000 + 37 * i) for i in range(n)],
        "Clicks": [str(i % 9) for i in range(n)],
        "Spent": [f"{1.3 * (i % 9):.2f}" for i in range(n)],
        "Approved_Conversion": [str([0, 0, 0, 1, 0, 3, 0, 2, 0, 21][i % 10]) for i in range(n)],
    }).to_csv(path, index=False)
    return path


def test_an_outcome_of_counts_is_one_sentence_saying_its_rows_are_no_leads(tmp_path):
    # Facebook's ad conversions table: one row per ad. It was drafted "positive 1, negative the
    # rest", so an ad with 21 approved conversions was a lead that did not convert
    path = _ads(tmp_path / "KAG_conversion_data.csv")
    with pytest.raises(LeadscoreError) as caught:
        inspect([path], "Approved_Conversion")
    assert str(caught.value) == (
        "Approved_Conversion in KAG_conversion_data.csv holds whole numbers from 0 to 21 (5 "
        "different values; 18 of its 60 rows read more than 1), not one lead's outcome: if they "
        "count conversions, each row adds up many people (Impressions, Clicks, Spent beside it "
        "are an ad's or a campaign's totals), and leadscore learns from one row per lead, so "
        "export the leads themselves (the ad or campaign each came from a column of it); if "
        "they are codes, name the positive one(s) with --positive.")


def test_a_count_outcome_named_positive_by_the_user_is_drafted(tmp_path):
    # the user who says what the codes mean decides
    found = inspect([_ads(tmp_path / "a.csv")], "Approved_Conversion", ["1", "2", "3", "21"])
    assert found.main.rows == 60


def test_a_yes_no_outcome_of_0_and_1_is_no_count(tmp_path):
    path = tmp_path / "leads.csv"
    pd.DataFrame({"Id": [str(i) for i in range(60)],
                  "Converted": [str(i % 2) for i in range(60)]}).to_csv(path, index=False)
    assert inspect([path], "Converted").main.rows == 60


def test_a_booked_meeting_is_drafted_as_the_sql_it_is(tmp_path):
    # a lead tracker's Stage "Meeting booked" was drafted closed_won beside "Won": every report
    # then called a booked meeting a won deal
    from features.inspect_draft import draft
    path = tmp_path / "Lead tracker - Leads.csv"
    pd.DataFrame({"Date": [f"2025-0{1 + i % 9}-1{i % 10}" for i in range(60)],
                  "Stage": [["Meeting booked", "Won", "No reply", "Bad fit"][i % 4]
                            for i in range(60)]}).to_csv(path, index=False)
    text = draft(inspect([path], "Stage", ["Meeting booked", "Won"]))
    assert '"Meeting booked": sql' in text and '"Won": closed_won' in text


def test_an_ad_level_table_inspected_without_an_outcome_says_its_rows_are_no_leads(tmp_path):
    # without --outcome the ads were drafted as leads, in silence
    from features.inspect_draft import draft
    found = inspect([_ads(tmp_path / "KAG_conversion_data.csv")])
    says = ("counts an audience: with Clicks, Spent beside it, each row looks like an ad or a "
            "campaign, not a lead; leadscore learns from one row per lead, so export the leads "
            "themselves (the ad or campaign each came from a column of it)")
    assert f"Impressions in KAG_conversion_data.csv: {says}" in found.text
    assert f"# {says}" in draft(found)


def test_a_leads_clicks_and_spend_say_nothing_of_ads(tmp_path):
    # the Kaggle campaign table is one row per customer: AdSpend, no Impressions
    path = tmp_path / "campaign.csv"
    pd.DataFrame({"CustomerID": [str(8000 + i) for i in range(60)],
                  "AdSpend": [str(100 + i) for i in range(60)],
                  "EmailClicks": [str(i % 9) for i in range(60)],
                  "Conversion": [str(i % 2) for i in range(60)]}).to_csv(path, index=False)
    assert "looks like an ad" not in inspect([path], "Conversion").text


def test_outcome_values_neither_positive_nor_negative_are_not_silently_negatives(tmp_path):
    # --negative names the losses: the other values (open deals) are unknown, not negatives
    stages = ["Won", "Lost", "Open"]
    lines = ["Deal;Region;Stage"] + [f"d{i:03d};{'n' if i % 2 else 's'};{stages[i % 3]}"
                                     for i in range(90)]
    path = tmp_path / "deals.csv"
    path.write_text("\n".join(lines) + "\n")
    text = draft(inspect([path], outcome="Stage", positive=["Won"], negative=["Lost"]))
    outcome_line = next(line for line in text.splitlines() if "role: outcome" in line)
    assert '"Open": none' in outcome_line
    assert "Open is neither positive nor negative" in text and "still_open" in text
    plain = draft(inspect([path], outcome="Stage", positive=["Won"]))
    assert "neither positive nor negative" not in plain  # no --negative: the rest are negatives
    # ... but a value that reads like a lead still being worked is pointed out all the same
    assert "      # Open reads like a lead still being worked" in plain
    assert "Lost reads like" not in plain and "re-run inspect with --negative" in plain


def test_without_negative_values_that_read_like_open_leads_are_pointed_out(tmp_path):
    stages = ["Closed - Converted", "Closed - Not Converted", "Working - Contacted",
              "Open - Not Contacted"]
    lines = ["Lead,Region,Lead Status"] + [f"l{i:03d},{'n' if i % 2 else 's'},{stages[i % 4]}"
                                           for i in range(120)]
    path = tmp_path / "leads.csv"
    path.write_text("\n".join(lines) + "\n")
    text = draft(inspect([path], outcome="Lead Status", positive=["Closed - Converted"]))
    note = next(line for line in text.splitlines() if "read like leads still being" in line)
    assert "Working - Contacted" in note and "Open - Not Contacted" in note
    assert "Closed - Not Converted" not in note
    assert "re-run inspect with --negative" in text


def test_an_outcome_without_its_date_asks_for_the_exports_day(tmp_path):
    rng = np.random.default_rng(9)
    n = 80
    frame = pd.DataFrame({"job": rng.choice(["admin.", "student"], n),
                          "called": pd.date_range("2024-01-01", periods=n).strftime("%Y-%m-%d"),
                          "closed": pd.date_range("2024-02-01", periods=n).strftime("%Y-%m-%d"),
                          "y": rng.choice(["no", "yes"], n)})
    path = tmp_path / "calls.csv"
    frame.to_csv(path, index=False)
    asked = "if this column holds each lead's final result, declare exported_at:"
    assert asked in draft(inspect([path], outcome="y"))
    assert asked not in draft(inspect([path], outcome="y", outcome_date="closed"))
    dated = tmp_path / "calls_2024-06-30.csv"  # the export's day drafted from its name
    frame.to_csv(dated, index=False)
    text = draft(inspect([dated], outcome="y"))
    assert "exported_at: from_file_name  # each export's day, the date in its file's name " \
        "(2024-06-30 in calls_2024-06-30.csv)" in text and asked not in text


def test_an_outcome_without_a_recognised_positive_lists_its_values(tmp_path):
    path = tmp_path / "leads.csv"
    pd.DataFrame({"Lead ID": ["a", "b", "c"], "Created": ["2024-01-01"] * 3,
                  "Lead Status": ["Closed - Converted", "Closed - Not Converted",
                                  "Working - Contacted"]}).to_csv(path, index=False)
    with pytest.raises(LeadscoreError) as raised:
        inspect([path], outcome="Lead Status")
    assert "'Closed - Converted'" in str(raised.value)
    assert "'Working - Contacted'" in str(raised.value) and "--positive" in str(raised.value)


def test_a_date_filled_only_for_the_positive_outcome_is_offered_as_the_outcome_date(tmp_path):
    n = 60
    won = np.arange(n) % 3 == 0
    path = tmp_path / "leads.csv"
    pd.DataFrame({
        "Lead ID": [f"L{i}" for i in range(n)],
        "Created Date": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%m/%d/%Y"),
        "Lead Status": np.where(won, "Closed - Converted", "Closed - Not Converted"),
        "Converted Date": np.where(won, "03/01/2024", ""),
    }).to_csv(path, index=False)
    found = inspect([path], outcome="Lead Status", positive=["Closed - Converted"])
    columns = {c.name: c for c in found.main.columns}
    hint = "re-run inspect with --outcome-date 'Converted Date'"
    assert any(hint in leak for leak in columns["Converted Date"].leaks)
    assert not any("--outcome-date" in leak for leak in columns["Created Date"].leaks)
    given = inspect([path], outcome="Lead Status", positive=["Closed - Converted"],
                    outcome_date="Converted Date")
    assert "--outcome-date" not in given.text


def test_an_outcome_named_but_for_its_nesting_or_case_is_offered(tmp_path):
    path = tmp_path / "contacts.json"
    path.write_text('{"results": [{"id": "1", "properties": {"lifecyclestage": "lead"}}, '
                    '{"id": "2", "properties": {"lifecyclestage": "customer"}}]}')
    with pytest.raises(LeadscoreError, match=r"did you mean 'properties\.lifecyclestage'\?"):
        inspect([path], outcome="lifecyclestage")
    with pytest.raises(LeadscoreError) as raised:
        inspect([path], outcome="Stage")
    assert "did you mean" not in str(raised.value)
