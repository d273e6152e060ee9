"""Scale-out bench: what a second CKAN node and a second Solr node buy, what a failover costs,
and how long a restore takes.

    .venv/bin/python -m bench.cluster [--clients 8,32] [--duration 10]
                                      [--restore-slot bench_load] [--keep]

Brings up its own cluster (``scripts/cluster``, port base 7600, ``.stack/cluster-bench``,
Redis database 4: neither the dev cluster nor the test cluster is touched) with the demo
catalogue, then:

* **throughput**: ``package_search`` and the comparison page, ``wrk`` at each ``--clients``,
  on 1 web node (node 1's gunicorn, no balancer) and on 2 (nginx over both), each with both Solr
  nodes and with one (node 2 stopped, its replicas' shards answered by node 1). Both nodes and
  every Solr JVM share this machine's cores, so on a small machine a second node shows its
  overhead rather than a gain; the ratio says which.
* **failover**: readers through nginx while one CKAN node, then one Solr node is killed
  (SIGKILL): the window (from the kill to the last failed request), the failed requests among
  all, and how long the returning node takes to be back (the Solr replicas agreeing again).
* **restore**: ``scripts/cluster backup`` then ``restore`` (``pg_dump`` of both databases and the
  storage; the writers stopped, fresh databases restored, the search collections emptied and
  rebuilt, the nodes started again), the seconds of each step, for the demo catalogue and
  (``--restore-slot``) for a bench slot's catalogue (``bench/load.py``'s 10,000 datasets)
  dumped from the stack's PostgreSQL and restored into the cluster.

Prints one table per part and the JSON of everything (``--json``) for ``bench/run``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench import benchstack
from bench.load import wrk
from tests.cluster.cluster import Cluster, ClusterError, as_postgres

ENDPOINTS = (
    (
        "package_search",
        "/api/3/action/package_search?q=Einwohner&rows=20"
        "&facet.field=%5B%22organization%22,%22tags%22,%22res_format%22%5D",
    ),
    ("comparison page", "/vergleich?indicator=population_total&cities=mainz&cities=trier"),
)


def bench_cluster() -> Cluster:
    return Cluster(7600, benchstack.STACK / "cluster-bench", 4)


# --- throughput ------------------------------------------------------------------------------


def _solr_nodes(cluster: Cluster, nodes: int) -> None:
    """Both Solr nodes running, or node 2 stopped (node 1 then answers every shard)."""
    if nodes == 1:
        cluster.solr_cloud("stop-node", "2")
    else:
        cluster.solr_cloud("start-node", "2")
    # CKAN's next search must find the collection answering through the balancer
    cluster.wait_until(
        lambda: requests.get(f"{cluster.url}{ENDPOINTS[0][1]}", timeout=30).ok,
        120,
        "package_search after a Solr node change",
    )


def throughput(cluster: Cluster, clients: list[int], duration: float, max_requests: int) -> list:
    results = []
    for solr in (2, 1):
        _solr_nodes(cluster, solr)
        for web in (1, 2):
            port = cluster.base + 1 if web == 1 else cluster.base
            for label, path in ENDPOINTS:
                requests.get(f"http://127.0.0.1:{port}{path}", timeout=300).raise_for_status()
                wrk(port, path, 2, 2, 40)  # warm-up: templates, caches, connections
                for n in clients:
                    result = wrk(port, path, n, duration, max_requests)
                    result.update(endpoint=label, clients=n, web=web, solr=solr)
                    results.append(result)
                    print(
                        f"  cluster {label} web={web} solr={solr} c={n}: "
                        f"p50 {result['p50'] / 1000:.0f} ms, {result['rps']:.1f}/s, "
                        f"errors {result['errors']}",
                        file=sys.stderr,
                        flush=True,
                    )
    _solr_nodes(cluster, 2)
    return results


# --- memory ----------------------------------------------------------------------------------

PROCESSES = {
    "CKAN web node (gunicorn, all workers)": ("run/web-1.pid", "run/web-2.pid"),
    "background worker": ("run/worker-1.pid", "run/worker-2.pid"),
    "Solr node (JVM)": ("solr/run/node1.pid", "solr/run/node2.pid"),
    "ZooKeeper (JVM)": ("solr/run/zk.pid",),
}


def memory(cluster: Cluster) -> dict[str, int]:
    """Resident MB of each kind of process (largest of its instances), after the load."""
    found = {}
    for label, files in PROCESSES.items():
        sizes = []
        for name in files:
            path = cluster.directory / name
            if path.is_file():
                pid = int(path.read_text().split()[0])
                sizes.append(benchstack.tree_rss(pid))
        if sizes:
            found[label] = round(max(sizes) / 1e6)
    return found


# --- failover --------------------------------------------------------------------------------


def _readers(url: str, seconds: float, kill_at: float, kill, threads: int = 4) -> dict:
    """``threads`` readers of ``url`` for ``seconds``; ``kill()`` runs ``kill_at`` s in."""
    outcomes: list[tuple[float, bool, float]] = []
    stop = threading.Event()

    def read() -> None:
        session = requests.Session()
        while not stop.is_set():
            started = time.monotonic()
            try:
                ok = session.get(url, timeout=30).ok
            except requests.RequestException:
                ok = False
            outcomes.append((time.monotonic(), ok, time.monotonic() - started))

    workers = [threading.Thread(target=read, daemon=True) for _ in range(threads)]
    began = time.monotonic()
    for worker in workers:
        worker.start()
    time.sleep(kill_at)
    killed = time.monotonic()
    kill()
    time.sleep(max(0.0, seconds - (time.monotonic() - began)))
    stop.set()
    for worker in workers:
        worker.join(timeout=60)
    failed = [at for at, ok, _ in outcomes if not ok and at >= killed]
    after = sorted(took for at, ok, took in outcomes if ok and at >= killed)
    return {
        "requests": len(outcomes),
        "failed": len(failed),
        "window_s": round(max(failed) - killed, 2) if failed else 0.0,
        "p95_after_kill_ms": round(after[int(0.95 * (len(after) - 1))] * 1000) if after else None,
        "slowest_after_kill_ms": round(after[-1] * 1000) if after else None,
    }


def failover(cluster: Cluster, seconds: float = 30, kill_at: float = 3) -> dict:
    url = f"{cluster.url}{ENDPOINTS[0][1]}"
    web = _readers(url, seconds, kill_at, lambda: cluster.kill_web(2))
    started = time.monotonic()
    cluster.start_web(2)
    web["return_s"] = round(time.monotonic() - started, 1)

    solr = _readers(url, seconds, kill_at, lambda: cluster.solr_cloud("stop-node", "2", "--kill"))
    started = time.monotonic()
    cluster.solr_cloud("start-node", "2")
    cluster.solr_cloud("agree", "ckan")
    solr["return_s"] = round(time.monotonic() - started, 1)
    for label, result in (("CKAN node", web), ("Solr node", solr)):
        print(
            f"  cluster failover {label}: {result['failed']} of {result['requests']} failed, "
            f"window {result['window_s']} s, back in {result['return_s']} s",
            file=sys.stderr,
            flush=True,
        )
    return {"web": web, "solr": solr}


# --- restore ---------------------------------------------------------------------------------


def _slot_backup(slot: str, folder: Path) -> None:
    """A bench slot's databases on the stack's PostgreSQL, in the layout ``scripts/cluster
    backup`` writes (the slot has no uploads: an empty storage folder)."""
    for name in ("ckan", "datastore"):
        with (folder / f"{name}_default.dump").open("wb") as file:
            subprocess.run(
                as_postgres(["pg_dump", "-Fc", "-d", f"{name}_{slot}"]),
                stdout=file,
                check=True,
                timeout=3600,
                cwd="/",
            )
    (folder / "storage").mkdir()
    subprocess.run(
        ["tar", "-C", str(folder), "-czf", str(folder / "storage.tar.gz"), "storage"],
        check=True,
        timeout=600,
    )


def _seconds(out: str, step: str) -> float | None:
    found = re.search(rf"{step} (\d+) s", out)
    return float(found.group(1)) if found else None


def restores(cluster: Cluster, slot: str | None) -> dict:
    """``scripts/cluster backup`` and ``restore`` (docs/cluster.md) timed: the demo catalogue,
    then a bench slot's catalogue restored into the same cluster."""
    results = {}
    for label, source in (("demo", None), *((("slot " + slot, slot),) if slot else ())):
        with tempfile.TemporaryDirectory(dir=benchstack.STACK) as tmp:
            folder = Path(tmp) / "backup"
            started = time.monotonic()
            if source:
                folder.mkdir()
                _slot_backup(source, folder)
            else:
                cluster.run("backup", str(folder), timeout=3600)
            dumped = time.monotonic() - started
            size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
            started = time.monotonic()
            out = cluster.run("restore", str(folder), timeout=7200).stdout
            result = {
                "dump_s": round(dumped, 1),
                "dump_mb": round(size / 1e6, 1),
                "restore_s": round(time.monotonic() - started, 1),
                "databases_s": _seconds(out, "databases and storage"),
                "search_index_s": _seconds(out, "search index"),
                "nodes_s": _seconds(out, "nodes"),
            }
        user, password = cluster.solr_credentials()
        result["indexed"] = requests.get(
            f"{cluster.solr_url}/ckan/select",
            params={"q": "*:*", "rows": 0, "wt": "json"},
            auth=(user, password),
            timeout=60,
        ).json()["response"]["numFound"]
        result["datasets"] = int(
            cluster.psql("SELECT count(*) FROM package WHERE state = 'active'")
        )
        results[label] = result
        print(
            f"  cluster restore {label}: {result['datasets']:,} datasets "
            f"({result['indexed']:,} indexed), dump {result['dump_s']} s, "
            f"restore {result['restore_s']} s",
            file=sys.stderr,
            flush=True,
        )
    return results


