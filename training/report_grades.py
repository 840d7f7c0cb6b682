"""The report's grade table: its rows, and what a grade part every lead shares says."""

from __future__ import annotations

from typing import Any

import pandas as pd

from training.report_figures import Figures


def grade_rows(table: pd.DataFrame, figs: Figures) -> list[dict[str, Any]]:
    """The grade table's rows: a grade that holds no lead of the cohort says so, as the chart's
    cell does, rather than a conversion of "n/a" (a rate of nobody)."""
    rows = []
    for _, r in table.iterrows():
        key = f"report.grade.{r['grade']}"
        rate = (figs.put(key + ".sql_rate", r["sql_rate"], "pct") if r["leads"]
                else "no leads")
        rows.append({"grade": r["grade"], "leads": figs.put(key + ".leads", r["leads"], "count"),
                     "rate": rate})
    return rows


def flat_grade_parts(grades: pd.Series) -> list[str]:
    """Sentences for a grade part every lead shares (an export without activity gives every
    lead the same intent digit): that part of the grade separates nothing on this cohort."""
    out = []
    for index, part in ((0, "fit letter"), (1, "intent digit")):
        values = grades.dropna().astype(str).str[index].unique()
        if len(values) == 1:
            out.append(f"Every lead of the cohort has {part} {values[0]}, so the {part} "
                       "separates nothing here.")
    return out
