"""End-to-end fixtures: a live CKAN (gunicorn on the test config), the cities, harvester tokens.

A pytest plugin of the whole suite (``tests/conftest.py`` names it in ``pytest_plugins``), so
the session has one ``ckan_server`` whichever folders run: a copy per folder started a second
gunicorn that could not bind the port and overwrote the server log.

The harvesters talk HTTP to a real CKAN process that shares the test
databases with this test process, so a test can set the stage in-process
(clean databases, city organisations, harvester users) and then run the real
``vierstaedte-harvest`` command against it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.harvesting import CITIES, DEMO, DEMO_CITIES, run_command, write_configs

CKAN_PORT = 5001  # the test profile's ckan.site_url


@pytest.fixture(scope="session")
def ckan_server(request):
    """CKAN served by gunicorn from the test config, for the whole session."""
    ini = request.config.getoption("--ckan-ini")
    url = f"http://127.0.0.1:{CKAN_PORT}"
    log = open(Path(ini).parent / "log" / "ckan-test-server.log", "w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--bind",
            f"127.0.0.1:{CKAN_PORT}",
            "--workers",
            "2",
            "--timeout",
            "120",
            "ckanext.vierstaedte.wsgi:application",
        ],
        env=dict(os.environ, CKAN_INI=str(Path(ini).resolve())),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the CKAN test server exited with {process.returncode}; see {log.name}")
        try:
            if requests.get(f"{url}/api/3/action/status_show", timeout=2).ok:
                break
        except requests.RequestException:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail(f"the CKAN test server did not answer within 90 s; see {log.name}")
    yield url
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)
    log.close()


def harvest_demo(ckan_server, reset_db, reset_index, migrate_db_for, tmp: Path) -> None:
    """The demo's four cities harvested by the real command into freshly reset databases.

    For a module-scoped fixture that reads the demo many times (the AI tools, search): it loads
    the plugins, which the caller unloads when its module is done.
    """
    import shutil

    import ckan.plugins
    from ckan.tests import factories
    from ckanext.datastore.tests import helpers as datastore_helpers

    from ckanext.vierstaedte import seed
    from ckanext.vierstaedte.observations import store as observation_store
    from demo.replay import ReplayServer

    ckan.plugins.load_all()
    reset_db()
    migrate_db_for("activity")
    migrate_db_for("vierstaedte")
    reset_index()
    engine = datastore_helpers.db.get_write_engine()
    datastore_helpers.rebuild_all_dbs(
        datastore_helpers.orm.scoped_session(datastore_helpers.orm.sessionmaker(bind=engine))
    )
    observation_store.clear()  # its own schema: what empties ``public`` leaves it
    sysadmin = factories.Sysadmin()
    seed.ensure_cities({"user": sysadmin["name"]}, echo=lambda _: None)
    shutil.copytree(DEMO / "payloads", tmp / "replay")
    with ReplayServer(tmp / "replay") as replay:
        configs = write_configs(replay.base, tmp / "configs")
        for city in DEMO_CITIES:
            token = tmp / f"{city}.token"
            seed.ensure_harvester(city, str(token), echo=lambda _: None)
            done = run_command(city, configs / f"{city}.yaml", ckan_server, tmp / "state", token)
            assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def platform(ckan_server, with_plugins, clean_db, clean_index, tmp_path):
    """Empty CKAN with the four cities, a harvester user and token per city, and a sysadmin token."""
    from ckan.tests import factories
    from ckanext.datastore.tests import helpers as datastore_helpers

    from ckanext.vierstaedte import seed

    engine = datastore_helpers.db.get_write_engine()
    datastore_helpers.rebuild_all_dbs(
        datastore_helpers.orm.scoped_session(datastore_helpers.orm.sessionmaker(bind=engine))
    )
    sysadmin = factories.SysadminWithToken()
    seed.ensure_cities({"user": sysadmin["name"]}, echo=lambda _: None)
    tokens = {}
    for city in CITIES:
        tokens[city] = tmp_path / f"{city}.token"
        seed.ensure_harvester(city, str(tokens[city]), echo=lambda _: None)
    admin = tmp_path / "admin.token"
    admin.write_text(sysadmin["token"])
    return {
        "url": ckan_server,
        "tokens": tokens,
        "admin_token": sysadmin["token"],
        "admin_token_file": admin,
    }


@pytest.fixture
def harvest(platform, replay, tmp_path):
    """Run ``vierstaedte-harvest run CITY`` as city IT's cron would; returns the finished process.

    ``ckan_url`` sends the harvester's calls elsewhere (e.g. through a :class:`tests.harvesting.CkanTap`).
    """
    configs = write_configs(replay.base, tmp_path / "configs")
    state = tmp_path / "state"

    def run(
        city: str,
        *extra: str,
        token: Path | None = None,
        wait: bool = True,
        ckan_url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess | subprocess.Popen:
        return run_command(
            city,
            configs / f"{city}.yaml",
            ckan_url or platform["url"],
            state,
            token or platform["tokens"][city],
            *extra,
            wait=wait,
            env=env,
        )

    run.state = state
    run.configs = configs
    return run
