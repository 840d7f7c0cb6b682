"""Flat one-table exports: a declarative mapping names every column's role.

Most CRMs export one row per lead, with aggregated activity and the sales verdict in a status
column. A mapping file (YAML) turns such an export into the contract's tables:

    name: x-education
    version: 1
    created_at: {from_order: Lead Number, start: "2015-01-01", end: "2015-12-31"}
    columns:
      Lead Number: id
      Prospect ID: ignore
      Lead Source: {role: fit, kind: categorical, as: source}
      TotalVisits: {role: intent, kind: numeric}
      Lead Quality: {role: post_outcome}
      Tags:
        role: disposition_reason
        keep: post_outcome
        after_days: 1
        values:
          Ringing: {status: rejected, reason_code: no_response}
          Will revert after reading the email: {status: working, reason_code: follow_up}
      Converted: {role: outcome, after_days: 1, values: {"1": closed_won, "0": none}}

Roles: ``id`` (lead_id), ``timestamp`` (``as:`` created_at, mql_at, dispositioned_at or
outcome_at), ``fit`` / ``intent`` (``kind:`` categorical or numeric; ``as:`` a contract lead column,
else kept in ``leads.attributes``), ``disposition_reason`` (``values:`` raw value -> status and
reason code), ``outcome`` (``values:`` raw value -> stage), ``post_outcome`` (known only after sales
contact: kept in ``leads.attributes`` for reports, never a feature) and ``ignore`` (not stored).
Every column of the export must be declared, so nothing leaks into features by accident.

The file is read with every value as text (YAML's "Yes" stays "Yes"), so raw values match as
written; matching ignores case and repeated spaces. See docs/ingestion.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from features.contract import OUTCOME_STAGES, PERSONAL_COLUMNS
from leadscore.errors import LeadscoreError

ROLES = ("id", "timestamp", "fit", "intent", "disposition_reason", "outcome", "post_outcome",
         "ignore")
KINDS = ("categorical", "numeric")
ATTRIBUTE_ROLES = ("fit", "intent", "post_outcome")
LEAD_TARGETS = ("source", "title", "company_size", "industry", "country", "campaign", "email",
                "email_domain")
TIME_TARGETS = ("created_at", "mql_at", "dispositioned_at", "outcome_at")
NO_ROW = frozenset({"", "none", "null", "~"})

# exported_at: the day the export was taken, read by features/export_date.py (the data horizon)
_TOP_KEYS = frozenset({"name", "version", "description", "created_at", "exported_at", "columns"})
CHOOSE = "CHOOSE"
"""What `leadscore inspect` drafts where it cannot guess a reason's code: a person picks one."""
_COLUMN_KEYS = frozenset({"role", "kind", "as", "values", "after_days", "keep"})


def fold(value: str) -> str:
    """How raw values are matched: case-insensitive, runs of whitespace read as one space."""
    return " ".join(str(value).split()).lower()


@dataclass(frozen=True)
class ColumnRule:
    """What one export column is.

    Attributes:
        column: its name in the export.
        role: one of ``ROLES``.
        kind: categorical or numeric (fit, intent, post_outcome).
        target: the contract column it fills (``as:``), if any.
        values: folded raw value -> (status, reason_code) for a disposition_reason, or
            (stage, None) for an outcome; None when the value means "no row".
        after_days: a disposition's or outcome's time after the lead's created_at.
        keep: also keep the raw value in ``leads.attributes`` as a post_outcome attribute.
    """

    column: str
    role: str
    kind: str | None = None
    target: str | None = None
    values: dict[str, tuple[str, str | None] | None] | None = None
    after_days: float | None = None
    keep: bool = False


@dataclass(frozen=True)
class CreatedFromOrder:
    """created_at for an export without timestamps: leads spread evenly over [start, end] in
    the order of ``column`` (numerically when every value is a number). With ``month`` (a
    column naming each row's month, as a bank's call list does), the rows are spread within the
    month they name instead: the year turns where the month goes back (dec, then mar)."""

    column: str
    start: datetime
    end: datetime
    month: str | None = None


@dataclass(frozen=True)
class FlatMapping:
    """A validated mapping file (see the module docstring)."""

    name: str
    version: int
    path: Path
    columns: dict[str, ColumnRule]
    created_from_order: CreatedFromOrder | None

    def with_role(self, role: str) -> list[ColumnRule]:
        return [rule for rule in self.columns.values() if rule.role == role]

    def timestamp_for(self, target: str) -> ColumnRule | None:
        found = [r for r in self.with_role("timestamp") if r.target == target]
        return found[0] if found else None


def load_mapping(path: str | Path) -> FlatMapping:
    """Read and validate a mapping file.

    Raises:
        LeadscoreError: naming the file and what to fix, for any problem in it.
    """
    path = Path(path)
    return _parse(read_document(path), path)


