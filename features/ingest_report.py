"""What one ingested batch did, per table: the summary ``leadscore ingest`` prints and the
ingest log records."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from features.contract import TABLES


@dataclass
class TableCounts:
    """What one batch did to one table."""

    read: int = 0
    new: int = 0
    updated: int = 0
    present: int = 0
    duplicates: int = 0


@dataclass
class IngestReport:
    """The outcome of one ingested batch; ``str()`` is the summary the command line prints."""

    store: Path
    batch_id: str
    files: list[Path]
    tables: dict[str, TableCounts]
    mapping: str | None = None
    notes: list[str] = field(default_factory=list)
    outcome_lag: dict | None = None  # features.outcome_lag.OutcomeLag.as_dict(), when computed

    def as_dict(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "mapping": self.mapping,
            "tables": {name: vars(counts) for name, counts in self.tables.items()},
            "notes": self.notes,
            "outcome_lag": self.outcome_lag,
        }

    def __str__(self) -> str:
        via = f" through mapping {self.mapping}" if self.mapping else ""
        files = f"{len(self.files)} file{'s' if len(self.files) != 1 else ''}"
        lines = [f"Ingested {files}{via} into {self.store} (batch {self.batch_id})", ""]
        header = ("table", "rows read", "new", "updated", "already present")
        rows = [header] + [
            (name, f"{c.read:,}", f"{c.new:,}", f"{c.updated:,}", f"{c.present:,}")
            for name, c in self.tables.items()
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        for row in rows:
            cells = [row[0].ljust(widths[0])]
            cells += [v.rjust(w) for v, w in zip(row[1:], widths[1:], strict=True)]
            lines.append("  " + "  ".join(cells))
        for name, c in self.tables.items():
            if c.duplicates:
                # equal as stored, not as exported: two Salesforce tasks of one type on one day
                # (a date without a time) differ in Subject, which the store does not keep
                kept = ", ".join(TABLES[name].columns) if name != "leads" else "attributes too"
                lines.append(f"  {c.duplicates:,} row(s) of {name} equal to another in every "
                             f"column the store keeps ({kept}), counted once")
        lines.extend(f"  {note}" for note in self.notes)
        return "\n".join(lines)
