"""The SolrCloud's collections through Solr's Collections API: create, wait, status, agree.

    python scripts/solr/cloud_admin.py ensure [--timeout S] NAME=CONFIGSET… [--reload NAME…]
    python scripts/solr/cloud_admin.py wait [--timeout S] [--node N]
    python scripts/solr/cloud_admin.py balance COLLECTION…
    python scripts/solr/cloud_admin.py status
    python scripts/solr/cloud_admin.py agree [--timeout S] [COLLECTION…]

``scripts/solr/cloud`` runs the JVMs (ZooKeeper and the Solr nodes) and calls this for what
needs JSON: the Collections API answers are nested too deep for a shell script. The nodes'
ports come from ``VIERSTAEDTE_CLUSTER_PORT_BASE`` (the contract in docs/solrcloud.md: node N
at base + 10 + N); the admin's password is read from the file named by
``VIERSTAEDTE_SOLR_ADMIN_PASSWORD_FILE``, never from the command line.

Why every shard gets one replica on each node, placed by hand (``createNodeSet=EMPTY``, then
``ADDREPLICA`` per shard and node) instead of Solr's placement plugin: with two nodes, only that
layout survives the loss of either node, and the first replica added becomes the shard's
leader, so the leaders are split over both nodes and a node's death always costs one leader
election — the case the drills measure. ``ensure`` re-adds a missing replica, so a second
``up`` repairs a half-created collection.

``agree`` counts each replica's documents with ``distrib=false`` (the core alone, not the
collection): replicas of one shard must hold the same number. A replica that is not active
cannot be counted and so disagrees. Counts are compared again until ``--timeout``, because a
replica shows a write only after its next soft commit (3 s, scripts/solr/solrconfig.xml). When
they still differ, it prints each replica's count beside what its index holds (the fingerprint
Solr's own sync compares), so a replica that lacks documents is told from one that holds them
unseen.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import requests

NODES = (1, 2)
SHARDS = 2
REQUEST_TIMEOUT = 30  # seconds for one Collections API call (ADDREPLICA loads a core)


class CloudError(RuntimeError):
    pass


def port_base() -> int:
    return int(os.environ.get("VIERSTAEDTE_CLUSTER_PORT_BASE", "7100"))


def node_port(node: int, base: int | None = None) -> int:
    return (port_base() if base is None else base) + 10 + node


def node_url(node: int, base: int | None = None) -> str:
    return f"http://127.0.0.1:{node_port(node, base)}/solr"


def node_name(node: int, base: int | None = None) -> str:
    """How SolrCloud names a node in ``live_nodes`` and in a replica's ``node_name``."""
    return f"127.0.0.1:{node_port(node, base)}_solr"


def admin_auth() -> tuple[str, str]:
    path = os.environ.get("VIERSTAEDTE_SOLR_ADMIN_PASSWORD_FILE")
    if not path:
        raise CloudError("VIERSTAEDTE_SOLR_ADMIN_PASSWORD_FILE ist nicht gesetzt")
    return ("admin", Path(path).read_text(encoding="utf-8").strip())


