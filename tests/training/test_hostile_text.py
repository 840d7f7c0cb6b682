"""`leadscore score` with personal data typed into every text column: none reaches the output."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from leadscore.config import default_config
from scoring.reasons import reasons_for
from tests.training.made_up import made_up_leads
from training.batch_score import score_file

PII = ("jane.doe@example.com", "Jane Marple Doe", "+1 415 555 0199")
TEXT_COLUMNS = ("source", "title", "company_size", "industry", "country", "email_domain",
                "campaign")


def test_personal_data_in_every_text_column_never_reaches_the_output(tiny_bundle, tmp_path):
    rows = made_up_leads(12, seed=5)
    for i, row in enumerate(rows):
        text = PII[i % len(PII)]
        row.update({column: text for column in TEXT_COLUMNS}, email=text)
        row["activities"] = json.dumps(row["activities"] + [
            {"activity_type": text, "occurred_at": "2026-09-30T00:00:00"}])
        row["attributes"] = json.dumps({text: text})
    source = tmp_path / "leads.csv"
    pd.DataFrame(rows).to_csv(source, index=False)
    out = tmp_path / "scores.csv"
    bundle = str(tiny_bundle.save(tmp_path / "bundle"))

    score_file(source, out, default_config(), model_uri=bundle)

    text = out.read_text()
    for value in PII:
        assert value not in text
    assert len(pd.read_csv(out)) == len(rows)


def test_a_reason_shows_only_categories_the_model_learned(tiny_bundle):
    features_specs = tiny_bundle.manifest["features"]
    features = [f["name"] for f in features_specs]
    kinds = dict(zip(tiny_bundle.encoder.feature_names_, tiny_bundle.encoder.feature_kinds_,
                     strict=True))
    categorical = [name for name in features if kinds[name] == "categorical"]
    known = tiny_bundle.encoder.categories_["seniority"][0]
    for name in categorical:
        contrib = np.zeros(len(features) + 1)
        contrib[features.index(name)] = 1.0
        label = reasons_for(contrib, {name: PII[0]}, features_specs, 1,
                            vocabulary=tiny_bundle.vocabulary())[0].label
        assert PII[0] not in label, (name, label)
        assert label.lower().endswith(("other", "not seen in training")), (name, label)
    contrib = np.zeros(len(features) + 1)
    contrib[features.index("seniority")] = 1.0
    assert "other" not in reasons_for(contrib, {"seniority": known}, features_specs, 1,
                                      vocabulary=tiny_bundle.vocabulary())[0].label
