"""`leadscore demo`: the whole journey on demo data, from a fresh clone to a serving API.

generate -> ingest -> review cycle one month -> review cycle the next month -> report -> rescore
the open leads with the champion (how many changed MQL flag) -> the live loop (events and a
verdict through the API, a changed score) -> serve.
Everything lands in the default local places (data/, mlruns/, reports/), which are git-ignored.
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import date, timedelta
from pathlib import Path

import click

from features.live_store import live_url
from leadscore.config import load_config
from leadscore.errors import LeadscoreError

DEMO_DIR = Path("data/demo")
CYCLES = (("2026-W40", "2026-10-01"), ("2026-W44", "2026-11-01"))


def _step(text: str) -> None:
    click.secho(f"\n==> {text}", fg="cyan", bold=True)


def run_demo(*, n_leads: int, seed: int, start_service: bool, port: int | None = None) -> None:
    from cli.serve import check_port_free
    from features.ingest import ingest_paths
    from generator import generate_export
    from training.review import run_review

    config = load_config()
    if port is not None:
        config["serving"]["port"] = port
    # the live-loop step starts the API minutes from now: a taken port is said before any work
    check_port_free(config["serving"]["host"], config["serving"]["port"])
    store = Path(config["store"])

    _step(f"Generating a demo CRM export: {n_leads:,} leads, seed {seed}")
    generated = generate_export(n_leads=n_leads, seed=seed, out_dir=DEMO_DIR, fmt="csv")
    click.echo(generated)

    _step(f"Ingesting it into {store} (re-running changes nothing)")
    # the generator's export is a snapshot taken as its end day began: complete through the day
    # before, which is what its declared export date says (features/horizon.py)
    complete_through = date.fromisoformat(generated.end) - timedelta(days=1)
    click.echo(ingest_paths([DEMO_DIR], store=store, mapping=None, exported_at=complete_through))

    for cycle, as_of in CYCLES:
        _step(f"Review cycle {cycle} as of {as_of}")
        click.echo(run_review(cycle=cycle, as_of=as_of, config=config, promote=True))

    from cli.demo_live import has_champion

    as_of = CYCLES[-1][1]
    _step(f"Rescoring the open leads with the champion as of {as_of} (leadscore rescore)")
    if has_champion(config):
        from training.rescore import rescore

        result = rescore(config, as_of=as_of)
        click.echo(result)
        leads = "open lead" if result.flag_changed == 1 else "open leads"
        click.echo(f"  {result.flag_changed:,} {leads} changed MQL flag; marketing operations "
                   f"pushes {result.out} back to the CRM.")
    else:
        click.echo("  No champion yet (a gate failed on this export), so there is nothing to "
                   "rescore with.")

    last_cycle = CYCLES[-1][0]
    report = Path("reports") / last_cycle / "index.html"
    host, port = config["serving"]["host"], config["serving"]["port"]
    key = os.environ.get("LEADSCORE_API_KEYS", "").split(",")[0] or f"demo-{secrets.token_hex(8)}"

    _step("The live loop: events and a verdict through the API, and a changed score")
    from cli.demo_live import show_loop, start_api

    if has_champion(config):
        api = start_api(config, host, port, key)
        try:
            show_loop(config, f"http://{host}:{port}", key)
        finally:
            api.terminate()
            api.wait(timeout=30)
    else:
        click.echo("  No champion yet (a gate failed on this export), so there is no model to "
                   "serve: promote the challenger with `leadscore promote VERSION` and run "
                   "`leadscore serve`.")

    _step("The monitor since the last review (leadscore monitor; exit 3 would mean review early)")
    click.echo(f"  {_monitor_line(config)}")

    _step("Done. Where things are:")
    served = has_champion(config)
    for line in where_things_are(report=report.resolve(), store=store.resolve(), config=config,
                                 key=key, served=served, start_service=start_service):
        click.echo(line)
    if not (start_service and served):
        return
    from cli.serve import serve_forever

    os.environ["LEADSCORE_API_KEYS"] = key
    _step("Starting the scoring API (Ctrl+C stops it)")
    serve_forever(config, host=host, port=port, config_path=None)


def where_things_are(*, report: Path, store: Path, config: dict, key: str, served: bool,
                     start_service: bool) -> list[str]:
    """The demo's closing lines: where each thing is, and how to call the API only when it will
    be listening (``--no-serve`` says how to start it; no champion says why there is none)."""
    host, port = config["serving"]["host"], config["serving"]["port"]
    mlflow = Path(sys.executable).with_name("mlflow")
    lines = [f"  report        {report}",
             f"  MLflow UI     {_shown(mlflow)} ui --backend-store-uri "
             f"{config['mlflow']['tracking_uri']}",
             f"  store         {store}",
             f"  live store    {live_url(config)}  (events, verdicts, every score served)"]
    if not served:
        return [*lines, "  scoring API   not started: no champion to serve (a gate failed on "
                        "this export); promote one with `leadscore promote VERSION`, then run "
                        "`leadscore serve`."]
    curl = (f"  curl -s http://{host}:{port}/score -H 'Authorization: Bearer {key}' "
            "-H 'Content-Type: application/json' -d '"
            '{"leads": [{"lead_id": "demo-1", "title": "VP Marketing", "company_size": "250", '
            '"industry": "Software", "country": "US", "source": "webinar", '
            '"email_domain": "acme.io", "activities": [{"activity_type": "pricing_view", '
            '"occurred_at": "2026-10-30T10:00:00Z"}], "as_of": "2026-11-01T00:00:00Z"}]}\'')
    if start_service:
        return [*lines, f"  scoring API   http://{host}:{port}  (OpenAPI document at /docs.json)",
                f"  demo API key  {key}", "", "Try it:", curl]
    leadscore = _shown(Path(sys.executable).with_name("leadscore"))
    return [*lines, "  scoring API   not started (--no-serve); start it with this key:",
            f"                LEADSCORE_API_KEYS={key} {leadscore} serve",
            "", "Then try it:", curl]


def _shown(path: Path) -> str:
    """A path as a user in this folder types it: relative when it lies below, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _monitor_line(config: dict) -> str:
    from scoring.monitor_text import monitor_line
    from training.monitor import champion_monitor

    try:
        return monitor_line(champion_monitor(config))
    except LeadscoreError as exc:  # no champion: the monitor has nothing to watch
        return f"Monitor: {exc}"
