"""One harvest run of one city: list → fetch → normalise → validate → publish → withdraw → report.

A run never leaves published data worse than it found it: a dataset is only
written when its source was fetched completely and its table passed
validation, and datasets are withdrawn only after a *complete* listing of the
source. Runs of one city never overlap (a lock), and a run killed at any
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
from vierstaedte_harvest import __version__, config as city_config, datapackage, metadata
from vierstaedte_harvest.fetch import FetchError, Fetcher
from vierstaedte_harvest.normalise import normalise
from vierstaedte_harvest.publish import PublishError, Publisher, ResourceSpec
from vierstaedte_harvest.report import for_portal
from vierstaedte_harvest.sources import Listing, SourceDataset, SourceResource, read
from vierstaedte_harvest.state import State

log = logging.getLogger(__name__)
MAX_SKIPPED_REPORTED = 100


class Locked(Exception):
    """Another run of this city is in progress."""


class WithdrawalRefused(Exception):
    """A complete listing would withdraw more than ``source.max_withdraw`` allows: none is."""

    def __init__(self, message: str, would: int, published: int, limit: int):
        super().__init__(message)
        self.error = {"code": "mass-withdrawal-refused", "message": message,
                      "would_withdraw": would, "published": published, "limit": limit}


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
    work_dir: Path | None = None  # downloads and normalised files of the dataset in hand (default: system temp)
    workers: int = 2  # datasets harvested at once; below CKAN's web workers, so the portal keeps answering
    allow_withdraw: int = 0  # the operator's --allow-withdraw: may withdraw that many, even all


@dataclasses.dataclass
class Outcome:
    report: dict[str, Any]
    exit_code: int


class _Lock:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = path.open("a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise Locked(f"another run holds {path}")
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
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _file_name(resource: SourceResource, fallback: str) -> str:
    name = unquote(urlsplit(resource.url).path.rsplit("/", 1)[-1])
    name = re.sub(r"[^\w.\-]+", "_", name).strip("._")[:100]
    return name or fallback


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _table_files(name: str, table: SourceResource, download, kind: str, normalised: Path,
                 work: Path) -> list[ResourceSpec]:
    """The city's original file and its normalised form, as resources to upload.

    The original is published under a name of ours: the dataset's slug and the extension of the
    format the reader found in it (``kind``, csv or xlsx). The source's file name, extension and
    declared format are claims — a table saved as ``.html`` would be served as a page of the portal.
    """
    raw_path = work / f"{name}-original.{kind}"
    download.path.rename(raw_path)
    return [
        ResourceSpec("raw", f"Originaldatei ({kind.upper()})", kind.upper(), raw_path,
                     sha256=download.sha256, description=f"Unverändert von {table.url}"),
        ResourceSpec("normalised", "Normalisierte Daten (CSV)", "CSV", normalised, sha256=_sha256(normalised),
                     description=f"Nach dem gemeinsamen Schema city-statistics {vierstaedte_contract.SCHEMA_VERSION}"),
    ]


class Harvest:
    def __init__(self, options: Options):
        self.options = options
        self.config = city_config.load(options.city, options.config_path)
        self.fetcher = Fetcher(self.config.http)
        self.publisher = Publisher(options.ckan_url, options.token, options.city, options.dry_run)
        self.state = State(options.state_dir / f"{options.city}.json")
        self.state_lock = threading.Lock()  # workers take their dataset's entry out and put it back under it
        self.in_ckan: dict[str, str] = {}  # name → source_identifier of every dataset of the city, from one search

    # --- one dataset -------------------------------------------------------------------

    def harvest(self, source: SourceDataset, work: Path) -> dict[str, Any]:
        """Harvest one dataset; returns its report entry. Writes to CKAN only if everything before succeeded."""
        name = metadata.dataset_name(self.config.city, source)
        entry: dict[str, Any] = {"source_id": source.guid, "title": metadata.clean_text(source.title, 300),
                                 "ckan_name": name, "status": "errored", "errors": []}
        with self.state_lock:  # a private copy: saved only once the dataset is done
            remembered = copy.deepcopy(self.state.datasets.get(source.guid) or {"files": {}})
        rule, table = self.config.table_for(source)
        fingerprint = _fingerprint(dataclasses.asdict(source), self.config.defaults, rule and rule.mapping.id,
                                   vierstaedte_contract.SCHEMA_VERSION, __version__)
        # the state is a cache: a dataset it remembers but CKAN lacks (restored database?) is published again
        published = (remembered.get("status") == "published" and remembered.get("ckan_name") == name
                     and name in self.in_ckan)
        if published and self.options.since and source.modified and source.modified < self.options.since:
            entry["status"] = "unchanged"
            return entry
        download = None
        if table is not None:
            known = remembered["files"].get(table.url, {})
            download = self.fetcher.download(table.url, work, known.get("etag"), known.get("last_modified"))
            if download.unchanged or download.sha256 == known.get("sha256"):
                if published and remembered.get("fingerprint") == fingerprint:
                    entry["status"] = "unchanged"  # no CKAN call at all
                    return entry
                if download.unchanged:  # the metadata changed: the file is needed to compare with CKAN
                    download = self.fetcher.download(table.url, work)
        elif published and remembered.get("fingerprint") == fingerprint:
            entry["status"] = "unchanged"
            return entry

        problems: list[str] = []  # source fields left out (an invalid URL): reported, not fatal
        desired = metadata.dataset_dict(source, self.config.city, self.config.defaults, name,
                                        rule.spatial_granularity if rule else None, problems)
        files: list[ResourceSpec] = []
        if table is not None:
            result = normalise(download.path, rule.mapping, out=work / f"{name}-normalisiert.csv")
            report = result.report.as_dict()
            # the run report goes to CKAN and the portal: a summary, and the errors where they matter
            entry["table_report"] = {k: report[k] for k in ("verdict", "rows_in", "rows_out", "error_counts",
                                                           "warning_counts")}
            if not result.ok:
                entry["status"] = "rejected"
                entry["errors"] = [{"code": e["code"], "message": e["message"]} for e in report["errors"][:50]]
                return entry
            desired.update(validation_status=report["verdict"], table_schema_version=vierstaedte_contract.SCHEMA_VERSION)
            if "temporal_start" not in desired and "temporal_end" not in desired and report["coverage"]:
                # the source states no coverage: the table's own periods do (DCAT-AP dct:temporal)
                desired.update(temporal_start=report["coverage"]["start"], temporal_end=report["coverage"]["end"])
            files = _table_files(name, table, download, report["reading"]["format"],
                                 result.out, work)
        links = [ResourceSpec("link", metadata.clean_text(r.name, 200) or _file_name(r, "Datei"),
                              metadata.clean_text(r.format, 20), url=url)
                 for r in source.resources
                 if r is not table and (url := metadata.link_url(r, problems))]
        if problems:
            entry["warnings"] = [{"code": "invalid-url", "message": text} for text in problems]
        entry["status"] = self._publish(desired, files + links, source, table, report if table else None, work)
        remembered.update(fingerprint=fingerprint, ckan_name=name, status="published", title=entry["title"])
        if download is not None:
            remembered["files"][table.url] = {"etag": download.etag, "last_modified": download.last_modified,
                                              "sha256": download.sha256}
        with self.state_lock:
            self.state.datasets[source.guid] = remembered
        return entry

    def _publish(self, desired: dict[str, Any], specs: list[ResourceSpec], source: SourceDataset,
                 table: SourceResource | None, report: dict[str, Any] | None, work: Path) -> str:
        """Dataset, files, DataStore, Data Package — each written only where CKAN differs. Returns the status.

        A new table dataset takes four calls: ``package_create`` (metadata and links),
        ``package_revise`` (original and normalised file), ``datastore_create`` (the rows) and
        ``package_revise`` (the Data Package and the marker that the DataStore holds this file).
        """
        dataset, status = self.publisher.upsert_dataset(desired, [spec for spec in specs if spec.role == "link"],
                                                        known=desired["name"] in self.in_ckan)
        if table is None:
            return "updated" if self.publisher.sync_resources(dataset, specs)[2] and status == "unchanged" else status
        normalised = next(spec for spec in specs if spec.role == "normalised")
        old = next((r for r in dataset.get("resources", []) if r.get("role") == "normalised"), None)
        # a replaced file's marker goes in the same call: it never vouches for the table being replaced
        clear = ({"normalised": {"datastore_hash": ""}}
                 if old and old.get("hash") != normalised.sha256 and old.get("datastore_hash") else None)
        dataset, resources, wrote = self.publisher.sync_resources(dataset, specs, clear)
        loaded = self.publisher.load_table(resources["normalised"], normalised.path, normalised.sha256, fresh=old is None)
        package = datapackage.descriptor(dataset, resources["normalised"].get("url", ""), normalised.path.stem,
                                         {"title": source.title, "url": table.url, "modified": source.modified},
                                         report)
        package_path = work / "datapackage.json"
        package_path.write_bytes(datapackage.dumps(package))
        spec = ResourceSpec("datapackage", "Data Package (datapackage.json)", "JSON", package_path,
                            sha256=_sha256(package_path), description="Frictionless Data Package: Daten, Schema und Herkunft")
        marker = {"normalised": {"datastore_hash": normalised.sha256}} if loaded else None
        wrote = self.publisher.sync_resources(dataset, [spec], marker)[2] or loaded or wrote
        return "updated" if status == "unchanged" and wrote else status

    # --- the run -----------------------------------------------------------------------

    def listing(self) -> Listing:
        """The source's listing, read whole; whether it is complete is the listing's to say."""
        config = self.config
        return read(config.protocol, self.fetcher, config.source, config.max_datasets)

    def run(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "city": self.config.city, "started": _now(), "harvester_version": __version__,
            "source": {"protocol": self.config.protocol, "url": self.config.source.get("url") or self.config.source.get("path")},
            "dry_run": self.options.dry_run, "datasets": [], "source_errors": [],
        }
        report["source_errors"].extend(self.publisher.check_token())  # a token that writes elsewhere too
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
        report["counts"] = runs.counts(report["datasets"])
        report["dataset_writes"] = len(self.publisher.writes)
        report["write_calls"] = dict(sorted(collections.Counter(self.publisher.writes).items()))
        problems = report["counts"]["rejected"] + report["counts"]["errored"] + len(report["source_errors"])
        succeeded = len(report["datasets"]) - report["counts"]["rejected"] - report["counts"]["errored"]
        partial = succeeded and withdrew  # incomplete listing or refused withdrawal: run failed
        report["status"] = "ok" if not problems else ("partial" if partial else "failed")
        if not self.options.dry_run and self._save_state(report) and report["status"] == "ok":
            report["status"] = "partial"  # published, but the state could not be saved
        return report

    def _harvest_all(self, listed: list[SourceDataset], report: dict[str, Any], progress) -> None:
        """Harvest the listed datasets, ``workers`` at a time; report entries keep the listing's order.

        A dataset whose state changed is recorded in the state's journal once it and every dataset
        listed before it are done; unchanged ones write nothing. A few datasets are queued ahead,
        never the whole listing.
        """
        pending: collections.deque = collections.deque()

        def finish() -> None:
            guid, before, future = pending.popleft()
            entry = future.result()
            report["datasets"].append(entry)
            progress(entry)
            with self.state_lock:
                changed = json.dumps(self.state.datasets.get(guid), sort_keys=True) != before
            if changed and not self.options.dry_run:
                self._save_state(report, guid)

        pool = ThreadPoolExecutor(max(1, self.options.workers), thread_name_prefix="harvest")
        try:
            for source in listed:
                before = json.dumps(self.state.datasets.get(source.guid), sort_keys=True)
                pending.append((source.guid, before, pool.submit(self._harvest_safely, source)))
                while len(pending) > 2 * max(1, self.options.workers):
                    finish()
            while pending:
                finish()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # Ctrl-C: finish the datasets in hand, start no more

    def _save_state(self, report: dict[str, Any], guid: str | None = None) -> bool:
        """Record one dataset's state (or, at the end, save all of it); a failure (disk full) is reported once
        and the run goes on: CKAN stays the truth."""
        try:
            with self.state_lock:
                if guid:
                    self.state.record(guid)
                else:
                    self.state.save()
        except OSError as error:
            if not any(e["code"] == "state-not-saved" for e in report["source_errors"]):
                report["source_errors"].append({"code": "state-not-saved", "message": _local_error(error, self.state.path)})
                log.error("%s", report["source_errors"][-1]["message"])
            return True
        return False

    def _harvest_safely(self, source: SourceDataset) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix=f"vierstaedte-{self.config.city}-", dir=self.options.work_dir) as work:
            try:
                return self.harvest(source, Path(work))
            except (FetchError, PublishError, OSError) as error:
                if isinstance(error, (FetchError, PublishError)):
                    code, message = error.code, str(error)
                else:  # the work directory: disk full, no permission
                    code = "disk-full" if error.errno in (errno.ENOSPC, errno.EDQUOT) else "local-io-error"
                    message = _local_error(error, Path(work))
                log.warning("%s: %s", source.guid, message)
            except Exception as error:  # noqa: BLE001 - a bug met by one source's data must not stop the others
                log.exception("%s: unexpected error", source.guid)
                code, message = "internal-error", f"{error.__class__.__name__}: {error}"[:2000]
            return {"source_id": source.guid, "title": metadata.clean_text(source.title, 300),
                    "ckan_name": metadata.dataset_name(self.config.city, source), "status": "errored",
                    "errors": [{"code": code, "message": message}]}

    def _withdraw(self, listing: Listing) -> list[dict[str, Any]]:
        """Soft-delete what this source no longer lists (from state, and from CKAN if state was lost).

        Only after a complete listing: a partial view of the source (a page that failed, ended
        early, repeated itself) says nothing about the datasets it did not show. And only up to
        ``source.max_withdraw`` of the datasets published from the source (or the operator's
        ``--allow-withdraw``): a complete listing of ``count: 0`` from a broken filter or a
        migrated portal looks just like a source that emptied itself. Above it, nothing is
        withdrawn and :class:`WithdrawalRefused` says how much would have been.
        """
        if not listing.complete:
            log.error("the listing of the source is incomplete (%s) — nothing will be withdrawn on "
                      "this run", "; ".join(gap["message"] for gap in listing.gaps))
            return []
        seen = {source.guid for source in listing.datasets}
        prefixes = {guid.rsplit(":", 1)[0] + ":" for guid in seen} or {
            guid.rsplit(":", 1)[0] + ":" for guid in self.state.datasets}
        gone: dict[str, str] = {}
        for guid, remembered in self.state.datasets.items():
            if guid not in seen and remembered.get("status") == "published":
                gone[remembered["ckan_name"]] = guid
        for name, guid in self.in_ckan.items():  # in case the state was lost
            if guid not in seen and any(guid.startswith(prefix) for prefix in prefixes):
                gone.setdefault(name, guid)
        # published from the source when the run began: what goes, and what it lists that CKAN had
        kept = {metadata.dataset_name(self.config.city, source) for source in listing.datasets}
        self._check_withdrawal(sorted(gone), len(set(gone) | (kept & set(self.in_ckan))))
        entries = []
        for name, guid in sorted(gone.items()):
            entry = {"source_id": guid, "ckan_name": name, "title": self.state.datasets.get(guid, {}).get("title", ""),
                     "status": "withdrawn", "errors": []}
            try:
                if not self.publisher.withdraw(name):  # gone from CKAN already: so says the state
                    self.state.dataset(guid).update(status="withdrawn", ckan_name=name)
                    continue
            except PublishError as error:
                entry.update(status="errored", errors=[{"code": error.code, "message": str(error)}])
            else:
                self.state.dataset(guid).update(status="withdrawn", ckan_name=name)
            entries.append(entry)
        return entries

    def _check_withdrawal(self, names: list[str], published: int) -> None:
        """Refuse to withdraw ``names`` of the ``published`` datasets if more than allowed."""
        limit = max(self.config.max_withdraw.of(published), self.options.allow_withdraw)
        if len(names) <= limit:
            return
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        allowed = "source.max_withdraw" + (
            ", --allow-withdraw" if self.options.allow_withdraw else "")
        message = (f"the source's complete listing would withdraw {len(names)} of {published} "
                   f"datasets published from it ({shown}), more than the {limit} allowed "
                   f"({allowed}): nothing was withdrawn. Check the source (its filter, "
                   "organisation, a migration); if they are really gone, run once by hand with "
                   f"--allow-withdraw {len(names)}")
        log.error("%s", message)
        raise WithdrawalRefused(message, len(names), published, limit)


def _listing_report(listing: Listing) -> dict[str, Any]:
    """Whether the listing was complete and how that is known; the records skipped (first 100)."""
    skipped = [{"source_id": s.guid, "type": s.kind, "title": metadata.clean_text(s.title, 300)}
               for s in listing.skipped[:MAX_SKIPPED_REPORTED]]
    return {"complete": listing.complete, "proof": listing.proof, "datasets": len(listing.datasets),
            "skipped_count": len(listing.skipped), "skipped": skipped}


def _local_error(error: OSError, where: Path) -> str:
    return f"cannot write {error.filename or where}: {error.strerror or error}"


def _progress(enabled: bool):
    """A progress bar on a terminal; one log line per dataset under cron."""
    if enabled:
        from tqdm import tqdm

        bar = tqdm(unit=" Datensätze", file=sys.stderr)
        return lambda entry: (bar.update(1), bar.set_postfix_str(f"{entry['status']}: {entry['ckan_name']}"[:60]))
    counter = iter(range(1, 1 << 30))
    return lambda entry: log.info("[%d] %s: %s", next(counter), entry["ckan_name"], entry["status"])


def execute(options: Options) -> Outcome:
    """Run a city's harvest under its lock; write and record the report; map it to an exit code."""
    from vierstaedte_harvest.cli import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_PARTIAL

    try:
        lock = _Lock(options.state_dir / f"{options.city}.lock")
    except Locked as error:
        return Outcome({"city": options.city, "status": "locked", "message": str(error)}, EXIT_LOCKED)
    try:
        harvest = Harvest(options)
        try:
            report = harvest.run()
        except PublishError as error:  # token or CKAN unusable: nothing was harvested
            report = {"city": options.city, "started": _now(), "finished": _now(), "status": "failed", "datasets": [],
                      "counts": runs.counts([]), "source_errors": [{"code": error.code, "message": str(error)}]}
        try:
            _write_report(options, report)
        except OSError as error:
            report["report_error"] = _local_error(error, options.state_dir / "reports")
            log.error("the report was not saved: %s", report["report_error"])
        unusable = {e["code"] for e in report["source_errors"]} & {"bad-token", "token-scope", "ckan-unreachable"}
        if not options.dry_run and not unusable:
            try:
                harvest.publisher.record_run(for_portal(report))  # trimmed to what the portal stores
            except PublishError as error:
                log.error("could not record the run in CKAN: %s", error)
                report["record_error"] = str(error)
    finally:
        lock.release()
    code = {"ok": EXIT_OK, "partial": EXIT_PARTIAL}.get(report["status"], EXIT_FAILED)
    return Outcome(report, code)


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
