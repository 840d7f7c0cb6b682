"""The proposed roles and the draft v2 mapping that ``leadscore inspect`` writes.

The draft is a starting point to edit, never to trust: every role is a guess from the data, leak
suspects are proposed as post_outcome (kept for reports, never features) with the reason in a
comment, and what cannot be guessed (the export's period without dates) is left for the user.
"""

from __future__ import annotations

from pathlib import Path

from features.contract import name_tokens
from features.inspect import (
    INTENT_TOKENS,
    MISSING_GUESSES,
    Column,
    FileProfile,
    Inspection,
    quote,
)


def _role(column: Column, state: dict) -> tuple[str, str]:
    """(proposed role as printed, its mapping spec) for one main-file column."""
    if column.personal:
        return "ignore (personal?)", "ignore"
    named_late = any(leak.startswith("named like") for leak in column.leaks)
    if column.kind == "date" and not state.get("created") and not named_late:
        # a creation date is never a feature, so a leak suspect can still date the lead
        state["created"] = column.name
        return "timestamp (created_at)", "{role: timestamp, as: created_at}"
    if column.leaks:
        if column.kind == "date":
            return "ignore (leak suspect)", "ignore"
        kind = "numeric" if column.kind in ("numeric", "boolean") else "categorical"
        return "post_outcome (leak suspect)", f"{{role: post_outcome, kind: {kind}}}"
    if column.kind == "id" and not state.get("id"):
        state["id"] = column.name
        return "id", "id"
    if column.kind == "date":
        if not state.get("created"):
            state["created"] = column.name
            return "timestamp (created_at)", "{role: timestamp, as: created_at}"
        return "ignore (another date)", "ignore"
    if column.kind in ("numeric", "boolean"):
        role = "intent" if name_tokens(column.name) & INTENT_TOKENS else "fit"
        return f"{role} numeric", f"{{role: {role}, kind: numeric}}"
    if column.kind == "categorical":
        return "fit categorical", "{role: fit, kind: categorical}"
    return "ignore", "ignore"


def propose(files: list[FileProfile], main: FileProfile, outcome: str | None,
            positive: list[str], negative: list[str]) -> None:
    """Set every column's proposed role and mapping spec (lookups: key, fit or ignore)."""
    state: dict = {}
    for column in main.columns:
        if column.name == outcome:
            column.role, column.spec = "outcome", "outcome"
            continue
        column.role, column.spec = _role(column, state)
    main_names = {c.name.lower(): c.name for c in main.columns}
    for file in files:
        if file is main:
            continue
        key = next((c for c in file.columns if c.name.lower() in main_names
                    and c.distinct == file.rows and c.fill == 1.0), None)
        for column in file.columns:
            if column is key:
                column.role = column.spec = "key"
            elif key is None or column.personal or column.kind in ("id", "text", "empty"):
                column.role, column.spec = "ignore", "ignore"
            else:
                kind = "numeric" if column.kind in ("numeric", "boolean") else "categorical"
                column.role, column.spec = f"fit {kind}", f"{{role: fit, kind: {kind}}}"
        file.options["key"] = key.name if key else None
        file.options["joins"] = main_names.get(key.name.lower()) if key else None


def _missing(file: FileProfile) -> list[str]:
    found = {v.lower(): v for c in file.columns for v in file.frame[c.name].unique()[:200]
             if isinstance(v, str) and v.lower() in MISSING_GUESSES}
    return ["", *sorted(found.values())]


