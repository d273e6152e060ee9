"""Drill: the PostgreSQL primary stops, the standby is promoted, CKAN is repointed.

The procedure is ``scripts/cluster promote`` (docs/cluster.md): stop the primary, ``pg_ctl
promote`` the streaming standby, rewrite ckan.ini's database URLs and restart the nodes. What
must hold: nothing committed before the stop is lost (the counts of datasets, resources and
DataStore rows, and every write CKAN acknowledged under load), CKAN answers again within a
bounded window, and a harvest cut off by the outage converges when run again, with no dataset
twice. Afterwards ``scripts/cluster up`` makes the old primary the new standby, so the cluster
is whole again for the next test.
"""

from __future__ import annotations

import time

from tests.cluster.cluster import Load

# stopping the primary, promoting, two node restarts of some 10 s each on a busy 2-core machine
WINDOW_BOUND = 90.0
CITY = "mainz"


def committed(cluster, skip_city: str) -> dict:
    """Datasets, resources and DataStore rows per table, of every city but ``skip_city`` (whose
    harvest runs across the stop), from the primary."""
    where = (
        'JOIN "group" g ON g.id = p.owner_org'
        f" WHERE p.state = 'active' AND g.name <> '{skip_city}'"
    )
    datasets = cluster.psql(f"SELECT p.name FROM package p {where} ORDER BY 1").splitlines()
    resources = cluster.psql(
        f"SELECT r.id FROM resource r JOIN package p ON p.id = r.package_id {where}"
        " AND r.state = 'active' ORDER BY 1"
    ).splitlines()
    tables = set(
        cluster.psql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
            "datastore_default",
        ).splitlines()
    )
    rows = {
        rid: int(cluster.psql(f'SELECT count(*) FROM "{rid}"', "datastore_default"))
        for rid in resources
        if rid in tables
    }
    return {"datasets": datasets, "resources": resources, "rows": rows}


def test_promote_the_standby(cluster):
    assert "NOT streaming" not in cluster.status()
    before_city = cluster.dataset_names(CITY)
    assert len(before_city) == 3, before_city
    targets = [cluster.drill_dataset(f"drill-pg-{n}") for n in (1, 2)]
    for name in before_city:
        cluster.action("dataset_purge", {"id": name})
    old_primary = cluster.primary

    with Load(cluster, targets) as load:
        time.sleep(2)
        before = committed(cluster, CITY)
        assert before["rows"], before  # the demo's DataStore tables
        harvest = cluster.harvest_background(CITY)
        time.sleep(1)
        stopped = time.monotonic()
        reported = cluster.promote()
        promoted = time.monotonic()
        time.sleep(8)
        harvest.communicate(timeout=300)

    assert cluster.primary == 3 - old_primary
    failed = load.failures(after=stopped - 1)
    window = max((o.at for o in failed), default=stopped) - stopped
    print(
        f"\nDRILL pg promote: scripts/cluster promote took {promoted - stopped:.1f} s and "
        f"reports {reported:.1f} s without the database; clients saw failures for "
        f"{window:.1f} s ({len(load.failures('read', stopped - 1))} reads, "
        f"{len(load.failures('write', stopped - 1))} writes failed); harvest across the stop "
        f"exit {harvest.returncode}"
    )
    assert window <= WINDOW_BOUND and reported <= WINDOW_BOUND
    assert not load.failures(after=promoted + 1)
    assert load.successes("write", after=promoted + 1) > 5
    # nothing committed before the stop is lost
    assert committed(cluster, CITY) == before
    for dataset, counter in load.acknowledged.items():
        assert cluster.action("package_show", {"id": dataset})["notes"] == f"write {counter}"
    # the harvest converges on the new primary, no dataset twice, and then writes nothing
    cluster.harvest_converges(CITY, before_city)
    for dataset in targets:
        cluster.action("dataset_purge", {"id": dataset})

    # the old primary becomes the standby of the new one: the cluster is whole again
    cluster.up()
    status = cluster.status()
    assert f"pg-standby  up    127.0.0.1:{cluster.pg_port(old_primary)}" in status, status
    assert "NOT streaming" not in status
    assert cluster.psql("SELECT pg_is_in_recovery()", server=old_primary) == "t"
