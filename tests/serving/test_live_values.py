"""Values of a verdict or an outcome no store column can hold are a 422 naming the field, not the
503 of a live store that is down (nothing was wrong with the store)."""

from __future__ import annotations

import pytest

from tests.serving.conftest import AUTH

VERDICT = {"lead_id": "v", "dispositioned_at": "2026-11-01", "status": "rejected",
           "reason_code": "wrong_title"}
OUTCOME = '{"outcomes": [{"lead_id": "v", "stage": "sql", "occurred_at": "2026-11-01", '


def test_a_count_of_attempts_past_any_column_is_a_422_naming_it(api):
    response = api.post("/dispositions", headers=AUTH,
                        json={"dispositions": [{**VERDICT, "attempts": 10**20}]})
    assert response.status_code == 422
    assert response.json()["field"] == "dispositions[0].attempts"
    ok = api.post("/dispositions", headers=AUTH,
                  json={"dispositions": [{**VERDICT, "attempts": 8}]})
    assert ok.status_code == 200


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_an_amount_that_is_no_finite_number_is_a_422(api, amount):
    response = api.post("/outcomes", headers={**AUTH, "Content-Type": "application/json"},
                        content=f'{OUTCOME}"amount": {amount}}}]}}')
    assert response.status_code == 422
    assert response.json()["field"] == "outcomes[0].amount"


CJK = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(400))  # 1,200 bytes, varied


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/score", {"leads": [{"lead_id": CJK}]}, "leads[0].lead_id"),
    ("/events", {"activities": [{"lead_id": "k", "activity_type": CJK,
                                 "occurred_at": "2026-11-01"}]}, "activities[0].activity_type"),
    ("/events", {"leads": [{"lead_id": "k", "activities": [
        {"activity_type": CJK, "occurred_at": "2026-11-01"}]}]},
     "leads[0].activities[0].activity_type"),
    ("/dispositions", {"dispositions": [{**VERDICT, "status": CJK}]}, "dispositions[0].status"),
    ("/outcomes", {"outcomes": [{"lead_id": "k", "stage": CJK, "occurred_at": "2026-11-01"}]},
     "outcomes[0].stage"),
])
def test_a_key_too_long_to_index_is_a_422_not_a_store_that_is_down(api, path, body, field):
    from features.text_rules import KEY_BYTES_RULE

    response = api.post(path, headers=AUTH, json=body)
    assert response.status_code == 422
    assert response.json()["error"] == f"{field}: {KEY_BYTES_RULE}."


def test_batch_scoring_refuses_such_a_lead_id_with_the_same_sentence():
    import pandas as pd

    from features.text_rules import KEY_BYTES_RULE
    from scoring.pyfunc import LeadRowError, lead_records

    with pytest.raises(LeadRowError) as caught:
        lead_records(pd.DataFrame([{"lead_id": "ok"}, {"lead_id": CJK}]))
    assert str(caught.value) == f"Row 2: lead_id: {KEY_BYTES_RULE}."
    assert lead_records(pd.DataFrame([{"lead_id": "x" * 1000}]))  # 1,000 plain characters


@pytest.mark.integration
def test_the_longest_keys_the_api_takes_are_stored_on_postgresql():
    """PostgreSQL refuses an index entry past about 2,700 bytes: the API's limits fit in it."""
    from datetime import datetime

    from features.live_store import LiveStore
    from tests.pg import postgres_control

    key = CJK[:333]  # 999 bytes of characters that do not compress
    with postgres_control() as pg:
        store = LiveStore(pg.url)
        try:
            at = datetime(2026, 11, 1)
            store.write(leads=[{"lead_id": key}],
                        activities=[{"lead_id": key, "activity_type": key, "occurred_at": at}],
                        dispositions=[{"lead_id": key, "dispositioned_at": at, "status": key}],
                        outcomes=[{"lead_id": key, "stage": key, "occurred_at": at}])
            store.log_scores([{"lead_id": key, "scored_at": at, "model_version": "1",
                               "score": 0.1, "source": "api"}])
            assert key in store.leads([key])
        finally:
            store.close()
