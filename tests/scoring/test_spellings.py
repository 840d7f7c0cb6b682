"""Respelling a categorical attribute as the model learned it (scoring.spellings): tiny inline
tables; the API and batch paths are tested in tests/serving/test_category_spellings.py."""

from __future__ import annotations

from scoring.spellings import respelled, spelling_tables

FEATURES = [{"name": "attr_opted", "attribute": "Opted In", "kind": "categorical"},
            {"name": "attr_industry", "attribute": "Industry", "kind": "categorical"},
            {"name": "attr_answer", "attribute": "Answer", "kind": "categorical"},
            {"name": "attr_visits", "attribute": "Visits", "kind": "numeric"}]
VOCABULARY = {"attr_opted": frozenset({"True", "False"}),
              "attr_industry": frozenset({"Retail", "retail", "Software"}),
              "attr_answer": frozenset({"Yes", "True", "No"})}
TABLES = spelling_tables(FEATURES, VOCABULARY)


def _one(**fields) -> dict:
    return respelled([fields], TABLES)[0]


def test_json_booleans_and_other_spellings_read_as_the_learned_category():
    assert _one(**{"Opted In": True}) == {"Opted In": "True"}
    assert _one(**{"Opted In": False}) == {"Opted In": "False"}
    for sent in ("TRUE", "true", " true ", "yes", "Y"):
        assert _one(**{"Opted In": sent}) == {"Opted In": "True"}, sent
    assert _one(**{"Industry": "SOFTWARE"}) == {"Industry": "Software"}


def test_what_the_model_learned_exactly_and_what_is_ambiguous_stay_as_sent():
    record = {"Opted In": "True", "Industry": "retail", "Answer": True, "Visits": "yes"}
    assert respelled([record], TABLES)[0] is record  # nothing to change: the same object
    assert _one(Industry="RETAIL") == {"Industry": "RETAIL"}  # two learned spellings
    assert _one(Answer=True) == {"Answer": True}  # "Yes" and "True" both mean true
    assert _one(Answer="YES") == {"Answer": "Yes"}  # but its own spelling is one
    assert _one(**{"Opted In": "maybe"}) == {"Opted In": "maybe"}
    assert _one(**{"Opted In": 1}) == {"Opted In": 1}  # a number is no boolean here


def test_attributes_are_respelled_where_they_were_sent_and_win_over_the_top_level():
    record = {"Opted In": True, "attributes": {"Opted In": "FALSE", "Other": 3}}
    out = respelled([record], TABLES)[0]
    assert out == {"Opted In": True, "attributes": {"Opted In": "False", "Other": 3}}
    assert record["attributes"]["Opted In"] == "FALSE"  # the caller's record is not changed


def test_a_model_without_categorical_attributes_has_nothing_to_respell():
    assert spelling_tables(FEATURES[3:], VOCABULARY) == {}
    records = [{"Opted In": True}]
    assert respelled(records, {}) == records
