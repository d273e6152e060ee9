"""The test cluster, once per session: ``scripts/cluster up`` on base 7200, purged at the end.

The cluster's drills kill and promote real processes, so they never run against the dev
cluster (base 7100) nor the stack that serves the portal: the test cluster has its own ports,
state folder (``.stack/cluster-test``) and Redis database (3). It starts from nothing every
session (a purge first, in case an aborted run left state behind), so a drill finds exactly
the demo harvest and what earlier drills of the same session did. A piece that does not start
fails the session's cluster tests with the script's own message and the log folder.
"""

from __future__ import annotations

import pytest

from tests.cluster.cluster import Cluster, ClusterError


@pytest.fixture(scope="session")
def cluster():
    cluster = Cluster.for_tests()
    try:
        cluster.down(purge=True)
        cluster.up()
    except ClusterError as error:
        try:
            cluster.down()  # the pieces that did start; state kept for the logs
        except ClusterError:
            pass
        pytest.fail(f"the test cluster did not start: {error}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.down(purge=True)
