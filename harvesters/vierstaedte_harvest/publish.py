"""Publishing to CKAN through its Action API (ckanapi), writing only what changed.

Every write is counted, so a re-run with nothing new can prove it wrote
nothing. Order matters for crash safety: a resource's ``hash`` is written
together with its file, a table is loaded into the DataStore after its file,
and the marker that the load is complete (``datastore_hash``) comes last; the
next run compares all three with the source and finishes whatever a killed
run left undone. Few calls matter for speed: every write re-validates,
re-indexes and records the whole dataset, so a dataset's files go to CKAN in
one ``package_revise``, not one call each.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import threading
from pathlib import Path
from typing import Any, Iterator

import ckanapi
import pandas as pd

from vierstaedte_contract import table
from vierstaedte_harvest import __version__
from vierstaedte_harvest.metadata import differs

log = logging.getLogger(__name__)
DATASTORE_BATCH = 10_000
DATASTORE_TYPES = {"string": "text", "number": "numeric", "integer": "int", "date": "date"}


class PublishError(Exception):
    """CKAN refused or failed; ``code`` is stable for reports."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclasses.dataclass
class ResourceSpec:
    role: str  # raw | normalised | datapackage | link
    name: str
    format: str
    path: Path | None = None  # a file to upload, or …
    url: str | None = None  # … a link to the source
    sha256: str | None = None
    description: str = ""


