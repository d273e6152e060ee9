"""A full disk under the harvester: its download (work) directory, its state directory.

A real size-limited filesystem (tmpfs, mounted for the test) filled to the
last byte, so writes fail with ENOSPC exactly as on a full disk.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from ckan.tests.helpers import call_action

from tests.harvesting import city_datasets, ok, published_state, report, run_command


@pytest.fixture
def small_disk():
    mounted: list[Path] = []

    def mount(size: str = "1m") -> Path:
        path = Path(tempfile.mkdtemp(prefix="vierstaedte-full-disk-"))
        argv = ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)]
        done = subprocess.run(
            argv if os.geteuid() == 0 else ["sudo", "-n", *argv], capture_output=True, text=True
        )
        if done.returncode:
            pytest.fail(
                f"cannot mount a small tmpfs for the disk-full test (needs root): {done.stderr}"
            )
        mounted.append(path)
        return path

    yield mount
    for path in mounted:
        argv = ["umount", str(path)]
        subprocess.run(argv if os.geteuid() == 0 else ["sudo", "-n", *argv], check=True)
        path.rmdir()


def fill(path: Path) -> Path:
    """Write until the filesystem refuses: the disk is full."""
    filler = path / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def change_source(replay) -> None:
    table = replay.root / "files" / "mainz" / "einwohner-ortsbezirke.csv"
    table.write_bytes(table.read_bytes().replace(b"25.301", b"25.302"))


@pytest.mark.usefixtures("with_plugins")
def test_full_download_directory(harvest, replay, small_disk):
    ok(harvest("mainz"))
    before = published_state()
    change_source(replay)
    work = small_disk()
    filler = fill(work)

    full = harvest("mainz", env={"VIERSTAEDTE_WORK_DIR": str(work)})
    assert full.returncode == 3, (
        full.stdout + full.stderr
    )  # partial: the unchanged link dataset is fine
    failed = [
        d for d in report(full)["datasets"] if d["status"] == "errored"
    ]  # the changed table; the others: 304
    assert [(d["title"], e["code"]) for d in failed for e in d["errors"]] == [
        ("Einwohner nach Ortsbezirken", "disk-full")
    ]
    assert all(
        str(work) in e["message"] and "No space left on device" in e["message"]
        for d in failed
        for e in d["errors"]
    )
    assert "disk-full" in full.stderr
    assert published_state() == before  # nothing half-uploaded
    assert list(work.iterdir()) == [filler]  # no partial downloads left behind

    filler.unlink()
    again = ok(harvest("mainz", env={"VIERSTAEDTE_WORK_DIR": str(work)}))
    assert again["counts"]["updated"] == 1 and again["counts"]["errored"] == 0
    assert list(work.iterdir()) == []


@pytest.mark.usefixtures("with_plugins")
def test_full_state_directory(harvest, platform, replay, small_disk, tmp_path):
    state = small_disk()

    def run(city: str = "mainz"):
        return run_command(
            city, harvest.configs / f"{city}.yaml", platform["url"], state, platform["tokens"][city]
        )

    ok(run())
    kept = files(state)
    change_source(replay)
    filler = fill(state)

    full = run()
    assert full.returncode == 3, full.stdout + full.stderr
    assert "report: -" in full.stdout  # no half-written report either
    assert "state-not-saved" in full.stderr and "No space left on device" in full.stderr
    assert "the report was not saved" in full.stderr
    run_record = next(
        r for r in _runs("mainz") if r["status"] == "partial"
    )  # CKAN has the run on record
    assert run_record["counts"]["updated"] == 1
    # the state and the reports are exactly what the last good run left: no corrupt or stray files
    assert files(state, filler) == kept
    json.loads((state / "mainz.json").read_text(encoding="utf-8"))
    updated = next(
        d for d in city_datasets("mainz").values() if d["title"] == "Einwohner nach Ortsbezirken"
    )
    table = next(r["id"] for r in updated["resources"] if r.get("role") == "normalised")
    rows = call_action(
        "datastore_search", resource_id=table, filters={"area_name": "Gonsenheim", "period": "2023"}
    )
    assert [float(r["value"]) for r in rows["records"]] == [
        25302.0
    ]  # published although the state was not saved

    filler.unlink()
    again = ok(run())
    assert (
        again["dataset_writes"] == 0
    )  # the stale state costs downloads, not writes: CKAN already has it
    assert ok(run())["counts"]["unchanged"] == 3


def _runs(city: str) -> list[dict]:
    return call_action("vierstaedte_harvest_run_list", organization=city)["results"]


def files(folder: Path, *leave_out: Path) -> dict[Path, bytes]:
    """Every file below ``folder`` with its content; the lock file holds a pid and is left out."""
    return {
        p.relative_to(folder): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.suffix != ".lock" and p not in leave_out
    }
