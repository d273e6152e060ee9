"""Fixtures for the bad-input tests: the live CKAN and harvest fixtures of the integration tests."""
from tests.integration.conftest import *  # noqa: F401,F403 - ckan_server, platform, harvest
