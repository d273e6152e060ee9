"""What a fault may never leave behind, checked in a private stack's database and Solr.

The fault tests (``test_services.py``) break a service in the middle of a harvest and then ask
these two questions of the stack ``conftest.private_stack`` started.
"""

from __future__ import annotations

import hashlib

from vierstaedte_contract.dataset import DATASTORE_MARKER, ROLE_FIELD


def half_written(stack, city: str) -> list[str]:
    """Rows of ``city`` that claim more than is there: the harvester's promises, in the database.

    * a file resource's ``hash`` is the SHA-256 of the file CKAN stores for it;
    * a resource marked ``datastore_active`` has a DataStore table;
    * a resource whose marker (``DATASTORE_MARKER``, the harvester's "load finished") is set is
      active in the DataStore and its table holds exactly the data rows of its stored file.
    """
    problems, tables = [], stack.datastore_tables()
    for dataset in stack.datasets_in_db(city).values():
        for rid, resource in dataset["resources"].items():
            where = f"{dataset['name']}/{resource.get(ROLE_FIELD)} ({rid})"
            stored = stack.stored_file(rid)
            if resource["url_type"] == "upload" and resource["hash"]:
                if not stored.exists():
                    problems.append(f"{where}: hash set, no stored file")
                elif hashlib.sha256(stored.read_bytes()).hexdigest() != resource["hash"]:
                    problems.append(f"{where}: hash is not the stored file's")
            if resource.get("datastore_active") and rid not in tables:
                problems.append(f"{where}: datastore_active without a DataStore table")
            if resource.get(DATASTORE_MARKER):
                rows = len(stored.read_bytes().splitlines()) - 1 if stored.exists() else None
                if not resource.get("datastore_active") or tables.get(rid) != rows:
                    problems.append(
                        f"{where}: {DATASTORE_MARKER} set, but the table holds "
                        f"{tables.get(rid)} of {rows} rows"
                    )
    return problems


def search_differences(stack) -> list[str]:
    """Where search (Solr) and the database disagree: datasets, their versions, their resources."""
    database, solr = stack.datasets_in_db(), stack.solr.documents()
    differences = [
        f"only in the database: {database[i]['name']}" for i in sorted(set(database) - set(solr))
    ]
    differences += [f"only in Solr: {solr[i]['name']}" for i in sorted(set(solr) - set(database))]
    for pid in sorted(set(database) & set(solr)):
        indexed, stored = solr[pid], database[pid]
        if indexed["metadata_modified"] != stored["metadata_modified"]:
            differences.append(
                f"{stored['name']}: Solr has version {indexed['metadata_modified']}, "
                f"the database {stored['metadata_modified']}"
            )
        seen = {r["id"]: _loaded(r) for r in indexed.get("resources", [])}
        kept = {rid: _loaded(r) for rid, r in stored["resources"].items()}
        if seen != kept:
            differences.append(f"{stored['name']}: resources differ: Solr {seen}, database {kept}")
    return differences


def _loaded(resource: dict) -> tuple:
    """What a resource says about its file and its DataStore table."""
    return (
        resource.get("hash") or None,
        bool(resource.get("datastore_active")),
        resource.get(DATASTORE_MARKER) or None,
    )
