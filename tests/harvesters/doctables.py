"""The tables of the docs that tests hold the code to: each follows a marker ``<!-- NAME -->``."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def marked_table(path: Path, name: str) -> list[list[str]]:
    """The body rows (cells stripped) of the Markdown table after ``<!-- name -->`` in ``path``."""
    text = path.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {re.escape(name)} -->\n\n((?:\|.*\n)+)", text)
    assert found, f"{path.name} has no table after <!-- {name} -->"
    lines = found[1].splitlines()[2:]  # header and rule
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]
