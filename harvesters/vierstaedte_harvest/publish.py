"""Publishing one harvested dataset to CKAN's Action API (ckanapi), writing only what changed.

:meth:`Publisher.publish` is the whole protocol of one dataset, in the order that
makes a kill at any point harmless: the metadata, then the files (a resource's
``hash`` goes with its file), then the DataStore table, then the Data Package
together with the marker that the table is complete (``DATASTORE_MARKER``). The
marker is cleared before a table is replaced, so it never vouches for a table
half loaded; the next run compares all three with the source and finishes
whatever a killed run left undone. Every write is counted, so a re-run with
nothing new can prove it wrote nothing. Few calls matter for speed: every write
re-validates, re-indexes and records the whole dataset, so a dataset's files go
to CKAN in one ``package_revise``, not one call each.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import logging
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ckanapi
import pandas as pd

from vierstaedte_contract import runs
from vierstaedte_contract.dataset import (
    DATAPACKAGE,
    DATASTORE_MARKER,
    LINK,
    NORMALISED,
    RAW,
    ROLE_FIELD,
    resource_with_role,
)
from vierstaedte_contract.table import VALUE_FIELD, datastore_fields, primary_key
from vierstaedte_harvest import __version__, datapackage
from vierstaedte_harvest.metadata import differs

log = logging.getLogger(__name__)
DATASTORE_BATCH = 10_000
# what a call to CKAN may raise besides NotFound; where CKAN is installed, ckanapi re-raises CKAN's
# own classes (SearchIndexError, NotAuthorized, ValidationError), which are no CKANAPIError
_FAILURES = (
    ckanapi.NotAuthorized,
    ckanapi.ValidationError,
    ckanapi.SearchIndexError,
    ckanapi.SearchError,
    ckanapi.SearchQueryError,
    ckanapi.CKANAPIError,
    ckanapi.ServerIncompatibleError,
    OSError,
)


class PublishError(Exception):
    """CKAN refused or failed; ``code`` is stable for reports."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclasses.dataclass
class ResourceSpec:
    role: str  # a role of vierstaedte_contract.dataset: RAW, NORMALISED, DATAPACKAGE or LINK
    name: str
    format: str
    path: Path | None = None  # a file to upload, or …
    url: str | None = None  # … a link to the source
    sha256: str | None = None
    description: str = ""


@dataclasses.dataclass
class Table:
    """A table that passed validation: the city's file and its normalised form, ready to upload.

    ``original`` already has the name it is published under: the dataset's slug and the
    extension of the format the reader found in it (the source's file name, extension and
    declared format are claims; a table saved as ``.html`` would be served as a page of the
    portal). ``source`` (title, url and modified of the source) and ``report`` (the table's
    validation report) go into the Data Package, which is written beside ``normalised``.
    """

    original: Path
    original_sha256: str
    normalised: Path
    source: dict[str, Any]
    report: dict[str, Any]

    def files(self, sha256: str) -> list[ResourceSpec]:
        """The original and the normalised file (whose digest is ``sha256``) as resources."""
        kind = self.report["reading"]["format"].upper()
        return [
            ResourceSpec(
                RAW,
                f"Originaldatei ({kind})",
                kind,
                self.original,
                sha256=self.original_sha256,
                description=f"Unverändert von {self.source['url']}",
            ),
            ResourceSpec(
                NORMALISED,
                "Normalisierte Daten (CSV)",
                "CSV",
                self.normalised,
                sha256=sha256,
                # without the version: the dataset's table_schema_version says it, updated on
                # every publish, while this text stays as long as the table is unchanged
                description="Nach dem gemeinsamen Schema city-statistics",
            ),
        ]


