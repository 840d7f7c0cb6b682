"""Near-misses of a lead's field names (``features.lead_fields``)."""

from __future__ import annotations

from features.lead_fields import LEAD_FIELDS, misnamed


def test_case_spaces_and_punctuation_are_near_misses_of_a_field_not_given():
    given = ["Title", "Company Size", "COUNTRY", "first_name", "lead-origin", "Email"]
    assert misnamed(given, (*LEAD_FIELDS, "Lead Origin")) == [
        ("Title", "title"), ("Company Size", "company_size"), ("COUNTRY", "country"),
        ("lead-origin", "Lead Origin"), ("Email", "email")]


def test_the_exact_name_given_too_makes_the_other_spelling_noise():
    assert misnamed(["title", "Title", "Job Title"], LEAD_FIELDS) == []


def test_a_crms_name_for_a_lead_field_is_a_near_miss_naming_the_field():
    given = ["Job Title", "CreatedDate", "Lead Source", "NumberOfEmployees", "Country/Region",
             "Campaign Name", "Record ID", "Domain"]
    assert misnamed(given, LEAD_FIELDS) == [
        ("Job Title", "title"), ("CreatedDate", "created_at"), ("Lead Source", "source"),
        ("NumberOfEmployees", "company_size"), ("Country/Region", "country"),
        ("Campaign Name", "campaign")]


def test_a_synonym_the_model_learned_as_a_column_or_sent_beside_its_field_is_no_miss():
    assert misnamed(["Lead Source"], (*LEAD_FIELDS, "Lead Source")) == []
    assert misnamed(["source", "Lead Source"], LEAD_FIELDS) == []
    assert misnamed(["lead-source"], (*LEAD_FIELDS, "Lead Source")) == [
        ("lead-source", "Lead Source")]  # the learned column's spelling, not the field


def test_every_synonym_is_folded_and_names_one_lead_field():
    from features.lead_fields import SYNONYMS, _folded, lead_field_for

    names = [n for listed in SYNONYMS.values() for n in listed]
    assert len(names) == len(set(names))
    assert all(_folded(n) == n and n not in LEAD_FIELDS for n in names)
    assert set(SYNONYMS) <= set(LEAD_FIELDS)
    assert lead_field_for("Job Title") == "title" and lead_field_for("Title") == "title"
    assert lead_field_for("Record ID") is None
