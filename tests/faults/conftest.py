"""A private copy of the platform whose services a test may stop: PostgreSQL, Solr, Redis and CKAN of its own.

The machine's PostgreSQL, Solr and Redis serve the running portal and other
people's work, so fault tests never touch them. ``private_stack`` starts,
from the repository's own pieces, a PostgreSQL cluster (``initdb`` into a
temporary directory, another port), a Solr node (``scripts/solr/`` launcher,
CKAN's schema, a temporary Solr home), a Redis server and a CKAN under
gunicorn configured against them, seeded with the real ``ckan vierstaedte``
commands. Everything binds to 127.0.0.1 on free ports and is removed at the end.

Each test harvests its own city, so the tests share one stack without
seeing each other's datasets.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ckanapi
import pytest
import requests
import sqlalchemy

from tests.harvesting import CITIES, run_command, write_configs

ROOT = Path(__file__).resolve().parents[2]
STACK_DIR = Path(os.environ.get("VIERSTAEDTE_STACK_DIR", ROOT / ".stack"))
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_postgres(argv: list[str]) -> list[str]:
    return (
        ["runuser", "-u", "postgres", "--"]
        if os.geteuid() == 0
        else ["sudo", "-n", "-u", "postgres"]
    ) + argv


def run(argv: list[str], what: str, **kwargs: Any) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, **kwargs)
    if done.returncode:
        pytest.fail(
            f"{what} failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}"
        )
    return done


def wait_for(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.2)
    pytest.fail(f"{what} did not come up within {seconds:g} s")


class Postgres:
    """A PostgreSQL cluster of our own, run by the postgres user like the machine's."""

    def __init__(self, root: Path):
        versions = sorted(Path("/usr/lib/postgresql").iterdir(), key=lambda p: int(p.name))
        self.bin = versions[-1] / "bin"
        self.home = root / "postgresql"
        self.data = self.home / "data"
        self.port = free_port()
        self.home.mkdir()
        shutil.chown(self.home, "postgres", "postgres")
        run(
            as_postgres(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(self.data),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ]
            ),
            "initdb",
        )

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(
            as_postgres(
                [
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.home / "log"),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    *args,
                ]
            ),
            f"pg_ctl {' '.join(args)}",
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "stop")

    def url(self, database: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        return run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-qAtX",
            ],
            "psql",
            input=sql,
        ).stdout