class Publisher:
    """One city's writer: the Action API calls, each write counted, and the publish protocol."""

    def __init__(self, url: str, token: str, city: str, dry_run: bool = False):
        self.url, self.city, self.dry_run = url.rstrip("/"), city, dry_run
        self._token = token
        self._local = threading.local()
        self.writes: list[str] = []  # appended from the worker threads (list.append is atomic)
        self._first_table = threading.Lock()
        self._tables_work = False

    @property
    def ckan(self) -> ckanapi.RemoteCKAN:
        """One client (and HTTP session) per thread: datasets are published in parallel."""
        client = getattr(self._local, "ckan", None)
        if client is None:
            client = self._local.ckan = ckanapi.RemoteCKAN(
                self.url, apikey=self._token, user_agent=f"vierstaedte-harvest/{__version__}"
            )
        return client

    # --- calls -----------------------------------------------------------------------

    def _call(
        self, action: str, write: bool, files: dict[str, Any] | None = None, **data: Any
    ) -> Any:
        if write:
            self.writes.append(action)
            if self.dry_run:
                target = data.get("id") or data.get("name") or data.get("resource_id")
                log.info("dry run: would call %s on %s", action, target)
                return {**data, "id": data.get("id") or f"dry-run-{len(self.writes)}"}
        try:
            return self.ckan.call_action(action, data, files=files)
        except ckanapi.NotFound:
            raise
        except _FAILURES as error:
            raise self._failure(action, error) from error

    def _failure(self, action: str, error: Exception) -> PublishError:
        """What CKAN's refusal or failure of ``action`` means, as a :class:`PublishError`."""
        message = _message(error)
        if isinstance(error, ckanapi.NotAuthorized):
            return PublishError("not-authorized", f"CKAN refused {action}: {message}")
        if isinstance(error, ckanapi.ValidationError):
            return PublishError("ckan-validation", f"CKAN rejected {action}: {message}")
        if isinstance(error, ckanapi.SearchIndexError):
            return PublishError(
                "search-index",
                f"{action}: CKAN could not update its search "
                f"index (Solr down?), the call did not complete: {message}",
            )
        if isinstance(error, (ckanapi.SearchError, ckanapi.SearchQueryError)):
            return PublishError("search-error", f"{action}: CKAN's search (Solr) failed: {message}")
        if isinstance(error, OSError):  # connection refused, reset, timeouts
            return PublishError(
                "ckan-unreachable", f"{action}: CKAN at {self.url} not reachable: {error}"
            )
        status = _gateway_status(error)
        if status:
            return PublishError(
                "ckan-unreachable",
                f"{action}: the proxy in front of CKAN ({self.url}) answered HTTP {status}: no "
                "CKAN node answered the call (one down or restarting?); the next run checks what "
                "it did",
            )
        if "Search Connection Error" in message:
            return PublishError(
                "search-error", f"{action}: CKAN cannot reach its search server (Solr)"
            )
        if "Internal Server Error" in message:
            return PublishError(
                "ckan-error",
                f"{action}: CKAN failed with an internal error "
                "(HTTP 500); CKAN's log says why (its database down?)",
            )
        return PublishError("ckan-error", f"{action} failed: {message}")

    def read(self, action: str, **data: Any) -> Any:
        return self._call(action, write=False, **data)

    def write(self, action: str, files: dict[str, Any] | None = None, **data: Any) -> Any:
        return self._call(action, write=True, files=files, **data)

    # --- checks ----------------------------------------------------------------------

    def check_token(self) -> list[dict[str, str]]:
        """Make sure the token can write this city; returns the problems the run must report.

        Refused: a token that cannot write the city, and a sysadmin's (it can do anything,
        anywhere). A token that can also write other cities is used, and every run reports it
        (exit code 3): the harvester writes only datasets of its own city
        (:meth:`upsert_dataset`), and refusing would let whoever made its user a member
        elsewhere stop this city's harvest. The extra rights are still a risk should the token
        leak, so a sysadmin has to remove them.
        """
        try:
            writable = {
                organisation["name"]
                for organisation in self.read(
                    "organization_list_for_user", permission="create_dataset"
                )
            }
            # a sysadmin is listed every organisation whatever the permission; no role has this one
            sysadmin = bool(self.read("organization_list_for_user", permission="sysadmin"))
        except PublishError as error:
            raise PublishError(
                "bad-token", f"CKAN does not accept the API token ({error}); revoked or mistyped?"
            ) from error
        if sysadmin:
            raise PublishError(
                "token-scope",
                "The API token is a sysadmin's; a city's harvester "
                f"must use a token of a user who is editor of {self.city!r} only",
            )
        if self.city not in writable:
            raise PublishError(
                "token-scope",
                f"The API token cannot write organisation "
                f"{self.city!r}; make its user an editor there",
            )
        others = sorted(writable - {self.city})
        if not others:
            return []
        message = (
            f"The API token can also write {', '.join(others)}; this run wrote "
            f"{self.city!r} only. A sysadmin should remove the user from the other "
            f"organisations (ckan vierstaedte ensure-harvester {self.city})"
        )
        log.warning("%s", message)
        return [{"code": "token-too-broad", "message": message}]

    # --- one dataset: the protocol -----------------------------------------------------

    def publish(
        self,
        desired: dict[str, Any],
        links: list[ResourceSpec],
        table: Table | None = None,
        known: bool = True,
    ) -> str:
        """Bring one dataset to ``desired``, its ``links`` and its ``table``; returns its status.

        Each step writes only where CKAN differs, in this order:

        1. the metadata (:meth:`upsert_dataset`; a new dataset gets its links in that call);
        2. the files, each with its ``hash`` (:meth:`sync_resources`: one ``package_revise``);
        3. the rows, unless the marker says the DataStore holds this very file (:meth:`_load`);
        4. the Data Package, and the marker after the last row, in one ``package_revise``.

        So a new table dataset takes four calls: ``package_create``, ``package_revise``,
        ``datastore_create``, ``package_revise``; an unchanged one none. The marker is decided
        here and nowhere else: a table about to be replaced loses it first, together with its
        file if the file changed, or on its own (``resource_patch``) if only the table needs
        loading again; it is written only once every row is in. ``known``: the run's search
        found the dataset's name in CKAN (if not, it is created without a look-up).
        """
        dataset, status = self.upsert_dataset(desired, links, known)
        if table is None:
            return _status(status, self.sync_resources(dataset, links)[2])
        sha256 = _sha256(table.normalised)
        old = resource_with_role(dataset, NORMALISED)
        complete = _holds(old, sha256)
        stale = old is not None and bool(old.get(DATASTORE_MARKER)) and not complete
        replaced = old is not None and old.get("hash") != sha256  # the file is uploaded anew
        clear = {NORMALISED: {DATASTORE_MARKER: ""}}
        dataset, resources, wrote = self.sync_resources(
            dataset, [*table.files(sha256), *links], clear if stale and replaced else None
        )
        resource = resources[NORMALISED]
        if not complete:
            if stale and not replaced:
                self.write("resource_patch", id=resource["id"], **clear[NORMALISED])
            self._load(resource["id"], table.normalised, replace=old is not None)
        package = self._data_package(dataset, resource, table)
        marker = None if complete else {NORMALISED: {DATASTORE_MARKER: sha256}}
        wrote = self.sync_resources(dataset, [package], marker)[2] or not complete or wrote
        return _status(status, wrote)

    # --- one dataset: the steps --------------------------------------------------------

    def show(self, name: str) -> dict[str, Any] | None:
        try:
            return self.read("package_show", id=name)
        except ckanapi.NotFound:
            return None

    def upsert_dataset(
        self, desired: dict[str, Any], links: list[ResourceSpec] = (), known: bool = True
    ) -> tuple[dict[str, Any], str]:
        """Create or update the dataset's metadata; returns it and its status
        (``added``, ``updated`` or ``unchanged``).

        A new dataset is created with its ``links`` in the same call (each separate
        resource_create re-validates and re-indexes the whole dataset); :meth:`sync_resources`
        then finds them in place. ``known=False`` (the run's search did not find the name) skips
        the look-up and creates at once; if CKAN refuses because the name is taken after all (a
        withdrawn dataset is not in the search index), the look-up follows and the dataset is
        updated instead.
        """
        existing = self.show(desired["name"]) if known else None
        if known and existing is None:
            log.warning(
                "dataset %s: the search lists it, the database does not have it (a write cut "
                "between CKAN's index and its commit); it is created again, and `ckan "
                "search-index clear-orphans` removes the index entry left behind",
                desired["name"],
            )
        if existing is None:
            resources = [
                {
                    "name": s.name,
                    "format": s.format,
                    ROLE_FIELD: s.role,
                    "description": s.description,
                    "url": s.url,
                }
                for s in links
                if s.role == LINK
            ]
            try:
                created = self.write(
                    "package_create", **desired, **({"resources": resources} if resources else {})
                )
                return created, runs.ADDED
            except PublishError as error:
                if known or error.code != "ckan-validation":
                    raise
                existing = self.show(desired["name"])
                if existing is None:
                    raise
        owner = (existing.get("organization") or {}).get("name")
        if owner not in (None, self.city):  # only a token that can also write elsewhere sees this
            raise PublishError(
                "name-conflict",
                f"Dataset {desired['name']!r} belongs to {owner!r}, not {self.city!r}",
            )
        if existing.get("source_identifier") not in (None, "", desired.get("source_identifier")):
            raise PublishError(
                "name-conflict",
                f"Dataset {desired['name']!r} belongs to source "
                f"{existing.get('source_identifier')!r}, "
                f"not {desired.get('source_identifier')!r}",
            )
        changed = {k: desired[k] for k in differs(desired, existing)}
        if existing.get("state") == "deleted":
            changed["state"] = "active"  # back at the source: un-withdraw
        if not changed:
            return existing, runs.UNCHANGED
        log.info("dataset %s: updating %s", desired["name"], ", ".join(sorted(changed)))
        log.debug("dataset %s: before %s", desired["name"], {k: existing.get(k) for k in changed})
        return self.write("package_patch", id=existing["id"], **changed), runs.UPDATED

    def sync_resources(
        self,
        dataset: dict[str, Any],
        specs: list[ResourceSpec],
        fields: dict[str, dict[str, Any]] | None = None,
    ) -> tuple[dict[str, Any], dict[str, dict], bool]:
        """Bring the dataset's resources to ``specs`` in one ``package_revise``; ids stay stable.

        Changed files are uploaded and new resources appended in that call, so the dataset is
        validated, indexed and recorded once, not once per file, and a kill leaves all of them or
        none. ``fields`` sets more fields on existing resources by role, in the same call (the
        DataStore marker, as :meth:`publish` decides). Returns the dataset as CKAN now has it,
        its resources (by role, links by URL) and whether anything was written.
        """
        resources = dataset.get("resources", [])
        by_role = {r.get(ROLE_FIELD) or "": r for r in resources}
        links = {r["url"]: r for r in resources if r.get(ROLE_FIELD) == LINK}
        form: dict[str, Any] = {}
        uploads: dict[str, Path] = {}
        new: list[tuple[ResourceSpec, dict[str, Any]]] = []
        for spec in specs:
            current = links.get(spec.url) if spec.role == LINK else by_role.get(spec.role)
            wanted = {
                "name": spec.name,
                "format": spec.format,
                ROLE_FIELD: spec.role,
                "description": spec.description,
            }
            if spec.role == LINK:
                wanted["url"] = spec.url
                if current and all(current.get(k) == v for k, v in wanted.items()):
                    continue
            elif current and (current.get("hash"), current.get("name")) == (spec.sha256, spec.name):
                continue
            if spec.path is not None:
                wanted["hash"] = spec.sha256
            if current is None:
                new.append((spec, wanted))
                continue
            form.update(_revise(current, wanted))
            if spec.path is not None:
                uploads[f"update__resources__{current['id']}__upload"] = spec.path
        for role, values in (fields or {}).items():
            form.update(_revise(by_role[role], values))
        if new:  # appended first, then addressed from the end of the list: -2, -1
            form["update__resources__extend"] = json.dumps(
                [wanted for _, wanted in new], ensure_ascii=False
            )
            for position, (spec, _) in enumerate(new):
                if spec.path is not None:
                    uploads[f"update__resources__{position - len(new)}__upload"] = spec.path
        if form:
            files = {key: (path.name, path.open("rb")) for key, path in uploads.items()}
            try:
                answer = self.write(
                    "package_revise", files=files or None, match__id=dataset["id"], **form
                )
            finally:
                for _, handle in files.values():
                    handle.close()
            if self.dry_run:  # nothing was sent: the dataset as CKAN would have it
                added = [dict(wanted, id=f"dry-run-{wanted[ROLE_FIELD]}") for _, wanted in new]
                dataset = dict(dataset, resources=[*resources, *added])
            else:
                dataset = answer["package"]
        result = {
            r["url"] if r.get(ROLE_FIELD) == LINK else r.get(ROLE_FIELD) or "": r
            for r in dataset.get("resources", [])
        }
        return dataset, result, bool(form)

    def _load(self, resource_id: str, csv_path: Path, replace: bool) -> None:
        """Load the normalised table into the DataStore; ``replace`` drops the old table first.

        The first batch goes with the table's creation (one call fewer for the usual small
        table). No count job: CKAN's default queues one in Redis per batch (a Redis outage would
        fail every load); the DataStore counts the rows itself on the first search.
        """
        if replace:
            try:
                self.write(
                    "datastore_delete",
                    resource_id=resource_id,
                    force=True,
                    calculate_record_count=False,
                )
            except ckanapi.NotFound:
                pass
        batches = _batches(csv_path)
        self._create_table(
            resource_id=resource_id,
            fields=datastore_fields(),
            primary_key=primary_key(),
            force=True,
            records=next(batches),
            calculate_record_count=False,
        )
        for records in batches:
            self.write(
                "datastore_upsert",
                resource_id=resource_id,
                records=records,
                method="insert",
                force=True,
                calculate_record_count=False,
            )

    def _create_table(self, **data: Any) -> None:
        """``datastore_create``; the run's first alone, the others in parallel once one succeeded.

        CKAN 2.12's DataStore creates its composite type ``nested`` on the first table of a new
        database, without a lock: two first calls at once fail (``DuplicateObject``, HTTP 500).
        """
        if self._tables_work:
            self.write("datastore_create", **data)
            return
        with self._first_table:
            self.write("datastore_create", **data)
            self._tables_work = True

    def _data_package(
        self, dataset: dict[str, Any], resource: dict[str, Any], table: Table
    ) -> ResourceSpec:
        """The Data Package of ``table`` as published in ``dataset``, written beside the table."""
        package = datapackage.descriptor(
            dataset, resource.get("url", ""), table.normalised.stem, table.source, table.report
        )
        path = table.normalised.with_name("datapackage.json")
        path.write_bytes(datapackage.dumps(package))
        return ResourceSpec(
            DATAPACKAGE,
            "Data Package (datapackage.json)",
            "JSON",
            path,
            sha256=_sha256(path),
            description="Frictionless Data Package: Daten, Schema und Herkunft",
        )

    # --- the city ----------------------------------------------------------------------

    def withdraw(self, name: str) -> bool:
        """Soft-delete (CKAN's package_delete keeps it recoverable); False if already gone."""
        existing = self.show(name)
        if existing is None or existing.get("state") == "deleted":
            return False
        self.write("package_delete", id=existing["id"])
        return True

    def harvested_names(self) -> dict[str, str]:
        """name → source_identifier (``""`` if none) of every dataset of this city."""
        found, start = {}, 0
        while True:
            page = self.read(
                "package_search",
                fq=f"organization:{self.city}",
                rows=1000,
                start=start,
                include_private=True,
                fl="name,source_identifier",
            )
            for item in page["results"]:
                found[item["name"]] = item.get("source_identifier") or ""
            start += len(page["results"])
            if not page["results"] or start >= page["count"]:
                return found

    def record_run(self, report: dict[str, Any]) -> None:
        self.write(
            "vierstaedte_harvest_run_create",
            organization=self.city,
            started=report["started"],
            finished=report["finished"],
            status=report["status"],
            counts=report["counts"],
            report=report,
            harvester_version=__version__,
        )


