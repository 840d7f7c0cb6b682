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
