"""Fixtures of the docker/ tests: the compose model and the suite's CKAN settings.

The helpers the tests import are in ``tools.py``: nobody imports a conftest module.
"""

from __future__ import annotations

import json

import pytest

from .tools import run_compose


@pytest.fixture(scope="session")
def compose_model() -> dict:
    """The compose file as docker compose resolves it with .env.example."""
    result = run_compose("config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def ckan_test_config(pytestconfig) -> dict:
    """The suite's CKAN settings (scripts/test's test.ini) and the file's path."""
    from ckan.common import config

    return {"ini": pytestconfig.getoption("ckan_ini"), **dict(config)}
