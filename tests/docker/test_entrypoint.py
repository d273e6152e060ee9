"""docker/entrypoint.sh: the image writes the ckan.ini the local stack writes, then waits and execs.

The environment is the ckan service's as docker compose resolves it from
.env.example, with /run/secrets/* and the image's paths moved into a temporary
directory.
"""

from __future__ import annotations

import configparser
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .tools import DOCKER, ROOT, clean_env, service_env

ENTRYPOINT = DOCKER / "entrypoint.sh"


@pytest.fixture
def compose_env(compose_model, tmp_path) -> dict[str, str]:
    """The ckan service's environment with its secrets and image paths in tmp_path."""
    secrets = tmp_path / "secrets"
    result = subprocess.run(
        [str(DOCKER / "make-secrets.sh"), str(secrets)],
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    assert result.returncode == 0, result.stderr
    env = service_env(compose_model, "ckan", secrets)
    # the image's ENV (docker/Dockerfile), relocated
    assert "VIERSTAEDTE_STORAGE_PATH=/var/lib/ckan" in (DOCKER / "Dockerfile").read_text()
    env["VIERSTAEDTE_STORAGE_PATH"] = str(tmp_path / "storage")
    return env


def read_app_main(path: Path) -> dict[str, str]:
    parser = configparser.RawConfigParser(strict=False)
    parser.read(path, encoding="utf-8")
    return dict(parser["app:main"])


def entrypoint(
    *args: str, env: dict[str, str], ini: Path, timeout: int = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ENTRYPOINT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(CKAN_INI=str(ini), **env),
    )


def local_stack_config(env: dict[str, str], ini: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "ckan_config.py"),
            "--profile",
            "site",
            "--out",
            str(ini),
        ],
        check=True,
        capture_output=True,
        env=clean_env(**env),
    )


class TestConfigStep:
    def test_writes_exactly_the_file_the_local_stack_writes_from_the_same_environment(
        self, compose_env, tmp_path
    ):
        image_ini, stack_ini = tmp_path / "image" / "ckan.ini", tmp_path / "stack" / "ckan.ini"
        result = entrypoint("config", env=compose_env, ini=image_ini)
        assert result.returncode == 0, result.stderr
        local_stack_config(compose_env, stack_ini)
        # both are fresh `ckan generate config` files: identical because SECRET_KEY, the only
        # random value CKAN generates, comes from the shared secret file
        assert image_ini.read_bytes() == stack_ini.read_bytes()

        settings = read_app_main(image_ini)
        secrets = tmp_path / "secrets"
        assert settings["secret_key"] == (secrets / "ckan_secret_key").read_text()
        password = (secrets / "pg_password").read_text()
        assert (
            settings["sqlalchemy.url"]
            == f"postgresql://ckan_default:{password}@db:5432/ckan_default"
        )
        assert settings["ckan.datastore.read_url"].endswith("@db:5432/datastore_default")
        assert settings["solr_url"] == "http://solr:8983/solr/ckan"
        assert (
            settings["ckan.search.solr_commit"] == "false"
        )  # Solr's own 3 s soft commit makes writes searchable
        redis_password = (secrets / "redis_password").read_text()
        assert settings["ckan.redis.url"] == f"redis://ckan:{redis_password}@redis:6379/0"
        assert settings["solr_user"] == "ckan"
        assert settings["solr_password"] == (secrets / "solr_password").read_text()
        assert (
            settings["ckan.site_url"]
            == settings["ckanext.dcat.base_uri"]
            == "https://daten.example.de"
        )
        assert settings["ckan.storage_path"] == str(tmp_path / "storage")
        assert settings["session_cookie_secure"] == settings["remember_cookie_secure"] == "true"
        assert settings["ckan.max_resource_size"] == "100"
        assert stat.S_IMODE(image_ini.stat().st_mode) == 0o600

    def test_managed_postgres_settings_reach_the_database_urls(self, compose_env, tmp_path):
        compose_env.update(
            VIERSTAEDTE_PG_HOST="pg.example.org",
            VIERSTAEDTE_PG_PORT="6432",
            VIERSTAEDTE_PG_DB="vs_ckan",
            VIERSTAEDTE_PG_DATASTORE_DB="vs_datastore",
            VIERSTAEDTE_PG_SSLMODE="verify-full",
        )
        ini = tmp_path / "ckan.ini"
        result = entrypoint("config", env=compose_env, ini=ini)
        assert result.returncode == 0, result.stderr
        settings = read_app_main(ini)
        assert settings["sqlalchemy.url"].endswith(
            "@pg.example.org:6432/vs_ckan?sslmode=verify-full"
        )
        assert settings["ckan.datastore.write_url"].endswith(
            "@pg.example.org:6432/vs_datastore?sslmode=verify-full"
        )

    def test_rewriting_keeps_the_file_and_the_operators_additions(self, compose_env, tmp_path):
        ini = tmp_path / "ckan.ini"
        assert entrypoint("config", env=compose_env, ini=ini).returncode == 0
        ckan = str(Path(sys.executable).with_name("ckan"))
        subprocess.run(
            [ckan, "config-tool", str(ini), "ckan.site_intro_text=Willkommen"],
            check=True,
            capture_output=True,
            env=clean_env(),
        )
        before = ini.read_bytes()
        assert entrypoint("config", env=compose_env, ini=ini).returncode == 0
        assert ini.read_bytes() == before
        assert read_app_main(ini)["ckan.site_intro_text"] == "Willkommen"

    def test_refuses_to_start_without_a_shared_secret_key(self, compose_env, tmp_path):
        del compose_env["VIERSTAEDTE_SECRET_KEY_FILE"]
        ini = tmp_path / "ckan.ini"
        result = entrypoint("config", env=compose_env, ini=ini)
        assert result.returncode == 1
        assert "VIERSTAEDTE_SECRET_KEY_FILE" in result.stderr
        assert not ini.exists()

    def test_refuses_an_empty_secret_key_file(self, compose_env, tmp_path):
        Path(compose_env["VIERSTAEDTE_SECRET_KEY_FILE"]).chmod(0o644)
        Path(compose_env["VIERSTAEDTE_SECRET_KEY_FILE"]).write_text("")
        result = entrypoint("config", env=compose_env, ini=tmp_path / "ckan.ini")
        assert result.returncode == 1
        assert "missing or empty" in result.stderr


