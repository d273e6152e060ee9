"""The stack's services answer only those who must use them, and not as root.

Redis and Solr listen on 127.0.0.1, where every local account (and anything a
request can be bounced through) reaches them. So Redis wants a password and its
app user ``ckan`` has no admin commands (``CONFIG SET dir`` is the classic way
from Redis to a shell), Solr wants a password for everything but a ping, its app
user cannot change cores or configuration, and neither process runs as root.
Secret files are mode 600, also when they existed before with a wider mode.

Checked against the services ``scripts/test`` started (scripts/lib.sh), with
the test profile's config (scripts/ckan_config.py).
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import requests

ROOT = Path(__file__).resolve().parents[2]
STACK_DIR = Path(os.environ.get("VIERSTAEDTE_STACK_DIR", ROOT / ".stack"))


def listening_uid(port: int) -> tuple[int, int]:
    """(pid, real uid) of the process listening on 127.0.0.1:``port``, found through /proc."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(fields[9])
    assert inodes, f"nothing listens on port {port}"
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            links = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        except OSError:  # gone, or not ours to see
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            status = Path(f"/proc/{pid}/status").read_text()
            uid = next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))
            return int(pid), int(uid)
    pytest.fail(f"no process found for the listener on port {port}")


@pytest.fixture
def redis_url(ckan_config) -> str:
    return ckan_config["ckan.redis.url"]


def test_redis_refuses_clients_without_password(redis_url):
    parts = urlsplit(redis_url)
    anonymous = redis.Redis(host=parts.hostname, port=parts.port, socket_timeout=5)
    with pytest.raises(redis.AuthenticationError):
        anonymous.ping()
    with pytest.raises(redis.AuthenticationError):
        anonymous.config_get("dir")


# harmless forms, so that a Redis without the protection is not harmed by the test that finds it out;
# DEBUG is left out: Redis 7 refuses it to every client by itself
@pytest.mark.parametrize(
    "command",
    [
        ("CONFIG", "GET", "dir"),
        ("CONFIG", "SET", "maxmemory-samples", "5"),
        ("SHUTDOWN", "ABORT"),
        ("ACL", "LIST"),
        ("MODULE", "LIST"),
        ("REPLICAOF", "NO", "ONE"),
        ("SWAPDB", "15", "15"),
    ],
)
def test_redis_app_user_has_no_admin_commands(redis_url, command):
    app = redis.Redis.from_url(redis_url, socket_timeout=5)
    assert app.ping()
    with pytest.raises(redis.exceptions.NoPermissionError):
        app.execute_command(*command)


def test_redis_app_user_cannot_wipe_the_databases(redis_url):
    """Asked of Redis without running them (ACL DRYRUN, as the scripts' admin user)."""
    parts = urlsplit(redis_url)
    admin = redis.Redis(
        host=parts.hostname,
        port=parts.port,
        username="admin",
        socket_timeout=5,
        password=(STACK_DIR / "secrets" / "redis-admin-password").read_text().strip(),
    )
    for command in ("FLUSHALL", "FLUSHDB"):
        verdict = admin.execute_command("ACL", "DRYRUN", parts.username, command)
        assert verdict != b"OK" and b"no permissions" in verdict, f"{command}: {verdict}"


def test_redis_app_user_does_its_work(redis_url):
    """CKAN's queues (rq) need keys, lists, sets, Lua scripts and client names: all there."""
    app = redis.Redis.from_url(redis_url, socket_timeout=5)
    app.client_setname("vierstaedte-test")
    app.rpush("vierstaedte-test:list", "a")
    assert app.eval("return redis.call('LPOP', KEYS[1])", 1, "vierstaedte-test:list") == b"a"
    app.set("vierstaedte-test:key", "1")
    assert app.keys("vierstaedte-test:*") == [b"vierstaedte-test:key"]
    assert app.delete("vierstaedte-test:key") == 1
    assert app.info("server")["redis_version"]


@pytest.fixture
def solr(ckan_config) -> dict:
    parts = urlsplit(ckan_config["solr_url"])
    admin = STACK_DIR / "secrets" / "solr-admin-password"
    return {
        "base": f"{parts.scheme}://{parts.netloc}/solr",
        "core": parts.path.rstrip("/").rsplit("/", 1)[1],
        "ckan": (ckan_config.get("solr_user", ""), ckan_config.get("solr_password", "")),
        "admin": ("admin", admin.read_text().strip() if admin.exists() else ""),
    }