# --- report ----------------------------------------------------------------------------------


def table(data: dict) -> list[str]:
    lines = [
        "| endpoint | clients | Solr nodes | 1 web node p50 / p95 ms, req/s | "
        "2 web nodes (nginx) p50 / p95 ms, req/s | 2 ÷ 1 req/s | errors |",
        "|---|---:|---:|---|---|---:|---:|",
    ]
    by_key = {(r["endpoint"], r["clients"], r["solr"], r["web"]): r for r in data["throughput"]}
    for label, _ in ENDPOINTS:
        for solr in (2, 1):
            for n in sorted({r["clients"] for r in data["throughput"]}):
                one, two = by_key.get((label, n, solr, 1)), by_key.get((label, n, solr, 2))
                if not (one and two):
                    continue
                lines.append(
                    f"| {label} | {n} | {solr} | {_cell(one)} | {_cell(two)} | "
                    f"{two['rps'] / one['rps']:.2f} | {one['errors'] + two['errors']} |"
                )
    solr_ratio = _solr_ratio(data["throughput"])
    if solr_ratio:
        lines.append("")
        lines.append(f"2 Solr nodes ÷ 1 (req/s, median over the rows above): {solr_ratio:.2f}")
    if data.get("failover"):
        lines += [
            "",
            "| failover | requests | failed | window s | p95 after kill ms | back in s |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for label, key in (("CKAN node killed", "web"), ("Solr node killed", "solr")):
            r = data["failover"][key]
            lines.append(
                f"| {label} | {r['requests']} | {r['failed']} | {r['window_s']} | "
                f"{r['p95_after_kill_ms']} | {r['return_s']} |"
            )
    if data.get("memory"):
        lines += ["", "| process | resident MB (largest instance, after the load) |", "|---|---:|"]
        lines += [f"| {label} | {mb} |" for label, mb in data["memory"].items()]
    if data.get("restore"):
        lines += [
            "",
            "| restore | datasets (indexed) | dump s (MB) | databases s | search index s | "
            "nodes s | restore s |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for label, r in data["restore"].items():
            lines.append(
                f"| {label} | {r['datasets']:,} ({r['indexed']:,}) | {r['dump_s']} "
                f"({r['dump_mb']}) | {r['databases_s']} | {r['search_index_s']} | "
                f"{r['nodes_s']} | {r['restore_s']} |"
            )
    return lines


def ratios(data: dict) -> list[tuple[str, str, str]]:
    """bench/run's summary rows: what a second node buys, what a failover and a restore cost."""
    rows = []
    by_key = {(r["endpoint"], r["clients"], r["solr"], r["web"]): r for r in data["throughput"]}
    for (endpoint, clients, solr, web), two in sorted(by_key.items()):
        one = by_key.get((endpoint, clients, solr, 1))
        if web == 2 and solr == 2 and one and one["rps"]:
            measure = f"{endpoint} at {clients}: 2 ÷ 1 web nodes req/s"
            rows.append(("cluster", measure, f"{two['rps'] / one['rps']:.2f}"))
    solr_ratio = _solr_ratio(data["throughput"])
    if solr_ratio:
        rows.append(("cluster", "2 ÷ 1 Solr nodes req/s (median)", f"{solr_ratio:.2f}"))
    for label, key in (("CKAN node killed", "web"), ("Solr node killed", "solr")):
        if r := (data.get("failover") or {}).get(key):
            result = f"{r['failed']} of {r['requests']} failed, window {r['window_s']} s"
            rows.append(("cluster", label, result))
    for label, r in (data.get("restore") or {}).items():
        rows.append(("cluster", f"restore {label}: s", str(r["restore_s"])))
    return rows


def _cell(result: dict) -> str:
    return f"{result['p50'] / 1000:.0f} / {result['p95'] / 1000:.0f}, {result['rps']:.1f}"


def _solr_ratio(results: list[dict]) -> float | None:
    by_key = {(r["endpoint"], r["clients"], r["web"], r["solr"]): r["rps"] for r in results}
    ratios = [
        rps / by_key[(e, c, w, 1)]
        for (e, c, w, s), rps in by_key.items()
        if s == 2 and (e, c, w, 1) in by_key
    ]
    return statistics.median(ratios) if ratios else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="8,32")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--max-requests", type=int, default=5000)
    parser.add_argument("--failover-seconds", type=float, default=30)
    parser.add_argument("--restore-slot", default=None, help="also restore this bench slot's DBs")
    parser.add_argument("--keep", action="store_true", help="leave the bench cluster running")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here too")
    args = parser.parse_args()
    benchstack.prepare_machine()
    cluster = bench_cluster()
    started = time.monotonic()
    try:
        cluster.up()
        print(f"  cluster up in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        clients = [int(n) for n in args.clients.split(",")]
        data = {
            "throughput": throughput(cluster, clients, args.duration, args.max_requests),
            "memory": memory(cluster),
            "failover": failover(cluster, args.failover_seconds),
        }
        data["restore"] = restores(cluster, args.restore_slot)
    except (ClusterError, subprocess.SubprocessError) as error:
        cluster.down()  # its state and logs stay for a look
        sys.exit(f"bench.cluster: {error}\n(state and logs kept in {cluster.directory})")
    if not args.keep:
        cluster.down(purge=True)
    print("\n".join(table(data)))
    if args.json:
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
