"""Running the real ``vierstaedte-harvest`` command in tests, and watching what it sends to CKAN.

Shared by the end-to-end suites (``integration``, ``faults``, ``badinput``,
``security``): city configs pointed at a replay server, the command line a
cron job would run, and :class:`CkanTap`, a real HTTP proxy between a
harvester and CKAN that sees every Action API call in order, so a test can
act at an exact point of a run (kill the harvester, stop Solr, restart
PostgreSQL) instead of guessing with sleeps.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import requests
import yaml

from demo.replay import LoopbackServer
from vierstaedte_contract import cities

DEMO = Path(__file__).resolve().parents[1] / "demo"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CITIES = tuple(cities.names())
# the cities the demo has payloads and a config for (scripts/stack up harvests the same)
DEMO_CITIES = tuple(city for city in CITIES if (DEMO / "configs" / f"{city}.yaml").is_file())
# what a harvester writes to CKAN (harvesters/vierstaedte_harvest/publish.py); everything else it
# calls only reads
WRITE_ACTIONS = frozenset(
    {
        "package_create",
        "package_patch",
        "package_revise",
        "package_delete",
        "resource_create",
        "resource_patch",
        "datastore_create",
        "datastore_upsert",
        "datastore_delete",
        "vierstaedte_harvest_run_create",
    }
)


def write_configs(replay_base: str, directory: Path, **http: Any) -> Path:
    """The demo's city configs, pointed at a replay server, with short timeouts and absolute mapping paths."""
    directory.mkdir(parents=True, exist_ok=True)
    for city in DEMO_CITIES:
        data = yaml.safe_load((DEMO / "configs" / f"{city}.yaml").read_text(encoding="utf-8"))
        data["source"]["url"] = data["source"]["url"].replace("http://127.0.0.1:8765", replay_base)
        data["http"].update(timeout=2, retries=1, backoff=0, **http)
        for table in data["tables"]:
            table["mapping"] = str((DEMO / "configs" / table["mapping"]).resolve())
        (directory / f"{city}.yaml").write_text(
            yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
        )
    return directory


def command(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("vierstaedte-harvest")), *args]


