"""Fixtures for the harvester tests: file paths and mapping loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harvesters.paths import MAPPINGS, REAL
from vierstaedte_harvest import mapping


@pytest.fixture
def fetcher():
    """A fetcher for the replay server on 127.0.0.1: loopback allowed, no retries, short timeouts."""
    from vierstaedte_harvest.fetch import Fetcher, HttpSettings

    return Fetcher(HttpSettings(allow_private_addresses=True, retries=0, backoff=0, timeout=2))


@pytest.fixture
def fixture_mapping():
    """A mapping shipped with the harvesters (the fixtures are tables those mappings are made for)."""

    def load(name: str) -> mapping.Mapping:
        return mapping.load(MAPPINGS / f"{name}.yaml")

    return load


@pytest.fixture
def real_fixture():
    def path(name: str) -> Path:
        found = REAL / name
        if not found.exists():
            pytest.fail(
                f"shared fixture {found} is missing: the repository expects ../shared next to it"
            )
        return found

    return path
