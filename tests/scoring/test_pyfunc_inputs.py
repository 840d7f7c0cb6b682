"""The pyfunc as a review logs it takes what ``leadscore score`` takes (ints, NaN columns, pandas
Timestamps, Unix seconds) with the same scores, and refuses what it refuses in the same words,
never MLflow's schema error (which prints the frame's rows, e-mail addresses included)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import mlflow
import numpy as np
import pandas as pd
import pytest

from leadscore.errors import LeadscoreError
from tests.training.made_up import made_up_leads, train_tiny_bundle
from training.batch_score import score_chunk
from training.review import pyfunc_model

NOW = datetime(2026, 10, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """The tiny bundle and its pyfunc, saved with what ``training.review`` logs."""
    root = tmp_path_factory.mktemp("pyfunc")
    bundle = train_tiny_bundle()
    mlflow.pyfunc.save_model(str(root / "model"), pip_requirements=["mlflow"],
                             **pyfunc_model(bundle.save(root / "bundle"), datetime(2026, 10, 1)))
    return bundle, mlflow.pyfunc.load_model(str(root / "model"))


def _leads(n: int = 12) -> pd.DataFrame:
    frame = pd.DataFrame(made_up_leads(n, seed=8))
    frame["activities"] = frame["activities"].map(json.dumps)
    frame["email"] = "someone@gmail.com"
    return frame


def _variants() -> dict[str, pd.DataFrame]:
    text = _leads()
    as_read = pd.read_csv(io.StringIO(text.assign(lead_id=range(1001, 1013)).to_csv(index=False)))
    return {
        "int lead_id": text.assign(lead_id=range(12)),
        "int company_size": text.assign(company_size=[5, 60, 300, 9000] * 3),
        "all-NaN title": text.assign(title=np.nan),
        "Timestamps": text.assign(created_at=pd.to_datetime(text["created_at"]),
                                  as_of=pd.to_datetime(text["as_of"], utc=True)),
        "Unix seconds": text.assign(as_of=1_790_000_000),
        "pandas defaults": as_read,
    }


@pytest.mark.parametrize("variant", list(_variants()))
def test_the_pyfunc_scores_what_leadscore_score_scores_alike(logged, variant):
    bundle, model = logged
    frame = _variants()[variant]

    out = model.predict(frame)

    expected = score_chunk(bundle, frame, now=NOW, top=1)
    np.testing.assert_allclose(out["score"], expected["score"], rtol=1e-12)
    assert list(out["grade"]) == list(expected["grade"])


@pytest.mark.parametrize(("change", "detail"), [
    ({"campaign": True}, "Row 1: campaign: must be text or a number."),
    ({"as_of": "yesterday"}, "Row 1: as_of: must be a timestamp"),
])
def test_a_bad_value_is_refused_in_the_products_words_without_the_rows(logged, change, detail):
    bundle, model = logged
    frame = _leads().assign(**change)

    with pytest.raises(LeadscoreError) as refused:
        model.predict(frame)

    message = str(refused.value)
    assert message.startswith(detail)
    with pytest.raises(LeadscoreError) as by_score:
        score_chunk(bundle, frame, now=NOW, start=0)
    assert str(by_score.value).endswith(message.split(": ", 1)[1])  # the same sentence
    assert "@" not in message and "T00000" not in message and "Failed to enforce" not in message


def test_leads_without_an_id_are_refused_as_leadscore_score_refuses_them(logged):
    _, model = logged
    with pytest.raises(LeadscoreError, match="^The leads have no lead_id column: "):
        model.predict(_leads().drop(columns="lead_id"))
    with pytest.raises(LeadscoreError, match="^Row 2: lead_id: is empty: give every lead its"):
        model.predict(_leads().assign(lead_id=["T1", " ", *["T"] * 10]))


def test_a_misnamed_column_is_refused_not_dropped(logged):
    # an input schema would make MLflow drop it: every lead scored as if its title were blank
    _, model = logged
    with pytest.raises(LeadscoreError, match="^The leads' column Title: "):
        model.predict(_leads().rename(columns={"title": "Title"}))
