"""A harvester-only host has what the harvester imports: its requirements cover its imports.

City IT may run the harvesters on a host without CKAN (``pip install .``). There,
only ``HARVEST_REQUIRES`` of ``setup.py`` is installed; a module the harvester
(or the contract) imports that only CKAN's extras pull in works on the portal's
host and fails on theirs. rdflib was such a module (the DCAT reader).
"""

from __future__ import annotations

import ast
import sys
from importlib.metadata import packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = [ROOT / "harvesters" / "vierstaedte_harvest", ROOT / "schemas" / "vierstaedte_contract"]
OURS = {"vierstaedte_harvest", "vierstaedte_contract"}


def _requirements() -> set[str]:
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "HARVEST_REQUIRES" for t in node.targets
        ):
            return {Requirement(ast.literal_eval(e)).name.lower() for e in node.value.elts}
    raise AssertionError("setup.py has no HARVEST_REQUIRES")


def _closure(names: set[str]) -> set[str]:
    """The distributions and everything they require (without extras)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        for line in requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def _imports(package: Path) -> set[str]:
    found = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - OURS - set(sys.stdlib_module_names)


def test_every_third_party_import_of_the_harvester_is_a_harvest_requirement():
    installed = _closure(_requirements())
    distributions = packages_distributions()
    missing = {}
    for module in sorted(set().union(*(_imports(p) for p in PACKAGES))):
        providers = {d.lower().replace("_", "-") for d in distributions.get(module, [])}
        if not providers & installed:
            missing[module] = sorted(providers) or ["(not installed at all)"]
    assert not missing, f"imported by the harvester/contract, not in HARVEST_REQUIRES: {missing}"
