"""Score by id: an attribute the request sends at the lead's top level wins over the stored one.

Found scoring X Education's export through a running API (qa11-serving): a stored lead sent with
``"TotalVisits": 1200`` beside its id scored as its stored 0 visits, while the same value in
``attributes``, ``leadscore score`` and the pyfunc read 1200.
"""

from __future__ import annotations

import pytest

from features.lead_fields import misnamed
from features.online import _attribute_raw
from serving.errors import RequestRejected
from serving.live import merge
from serving.schemas import Lead
from serving.score_path import stored_flat_attributes, with_flat_attributes

STORED = {"title": "Student", "attributes": {"TotalVisits": 0, "Lead Origin": "API"}}
COLUMNS = ["TotalVisits", "Lead Origin"]


def read(lead: dict) -> dict:
    """What feature building reads of each attribute column for ``lead`` over the stored row."""
    sent = Lead.model_validate(lead)
    record = with_flat_attributes([merge(sent, STORED, [])], [sent], COLUMNS)[0]
    return {column: _attribute_raw(record, column) for column in COLUMNS}


def test_a_sent_top_level_attribute_wins_over_the_stored_one():
    assert read({"lead_id": "1", "TotalVisits": 1200}) == {"TotalVisits": 1200,
                                                            "Lead Origin": "API"}


def test_attributes_still_win_over_the_top_level_and_the_store():
    assert read({"lead_id": "1", "TotalVisits": 1200, "attributes": {"TotalVisits": 7}}) == \
        {"TotalVisits": 7, "Lead Origin": "API"}
    assert read({"lead_id": "1", "attributes": {"Lead Origin": "Form"}}) == \
        {"TotalVisits": 0, "Lead Origin": "Form"}


def test_a_null_top_level_attribute_keeps_the_stored_value():
    # null is a field not sent, as everywhere in the API (docs/api.md)
    assert read({"lead_id": "1", "TotalVisits": None}) == {"TotalVisits": 0, "Lead Origin": "API"}


@pytest.mark.parametrize(("name", "meant"), [("totalvisits", "TotalVisits"),
                                             ("TOTALVISITS", "TotalVisits"),
                                             ("lead origin", "Lead Origin"),
                                             ("lead_origin", "Lead Origin")])
def test_a_near_miss_name_inside_attributes_is_refused_as_at_the_top_level(name, meant):
    """``"attributes": {"totalvisits": 5}`` was ignored in silence (the lead scored as if it had
    no visits), while the same name at the lead's top level, or as a batch file's column, is
    refused naming `TotalVisits`."""
    lead = Lead.model_validate({"lead_id": "1", "attributes": {name: 5}})
    for call in (lambda: with_flat_attributes([vars(lead)], [lead], COLUMNS),
                 lambda: stored_flat_attributes([lead], COLUMNS)):  # POST /score, POST /events
        with pytest.raises(RequestRejected) as info:
            call()
        assert info.value.status == 422
        assert info.value.body["field"] == f"leads[0].attributes.{name}"
        assert f"name it `{meant}`" in info.value.body["error"]


def test_a_near_miss_beside_the_exact_name_is_only_noise():
    lead = Lead.model_validate({"lead_id": "1",
                                "attributes": {"TotalVisits": 5, "totalvisits": 5}})
    assert with_flat_attributes([vars(lead)], [lead], COLUMNS) == [vars(lead)]


@pytest.mark.parametrize("name", ["Total Visits", "total visits", "Total-Visits"])
def test_a_space_inside_a_run_together_name_is_a_near_miss_too(name):
    """``"Total Visits": 5`` (TotalVisits learned) was ignored in silence, at the lead's top
    level and in ``attributes``: the fold kept the space as ``_`` where the column has none."""
    assert misnamed([name, "Prospect ID"], ("title", *COLUMNS)) == [(name, "TotalVisits")]
    for body in ({"lead_id": "1", name: 5}, {"lead_id": "1", "attributes": {name: 5}}):
        lead = Lead.model_validate(body)
        with pytest.raises(RequestRejected) as info:
            with_flat_attributes([vars(lead)], [lead], COLUMNS)
        assert "name it `TotalVisits`" in info.value.body["error"]
