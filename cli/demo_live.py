"""`leadscore demo`'s live-loop step: events and a verdict through the API, a changed score.

Starts the API (as `leadscore serve` does), picks a recent demo lead with no recent activity,
scores it by id, posts three activities through ``POST /events``, scores it again (its
``changes`` say what moved), posts a rep's verdict through ``POST /dispositions`` and prints the
lead's score history. The next review cycle takes the verdict as a label.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import click
import duckdb
import httpx

from leadscore.errors import LeadscoreError

AS_OF = "2026-11-01T00:00:00Z"
EVENTS = (("pricing_view", "2026-10-30T10:00:00Z"), ("demo_request", "2026-10-31T09:30:00Z"),
          ("pricing_view", "2026-10-31T16:00:00Z"))


def pick_lead(store: str) -> str:
    """A lead created in the last weeks before the demo's review date, not yet dispositioned,
    without activity in October: the events below are what moves it."""
    with duckdb.connect(store, read_only=True) as con:
        row = con.execute(
            "SELECT lead_id FROM leads WHERE created_at >= TIMESTAMP '2026-10-01' "
            "AND created_at < TIMESTAMP '2026-10-31' "
            "AND lead_id NOT IN (SELECT lead_id FROM dispositions) "
            "AND lead_id NOT IN (SELECT lead_id FROM activities "
            "                    WHERE occurred_at >= TIMESTAMP '2026-10-01') "
            "ORDER BY lead_id LIMIT 1").fetchone() or con.execute(
            "SELECT lead_id FROM leads ORDER BY created_at DESC LIMIT 1").fetchone()
    return row[0]


def has_champion(config: dict[str, Any]) -> bool:
    from training.registry import CHAMPION, alias_version
    from training.tracking import client

    return alias_version(client(config), config["mlflow"]["registered_model"], CHAMPION) \
        is not None


def start_api(config: dict[str, Any], host: str, port: int, key: str) -> subprocess.Popen:
    from cli.serve import check_port_free, serve_command, serve_environment

    check_port_free(host, port)
    env = serve_environment(config, None)
    env["LEADSCORE_API_KEYS"] = key
    process = subprocess.Popen(serve_command(host, port), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LeadscoreError(f"The scoring API exited with code {process.returncode}: run "
                                 "`leadscore serve` to see why.")
        try:
            if httpx.get(f"http://{host}:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.terminate()
    raise LeadscoreError("The scoring API did not become ready in 120 s.")


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    if response.status_code != 200:
        raise LeadscoreError(f"POST {path} answered {response.status_code}: "
                             f"{response.json().get('error')}")
    return response.json()


def _show(score: dict[str, Any]) -> None:
    click.echo(f"    score {score['score']:.3f}  grade {score['grade']}  "
               f"MQL {'yes' if score['is_mql'] else 'no'}")
    changes = score["changes"]
    click.echo(f"    changes: {changes['summary']}")
    if changes["previous"]:
        prev = changes["previous"]
        click.echo(f"      previous: {prev['score']:.3f} ({prev['grade']}, model "
                   f"v{prev['model_version']}, {prev['scored_at']})")
    for moved in changes["moved"]:
        click.echo(f"      {moved['label']}: impact {moved['impact_before']:+.3f} -> "
                   f"{moved['impact_now']:+.3f}")


def show_loop(config: dict[str, Any], url: str, key: str) -> None:
    """The loop through the API at ``url``: score, events, score again, a verdict, the history."""
    from training.score_history import history_text

    lead_id = pick_lead(config["store"])
    with httpx.Client(base_url=url, timeout=30,
                      headers={"Authorization": f"Bearer {key}"}) as client:
        click.echo(f"  POST /score {json.dumps({'lead_id': lead_id, 'as_of': AS_OF})}")
        _show(_post(client, "/score", {"lead_id": lead_id, "as_of": AS_OF})["scores"][0])
        activities = [{"lead_id": lead_id, "activity_type": t, "occurred_at": at}
                      for t, at in EVENTS]
        stored = _post(client, "/events", {"activities": activities})
        click.echo(f"  POST /events: {stored['activities']} activities "
                   f"({', '.join(t for t, _ in EVENTS)}), stored after a durable commit")
        click.echo("  POST /score by id again")
        _show(_post(client, "/score", {"lead_id": lead_id, "as_of": AS_OF})["scores"][0])
        verdict = {"lead_id": lead_id, "dispositioned_at": "2026-11-01T00:00:00Z",
                   "status": "meeting_booked"}
        _post(client, "/dispositions", {"dispositions": [verdict]})
        click.echo("  POST /dispositions: meeting_booked (the next review cycle merges it as a "
                   "label)")
    click.echo(f"  leadscore history {lead_id}")
    click.echo("    " + history_text(lead_id, config).replace("\n", "\n    "))
