"""The portal's council actions, as the harvester calls them (over the Action API, with ckanapi).

The calls go through the catalogue's :class:`~vierstaedte_harvest.publish.Publisher`: one
client per thread, the token, CKAN's refusals as stable error codes, and every write counted
(``writes``), so a run with nothing new can show it wrote nothing. The actions themselves and
their arguments are the portal's (``docs/council.md``); batches stay within the contract's
``BATCH_MAX``.
"""

from __future__ import annotations

from typing import Any

from vierstaedte_contract import runs
from vierstaedte_contract.council import BATCH_MAX
from vierstaedte_harvest import __version__
from vierstaedte_harvest.publish import Publisher


class Store:
    def __init__(self, publisher: Publisher):
        self.publisher = publisher
        self.city = publisher.city

    @property
    def writes(self) -> list[str]:
        return self.publisher.writes

    def check_token(self) -> list[dict[str, str]]:
        return self.publisher.check_token()

    def sync(self) -> dict[str, dict[str, Any]]:
        """``"<body id> <list>"`` → ``{watermark, full_sync, updated}`` of every list read before."""
        return self.publisher.read("vierstaedte_council_sync_show", city=self.city)["lists"]

    def upsert(self, objects: list[dict[str, Any]]) -> dict[str, int]:
        totals = {"written": 0, "added": 0, "unchanged": 0, "deleted": 0}
        for start in range(0, len(objects), BATCH_MAX):
            batch = objects[start : start + BATCH_MAX]
            result = self.publisher.write(
                "vierstaedte_council_upsert", city=self.city, objects=batch
            )
            for key in totals:
                totals[key] += int(result.get(key, 0))
        return totals

    def advance(self, body: str, name: str, watermark: str | None, full_sync: bool) -> None:
        self.publisher.write(
            "vierstaedte_council_sync_update",
            city=self.city,
            body=body,
            list=name,
            watermark=watermark,
            full_sync=full_sync,
        )

    def file_state(self, file_ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(file_ids), BATCH_MAX):
            chunk = file_ids[start : start + BATCH_MAX]
            found.update(
                self.publisher.read(
                    "vierstaedte_council_file_state", city=self.city, file_ids=chunk
                )
                or {}
            )
        return found

    def file_text(self, **fields: Any) -> None:
        self.publisher.write("vierstaedte_council_file_text", city=self.city, **fields)

    def record_run(self, report: dict[str, Any]) -> None:
        self.publisher.write(
            "vierstaedte_harvest_run_create",
            organization=self.city,
            kind=runs.COUNCIL,
            started=report["started"],
            finished=report["finished"],
            status=report["status"],
            counts=report["counts"],
            report=report,
            harvester_version=__version__,
        )
