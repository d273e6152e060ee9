"""The benchmarks still run: ``bench/run --tiny`` runs each one at a toy size and prints its summary.

No timing assertions (the figures live in docs/performance.md); this only keeps
bench/ from rotting. It uses the benchmarks' own test slot (databases
``ckan_benchtest*``, Solr cores ``ckan_benchtest*``, ports 5020–5022), never the
portal's or the test suite's databases.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_run_tiny_prints_the_summary_table():
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--tiny"], capture_output=True,
                            text=True, timeout=900, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    summary = out.split("## summary", 1)[1]
    assert "normalise" in summary
    assert "ckanext-harvest" in summary and "re-run" in summary
    for endpoint in ("package_search", "dataset page", "datastore_search", "indicator_query"):
        assert endpoint in summary
    assert "ckanext-harvest 1.6.3" in out and "3/6/0" in out  # the peer published all 3 datasets, links only
