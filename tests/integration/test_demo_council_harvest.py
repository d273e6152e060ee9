"""The demo councils harvested by the real ``vierstaedte-harvest council run``, as ``scripts/stack
up`` does it: into the live CKAN, then again with nothing new (nothing written), then after the
demo system's next epoch (the revised, withdrawn and added papers, and only those).

One ALLRIS-shaped city (Trier: OParl 1.0, its quirks) and one SessionNet-shaped (Mainz), small
(40 papers each), from demo/council/ through demo/replay.py on 127.0.0.1, with the demo configs'
``council:`` sections pointed at that server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from demo.council import CouncilDemo
from demo.replay import ReplayServer
from tests.harvesting import command, report

DEMO = Path(__file__).resolve().parents[2] / "demo"
CITIES = ("trier", "mainz")
PAPERS = 40


def _config(city: str, base: str, directory: Path) -> Path:
    data = yaml.safe_load((DEMO / "configs" / f"{city}.yaml").read_text(encoding="utf-8"))
    data["council"]["url"] = data["council"]["url"].replace("http://127.0.0.1:8765", base)
    data["source"]["url"] = data["source"]["url"].replace("http://127.0.0.1:8765", base)
    for table in data.get("tables", []):
        table["mapping"] = str((DEMO / "configs" / table["mapping"]).resolve())
    path = directory / f"{city}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _run(platform, city: str, config: Path, state: Path):
    import os
    import subprocess

    argv = command(
        "council",
        "run",
        city,
        "--config",
        str(config),
        "--ckan-url",
        platform["url"],
        "--state-dir",
        str(state),
        "--no-progress",
    )
    env = dict(os.environ, VIERSTAEDTE_API_TOKEN_FILE=str(platform["tokens"][city]))
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return report(done)


@pytest.mark.parametrize("city", CITIES)
def test_demo_council_harvest_is_idempotent_and_follows_epochs(platform, tmp_path, city):
    demo = CouncilDemo(tmp_path / "council", papers=PAPERS, cities=(city,))
    with ReplayServer(tmp_path / "replay", council=demo) as server:
        config = _config(city, server.base, tmp_path)
        state = tmp_path / "state"
        system = demo.system(city)
        first = _run(platform, city, config, state)
        assert first["status"] == "ok", first
        assert first["counts"]["added"] >= len(system.objects)
        assert first["counts"]["updated"] == 0  # nothing was there to update
        scans = sum(1 for doc in system.documents.values() if doc.kind == "scan")
        assert scans >= 1
        assert first["files"].get("ok", 0) == len(system.documents) - scans
        assert first["files"].get("empty") == scans  # the scans without a text layer

        again = _run(platform, city, config, state)
        assert again["status"] == "ok"
        assert again["counts"]["updated"] == again["counts"]["withdrawn"] == 0
        assert again["counts"]["added"] == 0
        assert sum(again["files"].get(s, 0) for s in ("ok", "empty")) == 0  # nothing downloaded

        demo.advance()  # now: 3 papers revised, 2 withdrawn, 2 added, a meeting cancelled
        later = _run(platform, city, config, state)
        assert later["status"] == "ok"
        assert later["counts"]["withdrawn"] >= 2
        assert later["counts"]["updated"] >= 3 and later["counts"]["added"] >= 2
        assert later["files"].get("ok", 0) >= 3 + 2  # the revised main files and the new ones
