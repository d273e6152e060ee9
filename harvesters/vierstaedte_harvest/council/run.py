"""One council run of one city: System → Bodies → each list, incrementally → files → report.

The order of a run, in one place. Per list of a Body: ask only for what changed since the
list's watermark (minus ``council.overlap_seconds``, for clocks that differ and objects saved
while the last run read), repair and flatten each object (embedded objects are stored as their
own objects too), store them in batches of the contract's ``BATCH_MAX``, extract the text of
their files, and only then advance the list's watermark to the moment its reading began. A run
killed at any point has advanced no watermark past anything not stored: the next run reads
that list again from the old watermark, the portal finds the objects already stored unchanged,
and ``file_state`` skips the files already done, so it converges on the uninterrupted state.
A run that finds nothing new calls no write action at all (a watermark is only advanced when
its list stored something, or on its first reading).

A list whose system stamps every object with the day of the request (more!rubin) cannot be
read incrementally: it is read whole each run (``full_sync``), its fake timestamps removed so
that unchanged objects stay unchanged, and the report says so (``request-day-timestamps``).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from vierstaedte_contract import runs
from vierstaedte_contract.council import BATCH_MAX
from vierstaedte_harvest import __version__
from vierstaedte_harvest import config as city_config
from vierstaedte_harvest.council.client import Client, CouncilError, CouncilFetcher, Pace, host_of
from vierstaedte_harvest.council.extract import Limits
from vierstaedte_harvest.council.files import Files
from vierstaedte_harvest.council.quirks import objects, remove_timestamps, request_day_timestamps
from vierstaedte_harvest.council.reader import ListRead, Reader, lists_of
from vierstaedte_harvest.council.store import Store
from vierstaedte_harvest.publish import Publisher, PublishError
from vierstaedte_harvest.report import for_portal
from vierstaedte_harvest.run import UNUSABLE, Locked, _local_error, _Lock, _write_atomically

log = logging.getLogger(__name__)
BODY_LIST = "body"  # the System's list of Bodies, under "<system id> body"


@dataclasses.dataclass
class Options:
    city: str
    ckan_url: str
    token: str
    state_dir: Path
    config_path: Path | None = None
    progress: bool = False
    work_dir: Path | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _iso(stamp: dt.datetime) -> str:
    return stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def _entry(short_type: str, obj: dict[str, Any], body: str | None) -> dict[str, Any]:
    modified = obj.get("modified")
    return {
        "id": obj["id"],
        "type": short_type,
        "body": body,
        "modified": modified if isinstance(modified, str) and modified else None,
        "deleted": obj.get("deleted") is True,
        "data": obj,
    }


def _matches(body: dict[str, Any], wanted: list[str]) -> bool:
    names = {body.get(k) for k in ("id", "name", "shortName", "ags")}
    return not wanted or any(w in names for w in wanted)


class CouncilHarvest:
    def __init__(self, options: Options):
        self.options = options
        self.config = city_config.load(options.city, options.config_path)
        council = self.config.council
        if council is None:
            raise city_config.ConfigError(
                f"{self.config.path} has no council section (council: url: …)"
            )
        self.settings = council
        hosts = {host_of(council.url)} | {host_of(url) for url in council.hosts}
        self.fetcher = CouncilFetcher(
            self.config.http, hosts, Pace(council.max_requests_per_second)
        )
        self.client = Client(self.fetcher)
        self.reader = Reader(self.client, council.max_pages, council.max_objects)
        self.store = Store(Publisher(options.ckan_url, options.token, options.city))
        self.repairs: collections.Counter = collections.Counter()
        self.totals: collections.Counter = collections.Counter()
        self.sync: dict[str, dict[str, Any]] = {}
        self.files: Files | None = None
        self.progress = _progress(options.progress)

    # --- the run -----------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "city": self.config.city,
            "kind": runs.COUNCIL,
            "started": _now().isoformat(),
            "harvester_version": __version__,
            "source": {"protocol": "oparl", "url": self.settings.url},
            "datasets": [],
            "source_errors": [],
            "warnings": [],
            "lists": [],
        }
        report["source_errors"].extend(self.store.check_token())
        self.sync = self.store.sync()
        prefix = f"vierstaedte-{self.config.city}-council-"
        with tempfile.TemporaryDirectory(prefix=prefix, dir=self.options.work_dir) as work:
            self.files = Files(
                self.fetcher,
                self.store,
                Path(work),
                self.settings.max_file_bytes,
                self.settings.file_seconds,
                Limits(self.settings.extract_seconds, self.settings.extract_memory_mb << 20),
            )
            try:
                self._walk(report)
            except CouncilError as error:
                report["source_errors"].append(
                    {"code": error.code, "message": str(error), "url": error.url}
                )
            except PublishError as error:
                report["source_errors"].append({"code": error.code, "message": str(error)})
        files = self.files
        report["source_errors"].extend(files.problems)
        report["files"] = dict(sorted(files.counts.items()))
        report["repairs"] = dict(sorted(self.repairs.items()))
        report["requests"] = self.client.requests
        report["write_calls"] = dict(sorted(collections.Counter(self.store.writes).items()))
        report["finished"] = _now().isoformat()
        failed_files = sum(files.counts[s] for s in ("failed", "timeout")) + files.counts["retry"]
        incomplete = sum(1 for entry in report["lists"] if not entry["complete"])
        report["counts"] = {
            **runs.counts([]),
            "added": self.totals["added"],
            "updated": self.totals["written"] - self.totals["added"],
            "unchanged": self.totals["unchanged"],
            "withdrawn": self.totals["deleted"],
            "errored": incomplete + failed_files,
        }
        stored = report["lists"] and any(entry["complete"] for entry in report["lists"])
        if not report["source_errors"]:
            report["status"] = runs.OK
        else:
            report["status"] = runs.PARTIAL if stored else runs.FAILED
        return report

    def _walk(self, report: dict[str, Any]) -> None:
        system, repairs = self.reader.document(self.settings.url)
        self.repairs.update(repairs)
        bodies_url = system.get("body")
        if not isinstance(bodies_url, str):
            raise CouncilError("not-oparl", "the System names no body list", self.settings.url)
        started = _now()
        read = ListRead(system["id"], BODY_LIST, bodies_url)
        bodies = [b for page in self.reader.pages(read) for b in page]
        self._record(report, read, collections.Counter())
        bodies = [b for b in bodies if _matches(b, self.settings.bodies)]
        if not bodies:
            raise CouncilError("no-body", "no Body of the system to read", bodies_url)
        self._bodies(system, bodies, read, started, report)
        for body in bodies:
            if body.get("deleted") is True:
                continue
            for name, url in lists_of(body):
                self._list(body["id"], name, url, report)

    def _bodies(self, system, bodies, read: ListRead, started, report) -> None:
        """The System and its Bodies, stored when new or modified since the list's watermark."""
        key = f"{system['id']} {BODY_LIST}"
        since = _parse((self.sync.get(key) or {}).get("watermark"))
        overlap = dt.timedelta(seconds=self.settings.overlap_seconds)

        def changed(obj: dict[str, Any]) -> bool:
            modified = _parse(obj.get("modified"))
            return since is None or modified is None or modified >= since - overlap

        entries = [_entry("system", system, None)] if changed(system) else []
        for body in bodies:
            if changed(body):
                entries += [
                    _entry(t, o, None if t == "body" else body["id"])
                    for t, o in objects(body, "body", self.repairs)
                ]
        if entries:
            self._store(entries, [])
        if read.complete and (entries or key not in self.sync):
            self.store.advance(system["id"], BODY_LIST, _iso(started), False)

    def _list(self, body: str, name: str, url: str, report: dict[str, Any]) -> None:
        """Read one list of a Body, store what changed, then advance its watermark."""
        key = f"{body} {name}"
        known = self.sync.get(key) or {}
        started = _now()
        full = bool(known.get("full_sync"))
        watermark = _parse(known.get("watermark"))
        since = None
        if watermark and not full:
            since = _iso(watermark - dt.timedelta(seconds=self.settings.overlap_seconds))
        read = ListRead(body, name, url, since)
        before = self.totals.copy()
        complete = self._read(read, name, full)
        if read.since and not read.pages and not read.complete:
            # a server that refuses modified_since is read whole, once, and the report says so
            report["warnings"].append(
                {
                    "code": "modified-since-refused",
                    "message": f"{url}: the list failed with modified_since={since}; read whole",
                    "body": body,
                    "list": name,
                }
            )
            read = ListRead(body, name, url)
            complete = self._read(read, name, full)
        unreliable = full or "request-day" in read.repairs
        if unreliable and not full:
            report["warnings"].append(
                {
                    "code": "request-day-timestamps",
                    "message": f"{url}: every object is created and modified on the day of "
                    "the request; the list is read whole on every run (full sync)",
                    "body": body,
                    "list": name,
                }
            )
        stored = (self.totals - before)["written"] + (self.totals - before)["deleted"]
        self._record(report, read, self.totals - before, unreliable)
        if not (read.complete and complete):
            return
        if stored or key not in self.sync or full != unreliable:
            self.store.advance(body, name, None if unreliable else _iso(started), unreliable)

    def _read(self, read: ListRead, name: str, full: bool) -> bool:
        """Store the objects of a list's pages in batches; False if a file must be tried again."""
        pending: list[dict[str, Any]] = []
        files: list[dict[str, Any]] = []
        complete, unreliable = True, full
        for page in self.reader.pages(read):
            if not unreliable and read.pages == 1 and request_day_timestamps(page, _now()):
                unreliable = True
                read.repairs.add("request-day")
            for obj in page:
                if unreliable:
                    remove_timestamps(obj, self.repairs)
                for short_type, found in objects(obj, name, self.repairs):
                    pending.append(_entry(short_type, found, read.body))
                    if short_type == "file":
                        files.append(found)
            if len(pending) >= BATCH_MAX:
                complete &= self._store(pending, files)
                pending, files = [], []
        if pending:
            complete &= self._store(pending, files)
        return complete

    def _store(self, entries: list[dict[str, Any]], files: list[dict[str, Any]]) -> bool:
        unique = list({entry["id"]: entry for entry in entries}.values())
        self.totals.update(self.store.upsert(unique))
        self.progress(len(unique))
        done = {f["id"]: f for f in files}
        return self.files.process(list(done.values())) if done else True

    def _record(self, report, read: ListRead, stored, unreliable: bool = False) -> None:
        entry = {
            "body": read.body,
            "list": read.name,
            "since": read.since,
            "pages": read.pages,
            "objects": read.objects,
            "written": stored["written"],
            "unchanged": stored["unchanged"],
            "deleted": stored["deleted"],
            "complete": read.complete,
            "full_sync": unreliable,
        }
        report["lists"].append(entry)
        self.repairs.update(r for r in read.repairs if r != "request-day")
        report["source_errors"].extend(read.problems)
        log.info(
            "%s %s: %d pages, %d objects, %d written%s",
            read.body,
            read.name,
            read.pages,
            read.objects,
            stored["written"],
            "" if read.complete else " (incomplete)",
        )


