"""Import boundaries of the serving package and the `leadscore serve` launcher."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cli.serve import absolute_tracking_uri, check_host, serve_command, serve_environment
from leadscore.errors import LeadscoreError
from tests.serving.server import ROOT


def test_serving_never_imports_training():
    # (scikit-learn does get imported, by LightGBM's own compat module; it is never called)
    code = ("import sys, serving.service, serving.champion, serving.gateway; "
            "bad = sorted(m for m in sys.modules if m == 'training' or m.startswith('training.')); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_serve_refuses_a_public_host_without_keys(monkeypatch):
    from cli.serve import serve_forever
    from leadscore.config import default_config

    monkeypatch.delenv("LEADSCORE_API_KEYS", raising=False)
    with pytest.raises(LeadscoreError, match="Refusing to serve on 0.0.0.0 without API keys"):
        serve_forever(default_config(), host="0.0.0.0", port=3999)
    check_host("127.0.0.1", ())
    check_host("0.0.0.0", ("key",))


def test_a_relative_sqlite_store_is_made_absolute(tmp_path):
    assert absolute_tracking_uri("sqlite:///mlruns/mlflow.db", tmp_path) == \
        f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    assert absolute_tracking_uri("sqlite:////abs/mlflow.db") == "sqlite:////abs/mlflow.db"
    assert absolute_tracking_uri("http://mlflow:5000") == "http://mlflow:5000"


def test_the_child_gets_config_registry_and_quiet_defaults(tmp_path):
    from leadscore.config import default_config

    config_file = tmp_path / "my.yaml"
    env = serve_environment(default_config(), config_file, base={"PATH": "/bin"})
    assert env["LEADSCORE_CONFIG"] == str(config_file.resolve())
    assert env["MLFLOW_TRACKING_URI"].startswith("sqlite:////")
    assert env["LEADSCORE_RELOAD_INTERVAL_S"] == "10"
    assert env["BENTOML_DO_NOT_TRACK"] == "true"
    command = serve_command("127.0.0.1", 3001)
    assert command[1:5] == ["-m", "bentoml", "serve", "serving.service:LeadScorer"]
    assert command[command.index("--port") + 1] == "3001"
