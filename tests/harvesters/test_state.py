"""The harvest state: snapshot plus journal, so that a run records each dataset in O(1) and a kill
loses nothing done."""

import errno
import json
import os

import pytest

from vierstaedte_harvest.state import State


def test_records_survive_without_a_snapshot_and_fold_into_it(tmp_path):
    path = tmp_path / "mainz.json"
    state = State(path)
    state.dataset("a")["status"] = "published"
    state.record("a")
    state.dataset("b")["status"] = "published"
    state.record("b")
    assert not path.exists()  # a killed run has written its journal only

    reloaded = State(path)
    assert reloaded.datasets == {
        "a": {"files": {}, "status": "published"},
        "b": {"files": {}, "status": "published"},
    }

    reloaded.save()
    assert not state.journal.exists()
    assert json.loads(path.read_text())["datasets"] == reloaded.datasets


def test_a_line_cut_short_costs_only_its_own_dataset(tmp_path):
    path = tmp_path / "mainz.json"
    state = State(path)
    state.dataset("a")["status"] = "published"
    state.save()
    state.dataset("a")["status"] = "withdrawn"
    state.record("a")
    with state.journal.open("a", encoding="utf-8") as journal:
        journal.write('\n{"guid": "b", "entry": {"sta')  # the kill came mid-write
    state.dataset("c")["status"] = "published"
    state.record("c")

    reloaded = State(path)
    assert {guid: entry["status"] for guid, entry in reloaded.datasets.items()} == {
        "a": "withdrawn",
        "c": "published",
    }
    assert reloaded.unreadable == 1


def _disk_fills_up_mid_line(monkeypatch):
    """os.write gets half of the line onto the disk, then the disk is full."""
    real_write = os.write

    def half_then_full(fd, data):
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("vierstaedte_harvest.state.os.write", half_then_full)


def test_a_failed_write_leaves_the_journal_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "mainz.json"
    state = State(path)
    state.dataset("a")["status"] = "published"
    state.record("a")
    before = state.journal.read_bytes()

    _disk_fills_up_mid_line(monkeypatch)
    state.dataset("b")["status"] = "published"
    with pytest.raises(OSError) as raised:
        state.record("b")
    assert raised.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert state.journal.read_bytes() == before  # the half line was cut off again
    assert set(State(path).datasets) == {"a"}


def test_a_journal_that_could_not_be_started_is_not_left_behind(tmp_path, monkeypatch):
    state = State(tmp_path / "mainz.json")
    _disk_fills_up_mid_line(monkeypatch)
    state.dataset("a")["status"] = "published"
    with pytest.raises(OSError):
        state.record("a")
    assert list(tmp_path.iterdir()) == []
