"""Walls that hold: each of the four packages imports only what its place allows, and no cycle.

* The harvester (``vierstaedte_harvest``) runs on a city's machine without CKAN and talks to the
  portal over the Action API only: it never imports ``ckan`` or ``ckanext``.
* The extension (``ckanext.vierstaedte``) serves what the harvester published; it never imports
  the harvester.
* The contract (``vierstaedte_contract``) is what both share: it imports neither wing, and
  nothing outside the standard library when it is imported (third-party code it may need is
  imported inside the function that needs it).
* The MCP server (``vierstaedte_mcp``) is a client of the portal's tool API: it imports
  neither wing, so it runs on a desktop without CKAN or the harvester.
* Inside each package the modules import each other in one direction: no cycle.

Read from the source (every import statement, also those inside functions: an import that
waits for a call is still a dependency), and for the harvester and the contract also at run
time, in a fresh interpreter, so that no indirect import slips through. Each checker is shown
failing on a small package written for the purpose, so a wall cannot pass by checking nothing.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HARVESTER, EXTENSION, CONTRACT, MCP = (
    "vierstaedte_harvest",
    "ckanext.vierstaedte",
    "vierstaedte_contract",
    "vierstaedte_mcp",
)
FORBIDDEN = {
    HARVESTER: ("ckan", "ckanext"),
    EXTENSION: ("vierstaedte_harvest",),
    CONTRACT: ("ckan", "ckanext", "vierstaedte_harvest"),
    MCP: ("ckan", "ckanext", "vierstaedte_harvest"),
}


@dataclasses.dataclass(frozen=True)
class Import:
    module: str  # the importing module
    name: str  # what it imports, absolute (``a.b`` for ``from a import b``: maybe a submodule)
    line: int
    top_level: bool  # run when the module is imported (not inside a function or class body)

    def __str__(self) -> str:
        return f"{self.module} (line {self.line}) imports {self.name}"


def package_root(package: str) -> Path:
    """The folder of an installed package, wherever the layout puts it."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, f"{package} is not installed"
    return Path(next(iter(spec.submodule_search_locations)))


def modules(package: str, root: Path) -> dict[str, Path]:
    """Module name → source file, for every module of the package in ``root``."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = (*package.split("."), *path.relative_to(root).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(package: str, root: Path) -> list[Import]:
    """Every import statement of the package, relative ones made absolute."""
    found = []
    for module, path in modules(package, root).items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        here = module if path.name == "__init__.py" else module.rpartition(".")[0]
        top = {id(node) for node in _module_level(tree)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
                    base = f"{anchor}.{base}" if base else anchor
                names = [
                    base,
                    *(f"{base}.{alias.name}" for alias in node.names if alias.name != "*"),
                ]
            else:
                continue
            found += [Import(module, name, node.lineno, id(node) in top) for name in names]
    return found


def _module_level(tree: ast.Module):
    """The statements run on import: the module body, into ``if``/``try``/``with`` blocks."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            pending += [
                child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)
            ]
            if isinstance(node, ast.Try):
                pending += [s for handler in node.handlers for s in handler.body]


def _top(name: str) -> str:
    return name.split(".")[0]


def breaches(package: str, root: Path, forbidden: tuple[str, ...]) -> list[str]:
    """The package's imports of a forbidden package (its top-level name or a submodule of it)."""
    return sorted(
        {
            str(i)
            for i in imports(package, root)
            if any(i.name == f or i.name.startswith(f + ".") for f in forbidden)
        }
    )


def outside_stdlib(package: str, root: Path) -> list[str]:
    """Imports run when the package is imported that are neither the standard library nor itself."""
    return sorted(
        {
            str(i)
            for i in imports(package, root)
            if i.top_level
            and _top(i.name) not in sys.stdlib_module_names
            and _top(i.name) != _top(package)
            and i.name != "__future__"
        }
    )


def cycle(package: str, root: Path) -> list[str] | None:
    """A cycle of imports between the package's modules (its first module again at the end)."""
    known = modules(package, root)
    graph: dict[str, set[str]] = {name: set() for name in known}
    for i in imports(package, root):
        if i.name in known and i.name != i.module:
            graph[i.module].add(i.name)
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return path[path.index(name) :] + [name]
        if name in done:
            return None
        for other in sorted(graph[name]):
            if found := visit(other, [*path, name]):
                return found
        done.add(name)
        return None

    return next((found for name in sorted(graph) if (found := visit(name, []))), None)


