"""What every sub-command shares: the --config option, help texts, and how a user's error is
printed (one line on stderr, exit status 1)."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from leadscore.errors import LeadscoreError

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="YAML file over the shipped defaults (leadscore/default.yaml).",
)
STORE_HELP = "The DuckDB store; default: the config's store (data/leadscore.duckdb)."
SHEET_HELP = ("The sheet to read of each Excel workbook (.xlsx) given; default: its first sheet "
              "(a v2 mapping can name one per file with sheet:).")


def user_errors(fn):
    """Turn a LeadscoreError into one line on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LeadscoreError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(1)

    return wrapper
