"""A number written as exports write it scores as that number, by ingest's rule: a currency or
percent sign and commas grouping thousands are read, a decimal comma is never read as thousands."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from features.definitions import numeric_value
from scoring.reasons import shown_value
from tests.training.made_up import made_up_leads, train_attribute_bundle


@pytest.mark.parametrize(("text", "number"), [
    ("$1,200.00", 1200.0), ("$ 10,047,986.60", 10047986.6), ("-$5", -5.0), ("€12", 12.0),
    ("12.5%", 12.5), ("1,234", 1234.0), (" 7 ", 7.0), ("1e3", 1000.0), ("yes", 1.0)])
def test_an_export_s_number_reads_as_that_number(text, number):
    assert numeric_value(text) == number


@pytest.mark.parametrize("text", ["1,5", "1.200,00 €", "12,34,567", "abc", "$", "%"])
def test_a_comma_that_does_not_group_thousands_is_unreadable_not_a_bigger_number(text):
    assert math.isnan(numeric_value(text))


def test_a_reason_shows_the_number_the_model_read():
    assert shown_value("$1,200.00", None, "numeric") == 1200.0
    assert shown_value("1,5", None, "numeric") is None


@pytest.fixture(scope="module")
def bundle():
    return train_attribute_bundle()


def test_a_currency_spelling_scores_as_its_number(bundle):
    lead = made_up_leads(1, seed=9)[0]
    spellings = [7.0, "7", "$7.00", "7 %"]
    records = [dict(lead, attributes={"Lead Origin": "API", "TotalVisits": s})
               for s in spellings]
    as_of = [datetime(2026, 10, 15)] * len(records)
    scores = bundle.score_records(records, as_of, top_reasons=5)
    assert len(set(scores.score.tolist())) == 1
    assert len(set(scores.feature_hash)) == 1