def read_document(path: Path) -> object:
    """The mapping file's YAML, every value as text.

    Raises:
        LeadscoreError: when the file is missing or not YAML.
    """
    if not path.is_file():
        raise LeadscoreError(f"Mapping file {path} does not exist: pass an existing YAML file.")
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problem = str(exc).splitlines()[0]
        raise LeadscoreError(f"Mapping {path} is not valid YAML ({problem}): fix it.") from None


def _fail(path: Path, problem: str) -> LeadscoreError:
    return LeadscoreError(f"Mapping {path}: {problem}.")


def _parse(doc: object, path: Path) -> FlatMapping:
    if not isinstance(doc, dict):
        raise _fail(path, "must be a YAML mapping with name, version, created_at and columns")
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        v2 = sorted(set(unknown) & {"files", "options", "delimiter", "encoding", "format"})
        hint = (f" ({', '.join(v2)} belong to a v2 mapping: start it with leadscore_mapping: 2)"
                if v2 else "")
        raise _fail(path, f"unknown key(s) {', '.join(unknown)}; allowed: "
                          f"{', '.join(sorted(_TOP_KEYS))}{hint}")
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail(path, "give the mapping a name (name: my-crm-export)")
    version = doc.get("version")
    if not isinstance(version, str) or not version.strip().isdigit():
        raise _fail(path, "give the mapping a whole-number version (version: 1)")
    columns = doc.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise _fail(path, "list every export column under columns: with its role")
    rules = {str(col).strip(): _rule(path, str(col).strip(), spec) for col, spec in columns.items()}
    mapping = FlatMapping(
        name=name.strip(), version=int(version), path=path, columns=rules,
        created_from_order=_created(path, doc.get("created_at"), rules),
    )
    _check_whole(mapping)
    return mapping


def _rule(path: Path, column: str, spec: object) -> ColumnRule:
    if isinstance(spec, str):
        spec = {"role": spec}
    if not isinstance(spec, dict):
        raise _fail(path, f"column {column!r} needs a role (e.g. {column}: ignore)")
    unknown = sorted(set(spec) - _COLUMN_KEYS)
    if unknown:
        raise _fail(path, f"column {column!r} has unknown key(s) {', '.join(unknown)}; allowed: "
                          f"{', '.join(sorted(_COLUMN_KEYS))}")
    role = str(spec.get("role", "")).strip()
    if role not in ROLES:
        raise _fail(path, f"column {column!r} has role {role!r}; use one of {', '.join(ROLES)}")
    kind = spec.get("kind")
    if role in ("fit", "intent") and kind not in KINDS:
        raise _fail(path, f"column {column!r} ({role}) needs kind: categorical or kind: numeric")
    if role == "post_outcome":
        kind = kind or "categorical"
        if kind not in KINDS:
            raise _fail(path, f"column {column!r} has kind {kind!r}; use categorical or numeric")
    elif kind is not None and role not in ("fit", "intent"):
        raise _fail(path, f"column {column!r}: kind applies to fit, intent and post_outcome only")
    target = spec.get("as")
    allowed = {"fit": LEAD_TARGETS, "intent": LEAD_TARGETS, "timestamp": TIME_TARGETS}.get(role)
    if role == "timestamp":
        target = target or "created_at"
    if target is not None and (allowed is None or target not in allowed):
        options = ", ".join(allowed) if allowed else "nothing (as: is for fit, intent, timestamp)"
        raise _fail(path, f"column {column!r} has as: {target!r}; it can be {options}")
    slugged = re.sub(r"[^0-9a-z]+", "_", column.lower()).strip("_")
    if slugged in PERSONAL_COLUMNS and role != "ignore" and target != "email":
        raise _fail(path, f"column {column!r} holds personal data; give it role ignore (or "
                          "as: email on a fit column to keep only the e-mail domain)")
    keep = spec.get("keep")
    if keep is not None and (keep != "post_outcome" or role not in ("disposition_reason",
                                                                      "outcome")):
        raise _fail(path, f"column {column!r}: keep: post_outcome is for the disposition_reason "
                          "and outcome columns only")
    values, after = None, None
    if role in ("disposition_reason", "outcome"):
        values = _values(path, column, role, spec.get("values"))
        after = _after_days(path, column, spec.get("after_days"))
    elif "values" in spec or "after_days" in spec:
        raise _fail(path, f"column {column!r}: values and after_days are for the "
                          "disposition_reason and outcome columns only")
    return ColumnRule(column=column, role=role, kind=kind if role in ATTRIBUTE_ROLES else None,
                      target=target, values=values, after_days=after, keep=keep is not None)


