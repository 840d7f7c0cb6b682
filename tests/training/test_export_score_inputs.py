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


def _logged_scores() -> int:
    import sqlalchemy as sa

    from features.live_store import live_url

    engine = sa.create_engine(live_url(default_config()))
    try:
        with engine.connect() as con:
            return con.execute(sa.text("SELECT count(*) FROM score_log")).scalar_one()
    except sa.exc.OperationalError:
        return 0  # no score log yet
    finally:
        engine.dispose()


def test_row_number_ids_are_written_but_never_logged(tiny_bundle, tmp_path):
    from tests.features.crm_exports import V2_MAPPING, v2_export

    bundle = str(tiny_bundle.save(tmp_path / "bundle"))
    mapping = tmp_path / "rows.yaml"
    mapping.write_text(V2_MAPPING.replace("      Ref: id\n", "      Ref: ignore\n").replace(
        "    kind: main\n", "    kind: main\n    id: {from_row: true}\n"))
    export = v2_export(tmp_path / "export", 15, seed=3)
    before = _logged_scores()
    said = score_export([export], mapping, tmp_path / "out.csv", default_config(),
                        model_uri=bundle, workers=1)
    scored = pd.read_csv(tmp_path / "out.csv", dtype={"lead_id": str})
    assert scored["lead_id"].tolist() == [str(i) for i in range(1, 16)]  # as ingest numbers them
    assert "scores added to the score log" not in said
    assert "row numbers (the mapping's id: {from_row: true})" in said
    assert _logged_scores() == before
    # with an id column, the same export's scores are logged (the sentence's false version)
    said = score_export([export], _v2(tmp_path),
                        tmp_path / "out2.csv", default_config(), model_uri=bundle, workers=1)
    assert "15 scores added to the score log" in said and "row numbers" not in said
    assert _logged_scores() == before + 15


def _v2(tmp_path: Path) -> Path:
    from tests.features.crm_exports import V2_MAPPING

    path = tmp_path / "v2.yaml"
    path.write_text(V2_MAPPING)
    return path
