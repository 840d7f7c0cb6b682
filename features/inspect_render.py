"""The text ``leadscore inspect`` prints: each file's column profile, then the leak suspects of
the main file, of an outcomes file beside it and of each lookup as the main rows see it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from features.inspect import Column, FileProfile


def _top(column: Column) -> str:
    if column.personal:
        return "(not shown: may be personal data)"
    if column.kind == "id":
        return "(not unique: see below)" if column.note else "(unique)"
    text = ", ".join(f"{v[:18]!s} ({n:,})" for v, n in column.top)
    return text[:48]


def render(files: list[FileProfile], main: FileProfile, outcome: str | None,
           positive: list[str], negative: list[str]) -> str:
    lines = []
    for file in files:
        tag = " (main)" if file is main and len(files) > 1 else ""
        lines.append(f"{file.path.name}{tag}: {file.rows:,} rows, {len(file.columns)} columns, "
                     f"{file.read}")
        width = min(max(len(c.name) for c in file.columns), 40)
        lines.append(f"  {'column'.ljust(width)}  {'type':11s} {'filled':>7s} {'distinct':>8s}  "
                     f"{'top values'.ljust(48)}  proposed role")
        for c in file.columns:
            name = " ".join(c.name.split())  # a wrapped header cell's line break: one row
            lines.append(f"  {name[:width].ljust(width)}  {c.kind:11s} {c.fill:7.1%} "
                         f"{c.distinct:8,d}  {_top(c).ljust(48)}  {c.role}")
        lines.append("")
    if outcome is not None:
        against = f"{outcome}: positive {', '.join(positive)}"
        against += f", negative {', '.join(negative)}" if negative else ", negative the rest"
    else:
        against = "no --outcome named: only names are checked"
    lines += [f"{c.name} in {main.path.name}: {c.note}" for c in main.columns if c.note]
    lines.append(f"leak suspects in {main.path.name} ({against}):")
    suspects = [c for c in main.columns if c.leaks]
    lines += [f"  {c.name}: {'; '.join(c.leaks)}" for c in suspects] or ["  none found"]
    lines += [line for file in files for line in file.options.get("said", [])]
    for file in files:  # a lookup's columns, checked as the main rows they join see them
        if file is not main and file.options.get("kind") == "lookup":
            found = [c for c in file.columns if c.leaks]
            lines += [f"leak suspects in {file.path.name}, joined on "
                      f"{file.options['joins']} ({against}):"]
            lines += [f"  {c.name}: {'; '.join(c.leaks)}" for c in found] or ["  none found"]
    return "\n".join(lines)