class TestStartsTheCommand:
    @pytest.fixture
    def test_services_env(self, compose_env, ckan_test_config, tmp_path) -> dict[str, str]:
        """compose_env, but pointing at the suite's PostgreSQL, Solr and Redis."""
        rw, ro = (
            urlsplit(ckan_test_config[key]) for key in ("sqlalchemy.url", "ckan.datastore.read_url")
        )
        (tmp_path / "rw").write_text(rw.password)
        (tmp_path / "ro").write_text(ro.password)
        (tmp_path / "solr").write_text(ckan_test_config["solr_password"])
        compose_env.update(
            VIERSTAEDTE_PG_HOST=rw.hostname,
            VIERSTAEDTE_PG_PORT=str(rw.port or 5432),
            VIERSTAEDTE_PG_DB=rw.path.strip("/"),
            VIERSTAEDTE_PG_DATASTORE_DB=ro.path.strip("/"),
            VIERSTAEDTE_PG_PASSWORD_FILE=str(tmp_path / "rw"),
            VIERSTAEDTE_PG_READONLY_PASSWORD_FILE=str(tmp_path / "ro"),
            CKAN_SOLR_URL=ckan_test_config["solr_url"],
            CKAN_REDIS_URL=ckan_test_config["ckan.redis.url"],
            VIERSTAEDTE_SOLR_PASSWORD_FILE=str(tmp_path / "solr"),
        )
        return compose_env

    def test_waits_for_the_services_then_execs_the_command_with_a_clean_stdout(
        self, test_services_env, tmp_path
    ):
        result = entrypoint(
            "sh",
            "-c",
            'echo "command ran with $CKAN_INI"',
            env=test_services_env,
            ini=tmp_path / "ckan.ini",
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == f"command ran with {tmp_path / 'ckan.ini'}\n"
        for service in (
            "PostgreSQL ckan_default@127.0.0.1:5432/ckan_test",
            "PostgreSQL datastore_ro@",
            "Solr",
            "Redis",
        ):
            assert service in result.stderr
        assert "ckan db init" not in result.stderr  # VIERSTAEDTE_SKIP_INIT=1, as compose sets it

    def test_gives_up_naming_the_service_that_does_not_answer(self, test_services_env, tmp_path):
        test_services_env.update(
            CKAN_REDIS_URL="redis://127.0.0.1:9/0", VIERSTAEDTE_WAIT_SECONDS="3"
        )
        result = entrypoint("true", env=test_services_env, ini=tmp_path / "ckan.ini", timeout=60)
        assert result.returncode == 1
        assert (
            "Redis ckan@127.0.0.1:9/0: not ready after 3 s" in result.stderr
        )  # the user, not its password
        assert (
            Path(test_services_env["VIERSTAEDTE_PG_PASSWORD_FILE"]).read_text().strip()
            not in result.stderr
        )
        assert (
            Path(test_services_env["VIERSTAEDTE_REDIS_PASSWORD_FILE"]).read_text().strip()
            not in result.stderr
        )
