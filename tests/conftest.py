"""Every test process gets its own live store: nothing a test scores lands in the repo's data/."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault(
    "LEADSCORE_LIVE_URL",
    f"sqlite:///{Path(tempfile.mkdtemp(prefix='leadscore-tests-')) / 'live.db'}",
)
