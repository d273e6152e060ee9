"""Harvest runs as the harvester reports them and the portal records them.

A run ends ``ok`` (every dataset published or unchanged), ``partial`` (some
datasets rejected or errored, the rest published) or ``failed`` (the source
could not be read, nothing was published); ``locked`` is only ever printed by
the harvester (another run held the lock) and never recorded. Each dataset of
a run has one status; a report counts them under ``counts``.

A run has a kind: ``catalogue`` (statistics datasets, the default) or ``council``
(OParl council information); the lock and the city's harvest page keep them apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

CATALOGUE, COUNCIL = "catalogue", "council"
RUN_KINDS = (CATALOGUE, COUNCIL)

OK, PARTIAL, FAILED, LOCKED = "ok", "partial", "failed", "locked"
RUN_STATUSES = (OK, PARTIAL, FAILED)  # what the portal records

ADDED, UPDATED, UNCHANGED = "added", "updated", "unchanged"
WITHDRAWN, REJECTED, ERRORED = "withdrawn", "rejected", "errored"
DATASET_STATUSES = (ADDED, UPDATED, UNCHANGED, WITHDRAWN, REJECTED, ERRORED)
PROBLEM_STATUSES = (REJECTED, ERRORED)
COUNT_KEYS = DATASET_STATUSES


def counts(entries: Iterable[dict[str, Any]]) -> dict[str, int]:
    """The report's ``counts``: how many datasets ended in each status (every key present)."""
    result = dict.fromkeys(DATASET_STATUSES, 0)
    for entry in entries:
        if entry.get("status") in result:
            result[entry["status"]] += 1
    return result
