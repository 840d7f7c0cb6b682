"""``leadscore score``'s output file is readable as any file the product writes (the umask's mode).

Found running batch scoring as an ops engineer would (qa11-serving): the scores file came out
``-rw-------`` (the mode of ``tempfile.mkstemp``'s file, kept by the atomic rename), while
``leadscore export-scores`` and the reports are ``-rw-r--r--``: the job that uploads the scores
to the CRM under another account could not read them.
"""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from training.batch_io import ChunkWriter


@pytest.fixture
def umask_022():
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.mark.parametrize("name", ["scores.csv", "scores.parquet"])
def test_the_scores_file_takes_the_umasks_mode(tmp_path, umask_022, name):
    writer = ChunkWriter(tmp_path / name)
    writer.write(pd.DataFrame({"lead_id": ["a"], "score": [0.5]}))
    writer.commit(pd.DataFrame({"lead_id": [], "score": []}))

    assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


def test_the_model_version_column_is_the_registry_version_as_the_api_writes_it(tmp_path):
    """The API answers ``"model_version": "3"`` and the score log keeps "3"; the scores file
    said "v3", so a CRM field written by both held two spellings of one model."""
    from types import SimpleNamespace

    from leadscore.config import default_config
    from tests.training.made_up import made_up_leads, train_tiny_bundle
    from training.batch_score import write_scores

    leads = pd.DataFrame(made_up_leads(5, seed=3)).drop(columns=["activities"])
    writer = ChunkWriter(tmp_path / "scores.csv")
    scored = write_scores(writer, train_tiny_bundle(), SimpleNamespace(version="3"), None,
                          [leads], rows=len(leads), config=default_config(), workers=1,
                          now=None, log=False)

    column = pd.read_csv(tmp_path / "scores.csv", dtype=str)["model_version"]
    assert set(column) == {"3"}
    assert "model v3" in scored.line()  # the summary names the model as before
