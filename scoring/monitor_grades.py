"""The monitor's inversions check: a better grade converting below a worse one beyond noise,
among the decided leads served since the review."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from features.messages import plural
from scoring.grades import grade_inversions, grade_table


def inversions(first: pd.DataFrame, config: Mapping[str, Any]) -> dict[str, Any]:
    settings = config["monitor"]
    decided = first[first["label"].notna() & first["grade"].notna()]
    table = grade_table(decided)
    min_leads = int(settings["inversion_min_leads"])
    # dozens of grade pairs are compared at once: a stricter z than the report's keeps noise out
    pairs = grade_inversions(table, min_leads=min_leads, z=float(settings["inversion_z"]))
    out = {"decided": len(decided), "pairs": [list(p) for p in pairs],
           "grades_judged": int((table["leads"] >= min_leads).sum())}
    if out["grades_judged"] < 2:
        return {**out, "status": "too_few",
                "why": f"too few decided leads per grade to judge inversions (fewer than two "
                       f"grades with {min_leads} or more)"}
    named = ", ".join(f"{a} below {b}" for a, b in pairs[:3])
    if len(pairs) > int(settings["max_inversions"]):
        return {**out, "status": "crossed",
                "why": f"{plural(len(pairs), 'grade inversion')} among decided leads ({named})"}
    return {**out, "status": "ok", "why": "no grade converts below a worse one beyond noise"}
