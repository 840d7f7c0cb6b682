"""Conversion by grade, and inversions: a better grade converting below a worse one.

Shared by the leaders' report (the validation cohort) and the monitor (decided leads served since
the last review), so both judge an inversion by the same rule.
"""

from __future__ import annotations

import math

import pandas as pd


def grade_table(scored: pd.DataFrame) -> pd.DataFrame:
    """SQL rate per grade (A1..D4) of a scored, labelled cohort, best grade first."""
    rows = []
    for letter in "ABCD":
        for digit in "1234":
            grade = letter + digit
            part = scored[scored["grade"] == grade]
            rows.append({"grade": grade, "leads": len(part), "sqls": int(part["label"].sum()),
                         "sql_rate": float(part["label"].mean()) if len(part) else math.nan})
    return pd.DataFrame(rows)


MIN_GRADE_LEADS = 20
"""Leads a grade needs before its conversion is compared with another grade's."""


def grades_compared(table: pd.DataFrame, min_leads: int = MIN_GRADE_LEADS) -> int:
    """How many grades hold enough leads to take part in ``grade_inversions``."""
    return int((table["leads"] >= min_leads).sum())


def grade_inversions(table: pd.DataFrame, min_leads: int = MIN_GRADE_LEADS,
                     z: float = 2.0) -> list[tuple[str, str]]:
    """Pairs (better grade, worse grade) where the better grade converts below the worse one.

    A grade is better when its letter and digit are both at least as good (A1 over B2, A2 over
    A3); only grades with ``min_leads`` leads count, and only gaps beyond sampling noise (the
    rates differ by more than ``z`` standard errors) are flagged.
    """
    rows = table[table["leads"] >= min_leads].set_index("grade")
    out = []
    for g1, r1 in rows.iterrows():
        for g2, r2 in rows.iterrows():
            if g1 == g2 or not (g1[0] <= g2[0] and g1[1] <= g2[1]):
                continue
            p1, p2 = r1["sql_rate"], r2["sql_rate"]
            se = math.sqrt(p1 * (1 - p1) / r1["leads"] + p2 * (1 - p2) / r2["leads"]) or 1e-9
            if p2 - p1 > z * se:
                out.append((g1, g2))
    return out
