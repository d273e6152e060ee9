"""Drill: ``kill -9`` of one CKAN node under reads, writes and a harvest, all through nginx.

What an operator needs to know when a web node dies: how long clients see errors (the
window), that a write CKAN acknowledged is not lost, that after the window nothing fails, and
that the city harvest that was running converges when cron runs it again. nginx knows no node
is dead until a connection to it is refused (passive checks); a refused connection is retried
on the other node for every method, so only the requests that were inside the killed node fail.
The figures the test prints go to docs/cluster.md.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.cluster.cluster import Load

# the window nginx needs to route around a dead node, with room for a slow shared machine; the
# failover itself is the first refused connection, not a timer
WINDOW_BOUND = 10.0
LOAD_AFTER_KILL = 15.0
CITY = "mainz"


def answered_by(cluster, since: float) -> dict[str, int]:
    """Requests per CKAN node that answered them, from nginx's access log since ``since`` (epoch
    seconds). A request nginx retried lists both nodes; the last one answered."""
    nodes = {f"127.0.0.1:{cluster.base + n}": n for n in (1, 2)}
    counts: dict[int, int] = {}
    for line in (cluster.logs / "nginx-access.log").read_text().splitlines():
        found = re.match(r'([0-9.]+) .* up="([^"]*)"', line)
        if not found or float(found.group(1)) < since:
            continue
        last = found.group(2).split(",")[-1].strip()
        if last in nodes:
            counts[nodes[last]] = counts.get(nodes[last], 0) + 1
    return counts


def test_kill_one_web_node_under_load(cluster):
    before = cluster.dataset_names(CITY)
    assert len(before) == 3, before  # the demo harvest of `scripts/cluster up`
    targets = [cluster.drill_dataset(f"drill-web-{n}") for n in (1, 2)]
    # the city's datasets purged: the harvest below writes everything again (its state is only
    # a cache; the truth is CKAN)
    for name in before:
        cluster.action("dataset_purge", {"id": name})
    started_at = time.time()

    with Load(cluster, targets) as load:
        time.sleep(3)
        assert not load.failures(), load.failures()
        harvest = cluster.harvest_background(CITY)
        time.sleep(1.5)
        cluster.kill_web(1)
        killed = time.monotonic()
        killed_at = time.time()
        time.sleep(LOAD_AFTER_KILL)
        during = harvest.communicate(timeout=300)

    failed = load.failures(after=killed)
    window = max((o.at for o in failed), default=killed) - killed
    reads_after = load.successes("read", after=killed + WINDOW_BOUND)
    writes_after = load.successes("write", after=killed + WINDOW_BOUND)
    print(
        f"\nDRILL web failover: window {window:.2f} s; failed during it: "
        f"{len(load.failures('read', killed))} reads, {len(load.failures('write', killed))} "
        f"writes ({sorted({o.detail for o in failed})}); after it: {reads_after} reads and "
        f"{writes_after} writes, all answered; harvest during the kill exit {harvest.returncode}"
    )
    if harvest.returncode:
        print("its output:", during[0][-500:], during[1][-1000:])
    assert window <= WINDOW_BOUND, [(o.at - killed, o.kind, o.detail) for o in failed]
    assert not load.failures(after=killed + WINDOW_BOUND)
    assert reads_after > 20 and writes_after > 10, (reads_after, writes_after)
    # every write CKAN acknowledged is there
    for dataset, counter in load.acknowledged.items():
        assert cluster.action("package_show", {"id": dataset})["notes"] == f"write {counter}"
    # nginx sent everything to node 2 once node 1 was gone, and had used both before
    assert set(answered_by(cluster, started_at)) == {1, 2}
    assert set(answered_by(cluster, killed_at + WINDOW_BOUND)) == {2}

    # cron runs the harvest again: it converges, with no dataset twice, and then writes nothing
    cluster.harvest_converges(CITY, before)

    # the node comes back and nginx uses it again
    cluster.start_web(1)
    back = time.time() + 5.5  # past fail_timeout: nginx tries the node again
    time.sleep(6)
    for _ in range(20):
        cluster.action("package_show", {"id": targets[0]})
    assert 1 in answered_by(cluster, back)
    for dataset in targets:
        cluster.action("dataset_purge", {"id": dataset})


@pytest.fixture(autouse=True)
def _node_back(cluster):
    """Whatever the drill did, both nodes run afterwards for the next test."""
    yield
    cluster.start_web(1)
