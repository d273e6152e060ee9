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


def test_both_stages_build_on_debian_bookworm_with_debians_python():
    # debian:bookworm-slim in production; scripts/image passes its debootstrap base instead
    args = [args for keyword, args in instructions() if keyword == "ARG"]
    assert "BASE_IMAGE=debian:bookworm-slim" in args
    stages = [args.split()[0] for keyword, args in instructions() if keyword == "FROM"]
    assert stages == ["${BASE_IMAGE}", "${BASE_IMAGE}"]
    # Debian's python3 (3.11 in bookworm) in both stages: the venv copied from the build stage
    # points at /usr/bin/python3, which the runtime stage must have too
    installs = [
        args for keyword, args in instructions() if keyword == "RUN" and "apt-get install" in args
    ]
    assert len(installs) == 2
    for args in installs:
        assert re.search(r"--no-install-recommends python3 ", args), args
    assert "python3-dev" in installs[0] and "libpq-dev" in installs[0]
    assert "gcc" not in installs[1] and "libpq5" in installs[1]
    assert any(
        "&& python3 -m venv /srv/app/venv " in args
        for keyword, args in instructions()
        if keyword == "RUN"
    )


def test_a_proxy_ca_for_pip_reaches_the_build_stage_only():
    # scripts/image passes the host's CA bundle as a build secret where a proxy inspects TLS; a
    # secret mount is in no layer, and only the build stage's pip steps mount it
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    pip_steps = [args for keyword, args in steps[:last_from] if keyword == "RUN" and "pip " in args]
    assert len(pip_steps) == 2
    for args in pip_steps:
        assert "--mount=type=secret,id=pip-ca " in args, args
        assert "if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi" in args
    assert not any("pip-ca" in args or "PIP_CERT" in args for _, args in steps[last_from:])
    assert not any(keyword == "ARG" and "CERT" in args for keyword, args in steps)
    assert '--secret "id=pip-ca,src=$HOST_CA"' in (ROOT / "scripts" / "image").read_text()


def test_scripts_image_passes_shellcheck_and_is_executable():
    script = ROOT / "scripts" / "image"
    result = subprocess.run(
        [find_tool("shellcheck"), "-x", "--source-path=SCRIPTDIR", str(script)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert script.stat().st_mode & 0o111


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
