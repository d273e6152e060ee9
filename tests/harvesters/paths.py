"""Where the harvester tests find their files: recorded tables, shipped mappings, real files."""

from __future__ import annotations

from pathlib import Path

from vierstaedte_harvest import mapping

FIXTURES = Path(__file__).parent / "fixtures"
REAL = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real"
MAPPINGS = Path(mapping.__file__).parent / "mappings"