class Publisher:
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
            client = self._local.ckan = ckanapi.RemoteCKAN(self.url, apikey=self._token,
                                                            user_agent=f"vierstaedte-harvest/{__version__}")
        return client

    # --- calls -----------------------------------------------------------------------

    def _call(self, action: str, write: bool, files: dict[str, Any] | None = None, **data: Any) -> Any:
        if write:
            self.writes.append(action)
            if self.dry_run:
                log.info("dry run: would call %s on %s", action, data.get("id") or data.get("name") or data.get("resource_id"))
                return {**data, "id": data.get("id") or f"dry-run-{len(self.writes)}"}
        try:
            return self.ckan.call_action(action, data, files=files)
        except ckanapi.NotFound:
            raise
        except ckanapi.NotAuthorized as error:
            raise PublishError("not-authorized", f"CKAN refused {action}: {_message(error)}")
        except ckanapi.ValidationError as error:
            raise PublishError("ckan-validation", f"CKAN rejected {action}: {_message(error)}")
        except ckanapi.SearchIndexError as error:  # CKAN's own class where CKAN is installed: no CKANAPIError
            raise PublishError("search-index", f"{action}: CKAN could not update its search index (Solr down?), "
                               f"the call did not complete: {_message(error)}")
        except (ckanapi.SearchError, ckanapi.SearchQueryError) as error:
            raise PublishError("search-error", f"{action}: CKAN's search (Solr) failed: {_message(error)}")
        except (ckanapi.CKANAPIError, ckanapi.ServerIncompatibleError) as error:
            message = _message(error)
            if "Search Connection Error" in message:
                raise PublishError("search-error", f"{action}: CKAN cannot reach its search server (Solr)")
            if "Internal Server Error" in message:
                raise PublishError("ckan-error", f"{action}: CKAN failed with an internal error (HTTP 500); "
                                   "CKAN's log says why (its database down?)")
            raise PublishError("ckan-error", f"{action} failed: {message}")
        except OSError as error:  # connection refused, reset, timeouts
            raise PublishError("ckan-unreachable", f"{action}: CKAN at {self.url} not reachable: {error}")

    def read(self, action: str, **data: Any) -> Any:
        return self._call(action, write=False, **data)

    def write(self, action: str, files: dict[str, Any] | None = None, **data: Any) -> Any:
        return self._call(action, write=True, files=files, **data)

    # --- checks ----------------------------------------------------------------------

    def check_token(self) -> list[dict[str, str]]:
        """Make sure the token can write this city; returns the problems the run must report.

        Refused: a token that cannot write the city, and a sysadmin's (it can do anything, anywhere).
        A token that can also write other cities is used, and every run reports it (exit code 3):
        the harvester writes only datasets of its own city (:meth:`upsert_dataset`), and refusing
        would let whoever made its user a member elsewhere stop this city's harvest. The extra
        rights are still a risk should the token leak, so a sysadmin has to remove them.
        """
        try:
            writable = {o["name"] for o in self.read("organization_list_for_user", permission="create_dataset")}
            # a sysadmin is listed every organisation whatever the permission; no role has this one
            sysadmin = bool(self.read("organization_list_for_user", permission="sysadmin"))
        except PublishError as error:
            raise PublishError("bad-token", f"CKAN does not accept the API token ({error}); revoked or mistyped?")
        if sysadmin:
            raise PublishError("token-scope", f"The API token is a sysadmin's; a city's harvester must use a "
                               f"token of a user who is editor of {self.city!r} only")
        if self.city not in writable:
            raise PublishError("token-scope", f"The API token cannot write organisation {self.city!r}; "
                               f"make its user an editor there")
        others = sorted(writable - {self.city})
        if not others:
            return []
        message = (f"The API token can also write {', '.join(others)}; this run wrote {self.city!r} only. "
                   f"A sysadmin should remove the user from the other organisations "
                   f"(ckan vierstaedte ensure-harvester {self.city})")
        log.warning("%s", message)
        return [{"code": "token-too-broad", "message": message}]

    # --- datasets ----------------------------------------------------------------------

    def show(self, name: str) -> dict[str, Any] | None:
        try:
            return self.read("package_show", id=name)
        except ckanapi.NotFound:
            return None

    def upsert_dataset(self, desired: dict[str, Any], links: list[ResourceSpec] = (),
                       known: bool = True) -> tuple[dict[str, Any], str]:
        """Create or update the dataset's metadata; returns it and ``added``/``updated``/``unchanged``.

        A new dataset is created with its ``links`` in the same call (each separate resource_create
        re-validates and re-indexes the whole dataset); :meth:`sync_resources` then finds them in place.
        ``known=False`` (the run's search did not find the name) skips the look-up and creates at once;
        if CKAN refuses because the name is taken after all (a withdrawn dataset is not in the search
        index), the look-up follows and the dataset is updated instead.
        """
        existing = self.show(desired["name"]) if known else None
        if existing is None:
            resources = [{"name": s.name, "format": s.format, "role": s.role, "description": s.description, "url": s.url}
                         for s in links if s.role == "link"]
            try:
                return self.write("package_create", **desired, **({"resources": resources} if resources else {})), "added"
            except PublishError as error:
                if known or error.code != "ckan-validation":
                    raise
                existing = self.show(desired["name"])
                if existing is None:
                    raise
        owner = (existing.get("organization") or {}).get("name")
        if owner not in (None, self.city):  # only a token that can also write elsewhere sees this
            raise PublishError("name-conflict", f"Dataset {desired['name']!r} belongs to {owner!r}, "
                               f"not {self.city!r}")
        if existing.get("source_identifier") not in (None, "", desired.get("source_identifier")):
            raise PublishError("name-conflict", f"Dataset {desired['name']!r} belongs to source "
                               f"{existing.get('source_identifier')!r}, not {desired.get('source_identifier')!r}")
        changed = {k: desired[k] for k in differs(desired, existing)}
        if existing.get("state") == "deleted":
            changed["state"] = "active"  # back at the source: un-withdraw
        if not changed:
            return existing, "unchanged"
        log.info("dataset %s: updating %s", desired["name"], ", ".join(sorted(changed)))
        log.debug("dataset %s: before %s", desired["name"], {k: existing.get(k) for k in changed})
        return self.write("package_patch", id=existing["id"], **changed), "updated"

    def sync_resources(self, dataset: dict[str, Any], specs: list[ResourceSpec],
                       fields: dict[str, dict[str, Any]] | None = None) -> tuple[dict[str, Any], dict[str, dict], bool]:
        """Bring the dataset's resources to ``specs`` in one ``package_revise`` call; ids stay stable.

        Changed files are uploaded and new resources appended in that call, so the dataset is
        validated, indexed and recorded once, not once per file, and a kill leaves all of them or
        none. ``fields`` sets more fields on existing resources by role, in the same call (the
        DataStore marker). Returns the dataset as CKAN now has it, its resources (by role, links
        by URL) and whether anything was written.
        """
        by_role = {r.get("role") or "": r for r in dataset.get("resources", [])}
        links = {r["url"]: r for r in dataset.get("resources", []) if r.get("role") == "link"}
        form: dict[str, Any] = {}
        uploads: dict[str, Path] = {}
        new: list[tuple[ResourceSpec, dict[str, Any]]] = []
        for spec in specs:
            current = links.get(spec.url) if spec.role == "link" else by_role.get(spec.role)
            wanted = {"name": spec.name, "format": spec.format, "role": spec.role, "description": spec.description}
            if spec.role == "link":
                wanted["url"] = spec.url
                if current and all(current.get(k) == v for k, v in wanted.items()):
                    continue
            elif current and current.get("hash") == spec.sha256 and current.get("name") == spec.name:
                continue
            if spec.path is not None:
                wanted["hash"] = spec.sha256
            if current is None:
                new.append((spec, wanted))
                continue
            form.update({f"update__resources__{current['id']}__{k}": v for k, v in wanted.items()})
            if spec.path is not None:
                uploads[f"update__resources__{current['id']}__upload"] = spec.path
        for role, values in (fields or {}).items():
            current = by_role[role]
            form.update({f"update__resources__{current['id']}__{k}": v for k, v in values.items() if current.get(k) != v})
        if new:  # appended first, then addressed from the end of the list: -2, -1
            form["update__resources__extend"] = json.dumps([wanted for _, wanted in new], ensure_ascii=False)
            for position, (spec, _) in enumerate(new):
                if spec.path is not None:
                    uploads[f"update__resources__{position - len(new)}__upload"] = spec.path
        if form:
            files = {key: (path.name, path.open("rb")) for key, path in uploads.items()}
            try:
                answer = self.write("package_revise", files=files or None, match__id=dataset["id"], **form)
            finally:
                for _, handle in files.values():
                    handle.close()
            if self.dry_run:  # nothing was sent: the dataset as CKAN would have it
                dataset = dict(dataset, resources=[*dataset.get("resources", []),
                                                   *(dict(wanted, id=f"dry-run-{wanted['role']}") for _, wanted in new)])
            else:
                dataset = answer["package"]
        result = {r["url"] if r.get("role") == "link" else r.get("role") or "": r for r in dataset.get("resources", [])}
        return dataset, result, bool(form)

    def load_table(self, resource: dict[str, Any], csv_path: Path, sha256: str, fresh: bool = False) -> bool:
        """Load the normalised table into the DataStore unless it already holds exactly this file.

        The caller then writes the resource's ``datastore_hash`` (:meth:`sync_resources` ``fields``),
        after every row is in: a load that a kill interrupted never looks finished. ``fresh``: the
        resource was created by this run, so it has no table to clear yet.
        """
        if resource.get("datastore_active") and resource.get("datastore_hash") == sha256:
            return False
        schema = table.descriptor()
        if not fresh:
            if resource.get("datastore_hash"):  # the marker goes first: it never vouches for a table being replaced
                self.write("resource_patch", id=resource["id"], datastore_hash="")
                resource["datastore_hash"] = ""  # the caller's copy too, so that it writes the marker again
            try:
                self.write("datastore_delete", resource_id=resource["id"], force=True, calculate_record_count=False)
            except ckanapi.NotFound:
                pass
        fields = [{"id": f["name"], "type": DATASTORE_TYPES[f["type"]],
                   "info": {"label": f.get("title", ""), "notes": f.get("description", "")}} for f in schema["fields"]]
        # the first batch goes with the table's creation (one call fewer for the usual small table);
        # no count job: CKAN's default queues one in Redis per batch (a Redis outage would fail every load);
        # the DataStore counts the rows itself on the first search
        created = False
        for records in _batches(csv_path):
            if not created:
                self._create_table(resource_id=resource["id"], fields=fields, primary_key=schema["primaryKey"],
                                   force=True, records=records, calculate_record_count=False)
                created = True
            else:
                self.write("datastore_upsert", resource_id=resource["id"], records=records, method="insert",
                           force=True, calculate_record_count=False)
        return True

    def _create_table(self, **data: Any) -> None:
        """``datastore_create``; the run's first one alone, the others in parallel once one succeeded.

        CKAN 2.12's DataStore creates its composite type ``nested`` on the first table of a new
        database, without a lock: two first calls at once fail (``DuplicateObject``, HTTP 500).
        """
        if self._tables_work:
            self.write("datastore_create", **data)
            return
        with self._first_table:
            self.write("datastore_create", **data)
            self._tables_work = True

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
            page = self.read("package_search", fq=f"organization:{self.city}", rows=1000, start=start,
                             include_private=True, fl="name,source_identifier")
            for item in page["results"]:
                found[item["name"]] = item.get("source_identifier") or ""
            start += len(page["results"])
            if not page["results"] or start >= page["count"]:
                return found

    def record_run(self, report: dict[str, Any]) -> None:
        self.write("vierstaedte_harvest_run_create", organization=self.city, started=report["started"],
                   finished=report["finished"], status=report["status"], counts=report["counts"], report=report,
                   harvester_version=__version__)


def _batches(csv_path: Path) -> Iterator[list[dict[str, Any]]]:
    """The normalised CSV as DataStore records, ``DATASTORE_BATCH`` at a time; always at least one (maybe empty) batch."""
    empty = True
    for chunk in pd.read_csv(csv_path, dtype=str, keep_default_na=False, chunksize=DATASTORE_BATCH):
        records = chunk.to_dict("records")
        for record in records:
            value = record["value"]
            record["value"] = None if value == "" or (isinstance(value, float) and math.isnan(value)) else value
            record["area_code"] = record["area_code"] or None
        empty = False
        yield records
    if empty:
        yield []


def _message(error: Exception) -> str:
    detail = error.args[0] if error.args else error
    if isinstance(detail, dict):
        detail = {k: v for k, v in detail.items() if k != "__type"}
    return str(detail)[:2000]
