"""The floors run one way: every import between the project's packages follows the drawing.

    cli -> training -> scoring -> features -> leadscore (configuration, errors)
    cli -> serving  -> scoring
    cli -> generator -> features

An arrow may skip floors downwards (training may import features or leadscore); nothing imports
upwards or sideways (serving never imports training; features imports neither scoring nor
training). Every import counts, at module top or inside a function. docs/architecture.md draws it.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {
    "leadscore": set(),
    "features": {"leadscore"},
    "scoring": {"features", "leadscore"},
    "training": {"scoring", "features", "leadscore"},
    "serving": {"scoring", "features", "leadscore"},
    "generator": {"features", "leadscore"},
    "cli": {"training", "serving", "scoring", "features", "generator", "leadscore"},
}


def imported_packages(path: Path) -> list[tuple[int, str]]:
    """``(line, top-level package)`` of every absolute import in a file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module.split(".")[0]))
    return out


def violations(root: Path) -> list[str]:
    """Every import from one of the project's packages into a package it may not use."""
    found = []
    for package, allowed in ALLOWED.items():
        for path in sorted((root / package).rglob("*.py")):
            for line, target in imported_packages(path):
                if target in ALLOWED and target != package and target not in allowed:
                    may = f"only {', '.join(sorted(allowed))}" if allowed else "none of them"
                    found.append(f"{path.relative_to(root)}:{line} imports {target} "
                                 f"({package} may import {may})")
    return found


def test_every_import_follows_the_drawing():
    assert violations(ROOT) == []


def test_every_package_is_on_the_drawing():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages == set(ALLOWED), "add the new package to ALLOWED and docs/architecture.md"


def test_a_wrong_import_is_caught(tmp_path):
    for package in ALLOWED:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    bundle = tmp_path / "scoring" / "bundle.py"
    bundle.write_text(bundle.read_text() + "\n\ndef _late():\n    from training import model\n")
    (tmp_path / "features" / "online.py").write_text(
        "import serving.schemas\n" + (tmp_path / "features" / "online.py").read_text())
    found = violations(tmp_path)
    assert len(found) == 2
    assert found[0].startswith("features/online.py:1 imports serving")
    assert found[1].startswith("scoring/bundle.py:") and "imports training" in found[1]
