"""The installable package carries its data: a wheel built from the repo has every non-Python file
it needs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# what a fresh clone lacks: a checkout's build/ would put files that have moved away into the wheel
LOCAL = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".stack",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".hypothesis",
    "node_modules",
)


def test_wheel_contains_schemas_configs_templates_and_migrations(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=LOCAL)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("vierstaedte-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = [
        "vierstaedte_contract/data/city-statistics.schema.json",
        "vierstaedte_contract/data/indicators.csv",
        "vierstaedte_contract/data/areas/mainz.csv",
        "vierstaedte_contract/data/datapackage.template.json",
        "vierstaedte_contract/data/licenses.json",
        "vierstaedte_contract/data/cities.json",
        "vierstaedte_contract/table.py",
        "vierstaedte_harvest/cities/mainz.yaml",
        "vierstaedte_harvest/cities/koblenz-manifest.yaml",
        "vierstaedte_harvest/mappings/trier-bevoelkerung-alter.yaml",
        "ckanext/vierstaedte/schemas/dataset.yaml",
        "ckanext/vierstaedte/config_declaration.yml",
        "ckanext/vierstaedte/templates/home/index.html",
        "ckanext/vierstaedte/migration/vierstaedte/alembic.ini",
        "ckanext/vierstaedte/i18n/en/LC_MESSAGES/ckanext-vierstaedte.mo",
        "ckanext/vierstaedte/i18n/de/LC_MESSAGES/ckanext-vierstaedte.mo",
    ]
    missing = [name for name in expected if name not in names]
    assert not missing, f"not in the wheel: {missing}"
    assert not any(name.startswith(("tests/", "demo/", ".stack")) for name in names)
    assert "vierstaedte_harvest/replay.py" not in names  # the demo's server stays in the checkout
