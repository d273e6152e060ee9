"""bench/cluster.py's throughput part on the test cluster, at a toy size: every configuration
(1 and 2 web nodes, 2 and 1 Solr nodes) answers both endpoints without an error, and the report
holds a row for each, so the bench cannot rot between the runs that produce docs/deploy.md's
figures. Its failover and restore parts are the drills beside this file."""

from __future__ import annotations

from bench import benchstack
from bench import cluster as bench


def test_throughput_every_configuration_answers(cluster):
    benchstack.sh("install")  # wrk (Debian), as every bench run installs it
    results = bench.throughput(cluster, clients=[2], duration=1, max_requests=20)

    seen = {(r["endpoint"], r["web"], r["solr"]) for r in results}
    assert seen == {
        (label, web, solr) for label, _ in bench.ENDPOINTS for web in (1, 2) for solr in (1, 2)
    }
    assert all(r["requests"] > 0 and r["errors"] == 0 for r in results), results
    lines = bench.table({"throughput": results})
    assert len([line for line in lines if line.startswith("| package_search")]) == 2
    assert len([line for line in lines if line.startswith("| comparison page")]) == 2
    # the second Solr node is back and holds its replicas again
    assert cluster.solr_cloud("agree", "ckan").returncode == 0
