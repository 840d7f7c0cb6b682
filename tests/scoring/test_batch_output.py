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