def _progress(enabled: bool):
    """A progress bar of stored objects on a terminal; under cron the per-list log lines."""
    if not enabled:
        return lambda count: None
    from tqdm import tqdm

    bar = tqdm(unit=" Objekte", file=sys.stderr)
    return bar.update


def execute(options: Options) -> dict[str, Any]:
    """A city's council run under its own lock (per city and kind); report written and recorded."""
    try:
        lock = _Lock(options.state_dir / f"{options.city}.{runs.COUNCIL}.lock")
    except Locked as error:
        return {"city": options.city, "status": runs.LOCKED, "message": str(error)}
    try:
        harvest = CouncilHarvest(options)
        try:
            report = harvest.run()
        except PublishError as error:
            now = _now().isoformat()
            report = {
                "city": options.city,
                "kind": runs.COUNCIL,
                "started": now,
                "finished": now,
                "status": runs.FAILED,
                "datasets": [],
                "counts": runs.counts([]),
                "source_errors": [{"code": error.code, "message": str(error)}],
            }
        folder = options.state_dir / "reports" / options.city / runs.COUNCIL
        try:
            folder.mkdir(parents=True, exist_ok=True)
            stamp = report["started"].replace(":", "").replace("+", "Z")
            text = json.dumps(report, ensure_ascii=False, indent=1) + "\n"
            _write_atomically(folder / f"{stamp}.json", text)
            _write_atomically(folder / "latest.json", text)
            report["report_file"] = str(folder / f"{stamp}.json")
        except OSError as error:
            report["report_error"] = _local_error(error, folder)
            log.error("the report was not saved: %s", report["report_error"])
        if not {e["code"] for e in report["source_errors"]} & UNUSABLE:
            try:
                harvest.store.record_run(for_portal(report))
            except PublishError as error:
                log.error("could not record the run in CKAN: %s", error)
                report["record_error"] = str(error)
    finally:
        lock.release()
    return report