_PROBE = """
import importlib, importlib.abc, json, sys

hidden = set(json.loads(sys.argv[1]))


class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in hidden:
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the probe)", name=name)


sys.meta_path.insert(0, Hide())
before = set(sys.modules)
for name in sys.argv[2:]:
    importlib.import_module(name)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def import_all(
    package: str, root: Path, hide: tuple[str, ...] = (), path: Path | None = None
) -> tuple[set[str], str]:
    """Import every module of the package in a fresh interpreter in which ``hide`` is not installed.

    Returns the modules that loaded, and the error if an import failed (else ``""``). Hiding is
    how the package runs where it is deployed (a city's machine has no CKAN); without it, a
    library that only tries CKAN when it is there (``ckanapi.errors``) would load it in the
    test environment, which has CKAN. ``path`` goes first on ``sys.path``.
    """
    command = [sys.executable, "-c", _PROBE, json.dumps(hide), *modules(package, root)]
    env = None if path is None else {"PYTHONPATH": str(path)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    if done.returncode:
        return set(), done.stderr
    return set(json.loads(done.stdout)), ""


# --- the walls of the three packages -----------------------------------------------------


@pytest.mark.parametrize("package", FORBIDDEN)
def test_no_package_imports_what_its_wall_forbids(package):
    assert breaches(package, package_root(package), FORBIDDEN[package]) == []


def test_the_whole_harvester_imports_without_ckan():
    found, error = import_all(HARVESTER, package_root(HARVESTER), hide=FORBIDDEN[HARVESTER])
    assert error == ""
    assert HARVESTER in found and "ckanapi" in found  # it did import, and its client too
    assert sorted(m for m in found if _top(m) in FORBIDDEN[HARVESTER]) == []


def test_the_whole_mcp_server_imports_without_either_wing():
    found, error = import_all(MCP, package_root(MCP), hide=FORBIDDEN[MCP])
    assert error == ""
    assert MCP in found and "mcp.server.lowlevel" in found  # it did import, and the SDK too
    assert sorted(m for m in found if _top(m) in FORBIDDEN[MCP]) == []


def test_the_contract_imports_only_the_standard_library_on_import():
    root = package_root(CONTRACT)
    assert outside_stdlib(CONTRACT, root) == []
    found, error = import_all(CONTRACT, root, hide=FORBIDDEN[CONTRACT])
    assert error == "" and CONTRACT in found
    assert sorted(m for m in found if _top(m) not in (*sys.stdlib_module_names, CONTRACT)) == []


@pytest.mark.parametrize("package", FORBIDDEN)
def test_no_import_cycle_inside_a_package(package):
    assert cycle(package, package_root(package)) is None


# --- each checker can fail ---------------------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    """A package ``fake`` in ``tmp_path`` with these modules (name → source)."""
    root = tmp_path / "fake"
    for name, source in {"__init__": "", **files}.items():
        path = root / f"{name.replace('.', '/')}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root


def test_the_wall_check_finds_a_forbidden_import_even_inside_a_function(tmp_path):
    root = _package(
        tmp_path,
        {
            "sources/__init__": "",
            "sources/portal": "def read():\n    from ckan.lib import helpers\n",
            "publish": "from . import sources\nimport ckanext.vierstaedte.plugin as plugin\n",
            "fine": "import ckanapi\n",  # the Action API client is not CKAN
        },
    )
    assert breaches("fake", root, FORBIDDEN[HARVESTER]) == [
        "fake.publish (line 2) imports ckanext.vierstaedte.plugin",
        "fake.sources.portal (line 2) imports ckan.lib",
        "fake.sources.portal (line 2) imports ckan.lib.helpers",
    ]


def test_the_run_time_check_sees_an_indirect_import(tmp_path):
    root = _package(tmp_path, {"a": "from fake import b\n", "b": "import yaml\n"})
    found, error = import_all("fake", root, hide=("yaml",), path=tmp_path)
    assert "No module named 'yaml' (hidden by the probe)" in error
    assert 'fake/b.py", line 1' in error  # the traceback names the import
    found, error = import_all("fake", root, path=tmp_path)
    assert error == "" and {"fake.a", "fake.b", "yaml"} <= found


def test_the_standard_library_check_finds_a_third_party_import_on_import(tmp_path):
    root = _package(
        tmp_path,
        {
            "table": "import json\ntry:\n    import yaml\nexcept ImportError:\n    yaml = None\n",
            "lazy": "def load():\n    import frictionless\n",  # on call only: allowed
        },
    )
    assert outside_stdlib("fake", root) == ["fake.table (line 3) imports yaml"]


def test_the_cycle_check_names_the_cycle(tmp_path):
    root = _package(
        tmp_path,
        {
            "run": "from fake import publish\n",
            "publish": "from fake.report import write\n",
            "report": "def write():\n    from fake import run\n",
            "cli": "from fake import run\n",
        },
    )
    assert cycle("fake", root) == ["fake.run", "fake.publish", "fake.report", "fake.run"]
    (root / "report.py").write_text("def write():\n    pass\n", encoding="utf-8")
    assert cycle("fake", root) is None
