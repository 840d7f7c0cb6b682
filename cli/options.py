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
    """Turn a LeadscoreError, or a file the system refused (a folder that does not exist, a full
    disk), into one line on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LeadscoreError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(1)
        except OSError as exc:
            click.secho(f"error: {file_error(exc)}", fg="red", err=True)
            sys.exit(1)

    return wrapper


def file_error(exc: OSError) -> str:
    """One sentence for a file the system refused: the path, the reason, what to check."""
    reason = (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")
    where = f"{exc.filename}: " if exc.filename else ""
    return (f"{where}{reason[:1].lower()}{reason[1:]}; check the path, its permissions and the "
            "free disk space, then re-run.")
