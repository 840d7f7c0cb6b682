"""The OpenAPI document's title page describes leadscore's API, not BentoML's boilerplate."""

from __future__ import annotations

from leadscore import __version__
from serving.service import LeadScorer


def test_the_document_carries_leadscores_version_and_description():
    info = LeadScorer.openapi_spec.info
    assert info.version == __version__  # BentoML writes "None" outside a built Bento
    assert "/score" in info.description and "LEADSCORE_API_KEYS" in info.description
    assert "BentoML Slack" not in info.description
