"""Reading a JSON Lines export (one JSON object per line, as CRM APIs and many tools write them),
or a JSON document of records (an array of objects, or an API's answer holding one: ``{"data":
[...], "additional_data": {...}}``), into the same all-text table a CSV file becomes.

Each field becomes a column, in the order fields first appear; a field an object lacks, or sets to
null, is blank. Numbers keep their JSON spelling (``3``, ``2.5``) and booleans read ``true`` /
``false``, so every later check types them exactly as it types a CSV's text. A nested object's
fields are columns of their own, named by their path (an API's contact ``{"id": ..., "properties":
{"email": ..., "createdate": ...}}`` has the columns ``id``, ``properties.email``,
``properties.createdate``); a list has no column to go to: one sentence naming the field and the
line. Nothing here prints a value from the file.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa

from features.messages import plural
from leadscore.errors import LeadscoreError

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
JSON_SUFFIXES = (".json", ".json.gz")


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
    def records():
        with _open(path) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    record = None
                if not isinstance(record, dict):
                    raise LeadscoreError(
                        f"{path.name} line {number} is not a JSON object: write one object per "
                        "line ({\"lead_id\": ...}) and re-run."
                    )
                yield f"line {number}", record

    return _table(path, records)


def read_json_document(path: Path) -> pa.Table:
    """The records of a JSON document as a table of text columns: an array of objects, or an
    object with exactly one field holding an array of objects (an API's page: ``data``,
    ``results``, ``value`` beside paging fields).

    Raises:
        LeadscoreError: for a document that is not JSON, holds no such array (or two), a record
            that is not an object, a nested value, or a file that is not UTF-8.
    """
    def records():
        with _open(path) as handle:
            try:
                document = json.load(handle)
            except json.JSONDecodeError as exc:
                raise LeadscoreError(
                    f"{path.name} is not a JSON document (line {exc.lineno}): export it again, "
                    "or as JSON Lines or CSV, and re-run."
                ) from None
        found = document if isinstance(document, list) else None
        if isinstance(document, dict):
            arrays = [k for k, v in document.items()
                      if isinstance(v, list) and v and all(isinstance(r, dict) for r in v)]
            if len(arrays) != 1:
                raise LeadscoreError(
                    f"{path.name} holds {'no' if not arrays else 'more than one'} array of "
                    "records: export the records as one JSON array of objects (or JSON Lines) "
                    "and re-run."
                )
            found = document[arrays[0]]
        if found is None:
            raise LeadscoreError(f"{path.name} is not an array of records: export the records "
                                 "as a JSON array of objects (or JSON Lines) and re-run.")
        for number, record in enumerate(found, start=1):
            if not isinstance(record, dict):
                raise LeadscoreError(f"{path.name} record {number} is not a JSON object: export "
                                     "one object per record and re-run.")
            yield f"record {number}", record

    return _table(path, records)


def _flat(path: Path, where: str, record: dict, prefix: str = "") -> list[tuple[str, object]]:
    """``record``'s fields, a nested object's under ``parent.field``."""
    out: list[tuple[str, object]] = []
    for name, value in record.items():
        name = f"{prefix}{name}"
        if isinstance(value, dict):
            out += _flat(path, where, value, f"{name}.")
        elif isinstance(value, list):
            kind = "record" if value and all(isinstance(v, dict) for v in value) else "value"
            raise LeadscoreError(
                f"{path.name} {where}, field {name}: a list (here of {plural(len(value), kind)}) "
                "has no column to go to: export the records as CSV instead (one column per "
                f"field), or leave {name} out of the export, and re-run."
            )
        else:
            out.append((name, value))
    names = [n for n, _ in out]
    if len(set(names)) < len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise LeadscoreError(f"{path.name} {where}: the field {twice} is there twice (once as a "
                             "nested object's field); keep one and re-run.")
    return out


def _open(path: Path):
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    return opener(path, "rt", encoding="utf-8-sig")


def _table(path: Path, records) -> pa.Table:
    """Each record's fields as text columns (in the order fields first appear)."""
    columns: dict[str, list[str | None]] = {}
    rows = 0
    try:
        for where, record in records():
            for name, value in _flat(path, where, record):
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
