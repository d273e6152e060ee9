"""The compose stack's Redis and Solr: passwords from the secrets, no admin rights for CKAN, no root.

The compose file is checked as compose resolves it; the pieces the containers
run are run here: docker/redis/start.sh starts a real Redis on a free port with
make-secrets.sh's files, and docker/solr/10-security.sh is sourced the way the
Solr image's run-initdb sources it and writes the security.json Solr reads.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import redis

from .tools import DOCKER, ROOT, clean_env, free_port

SECRETS = {"redis_password", "redis_admin_password", "solr_password", "solr_admin_password"}


@pytest.fixture(scope="module")
def secrets(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "s"
    subprocess.run(
        [str(DOCKER / "make-secrets.sh"), str(path)],
        check=True,
        capture_output=True,
        env=clean_env(),
    )
    return path


def test_redis_runs_start_sh_as_user_redis_with_its_secrets(compose_model):
    redis_ = compose_model["services"]["redis"]
    assert redis_["user"] == "redis"  # the image drops root only for a plain `redis-server` command
    assert redis_["command"] == ["/opt/vierstaedte/redis-start.sh"]
    assert any(
        v["source"] == str(DOCKER / "redis" / "start.sh")
        and v["target"] == "/opt/vierstaedte/redis-start.sh"
        and v.get("read_only")
        for v in redis_["volumes"]
    )
    assert {s["source"] for s in redis_["secrets"]} == {"redis_password", "redis_admin_password"}
    assert "--user admin" in " ".join(
        redis_["healthcheck"]["test"]
    )  # `redis-cli ping` alone gets NOAUTH


def test_solr_writes_security_json_before_it_starts(compose_model):
    solr = compose_model["services"]["solr"]
    mounts = {v["target"]: v["source"] for v in solr["volumes"] if v.get("read_only")}
    assert mounts["/docker-entrypoint-initdb.d/10-security.sh"] == str(
        DOCKER / "solr" / "10-security.sh"
    )
    assert mounts["/opt/vierstaedte/security-json.sh"] == str(
        ROOT / "scripts" / "solr" / "security-json.sh"
    )
    assert {s["source"] for s in solr["secrets"]} == {"solr_password", "solr_admin_password"}
    assert "user" not in solr  # ckan/ckan-solr runs as its user solr (8983)


def test_ckan_gets_only_its_own_passwords(compose_model):
    for name in ("ckan-init", "ckan", "ckan-worker"):
        service = compose_model["services"][name]
        mounted = {s["source"] for s in service["secrets"]}
        assert {"redis_password", "solr_password"} <= mounted
        assert not {"redis_admin_password", "solr_admin_password"} & mounted, (
            f"{name} holds an admin password"
        )
        assert (
            service["environment"]["VIERSTAEDTE_REDIS_PASSWORD_FILE"]
            == "/run/secrets/redis_password"
        )
        assert (
            service["environment"]["VIERSTAEDTE_SOLR_PASSWORD_FILE"] == "/run/secrets/solr_password"
        )


def test_make_secrets_creates_the_service_passwords(secrets):
    for name in SECRETS:
        value = (secrets / name).read_text()
        assert len(value) == 64 and int(value, 16) >= 0, name
        assert (secrets / name).stat().st_mode & 0o777 == 0o444


def test_redis_start_sh_gives_ckan_no_admin_commands(secrets, tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [
            str(DOCKER / "redis" / "start.sh"),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(tmp_path),
            "--save",
            "",
        ],
        env=clean_env(
            REDIS_PASSWORD_FILE=str(secrets / "redis_password"),
            REDIS_ADMIN_PASSWORD_FILE=str(secrets / "redis_admin_password"),
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        admin = redis.Redis(
            port=port,
            username="admin",
            password=(secrets / "redis_admin_password").read_text(),
            socket_timeout=5,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                assert admin.acl_whoami() == "admin"
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "Redis did not start"
                time.sleep(0.2)
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=port, socket_timeout=5).ping()
        ckan = redis.Redis(
            port=port,
            username="ckan",
            password=(secrets / "redis_password").read_text(),
            socket_timeout=5,
        )
        assert ckan.set("queue-probe", "1")
        for command in (
            ("CONFIG", "SET", "dir", "/tmp"),
            ("FLUSHALL",),
            ("SHUTDOWN",),
            ("ACL", "LIST"),
        ):
            with pytest.raises(redis.exceptions.NoPermissionError):
                ckan.execute_command(*command)
        assert str(secrets) not in " ".join(
            Path(f"/proc/{process.pid}/cmdline").read_text().split("\0")
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_redis_start_sh_refuses_a_missing_secret(tmp_path):
    result = subprocess.run(
        [str(DOCKER / "redis" / "start.sh")],
        capture_output=True,
        text=True,
        env=clean_env(REDIS_PASSWORD_FILE=str(tmp_path / "missing")),
    )
    assert result.returncode == 1
    assert "missing or empty" in result.stderr


def test_solr_initdb_script_writes_security_json_when_sourced(secrets, tmp_path):
    """run-initdb sources the script under `set -e`: it must write the file and return, not exit."""
    env = clean_env(
        SOLR_HOME=str(tmp_path),
        SOLR_PASSWORD_FILE=str(secrets / "solr_password"),
        SOLR_ADMIN_PASSWORD_FILE=str(secrets / "solr_admin_password"),
        VIERSTAEDTE_SECURITY_JSON=str(ROOT / "scripts" / "solr" / "security-json.sh"),
    )
    result = subprocess.run(
        ["bash", "-c", f'set -e; . "{DOCKER / "solr" / "10-security.sh"}"; echo sourced'],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "sourced\n"
    security = tmp_path / "security.json"
    assert security.stat().st_mode & 0o777 == 0o600
    config = json.loads(security.read_text())
    for user, secret in (("ckan", "solr_password"), ("admin", "solr_admin_password")):
        digest, salt = config["authentication"]["credentials"][user].split()
        password = (secrets / secret).read_bytes().strip()
        expected = hashlib.sha256(
            hashlib.sha256(base64.b64decode(salt) + password).digest()
        ).digest()
        assert base64.b64decode(digest) == expected, f"Solr would not accept {user}'s password"
    rules = {p["name"]: p["role"] for p in config["authorization"]["permissions"]}
    assert rules["all"] == ["admin"] and "ckan" in rules["read"] and "ckan" in rules["update"]
    assert os.path.basename(config["authorization"]["class"]) == "solr.RuleBasedAuthorizationPlugin"