class Solr:
    """A Solr node of our own: the stack's launcher, jars and configset, one core ``ckan``."""

    def __init__(self, root: Path):
        self.home = root / "solr"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        core = self.home / "ckan" / "conf"
        core.mkdir(parents=True)
        shutil.copy(ROOT / "scripts" / "solr" / "solr.xml", self.home / "solr.xml")
        (self.home / "ckan" / "core.properties").write_text("name=ckan\n")
        # the portal's configset, as scripts/lib.sh writes it for the stack's cores
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "solr" / "configset.py"), str(core)],
            check=True,
            capture_output=True,
        )
        if not list((STACK_DIR / "solr-lib").glob("*.jar")):
            pytest.fail(
                f"no Solr jars in {STACK_DIR / 'solr-lib'}: run the tests with scripts/test"
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/solr/ckan"

    def start(self, wait: bool = True) -> None:
        self.process = subprocess.Popen(
            [
                "java",
                "-Xms64m",
                "-Xmx384m",
                f"-Dsolr.log.dir={self.home}",
                f"-Dlog4j2.configurationFile=file:{ROOT / 'scripts' / 'solr' / 'log4j2.xml'}",
                "-cp",
                f"{STACK_DIR / 'solr-lib'}/*",
                str(ROOT / "scripts" / "solr" / "SolrLauncher.java"),
                str(self.home),
                str(self.port),
            ],
            cwd=self.home,
            stdout=open(self.home / "solr.log", "ab"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        if wait:
            self.wait()

    def wait(self) -> None:
        wait_for(
            lambda: (
                requests.get(f"{self.url}/admin/ping", params={"wt": "json"}, timeout=2).json()[
                    "status"
                ]
                == "OK"
            ),
            120,
            f"Solr on port {self.port} (see {self.home / 'solr.log'})",
        )

    def kill(self) -> None:
        """Stopped as a crash stops it: SIGKILL, no goodbye."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def documents(self) -> dict[str, dict[str, Any]]:
        """Every dataset Solr holds, as CKAN stored it (id → validated data dict)."""
        answer = requests.get(
            f"{self.url}/select",
            params={
                "q": "*:*",
                "fq": "+entity_type:package",
                "rows": 10000,
                "fl": "id,validated_data_dict",
                "wt": "json",
            },
            timeout=30,
        )
        answer.raise_for_status()
        documents = (
            json.loads(d["validated_data_dict"]) for d in answer.json()["response"]["docs"]
        )
        return {
            d["id"]: d
            for d in documents
            if d.get("state") == "active" and d.get("type") == "dataset"
        }


class Redis:
    def __init__(self, root: Path):
        self.dir = root / "redis"
        self.dir.mkdir()
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
                "--protected-mode",
                "yes",
            ],
            stdout=open(self.dir / "redis.log", "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(
            lambda: socket.create_connection(("127.0.0.1", self.port), timeout=1).close() is None,
            20,
            "Redis",
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


class PrivateStack:
    def __init__(self, root: Path):
        self.root = root
        self.solr = self.postgres = self.redis = self.server = None

    def setup(self, test_ini: Path) -> None:
        root = self.root
        self.solr = Solr(root)
        self.solr.start(wait=False)  # the JVM takes the longest: it starts while the rest is set up
        self.postgres = Postgres(root)
        self.postgres.start()
        self.redis = Redis(root)
        self.redis.start()
        self.postgres.psql(
            "CREATE ROLE ckan_default LOGIN; CREATE ROLE datastore_ro LOGIN;"
            "CREATE DATABASE ckan OWNER ckan_default; CREATE DATABASE datastore OWNER ckan_default;"
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.storage = root / "storage"
        self.ini = root / "ckan.ini"
        shutil.copy(test_ini, self.ini)
        self.ini.chmod(0o600)
        settings = {
            "sqlalchemy.url": self.postgres.url("ckan", "ckan_default"),
            "ckan.datastore.write_url": self.postgres.url("datastore", "ckan_default"),
            "ckan.datastore.read_url": self.postgres.url("datastore", "datastore_ro"),
            "solr_url": self.solr.url,
            "ckan.redis.url": f"redis://127.0.0.1:{self.redis.port}/0",
            "ckan.site_url": self.url,
            "ckanext.dcat.base_uri": self.url,
            "ckan.storage_path": str(self.storage),
        }
        run(
            [
                str(BIN / "ckan"),
                "config-tool",
                str(self.ini),
                *(f"{k}={v}" for k, v in settings.items()),
            ],
            "config-tool",
        )
        self.ckan("db", "init")
        permissions = self.ckan("datastore", "set-permissions").stdout
        self.postgres.psql(
            permissions.replace('\\connect "datastore_test"', '\\connect "datastore"')
        )
        self.ckan("vierstaedte", "init-cities")
        self.tokens = {city: root / f"{city}.token" for city in CITIES}
        self.admin_token_file = root / "admin.token"
        seeding = [
            self._ckan_process(
                "vierstaedte",
                "ensure-sysadmin",
                "faults-admin",
                "--email",
                "admin@faults.invalid",
                "--token-file",
                str(self.admin_token_file),
            )
        ]
        seeding += [
            self._ckan_process(
                "vierstaedte", "ensure-harvester", city, "--token-file", str(self.tokens[city])
            )
            for city in CITIES
        ]
        for process in seeding:
            out, err = process.communicate(timeout=120)
            if process.returncode:
                pytest.fail(f"seeding the private CKAN failed: {out[-1000:]} {err[-1000:]}")
        self.admin = ckanapi.RemoteCKAN(self.url, apikey=self.admin_token_file.read_text().strip())
        self.solr.wait()
        self.start_ckan()

    def _ckan_process(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [str(BIN / "ckan"), "-c", str(self.ini), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def ckan(self, *args: str) -> subprocess.CompletedProcess:
        """A ``ckan`` CLI command against the private stack, as an operator runs it."""
        return run([str(BIN / "ckan"), "-c", str(self.ini), *args], f"ckan {' '.join(args)}")

    def start_ckan(self) -> None:
        self.log = self.root / "ckan.log"
        self.server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--timeout",
                "120",
                "ckanext.vierstaedte.wsgi:application",
            ],
            env=dict(os.environ, CKAN_INI=str(self.ini)),
            stdout=open(self.log, "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(
            lambda: requests.get(f"{self.url}/api/3/action/status_show", timeout=2).ok,
            90,
            f"the private CKAN (see {self.log})",
        )

    def close(self) -> None:
        if self.server and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            self.server.wait(timeout=30)
        if self.solr:
            self.solr.kill()
        if self.redis:
            self.redis.stop()
        if self.postgres:
            try:
                self.postgres.stop("immediate")
            except BaseException:  # noqa: BLE001 - already stopped by a test
                pass

    # --- looking at the stack -------------------------------------------------------------------

    def harvest(
        self, city: str, replay, *extra: str, ckan_url: str | None = None, wait: bool = True
    ):
        """The harvester command against this stack, one dataset at a time (``--workers 1``), so a
        fault strikes a known step of a known dataset. (The kill test, in the integration stack,
        runs with the default workers.)"""
        configs = write_configs(replay.base, self.root / "configs" / city)
        return run_command(
            city,
            configs / f"{city}.yaml",
            ckan_url or self.url,
            self.root / "state",
            self.tokens[city],
            "--workers",
            "1",
            *extra,
            wait=wait,
        )

    def query(self, sql: str, database: str = "ckan") -> list[tuple]:
        engine = sqlalchemy.create_engine(
            self.postgres.url(database), poolclass=sqlalchemy.pool.NullPool
        )
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(sqlalchemy.text(sql))]
        finally:
            engine.dispose()

    def datasets_in_db(self, city: str | None = None) -> dict[str, dict[str, Any]]:
        """Active datasets in the database: id → name, metadata_modified and resources (id → hash, extras)."""
        where = "" if city is None else f" AND g.name = '{city}'"
        packages = self.query(
            'SELECT p.id, p.name, p.metadata_modified FROM package p JOIN "group" g ON g.id = p.owner_org'
            f" WHERE p.state = 'active' AND p.type = 'dataset'{where}"
        )
        found = {
            pid: {"name": name, "metadata_modified": modified.isoformat(), "resources": {}}
            for pid, name, modified in packages
        }
        for rid, pid, digest, extras, url_type in self.query(
            "SELECT id, package_id, hash, extras, url_type FROM resource WHERE state = 'active'"
        ):
            if pid in found:
                found[pid]["resources"][rid] = {
                    "hash": digest,
                    "url_type": url_type,
                    **json.loads(extras or "{}"),
                }
        return found

    def datastore_tables(self) -> dict[str, int]:
        names = [
            n
            for (n,) in self.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                " AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_%'",
                "datastore",
            )
        ]
        return {n: self.query(f'SELECT count(*) FROM "{n}"', "datastore")[0][0] for n in names}

    def stored_file(self, resource_id: str) -> Path:
        return self.storage / "resources" / resource_id[:3] / resource_id[3:6] / resource_id[6:]


@pytest.fixture(scope="session")
def private_stack(request):
    root = Path(tempfile.mkdtemp(prefix="vierstaedte-faults-"))
    root.chmod(0o755)  # the postgres user must reach its cluster inside
    stack = PrivateStack(root)
    try:
        stack.setup(Path(request.config.getoption("--ckan-ini")).resolve())
        yield stack
    finally:
        stack.close()
        shutil.rmtree(root, ignore_errors=True)
