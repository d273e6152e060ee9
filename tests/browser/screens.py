"""Where the browser tests put their screenshots, for a reviewer to look at.

One folder per stack: ``$VIERSTAEDTE_STACK_DIR/screenshots/`` (``.stack/screenshots/`` by
default), emptied at the start of each test session; the session's summary prints its path.
Tests take it as the ``screenshots`` fixture (tests/browser/conftest.py) or call
:func:`shoot`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS_DIR = Path(os.environ.get("VIERSTAEDTE_STACK_DIR", ROOT / ".stack")) / "screenshots"


def shoot(page, name: str, full_page: bool = True) -> Path:
    """A screenshot of ``page`` as ``<name>.png`` in the screenshots folder; its path."""
    path = SCREENSHOTS_DIR / (re.sub(r"[^\w.-]+", "-", name).strip("-") + ".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path
