"""A report `leadscore promote` cannot rewrite: the champion moves, the old page stays whole, and
the command names the report with the command that rewrites it (conftest's shared ``reviewed``).

The suite runs as root, which writes into a read-only folder; an immutable folder (``chattr +i``)
refuses even root, so the test skips where the file system has no such flag.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.training.review_cycles import champion_version

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _immutable(folder: Path, on: bool) -> bool:
    if shutil.which("chattr") is None:
        return False
    done = subprocess.run(["chattr", "+i" if on else "-i", str(folder)], capture_output=True)
    return done.returncode == 0


def test_a_report_that_cannot_be_rewritten_is_named_and_kept_whole(env, tmp_path):
    from click.testing import CliRunner

    from cli.main import cli
    from training.registry import promote_version, versions

    client, config = env["client"], env["config"]
    champion = champion_version(client)
    rerun = next(v for v in versions(client, "leadscore")
                 if client.get_model_version("leadscore", str(v)).tags.get("cycle")
                 == "2026-W40-rerun")
    report = Path("reports/2026-W40-rerun/index.html")
    before = report.read_bytes()
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump({"store": config["store"]}))
    if not _immutable(report.parent, True):
        pytest.skip("this file system cannot make a folder immutable (chattr +i)")
    try:
        moved = CliRunner().invoke(cli, ["promote", str(rerun), "--config", str(config_file)])
        assert moved.exit_code == 0, moved.output
        assert moved.exception is None or isinstance(moved.exception, SystemExit)
        assert ("The report of cycle 2026-W40-rerun still names the champion as it was: "
                "rewrite it with `leadscore report --cycle 2026-W40-rerun`.") in moved.output
        assert "Traceback" not in moved.output
        assert champion_version(client) == rerun
        assert report.read_bytes() == before  # nothing half-written
        assert sorted(p.name for p in report.parent.iterdir()) == ["index.html"]
    finally:
        _immutable(report.parent, False)
        if champion_version(client) != champion:
            promote_version(champion, config)
