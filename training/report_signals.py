"""Why the report's signals are not compared with the last cycle's ranking, when they are not."""

from __future__ import annotations

from training.report_mlflow import CycleRun


def no_comparison(previous: CycleRun | None, chance: bool) -> dict[str, str]:
    """The section's sentence (``no_comparison``) and the opening's aside
    (``no_comparison_short``): the first cycle, a last cycle whose model ranked no better than
    chance (its report named no signal, so its ranks are noise), or one that logged no ranking."""
    if previous is None:
        return {"no_comparison": "This is the first cycle, so there is no earlier ranking to "
                                 "compare with.",
                "no_comparison_short": "first cycle: nothing to compare with yet"}
    if chance:
        return {"no_comparison": f"Cycle {previous.cycle}'s model ranked no better than chance, "
                                 "so there is no earlier ranking to compare with.",
                "no_comparison_short": f"cycle {previous.cycle}'s model ranked no better than "
                                       "chance: nothing to compare with"}
    return {"no_comparison": f"Cycle {previous.cycle} logged no signal ranking to compare with.",
            "no_comparison_short": f"cycle {previous.cycle} logged no ranking to compare with"}
