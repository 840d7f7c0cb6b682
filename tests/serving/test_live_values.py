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
