"""A fifth city is data, not code: Kaiserslautern joins from its contract entry and its config.

What city IT does, step by step: add the city to the contract's ``cities.json``, write the
harvester's config (with a mapping for its table), restart CKAN, create the organization
and the harvest account with the ``ckan vierstaedte`` commands, and harvest. The installed
contract is not edited here: ``VIERSTAEDTE_CONTRACT_DATA`` hands CKAN, its commands and the
harvester a ``cities.json`` that is the packaged one plus the new entry. Everything runs as
its own process against the suite's databases: a CKAN started for the new contract (the
session's CKAN knows only the four cities), the CLI commands, the real harvester.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

import vierstaedte_contract
from tests.harvesting import ok, run_command
from vierstaedte_contract.dataset import NORMALISED, resource_with_role

CITY = "kaiserslautern"
ENTRY = {
    "name": CITY,
    "title": "Stadt Kaiserslautern",
    "short_title": "Kaiserslautern",
    "ags": "07312000",
    "regional_key": "073120000000",
    "website": "https://www.kaiserslautern.de",
}
TABLE = "Gebiet;Einwohner 2022;Einwohner 2023\nKaiserslautern;99.662;100.030\n"
MANIFEST = {
    "datasets": [
        {
            "id": "einwohner",
            "title": "Einwohner der Stadt Kaiserslautern",
            "description": "Bevölkerung mit Hauptwohnsitz am 31.12.",
            "license": "dl-by-de/2.0",
            "themes": ["SOCI"],
            "modified": "2024-03-01",
            "files": [{"url": "{base}/files/kaiserslautern/einwohner.csv", "format": "CSV"}],
        }
    ]
}
MAPPING = {
    "id": "kaiserslautern-einwohner",
    "city": CITY,
    "area": {"column": "Gebiet", "level": "stadt"},
    "number_format": "de",
    "values": [{"match": r"Einwohner (?P<period>\d{4})", "indicator": "population_total"}],
}


def city_it_adds_the_city(directory: Path, replay_base: str) -> tuple[Path, Path]:
    """The contract data with the new entry, and the harvester's config (its mapping in place).

    Two files, nothing else: no code, no script, no compose edit.
    """
    contract = directory / "contract"
    contract.mkdir()
    members = json.loads(vierstaedte_contract.path("cities.json").read_text(encoding="utf-8"))
    members["cities"].append(ENTRY)
    (contract / "cities.json").write_text(json.dumps(members, ensure_ascii=False), encoding="utf-8")
    config = directory / "config" / f"{CITY}.yaml"
    config.parent.mkdir()
    config.write_text(
        yaml.safe_dump(
            {
                "city": CITY,
                "source": {
                    "protocol": "manifest",
                    "url": f"{replay_base}/files/kaiserslautern-manifest.yaml",
                },
                "http": {
                    "allow_private_addresses": ["127.0.0.1/32"],
                    "timeout": 2,
                    "retries": 1,
                    "backoff": 0,
                },
                "defaults": {
                    "license": "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
                    "frequency": "ANNUAL",
                    "spatial_granularity": "stadt",
                },
                "tables": [{"match": {"title": "Einwohner"}, "mapping": MAPPING}],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    written = sorted(
        p.relative_to(directory).as_posix()
        for folder in (contract, config.parent)
        for p in folder.rglob("*")
        if p.is_file()
    )
    assert written == ["config/kaiserslautern.yaml", "contract/cities.json"]
    return contract, config


def the_source_publishes(replay) -> None:
    files = replay.root / "files"
    (files / CITY).mkdir()
    (files / CITY / "einwohner.csv").write_text(TABLE, encoding="utf-8")
    (files / "kaiserslautern-manifest.yaml").write_text(yaml.safe_dump(MANIFEST), encoding="utf-8")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def restarted_ckan(request, platform, tmp_path):
    """Start CKAN as city IT restarts it after the change: ``start(env)`` serves the test config.

    The session's CKAN keeps serving the old contract; this one reads ``env``'s.
    """
    ini = str(Path(request.config.getoption("--ckan-ini")).resolve())
    servers = []

    def start(env: dict[str, str]) -> str:
        url = f"http://127.0.0.1:{free_port()}"
        log = open(tmp_path / "ckan.log", "w")
        servers.append(
            (
                subprocess.Popen(
                    [
                        str(Path(sys.executable).with_name("gunicorn")),
                        "--bind",
                        url.removeprefix("http://"),
                        "--workers",
                        "1",
                        "--timeout",
                        "120",
                        "ckanext.vierstaedte.wsgi:application",
                    ],
                    env=dict(os.environ, **env, CKAN_INI=ini, CKAN_SITE_URL=url),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                ),
                log,
            )
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert servers[-1][0].poll() is None, (tmp_path / "ckan.log").read_text()
            try:
                if requests.get(f"{url}/api/3/action/status_show", timeout=2).ok:
                    return url
            except requests.RequestException:
                time.sleep(0.5)
        pytest.fail(f"CKAN with the new contract did not answer within 90 s; see {log.name}")

    start.ini = ini
    yield start
    for process, log in servers:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def ckan_command(ini: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    ckan = str(Path(sys.executable).with_name("ckan"))
    done = subprocess.run(
        [ckan, "-c", ini, "vierstaedte", *args],
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def action(url: str, name: str, **params) -> dict:
    answer = requests.get(f"{url}/api/3/action/{name}", params=params, timeout=30).json()
    assert answer["success"], answer
    return answer["result"]


def test_a_fifth_city_is_harvested_from_its_contract_entry_and_config(
    restarted_ckan, replay, tmp_path
):
    contract, config = city_it_adds_the_city(tmp_path, replay.base)
    the_source_publishes(replay)
    env = {vierstaedte_contract.DATA_OVERRIDE: str(contract)}
    url = restarted_ckan(env)
    ckan_command(restarted_ckan.ini, env, "init-cities")
    token = tmp_path / "kaiserslautern.token"
    ckan_command(restarted_ckan.ini, env, "ensure-harvester", CITY, "--token-file", str(token))

    report = ok(run_command(CITY, config, url, tmp_path / "state", token, env=env))
    assert report["counts"]["added"] == 1, report

    organization = action(url, "organization_show", id=CITY)
    assert (organization["title"], organization["ags"]) == ("Stadt Kaiserslautern", "07312000")
    assert action(url, "vierstaedte_city_show", id="07312000")["name"] == CITY
    found = action(url, "package_search", q="Einwohner Kaiserslautern", fq=f"organization:{CITY}")
    assert found["count"] == 1
    dataset = found["results"][0]
    table = resource_with_role(dataset, NORMALISED)
    rows = action(url, "datastore_search", resource_id=table["id"], sort="period")["records"]
    assert [(r["city"], r["ags"], r["area_name"], r["period"], r["value"]) for r in rows] == [
        (CITY, "07312000", "Kaiserslautern", "2022", 99662),
        (CITY, "07312000", "Kaiserslautern", "2023", 100030),
    ]
