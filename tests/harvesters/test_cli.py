"""The CLI process: it never loads CKAN, also where CKAN is installed beside it (as in this venv)."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
from vierstaedte_harvest import cli
cli._keep_ckan_out()
import ckanapi
import vierstaedte_harvest.run
print(json.dumps({"ckan_modules": sorted(m for m in sys.modules if m == "ckan" or m.startswith("ckan.")
                                         if sys.modules[m] is not None),
                  "not_found": ckanapi.NotFound.__module__,
                  "search_index_error_is_ckanapi_error": issubclass(ckanapi.SearchIndexError,
                                                                     ckanapi.CKANAPIError)}))
"""


def test_the_harvester_process_runs_without_ckan_even_where_it_is_installed():
    import ckan  # noqa: F401  (this venv has CKAN: the probe would import it, but for the CLI's guard)

    probe = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = json.loads(probe.stdout)
    assert loaded == {
        "ckan_modules": [],
        "not_found": "ckanapi.errors",
        "search_index_error_is_ckanapi_error": True,
    }


def test_a_process_that_runs_ckan_keeps_it():
    from vierstaedte_harvest import cli

    cli._keep_ckan_out()  # pytest runs inside CKAN
    import ckan.logic

    assert sys.modules["ckan"] is not None
    assert ckan.logic.NotFound
