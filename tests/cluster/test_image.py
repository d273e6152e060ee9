"""The production image, built here and run against the cluster's PostgreSQL, Solr and Redis.

No Docker engine runs on this machine, so the image (docker/Dockerfile) is built with buildah
from a Debian base made by debootstrap, and run with `buildah run --isolation chroot` on the
host's network (`scripts/image`, docs/deploy.md). This is the only place the Dockerfile, the
entrypoint and gunicorn's settings are exercised together: the entrypoint's `init` must create
the schema and the city organisations in an empty database on the cluster's primary, and the
image's default command (gunicorn) must answer status_show with CKAN 2.12 and our plugins and
search the SolrCloud collection through the cluster's Solr load balancer.

The build reuses the cached base and buildah's layers; a first build on a new machine downloads
Debian packages and CKAN's wheels (docs/deploy.md has the timings). VIERSTAEDTE_SKIP_IMAGE=1
skips this module with that reason in the summary; without it, a failed build fails the test.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from vierstaedte_contract import cities

ROOT = Path(__file__).resolve().parents[2]
IMAGE_SCRIPT = ROOT / "scripts" / "image"
STACK = Path(os.environ.get("VIERSTAEDTE_STACK_DIR", ROOT / ".stack"))
BUILD_TIMEOUT = 1800  # a first build on a new machine; a cached one takes well under a minute
IMAGE_USER = 92  # docker/Dockerfile's USER

if os.environ.get("VIERSTAEDTE_SKIP_IMAGE") == "1":
    pytestmark = pytest.mark.skip(reason="VIERSTAEDTE_SKIP_IMAGE=1: the image is not built")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def image() -> str:
    """Build the image (or reuse it): `scripts/image build` prints its timings."""
    if not shutil.which("buildah"):
        pytest.fail("buildah is not installed: scripts/test installs it (install_cluster_tools)")
    started = time.monotonic()
    result = subprocess.run(
        [str(IMAGE_SCRIPT), "build"], capture_output=True, text=True, timeout=BUILD_TIMEOUT
    )
    if result.returncode != 0:
        pytest.fail(
            f"scripts/image build failed after {time.monotonic() - started:.0f} s:\n"
            + result.stderr[-4000:],
            pytrace=False,
        )
    for line in result.stderr.splitlines():
        if "timing:" in line:  # scripts/image's own figures, without its bold "==> "
            print(re.sub(r"\x1b\[[0-9;]*m|==> ", "", line))
    name = subprocess.run(
        [str(IMAGE_SCRIPT), "name"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert re.fullmatch(r"localhost/vierstaedte/ckan:\d+\.\d+\.\d+", name), name
    return name


@pytest.fixture(scope="module")
def backends(cluster, tmp_path_factory) -> Iterator[dict]:
    """An empty database pair on the cluster's primary, with its Solr and Redis and the secrets.

    Fresh databases, not the cluster's own: the image's ckan.ini is the site profile's, whose
    Solr site_id is not the cluster nodes' (scripts/ckan_config.py), so its `search-index
    rebuild --only-missing` would index the cluster's datasets a second time. An empty
    database also makes `init` do a first deployment's work: the schema and the cities.
    The secrets go into a folder only the image's user may read, mounted at /run/secrets as
    compose mounts Docker secrets; the container gets file names, never values.
    """
    suffix = secrets.token_hex(4)
    db, datastore = f"ckan_image_{suffix}", f"datastore_image_{suffix}"
    # the cluster's PostgreSQL roles have passwords of their own (scripts/cluster); Solr's and
    # Redis' are the stack's (the contract)
    files = {
        "pg_password": STACK / "secrets" / "cluster-pg-password",
        "pg_readonly_password": STACK / "secrets" / "cluster-pg-readonly-password",
        "solr_password": STACK / "secrets" / "solr-password",
        "redis_password": STACK / "secrets" / "redis-password",
    }
    for path in files.values():
        assert path.is_file(), f"{path} is missing: the test cluster writes it (scripts/cluster)"
    for name in (db, datastore):
        cluster.psql(
            f"CREATE DATABASE \"{name}\" OWNER ckan_default ENCODING 'UTF8' TEMPLATE template0",
            database="postgres",
        )
    folder = tmp_path_factory.mktemp("image-secrets")
    for target, source in files.items():
        shutil.copyfile(source, folder / target)
    (folder / "ckan_secret_key").write_text(secrets.token_hex(32))
    for path in [folder, *folder.iterdir()]:
        os.chown(path, IMAGE_USER, IMAGE_USER)
        path.chmod(0o500 if path.is_dir() else 0o400)
    try:
        yield {
            "pg_host": "127.0.0.1",
            "pg_port": str(cluster.pg_port(cluster.primary)),
            "db": db,
            "datastore": datastore,
            "solr_url": f"{cluster.solr_url}/ckan",  # nginx over both Solr nodes
            "redis_url": f"redis://127.0.0.1:6379/{cluster.redis_db}",
            "secrets": folder,
            "pg_password": files["pg_password"].read_text().strip(),
        }
    finally:
        for name in (db, datastore):
            cluster.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', database="postgres")


def run_options(backends: dict, port: int) -> list[str]:
    """`scripts/image run` options: the compose file's ckan environment, for these services."""
    env = {
        "CKAN_SITE_URL": f"http://127.0.0.1:{port}",
        "CKAN_SOLR_URL": backends["solr_url"],
        "CKAN_REDIS_URL": backends["redis_url"],
        "VIERSTAEDTE_PG_HOST": backends["pg_host"],
        "VIERSTAEDTE_PG_PORT": backends["pg_port"],
        "VIERSTAEDTE_PG_DB": backends["db"],
        "VIERSTAEDTE_PG_DATASTORE_DB": backends["datastore"],
        "VIERSTAEDTE_PG_PASSWORD_FILE": "/run/secrets/pg_password",
        "VIERSTAEDTE_PG_READONLY_PASSWORD_FILE": "/run/secrets/pg_readonly_password",
        "VIERSTAEDTE_SECRET_KEY_FILE": "/run/secrets/ckan_secret_key",
        "VIERSTAEDTE_REDIS_PASSWORD_FILE": "/run/secrets/redis_password",
        "VIERSTAEDTE_SOLR_PASSWORD_FILE": "/run/secrets/solr_password",
        "VIERSTAEDTE_SECURE_COOKIES": "false",
        "VIERSTAEDTE_DEMO": "false",
        "VIERSTAEDTE_WAIT_SECONDS": "60",
        # the host's network: loopback only, and not the stack's port 5000
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --workers 2",
        "VIERSTAEDTE_SKIP_INIT": "1",
    }
    options = [f"--env={key}={value}" for key, value in env.items()]
    return [*options, f"--volume={backends['secrets']}:/run/secrets:ro"]


def status(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)
    except OSError:
        return None


def test_the_built_image_runs_as_ckan_and_keeps_nothing_of_the_build(image):
    inspected = json.loads(
        subprocess.run(
            ["buildah", "inspect", "--type", "image", image],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    config = inspected["OCIv1"]["config"]
    assert config["User"] == f"{IMAGE_USER}:{IMAGE_USER}"
    assert config["Entrypoint"] == ["/srv/app/src/vierstaedte/docker/entrypoint.sh"]
    assert config["Cmd"][0] == "gunicorn"
    # the docker format keeps the HEALTHCHECK (OCI has none)
    assert inspected["Docker"]["config"]["Healthcheck"]["Test"][-1] == "web"
    assert not [v for v in config["Env"] if re.match(r"PIP_|\w*(PASSWORD|SECRET|TOKEN)", v)]
    # the proxy's CA bundle was mounted for the build steps only; pip's cache stayed outside
    container = subprocess.run(
        ["buildah", "from", "--pull-never", image], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        root = Path(
            subprocess.run(
                ["buildah", "mount", container], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
        assert not (root / "run" / "host-ca-certificates.crt").exists()
        assert not (root / "root" / ".cache" / "pip").exists()
        assert not (root / "usr" / "bin" / "gcc").exists()  # the compiler stayed in the build
        assert (root / "srv" / "app" / "venv" / "bin" / "gunicorn").is_file()
        assert (root / "usr" / "bin" / "python3.11").is_file()  # Debian's, which the venv uses
    finally:
        subprocess.run(["buildah", "rm", container], capture_output=True)


def test_entrypoint_init_then_gunicorn_answers_status_show(image, backends):
    port = free_port()
    options = run_options(backends, port)

    started = time.monotonic()
    init = subprocess.run(
        [str(IMAGE_SCRIPT), "run", *options, "--", "init"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert init.returncode == 0, init.stderr[-4000:]
    print(f"entrypoint init in the image: {time.monotonic() - started:.1f} s")
    assert "entrypoint: wrote /etc/ckan/ckan.ini" in init.stderr
    assert backends["pg_password"] not in init.stdout + init.stderr
    # the schema and the contract's cities, written by the image's CKAN into the empty database
    with (
        psycopg2.connect(
            host=backends["pg_host"],
            port=backends["pg_port"],
            dbname=backends["db"],
            user="ckan_default",
            password=backends["pg_password"],
        ) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT name FROM \"group\" WHERE is_organization AND state = 'active'")
        assert {row[0] for row in cursor} >= set(cities.names())
        cursor.execute("SELECT count(*) FROM alembic_version")
        assert cursor.fetchone()[0] == 1

    url = f"http://127.0.0.1:{port}/api/3/action/status_show"
    server = subprocess.Popen(
        [str(IMAGE_SCRIPT), "run", *options, "--"],  # no arguments: the image's CMD, gunicorn
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        started = time.monotonic()
        body = None
        while time.monotonic() - started < 180 and server.poll() is None:
            body = status(url)
            if body:
                break
            time.sleep(1)
        assert body, f"no answer from {url} within 180 s (exit {server.poll()})"
        print(f"gunicorn in the image answered after {time.monotonic() - started:.1f} s")
        assert body["success"] is True
        assert body["result"]["ckan_version"].startswith("2.12.")
        assert {"vierstaedte", "scheming_datasets", "dcat", "datastore"} <= set(
            body["result"]["extensions"]
        )
        organizations = status(f"http://127.0.0.1:{port}/api/3/action/organization_list")
        assert set(organizations["result"]) == set(cities.names())
        # a search goes to the SolrCloud collection with the Solr user's password
        search = status(f"http://127.0.0.1:{port}/api/3/action/package_search?rows=0")
        assert search["success"] is True and search["result"]["count"] == 0, search
        # gunicorn (the master and its 2 workers) runs as the image's user, not as root
        pids = subprocess.run(
            ["pgrep", "-s", str(server.pid), "-f", r"^\S+/python3? /srv/app/venv/bin/gunicorn "],
            capture_output=True,
            text=True,
        ).stdout.split()
        assert len(pids) >= 3, pids
        owners = {
            int(line.split()[1])
            for pid in pids
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if line.startswith("Uid:")
        }
        assert owners == {IMAGE_USER}
        # the image's HEALTHCHECK command, run in the image against this server
        check = subprocess.run(
            [
                str(IMAGE_SCRIPT),
                "run",
                *options,
                "--",
                "python",
                "/srv/app/src/vierstaedte/docker/check.py",
                "web",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert check.returncode == 0, check.stderr[-2000:]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            output, _ = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            output, _ = server.communicate()
    assert "Booting worker" in output
    assert backends["pg_password"] not in output
    # `scripts/image run` removed its working containers
    left = subprocess.run(
        ["buildah", "containers", "--format", "{{.ContainerName}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert not [name for name in left if name == f"vierstaedte-run-{server.pid}"]
