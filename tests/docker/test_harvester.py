"""The harvester service: the crontab it writes and one city's run (docker/harvester/)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import vierstaedte_contract

from .tools import CITIES, DOCKER, VENV_BIN, clean_env

CRON = DOCKER / "harvester" / "cron.sh"
HARVEST_CITY = DOCKER / "harvester" / "harvest-city.sh"


def crontab(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CRON), "print"], capture_output=True, text=True, env=clean_env(**env)
    )


class TestCrontab:
    def test_one_job_per_city_at_the_schedule_with_the_harvesters_settings(self, compose_model):
        env = compose_model["services"]["harvester"]["environment"]
        result = crontab(**env, UNRELATED="x")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        jobs = [
            line for line in lines if line.startswith(env["VIERSTAEDTE_HARVEST_SCHEDULE"] + " ")
        ]
        assert jobs == [
            f"15 2 * * * root {HARVEST_CITY} {city} >/proc/1/fd/1 2>&1" for city in CITIES
        ]
        assert f"VIERSTAEDTE_CKAN_URL={env['VIERSTAEDTE_CKAN_URL']}" in lines
        assert f"VIERSTAEDTE_STATE_DIR={env['VIERSTAEDTE_STATE_DIR']}" in lines
        assert "TZ=Europe/Berlin" in lines
        assert not any(line.startswith(("UNRELATED=", "HOME=")) for line in lines)

    def test_cities_and_schedule_come_from_the_environment(self):
        result = crontab(VIERSTAEDTE_HARVEST_CITIES="trier", VIERSTAEDTE_HARVEST_SCHEDULE="@hourly")
        assert result.returncode == 0, result.stderr
        assert [line for line in result.stdout.splitlines() if "harvest-city.sh" in line] == [
            f"@hourly root {HARVEST_CITY} trier >/proc/1/fd/1 2>&1"
        ]

    def test_a_city_added_to_the_contract_gets_its_job_without_an_edit_here(self, tmp_path):
        members = json.loads(vierstaedte_contract.path("cities.json").read_text(encoding="utf-8"))
        members["cities"].append(
            {
                "name": "kaiserslautern",
                "title": "Stadt Kaiserslautern",
                "short_title": "Kaiserslautern",
                "ags": "07312000",
                "regional_key": "073120000000",
            }
        )
        (tmp_path / "cities.json").write_text(json.dumps(members), encoding="utf-8")
        result = crontab(VIERSTAEDTE_CONTRACT_DATA=str(tmp_path))
        assert result.returncode == 0, result.stderr
        assert [
            line.split()[-3] for line in result.stdout.splitlines() if "harvest-city.sh" in line
        ] == [*CITIES, "kaiserslautern"]

    @pytest.mark.parametrize(
        "env, message",
        [
            ({"VIERSTAEDTE_HARVEST_SCHEDULE": "15 2 * *"}, "5 cron fields"),
            (
                {"VIERSTAEDTE_HARVEST_CITIES": "mainz ../etc"},
                "not a city of the contract: '../etc'",
            ),
            ({"VIERSTAEDTE_HARVEST_CITIES": "mainz kaiserslautern"}, "not a city of the contract"),
            ({"VIERSTAEDTE_CKAN_URL": "http://ckan:5000\n* * * * * root sh"}, "line break"),
        ],
    )
    def test_rejects_what_would_break_or_inject_into_the_crontab(self, env, message):
        result = crontab(**env)
        assert result.returncode == 1
        assert message in result.stderr
        assert "harvest-city.sh" not in result.stdout

    def test_refuses_to_run_cron_without_root(self):
        if (
            os.getuid() == 0
        ):  # as nobody, from a copy nobody can reach (a `mktemp -d` clone is mode 700)
            base = Path(tempfile.mkdtemp(prefix="vierstaedte-cron-"))
            base.chmod(0o755)
            try:
                cron = shutil.copy2(CRON, base / "cron.sh")
                command = [
                    "setpriv",
                    "--reuid=nobody",
                    "--regid=nogroup",
                    "--clear-groups",
                    str(cron),
                    "run",
                ]
                result = subprocess.run(
                    command, capture_output=True, text=True, env=clean_env(), cwd=base
                )
            finally:
                shutil.rmtree(base, ignore_errors=True)
        else:
            result = subprocess.run(
                [str(CRON), "run"], capture_output=True, text=True, env=clean_env()
            )
        assert result.returncode == 1
        assert "cron needs root" in result.stderr


@pytest.fixture
def fake_harvester():
    """A stand-in `vierstaedte-harvest` that reports who ran it, how, and exits with $FAKE_EXIT.

    In a world-readable directory: when the tests run as root the job drops to `nobody`.
    """
    base = Path(tempfile.mkdtemp(prefix="vierstaedte-harvest-"))
    try:
        base.chmod(0o755)
        (base / "bin").mkdir(mode=0o755)
        stub = base / "bin" / "vierstaedte-harvest"
        stub.write_text(
            '#!/bin/sh\necho "as $(id -un): $* token=$(cat "$VIERSTAEDTE_API_TOKEN_FILE") home=$HOME"\n'
            'exit "${FAKE_EXIT:-0}"\n'
        )
        stub.chmod(0o755)
        (base / "tokens").mkdir(mode=0o755)
        for city in CITIES:
            (base / "tokens" / city).write_text(f"token-of-{city}")
            (base / "tokens" / city).chmod(0o444)
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def harvest(base: Path, city: str, **env: str) -> subprocess.CompletedProcess:
    env = clean_env(
        VIERSTAEDTE_HARVEST_TOKEN_DIR=str(base / "tokens"), VIERSTAEDTE_HARVEST_USER="nobody", **env
    )
    env["PATH"] = f"{base / 'bin'}:{env['PATH']}"
    return subprocess.run(
        [str(HARVEST_CITY), city], capture_output=True, text=True, env=env, timeout=60
    )


class TestOneCity:
    def test_runs_the_cli_as_the_unprivileged_user_with_the_citys_token(self, fake_harvester):
        result = harvest(fake_harvester, "koblenz")
        assert result.returncode == 0, result.stderr
        first, summary = result.stdout.splitlines()
        user = (
            "nobody"
            if os.getuid() == 0
            else subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
        )
        assert first.startswith(f"as {user}: run koblenz token=token-of-koblenz")
        assert summary.endswith("harvest koblenz: exit 0, ok")

    @pytest.mark.parametrize(
        "code, outcome",
        [
            (1, "failed"),
            (2, "usage error"),
            (3, "partial success"),
            (4, "skipped, another run of trier holds the lock"),
        ],
    )
    def test_passes_the_exit_code_on_and_names_it(self, fake_harvester, code, outcome):
        result = harvest(fake_harvester, "trier", FAKE_EXIT=str(code))
        assert result.returncode == code
        assert result.stdout.splitlines()[-1].endswith(f"harvest trier: exit {code}, {outcome}")

    def test_a_city_without_a_token_is_not_run(self, fake_harvester):
        token = fake_harvester / "tokens" / "mainz"
        token.chmod(stat.S_IWUSR | stat.S_IRUSR)
        token.write_text("")
        result = harvest(fake_harvester, "mainz")
        assert result.returncode == 1
        assert "harvest mainz: not run" in result.stdout
        assert "as " not in result.stdout


def test_the_harvester_cli_takes_what_the_jobs_hand_it(compose_model, tmp_path):
    """The contract with vierstaedte_harvest.cli: `vierstaedte-harvest run <city>`, settings from
    the environment."""
    assert (VENV_BIN / "vierstaedte-harvest").exists(), (
        "setup.py must declare the vierstaedte-harvest console script"
    )
    env = compose_model["services"]["harvester"]["environment"]
    code = (
        "import sys\nfrom vierstaedte_harvest.cli import build_parser\n"
        "runs = [build_parser().parse_args(['run', city]) for city in sys.argv[1:]]\n"
        "print(*sorted({(r.ckan_url, str(r.state_dir)) for r in runs}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *(env["VIERSTAEDTE_HARVEST_CITIES"].split() or CITIES)],
        capture_output=True,
        text=True,
        env=clean_env(
            VIERSTAEDTE_CKAN_URL=env["VIERSTAEDTE_CKAN_URL"],
            VIERSTAEDTE_STATE_DIR=env["VIERSTAEDTE_STATE_DIR"],
        ),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str((env["VIERSTAEDTE_CKAN_URL"], env["VIERSTAEDTE_STATE_DIR"]))
