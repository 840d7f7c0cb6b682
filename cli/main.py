"""The `leadscore` command line: one entry point, one sub-command per job.

Every sub-command imports its implementation when it runs, so `leadscore --help` stays instant.
Errors a user can cause (``LeadscoreError``) print as one line and exit with status 1.
"""

from __future__ import annotations

from pathlib import Path

import click

from cli.between_reviews import export_scores, history, monitor
from cli.options import CONFIG_OPTION, SHEET_HELP, STORE_HELP, user_errors
from leadscore import __version__
from leadscore.errors import LeadscoreError
from leadscore.files import write_whole


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="leadscore")
def cli() -> None:
    """Lead scoring that learns from the sales team's verdicts.

    \b
    A review cycle, end to end:
      leadscore generate --leads 20000 --out data/demo     # or export your CRM
      leadscore ingest data/demo                           # into data/leadscore.duckdb
      leadscore review --cycle 2026-W47                    # retrain, gate, promote, report
      leadscore serve                                      # scoring API on 127.0.0.1:3000
    """


@cli.command()
@click.option("--leads", "n_leads", type=click.IntRange(min=1), default=20_000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
)
@click.option(
    "--truth/--no-truth",
    default=False,
    help="Also write truth/truth.csv (the planted probabilities).",
)
@click.option(
    "--drift/--no-drift",
    default=False,
    help="Plant drift: a moving base rate, a source appearing mid-window, a fading fit signal "
    "(docs/generator.md).",
)
@user_errors
def generate(n_leads: int, seed: int, out_dir: Path, fmt: str, truth: bool, drift: bool) -> None:
    """Write a realistic demo CRM export (leads, activities, dispositions, outcomes)."""
    from generator import generate_export

    summary = generate_export(n_leads=n_leads, seed=seed, out_dir=out_dir, fmt=fmt, truth=truth,
                              drift=drift)
    click.echo(summary)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--mapping",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Mapping file for a flat or several-file export (see features/mappings/).",
)
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=STORE_HELP)
@click.option("--sheet", default=None, help=SHEET_HELP)
@click.option("--exported-at", "exported_at", default=None,
              help="The day the export was taken (YYYY-MM-DD), if after its last record: labels "
              "treat its outcomes as final up to that day (overrides the mapping's exported_at).")
@CONFIG_OPTION
@user_errors
def ingest(paths: tuple[Path, ...], mapping: Path | None, store: Path | None,
           sheet: str | None, exported_at: str | None, config_path) -> None:
    """Validate a CRM export and add it to the store, all or nothing.

    PATHS are files (leads.csv, activities.parquet, leads.xlsx, ...) or folders holding them.
    """
    from features.ingest import ingest_paths
    from leadscore.config import load_config

    config = load_config(config_path)
    report = ingest_paths(list(paths), store=store or Path(config["store"]), mapping=mapping,
                          labels=config["labels"], sheet=sheet, exported_at=exported_at)
    click.echo(report)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the draft v2 mapping here.")
@click.option("--outcome", default=None, help="The outcome column, for the leak checks.")
@click.option("--positive", multiple=True, help="An outcome value that is a success (repeat).")
@click.option("--negative", multiple=True,
              help="An outcome value that is a failure (repeat); default: every other value.")
@click.option("--outcome-date", "outcome_date", default=None,
              help="The column dating the outcome, to flag columns dated after it.")
@click.option("--sheet", default=None, help=SHEET_HELP)
@user_errors
def inspect(paths: tuple[Path, ...], out: Path | None, outcome: str | None,
            positive: tuple[str, ...], negative: tuple[str, ...],
            outcome_date: str | None, sheet: str | None) -> None:
    """Profile an export's columns, flag leak suspects and draft a mapping to edit."""
    from features.inspect import inspect as inspect_export
    from features.inspect_draft import draft

    found = inspect_export(list(paths), outcome, list(positive), list(negative), outcome_date,
                           sheet=sheet)
    click.echo(found.text)
    if out is not None:
        write_whole(out, draft(found))
        click.echo(f"draft mapping written to {out}: check every role, then "
                   f"leadscore ingest ... --mapping {out}")


