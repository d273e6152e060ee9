"""The db service's init scripts and the image's `init` step, on a fresh PostgreSQL 15.

A throwaway cluster stands in for an empty `pg_data` volume: docker/postgres/initdb/
runs on it the way the postgres image runs /docker-entrypoint-initdb.d (as the
superuser, .sh executed, .sql through psql), then `entrypoint.sh init` migrates it
as CKAN would in the ckan-init container.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg2
import pytest

from .tools import CITIES, DOCKER, clean_env, free_port, service_env

INITDB = DOCKER / "postgres" / "initdb"


def pg_bindir() -> Path:
    pg_config = shutil.which("pg_config")
    if not pg_config:
        pytest.fail(
            "pg_config not found: the PostgreSQL 15 server and libpq-dev are needed "
            "(scripts/test installs them)",
            pytrace=False,
        )
    bindir = Path(
        subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    if not (bindir / "initdb").exists():
        pytest.fail(f"no initdb in {bindir}: install the PostgreSQL server package", pytrace=False)
    return bindir


def as_postgres(command: list[str]) -> list[str]:
    """initdb and the server refuse to run as root: the image runs them as postgres too."""
    if os.getuid() != 0:
        return command
    runuser = shutil.which("runuser", path="/usr/sbin:/sbin:/usr/bin:/bin")
    if not runuser:
        pytest.fail("runuser (util-linux) is needed to run PostgreSQL as postgres", pytrace=False)
    return [runuser, "-u", "postgres", "--", *command]


@pytest.fixture(scope="module")
def cluster():
    bindir = pg_bindir()
    base = Path(tempfile.mkdtemp(prefix="vierstaedte-pg-"))
    base.chmod(0o755)
    try:
        subprocess.run(
            [str(DOCKER / "make-secrets.sh"), str(base / "secrets")],
            check=True,
            capture_output=True,
            env=clean_env(),
        )
        (base / "secrets").chmod(
            0o755
        )  # stands in for /run/secrets, which every container user can read
        for sub in ("data", "run"):
            (base / sub).mkdir()
            if os.getuid() == 0:
                shutil.chown(base / sub, "postgres", "postgres")
        port = free_port()
        subprocess.run(
            as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(base / "data"),
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                ]
            ),
            check=True,
            capture_output=True,
            cwd=base,
        )
        options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base / 'run'}"
        subprocess.run(
            as_postgres(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(base / "data"),
                    "-o",
                    options,
                    "-w",
                    "-l",
                    str(base / "run" / "log"),
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
            cwd=base,
        )
        env = clean_env(
            PATH=f"{bindir}:/usr/bin:/bin",
            POSTGRES_USER="postgres",
            POSTGRES_DB="postgres",
            PGHOST=str(base / "run"),
            PGPORT=str(port),
            VIERSTAEDTE_PG_PASSWORD_FILE=str(base / "secrets" / "pg_password"),
            VIERSTAEDTE_PG_READONLY_PASSWORD_FILE=str(base / "secrets" / "pg_readonly_password"),
        )
        # copied as the image copies them to /docker-entrypoint-initdb.d: postgres may not be able to
        # enter the checkout (a clone in a `mktemp -d` folder, mode 700)
        initdb = shutil.copytree(INITDB, base / "initdb")
        for script in sorted(initdb.iterdir()):
            if script.suffix == ".sh":
                command = [str(script)]
            elif script.suffix == ".sql":
                command = [
                    str(bindir / "psql"),
                    "-v",
                    "ON_ERROR_STOP=1",
                    "--username",
                    "postgres",
                    "--no-password",
                    "--no-psqlrc",
                    "--dbname",
                    "postgres",
                    "-f",
                    str(script),
                ]
            else:
                continue
            result = subprocess.run(
                as_postgres(command), capture_output=True, text=True, env=env, cwd=base
            )
            assert result.returncode == 0, f"{script.name}: {result.stderr}"
        yield {"port": port, "secrets": base / "secrets"}
    finally:
        if (base / "data" / "postmaster.pid").exists():
            subprocess.run(
                as_postgres(
                    [str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "fast", "-w", "stop"]
                ),
                capture_output=True,
                cwd=base,
            )
        shutil.rmtree(base, ignore_errors=True)


def connect(cluster, user: str, database: str):
    secret = {"ckan_default": "pg_password", "datastore_ro": "pg_readonly_password"}[user]
    password = (cluster["secrets"] / secret).read_text()
    connection = psycopg2.connect(
        host="127.0.0.1",
        port=cluster["port"],
        user=user,
        password=password,
        dbname=database,
        connect_timeout=5,
    )
    connection.autocommit = True
    return connection


def test_datastore_permissions_file_is_what_the_pinned_ckan_emits():
    spec = importlib.util.spec_from_file_location(
        "datastore_permissions", DOCKER / "postgres" / "datastore_permissions.py"
    )
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert generator.TARGET.read_text(encoding="utf-8") == generator.render(), (
        "run: .venv/bin/python docker/postgres/datastore_permissions.py"
    )


def test_roles_log_in_with_the_secret_files_passwords(cluster):
    for user, database in (
        ("ckan_default", "ckan_default"),
        ("ckan_default", "datastore_default"),
        ("datastore_ro", "datastore_default"),
    ):
        connect(cluster, user, database).close()


def test_read_only_role_cannot_reach_ckans_own_database(cluster):
    with pytest.raises(psycopg2.OperationalError, match="permission denied"):
        connect(cluster, "datastore_ro", "ckan_default")


def test_read_only_role_statements_time_out_after_five_seconds(cluster):
    """The DataStore SQL search's role: bounded in PostgreSQL too (tests/security/test_sql_bounds.py)."""
    reader = connect(cluster, "datastore_ro", "datastore_default")
    try:
        with reader.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone() == ("5s",)
    finally:
        reader.close()


