"""Realistic, seeded demo CRM exports with planted, documented ground truth.

``generate_export`` writes the four contract tables (see ``features.contract``) the way a CRM
exports them, dirt included; ``generate_frames`` returns the same data as DataFrames, with the
planted truth beside it. How the truth is planted: ``generator.planted`` and
docs/generator.md.
"""

from generator.export import (
    CHUNK_LEADS,
    GeneratedExport,
    GenerateSummary,
    generate_export,
    generate_frames,
)
from generator.planted import PLANTED_SIGNALS

__all__ = [
    "CHUNK_LEADS",
    "GenerateSummary",
    "GeneratedExport",
    "PLANTED_SIGNALS",
    "generate_export",
    "generate_frames",
]