def run_command(
    city: str,
    config: Path,
    ckan_url: str,
    state: Path,
    token: Path,
    *extra: str,
    wait: bool = True,
    env: dict[str, str] | None = None,
    timeout: float = 300,
):
    """``vierstaedte-harvest run CITY`` as cron runs it; the finished process, or the running one
    (``wait=False``)."""
    argv = command(
        "run",
        city,
        "--config",
        str(config),
        "--ckan-url",
        ckan_url,
        "--state-dir",
        str(state),
        "--no-progress",
        *extra,
    )
    environment = dict(os.environ, VIERSTAEDTE_API_TOKEN_FILE=str(token), **(env or {}))
    if not wait:
        return subprocess.Popen(
            argv, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    return subprocess.run(argv, env=environment, capture_output=True, text=True, timeout=timeout)


# --- the run's outcome, and what CKAN publishes -------------------------------------------------
# (read in the test process, which shares CKAN's databases)

SYSADMIN = {"ignore_auth": True}


def ok(process) -> dict:
    """Assert a clean run (exit 0), showing its output otherwise; returns its report."""
    assert process.returncode == 0, process.stdout + process.stderr
    return report(process)


def report(process) -> dict:
    path = process.stdout.rsplit("report: ", 1)[-1].strip()
    return json.loads(open(path, encoding="utf-8").read())


def city_datasets(city: str) -> dict[str, dict]:
    from ckan import model
    from ckan.tests.helpers import call_action

    model.Session.remove()  # the CKAN server process wrote; read fresh rows, not this process's cached ones
    found = call_action(
        "package_search", fq=f"organization:{city}", rows=100, include_private=True
    )["results"]
    return {
        d["name"]: call_action("package_show", context=dict(SYSADMIN), id=d["id"]) for d in found
    }


def published_state() -> dict:
    """Everything a person or tool sees: datasets, their resources (id, hash) and DataStore row counts."""
    from ckan.tests.helpers import call_action

    state = {}
    for city in CITIES:
        for name, dataset in city_datasets(city).items():
            resources = {}
            for resource in dataset["resources"]:
                rows = None
                if resource.get("datastore_active"):
                    rows = call_action("datastore_search", resource_id=resource["id"], limit=0)[
                        "total"
                    ]
                resources[resource.get("role"), resource["name"]] = (
                    resource["id"],
                    resource.get("hash"),
                    rows,
                )
            state[name] = (
                dataset["state"],
                dataset["title"],
                dataset.get("validation_status"),
                resources,
            )
    return state


def comparable(state: dict) -> dict:
    """The published state without CKAN's generated ids: names, titles, status, file hashes, DataStore rows.

    A Data Package names its dataset's and resources' ids; its hash is taken with those ids blanked out.
    """
    return {
        name: (
            status,
            title,
            validation,
            {
                key: (_without_ids(rid) if key[0] == "datapackage" else digest, rows)
                for key, (rid, digest, rows) in resources.items()
            },
        )
        for name, (status, title, validation, resources) in state.items()
    }


def _without_ids(resource_id: str) -> str:
    from ckan.common import config

    stored = (
        Path(config["ckan.storage_path"])
        / "resources"
        / resource_id[:3]
        / resource_id[3:6]
        / resource_id[6:]
    )
    return hashlib.sha256(UUID.sub("<id>", stored.read_text(encoding="utf-8")).encode()).hexdigest()


def by_role(dataset: dict) -> dict[str, dict]:
    return {r.get("role"): r for r in dataset["resources"]}


class CkanTap(LoopbackServer):
    """A real HTTP proxy in front of CKAN that numbers the write calls passing through.

    ``before_write(n, action)`` runs before the n-th write call is forwarded
    (returning ``"drop"`` keeps it from CKAN), ``after_write(n, action)``
    after CKAN has answered it but before the harvester sees the answer.
    Either may stop a service or kill the harvester. A killed harvester does not
    stop CKAN: the calls it had already sent run to their end, and
    :meth:`wait_idle` waits for them before a test reads what the run left.
    """

    def __init__(self, upstream: str):
        super().__init__(_TapHandler)
        self.upstream = upstream.rstrip("/")
        self.calls: list[str] = []  # every action, in order
        self.writes: list[str] = []  # the write actions, in order
        self.before_write: Callable[[int, str], None] | None = None
        self.after_write: Callable[[int, str], None] | None = None
        self.lock = threading.Lock()
        self.in_flight = 0  # calls forwarded to CKAN whose answer has not come back
        self.idle = threading.Condition(self.lock)

    def wait_idle(self, timeout: float = 120) -> None:
        """Return once CKAN has answered every call forwarded so far."""
        with self.idle:
            if not self.idle.wait_for(lambda: self.in_flight == 0, timeout):
                raise AssertionError(f"CKAN still busy with {self.in_flight} call(s)")


class _TapHandler(BaseHTTPRequestHandler):
    server: CkanTap
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        action = (
            self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            if "/api/" in self.path
            else ""
        )
        number = 0
        with self.server.lock:
            self.server.calls.append(action)
            if action in WRITE_ACTIONS:
                self.server.writes.append(action)
                number = len(self.server.writes)
        if (
            number
            and self.server.before_write
            and self.server.before_write(number, action) == "drop"
        ):
            return  # the caller died before it could send this call: CKAN never sees it
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in ("host", "connection", "content-length")
        }
        with self.server.lock:
            self.server.in_flight += 1
        try:
            answer = requests.request(
                self.command,
                self.server.upstream + self.path,
                data=body,
                headers=headers,
                timeout=120,
                stream=True,
            )
            payload = answer.raw.read(decode_content=False)
        except requests.RequestException as error:
            answer, payload = None, f"tap: CKAN not reachable: {error}".encode()
        finally:
            with self.server.idle:
                self.server.in_flight -= 1
                self.server.idle.notify_all()
        if number and self.server.after_write:
            self.server.after_write(number, action)
        try:
            if answer is None:
                self.send_response(502)
                self.send_header("Content-Type", "text/plain")
            else:
                self.send_response(answer.status_code, answer.reason)
                for name, value in answer.headers.items():
                    if name.lower() not in (
                        "connection",
                        "transfer-encoding",
                        "content-length",
                        "keep-alive",
                    ):
                        self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the harvester was killed meanwhile
            pass
