"""Reading a JSON Lines export (one JSON object per line, as CRM APIs and many tools write them)
into the same all-text table a CSV file becomes.

Each field becomes a column, in the order fields first appear; a field an object lacks, or sets to
null, is blank. Numbers keep their JSON spelling (``3``, ``2.5``) and booleans read ``true`` /
``false``, so every later check types them exactly as it types a CSV's text. A nested object or
list has no column to go to: one sentence naming the field and the line. Nothing here prints a
value from the file.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa

from leadscore.errors import LeadscoreError

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value)  # true / false, 3, 2.5: the JSON spelling


def read_json_lines(path: Path) -> pa.Table:
    """The objects of a JSON Lines file as a table of text columns (blank lines are skipped).

    Raises:
        LeadscoreError: for a line that is not a JSON object, a nested value, a file that is not
            UTF-8, or a file without objects.
    """
    columns: dict[str, list[str | None]] = {}
    rows = 0
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    raise LeadscoreError(
                        f"{path.name} line {number} is not a JSON object: write one object per "
                        "line ({\"lead_id\": ...}) and re-run."
                    ) from None
                if not isinstance(record, dict):
                    raise LeadscoreError(
                        f"{path.name} line {number} is not a JSON object: write one object per "
                        "line ({\"lead_id\": ...}) and re-run."
                    )
                for name, value in record.items():
                    if isinstance(value, dict | list):
                        raise LeadscoreError(
                            f"{path.name} line {number}, field {name}: a nested object or list "
                            "has no column to go to; flatten it into one field per value and "
                            "re-run."
                        )
                    column = columns.get(name)
                    if column is None:
                        column = columns[name] = [None] * rows
                    column.append(_text(value))
                rows += 1
                for column in columns.values():
                    if len(column) < rows:
                        column.append(None)
    except UnicodeDecodeError:
        raise LeadscoreError(f"{path.name} is not UTF-8 text: save it as UTF-8 and re-run.") \
            from None
    except (OSError, EOFError):
        raise LeadscoreError(f"{path.name} could not be read: export it again and re-run.") \
            from None
    if not columns:
        raise LeadscoreError(f"{path.name} holds no JSON objects: export the records and re-run.")
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})
