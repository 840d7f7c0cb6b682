"""The commands of the time between reviews: a lead's score history, the score log's export,
and the monitor. ``cli.main`` adds them to the ``leadscore`` group."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.options import CONFIG_OPTION, STORE_HELP, user_errors


@click.command()
@click.argument("lead_id")
@CONFIG_OPTION
@user_errors
def history(lead_id: str, config_path) -> None:
    """Every score the lead was given (API, leadscore score and rescore), oldest first."""
    from leadscore.config import load_config
    from training.score_history import history_text

    click.echo(history_text(lead_id, load_config(config_path)))


@click.command("export-scores")
@click.option("--since", required=True, help="First day to export (YYYY-MM-DD, UTC).")
@click.option("--out", "output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="A .csv or .parquet file.")
@CONFIG_OPTION
@user_errors
def export_scores(since: str, output: Path, config_path) -> None:
    """Export the score log (every score served) since a date, as CSV or Parquet."""
    from leadscore.config import load_config
    from training.score_history import export_scores as export

    click.echo(export(since, output, load_config(config_path)))


@click.command()
@click.option("--json", "as_json", is_flag=True, default=False,
              help="Print the figures as one JSON document (schema: docs/review-cycle.md).")
@click.option("--as-of", "as_of", default=None,
              help="Judge as of this moment (YYYY-MM-DD[THH:MM], UTC); default: now.")
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=STORE_HELP)
@CONFIG_OPTION
@user_errors
def monitor(as_json: bool, as_of: str | None, store: Path | None, config_path) -> None:
    """Since the champion's review: conversion, volume, SLA, input drift, grade inversions.

    \b
    Exit status: 0 no limit crossed, 1 an error (one line on stderr), 2 a usage error,
    3 a limit crossed (the last line recommends an early review and says why).
    """
    import json

    from leadscore.config import load_config
    from scoring.monitor_text import monitor_text
    from training.monitor import champion_monitor

    result = champion_monitor(load_config(config_path, store=store), as_of)
    click.echo(json.dumps(result.as_dict(), indent=2) if as_json else monitor_text(result))
    sys.exit(result.exit_code)
