"""The label policy: the versioned mapping from sales verdicts and outcomes to training labels.

The policy is data (``features/label_policy.yaml`` ships the default; a team passes its own file
through ``labels.policy`` in the config). This module loads and validates it and answers "which
family does this verdict belong to"; ``features.labels`` applies it to the store.

Example:
    >>> policy = load_policy()
    >>> policy.family("rejected", "wrong_title")
    'fit_negative'
    >>> policy.family("meeting_booked", None)
    'positive'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from features.contract import is_placeholder
from leadscore.errors import LeadscoreError

FAMILIES = ("positive", "fit_negative", "intent_negative", "excluded", "open")
SECTIONS = ("outcome_stages", "statuses", "reason_codes")
SHIPPED = "features/label_policy.yaml"

# Only a status may map to null: it then needs a reason code on every disposition.
_NULLABLE = frozenset({"statuses"})


@dataclass(frozen=True)
class LabelPolicy:
    """A validated label policy.

    Attributes:
        version: the policy's own version number (the file's ``version``).
        outcome_stages: outcome stage -> family.
        statuses: disposition status -> family used when the reason code is empty (None: the status
            needs a reason code).
        reason_codes: reason code -> family; a non-empty reason code decides over its status.
        source: the file the policy came from (named in every error about it).
        hash: sha256 of the policy's canonical content; logged with every model.
    """

    version: int
    outcome_stages: Mapping[str, str]
    statuses: Mapping[str, str | None]
    reason_codes: Mapping[str, str]
    source: str
    hash: str

    @property
    def short_hash(self) -> str:
        """The first 12 hex characters of ``hash``: enough to tell policies apart in reports."""
        return self.hash[:12]

    @property
    def is_shipped(self) -> bool:
        return self.source == SHIPPED

    def family(self, status: str | None, reason_code: str | None) -> str | None:
        """The family of one disposition: a reason code decides; an empty one defers to the status.

        Returns None when the code (or, for an empty reason code, the status) is unknown to the
        policy or the status needs a reason code.
        """
        if not is_placeholder(reason_code):
            return self.reason_codes.get(str(reason_code).strip())
        if status is None:
            return None
        return self.statuses.get(str(status).strip())

    def stage_family(self, stage: str | None) -> str | None:
        """The family of an outcome stage, or None when the policy does not know it."""
        if stage is None:
            return None
        return self.outcome_stages.get(str(stage).strip())


def _fail(source: str, problem: str) -> LeadscoreError:
    return LeadscoreError(
        f"Label policy {source} {problem}: fix the file (see the shipped {SHIPPED} for the format)."
    )


def _section(content: dict[str, Any], name: str, source: str) -> dict[str, str | None]:
    raw = content.get(name)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise _fail(source, f"has a '{name}' that is not a mapping of code: family")
    out: dict[str, str | None] = {}
    for code, family in raw.items():
        # YAML reads bare yes/no/on/off/numbers as non-strings: such a code must be quoted.
        if not isinstance(code, str) or not code.strip() or code != code.strip():
            raise _fail(
                source, f"has a code {code!r} in '{name}' that is not a plain string (quote it)"
            )
        if family is None and name in _NULLABLE:
            out[code] = None
            continue
        if family not in FAMILIES:
            allowed = ", ".join(FAMILIES) + (" or null" if name in _NULLABLE else "")
            raise _fail(
                source, f"maps '{code}' in '{name}' to {family!r}, which is not one of {allowed}"
            )
        out[code] = family
    return out


def parse_policy(content: Any, source: str) -> LabelPolicy:
    """Validate already-parsed policy content (the YAML document as Python data).

    Raises:
        LeadscoreError: when the content is not a valid policy; the message names ``source``.
    """
    if not isinstance(content, dict):
        raise _fail(
            source, "is not a YAML mapping with version, outcome_stages, statuses, reason_codes"
        )
    unknown = sorted(str(k) for k in set(content) - {"version", *SECTIONS})
    if unknown:
        raise _fail(
            source,
            f"has unknown key(s) {', '.join(unknown)} (allowed: version, {', '.join(SECTIONS)})",
        )
    version = content.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _fail(source, f"needs an integer 'version', found {version!r}")
    sections = {name: _section(content, name, source) for name in SECTIONS}
    if not sections["reason_codes"] and not sections["statuses"]:
        raise _fail(
            source, "maps no reason codes and no statuses, so no disposition can be labelled"
        )
    canonical = json.dumps(
        {"version": version, **sections}, sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return LabelPolicy(
        version=version,
        outcome_stages=MappingProxyType(sections["outcome_stages"]),  # type: ignore[arg-type]
        statuses=MappingProxyType(sections["statuses"]),
        reason_codes=MappingProxyType(sections["reason_codes"]),  # type: ignore[arg-type]
        source=source,
        hash=hashlib.sha256(canonical.encode()).hexdigest(),
    )


def load_policy(path: str | Path | None = None) -> LabelPolicy:
    """Load and validate a label policy file; None loads the shipped ``features/label_policy.yaml``.

    The hash covers the policy's meaning, not its layout: comments, key order and formatting do not
    change it; any added, removed or remapped code does.

    Raises:
        LeadscoreError: when the file is missing, is not YAML, or is not a valid policy.
    """
    if path is None:
        text = resources.files("features").joinpath("label_policy.yaml").read_text()
        source = SHIPPED
    else:
        file = Path(path)
        source = str(file)
        if not file.is_file():
            raise LeadscoreError(
                f"Label policy file {file} does not exist: pass an existing YAML file "
                f"(start from a copy of the shipped {SHIPPED})."
            )
        text = file.read_text()
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise _fail(source, f"is not valid YAML ({problem})") from None
    return parse_policy(content, source)
