"""The test cluster's SolrCloud from Python: its CLI, its replicas, and a load that times a kill.

Tests and ``bench/`` drive the same ``scripts/solr/cloud`` an operator runs (so the drills
prove the CLI too) and read the cluster through ``scripts/solr/cloud_admin.py`` (the Collections
API). :class:`Load` runs searches (and optionally writes) in threads and keeps each request's
start, end and outcome: the failover window is measured from those, not guessed with sleeps.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "scripts" / "solr" / "cloud"
STACK = Path(os.environ.get("VIERSTAEDTE_STACK_DIR", ROOT / ".stack"))
TEST_BASE = 7200  # the contract's test cluster (docs/solrcloud.md); the dev cluster is 7100
TEST_DIR = STACK / "cluster-test"
COLLECTIONS = ("ckan", "council")
DRILL_SITE = "solrcloud-drill"  # site_id of the drills' own documents; CKAN filters on its own
ELECTION_LOGGERS = ("[RecoveryStrategy]", "[PeerSync", "[SyncStrategy]", "[ShardLeaderElection")


def _admin_module():
    spec = importlib.util.spec_from_file_location(
        "solr_cloud_admin", ROOT / "scripts" / "solr" / "cloud_admin.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


admin = _admin_module()


def _password(name: str) -> str:
    return (STACK / "secrets" / name).read_text(encoding="utf-8").strip()


class SolrCloud:
    """One SolrCloud of the contract: ZooKeeper at base + 10, node N at base + 10 + N."""

    def __init__(self, base: int = TEST_BASE, state_dir: Path = TEST_DIR):
        self.base = base
        self.state_dir = Path(state_dir)
        self.env = dict(
            os.environ,
            VIERSTAEDTE_CLUSTER_PORT_BASE=str(base),
            VIERSTAEDTE_CLUSTER_DIR=str(self.state_dir),
        )
        self.ckan_auth = ("ckan", _password("solr-password"))
        self.admin = admin.Cloud(base, ("admin", _password("solr-admin-password")))

    # --- the CLI ------------------------------------------------------------------------------

    def cli(self, *args: str, timeout: float = 300, check: bool = True):
        """``scripts/solr/cloud ARGS``; a failure (with check) raises with its output."""
        done = subprocess.run(
            [str(CLI), *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"scripts/solr/cloud {' '.join(args)} exited {done.returncode}:\n"
                f"{done.stdout}\n{done.stderr}"
            )
        return done

    def up(self):
        return self.cli("up", timeout=400)

    def down(self):
        return self.cli("down", timeout=120)

    def kill(self, node: int):
        return self.cli("stop-node", str(node), "--kill", timeout=60)

    def start(self, node: int):
        return self.cli("start-node", str(node), timeout=300)

    def agree(self, *collections: str, timeout: float = 30):
        """The finished ``agree`` (exit 0 iff the replicas agree within ``timeout``)."""
        args = ("agree", "--timeout", str(timeout), *collections)
        return self.cli(*args, timeout=timeout + 60, check=False)

    def disagreement(self, agreed: subprocess.CompletedProcess, lines: int = 40) -> str:
        """A failed ``agree``'s output and the nodes' last recovery and election lines (INFO
        in scripts/solr/log4j2.xml): what a CI log needs to tell why the replicas differ."""
        logged = []
        for node in (1, 2):
            path = self.state_dir / "solr" / "log" / f"node{node}.log"
            text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
            logged += [
                f"node{node} {line[:240]}"
                for line in text.splitlines()
                if any(word in line for word in ELECTION_LOGGERS)
            ]
        logged.sort(key=lambda line: line.split(" ", 2)[1])  # by timestamp
        return "\n".join([agreed.stdout + agreed.stderr, *logged[-lines:]])

    # --- reading ------------------------------------------------------------------------------

    def pid(self, node: int) -> int | None:
        path = self.state_dir / "solr" / "run" / f"node{node}.pid"
        return int(path.read_text()) if path.is_file() else None

    def node_url(self, node: int) -> str:
        return admin.node_url(node, self.base)

    def node_name(self, node: int) -> str:
        return admin.node_name(node, self.base)

    def collection_url(self, collection: str, node: int) -> str:
        return f"{self.node_url(node)}/{collection}"

    def lb_url(self, collection: str) -> str:
        """Through the web helper's nginx over both nodes (the contract's base + 13)."""
        return f"http://127.0.0.1:{self.base + 13}/solr/{collection}"

    def replicas(self) -> list[dict]:
        return self.admin.replicas()

    def leader_holding(self, collection: str, key: str) -> int:
        """The node whose shard leader holds document ``key`` (a real-time get: it sees a
        document before Solr's soft commit makes it searchable)."""
        for replica in self.replicas():
            if replica["collection"] != collection or not replica["leader"]:
                continue
            answer = requests.get(
                f"{replica['base_url']}/{replica['core']}/get",
                params={"id": key, "distrib": "false", "wt": "json"},
                auth=self.ckan_auth,
                timeout=10,
            )
            answer.raise_for_status()
            if answer.json().get("doc"):
                return 1 if replica["node"] == self.node_name(1) else 2
        raise AssertionError(f"document {key} is in no shard of {collection}")

    def count(self, url: str, query: str = "*:*") -> int:
        answer = requests.get(
            f"{url}/select",
            params={"q": query, "rows": 0, "wt": "json"},
            auth=self.ckan_auth,
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()["response"]["numFound"]

    # --- the drills' documents ----------------------------------------------------------------

    def drill_doc(self, number: int, tag: str) -> dict:
        """A document CKAN's schema takes, with the drills' own ``site_id``."""
        key = f"{DRILL_SITE}-{tag}-{number}"
        return {
            "id": key,
            "index_id": key,
            "site_id": DRILL_SITE,
            "name": key,
            "title": f"Drill {tag} {number}",
            "entity_type": "package",
            "dataset_type": "dataset",
            "state": "active",
            "capacity": "public",
            "text": f"Bevölkerung Mainz Drill {number}",
        }

    def index(self, url: str, docs: list[dict], timeout: float = 10) -> None:
        answer = requests.post(
            f"{url}/update",
            params={"commit": "true", "wt": "json"},
            json=docs,
            auth=self.ckan_auth,
            timeout=timeout,
        )
        answer.raise_for_status()

    def delete_drill_docs(self, url: str) -> None:
        answer = requests.post(
            f"{url}/update",
            params={"commit": "true", "wt": "json"},
            json={"delete": {"query": f"site_id:{DRILL_SITE}"}},
            auth=self.ckan_auth,
            timeout=60,
        )
        answer.raise_for_status()


# --- load and the failover window -----------------------------------------------------------


@dataclass
class Outcome:
    start: float
    end: float
    ok: bool
    detail: str = ""
    key: str = ""  # a write's document id


@dataclass
class Load:
    """Searches (``searchers`` threads) and writes (``writers`` threads, one document a request)
    against ``url`` until :meth:`stop`; every request is kept as an :class:`Outcome`."""

    cloud: SolrCloud
    url: str
    searchers: int = 2
    writers: int = 0
    timeout: float = 10
    pause: float = 0.05
    searches: list[Outcome] = field(default_factory=list)
    writes: list[Outcome] = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._search, daemon=True) for _ in range(self.searchers)
        ] + [threading.Thread(target=self._write, daemon=True) for _ in range(self.writers)]
        self._tag = uuid.uuid4().hex[:8]
        self._written = 0

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)

    def _search(self) -> None:
        session = requests.Session()
        session.auth = self.cloud.ckan_auth
        params = {  # as CKAN's package_search asks (ckan/lib/search/query.py)
            "q": "bevölkerung",
            "defType": "edismax",
            "qf": "name^4 title^4 tags^2 groups^2 text",
            "q.op": "AND",
            "fq": f"+site_id:{DRILL_SITE}",
            "rows": 10,
            "wt": "json",
        }
        while not self._stop.is_set():
            start = time.monotonic()
            try:
                answer = session.get(f"{self.url}/select", params=params, timeout=self.timeout)
                ok = answer.status_code == 200 and answer.json()["response"]["numFound"] > 0
                detail = "" if ok else f"HTTP {answer.status_code} {answer.text[:200]}"
            except (requests.RequestException, ValueError) as error:
                ok, detail = False, f"{error.__class__.__name__}: {str(error)[:200]}"
            with self._lock:
                self.searches.append(Outcome(start, time.monotonic(), ok, detail))
            self._stop.wait(self.pause)

    def _write(self) -> None:
        session = requests.Session()
        session.auth = self.cloud.ckan_auth
        while not self._stop.is_set():
            with self._lock:
                self._written += 1
                number = self._written
            doc = self.cloud.drill_doc(number, self._tag)
            start = time.monotonic()
            try:
                answer = session.post(
                    f"{self.url}/update", params={"wt": "json"}, json=[doc], timeout=self.timeout
                )
                ok = answer.status_code == 200
                detail = "" if ok else f"HTTP {answer.status_code} {answer.text[:200]}"
            except requests.RequestException as error:
                ok, detail = False, f"{error.__class__.__name__}: {str(error)[:200]}"
            with self._lock:
                self.writes.append(Outcome(start, time.monotonic(), ok, detail, doc["id"]))
            self._stop.wait(self.pause * 4)


@dataclass
class Window:
    """What a kill at ``since`` cost a kind of request."""

    requests: int  # after the kill
    errors: int
    window: float  # seconds from the kill to the end of the last failed or slow request
    slowest: float  # seconds, the longest request after the kill
    first_error: str

    def __str__(self) -> str:
        return (
            f"{self.requests} Anfragen, {self.errors} Fehler, Fenster {self.window:.1f} s, "
            f"längste {self.slowest:.1f} s"
        )


def failover(outcomes: list[Outcome], since: float, slow: float = 2.0) -> Window:
    """The failover window of the requests begun after ``since`` (or running at it): until the
    end of the last one that failed or took longer than ``slow`` seconds."""
    after = [o for o in outcomes if o.end >= since]
    bad = [o for o in after if not o.ok or o.end - o.start > slow]
    errors = [o for o in after if not o.ok]
    return Window(
        requests=len(after),
        errors=len(errors),
        window=max((o.end - since for o in bad), default=0.0),
        slowest=max((o.end - o.start for o in after), default=0.0),
        first_error=errors[0].detail if errors else "",
    )