def draft(found: Inspection) -> str:
    """The draft v2 mapping as YAML text, with a comment on every guess that needs a decision."""
    files, main, outcome, positive = found.files, found.main, found.outcome, found.positive
    names = ", ".join(f.path.name for f in files)
    lines = [f"# Draft mapping written by `leadscore inspect` from {names}.",
             "# Every role is a guess from the data: check each one before you ingest.",
             "leadscore_mapping: 2", f"name: {quote(main.path.stem.lower())}", "version: 1", ""]
    id_column = next((c.name for c in main.columns if c.spec == "id"), None)
    created = any("created_at" in c.spec for c in main.columns)
    if not created:
        # a running number (X Education's Lead Number) tells the order leads arrived in; a
        # random id (a UUID) does not
        running = next((c.name for c in main.columns if c.kind == "id"
                        and main.frame[c.name].str.fullmatch(r"\d+").all()), None)
        order = running or id_column or "ROW ORDER COLUMN"
        lines += ["# No date column: leads are spread over the export's period in the order of a "
                  "column;", f"# check that this column grows with time ({order} was guessed). "
                  "Set start and end to the period the export covers.",
                  f"created_at: {{from_order: {quote(order)}, start: \"YYYY-MM-DD\", "
                  "end: \"YYYY-MM-DD\"}", ""]
    lines.append("files:")
    for file in sorted(files, key=lambda f: f is not main):
        lines += _file_lines(file, file is main, id_column, outcome, positive, found.negative,
                             found.outcome_date)
    return "\n".join(lines) + "\n"


def _file_lines(file: FileProfile, is_main: bool, id_column, outcome, positive,
                negative, outcome_date) -> list[str]:
    key = file.options.get("key")
    if not is_main and key is None:
        return [f"  # {file.path.name}: no column matches a main-file column with one row per "
                "value; add it by hand if it belongs to the export"]
    out = [f"  {quote(Path(file.path.name).stem.lower())}:", f"    path: {quote(file.path.name)}",
           f"    kind: {'main' if is_main else 'lookup'}"]
    if "encoding" in file.options and file.options["encoding"] != "utf-8":
        out.append(f"    encoding: {file.options['encoding']}")
    if file.options.get("decimal") == ",":
        out.append('    decimal: ","                  # numbers like 2,5 read 2.5')
    missing = _missing(file)
    comment = "  # 'unknown' stays a category unless listed here" if is_main else ""
    out.append(f"    missing: [{', '.join(quote_always(v) for v in missing)}]{comment}")
    if is_main and id_column is None:
        out.append("    id: {from_row: true}            # no column has one value per row")
    if not is_main:
        out += [f"    key: {quote(key)}", f"    joins: {quote(file.options['joins'])}"]
    out.append("    columns:")
    for column in file.columns:
        spec = column.spec
        note = f"  # {'; '.join(column.leaks)}" if column.leaks else ""
        if column.personal:
            note = "  # named like personal data: never stored"
        if spec == "outcome":
            values = file.frame[column.name].value_counts().index[:30]
            lowered = {p.lower() for p in positive}
            mapped = ", ".join(
                f"{quote_always(v)}: {'closed_won' if v.lower() in lowered else 'none'}"
                for v in values if v != "")
            open_values = _neither(values, positive, negative)
            if open_values:
                out += [f"      # {open_values} {'is' if ',' not in open_values else 'are'} "
                        "neither positive nor negative: as none, a lead becomes a negative once "
                        "its window passes.",
                        "      # If such leads are still open, declare this column a "
                        "disposition_reason with reason code still_open (no label; "
                        "docs/ingestion.md, Maven CRM)."]
            # dated by --outcome-date where given; else at creation, which the user must check
            when = f"date: {quote(outcome_date)}" if outcome_date else "after_days: 0"
            out.append(f"      {quote(column.name)}: {{role: outcome, {when}, values: "
                       f"{{{mapped}}}}}  # outcome: map each value to a stage or none")
            continue
        out.append(f"      {quote(column.name)}: {spec}{note}")
    return out


def _neither(values, positive: list[str], negative: list[str]) -> str:
    """The outcome values that are neither ``positive`` nor ``negative``, joined (empty when
    no negative was named: then every other value is a negative)."""
    if not negative:
        return ""
    named = {v.lower() for v in [*positive, *negative]}
    return ", ".join(str(v) for v in values if v != "" and str(v).lower() not in named)


def quote_always(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)
