"""End-to-end fixtures: a live CKAN (gunicorn on the test config), the replay server, harvester tokens.

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
import yaml

from tests.conftest import DEMO  # the replay fixture lives there too

CITIES = ("mainz", "trier", "koblenz", "ludwigshafen")
CKAN_PORT = 5001  # the test profile's ckan.site_url


@pytest.fixture(scope="session")
def ckan_server(request):
    """CKAN served by gunicorn from the test config, for the whole session."""
    ini = request.config.getoption("--ckan-ini")
    url = f"http://127.0.0.1:{CKAN_PORT}"
    log = open(Path(ini).parent / "log" / "ckan-test-server.log", "w")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--bind", f"127.0.0.1:{CKAN_PORT}", "--workers", "2",
         "--timeout", "120", "ckanext.vierstaedte.wsgi:application"],
        env=dict(os.environ, CKAN_INI=str(Path(ini).resolve())), stdout=log, stderr=subprocess.STDOUT,
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


@pytest.fixture
def platform(ckan_server, with_plugins, clean_db, clean_index, tmp_path):
    """Empty CKAN with the four cities, a harvester user and token per city, and a sysadmin token."""
    from ckan.tests import factories

    from ckanext.datastore.tests import helpers as datastore_helpers
    from ckanext.vierstaedte import seed

    engine = datastore_helpers.db.get_write_engine()
    datastore_helpers.rebuild_all_dbs(datastore_helpers.orm.scoped_session(datastore_helpers.orm.sessionmaker(bind=engine)))
    sysadmin = factories.SysadminWithToken()
    seed.ensure_cities({"user": sysadmin["name"]}, echo=lambda _: None)
    tokens = {}
    for city in CITIES:
        tokens[city] = tmp_path / f"{city}.token"
        seed.ensure_harvester(city, str(tokens[city]), echo=lambda _: None)
    admin = tmp_path / "admin.token"
    admin.write_text(sysadmin["token"])
    return {"url": ckan_server, "tokens": tokens, "admin_token": sysadmin["token"], "admin_token_file": admin}


@pytest.fixture
def harvest(platform, replay, tmp_path):
    """Run ``vierstaedte-harvest run CITY`` as city IT's cron would; returns the finished process."""
    configs = tmp_path / "configs"
    configs.mkdir()
    for city in CITIES:
        data = yaml.safe_load((DEMO / "configs" / f"{city}.yaml").read_text(encoding="utf-8"))
        data["source"]["url"] = data["source"]["url"].replace("http://127.0.0.1:8765", replay.base)
        data["http"].update(timeout=2, retries=1, backoff=0)
        for table in data["tables"]:
            table["mapping"] = str((DEMO / "configs" / table["mapping"]).resolve())
        (configs / f"{city}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    state = tmp_path / "state"

    def run(city: str, *extra: str, token: Path | None = None, wait: bool = True) -> subprocess.CompletedProcess | subprocess.Popen:
        command = [str(Path(sys.executable).with_name("vierstaedte-harvest")), "run", city,
                   "--config", str(configs / f"{city}.yaml"), "--ckan-url", platform["url"], "--state-dir", str(state),
                   "--no-progress", *extra]
        env = dict(os.environ, VIERSTAEDTE_API_TOKEN_FILE=str(token or platform["tokens"][city]))
        if not wait:
            return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    run.state = state
    run.configs = configs
    return run
