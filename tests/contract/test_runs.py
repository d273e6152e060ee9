"""Harvest run and dataset statuses, and a report's counts (``vierstaedte_contract.runs``)."""

from __future__ import annotations

from vierstaedte_contract import runs


def test_counts_has_every_status_and_ignores_others():
    entries = [
        {"status": runs.ADDED},
        {"status": runs.ADDED},
        {"status": runs.REJECTED},
        {"status": "published"},
        {},
    ]
    assert runs.counts(entries) == {
        "added": 2,
        "updated": 0,
        "unchanged": 0,
        "withdrawn": 0,
        "rejected": 1,
        "errored": 0,
    }
    assert runs.counts([]) == dict.fromkeys(runs.DATASET_STATUSES, 0)


def test_statuses():
    assert runs.RUN_STATUSES == ("ok", "partial", "failed") and runs.LOCKED not in runs.RUN_STATUSES
    assert set(runs.PROBLEM_STATUSES) < set(runs.DATASET_STATUSES)
    assert runs.COUNT_KEYS == runs.DATASET_STATUSES
