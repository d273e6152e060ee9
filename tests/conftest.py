"""Test set-up shared by all tests.

The suite needs the real services; when one is missing it stops at once with
a message naming the service and the command that starts it, instead of
skipping tests.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
import requests
import sqlalchemy

# fixtures shared by every folder, as plugins (nobody imports a conftest): the in-process CKAN
# (empty DataStore, cities, a city's editor) and the live CKAN with the harvester
pytest_plugins = ("tests.fixtures", "tests.live")


def _without_password(url: str) -> str:
    """A service URL fit for a message: the Redis URL carries the app user's password."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def _service_problems(config) -> list[str]:
    problems = []
    try:
        engine = sqlalchemy.create_engine(config["sqlalchemy.url"])
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure means "not usable"
        problems.append(f"PostgreSQL ({error.__class__.__name__}: {str(error).splitlines()[0]})")
    try:
        credentials = (
            (config["solr_user"], config["solr_password"]) if config.get("solr_password") else None
        )
        response = requests.get(
            config["solr_url"].rstrip("/") + "/admin/ping",
            params={"wt": "json"},
            auth=credentials,
            timeout=5,
        )
        response.raise_for_status()
    except Exception as error:  # noqa: BLE001
        problems.append(f"Solr at {config['solr_url']} ({error})")
    try:
        redis.Redis.from_url(config["ckan.redis.url"], socket_timeout=3).ping()
    except Exception as error:  # noqa: BLE001
        problems.append(f"Redis at {_without_password(config['ckan.redis.url'])} ({error})")
    return problems


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    from ckan.common import config

    if not config.get("sqlalchemy.url"):
        pytest.exit(
            "No CKAN config loaded: run the tests with scripts/test (it passes --ckan-ini).",
            returncode=3,
        )
    problems = _service_problems(config)
    if problems:
        pytest.exit(
            "Required services are not reachable: "
            + "; ".join(problems)
            + ". Start them with `scripts/stack services` or run the suite with `scripts/test`.",
            returncode=3,
        )


@pytest.fixture
def clean_db(reset_db, migrate_db_for):
    """CKAN's clean_db, plus the tables of plugins that bring their own migrations; the
    observation store is emptied with it (its rows cite datasets of this database)."""
    from ckanext.vierstaedte.observations import store

    reset_db()
    migrate_db_for("activity")
    migrate_db_for("vierstaedte")
    store.clear()


DEMO = Path(__file__).resolve().parents[1] / "demo"


@pytest.fixture
def replay(tmp_path):
    """The demo's recorded city-portal payloads, copied so a test may change them, served on 127.0.0.1."""
    from demo.replay import ReplayServer

    root = tmp_path / "replay"
    shutil.copytree(DEMO / "payloads", root)
    with ReplayServer(root) as server:
        yield server
