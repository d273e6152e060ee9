"""One harvest run of one city: list → per dataset fetch, normalise, publish → withdraw → report.

This module says what happens when; how a dataset is written to CKAN is
``publish.py``'s (:meth:`Publisher.publish`), and what a run's status means to
cron is ``cli.py``'s. A run never leaves published data worse than it found it:
a dataset is only written when its source was fetched completely and its table
passed validation, and datasets are withdrawn only after a *complete* listing
of the source. Runs of one city never overlap (a lock), and a run killed at any
point is finished by the next one (state is saved per dataset; CKAN is
compared, not trusted blindly).
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import datetime as dt
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import vierstaedte_contract
from vierstaedte_contract import runs
from vierstaedte_contract.dataset import LINK, TABLE_SCHEMA_VERSION, VALIDATION_STATUS
from vierstaedte_harvest import __version__, metadata
from vierstaedte_harvest import config as city_config
from vierstaedte_harvest.fetch import Download, Fetcher, FetchError
from vierstaedte_harvest.normalise import normalise
from vierstaedte_harvest.publish import Publisher, PublishError, ResourceSpec, Table
from vierstaedte_harvest.report import for_portal
from vierstaedte_harvest.sources import Listing, SourceDataset, SourceResource, read
from vierstaedte_harvest.state import PUBLISHED, UNSURE, WITHDRAWN, State

log = logging.getLogger(__name__)
MAX_SKIPPED_REPORTED = 100
# what a dataset's entry in the run report keeps of its table's report (the rest stays local)
TABLE_REPORT = ("verdict", "rows_in", "rows_out", "error_counts", "warning_counts")
# problems that leave CKAN unusable to this run: it is not recorded there either
UNUSABLE = frozenset({"bad-token", "token-scope", "ckan-unreachable"})


class Locked(Exception):
    """Another run of this city is in progress."""


class WithdrawalRefused(Exception):
    """A complete listing would withdraw more than ``source.max_withdraw`` allows: none is."""

    def __init__(self, message: str, would: int, published: int, limit: int):
        super().__init__(message)
        self.error = {
            "code": "mass-withdrawal-refused",
            "message": message,
            "would_withdraw": would,
            "published": published,
            "limit": limit,
        }


@dataclasses.dataclass
class Options:
    city: str
    ckan_url: str
    token: str
    state_dir: Path
    config_path: Path | None = None
    dry_run: bool = False
    since: str | None = None
    progress: bool = False
    # downloads and normalised files of the dataset in hand (default: the system's temp)
    work_dir: Path | None = None
    # datasets harvested at once; below CKAN's web workers, so the portal keeps answering
    workers: int = 2
    # the operator's --allow-withdraw: may withdraw that many, even all
    allow_withdraw: int = 0


@dataclasses.dataclass
class Outcome:
    """How a run ended: its report, whose ``status`` is one of ``vierstaedte_contract.runs``
    (ok, partial, failed; locked if another run held the lock and this one did nothing)."""

    report: dict[str, Any]

    @property
    def status(self) -> str:
        return self.report["status"]


class _Lock:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = path.open("a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise Locked(f"another run holds {path}") from None
        try:  # the pid is for people; a full disk must not stop the run here
            self.handle.seek(0)
            self.handle.truncate()
            self.handle.write(f"{os.getpid()}\n")
            self.handle.flush()
        except OSError:
            pass

    def release(self) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _fingerprint(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _file_name(resource: SourceResource, fallback: str) -> str:
    name = unquote(urlsplit(resource.url).path.rsplit("/", 1)[-1])
    name = re.sub(r"[^\w.\-]+", "_", name).strip("._")[:100]
    return name or fallback


class Harvest:
    def __init__(self, options: Options):
        self.options = options
        self.config = city_config.load(options.city, options.config_path)
        self.fetcher = Fetcher(self.config.http)
        self.publisher = Publisher(options.ckan_url, options.token, options.city, options.dry_run)
        self.state = State(options.state_dir / f"{options.city}.json")
        # workers take their dataset's entry out and put it back under it
        self.state_lock = threading.Lock()
        # name → source_identifier of every dataset of the city, from one search
        self.in_ckan: dict[str, str] = {}

    # --- one dataset -------------------------------------------------------------------

    def harvest(self, source: SourceDataset, work: Path) -> dict[str, Any]:
        """Harvest one dataset: fetch → normalise → publish; returns its report entry.

        Writes to CKAN only if everything before succeeded, and remembers what it published
        (in the state) only once CKAN has it.
        """
        name = metadata.dataset_name(self.config.city, source)
        entry: dict[str, Any] = {
            "source_id": source.guid,
            "title": metadata.clean_text(source.title, 300),
            "ckan_name": name,
            "status": runs.ERRORED,
            "errors": [],
        }
        with self.state_lock:  # a private copy: saved only once the dataset is done
            remembered = copy.deepcopy(self.state.datasets.get(source.guid) or {"files": {}})
        rule, resource = self.config.table_for(source)
        fingerprint = _fingerprint(
            dataclasses.asdict(source),
            self.config.defaults,
            rule and rule.mapping.id,
            vierstaedte_contract.SCHEMA_VERSION,
            __version__,
        )
        # the state is a cache: a dataset it remembers but CKAN lacks (restored database?) is
        # published again
        published = (
            remembered.get("status") == PUBLISHED
            and remembered.get("ckan_name") == name
            and name in self.in_ckan
        )
        current = published and remembered.get("fingerprint") == fingerprint
        since = self.options.since
        if published and since and source.modified and source.modified < since:
            entry["status"] = runs.UNCHANGED
            return entry
        refusal = metadata.licence_refusal(source, self.config.defaults)
        if refusal is not None:  # before any download: the table would not be published
            entry["status"] = runs.REJECTED
            entry["errors"] = [{"code": refusal[0], "message": refusal[1]}]
            return entry
        download = None
        if resource is not None:
            known = remembered["files"].get(resource.url, {})
            download = self._download(resource.url, work, known, current)
            if download is None:
                entry["status"] = runs.UNCHANGED  # no CKAN call at all
                return entry
        elif current:
            entry["status"] = runs.UNCHANGED
            return entry

        problems: list[tuple[str, str]] = []  # source fields left out: reported, not fatal
        defaulted: list[dict[str, Any]] = []  # fields the source lacks, filled by a default
        desired = metadata.dataset_dict(
            source,
            self.config.city,
            self.config.defaults,
            name,
            rule.spatial_granularity if rule else None,
            problems,
            defaulted,
        )
        entry["defaulted"] = defaulted
        table = None
        if resource is not None:
            result = normalise(download.path, rule.mapping, out=work / f"{name}-normalisiert.csv")
            report = result.report.as_dict()
            # the run report goes to CKAN and the portal: a summary, and the errors that matter
            entry["table_report"] = {key: report[key] for key in TABLE_REPORT}
            if not result.ok:
                entry["status"] = runs.REJECTED
                entry["errors"] = [
                    {"code": e["code"], "message": e["message"]} for e in report["errors"][:50]
                ]
                return entry
            desired.update(_table_metadata(desired, report))
            original = download.path.rename(work / f"{name}-original.{report['reading']['format']}")
            table = Table(
                original,
                download.sha256,
                result.out,
                report=report,
                source={"title": source.title, "url": resource.url, "modified": source.modified},
            )
        links = [
            ResourceSpec(
                LINK,
                metadata.clean_text(r.name, 200) or _file_name(r, "Datei"),
                metadata.clean_text(r.format, 20),
                url=url,
            )
            for r in source.resources
            if r is not resource and (url := metadata.link_url(r, problems))
        ]
        warnings = [{"code": code, "message": text} for code, text in source.notes]
        warnings += [{"code": code, "message": text} for code, text in problems]
        if warnings:
            entry["warnings"] = warnings
        entry["status"] = self.publisher.publish(desired, links, table, known=name in self.in_ckan)
        remembered.update(
            fingerprint=fingerprint, ckan_name=name, status=PUBLISHED, title=entry["title"]
        )
        if download is not None:
            remembered["files"][resource.url] = {
                "etag": download.etag,
                "last_modified": download.last_modified,
                "sha256": download.sha256,
            }
        with self.state_lock:
            self.state.datasets[source.guid] = remembered
        return entry

    def _download(
        self, url: str, work: Path, known: dict[str, Any], current: bool
    ) -> Download | None:
        """The table's file, or None if it is the one published and nothing else changed.

        ``known`` is what the state remembers of the file (ETag, Last-Modified, SHA-256) and
        ``current`` whether the dataset's metadata is as published.
        """
        download = self.fetcher.download(url, work, known.get("etag"), known.get("last_modified"))
        if download.unchanged or download.sha256 == known.get("sha256"):
            if current:
                return None
            if download.unchanged:  # the metadata changed: the file is needed to compare with CKAN
                download = self.fetcher.download(url, work)
        return download

    # --- the run -----------------------------------------------------------------------

    def listing(self) -> Listing:
        """The source's listing, read whole; whether it is complete is the listing's to say."""
        config = self.config
        return read(config.protocol, self.fetcher, config.source, config.max_datasets)

    def run(self) -> dict[str, Any]:
        """The run in its order: check the token, list, harvest each dataset, withdraw, report."""
        report: dict[str, Any] = {
            "city": self.config.city,
            "started": _now(),
            "harvester_version": __version__,
            "source": {"protocol": self.config.protocol, "url": self.config.source.location},
            "dry_run": self.options.dry_run,
            "datasets": [],
            "source_errors": [],
        }
        # a token that writes elsewhere too is reported
        report["source_errors"].extend(self.publisher.check_token())
        self.in_ckan = self.publisher.harvested_names()  # one search, not one call per dataset
        progress = _progress(self.options.progress)
        listing = self.listing()
        report["source_errors"].extend(listing.gaps)
        report["listing"] = _listing_report(listing)
        self._harvest_all(listing.datasets, report, progress)
        withdrew = listing.complete
        try:
            report["datasets"].extend(self._withdraw(listing))
        except WithdrawalRefused as refused:
            report["source_errors"].append(refused.error)
            withdrew = False
        report["finished"] = _now()
        report["counts"] = counts = runs.counts(report["datasets"])
        report["dataset_writes"] = len(self.publisher.writes)
        report["write_calls"] = dict(sorted(collections.Counter(self.publisher.writes).items()))
        failed = sum(counts[status] for status in runs.PROBLEM_STATUSES)
        problems = failed + len(report["source_errors"])
        succeeded = len(report["datasets"]) - failed
        partial = succeeded and withdrew  # incomplete listing or refused withdrawal: run failed
        report["status"] = runs.OK if not problems else (runs.PARTIAL if partial else runs.FAILED)
        if not self.options.dry_run and self._save_state(report) and report["status"] == runs.OK:
            report["status"] = runs.PARTIAL  # published, but the state could not be saved
        return report

    def _harvest_all(self, listed: list[SourceDataset], report: dict[str, Any], progress) -> None:
        """Harvest the listed datasets, ``workers`` at a time; the report keeps the listing's order.

        A dataset whose state changed is recorded in the state's journal once it and every
        dataset listed before it are done; unchanged ones write nothing. A few datasets are
        queued ahead, never the whole listing.
        """
        pending: collections.deque = collections.deque()
        workers = max(1, self.options.workers)

        def finish() -> None:
            guid, before, future = pending.popleft()
            entry = future.result()
            report["datasets"].append(entry)
            progress(entry)
            with self.state_lock:
                changed = json.dumps(self.state.datasets.get(guid), sort_keys=True) != before
            if changed and not self.options.dry_run:
                self._save_state(report, guid)

        pool = ThreadPoolExecutor(workers, thread_name_prefix="harvest")
        try:
            for source in listed:
                before = json.dumps(self.state.datasets.get(source.guid), sort_keys=True)
                pending.append((source.guid, before, pool.submit(self._harvest_safely, source)))
                while len(pending) > 2 * workers:
                    finish()
            while pending:
                finish()
        finally:  # Ctrl-C: finish the datasets in hand, start no more
            pool.shutdown(wait=True, cancel_futures=True)

    def _save_state(self, report: dict[str, Any], guid: str | None = None) -> bool:
        """Record one dataset's state (or, at the end, save all of it); True if that failed.

        A failure (disk full) is reported once and the run goes on: CKAN stays the truth.
        """
        try:
            with self.state_lock:
                if guid:
                    self.state.record(guid)
                else:
                    self.state.save()
        except OSError as error:
            if not any(e["code"] == "state-not-saved" for e in report["source_errors"]):
                message = _local_error(error, self.state.path)
                report["source_errors"].append({"code": "state-not-saved", "message": message})
                log.error("%s", message)
            return True
        return False

    def _harvest_safely(self, source: SourceDataset) -> dict[str, Any]:
        prefix = f"vierstaedte-{self.config.city}-"
        with tempfile.TemporaryDirectory(prefix=prefix, dir=self.options.work_dir) as work:
            unsure = True  # whether CKAN may hold half of what this dataset's run wrote
            try:
                return self.harvest(source, Path(work))
            except (FetchError, PublishError) as error:
                code, message = error.code, str(error)
                unsure = not isinstance(error, FetchError)  # the download comes before any write
                log.warning("%s: %s", source.guid, message)
            except OSError as error:  # the work directory: disk full, no permission
                full = error.errno in (errno.ENOSPC, errno.EDQUOT)
                code = "disk-full" if full else "local-io-error"
                message = _local_error(error, Path(work))
                log.warning("%s: %s", source.guid, message)
            except Exception as error:
                log.exception("%s: unexpected error", source.guid)
                code, message = "internal-error", f"{error.__class__.__name__}: {error}"[:2000]
            if unsure:
                with self.state_lock:
                    remembered = self.state.datasets.get(source.guid)
                    if remembered and remembered.get("status") == PUBLISHED:
                        self.state.datasets[source.guid] = {**remembered, "status": UNSURE}
            return {
                "source_id": source.guid,
                "title": metadata.clean_text(source.title, 300),
                "ckan_name": metadata.dataset_name(self.config.city, source),
                "status": runs.ERRORED,
                "errors": [{"code": code, "message": message}],
            }

    def _withdraw(self, listing: Listing) -> list[dict[str, Any]]:
        """Soft-delete what the source no longer lists (from state; from CKAN if state was lost).

        Only after a complete listing: a partial view of the source (a page that failed, ended
        early, repeated itself) says nothing about the datasets it did not show. And only up to
        ``source.max_withdraw`` of the datasets published from the source (or the operator's
        ``--allow-withdraw``): a complete listing of ``count: 0`` from a broken filter or a
        migrated portal looks just like a source that emptied itself. Above it, nothing is
        withdrawn and :class:`WithdrawalRefused` says how much would have been.
        """
        if not listing.complete:
            log.error(
                "the listing of the source is incomplete (%s) — nothing will be withdrawn "
                "on this run",
                "; ".join(gap["message"] for gap in listing.gaps),
            )
            return []
        seen = {source.guid for source in listing.datasets}
        prefixes = {guid.rsplit(":", 1)[0] + ":" for guid in seen} or {
            guid.rsplit(":", 1)[0] + ":" for guid in self.state.datasets
        }
        gone: dict[str, str] = {}
        for guid, remembered in self.state.datasets.items():
            if guid not in seen and remembered.get("status") in (PUBLISHED, UNSURE):
                gone[remembered["ckan_name"]] = guid
        for name, guid in self.in_ckan.items():  # in case the state was lost
            if guid not in seen and any(guid.startswith(prefix) for prefix in prefixes):
                gone.setdefault(name, guid)
        # published from the source when the run began: what goes, and what it lists that CKAN had
        kept = {metadata.dataset_name(self.config.city, source) for source in listing.datasets}
        self._check_withdrawal(sorted(gone), len(set(gone) | (kept & set(self.in_ckan))))
        entries = []
        for name, guid in sorted(gone.items()):
            title = self.state.datasets.get(guid, {}).get("title", "")
            entry = {
                "source_id": guid,
                "ckan_name": name,
                "title": title,
                "status": runs.WITHDRAWN,
                "errors": [],
            }
            try:
                if not self.publisher.withdraw(name):  # gone from CKAN already: so says the state
                    self.state.dataset(guid).update(status=WITHDRAWN, ckan_name=name)
                    continue
            except PublishError as error:
                entry.update(
                    status=runs.ERRORED, errors=[{"code": error.code, "message": str(error)}]
                )
            else:
                self.state.dataset(guid).update(status=WITHDRAWN, ckan_name=name)
            entries.append(entry)
        return entries

    def _check_withdrawal(self, names: list[str], published: int) -> None:
        """Refuse to withdraw ``names`` of the ``published`` datasets if more than allowed."""
        limit = max(self.config.max_withdraw.of(published), self.options.allow_withdraw)
        if len(names) <= limit:
            return
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        allowed = "source.max_withdraw" + (
            ", --allow-withdraw" if self.options.allow_withdraw else ""
        )
        message = (
            f"the source's complete listing would withdraw {len(names)} of {published} "
            f"datasets published from it ({shown}), more than the {limit} allowed "
            f"({allowed}): nothing was withdrawn. Check the source (its filter, "
            "organisation, a migration); if they are really gone, run once by hand with "
            f"--allow-withdraw {len(names)}"
        )
        log.error("%s", message)
        raise WithdrawalRefused(message, len(names), published, limit)


def _table_metadata(desired: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    """What a validated table adds to its dataset: its verdict, the schema's version and, where
    the source states no coverage, the periods the table covers (DCAT-AP ``dct:temporal``)."""
    added = {
        VALIDATION_STATUS: report["verdict"],
        TABLE_SCHEMA_VERSION: vierstaedte_contract.SCHEMA_VERSION,
    }
    if "temporal_start" not in desired and "temporal_end" not in desired and report["coverage"]:
        added.update(
            temporal_start=report["coverage"]["start"], temporal_end=report["coverage"]["end"]
        )
    return added


def _listing_report(listing: Listing) -> dict[str, Any]:
    """Whether the listing was complete and how that is known; the records skipped and what the
    reader noticed about the catalogue outside any dataset (``warnings``), the first 100 each."""
    skipped = [
        {"source_id": s.guid, "type": s.kind, "title": metadata.clean_text(s.title, 300)}
        for s in listing.skipped[:MAX_SKIPPED_REPORTED]
    ]
    return {
        "complete": listing.complete,
        "proof": listing.proof,
        "datasets": len(listing.datasets),
        "skipped_count": len(listing.skipped),
        "skipped": skipped,
        "warnings": listing.notes[:MAX_SKIPPED_REPORTED],
    }


def _local_error(error: OSError, where: Path) -> str:
    return f"cannot write {error.filename or where}: {error.strerror or error}"


def _progress(enabled: bool):
    """A progress bar on a terminal; one log line per dataset under cron."""
    if enabled:
        from tqdm import tqdm

        bar = tqdm(unit=" Datensätze", file=sys.stderr)

        def show(entry: dict[str, Any]) -> None:
            bar.update(1)
            bar.set_postfix_str(f"{entry['status']}: {entry['ckan_name']}"[:60])

        return show
    counter = iter(range(1, 1 << 30))
    return lambda entry: log.info("[%d] %s: %s", next(counter), entry["ckan_name"], entry["status"])


def execute(options: Options) -> Outcome:
    """Run a city's harvest under its lock; write the report and record it in CKAN."""
    try:
        lock = _Lock(options.state_dir / f"{options.city}.lock")
    except Locked as error:
        return Outcome({"city": options.city, "status": runs.LOCKED, "message": str(error)})
    try:
        harvest = Harvest(options)
        try:
            report = harvest.run()
        except PublishError as error:  # token or CKAN unusable: nothing was harvested
            report = {
                "city": options.city,
                "started": _now(),
                "finished": _now(),
                "status": runs.FAILED,
                "datasets": [],
                "counts": runs.counts([]),
                "source_errors": [{"code": error.code, "message": str(error)}],
            }
        try:
            _write_report(options, report)
        except OSError as error:
            report["report_error"] = _local_error(error, options.state_dir / "reports")
            log.error("the report was not saved: %s", report["report_error"])
        unusable = {e["code"] for e in report["source_errors"]} & UNUSABLE
        if not options.dry_run and not unusable:
            try:  # trimmed to what the portal stores
                harvest.publisher.record_run(for_portal(report))
            except PublishError as error:
                log.error("could not record the run in CKAN: %s", error)
                report["record_error"] = str(error)
    finally:
        lock.release()
    return Outcome(report)


def _write_report(options: Options, report: dict[str, Any]) -> Path:
    folder = options.state_dir / "reports" / options.city
    folder.mkdir(parents=True, exist_ok=True)
    stamp = report["started"].replace(":", "").replace("+", "Z")
    path = folder / f"{stamp}.json"
    text = json.dumps(report, ensure_ascii=False, indent=1) + "\n"
    _write_atomically(path, text)
    _write_atomically(folder / "latest.json", text)
    report["report_file"] = str(path)
    return path


def _write_atomically(path: Path, text: str) -> None:
    """Whole or not at all: a full disk leaves the previous file, never half a report."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
