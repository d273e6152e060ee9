"""Readiness and health checks of the CKAN containers (read the services from $CKAN_INI).

  check.py wait        wait until PostgreSQL (CKAN's database and the DataStore, with both
                       roles), Solr and Redis answer; give up after $VIERSTAEDTE_WAIT_SECONDS
                       (default 300) and name what did not answer
  check.py web [URL]   CKAN's status_show reports success (the image's HEALTHCHECK)
  check.py worker      an RQ worker of this container is registered in Redis (ckan-worker)
  check.py mcp [URL]   the MCP server answers a JSON-RPC ping (mcp; reads no CKAN_INI)

Exit status 0 means healthy/ready. Messages never contain passwords.
"""

from __future__ import annotations

import configparser
import json
import os
import socket
import sys
import time
import urllib.request
from urllib.parse import urlsplit

STATUS_URL = "http://127.0.0.1:5000/api/3/action/status_show"
MCP_URL = "http://127.0.0.1:5003/mcp"


def _log(message: str) -> None:
    print(f"check: {message}", file=sys.stderr, flush=True)


def _one_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return f"{error.__class__.__name__}: {lines[0] if lines else ''}"


def _ini() -> configparser.RawConfigParser:
    path = os.environ.get("CKAN_INI", "")
    parser = configparser.RawConfigParser(strict=False)  # raw: values hold %(here)s and the like
    if not path or not parser.read(path, encoding="utf-8"):
        sys.exit(f"check: cannot read CKAN_INI ({path or 'unset'})")
    return parser


def _postgres(url: str) -> None:
    import psycopg2

    psycopg2.connect(url, connect_timeout=5).close()


def _solr(url: str) -> None:
    with urllib.request.urlopen(url.rstrip("/") + "/admin/ping?wt=json", timeout=5) as response:
        status = json.load(response).get("status")
    if status != "OK":
        raise RuntimeError(f"ping status {status!r}")


def _redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5).ping()


def _label(kind: str, url: str) -> str:
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    return f"{kind} {user}{parts.hostname}:{parts.port or ''}{parts.path}"


def wait(timeout: float) -> int:
    app = _ini()["app:main"]
    checks = {}
    for key in ("sqlalchemy.url", "ckan.datastore.write_url", "ckan.datastore.read_url"):
        checks[_label("PostgreSQL", app[key])] = (_postgres, app[key])
    checks[_label("Solr", app["solr_url"])] = (_solr, app["solr_url"])
    checks[_label("Redis", app["ckan.redis.url"])] = (_redis, app["ckan.redis.url"])

    deadline = time.monotonic() + timeout
    next_report = time.monotonic() + 15
    errors: dict[str, str] = {}
    while True:
        for label, (check, url) in list(checks.items()):
            try:
                check(url)
            except Exception as error:  # noqa: BLE001 - any failure means "not ready yet"
                errors[label] = _one_line(error)
            else:
                del checks[label]
                errors.pop(label, None)
                _log(f"{label}: ready")
        if not checks:
            return 0
        now = time.monotonic()
        if now >= deadline:
            for label in checks:
                _log(f"{label}: not ready after {timeout:.0f} s ({errors[label]})")
            return 1
        if now >= next_report:
            _log("still waiting for " + ", ".join(checks))
            next_report = now + 15
        time.sleep(2)


def web(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=8) as response:
            body = json.load(response)
    except Exception as error:  # noqa: BLE001
        _log(f"{url}: {_one_line(error)}")
        return 1
    if body.get("success") is not True:
        _log(f"{url}: success is {body.get('success')!r}")
        return 1
    return 0


def mcp(url: str) -> int:
    ping = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, ping, headers), timeout=8) as r:
            body = json.load(r)
    except Exception as error:  # noqa: BLE001
        _log(f"{url}: {_one_line(error)}")
        return 1
    if "result" not in body:
        _log(f"{url}: no result: {body.get('error')!r}")
        return 1
    return 0


def worker() -> int:
    import redis
    import rq

    connection = redis.Redis.from_url(_ini()["app:main"]["ckan.redis.url"], socket_timeout=5)
    host = socket.gethostname()
    mine = [w.name for w in rq.Worker.all(connection=connection) if w.hostname == host]
    if not mine:
        _log(f"no RQ worker of host {host} is registered")
        return 1
    return 0


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "wait":
        return wait(float(os.environ.get("VIERSTAEDTE_WAIT_SECONDS", "300")))
    if command == "web":
        return web(argv[2] if len(argv) > 2 else STATUS_URL)
    if command == "worker":
        return worker()
    if command == "mcp":
        return mcp(argv[2] if len(argv) > 2 else MCP_URL)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