class Cloud:
    """The Collections API of whichever node answers first."""

    def __init__(self, base: int | None = None, auth: tuple[str, str] | None = None):
        self.base = port_base() if base is None else base
        self.auth = auth or admin_auth()

    def node_up(self, node: int) -> bool:
        """The node answers its health check (in cloud mode: it is connected to ZooKeeper)."""
        try:
            answer = requests.get(
                f"{node_url(node, self.base)}/admin/info/health", params={"wt": "json"}, timeout=3
            )
        except requests.RequestException:
            return False
        return answer.status_code == 200

    def call(self, path: str, timeout: float = REQUEST_TIMEOUT, **params: Any) -> dict:
        """GET ``path`` on the first node that answers; a Solr error raises CloudError."""
        errors = []
        for node in NODES:
            try:
                answer = requests.get(
                    f"{node_url(node, self.base)}{path}",
                    params={"wt": "json", **params},
                    auth=self.auth,
                    timeout=timeout,
                )
            except requests.ConnectionError as error:
                errors.append(f"Knoten {node}: {error.__class__.__name__}")
                continue
            body = (
                answer.json()
                if answer.headers.get("content-type", "").startswith("application/json")
                else {}
            )
            if answer.status_code != 200 or body.get("failure") or body.get("exception"):
                message = (body.get("error") or {}).get("msg") or body.get("failure") or answer.text
                raise CloudError(f"{path} {params.get('action', '')}: {message}"[:500])
            return body
        raise CloudError("kein Solr-Knoten antwortet (" + "; ".join(errors) + ")")

    def collections_api(self, action: str, **params: Any) -> dict:
        return self.call("/admin/collections", action=action, **params)

    def cluster(self) -> dict:
        status = self.collections_api("CLUSTERSTATUS")["cluster"]
        status.setdefault("collections", {})
        status.setdefault("live_nodes", [])
        return status

    # --- creating ---------------------------------------------------------------------------

    def ensure(self, collections: dict[str, str], reload: set[str]) -> None:
        """Each collection exists with a replica of every shard on every node."""
        cluster = self.cluster()
        for name, configset in collections.items():
            if name not in cluster["collections"]:
                print(f"Lege Collection {name} an ({SHARDS} Shards × {len(NODES)} Replikate)")
                self.collections_api(
                    "CREATE",
                    name=name,
                    numShards=SHARDS,
                    replicationFactor=1,
                    createNodeSet="EMPTY",
                    **{"collection.configName": configset},
                )
                cluster = self.cluster()
            elif name in reload:
                print(f"Collection {name}: neue Konfiguration, lade sie neu")
                self.collections_api("RELOAD", name=name)
            shards = cluster["collections"][name]["shards"]
            # shard k's leader on node k: the first replica added leads
            for turn in range(len(NODES)):
                for index, shard in enumerate(sorted(shards)):
                    node = NODES[(index + turn) % len(NODES)]
                    replicas = shards[shard].get("replicas", {}).values()
                    if any(r["node_name"] == node_name(node, self.base) for r in replicas):
                        continue
                    print(f"Collection {name}: Replikat von {shard} auf Knoten {node}")
                    self.collections_api(
                        "ADDREPLICA",
                        collection=name,
                        shard=shard,
                        node=node_name(node, self.base),
                        type="NRT",
                    )
            cluster = self.cluster()

    def balance_leaders(self, collections: list[str]) -> list[str]:
        """Shard k's leader back on node k, as ``ensure`` laid them out; the shards it moved.

        Solr hands a dead node's leaderships to the other replicas and does not give them back
        when the node returns: both leaders then sit on one node, which does every shard's
        indexing, and its death would cost two elections at once. Each shard's replica on its
        node is marked ``preferredLeader`` (unique in the shard) and ``REBALANCELEADERS`` moves
        leadership to it where it is not already there.

        A collection whose leaders moved is then committed: the election syncs the new leader
        with its replicas (PeerSync, then each replica with the leader) and applies what one
        lacked without a commit (``IGNORE_AUTOCOMMIT``, no soft commit either), so until the
        next write those documents sit in the index unseen — on a quiet portal for hours, and a
        search routed to that replica misses them.
        """
        cluster = self.cluster()
        moved = self.misplaced_leaders(collections, cluster)
        for name, shard, home, replicas in _homes(cluster, collections, self.base):
            for core_node, replica in replicas.items():
                if replica["node_name"] == home:
                    self.prefer(name, shard, core_node, cluster)
        rebalanced = sorted({m.split("/", 1)[0] for m in moved})
        for name in rebalanced:
            self.collections_api("REBALANCELEADERS", collection=name, maxWaitSeconds=60)
        deadline = time.monotonic() + 60
        while misplaced := self.misplaced_leaders(collections):
            if time.monotonic() > deadline:
                raise CloudError(f"leaders not back on their nodes: {', '.join(misplaced)}")
            time.sleep(1)
        for name in rebalanced:
            self.commit(name)
        return moved

    def prefer(self, collection: str, shard: str, replica: str, cluster: dict | None = None):
        """Mark ``replica`` (core_nodeN) the shard's ``preferredLeader`` (and no other), and
        wait until the cluster state shows it: the Overseer writes it after the call answers,
        and a ``REBALANCELEADERS`` that reads the state before would keep the old leader."""
        replicas = (cluster or self.cluster())["collections"][collection]["shards"][shard]
        if replicas["replicas"][replica].get("property.preferredleader") == "true":
            return
        self.collections_api(
            "ADDREPLICAPROP",
            collection=collection,
            shard=shard,
            replica=replica,
            property="preferredLeader",
            shardUnique="true",
            **{"property.value": "true"},
        )
        deadline = time.monotonic() + REQUEST_TIMEOUT
        while True:
            shown = self.cluster()["collections"][collection]["shards"][shard]["replicas"]
            preferred = [k for k, r in shown.items() if r.get("property.preferredleader") == "true"]
            if preferred == [replica]:
                return
            if time.monotonic() > deadline:
                raise CloudError(f"{collection}/{shard}: preferredLeader nicht übernommen")
            time.sleep(0.2)

    def commit(self, collection: str) -> None:
        """A hard commit that opens a searcher on every replica of ``collection``."""
        self.call(f"/{collection}/update", commit="true", openSearcher="true")

    def misplaced_leaders(self, collections: list[str], cluster: dict | None = None) -> list[str]:
        """The shards whose active leader is not on the node ``ensure`` gave it (shard k on node
        k), from ``cluster`` (CLUSTERSTATUS) or a fresh look."""
        misplaced = []
        for name, shard, home, replicas in _homes(
            cluster or self.cluster(), collections, self.base
        ):
            leaders = [
                r["node_name"]
                for r in replicas.values()
                if r.get("leader") == "true" and r.get("state") == "active"
            ]
            if leaders != [home]:
                misplaced.append(f"{name}/{shard}")
        return misplaced

    # --- reading ----------------------------------------------------------------------------

    def replicas(self, cluster: dict | None = None) -> list[dict]:
        """Every replica: collection, shard, name (core_nodeN), core, node, state, leader,
        live."""
        cluster = cluster or self.cluster()
        live = set(cluster["live_nodes"])
        found = []
        for collection, state in sorted(cluster["collections"].items()):
            for shard, shard_state in sorted(state["shards"].items()):
                for name, replica in shard_state.get("replicas", {}).items():
                    found.append(
                        {
                            "collection": collection,
                            "shard": shard,
                            "name": name,
                            "core": replica["core"],
                            "node": replica["node_name"],
                            "base_url": replica["base_url"],
                            "state": replica["state"],
                            "leader": replica.get("leader") == "true",
                            "live": replica["node_name"] in live,
                        }
                    )
        return found

    def count(self, replica: dict) -> int | None:
        """The documents this one core can see (``distrib=false``); None if it does not answer."""
        answer = self._ask_core(replica, "select", q="*:*", rows=0)
        return None if answer is None else answer["response"]["numFound"]

    def held(self, replica: dict) -> int | None:
        """The documents this core holds, seen or not: its index fingerprint's ``numDocs``,
        which Solr computes on a real-time searcher (updates not yet committed count too)."""
        answer = self._ask_core(replica, "get", getFingerprint=str(2**63 - 1))
        return None if answer is None else answer.get("fingerprint", {}).get("numDocs")

    def _ask_core(self, replica: dict, handler: str, **params: Any) -> dict | None:
        """One core alone (``distrib=false``) answers ``handler``; None if it does not."""
        try:
            answer = requests.get(
                f"{replica['base_url']}/{replica['core']}/{handler}",
                params={**params, "distrib": "false", "wt": "json"},
                auth=self.auth,
                timeout=5,
            )
        except requests.RequestException:
            return None
        return answer.json() if answer.status_code == 200 else None

    def not_active(self, node: int | None = None) -> list[dict]:
        """The replicas (of one node, or all) that are not active on a live node."""
        return [
            r
            for r in self.replicas()
            if (node is None or r["node"] == node_name(node, self.base))
            and not (r["state"] == "active" and r["live"])
        ]

    def wait_active(self, timeout: float, node: int | None = None) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                pending = self.not_active(node)
                if (
                    node is not None
                    and node_name(node, self.base) not in self.cluster()["live_nodes"]
                ):
                    pending = pending or [{"core": f"Knoten {node}", "state": "nicht verbunden"}]
            except (CloudError, requests.RequestException) as error:
                pending = [{"core": "?", "state": str(error)}]
            if not pending:
                return
            if time.monotonic() > deadline:
                listed = ", ".join(f"{r['core']} ({r['state']})" for r in pending)
                raise CloudError(f"nach {timeout:.0f} s nicht aktiv: {listed}")
            time.sleep(1)

    def leaderless(self) -> list[str]:
        """The shards without an active leader on a node that answers: writes to them fail.
        A killed node stays in ``live_nodes`` (and keeps its leaderships) until ZooKeeper
        expires its session, so the leader's node is asked too."""
        found: dict[str, bool] = {}
        answers: dict[str, bool] = {}
        for r in self.replicas():
            key = f"{r['collection']}/{r['shard']}"
            led = r["leader"] and r["state"] == "active" and r["live"]
            if led and r["node"] not in answers:
                answers[r["node"]] = self._answers(r["base_url"])
            found[key] = found.get(key, False) or (led and answers[r["node"]])
        return sorted(key for key, led in found.items() if not led)

    @staticmethod
    def _answers(base_url: str) -> bool:
        try:
            return requests.get(f"{base_url}/admin/info/health", timeout=3).status_code == 200
        except requests.RequestException:
            return False

    def wait_leaders(self, timeout: float) -> float:
        """Wait until every shard has a leader again (after a node died); the seconds it took."""
        started = time.monotonic()
        while True:
            missing = self.leaderless()
            if not missing:
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise CloudError(f"nach {timeout:.0f} s ohne Leader: {', '.join(missing)}")
            time.sleep(0.5)

    def disagreements(
        self, collections: list[str] | None = None
    ) -> tuple[dict[str, list[dict]], list[dict]]:
        """Shards whose replicas differ (or cannot be counted), as "collection/shard" with its
        replicas, and every replica with its count."""
        counted = []
        for replica in self.replicas():
            if collections and replica["collection"] not in collections:
                continue
            active = replica["state"] == "active" and replica["live"]
            counted.append({**replica, "docs": self.count(replica) if active else None})
        shards: dict[tuple[str, str], list[dict]] = {}
        for replica in counted:
            shards.setdefault((replica["collection"], replica["shard"]), []).append(replica)
        if collections:
            missing = set(collections) - {collection for collection, _ in shards}
            if missing:
                raise CloudError("keine solche Collection: " + ", ".join(sorted(missing)))
        bad = {
            f"{collection}/{shard}": replicas
            for (collection, shard), replicas in sorted(shards.items())
            if len({r["docs"] for r in replicas}) != 1
            or replicas[0]["docs"] is None
            or len(replicas) < len(NODES)
        }
        return bad, counted


