"""`bentoml build` makes a Bento of the service from bentofile.yaml (no Docker image here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_bentoml_build_packs_the_service_and_its_packages(tmp_path):
    env = dict(os.environ, BENTOML_HOME=str(tmp_path / "bentoml"), BENTOML_DO_NOT_TRACK="True")
    bentoml = Path(sys.executable).with_name("bentoml")
    run = subprocess.run([str(bentoml), "build", str(ROOT)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr

    (bento,) = (p for p in (tmp_path / "bentoml" / "bentos" / "leadscore").iterdir()
                if (p / "bento.yaml").is_file())
    manifest = yaml.safe_load((bento / "bento.yaml").read_text())
    assert manifest["service"] == "serving.service:LeadScorer"
    assert [route["route"] for route in manifest["schema"]["routes"]] == ["/score"]
    src = bento / "src"
    for needed in ("serving/service.py", "scoring/bundle.py", "scoring/treeshap.py",
                   "leadscore/default.yaml", "features/label_policy.yaml"):
        assert (src / needed).is_file(), needed
    assert not (src / "tests").exists() and not (src / "mlruns").exists()
    # the pinned versions travel with it
    requirements = (bento / "env" / "python" / "requirements.txt").read_text()
    assert "bentoml==1.4.39" in requirements

    # the Bento's own source imports the service, without the checkout on the path
    code = ("import sys; sys.path.insert(0, '.'); import serving.service as s; "
            "print(s.__file__)")
    imported = subprocess.run([sys.executable, "-c", code], cwd=src, capture_output=True,
                              text=True, timeout=120, env=env)
    assert imported.returncode == 0, imported.stderr
    assert Path(imported.stdout.strip()).resolve().is_relative_to(src.resolve())
