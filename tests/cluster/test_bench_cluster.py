"""bench/cluster.py's throughput part on the test cluster, at a toy size: 1 and 2 web nodes,
with 2 Solr nodes and with 1, answer both endpoints without an error, and the report holds a row
for each, so the bench cannot rot between the runs that produce docs/deploy.md's figures. The
Solr node the bench stops comes back leading its shards again (`scripts/solr/cloud start-node`),
so the session's shared cluster keeps the layout `up` made (test_solrcloud.py checks it); the
bench's failover and restore are the drills' part."""

from __future__ import annotations

from bench import benchstack
from bench import cluster as bench
from tests.cluster.solrcloud import SolrCloud


def test_throughput_on_one_and_two_web_nodes_answers(cluster):
    benchstack.sh("install")  # wrk (Debian), as every bench run installs it
    results = bench.throughput(cluster, clients=[2], duration=1, max_requests=20)

    seen = {(r["endpoint"], r["web"], r["solr"]) for r in results}
    assert seen == {(e, web, solr) for e, _ in bench.ENDPOINTS for web in (1, 2) for solr in (1, 2)}
    cloud = SolrCloud(cluster.base, cluster.directory)
    assert cloud.admin.misplaced_leaders(["ckan", "council"]) == []
    assert all(r["requests"] > 0 and r["errors"] == 0 for r in results), results
    lines = bench.table({"throughput": results})
    assert len([line for line in lines if line.startswith("| package_search")]) == 2
    assert len([line for line in lines if line.startswith("| comparison page")]) == 2
    summary = dict((measure, value) for _, measure, value in bench.ratios({"throughput": results}))
    assert set(summary) == {
        "package_search at 2: 2 ÷ 1 web nodes req/s",
        "comparison page at 2: 2 ÷ 1 web nodes req/s",
        "2 ÷ 1 Solr nodes req/s (median)",
    }
    assert all(float(value) > 0 for value in summary.values()), summary
