"""bench/cluster.py's throughput part on the test cluster, at a toy size: 1 and 2 web nodes
answer both endpoints without an error, and the report holds a row for each, so the bench cannot
rot between the runs that produce docs/deploy.md's figures. With both Solr nodes only: stopping
one in the session's shared cluster would move its shard leaders for the tests after this one
(test_solrcloud.py checks the layout `up` made); a node's stop and return are the drills' part,
as are the bench's failover and restore."""

from __future__ import annotations

from bench import benchstack
from bench import cluster as bench


def test_throughput_on_one_and_two_web_nodes_answers(cluster):
    benchstack.sh("install")  # wrk (Debian), as every bench run installs it
    results = bench.throughput(cluster, clients=[2], duration=1, max_requests=20, solr_nodes=(2,))

    seen = {(r["endpoint"], r["web"], r["solr"]) for r in results}
    assert seen == {(label, web, 2) for label, _ in bench.ENDPOINTS for web in (1, 2)}
    assert all(r["requests"] > 0 and r["errors"] == 0 for r in results), results
    lines = bench.table({"throughput": results})
    assert len([line for line in lines if line.startswith("| package_search")]) == 1
    assert len([line for line in lines if line.startswith("| comparison page")]) == 1