@cli.command()
@click.option("--cycle", required=True, help="Name of the review cycle, e.g. 2026-W47.")
@click.option("--as-of", "as_of", default=None, help="Review date (YYYY-MM-DD); default: today.")
@click.option("--promote/--no-promote", default=True, help="Move `champion` when the gates pass.")
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=STORE_HELP)
@click.option("--accept-window", is_flag=True, default=False,
              help="Review even when maturity_days cuts more than 10% of eventual positives.")
@CONFIG_OPTION
@user_errors
def review(cycle: str, as_of: str | None, promote: bool, store: Path | None,
           accept_window: bool, config_path) -> None:
    """Run one review cycle: retrain, calibrate, set the threshold, explain, gate, register."""
    from leadscore.config import load_config
    from training.review import run_review

    config = load_config(config_path, store=store)  # --store brings its own live store
    if accept_window:
        config["labels"]["accept_maturity_window"] = True
    summary = run_review(cycle=cycle, as_of=as_of, config=config, promote=promote)
    click.echo(summary)
    if summary.promoted:
        from training.rescore_changes import next_step, rescore_command

        click.echo(next_step(rescore_command(as_of=as_of, store=store, config_path=config_path)))


@cli.command()
@click.option("--from", "start", required=True,
              help="Date of the first replayed review (YYYY-MM-DD).")
@click.option("--every", default="4w", show_default=True, help="Time between reviews (4w, 28d).")
@click.option("--cycles", type=click.IntRange(min=1), default=6, show_default=True,
              help="Review cycles to replay.")
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=STORE_HELP)
@CONFIG_OPTION
@user_errors
def backtest(start: str, every: str, cycles: int, store: Path | None, config_path) -> None:
    """Replay review cycles and score each next period: trained once vs retrained vs champion."""
    from leadscore.config import load_config
    from training.backtest import parse_every, run_backtest
    from training.review import parse_as_of

    config = load_config(config_path)
    if store is not None:
        config["store"] = str(store)
    try:
        first = parse_as_of(start)
    except LeadscoreError:  # its sentence names --as-of, review's option
        raise LeadscoreError(f"--from {start!r} is not a date: give it as YYYY-MM-DD, "
                             "e.g. 2026-03-01.") from None
    click.echo(run_backtest(config, first, parse_every(every), cycles))


@cli.command()
@click.argument("version", type=int)
@CONFIG_OPTION
@user_errors
def promote(version: int, config_path) -> None:
    """Make model VERSION the champion."""
    from leadscore.config import load_config
    from training.registry import NOTHING_MOVED, promote_version
    from training.report_refresh import rewrite_reports
    from training.rescore_changes import next_step, rescore_command

    config = load_config(config_path)
    moved = promote_version(version, config)
    click.echo(moved)
    if not moved.endswith(NOTHING_MOVED):
        rewritten = rewrite_reports(config)
        if rewritten:
            click.echo(rewritten)
        click.echo(next_step(rescore_command(config_path=config_path)))


@cli.command()
@CONFIG_OPTION
@user_errors
def rollback(config_path) -> None:
    """Move `champion` back to the version that held it before."""
    from leadscore.config import load_config
    from training.registry import rollback_champion
    from training.report_refresh import rewrite_reports

    config = load_config(config_path)
    click.echo(rollback_champion(config))
    rewritten = rewrite_reports(config)
    if rewritten:
        click.echo(rewritten)


@cli.command()
@click.option("--as-of", "as_of", default=None,
              help="Rescore as of this moment (YYYY-MM-DD or an ISO time, UTC); default: now.")
@click.option("--out", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The changed list (.csv or .parquet); default: "
                   "<store folder>/rescores/<time>-v<version>/changed.csv.")
@click.option("--previous", type=click.IntRange(min=1), default=None,
              help="The version that gives the old score of a lead the score log has none for; "
                   "default: the previous champion.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes to score with; default: one per core.")
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=STORE_HELP)
@CONFIG_OPTION
@user_errors
def rescore(as_of: str | None, output: Path | None, previous: int | None, workers: int | None,
            store: Path | None, config_path) -> None:
    """Rescore every open lead with the champion; list those whose MQL flag or grade changed.

    The list (lead id, old and new score, grade and flag, top reasons) is what marketing
    operations pushes back to the CRM; the new scores go to the score log.
    """
    from leadscore.config import load_config
    from training.rescore import rescore as run_rescore

    config = load_config(config_path, store=store)
    click.echo(run_rescore(config, as_of=as_of, out=output, previous=previous, workers=workers))