# --- command line ---------------------------------------------------------------------------


def _homes(cluster: dict, collections: list[str], base: int):
    """(collection, shard, its home node's name, its replicas) for each shard of
    ``collections``: shard k's home is node k, as ``ensure`` lays the leaders out."""
    for name in collections:
        shards = cluster["collections"][name]["shards"]
        for index, shard in enumerate(sorted(shards)):
            home = node_name(NODES[index % len(NODES)], base)
            yield name, shard, home, shards[shard].get("replicas", {})


def _status(cloud: Cloud) -> int:
    live = []
    for node in NODES:
        up = cloud.node_up(node)
        live.append(up)
        print(f"Solr-Knoten {node}: {node_url(node, cloud.base)} {'läuft' if up else 'AUS'}")
    if not any(live):
        return 1
    _, replicas = cloud.disagreements()
    for replica in replicas:
        print(
            "  {collection:8} {shard:7} {core:32} {node:22} {shown:12}{lead} docs={docs}".format(
                **replica,
                # ZooKeeper keeps a killed node's replicas "active" until its session expires
                shown=replica["state"] if replica["live"] else f"{replica['state']}/tot",
                lead=" leader" if replica["leader"] else "       ",
            )
        )
    print("Collections: " + " ".join(sorted({r["collection"] for r in replicas})))
    return 0


