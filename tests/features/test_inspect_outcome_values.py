"""``leadscore inspect`` on what an outcome column's values say: counts rather than one lead's
outcome (an ad-level table), and the stage a positive value names. Tiny inline files."""

from __future__ import annotations

import pandas as pd
import pytest

from features.inspect import inspect
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
