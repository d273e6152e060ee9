"""A benchmark's own CKAN: databases, Solr core, config and gunicorn, next to the shared services.

A *slot* (``bench`` by default, ``benchtest`` for the test suite) owns databases
``ckan_<slot>``/``datastore_<slot>``, the Solr core ``ckan_<slot>``, Redis db 2,
its uploads under ``.stack/bench/<slot>/`` and the ports it is given. It never
touches the portal's or the tests' databases or cores, and never restarts the
shared PostgreSQL, Redis or Solr (``bench/stack.sh`` does the privileged parts
with the helpers of ``scripts/lib.sh``).

The freshly initialised database (schema, sysadmin, the four cities, a harvester
token for Mainz) is kept as a template, so :meth:`Slot.reset` gives every
measurement the same empty CKAN in a few seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
STACK = Path(os.environ.get("VIERSTAEDTE_STACK_DIR", ROOT / ".stack"))
VENV = Path(sys.executable).parent
CKAN = str(VENV / "ckan")
SITE_PLUGINS = (
    "vierstaedte dcat scheming_datasets scheming_organizations datastore datatables_view activity"
)
HARVEST_PLUGINS = SITE_PLUGINS + " harvest ckan_harvester"
# CKAN without our plugin: the scheming schema goes too, as its fields use our validators and choice helpers
CORE_PLUGINS = "dcat datastore datatables_view activity"


def sh(*args: str, stdin: str | None = None, quiet: bool = True) -> str:
    """bench/stack.sh with arguments; its output (stderr goes to ours unless quiet)."""
    result = subprocess.run(
        [str(ROOT / "bench" / "stack.sh"), *args],
        input=stdin,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if quiet else None,
    )
    if result.returncode:
        raise RuntimeError(
            f"bench/stack.sh {args[0]} failed: {(result.stderr or '').strip()[-2000:]}"
        )
    return result.stdout


def prepare_machine() -> None:
    """What every benchmark needs once: the bench extra, wrk, and the shared services running."""
    sh("install", quiet=False)
    sh("services", quiet=False)


class Slot:
    def __init__(self, name: str = "bench", plugins: str = SITE_PLUGINS):
        if "bench" not in name:
            raise ValueError("a bench slot's name must contain 'bench'")
        self.name, self.plugins = name, plugins
        self.dir = STACK / "bench" / name
        self.db, self.datastore, self.core = f"ckan_{name}", f"datastore_{name}", f"ckan_{name}"
        self.template = f"{self.db}_tmpl"
        self.ini = self.dir / "ckan.ini"
        self.secrets = self.dir / "secrets"
        self.admin_token = self.secrets / "admin-token"
        self.storage = self.dir / "storage"
        self.servers: dict[int, subprocess.Popen] = {}

    # --- set-up --------------------------------------------------------------------

    def env(self, port: int = 5010, plugins: str | None = None) -> dict[str, str]:
        secrets = STACK / "secrets"
        return dict(
            os.environ,
            VIERSTAEDTE_STACK_DIR=str(STACK),
            VIERSTAEDTE_PG_PASSWORD_FILE=str(secrets / "pg-password"),
            VIERSTAEDTE_PG_READONLY_PASSWORD_FILE=str(secrets / "pg-readonly-password"),
            VIERSTAEDTE_REDIS_PASSWORD_FILE=str(secrets / "redis-password"),
            VIERSTAEDTE_SOLR_PASSWORD_FILE=str(secrets / "solr-password"),
            VIERSTAEDTE_PG_DB=self.db,
            VIERSTAEDTE_PG_DATASTORE_DB=self.datastore,
            VIERSTAEDTE_STORAGE_PATH=str(self.storage),
            VIERSTAEDTE_CKAN_PLUGINS=plugins or self.plugins,
            CKAN_SOLR_URL=f"http://127.0.0.1:8983/solr/{self.core}",
            CKAN_REDIS_URL="redis://127.0.0.1:6379/2",
            CKAN_SITE_URL=f"http://127.0.0.1:{port}",
        )

    def runtime_env(self, port: int = 5010) -> dict[str, str]:
        """The environment CKAN runs in: without ``CKAN_REDIS_URL``, which CKAN would take over
        the config's ``ckan.redis.url`` (written with the Redis user by ``write_config``), so
        every job call (``datastore_delete`` cancels a count job) failed to authenticate."""
        env = self.env(port)
        env.pop("CKAN_REDIS_URL")
        return env

    def write_config(self, ini: Path, port: int, plugins: str | None = None) -> Path:
        ini.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / "ckan_config.py"),
                "--profile",
                "bench",
                "--out",
                str(ini),
            ],
            env=self.env(port, plugins),
            check=True,
        )
        if ini != self.ini:  # the same secrets as the main config: tokens work on both
            main = {
                line.split("=", 1)[0].strip(): line
                for line in self.ini.read_text().splitlines()
                if line.split("=", 1)[0].strip()
                in (
                    "SECRET_KEY",
                    "api_token.jwt.encode.secret",
                    "api_token.jwt.decode.secret",
                    "beaker.session.secret",
                    "WTF_CSRF_SECRET_KEY",
                )
            }
            lines = [
                main.get(line.split("=", 1)[0].strip(), line)
                for line in ini.read_text().splitlines()
            ]
            ini.write_text("\n".join(lines) + "\n")
        return ini

    def ckan(
        self, *args: str, ini: Path | None = None, check: bool = True, **kwargs
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [CKAN, "-c", str(ini or self.ini), *args],
            check=check,
            text=True,
            stdout=kwargs.pop("stdout", subprocess.PIPE),
            stderr=kwargs.pop("stderr", subprocess.PIPE),
            **kwargs,
        )

    def _stamp(self) -> str:
        parts = [self.plugins, (ROOT / "setup.py").read_text()]
        for folder in ("migration",):
            for path in sorted(
                (ROOT / "ckanext-vierstaedte/ckanext/vierstaedte" / folder).rglob("*.py")
            ):
                parts.append(path.read_text())
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]

    def prepare(self, port: int = 5010) -> None:
        """Config, Solr core and the template database.

        The template is built once and rebuilt when the plugins or migrations change.
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        self.secrets.mkdir(mode=0o700, exist_ok=True)
        sh("solr-conf", self.core)  # created, or its configset brought up to date and reloaded
        self.write_config(self.ini, port)
        stamp = self.dir / "template.stamp"
        if stamp.exists() and stamp.read_text() == self._stamp() and self._exists(self.template):
            return
        self.stop_all()
        sh("drop", self.db, self.datastore, self.template)
        sh("databases", self.db, self.datastore)
        self.ckan("db", "init")
        permissions = self.ckan("datastore", "set-permissions").stdout
        (self.dir / "datastore-permissions.sql").write_text(permissions)
        sh("sql", self.datastore, stdin=permissions)
        self.ensure_admin()
        self.ckan("vierstaedte", "init-cities")
        for city in ("mainz", "trier"):
            self.ckan(
                "vierstaedte",
                "ensure-harvester",
                city,
                "--token-file",
                str(self.secrets / f"harvester-{city}"),
            )
        sh("clone", self.db, self.template)
        stamp.write_text(self._stamp())

    def ensure_admin(self) -> None:
        """The slot's sysadmin, with a valid API token in ``admin_token``."""
        self.ckan(
            "vierstaedte",
            "ensure-sysadmin",
            "admin",
            "--email",
            "admin@bench.invalid",
            "--token-file",
            str(self.admin_token),
        )

    def _exists(self, database: str) -> bool:
        return sh("exists", database).strip() == "yes"

    def reset(self) -> None:
        """The empty CKAN of the template: databases, search index and uploads."""
        self.stop_all()
        sh("clone", self.template, self.db)
        sh("drop", self.datastore)
        sh("databases", self.db, self.datastore)
        sh("sql", self.datastore, stdin=(self.dir / "datastore-permissions.sql").read_text())
        self.clear_index()
        shutil.rmtree(self.storage, ignore_errors=True)
        self.storage.mkdir(parents=True)

    @staticmethod
    def solr_auth() -> tuple[str, str]:
        """CKAN's Solr user (scripts/lib.sh): Solr answers nothing but a ping without a password."""
        return "ckan", (STACK / "secrets" / "solr-password").read_text().strip()

    def clear_index(self) -> None:
        requests.post(
            f"http://127.0.0.1:8983/solr/{self.core}/update?commit=true",
            json={"delete": {"query": "*:*"}},
            auth=self.solr_auth(),
            timeout=60,
        ).raise_for_status()

    def settle_search(self, datasets: int, timeout: float = 60) -> float:
        """Wait until search shows ``datasets`` active datasets; returns the seconds waited.

        The portal's CKAN leaves commits to Solr's soft commit every 3 s, so a run's last writes
        become searchable up to 3 s after it ends. A re-run started at once would not find them and
        take the slow path for each (create refused, look up), which no cron run hours later meets;
        the re-run is measured against a settled index.
        """
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            answer = requests.get(
                f"http://127.0.0.1:8983/solr/{self.core}/select",
                timeout=30,
                auth=self.solr_auth(),
                params={
                    "q": "*:*",
                    "rows": 0,
                    "fq": "+entity_type:package +dataset_type:dataset +state:active",
                },
            )
            answer.raise_for_status()
            if answer.json()["response"]["numFound"] >= datasets:
                return time.monotonic() - started
            time.sleep(0.2)
        raise RuntimeError(
            f"Solr core {self.core} did not show {datasets} datasets within {timeout:.0f} s"
        )

    # --- CKAN web processes ------------------------------------------------------------

    def start(
        self, port: int, ini: Path | None = None, workers: int = 3, threads: int = 1
    ) -> subprocess.Popen:
        """gunicorn as scripts/stack runs the portal (3 workers, one thread each), on 127.0.0.1:PORT.

        Returns once every worker has loaded CKAN (not just the first), so no measurement pays for start-up.
        """
        self.stop(port)
        log = (self.dir / f"ckan-{port}.log").open("ab")
        ready = self.dir / f"ready-{port}"
        shutil.rmtree(ready, ignore_errors=True)
        ready.mkdir(parents=True)
        process = subprocess.Popen(
            [
                str(VENV / "gunicorn"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--timeout",
                "300",
                "--config",
                str(ROOT / "bench" / "gunicorn_ready.py"),
                "ckanext.vierstaedte.wsgi:application",
            ],
            env=dict(
                self.runtime_env(port),
                CKAN_INI=str(ini or self.ini),
                VIERSTAEDTE_BENCH_READY_DIR=str(ready),
            ),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        self.servers[port] = process
        (self.dir / f"ckan-{port}.pid").write_text(str(process.pid))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"CKAN on :{port} exited; see {self.dir}/ckan-{port}.log")
            try:
                if (
                    len(list(ready.iterdir())) >= workers
                    and requests.get(
                        f"http://127.0.0.1:{port}/api/3/action/status_show", timeout=5
                    ).ok
                ):
                    return process
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(
            f"CKAN on :{port} did not answer in 120 s; see {self.dir}/ckan-{port}.log"
        )

    def stop(self, port: int) -> None:
        process = self.servers.pop(port, None)
        pidfile = self.dir / f"ckan-{port}.pid"
        if (
            process is None and pidfile.exists()
        ):  # left running by an earlier, interrupted benchmark
            pid = int(pidfile.read_text())
            try:
                if "gunicorn" in Path(f"/proc/{pid}/cmdline").read_text():
                    os.killpg(pid, signal.SIGTERM)
                    for _ in range(300):
                        if not Path(f"/proc/{pid}").exists():
                            break
                        time.sleep(0.1)
            except (OSError, ValueError):
                pass
        pidfile.unlink(missing_ok=True)
        if process and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def stop_all(self) -> None:
        for port in set(self.servers) | {
            int(p.stem.split("-")[1]) for p in self.dir.glob("ckan-*.pid")
        }:
            self.stop(port)


# --- measuring ---------------------------------------------------------------------------


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and its children (gunicorn's master and workers)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            with open(f"/proc/{current}/task/{current}/children") as handle:
                todo += [int(child) for child in handle.read().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


class RSSSampler:
    """Peak resident memory of a process tree, sampled every 0.1 s in a thread."""

    def __init__(self, pid: int | None):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.pid:
                self.peak = max(self.peak, tree_rss(self.pid))
            self._stop.wait(0.1)

    def __enter__(self) -> RSSSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def run_measured(
    args: list[str],
    env: dict[str, str] | None = None,
    ckan_pid: int | None = None,
    log: Path | None = None,
) -> dict[str, float]:
    """Run a command; its wall time, exit code, its own peak RSS (wait4) and CKAN's peak RSS meanwhile."""
    out = log.open("ab") if log else subprocess.DEVNULL
    started = time.perf_counter()
    with RSSSampler(ckan_pid) as sampler:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=out, cwd=ROOT)
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "exit": process.returncode,
        "rss_mb": usage.ru_maxrss / 1024,
        "ckan_rss_mb": sampler.peak / 1e6,
    }


def dump(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)