@cli.command()
@click.option("--cycle", required=True, help="The reviewed cycle, as named by review --cycle.")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
    show_default=True, help="Folder the cycle's report folder is written in."
)
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=STORE_HELP)
@CONFIG_OPTION
@user_errors
def report(cycle: str, out_dir: Path, store: Path | None, config_path) -> None:
    """Write the leaders' explanation report for a cycle (reports/<cycle>/index.html)."""
    from leadscore.config import load_config
    from training.report import write_report

    path = write_report(cycle=cycle, config=load_config(config_path, store=store),
                        out_dir=out_dir)
    click.echo(f"report written to {path}")


@cli.command()
@click.argument("input_path", metavar="INPUT")
@click.option("--out", "output", required=True,
              help="Output file (.csv or .parquet); with --engine spark a Parquet folder or URI.")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Read INPUT (a file or a folder) as your CRM's own export, through the mapping "
                   "it was ingested with; the store is not touched.")
@click.option(
    "--model", "model_uri", default=None,
    help="Model URI (models:/NAME/3 or models:/NAME@champion); default: the champion of the "
         "config's mlflow.registered_model.")
@click.option(
    "--activities", default=None,
    help="Join activities by lead_id from this file (CSV/Parquet) or from the store (`store`) "
         "instead of the leads' activities column.",
)
@click.option("--as-of", "as_of", default=None,
              help="The scoring moment of leads without their own as_of (YYYY-MM-DD or an ISO "
                   "time, UTC); default: now.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes to score with; default: one per core.")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="`spark` scores on the active Spark cluster (Parquet in, a Parquet folder out).")
@CONFIG_OPTION
@user_errors
def score(input_path: str, output: str, mapping: Path | None, model_uri: str | None,
          activities: str | None, as_of: str | None, workers: int | None, engine: str,
          config_path) -> None:
    """Score leads with the champion: scores and reasons out, keyed by lead id.

    \b
    INPUT is a file of leads in the store's shape (CSV, Parquet or .xlsx, with a lead_id
    column); with --engine spark also any URI the cluster reads (s3a://...). With --mapping,
    INPUT is your CRM's own export (file or folder) of new leads, read as `leadscore ingest
    --mapping` reads it: outcome and verdict columns may be blank or absent.
    """
    from cli.score import run_score

    click.echo(run_score(input_path, output, config_path=config_path, mapping=mapping,
                         model_uri=model_uri, activities=activities, as_of=as_of,
                         workers=workers, engine=engine))


@cli.command()
@click.option(
    "--host", default=None,
    help="Default: the config's serving.host (127.0.0.1); other addresses need LEADSCORE_API_KEYS."
)
@click.option("--port", type=int, default=None, help="Default: the config's serving.port (3000).")
@CONFIG_OPTION
@user_errors
def serve(host: str | None, port: int | None, config_path) -> None:
    """Start the scoring API (BentoML) on the champion model."""
    from cli.serve import serve_forever
    from leadscore.config import load_config

    serve_forever(load_config(config_path), host=host, port=port, config_path=config_path)


@cli.command()
@click.option(
    "--leads", "n_leads", type=click.IntRange(min=1000), default=20_000, show_default=True
)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--serve/--no-serve", "start_service", default=True, help="Start the API at the end.")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port of the API on 127.0.0.1 (the live-loop step and --serve)  "
                   "[default: serving.port, 3000]")
@user_errors
def demo(n_leads: int, seed: int, start_service: bool, port: int | None) -> None:
    """The whole journey on demo data: generate, ingest, two review cycles, report, rescore,
    the live loop, monitor, serve."""
    from cli.demo import run_demo

    run_demo(n_leads=n_leads, seed=seed, start_service=start_service, port=port)


for _command in (history, export_scores, monitor):
    cli.add_command(_command)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
