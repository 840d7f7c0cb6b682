"""What `leadscore score --mapping` says about a model that learned from columns the mapping
never fills (a champion reviewed on another export), on a tiny real bundle: a sentence that
names them, printed only when it is true."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from leadscore.config import default_config
from tests.features.crm_exports import FLAT_MAPPING, VERDICT_COLUMNS, flat_export
from training.batch_score import FILE_COLUMNS, model_inputs
from training.export_score import score_export


def test_inputs_the_mapping_never_fills_are_named_after_the_summary(tiny_bundle, tmp_path):
    bundle = str(tiny_bundle.save(tmp_path / "bundle"))  # learned from the demo's columns
    mapping = tmp_path / "tiny.yaml"
    mapping.write_text(FLAT_MAPPING)
    frame = flat_export(25, seed=2).drop(columns=VERDICT_COLUMNS)
    frame.to_csv(tmp_path / "new.csv", index=False)
    said = score_export([tmp_path / "new.csv"], mapping, tmp_path / "out.csv", default_config(),
                        model_uri=bundle, workers=1)
    lines = said.splitlines()
    assert lines[0].startswith("Scored 25 leads with model ")
    learned = {names[0] for names in model_inputs(tiny_bundle)}
    assert "title" in learned  # so the mapping below truly lacks a column the model uses
    assert lines[1].startswith("title") and "filled by no column of the mapping" in lines[1]
    assert "source" not in lines[1]  # the mapping fills source (as: source): not named
    scored = pd.read_csv(tmp_path / "out.csv", dtype={"lead_id": str})
    assert list(scored.columns) == FILE_COLUMNS and len(scored) == 25


def test_no_sentence_when_the_mapping_fills_every_input(tiny_bundle, tmp_path):
    bundle = str(tiny_bundle.save(tmp_path / "bundle"))
    needed = [names[0] for names in model_inputs(tiny_bundle)]
    rules = "\n".join(f"  {name.title()}: {{role: fit, kind: categorical, as: {name}}}"
                      for name in needed if name not in ("source", "email_domain", "email"))
    mapping = tmp_path / "full.yaml"
    mapping.write_text(FLAT_MAPPING + rules + "\n")
    frame = flat_export(25, seed=2).drop(columns=VERDICT_COLUMNS)
    for name in needed:
        if name not in ("source", "email_domain", "email"):
            frame[name.title()] = ""
    frame.to_csv(tmp_path / "new.csv", index=False)
    said = score_export([Path(tmp_path / "new.csv")], mapping, tmp_path / "out.csv",
                        default_config(), model_uri=bundle, workers=1)
    assert "filled by no column" not in said
