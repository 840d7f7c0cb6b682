"""``leadscore score EXPORT --mapping M.yaml``: new leads in the CRM's own export shape, scored.

The export is read through its mapping as ``leadscore ingest`` reads it, into a scratch store in a
temporary folder (``features.export_leads``): the user's store is never opened, so scoring input
never becomes training data. The leads then take the batch path ``leadscore rescore`` takes from
the store (``training.batch_io.lead_chunks`` joining their activities, ``score_chunks`` on every
core), so a lead in the export scores exactly as the same lead ingested and rescored. The output
is keyed by the export's own lead id (the mapping's id column, or the row number where the mapping
says ``id: {from_row: true}``) and holds the same columns as any ``leadscore score`` output,
never personal data.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from features.export_leads import read_for_scoring
from features.messages import capped
from leadscore.errors import LeadscoreError
from training.batch_io import STORE, ChunkWriter, lead_chunks
from training.batch_log import no_lead_line, repeat_line
from training.batch_score import CHUNK, model_inputs, write_scores
from training.registry import load_bundle

TEMP_PREFIX = "leadscore-export-"


def score_export(paths: list[Path], mapping: Path, output: Path, config: dict[str, Any],
                 model_uri: str | None = None, *, workers: int | None = None,
                 now: datetime | None = None, chunk: int = CHUNK) -> str:
    """Score the leads of the export in ``paths`` (read through ``mapping``) into ``output``.

    Args:
        paths: the export's files or folder, as ``leadscore ingest`` takes them.
        mapping: the mapping the export was ingested with (v1 or v2).
        output: ``.csv`` or ``.parquet``; written whole or not at all.
        config: the leadscore config (the MLflow registry, the live store's score log).
        model_uri: an MLflow model URI; None means the champion.
        workers: processes to score with; None means one per core.
        now: the scoring moment (intent windows end there); None means now.
        chunk: leads per chunk.

    Returns:
        What was scored, by which model, where it went; how the files were read.

    Raises:
        LeadscoreError: no champion, a bad ``--out``, ingest's refusal of a file or row, or a
            column the model scores from missing from the export.
    """
    writer = ChunkWriter(Path(output))
    try:
        bundle, version = load_bundle(model_uri, config)
        inputs = model_inputs(bundle)
        with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX) as folder:
            export = read_for_scoring(paths, mapping, Path(folder),
                                      {name for names in inputs for name in names})
            scored = write_scores(writer, bundle, version, model_uri,
                                  lead_chunks(export.leads, chunk, STORE, export.store),
                                  rows=export.count, config=config, workers=workers, now=now,
                                  chunk=chunk, log=not export.ids_from_rows)
    except BaseException:
        writer.abort()
        raise
    lines = [scored.line()]
    if not export.count:
        lines.append(no_lead_line(capped([p.name for p in paths]), writer.output))
    if export.repeated:
        lines.append(repeat_line(export.repeated))
    unfilled = [names[0] for names in inputs if not export.filled & set(names)]
    if unfilled:
        one = len(unfilled) == 1
        lines.append(f"{capped(unfilled)} {'is' if one else 'are'} filled by no column of the "
                     f"mapping {mapping}, but the model learned from {'it' if one else 'them'}: "
                     f"every lead was scored as if {'it were' if one else 'they were'} blank; "
                     "score with the model reviewed on this export's data (its --config), or "
                     f"map a column to {'it' if one else 'each'}, and re-run.")
    if export.ids_from_rows:
        lines.append("The lead ids are this file's row numbers (the mapping's id: {from_row: "
                     "true}), not these leads' ids anywhere else (the store numbers the rows of "
                     "the export it ingested the same way), so the scores were not added to the "
                     "score log.")
    lines.extend(f"  {note}" for note in export.notes)
    return "\n".join(lines)


def refuse_spark_mapping() -> LeadscoreError:
    """``--engine spark`` with ``--mapping``: the mapping is read on this machine."""
    return LeadscoreError(
        "--mapping reads the export on this machine, which --engine spark does not do: drop "
        "--engine spark (the local engine scores on every core) and re-run."
    )
