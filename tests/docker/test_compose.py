"""docker/docker-compose.yml: valid for docker compose, and the deployment rules hold."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from .tools import CITIES, DOCKER, ROOT, clean_env, run_compose

OUR_IMAGE_SERVICES = {"ckan-init", "ckan", "ckan-worker", "harvester"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY\b|_KEY_")
CREDENTIALS_IN_URL = re.compile(r"://[^/@\s:]+:[^/@\s]+@")


def names_a_secret(key: str) -> bool:
    """PASSWORD, SECRET_KEY…, but not a directory of secret files."""
    return bool(SECRET_NAME.search(key)) and not key.endswith("_DIR")


def env_example() -> dict[str, str]:
    """Variables of .env.example, set or commented out."""
    found = {}
    for line in (DOCKER / ".env.example").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


class TestValidates:
    def test_compose_config_accepts_the_file_with_env_example(self):
        result = run_compose("config", "--quiet")
        assert result.returncode == 0, result.stderr

    def test_managed_postgres_and_solr_leave_a_valid_stack(self):
        result = run_compose(
            "config",
            "--services",
            COMPOSE_PROFILES="",
            VIERSTAEDTE_PG_HOST="pg.example.org",
            CKAN_SOLR_URL="http://solr.example.org/solr/ckan",
        )
        assert result.returncode == 0, result.stderr
        assert set(result.stdout.split()) == {
            "ckan-init",
            "ckan",
            "ckan-worker",
            "mcp",
            "nginx",
            "redis",
        }

    @pytest.mark.parametrize("variable", ["CKAN_SITE_URL", "VIERSTAEDTE_SERVER_NAME"])
    def test_missing_required_setting_is_an_error_naming_it(self, tmp_path, variable):
        env_file = tmp_path / ".env"
        env_file.write_text(
            "".join(f"{k}={v}\n" for k, v in env_example().items() if k != variable)
        )
        result = run_compose("config", "--quiet", env_file=env_file)
        assert result.returncode != 0
        assert variable in result.stderr


class TestServices:
    def test_every_service_has_a_pinned_image(self, compose_model):
        for name, service in compose_model["services"].items():
            image = service.get("image", "")
            assert re.fullmatch(r"[\w./-]+:[\w.-]+", image), (
                f"{name}: image {image!r} has no explicit tag"
            )
            assert not image.endswith(":latest"), name

    def test_our_services_share_the_image_built_from_docker_dockerfile(self, compose_model):
        services = compose_model["services"]
        assert len({services[name]["image"] for name in OUR_IMAGE_SERVICES}) == 1
        for name in OUR_IMAGE_SERVICES - {"harvester"}:
            build = services[name]["build"]
            assert Path(build["context"]) == ROOT and build["dockerfile"] == "docker/Dockerfile", (
                name
            )

    def test_every_long_running_service_has_a_healthcheck(self, compose_model):
        for name, service in compose_model["services"].items():
            if service.get("restart") == "no":
                continue
            check = service.get("healthcheck", {})
            assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"

    def test_web_health_is_status_show(self, compose_model):
        test = compose_model["services"]["ckan"]["healthcheck"]["test"]
        assert test[-2:] == ["/srv/app/src/vierstaedte/docker/check.py", "web"]
        assert "/api/3/action/status_show" in (DOCKER / "check.py").read_text()

    def test_only_nginx_publishes_ports(self, compose_model):
        published = {
            name for name, service in compose_model["services"].items() if service.get("ports")
        }
        assert published == {"nginx"}

    def test_web_and_worker_scale(self, compose_model):
        for name in ("ckan", "ckan-worker"):
            service = compose_model["services"][name]
            assert "container_name" not in service, (
                f"{name} cannot be scaled with a fixed container_name"
            )
            assert service["deploy"]["replicas"] >= 1

    def test_only_the_cron_daemon_runs_as_root(self, compose_model):
        # the image's USER is ckan (92); only the harvester's cron needs root and drops it per job
        as_root = {
            name
            for name, s in compose_model["services"].items()
            if s.get("user", "").split(":")[0] in {"0", "root"}
        }
        assert as_root == {"harvester"}

    def test_database_migrations_run_once_before_web_and_workers(self, compose_model):
        services = compose_model["services"]
        assert services["ckan-init"]["command"] == ["init"]
        for name in ("ckan", "ckan-worker"):
            assert (
                services[name]["depends_on"]["ckan-init"]["condition"]
                == "service_completed_successfully"
            )
            assert services[name]["environment"]["VIERSTAEDTE_SKIP_INIT"] == "1"

    def test_harvester_runs_every_city_of_the_contract_with_the_cli_contract(self, compose_model):
        harvester = compose_model["services"]["harvester"]
        env = harvester["environment"]
        assert env["VIERSTAEDTE_HARVEST_CITIES"] == ""  # cron.sh: then every city of the contract
        assert {"VIERSTAEDTE_CKAN_URL", "VIERSTAEDTE_STATE_DIR"} <= set(env)
        assert "secrets" not in harvester  # its tokens are one directory: a new city needs no edit
        volumes = {v["target"]: v for v in harvester["volumes"]}
        tokens = volumes[env["VIERSTAEDTE_HARVEST_TOKEN_DIR"]]
        assert (Path(tokens["source"]), tokens["read_only"]) == (
            DOCKER / "secrets" / "harvest_tokens",
            True,
        )
        assert env["VIERSTAEDTE_STATE_DIR"] in volumes


class TestSecrets:
    def test_no_secret_in_any_environment(self, compose_model):
        for name, service in compose_model["services"].items():
            mounted = {s["source"] for s in service.get("secrets", [])}
            for key, value in (service.get("environment") or {}).items():
                assert not CREDENTIALS_IN_URL.search(value or ""), f"{name}.{key} holds credentials"
                if names_a_secret(key):
                    assert key.endswith("_FILE"), f"{name}.{key}: pass secrets as *_FILE"
                    assert value.startswith("/run/secrets/"), f"{name}.{key}={value}"
                    assert value.removeprefix("/run/secrets/") in mounted, (
                        f"{name} does not mount {value}"
                    )

    def test_secret_files_are_the_ones_make_secrets_creates(self, compose_model, tmp_path):
        secrets = compose_model["secrets"]
        for name, secret in secrets.items():
            assert Path(secret["file"]) == DOCKER / "secrets" / name
        result = subprocess.run(
            [str(DOCKER / "make-secrets.sh"), str(tmp_path / "s")],
            capture_output=True,
            text=True,
            env=clean_env(),
        )
        assert result.returncode == 0, result.stderr
        assert {p.name for p in (tmp_path / "s").iterdir()} == set(secrets) | {"harvest_tokens"}
        assert sorted(p.name for p in (tmp_path / "s" / "harvest_tokens").iterdir()) == sorted(
            CITIES
        )

    def test_make_secrets_adds_a_new_citys_token_file_and_moves_older_ones(self, tmp_path):
        """A city added to the contract gets its placeholder; an older stack's token files move in."""
        secrets = tmp_path / "s"
        secrets.mkdir()
        (secrets / "harvest_token_mainz").write_text("token-of-mainz")
        (secrets / "harvest_tokens").mkdir()
        (secrets / "harvest_tokens" / "trier").write_text("token-of-trier")
        result = subprocess.run(
            [str(DOCKER / "make-secrets.sh"), str(secrets)],
            capture_output=True,
            text=True,
            env=clean_env(),
        )
        assert result.returncode == 0, result.stderr
        tokens = {p.name: p.read_text() for p in (secrets / "harvest_tokens").iterdir()}
        assert tokens == {
            city: {"mainz": "token-of-mainz", "trier": "token-of-trier"}.get(city, "")
            for city in CITIES
        }
        assert not (secrets / "harvest_token_mainz").exists()

    def test_every_secret_is_explained_in_the_deployment_guide(self, compose_model):
        guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
        for name in compose_model["secrets"]:
            assert f"`{name}`" in guide, f"docs/deploy.md does not explain the secret {name}"

    def test_operator_files_are_ignored_by_git(self):
        for path in ("docker/.env", "docker/secrets/pg_password", "docker/tls/privkey.pem"):
            result = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", path])
            assert result.returncode == 0, f"{path} is not git-ignored"