def test_solr_admin_api_refuses_anonymous_and_the_app_user(solr):
    base, core = solr["base"], solr["core"]
    requests_ = {
        "core status": ("GET", f"{base}/admin/cores", {"action": "STATUS", "wt": "json"}),
        "core reload": (
            "GET",
            f"{base}/admin/cores",
            {"action": "RELOAD", "core": core, "wt": "json"},
        ),
        "config": ("GET", f"{base}/{core}/config", {"wt": "json"}),
        "system info": ("GET", f"{base}/admin/info/system", {"wt": "json"}),
        "security": ("GET", f"{base}/admin/authentication", {"wt": "json"}),
    }
    for what, (method, url, params) in requests_.items():
        anonymous = requests.request(method, url, params=params, timeout=30)
        assert anonymous.status_code == 401, f"anonymous {what}: {anonymous.status_code}"
        app = requests.request(method, url, params=params, auth=solr["ckan"], timeout=30)
        assert app.status_code == 403, f"CKAN's user, {what}: {app.status_code}"
    change = requests.post(
        f"{base}/{core}/config",
        json={"set-user-property": {"vierstaedte.probe": "1"}},
        auth=solr["ckan"],
        timeout=30,
    )
    assert change.status_code == 403, f"CKAN's user changed the config: {change.status_code}"
    assert (
        requests.get(
            f"{base}/admin/cores",
            params={"action": "STATUS", "wt": "json"},
            auth=solr["admin"],
            timeout=30,
        ).status_code
        == 200
    ), "the admin user (scripts) must manage cores"


def test_solr_documents_are_not_anonymous(solr):
    """The index holds private datasets too: only CKAN's user reads it (anonymous clients may only ping)."""
    url = f"{solr['base']}/{solr['core']}"
    assert requests.get(f"{url}/select", params={"q": "*:*"}, timeout=30).status_code == 401
    assert (
        requests.post(
            f"{url}/update", json={"delete": {"query": "id:no-such-id"}}, timeout=30
        ).status_code
        == 401
    )
    assert (
        requests.get(
            f"{url}/select", params={"q": "*:*"}, auth=solr["ckan"], timeout=30
        ).status_code
        == 200
    )
    assert (
        requests.get(f"{url}/admin/ping", params={"wt": "json"}, timeout=30).json()["status"]
        == "OK"
    )


def test_redis_and_solr_do_not_run_as_root(ckan_config):
    for name, url in (("Redis", ckan_config["ckan.redis.url"]), ("Solr", ckan_config["solr_url"])):
        pid, uid = listening_uid(urlsplit(url).port)
        assert uid != 0, f"{name} (pid {pid}) runs as root"


def test_token_files_become_private(platform, tmp_path):
    """A token file that existed readable by all is mode 600 after the seed step, whether kept or
    rewritten."""
    from ckanext.vierstaedte import seed

    kept = platform["tokens"]["mainz"]  # holds a valid token of harvester-mainz: kept as it is
    stale = tmp_path / "stale.token"  # holds no valid token: rewritten
    stale.write_text("kein-gültiges-token\n")
    for path in (kept, stale):
        path.chmod(0o644)
    token = kept.read_text()
    seed.ensure_harvester("mainz", str(kept), echo=lambda _: None)
    seed.ensure_harvester("mainz", str(stale), echo=lambda _: None)
    assert kept.read_text() == token
    assert stale.read_text().strip() != "kein-gültiges-token"
    for path in (kept, stale):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, (
            f"{path.name}: {oct(path.stat().st_mode)}"
        )


def test_stack_secrets_become_private(tmp_path):
    """scripts/lib.sh's ensure_secret: a password file that existed readable by all ends up mode
    600, unchanged."""
    secret = tmp_path / "pg-password"
    secret.write_text("schon-da\n")
    secret.chmod(0o644)
    subprocess.run(
        ["bash", "-c", 'source scripts/lib.sh && ensure_secret "$1"', "-", str(secret)],
        cwd=ROOT,
        env=dict(os.environ, VIERSTAEDTE_STACK_DIR=str(tmp_path)),
        check=True,
    )
    assert secret.read_text() == "schon-da\n"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