def _values(path: Path, column: str, role: str, raw: object) -> dict:
    example = ("Ringing: {status: rejected, reason_code: no_response}"
               if role == "disposition_reason" else '"1": closed_won')
    if not isinstance(raw, dict) or not raw:
        raise _fail(path, f"column {column!r} ({role}) needs values: mapping each raw value, "
                          f"e.g. {example}")
    values: dict[str, tuple[str, str | None] | None] = {}
    for key, value in raw.items():
        folded = fold(key)
        if folded in values:
            raise _fail(path, f"column {column!r} maps {key!r} twice (values match ignoring case "
                              "and repeated spaces)")
        if isinstance(value, str) and value.strip().lower() in NO_ROW:
            values[folded] = None
        elif role == "outcome":
            stage = str(value).strip().lower() if isinstance(value, str) else None
            if stage not in OUTCOME_STAGES:
                raise _fail(path, f"column {column!r} maps {key!r} to {value!r}; use a stage "
                                  f"({', '.join(OUTCOME_STAGES)}) or none")
            values[folded] = (stage, None)
        else:
            values[folded] = _disposition(path, column, key, value)
    return values


def _disposition(path: Path, column: str, key: str, value: object) -> tuple[str, str | None]:
    status = value.get("status") if isinstance(value, dict) else None
    extra = sorted(set(value) - {"status", "reason_code"}) if isinstance(value, dict) else []
    if not isinstance(status, str) or not status.strip() or extra:
        raise _fail(path, f"column {column!r} maps {key!r} to {value!r}; give "
                          "{status: ..., reason_code: ...} or none")
    reason = value.get("reason_code")
    if not isinstance(reason, str) or reason.strip().lower() in NO_ROW:
        reason = None
    elif reason.strip() == CHOOSE:
        raise _fail(path, f"column {column!r} maps {key!r} to reason_code {CHOOSE}, the "
                          "draft's placeholder: give it a reason code of the label policy "
                          "(features/label_policy.yaml, e.g. not_interested)")
    return status.strip(), reason.strip() if reason else None


def _after_days(path: Path, column: str, raw: object) -> float | None:
    if raw is None:
        return None
    try:
        days = float(raw)
    except (TypeError, ValueError):
        days = -1.0
    if not days >= 0:
        raise _fail(path, f"column {column!r}: after_days must be a number of days >= 0")
    return days


def _created(path: Path, raw: object, rules: dict[str, ColumnRule]) -> CreatedFromOrder | None:
    has_column = any(r.role == "timestamp" and r.target == "created_at" for r in rules.values())
    if raw is None:
        if not has_column:
            raise _fail(path, "say when each lead was created: a timestamp column (as: created_at)"
                              ", or created_at: {from_order: COLUMN, start: DATE, end: DATE}")
        return None
    if has_column:
        raise _fail(path, "created_at comes from a timestamp column and from created_at:; "
                          "keep one")
    if not isinstance(raw, dict) or not {"from_order", "start", "end"} <= set(raw) or \
            not set(raw) <= {"from_order", "start", "end", "month"}:
        raise _fail(path, "created_at needs from_order, start and end (and, where a column "
                          "names each row's month, month: COLUMN)")
    month = str(raw["month"]).strip() if raw.get("month") is not None else None
    if month is not None and month not in rules:
        raise _fail(path, f"created_at.month names {month!r}, a column the mapping's columns: "
                          "section does not declare; use the column that names each row's month")
    column = str(raw["from_order"]).strip()
    if column not in rules:
        rows = (" (or row number: the id is the row number, so the rows' order is used)"
                if "row number" in rules else "")
        raise _fail(path, f"created_at.from_order names {column!r}, a column the mapping's "
                          f"columns: section does not declare; use one of its column names{rows}")
    try:
        start, end = (datetime.fromisoformat(str(raw[k]).strip()) for k in ("start", "end"))
    except ValueError:
        raise _fail(path, "created_at.start and end must be dates like 2015-01-01") from None
    if end < start:
        raise _fail(path, "created_at.end comes before created_at.start")
    return CreatedFromOrder(column=column, start=start, end=end, month=month)


def _check_whole(mapping: FlatMapping) -> None:
    for role in ("id", "disposition_reason", "outcome"):
        found = mapping.with_role(role)
        if role == "id" and len(found) != 1:
            raise _fail(mapping.path, "declare exactly one column with role id (the lead_id)")
        if len(found) > 1:
            raise _fail(mapping.path, f"declare at most one {role} column")
    targets = [r.target for r in mapping.columns.values() if r.target]
    doubled = sorted({t for t in targets if targets.count(t) > 1})
    if doubled:
        raise _fail(mapping.path, f"more than one column is mapped as: {', '.join(doubled)}")
    for role, target in (("disposition_reason", "dispositioned_at"), ("outcome", "outcome_at")):
        for rule in mapping.with_role(role):
            if rule.after_days is None and mapping.timestamp_for(target) is None:
                raise _fail(mapping.path, f"column {rule.column!r} needs after_days (its time "
                                          f"after created_at) or a timestamp column as: {target}")
