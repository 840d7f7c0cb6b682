"""One marked section of BENCHMARKS.md per benchmark: a rerun replaces only its own section."""

from __future__ import annotations

from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


def write_section(name: str, text: str, path: Path = BENCHMARKS) -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}\n"
    current = path.read_text() if path.exists() else (
        "# Benchmarks\n\nMeasured by the scripts in `bench/` (not tests).\n")
    if start in current and end in current:
        head, rest = current.split(start, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        path.write_text(head + block + ("\n" + tail if tail else ""))
    else:
        path.write_text(current.rstrip() + "\n\n" + block)
