"""docs/architecture.md stays a true map: every module has a row, every path it names exists.

A module added without a row in the module → tests table, or a test file renamed under the
table's feet, fails here, so the map a newcomer reads is the tree they find.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs/architecture.md"
PACKAGES = {
    "vierstaedte_contract": ROOT / "schemas/vierstaedte_contract",
    "vierstaedte_harvest": ROOT / "harvesters/vierstaedte_harvest",
    "ckanext.vierstaedte": ROOT / "ckanext-vierstaedte/ckanext/vierstaedte",
    "vierstaedte_mcp": ROOT / "servers/vierstaedte_mcp",
}


def _module_table() -> dict[str, set[str]]:
    """Package → the names in the first column of its rows (``logic/tables``, ``migration/``)."""
    text = DOC.read_text(encoding="utf-8")
    rows = text[text.index("## Module → tests") :].splitlines()
    named: dict[str, set[str]] = {}
    package = None
    for row in rows:
        if not row.startswith("| "):
            continue
        first = row.split("|")[1]
        heading = re.match(r"\s*\*\*(`([\w.]+)`)?", first)
        if heading:
            package = heading.group(2)
            if package:
                named.setdefault(package, set())
        elif package in PACKAGES:
            named[package] |= set(re.findall(r"`([^`]+)`", first.split("(")[0]))
    return named


def _modules(base: Path) -> set[str]:
    """The package's modules as the table names them; ``__init__`` files only if they hold code."""
    found = set()
    for path in base.rglob("*.py"):
        relative = path.relative_to(base)
        if relative.parts[0] == "migration":
            continue
        text = path.read_text(encoding="utf-8")
        if path.name == "__init__.py" and not re.search(r"^(def|class|[A-Z_]+ =) ", text, re.M):
            continue
        found.add(relative.with_suffix("").as_posix())
    return found


def test_every_module_has_a_row_in_the_module_table():
    table = _module_table()
    assert table.keys() == PACKAGES.keys()
    for package, base in PACKAGES.items():
        missing = sorted(_modules(base) - table[package])
        assert not missing, f"docs/architecture.md has no row for {package}: {missing}"
        for name in table[package]:
            assert (base / f"{name}.py").exists() or (base / name).exists(), (package, name)


def test_every_path_the_map_names_exists():
    text = DOC.read_text(encoding="utf-8")
    head, table = text.split("## Module → tests")
    # the module table's first column names modules within their package (checked above)
    text = head + "\n".join(row.split("|", 2)[-1] for row in table.splitlines())
    # paths from the top of the checkout; those with a placeholder (``<city>``) do not match
    paths = set(
        re.findall(r"`((?:tests|docs|scripts|schemas|harvesters|servers|demo|bench)/[^`<]+)`", text)
    )
    assert "tests/test_architecture.py" in paths
    missing = sorted(name for name in paths if not (ROOT / name.split(" ")[0]).exists())
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"
