"""Files the product writes for people to read (a report, a draft mapping): whole or not at all."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` beside it first, then move it in place: a full disk or a folder
    that refuses new files raises ``OSError`` and leaves whatever was at ``path`` as it was."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:  # named by the file asked for, not the one beside it
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
