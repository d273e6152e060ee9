"""docker/Dockerfile and the image's scripts: hadolint, shellcheck and the image's rules."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from .tools import DOCKER, ROOT, VENV_BIN, clean_env, find_tool

SCRIPTS = sorted(p for p in DOCKER.rglob("*.sh"))


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DOCKER / "Dockerfile").read_text(encoding="utf-8"))
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, args = line.partition(" ")
            result.append((keyword.upper(), args.strip()))
    return result


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def test_hadolint_passes():
    result = subprocess.run(
        [
            find_tool("hadolint"),
            "--no-color",
            "--config",
            str(DOCKER / ".hadolint.yaml"),
            str(DOCKER / "Dockerfile"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(DOCKER)))
def test_shell_scripts_pass_shellcheck_and_are_executable(script):
    result = subprocess.run([find_tool("shellcheck"), str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert script.stat().st_mode & 0o111, f"{script} is not executable"


def test_base_image_is_python_311_slim_bookworm_pinned_to_a_patch_release():
    arg = next(
        args
        for keyword, args in instructions()
        if keyword == "ARG" and args.startswith("PYTHON_IMAGE=")
    )
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", arg)
    for keyword, args in instructions():
        if keyword == "FROM":
            assert args.split()[0] == "${PYTHON_IMAGE}", args


def test_runs_as_the_unprivileged_ckan_user():
    stage = final_stage()
    users = [args for keyword, args in stage if keyword == "USER"]
    assert users and users[-1] == "92:92"
    created = " ".join(args for keyword, args in stage if keyword == "RUN")
    assert "--uid 92 --gid ckan" in created and "groupadd --system --gid 92 ckan" in created


def test_installs_this_repository_with_the_ckan_and_mcp_extras():
    runs = [args for keyword, args in instructions() if keyword == "RUN"]
    assert any('pip install ".[ckan,mcp]"' in args for args in runs)


def test_serves_the_wsgi_app_with_gunicorn_and_checks_status_show():
    stage = dict(
        (keyword, args)
        for keyword, args in final_stage()
        if keyword in {"CMD", "ENTRYPOINT", "HEALTHCHECK"}
    )
    cmd = json.loads(stage["CMD"])
    assert cmd[0] == "gunicorn" and cmd[-1] == "ckanext.vierstaedte.wsgi:application"
    assert cmd[cmd.index("--config") + 1] == "/srv/app/src/vierstaedte/docker/gunicorn.conf.py"
    assert json.loads(stage["ENTRYPOINT"]) == ["/srv/app/src/vierstaedte/docker/entrypoint.sh"]
    healthcheck = json.loads(stage["HEALTHCHECK"].split(" CMD ", 1)[1])
    assert healthcheck == ["python", "/srv/app/src/vierstaedte/docker/check.py", "web"]


def test_nothing_secret_or_remote_goes_into_the_image():
    for keyword, args in instructions():
        assert keyword != "ADD", "use COPY; ADD fetches URLs and unpacks archives"
        if keyword == "ENV":
            assert not re.search(r"PASSWORD|SECRET|TOKEN", args), args
        if keyword == "COPY" and "--from=" not in args:
            sources = args.split()[:-1]
            assert "." not in sources and "docker" not in sources, (
                f"COPY {args}: copy named files only"
            )


def test_every_copied_file_passes_the_dockerignore_allow_list():
    lines = (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules[0] == "**", "the ignore file must start by excluding everything"
    allowed = [rule[1:].rstrip("/") for rule in rules if rule.startswith("!")]
    for keyword, args in instructions():
        if keyword == "COPY" and "--from=" not in args:
            for source in args.split()[:-1]:
                assert any(source == a or source.startswith(a + "/") for a in allowed), (
                    f"{source} is ignored"
                )
                assert (ROOT / source).exists(), source
    for private in ("docker/secrets", "docker/.env", "docker/tls", ".stack", ".venv"):
        assert not any(private == a or private.startswith(a + "/") for a in allowed), private


def test_gunicorn_settings_load_and_gunicorn_cmd_args_override_them(ckan_test_config):
    # --print-config also imports the WSGI app, which reads CKAN_INI
    def printed(**env: str) -> str:
        result = subprocess.run(
            [
                str(VENV_BIN / "gunicorn"),
                "--config",
                str(DOCKER / "gunicorn.conf.py"),
                "--print-config",
                "ckanext.vierstaedte.wsgi:application",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=clean_env(CKAN_INI=ckan_test_config["ini"], **env),
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    defaults = printed()
    assert re.search(r"^bind\s*=\s*\['0\.0\.0\.0:5000'\]$", defaults, re.M)
    assert re.search(r"^workers\s*=\s*3$", defaults, re.M)
    assert re.search(
        r"^threads\s*=\s*1$", defaults, re.M
    )  # CKAN's DataStore is not thread-safe (see the conf)
    assert re.search(r"^workers\s*=\s*6$", printed(GUNICORN_CMD_ARGS="--workers 6"), re.M)
