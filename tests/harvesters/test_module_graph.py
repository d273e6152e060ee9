"""The harvester's modules import each other in one direction, the command line on top.

Read from the source (every import statement, also those inside functions), not from what one
import happens to load. That no package has a cycle at all is ``tests/test_architecture.py``'s.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import vierstaedte_harvest

PACKAGE = Path(vierstaedte_harvest.__file__).parent
CLI = "vierstaedte_harvest.cli"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _graph() -> dict[str, set[str]]:
    """Module → the harvester modules it imports anywhere in its source."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module)
                imported |= {f"{node.module}.{alias.name}" for alias in node.names}
        graph[name] = {other for other in imported & modules.keys() if other != name}
    return graph


def test_only_the_command_line_knows_exit_codes():
    graph = _graph()
    assert not [name for name, imported in graph.items() if CLI in imported]
    speaking = [
        path.name for path in PACKAGE.rglob("*.py") if "EXIT_" in path.read_text(encoding="utf-8")
    ]
    assert speaking == ["cli.py"]


def test_every_module_imports_alone_in_a_fresh_interpreter():
    probe = "import importlib, sys; importlib.import_module(sys.argv[1])"
    running = {
        name: subprocess.Popen(
            [sys.executable, "-c", probe, name], stderr=subprocess.PIPE, text=True
        )
        for name in _modules()
    }
    failed = {name: process.communicate(timeout=120)[1] for name, process in running.items()}
    assert {name: error for name, error in failed.items() if running[name].returncode} == {}
