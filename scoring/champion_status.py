"""Why no champion serves, in one sentence: the CLI and the API say the same thing.

Lives in ``scoring`` (not ``training.registry``) because both the review side and the service
need it, and serving never imports training. It reads only the registry's versions and the tags
``training.review.register`` sets on each (``cycle``, ``gate.<name>``).
"""

from __future__ import annotations

import json

GATE_ORDER = ("evidence", "band", "calibration", "pr_auc")
"""The order the review decides and prints its gates in (``training.gates.decide``), so a
sentence names failed gates as the review did."""

NO_CHAMPION = "No champion model yet: run `leadscore review` first."
"""The sentence when no review ever registered a model (see ``no_champion``)."""


def no_champion(client, name: str) -> str:
    """Why there is no champion, in one sentence: never reviewed, or reviewed and never promoted.

    The second case names the last reviewed version, its cycle and the gate(s) it failed (from
    the tags ``training.review.register`` sets on every version) and how to promote it by hand.
    """
    try:
        found = client.search_model_versions(f"name = '{name}'")
    except Exception:  # noqa: BLE001 - an unreadable registry reads as "never reviewed"
        found = []
    if not found:
        return not_registered(client, name) or NO_CHAMPION
    removed = _last_champion(client, name)
    if removed is not None:  # there was one: "none was promoted" would be false
        return (f"No champion model now: the `champion` alias was removed (the last champion was "
                f"v{removed}); make a version the champion with `leadscore promote N` (e.g. "
                f"`leadscore promote {removed}`).")
    newest_first = sorted(found, key=lambda v: int(v.version), reverse=True)
    # a version a killed or failed review left behind cannot be promoted: never advise it
    finished = [v for v in newest_first if _review_finished(client, v)]
    if not finished:
        n = len(found)
        return (f"No champion model yet: {n} review{'s' if n != 1 else ''} registered a model "
                "but none ran to its end (killed or failed): run `leadscore review` again.")
    last = finished[0]
    tags = dict(last.tags or {})
    cycle = tags.get("cycle")
    failed = sorted((k.removeprefix("gate.") for k, v in tags.items()
                     if k.startswith("gate.") and v == "fail"),
                    key=lambda g: (GATE_ORDER.index(g) if g in GATE_ORDER else len(GATE_ORDER), g))
    n = len(found)
    runs = f"{n} review{'s' if n != 1 else ''} registered a model"
    where = (("the last" if last is newest_first[0] else "the last from a finished review")
             + f", v{last.version}" + (f" (cycle {cycle})" if cycle else ""))
    why = (f"failed the {', '.join(failed)} gate{'s' if len(failed) > 1 else ''}" if failed
           else "was not promoted")
    return (f"No champion model yet: {runs} but none was promoted; {where}, {why}. "
            f"Review it and promote it by hand with `leadscore promote {last.version}`, "
            "or fix what failed and run `leadscore review` again.")


def not_registered(client, name: str) -> str | None:
    """When the store holds registered models but none named ``name`` (a config naming another
    model), the sentence that names them; None when the store holds none at all."""
    try:
        models = client.search_registered_models(max_results=20)
    except Exception:  # noqa: BLE001 - an unreadable registry reads as "never reviewed"
        return None
    if not models:
        return None
    held = ", ".join(
        f"{m.name!r}" + (f" (champion v{m.aliases['champion']})" if "champion" in (m.aliases or {})
                         else "") for m in models)
    return (f"No model is registered as {name!r} in this MLflow store, which holds {held}: set "
            "mlflow.registered_model to the model your reviews register, or run `leadscore "
            "review` first.")


def _last_champion(client, name: str) -> int | None:
    """The last version the registry's champion history names (the tag ``champion_history`` that
    ``training.registry`` keeps), or None when there is no history."""
    try:
        raw = (client.get_registered_model(name).tags or {}).get("champion_history")
        history = [int(v) for v in json.loads(raw)] if raw else []
    except Exception:  # noqa: BLE001 - no history or an unreadable one: no claim about it
        return None
    return history[-1] if history else None


def _review_finished(client, version) -> bool:
    """Whether the review that registered ``version`` ran to its end (a version naming no run,
    or a run that cannot be read, is taken as finished: no claim against it)."""
    if not getattr(version, "run_id", None):
        return True
    try:
        return client.get_run(version.run_id).info.status == "FINISHED"
    except Exception:  # noqa: BLE001 - an unreadable run: no claim against the version
        return True