def _agree(cloud: Cloud, collections: list[str], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        bad, replicas = cloud.disagreements(collections or None)
        if not bad:
            names = sorted({r["collection"] for r in replicas})
            print(f"Replikate einig ({', '.join(names)}): {len(replicas)} Kerne")
            return 0
        if time.monotonic() > deadline:
            for shard, differing in bad.items():
                counts = ", ".join(f"{r['core']}={r['docs']}" for r in differing)
                print(f"UNEINIG {shard}: {counts}", file=sys.stderr)
            # seen (a search's count) against held (in the index, committed or not): tells a
            # replica that lacks documents from one that holds them unseen
            for differing in bad.values():
                for r in differing:
                    print(
                        f"  {r['core']} ({r['node']}, {r['state']}"
                        f"{', Leader' if r['leader'] else ''}): sichtbar {r['docs']},"
                        f" im Index {cloud.held(r) if r['live'] else None}",
                        file=sys.stderr,
                    )
            return 1
        time.sleep(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    ensure = commands.add_parser("ensure")
    ensure.add_argument("--timeout", type=float, default=180)
    ensure.add_argument("collections", nargs="+", metavar="NAME=CONFIGSET")
    ensure.add_argument("--reload", nargs="*", default=[])
    wait = commands.add_parser("wait")
    wait.add_argument("--timeout", type=float, default=180)
    wait.add_argument("--node", type=int, choices=NODES)
    balance = commands.add_parser("balance")
    balance.add_argument("collections", nargs="+")
    commands.add_parser("status")
    agree = commands.add_parser("agree")
    agree.add_argument("--timeout", type=float, default=15)
    agree.add_argument("collections", nargs="*")
    args = parser.parse_args(argv)
    try:
        cloud = Cloud()
        if args.command == "ensure":
            wanted = dict(item.split("=", 1) for item in args.collections)
            cloud.ensure(wanted, set(args.reload))
            cloud.wait_active(args.timeout)
            return 0
        if args.command == "wait":
            cloud.wait_active(args.timeout, args.node)
            return 0
        if args.command == "balance":
            for shard in cloud.balance_leaders(args.collections):
                print(f"{shard}: Leader wieder auf seinem Knoten")
            return 0
        if args.command == "status":
            return _status(cloud)
        return _agree(cloud, args.collections, args.timeout)
    except CloudError as error:
        print(f"FEHLER: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