def test_datastore_tables_are_readable_but_not_writable_for_the_read_only_role(cluster):
    writer = connect(cluster, "ckan_default", "datastore_default")
    with writer.cursor() as cursor:
        cursor.execute("CREATE TABLE grants_probe (x int)")
        cursor.execute("INSERT INTO grants_probe VALUES (1)")
    reader = connect(cluster, "datastore_ro", "datastore_default")
    try:
        with reader.cursor() as cursor:
            cursor.execute("SELECT x FROM grants_probe")
            assert cursor.fetchall() == [(1,)]
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("INSERT INTO grants_probe VALUES (2)")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("CREATE TABLE not_allowed (x int)")
    finally:
        reader.close()
        with writer.cursor() as cursor:
            cursor.execute("DROP TABLE grants_probe")
        writer.close()


def test_image_init_migrates_the_fresh_databases_and_creates_the_cities(
    cluster, compose_model, ckan_test_config, tmp_path
):
    env = service_env(compose_model, "ckan-init", cluster["secrets"])
    env.update(
        VIERSTAEDTE_PG_HOST="127.0.0.1",
        VIERSTAEDTE_PG_PORT=str(cluster["port"]),
        VIERSTAEDTE_STORAGE_PATH=str(tmp_path / "storage"),
        CKAN_SOLR_URL=ckan_test_config["solr_url"],
        CKAN_REDIS_URL=ckan_test_config["ckan.redis.url"],
    )
    (tmp_path / "solr-password").write_text(
        ckan_test_config["solr_password"]
    )  # the suite's Solr, not the file's
    env["VIERSTAEDTE_SOLR_PASSWORD_FILE"] = str(tmp_path / "solr-password")
    command = [str(DOCKER / "entrypoint.sh"), "init"]
    for attempt in ("first start", "restart"):  # compose re-runs ckan-init on every `up`
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=600,
            env=clean_env(CKAN_INI=str(tmp_path / "ckan.ini"), **env),
        )
        assert result.returncode == 0, f"{attempt}: {result.stderr[-3000:]}"
        assert result.stdout == "", "init must keep stdout clean"

    connection = connect(cluster, "ckan_default", "ckan_default")
    with connection.cursor() as cursor:
        cursor.execute("""SELECT name FROM "group" WHERE is_organization AND state = 'active'""")
        assert sorted(row[0] for row in cursor.fetchall()) == sorted(CITIES)
    connection.close()
