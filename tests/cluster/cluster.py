"""The local cluster (``scripts/cluster``, docs/cluster.md) seen from Python: ports, URLs, commands.

The drills in this folder, the Solr and image helpers' tests and ``bench/cluster.py`` drive the
same cluster. They get its layout from here rather than each deriving ports from the base, so
that the port table of the contract lives in two places only: ``scripts/cluster`` (which starts
the pieces) and this module (which finds them). Every start and stop goes through the script,
as an operator would run it, so a drill also tests the command.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "cluster"
SOLR_CLOUD = ROOT / "scripts" / "solr" / "cloud"
STACK_DIR = Path(os.environ.get("VIERSTAEDTE_STACK_DIR", ROOT / ".stack")).resolve()
BIN = Path(sys.executable).parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")


class ClusterError(RuntimeError):
    """A command of ``scripts/cluster`` failed; the message holds the end of its output."""


def as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return ["sudo", "-n", "-u", "postgres", *argv]


@dataclasses.dataclass(frozen=True)
class Cluster:
    """One cluster: its port base, state folder and Redis database (the contract's table)."""

    base: int = 7100
    directory: Path = STACK_DIR / "cluster"
    redis_db: int = 2

    @classmethod
    def for_tests(cls) -> Cluster:
        """The test cluster: base 7200, so a running dev cluster (7100) is not touched."""
        return cls(7200, STACK_DIR / "cluster-test", 3)

    # --- where things are -------------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        return dict(
            os.environ,
            VIERSTAEDTE_CLUSTER_PORT_BASE=str(self.base),
            VIERSTAEDTE_CLUSTER_DIR=str(self.directory),
            VIERSTAEDTE_CLUSTER_REDIS_DB=str(self.redis_db),
            VIERSTAEDTE_STACK_DIR=str(STACK_DIR),
        )

    @property
    def url(self) -> str:
        """The portal: nginx over both CKAN nodes."""
        return f"http://127.0.0.1:{self.base}"

    def node_url(self, node: int) -> str:
        return f"http://127.0.0.1:{self.base + node}"

    @property
    def zookeeper_port(self) -> int:
        return self.base + 10

    def solr_node_url(self, node: int) -> str:
        return f"http://127.0.0.1:{self.base + 10 + node}/solr"

    @property
    def solr_url(self) -> str:
        """nginx over both Solr nodes (CKAN's solr_url is this plus ``/ckan``)."""
        return f"http://127.0.0.1:{self.base + 13}/solr"

    def pg_port(self, server: int) -> int:
        """PostgreSQL server 1 (B+20, the first primary) or 2 (B+21, the first standby)."""
        return self.base + 19 + server

    @property
    def primary(self) -> int:
        """Which server is the primary now (2 after ``promote``)."""
        path = self.directory / "pg" / "primary"
        return int(path.read_text().strip()) if path.is_file() else 1

    @property
    def standby(self) -> int:
        return 3 - self.primary

    @property
    def ini(self) -> Path:
        return self.directory / "ckan.ini"

    @property
    def storage(self) -> Path:
        return self.directory / "storage"

    @property
    def logs(self) -> Path:
        return self.directory / "log"

    @property
    def admin_token_file(self) -> Path:
        return self.directory / "secrets" / "admin-api-token"

    def harvester_token_file(self, city: str) -> Path:
        return self.directory / "secrets" / f"harvester-{city}-token"

    @property
    def harvest_state(self) -> Path:
        return self.directory / "harvest"

    def solr_credentials(self, user: str = "ckan") -> tuple[str, str]:
        """HTTP Basic credentials of the cluster's Solr (the stack's passwords, by the contract)."""
        name = "solr-password" if user == "ckan" else "solr-admin-password"
        return user, (STACK_DIR / "secrets" / name).read_text().strip()

    # --- its commands -----------------------------------------------------------------------

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """``scripts/cluster ARGS`` for this cluster; :class:`ClusterError` unless it exits 0."""
        try:
            done = subprocess.run(
                [str(SCRIPT), *args],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=ROOT,
            )
        except subprocess.TimeoutExpired as error:
            raise ClusterError(
                f"scripts/cluster {' '.join(args)} took longer than {timeout:g} s "
                f"(logs: {self.logs})"
            ) from error
        if done.returncode:
            raise ClusterError(
                f"scripts/cluster {' '.join(args)} failed ({done.returncode}); logs in "
                f"{self.logs}:\n{done.stdout[-1500:]}\n{done.stderr[-2500:]}"
            )
        return done

    def ckan(self, *args: str) -> str:
        """A ``ckan`` CLI command on the cluster's ``ckan.ini``, as its operator runs it."""
        done = subprocess.run(
            [str(BIN / "ckan"), "-c", str(self.ini), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode:
            raise ClusterError(f"ckan {' '.join(args)} failed:\n{done.stderr[-2500:]}")
        return done.stdout

    def up(self) -> None:
        self.run("up", timeout=900)

    def down(self, purge: bool = False) -> None:
        self.run("down", *(["--purge"] if purge else []), timeout=300)

    def status(self) -> str:
        return self.run("status").stdout

    def kill_web(self, node: int) -> None:
        self.run("kill-web", str(node))

    def start_web(self, node: int) -> None:
        self.run("start-web", str(node), timeout=180)

    def promote(self) -> float:
        """The promotion procedure; the seconds CKAN could not read its database, as it reports."""
        out = self.run("promote", timeout=300).stdout
        found = re.search(r"for ([0-9.]+) s", out)
        if not found:
            raise ClusterError(f"scripts/cluster promote did not report its window: {out}")
        return float(found.group(1))

    def solr_cloud(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """``scripts/solr/cloud ARGS`` for this cluster's SolrCloud."""
        done = subprocess.run(
            [str(SOLR_CLOUD), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT,
        )
        if check and done.returncode:
            raise ClusterError(
                f"scripts/solr/cloud {' '.join(args)} failed ({done.returncode}): "
                f"{done.stdout[-1500:]}\n{done.stderr[-1500:]}"
            )
        return done

    # --- looking inside ---------------------------------------------------------------------

    def psql(self, sql: str, database: str = "ckan_default", server: int | None = None) -> str:
        """SQL as postgres on a server (the primary by default), over its Unix socket."""
        port = self.pg_port(server or self.primary)
        done = subprocess.run(
            as_postgres(
                [
                    "psql",
                    "-h",
                    str(self.directory / "pg" / "sock"),
                    "-p",
                    str(port),
                    "-d",
                    database,
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-qAtX",
                ]
            ),
            input=sql,
            capture_output=True,
            text=True,
            timeout=120,
            cwd="/",
        )
        if done.returncode:
            raise ClusterError(f"psql on :{port} failed: {done.stderr[-1500:]}")
        return done.stdout.strip()

    def admin_token(self) -> str:
        return self.admin_token_file.read_text().strip()

    def action(self, name: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """An Action API call through nginx as the sysadmin; the result, or HTTPError."""
        response = requests.post(
            f"{self.url}/api/3/action/{name}",
            json=data or {},
            headers={"Authorization": self.admin_token()},
            timeout=kwargs.pop("timeout", 60),
            **kwargs,
        )
        response.raise_for_status()
        return response.json()["result"]

    def dataset_names(self, city: str) -> list[str]:
        """The city's active datasets in the primary's database (a twin would show twice)."""
        rows = self.psql(
            'SELECT p.name FROM package p JOIN "group" g ON g.id = p.owner_org'
            f" WHERE p.state = 'active' AND p.type = 'dataset' AND g.name = '{city}'"
            " ORDER BY p.name"
        )
        return rows.splitlines()

    def wait_indexed(self, city: str, seconds: float = 30) -> None:
        """Until the search lists exactly the city's datasets of the database. The harvester
        finds its datasets with the search, and Solr makes a write searchable within its
        soft-commit interval (3 s): a run started sooner would see a catalogue that lags."""
        names = self.dataset_names(city)

        def listed() -> bool:
            found = self.action(
                "package_search",
                {"fq": f"organization:{city}", "rows": 1000, "include_private": True},
            )
            return sorted(d["name"] for d in found["results"]) == names

        self.wait_until(listed, seconds, f"the search index listing {city}'s {len(names)} datasets")

    def drill_dataset(self, name: str, city: str = "trier") -> str:
        """A dataset of the sysadmin's for a drill's writes (the schema's required fields only)."""
        return self.action(
            "package_create",
            {
                "name": name,
                "title": name,
                "owner_org": city,
                "notes": "-",
                "spatial_granularity": "stadt",
                "theme": ["REGI"],
            },
        )["id"]

    def wait_until(self, check, seconds: float, what: str) -> float:
        """Polls ``check`` until it is true; the seconds it took, or ClusterError."""
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            try:
                if check():
                    return time.monotonic() - started
            except Exception:  # noqa: BLE001 - not there yet
                pass
            time.sleep(0.2)
        raise ClusterError(f"{what} not within {seconds:g} s")

    def harvest_argv(self, city: str, *extra: str, state: Path | None = None) -> list[str]:
        """The city's demo harvest through nginx, as ``scripts/cluster up`` (and cron) runs it."""
        return [
            str(BIN / "vierstaedte-harvest"),
            "run",
            city,
            "--config",
            str(ROOT / "demo" / "configs" / f"{city}.yaml"),
            "--ckan-url",
            self.url,
            "--state-dir",
            str(state or self.harvest_state),
            "--no-progress",
            *extra,
        ]

    def harvester_env(self, city: str) -> dict[str, str]:
        return dict(os.environ, VIERSTAEDTE_API_TOKEN_FILE=str(self.harvester_token_file(city)))

    def harvest(
        self, city: str, *extra: str, state: Path | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess:
        """That harvest, run to its end."""
        return subprocess.run(
            self.harvest_argv(city, *extra, state=state),
            env=self.harvester_env(city),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def harvest_converges(self, city: str, names: list[str]) -> None:
        """After a drill cut a harvest: cron's next run (a second if the first still met the
        outage) ends 0 and the city holds exactly ``names`` in the database, none twice, none
        missing. A write cut between CKAN's index and its commit left an index entry without a
        dataset; the run warned and made the dataset again, and the operator's documented step
        (docs/cluster.md) removes the entry. Then the search lists what the database holds, and
        one more run writes nothing."""
        for _ in range(2):
            rerun = self.harvest(city)
            if rerun.returncode == 0:
                break
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert self.dataset_names(city) == names
        self.ckan("search-index", "clear-orphans")
        self.wait_indexed(city)
        assert harvest_report(self.harvest(city))["dataset_writes"] == 0

    def harvest_background(self, city: str) -> subprocess.Popen:
        """That harvest, started and left running (a drill strikes while it works); its output
        comes with ``communicate()``."""
        return subprocess.Popen(
            self.harvest_argv(city),
            env=self.harvester_env(city),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


# --- load while a drill strikes ----------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    at: float  # time.monotonic() when the request ended
    kind: str  # "read" or "write"
    ok: bool
    detail: str = ""


class Load:
    """Readers and writers against the portal in threads, each request's outcome recorded.

    Reads: the search, a dataset page and the API's package_show, in turn. Writes: each writer
    patches a dataset of its own with a counter in ``notes`` and remembers the last counter
    CKAN acknowledged, so a drill can check afterwards that every acknowledged write is there.
    The requests go through nginx with a keep-alive session per thread, as browsers and the
    harvesters' clients send them.
    """

    def __init__(self, cluster: Cluster, datasets: list[str], readers: int = 2):
        self.cluster, self.datasets, self.readers = cluster, datasets, readers
        self.outcomes: list[Outcome] = []
        self.acknowledged: dict[str, int] = {}
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._read, args=(n,), daemon=True) for n in range(readers)
        ] + [threading.Thread(target=self._write, args=(d,), daemon=True) for d in datasets]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=150)

    def _record(self, kind: str, call) -> bool:
        try:
            response = call()
            ok = response.status_code == 200 and response.json().get("success", True)
            detail = "" if ok else f"HTTP {response.status_code}"
        except (requests.RequestException, ValueError) as error:
            ok, detail = False, error.__class__.__name__
        self.outcomes.append(Outcome(time.monotonic(), kind, bool(ok), detail))
        return ok

    def _read(self, number: int) -> None:
        session = requests.Session()
        base, n = self.cluster.url, number
        paths = (
            "/api/3/action/package_search?q=einwohner&rows=5",
            f"/api/3/action/package_show?id={self.datasets[0]}",
            "/api/3/action/organization_list",
        )
        while not self._stop.is_set():
            path = paths[n % len(paths)]
            n += 1
            self._record("read", lambda path=path: session.get(base + path, timeout=30))

    def _write(self, dataset: str) -> None:
        session = requests.Session()
        session.headers["Authorization"] = self.cluster.admin_token()
        url = f"{self.cluster.url}/api/3/action/package_patch"
        counter = 0
        while not self._stop.is_set():
            counter += 1
            body = {"id": dataset, "notes": f"write {counter}"}
            if self._record("write", lambda body=body: session.post(url, json=body, timeout=30)):
                self.acknowledged[dataset] = counter

    def failures(self, kind: str | None = None, after: float = 0.0) -> list[Outcome]:
        return [
            o
            for o in self.outcomes
            if not o.ok and o.at >= after and (kind is None or o.kind == kind)
        ]

    def successes(self, kind: str, after: float = 0.0) -> int:
        return sum(1 for o in self.outcomes if o.ok and o.kind == kind and o.at >= after)


def harvest_report(process: subprocess.CompletedProcess) -> dict[str, Any]:
    """The run report a finished harvest names on its last line."""
    path = process.stdout.rsplit("report: ", 1)[-1].strip()
    return json.loads(Path(path).read_text(encoding="utf-8"))
