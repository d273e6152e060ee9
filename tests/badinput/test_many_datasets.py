"""A source that lists 20,000 datasets: bounded time and memory, and a clear refusal to flood the portal.

A runaway catalogue (a lost organisation filter: the whole state portal
instead of one city) must not turn into 20,000 datasets of one city. Past
``source.max_datasets`` (default 10,000) the run publishes nothing, withdraws
nothing, says why, and exits 1; ``list-sources`` still lists it all.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from demo.replay import LoopbackServer
from tests.harvesting import city_datasets, command

TOTAL = 20_000


class _Catalogue(BaseHTTPRequestHandler):
    """A CKAN Action API ``package_search`` over TOTAL generated datasets (pages made on request)."""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
        start, rows = int(query.get("start", 0)), min(int(query.get("rows", 10)), 1000)
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        results = [
            {
                "id": f"00000000-0000-4000-8000-{i:012d}",
                "name": f"datensatz-{i}",
                "title": f"Datensatz {i}",
                "notes": "Erzeugt.",
                "organization": {"name": "stadt_mainz", "title": "Stadt Mainz"},
                "resources": [
                    {
                        "id": f"r{i}",
                        "url": f"{base}/files/{i}.csv",
                        "format": "CSV",
                        "name": "Tabelle",
                    }
                ],
            }
            for i in range(start, min(start + rows, TOTAL))
        ]
        body = json.dumps(
            {"success": True, "result": {"count": TOTAL, "results": results}}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def catalogue():
    with LoopbackServer(_Catalogue) as server:
        yield server.base


def measured(argv: list[str], env: dict[str, str], tmp_path) -> tuple[int, str, str, float, float]:
    """Run a command; exit code, output, seconds and its peak memory (MB) as the kernel counted it."""
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    started = time.monotonic()
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(argv, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return (
        process.returncode,
        out.read_text(),
        err.read_text(),
        time.monotonic() - started,
        usage.ru_maxrss / 1024,
    )


@pytest.mark.usefixtures("with_plugins")
def test_twenty_thousand_datasets(harvest, platform, catalogue, tmp_path):
    config_path = harvest.configs / "mainz.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["source"].update(url=catalogue, rows=1000)
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = dict(os.environ, VIERSTAEDTE_API_TOKEN_FILE=str(platform["tokens"]["mainz"]))

    code, out, err, seconds, megabytes = measured(
        command(
            "run",
            "mainz",
            "--config",
            str(config_path),
            "--ckan-url",
            platform["url"],
            "--state-dir",
            str(harvest.state),
            "--no-progress",
        ),
        env,
        tmp_path,
    )
    assert code == 1, out + err
    assert seconds < 60 and megabytes < 500, (seconds, megabytes)
    report = json.loads(open(out.rsplit("report: ", 1)[-1].strip(), encoding="utf-8").read())
    assert [e["code"] for e in report["source_errors"]] == ["too-many-datasets"]
    assert "more than 10,000 datasets (source.max_datasets)" in err
    assert report["datasets"] == [] and report["dataset_writes"] == 0
    assert city_datasets("mainz") == {}

    config["source"]["max_datasets"] = (
        25_000  # the city says the catalogue is that big: it is listed in full
    )
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    code, out, err, seconds, megabytes = measured(
        command("list-sources", "mainz", "--config", str(config_path)), env, tmp_path
    )
    assert code == 0, err
    assert len(out.splitlines()) == TOTAL
    assert seconds < 60 and megabytes < 500, (seconds, megabytes)
