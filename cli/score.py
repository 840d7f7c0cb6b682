"""``leadscore score``: which scoring path a command line takes (a leads file, locally or on
Spark, or a CRM export read through its mapping)."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

from leadscore.config import load_config
from leadscore.errors import LeadscoreError


def run_score(input_path: str, output: str, *, config_path: Path | None, mapping: Path | None,
              model_uri: str | None, activities: str | None, as_of: str | None,
              workers: int | None, engine: str) -> str:
    """Score INPUT by the options given; returns what to print.

    Raises:
        LeadscoreError: options that do not go together, and every scoring path's own errors.
    """
    config = load_config(config_path)
    now = None
    if as_of is not None:
        from training.review import parse_as_of

        now = parse_as_of(as_of).replace(tzinfo=UTC)
    if mapping is not None:
        from training.export_score import refuse_spark_mapping, score_export

        if engine == "spark":
            raise refuse_spark_mapping()
        if activities is not None:
            raise LeadscoreError("--activities is for a leads file: with --mapping the "
                                 "activities come from the export's own activities file, as "
                                 "the mapping names it.")
        return score_export([Path(input_path)], mapping, Path(output), config,
                            model_uri=model_uri, workers=workers, now=now)
    if engine == "spark":
        from training.spark_score import score_file_spark

        if activities is not None:
            raise LeadscoreError("--activities is for the local engine: on Spark, join the "
                                 "activities into the leads' activities column first.")
        return score_file_spark(input_path, output, config, model_uri=model_uri, now=now)
    from training.batch_score import score_file

    return score_file(Path(input_path), Path(output), config=config, model_uri=model_uri,
                      workers=workers, activities=activities, now=now)
