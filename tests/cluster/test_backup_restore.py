"""Drill: back the portal up, restore it into fresh databases and an empty index, harvest again.

The procedure is ``scripts/cluster backup DIR`` (``pg_dump`` of CKAN's and the DataStore's
databases, the storage folder) and ``scripts/cluster restore DIR`` (new databases, emptied Solr
collections, the dumps and files restored, ``ckan search-index rebuild``); docs/cluster.md
has it. The restore is right when everything a visitor or a tool sees is as it was, the search
finds every dataset again, and the cities' next harvest finds nothing to write: the restored
catalogue is the one the sources describe. A dataset made after the backup must be gone, or the
restore did not start from fresh databases.
"""

from __future__ import annotations

import time

from tests.cluster.cluster import harvest_report
from tests.harvesting import DEMO_CITIES


def published(cluster) -> dict:
    """Every dataset of the database with its resources (name, hash, DataStore rows), as the
    API shows them."""
    state = {}
    for name in cluster.psql(
        "SELECT name FROM package WHERE state = 'active' AND type = 'dataset'"
    ).splitlines():
        dataset = cluster.action("package_show", {"id": name})
        resources = {}
        for resource in dataset["resources"]:
            rows = None
            if resource.get("datastore_active"):
                rows = cluster.action(
                    "datastore_search", {"resource_id": resource["id"], "limit": 0}
                )["total"]
            resources[resource["id"]] = (resource["name"], resource.get("hash"), rows)
        state[dataset["name"]] = (dataset["id"], dataset["title"], resources)
    return state


def test_backup_and_restore(cluster, tmp_path):
    for city in DEMO_CITIES:
        cluster.wait_indexed(city)
    before = published(cluster)
    assert len(before) >= 7 and any(
        rows for _, _, resources in before.values() for _, _, rows in resources.values()
    ), before
    backup = tmp_path / "backup"
    started = time.monotonic()
    cluster.run("backup", str(backup))
    backed_up = time.monotonic() - started
    cluster.drill_dataset("drill-after-backup")

    started = time.monotonic()
    out = cluster.run("restore", str(backup), timeout=900).stdout
    restored = time.monotonic() - started
    print(
        f"\nDRILL backup/restore ({len(before)} datasets): backup {backed_up:.1f} s, restore "
        f"{restored:.1f} s ({out.strip().splitlines()[-1]})"
    )

    # the search lists what the database holds (soft commits: give Solr its few seconds)
    cluster.wait_until(
        lambda: (
            cluster.action("package_search", {"rows": 0, "include_private": True})["count"]
            == len(before)
        ),
        30,
        "the rebuilt index",
    )
    assert published(cluster) == before
    for city in DEMO_CITIES:
        cluster.wait_indexed(city)
    assert cluster.psql("SELECT count(*) FROM package WHERE name = 'drill-after-backup'") == "0"
    for city in DEMO_CITIES:
        run = cluster.harvest(city)
        assert run.returncode == 0, run.stdout + run.stderr
        assert harvest_report(run)["dataset_writes"] == 0, city
