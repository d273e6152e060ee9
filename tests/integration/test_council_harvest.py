"""The council harvester end to end: the real command, a live CKAN, the demo's OParl systems.

The replay server generates Mainz's SessionNet-shaped and Trier's ALLRIS-shaped system
(``demo/council/``, small); ``vierstaedte-harvest council run`` stores them through the
council actions. What is stored is read back from the database this process shares with CKAN.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from demo.council import CouncilDemo
from demo.replay import ReplayServer
from tests.harvesting import DEMO, command, write_configs

PAPERS = 12


@pytest.fixture
def council(platform, tmp_path):
    """A replay server with the demo councils, configs pointed at it, and the command to run."""
    demo = CouncilDemo(tmp_path / "council-build", papers=PAPERS, cities=("mainz", "trier"))
    with ReplayServer(DEMO / "payloads", council=demo) as server:
        configs = write_configs(server.base, tmp_path / "configs")
        for city in ("mainz", "trier"):
            path = configs / f"{city}.yaml"
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            data["council"].update(url=demo.system_url(server.base, city))
            data["council"]["max_requests_per_second"] = 100
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        state = tmp_path / "state"

        def run(city: str = "mainz", wait: bool = True):
            argv = command(
                "council",
                "run",
                city,
                "--config",
                str(configs / f"{city}.yaml"),
                "--ckan-url",
                platform["url"],
                "--state-dir",
                str(state),
                "--no-progress",
            )
            env = dict(os.environ, VIERSTAEDTE_API_TOKEN_FILE=str(platform["tokens"][city]))
            if not wait:
                return subprocess.Popen(
                    argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                )
            return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)

        run.demo, run.server = demo, server
        yield run


def outcome(done) -> dict:
    assert done.returncode == 0, done.stdout + done.stderr
    path = done.stdout.rsplit("report: ", 1)[-1].strip()
    return json.loads(Path(path).read_text(encoding="utf-8"))


def stored() -> dict[str, tuple]:
    """Everything the council tables hold, comparable between runs (no times of writing)."""
    from ckan import model

    model.Session.remove()
    rows = model.Session.execute(
        sa.text("SELECT key, type, deleted, content_hash FROM vierstaedte_council_object")
    ).all()
    files = model.Session.execute(
        sa.text("SELECT key, status, sha256, length(text) FROM vierstaedte_council_file_text")
    ).all()
    model.Session.remove()
    return {row[0]: tuple(row[1:]) for row in rows} | {f"file {f[0]}": tuple(f[1:]) for f in files}


def updated_times() -> list:
    from ckan import model

    model.Session.remove()
    times = model.Session.execute(
        sa.text(
            "SELECT max(updated) FROM vierstaedte_council_object UNION ALL "
            "SELECT max(updated) FROM vierstaedte_council_file_text UNION ALL "
            "SELECT max(updated) FROM vierstaedte_council_sync"
        )
    ).all()
    model.Session.remove()
    return times


def clear_council() -> None:
    from ckan import model

    for table in ("object", "file_text", "sync"):
        model.Session.execute(sa.text(f"DELETE FROM vierstaedte_council_{table}"))
    model.Session.commit()
    model.Session.remove()


@pytest.mark.usefixtures("with_plugins")
def test_full_run_then_nothing_new_then_changes_and_deletions(council):
    first = outcome(council("mainz"))
    assert first["status"] == "ok" and first["kind"] == "council"
    assert all(entry["complete"] for entry in first["lists"])
    state = stored()
    types = [value[0] for key, value in state.items() if not key.startswith("file ")]
    assert types.count("paper") == PAPERS and types.count("body") == 1
    assert {"meeting", "agendaItem", "file", "person", "organization"} <= set(types)
    texts = [value for key, value in state.items() if key.startswith("file ")]
    assert texts and {t[0] for t in texts} <= {"ok", "empty"} and "ok" in {t[0] for t in texts}
    # a first run adds every object; none was there to update
    assert (first["counts"]["added"], first["counts"]["updated"]) == (len(types), 0)
    assert first["files"]["ok"] >= 1

    # nothing new: no write action at all, nothing stored changes, no file downloaded again
    before, times = stored(), updated_times()
    council.server.log.clear()
    again = outcome(council("mainz"))
    assert again["status"] == "ok" and again["write_calls"] == {}
    assert (
        again["counts"]["updated"] == again["counts"]["added"] == 0
        and stored() == before
        and updated_times() == times
    )
    assert not [path for _, path in council.server.log if "/files/" in path or "download" in path]
    assert all(entry["since"] for entry in again["lists"] if entry["list"] != "body")

    # the system moves on: papers revised, added and deleted
    council.demo.advance()
    changed = outcome(council("mainz"))
    assert changed["counts"]["updated"] > 0 and changed["counts"]["withdrawn"] > 0
    after = stored()
    deleted = [key for key, value in after.items() if not key.startswith("file ") and value[1]]
    assert deleted and all(before.get(key, (None, False))[1] is False for key in deleted)
    # changes of the last minutes are asked for again (overlap_seconds) and found unchanged
    times = updated_times()
    quiet = outcome(council("mainz"))
    assert (
        quiet["counts"]["updated"] == quiet["counts"]["withdrawn"] == quiet["counts"]["added"] == 0
    )
    assert set(quiet["write_calls"]) <= {"vierstaedte_council_upsert"}
    assert stored() == after and updated_times() == times


@pytest.mark.usefixtures("with_plugins")
def test_trier_allris_quirks_are_repaired_and_reported(council):
    report = outcome(council("trier"))
    assert report["status"] == "ok"
    assert report["repairs"]["mime-type"] > 0 and "control-characters" in report["repairs"]


@pytest.mark.usefixtures("with_plugins")
def test_kill_9_at_any_point_converges(council):
    """Killed while it stores, the next run ends where an uninterrupted run ends."""
    from ckan import model

    process = council("mainz", wait=False)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        model.Session.remove()
        count = model.Session.execute(
            sa.text("SELECT count(*) FROM vierstaedte_council_file_text")
        ).scalar()
        if count >= 3:  # objects stored, files half done, no watermark of the files yet
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    model.Session.remove()
    killed = stored()
    resumed = outcome(council("mainz"))
    assert resumed["status"] == "ok"
    converged = stored()
    assert len(converged) > len(killed) or converged != killed
    assert outcome(council("mainz"))["write_calls"] == {}
    clear_council()
    outcome(council("mainz"))
    assert stored() == converged