def _holds(resource: dict[str, Any] | None, sha256: str) -> bool:
    """Whether the DataStore holds the file ``sha256`` of ``resource`` completely loaded."""
    return bool(
        resource
        and resource.get("datastore_active")
        and resource.get("hash") == sha256
        and resource.get(DATASTORE_MARKER) == sha256
    )


def _status(status: str, wrote: bool) -> str:
    """A dataset whose metadata was unchanged but whose resources were written is ``updated``."""
    return runs.UPDATED if status == runs.UNCHANGED and wrote else status


def _revise(resource: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """``package_revise`` form fields that set ``values`` on an existing resource."""
    return {f"update__resources__{resource['id']}__{k}": v for k, v in values.items()}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _batches(csv_path: Path) -> Iterator[list[dict[str, Any]]]:
    """The normalised CSV as DataStore records, ``DATASTORE_BATCH`` at a time.

    Always at least one batch (maybe empty): the first creates the table.
    """
    empty = True
    for chunk in pd.read_csv(csv_path, dtype=str, keep_default_na=False, chunksize=DATASTORE_BATCH):
        records = chunk.to_dict("records")
        for record in records:
            value = record[VALUE_FIELD]
            missing = value == "" or (isinstance(value, float) and math.isnan(value))
            record[VALUE_FIELD] = None if missing else value
            record["area_code"] = record["area_code"] or None
        empty = False
        yield records
    if empty:
        yield []


def _gateway_status(error: Exception) -> int | None:
    """502, 503 or 504 if a proxy answered in CKAN's stead (for an answer that is not CKAN's JSON,
    ckanapi's message is the ``repr`` of ``[url, status, body]``)."""
    if type(error) is not ckanapi.CKANAPIError or not error.args:
        return None
    try:
        answer = ast.literal_eval(str(error.args[0]))
    except (ValueError, SyntaxError):
        return None
    if isinstance(answer, list) and len(answer) == 3 and answer[1] in (502, 503, 504):
        return answer[1]
    return None


def _message(error: Exception) -> str:
    # ckanapi raises CKAN's own ValidationError where CKAN is installed (its errors in
    # ``error_dict``, its first argument None), and its stand-in (the errors as argument) elsewhere
    detail = getattr(error, "error_dict", None) or (error.args[0] if error.args else None)
    detail = error if detail is None else detail
    if isinstance(detail, dict):
        detail = {k: v for k, v in detail.items() if k != "__type"}
    return str(detail)[:2000]