class TestEnvExample:
    def test_every_variable_the_compose_file_reads_is_in_env_example(self):
        used = set(
            re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (DOCKER / "docker-compose.yml").read_text())
        )
        assert used - set(env_example()) == set()

    def test_env_example_sets_nothing_the_compose_file_ignores(self):
        used = set(
            re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (DOCKER / "docker-compose.yml").read_text())
        )
        assert set(env_example()) - used - {"COMPOSE_PROFILES"} == set()

    def test_env_example_holds_no_secret(self):
        for key, value in env_example().items():
            assert not (names_a_secret(key) and value), f"{key} looks like a secret"
            assert not CREDENTIALS_IN_URL.search(value), key

    @pytest.mark.parametrize("nginx_conf", ["tls", "http"])
    def test_files_the_stack_mounts_from_the_repository_exist(self, nginx_conf):
        result = run_compose("config", "--format", "json", VIERSTAEDTE_NGINX_CONF=nginx_conf)
        assert result.returncode == 0, result.stderr
        for name, service in json.loads(result.stdout)["services"].items():
            for volume in service.get("volumes", []):
                source = Path(volume.get("source", ""))
                # the operator's certificates and harvest tokens (make-secrets.sh) are not in the repository
                operators = {DOCKER / "tls", DOCKER / "secrets" / "harvest_tokens"}
                if volume["type"] == "bind" and source not in operators:
                    assert source.exists(), f"{name}: {source} does not exist"
