"""The benchmarks still run: ``bench/run --tiny`` runs each one at a toy size and prints its summary.

No timing assertions (the figures live in docs/performance.md); this only keeps
bench/ from rotting. It uses the benchmarks' own test slot (databases
``ckan_benchtest*``, Solr cores ``ckan_benchtest*``, ports 5020–5022), never the
portal's or the test suite's databases.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["run", "benchstack", "normalise", "harvest", "source", "peer_harvest", "load"]


def test_benchmarks_import_as_a_package_and_leave_sys_path_alone():
    check = (
        "import importlib, sys\n"
        "before = list(sys.path)\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module('bench.' + name)\n"
        "    assert sys.path == before, (name, sys.path)\n"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]


def test_bench_run_tiny_prints_the_summary_table(tmp_path):
    # the documented command, from another folder: bench/run finds its package itself
    venv = Path(sys.executable).parent.parent
    result = subprocess.run(
        [str(ROOT / "bench" / "run"), "--tiny"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env=dict(os.environ, VIERSTAEDTE_VENV=str(venv)),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    summary = out.split("## summary", 1)[1]
    assert "normalise" in summary
    assert "ckanext-harvest" in summary and "re-run" in summary
    for endpoint in ("package_search", "dataset page", "datastore_search", "indicator_query"):
        assert endpoint in summary
    assert (
        "ckanext-harvest 1.6.3" in out and "3/6/0" in out
    )  # the peer published all 3 datasets, links only
