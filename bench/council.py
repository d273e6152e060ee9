"""Council benchmark: the real harvester over a generated 10,000-paper OParl system, then search.

    python -m bench.council [--city koblenz] [--papers 10000] [--clients 1,8,32] [--duration 10]
                            [--extract-files 1000] [--no-tap] [--json FILE]
    bench/run --only council [--papers 10000]          the same, in the summary table

Issue 17 asks what the council harvest costs at a city's scale, so this runs what a city's cron
runs: ``vierstaedte-harvest council run <city>`` as a subprocess, against the demo generator's
system (``demo.council.generate``, seeded) served over real HTTP by the replay server
(``demo/replay.py`` with ``demo.council.CouncilDemo``, on a free loopback port), into the
benchmark's own CKAN (``bench/benchstack.py``: slot ``bench_council``, its databases, its
catalogue core and its council core ``council_bench_council``, gunicorn with 3 workers like the
portal, Solr soft-committing like the portal). The only change to a city's config: the pace is
raised from 1 to 100 requests/s (the config's maximum; loopback), said in the output.

Measured: the first (full) run's wall time, papers/s and objects/s, the harvester's peak RSS
(``wait4``, its extraction children included) and CKAN's, its report's counts; a second run
with nothing changed, as a share of the first (the target: ≤ 5 %), and that it wrote nothing.
By default the harvester talks to CKAN through a timing proxy (``--no-tap``: directly), which
says how much of the run CKAN's actions took, per action; the replay server counts its own
seconds. Then the extraction alone (``council/extract.py``: pdftotext or the Python child in a
limited subprocess) over a sample of the system's files: files/s and MB/s per kind, and the
share of the first run this accounts for. Last the search of the harvested data:
``vierstaedte_council_search`` p50/p95 at each number of parallel clients (the queries in turn)
and recall@10 on ``bench/council_queries.yaml``, whose relevant papers are title patterns
judged on the generated corpus, not by Solr: recall@10 = relevant among the first ten /
min(relevant, 10). Rendering the system's files (fpdf2) happens once, before any clock runs,
and is kept under ``.stack/bench/<slot>/`` for the next run.

``--url URL --token-file FILE`` instead writes the same system straight through
``vierstaedte_council_upsert`` and ``…_file_text`` into a CKAN you give it (a test or bench
CKAN, never the portal's), 200 objects a call, the file texts as extraction would give them,
then all of it again unchanged: the portal's write actions alone, without the harvester
(what ``tests/test_bench.py`` runs on 40 papers).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import requests
import yaml

from vierstaedte_contract.council import BATCH_MAX, type_of

QUERIES = Path(__file__).with_name("council_queries.yaml")
DEMO_CONFIGS = Path(__file__).resolve().parents[1] / "demo" / "configs"
BASE = "http://bench.invalid"
PACE = 100  # requests/s per host: the config's maximum; a city's default is 1
WRITES = ("vierstaedte_council_upsert", "vierstaedte_council_file_text")


# --- the generated system ----------------------------------------------------------------------


def _real(value: Any) -> Any:
    """The generator's ``{base}`` placeholder (the replay server fills it) made an address."""
    return json.loads(json.dumps(value).replace("{base}", BASE))


def paper_titles(system) -> list[str]:
    return [
        o.get("name") or ""
        for o in system.objects.values()
        if type_of(o) == "paper" and not o.get("deleted")
    ]


def corpus(city: str, papers: int) -> tuple[list[dict], dict[str, str], list[str]]:
    """The objects as the upsert takes them, the files' texts by id, the papers' titles."""
    from demo.council.generate import generate

    system = generate(city, papers=papers)
    body = next(o["id"] for o in system.objects.values() if type_of(o) == "body")
    objects, texts = [], {}
    for raw in system.objects.values():
        obj = _real(raw)
        kind = type_of(obj)
        objects.append(
            {
                "id": obj["id"],
                "type": kind,
                "body": None if kind in ("system", "body") else _real(body),
                "modified": obj.get("modified"),
                "deleted": bool(obj.get("deleted")),
                "data": obj,
            }
        )
        document = system.documents.get(raw.get("accessUrl") or "")
        if kind == "file" and document is not None and document.kind != "scan":
            texts[obj["id"]] = "\n".join(
                [document.title, *document.lines, *(f"{h}\n{t}" for h, t in document.sections)]
            )
    return objects, texts, paper_titles(system)


# --- the upsert action alone (--url) -----------------------------------------------------------


def _post(session: requests.Session, url: str, action: str, payload: dict) -> dict:
    response = session.post(f"{url}/api/3/action/{action}", json=payload, timeout=300)
    response.raise_for_status()
    return response.json()["result"]


def store(session, url: str, city: str, objects: list[dict], texts: dict[str, str]) -> dict:
    counts = {"written": 0, "unchanged": 0, "deleted": 0}
    started = time.perf_counter()
    for start in range(0, len(objects), BATCH_MAX):
        batch = objects[start : start + BATCH_MAX]
        result = _post(session, url, "vierstaedte_council_upsert", {"city": city, "objects": batch})
        for key in counts:
            counts[key] += result.get(key, 0)
    for file_id, text in texts.items():
        payload = {"city": city, "file_id": file_id, "status": "ok", "text": text}
        _post(session, url, "vierstaedte_council_file_text", {**payload, "source_url": file_id})
    return {**counts, "seconds": time.perf_counter() - started}


# --- the harvester (default) -------------------------------------------------------------------


class Tap:
    """A forwarding proxy between the harvester and CKAN: the seconds of each Action API call.

    Forwarding costs the first run a few milliseconds a call (``--no-tap`` to compare).
    """

    def __init__(self, upstream: str):
        from demo.replay import LoopbackServer

        self.upstream = upstream.rstrip("/")
        self.seconds: dict[str, float] = collections.defaultdict(float)
        self.calls: collections.Counter = collections.Counter()
        self.lock = threading.Lock()
        self.local = threading.local()
        self.server = LoopbackServer(_tap_handler(self))

    @property
    def base(self) -> str:
        return self.server.base

    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def reset(self) -> None:
        with self.lock:
            self.seconds.clear()
            self.calls.clear()

    def figures(self) -> dict[str, Any]:
        with self.lock:
            return {
                action: {"calls": self.calls[action], "seconds": round(self.seconds[action], 2)}
                for action in sorted(self.calls, key=lambda a: -self.seconds[a])
            }


def _tap_handler(tap: Tap) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out as two writes: with Nagle's algorithm the body waited for
        # the client's delayed ACK, ~40 ms a call, which doubled the harvest's time
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's
            pass

        def do_GET(self) -> None:  # http.server's naming
            self._forward()

        def do_POST(self) -> None:  # http.server's naming
            self._forward()

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            action = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            drop = ("host", "connection", "content-length", "accept-encoding")
            headers = {k: v for k, v in self.headers.items() if k.lower() not in drop}
            started = time.perf_counter()
            answer = tap.session().request(
                self.command, tap.upstream + self.path, data=body, headers=headers, timeout=600
            )
            took = time.perf_counter() - started
            with tap.lock:
                tap.calls[action] += 1
                tap.seconds[action] += took
            self.send_response(answer.status_code, answer.reason)
            for name, value in answer.headers.items():
                if name.lower() not in ("connection", "transfer-encoding", "content-length",
                                        "keep-alive", "content-encoding"):  # fmt: skip
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

    return Handler


def timed_council(build_dir: Path, papers: int, city: str):
    """demo/council's ``CouncilDemo`` that also adds up the seconds it spends answering."""
    from demo.council import CouncilDemo

    class Timed(CouncilDemo):
        seconds, requests = 0.0, 0

        def route(self, base: str, path: str, query: dict[str, str]):
            started = time.perf_counter()
            try:
                return super().route(base, path, query)
            finally:
                with self._lock:
                    self.seconds += time.perf_counter() - started
                    self.requests += 1

    return Timed(build_dir, papers=papers, cities=(city,))


def harvester_config(folder: Path, city: str, system_url: str) -> Path:
    """The demo's city config, its council pointed at our server, paced at ``PACE``."""
    data = yaml.safe_load((DEMO_CONFIGS / f"{city}.yaml").read_text(encoding="utf-8"))
    data["council"] = {"url": system_url, "max_requests_per_second": PACE}
    for table in data.get("tables", []):
        table["mapping"] = str((DEMO_CONFIGS / table["mapping"]).resolve())
    path = folder / f"{city}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def council_core(slot) -> str:
    """The slot's council core: the name CKAN derives (``ckan_X`` → ``council_X``), created
    with the council configset as scripts/lib.sh creates ``council``, and emptied."""
    from bench import benchstack

    core = "council" + slot.core[len("ckan") :]
    benchstack.sh("solr-conf", core, "council")
    requests.post(
        f"http://127.0.0.1:8983/solr/{core}/update?commit=true",
        json={"delete": {"query": "*:*"}},
        auth=slot.solr_auth(),
        timeout=60,
    ).raise_for_status()
    return core


def core_count(slot, core: str) -> int:
    answer = requests.get(
        f"http://127.0.0.1:8983/solr/{core}/select",
        params={"q": "*:*", "rows": 0},
        auth=slot.solr_auth(),
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()["response"]["numFound"]


def settle(slot, core: str, timeout: float = 60) -> tuple[int, float]:
    """Wait until the council core's count stops moving (Solr's 3 s soft commit); (count, s)."""
    started = time.monotonic()
    last, since = -1, time.monotonic()
    while time.monotonic() - started < timeout:
        count = core_count(slot, core)
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since > 4:
            break
        time.sleep(0.5)
    return last, time.monotonic() - started


def harvest_once(command, env, state: Path, city: str, ckan_pid: int, log: Path) -> dict:
    from bench import benchstack

    result = benchstack.run_measured(command, env=env, ckan_pid=ckan_pid, log=log)
    report = json.loads((state / "reports" / city / "council" / "latest.json").read_text())
    result["status"] = report.get("status")
    result["counts"] = report.get("counts", {})
    result["files"] = report.get("files", {})
    result["requests"] = report.get("requests", 0)
    result["write_calls"] = report.get("write_calls", {})
    result["problems"] = [e.get("code") for e in report.get("source_errors", [])][:20]
    result["lists"] = {e["list"]: e["objects"] for e in report.get("lists", [])}
    return result


def extraction(files_dir: Path, sample: int, limits) -> dict[str, Any]:
    """``extract()`` over every n-th rendered file: files/s and MB/s per kind and in all."""
    from vierstaedte_harvest.council.extract import extract, kind_of

    every = sorted(p for p in files_dir.iterdir() if p.suffix in (".pdf", ".docx", ".odt"))
    in_system = collections.Counter(p.suffix[1:] for p in every)
    count = min(sample, len(every))
    chosen = [every[i * len(every) // count] for i in range(count)]  # spread over all of them
    kinds: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="vierstaedte-bench-extract-") as folder:
        for source in chosen:
            path = Path(shutil.copy(source, folder))
            kind = kind_of(path) or "other"
            started = time.perf_counter()
            result = extract(path, limits)
            took = time.perf_counter() - started
            path.unlink()
            entry = kinds.setdefault(
                kind, {"files": 0, "bytes": 0, "seconds": 0.0, "status": collections.Counter()}
            )
            entry["files"] += 1
            entry["bytes"] += source.stat().st_size
            entry["seconds"] += took
            entry["status"][result.status] += 1
    total = {k: sum(e[k] for e in kinds.values()) for k in ("files", "bytes", "seconds")}
    # the system's files of each kind at the sample's mean seconds (scans are PDFs too)
    estimate = sum(
        in_system[suffix] * kinds[kind]["seconds"] / kinds[kind]["files"]
        for suffix, kind in (("pdf", "pdf"), ("docx", "docx"), ("odt", "odt"))
        if kind in kinds
    )
    return {
        "sampled": total["files"],
        "in_system": dict(in_system),
        "files_per_second": round(total["files"] / total["seconds"], 1) if chosen else None,
        "mb_per_second": round(total["bytes"] / 1e6 / total["seconds"], 3) if chosen else None,
        "mean_kb": round(total["bytes"] / 1e3 / total["files"], 1) if chosen else None,
        "kinds": {
            kind: {
                "files": e["files"],
                "files_per_second": round(e["files"] / e["seconds"], 1),
                "mb_per_second": round(e["bytes"] / 1e6 / e["seconds"], 3),
                "status": dict(e["status"]),
            }
            for kind, e in sorted(kinds.items())
        },
        "estimated_seconds_all": round(estimate, 1),
    }


def measure(
    city: str = "koblenz",
    papers: int = 10_000,
    clients: list[int] = (1, 8, 32),
    duration: float = 10.0,
    extract_files: int = 1000,
    tap: bool = True,
    slot_name: str = "bench_council",
    port: int = 5014,
) -> dict[str, Any]:
    """The harvester's two runs, the extraction alone and the search, on one slot."""
    from bench import benchstack
    from demo.replay import ReplayServer
    from vierstaedte_harvest.council.extract import Limits

    slot = benchstack.Slot(slot_name, benchstack.SITE_PLUGINS)
    slot.prepare(port)
    work = Path(tempfile.mkdtemp(prefix="vierstaedte-bench-council-"))
    figures: dict[str, Any] = {"city": city, "pace_per_second": PACE, "tap": tap}
    try:
        slot.reset()
        core = council_core(slot)
        token = slot.secrets / f"council-harvester-{city}"
        slot.ckan("vierstaedte", "ensure-harvester", city, "--token-file", str(token))
        files = slot.dir / f"council-files-{papers}"
        demo = timed_council(files, papers, city)
        system = demo.system(city)
        kinds = collections.Counter(type_of(o) for o in system.objects.values())
        figures.update(papers=kinds["paper"], objects=len(system.objects), types=dict(kinds))
        started = time.perf_counter()
        demo.build()  # every file rendered (or found from an earlier run) before any clock runs
        figures["render_seconds"] = round(time.perf_counter() - started, 1)
        figures["files"] = len(system.documents)
        with ReplayServer(work / "replay", council=demo) as replay:
            config = harvester_config(work, city, demo.system_url(replay.base, city))
            ckan = slot.start(port)
            proxy = Tap(f"http://127.0.0.1:{port}") if tap else None
            if proxy:
                proxy.server.start()
            state = work / "state"
            log = slot.dir / "council-harvest.log"  # kept after the run, for a failed one
            log.unlink(missing_ok=True)
            command = [
                str(benchstack.VENV / "vierstaedte-harvest"),
                "council",
                "run",
                city,
                "--config",
                str(config),
                "--ckan-url",
                proxy.base if proxy else f"http://127.0.0.1:{port}",
                "--state-dir",
                str(state),
                "--work-dir",
                str(work),
                "--no-progress",
            ]
            env = dict(os.environ, VIERSTAEDTE_API_TOKEN_FILE=str(token))
            runs = []
            for label in ("full", "again"):
                if proxy:
                    proxy.reset()
                served = demo.seconds, demo.requests
                print(f"  council harvest ({label}) …", file=sys.stderr, flush=True)
                run = harvest_once(command, env, state, city, ckan.pid, log)
                run["replay"] = {
                    "requests": demo.requests - served[1],
                    "seconds": round(demo.seconds - served[0], 1),
                }
                if proxy:
                    run["ckan_actions"] = proxy.figures()
                runs.append(run)
                if label == "full":
                    figures["indexed"], figures["settle_seconds"] = settle(slot, core)
            if proxy:
                proxy.server.stop()
            full, again = runs
            full["papers_per_second"] = round(figures["papers"] / full["seconds"], 2)
            full["objects_per_second"] = round(figures["objects"] / full["seconds"], 1)
            again["share_of_full"] = round(again["seconds"] / full["seconds"], 4)
            figures.update(harvest=full, again=again)
            figures["extraction"] = extraction(files / city, extract_files, Limits())
            if full["seconds"]:
                figures["extraction"]["share_of_full"] = round(
                    figures["extraction"]["estimated_seconds_all"] / full["seconds"], 3
                )
            figures.update(searching(f"http://127.0.0.1:{port}", city, system, clients, duration))
            slot.stop(port)
    finally:
        slot.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    return figures


# --- searching ---------------------------------------------------------------------------------


def read_queries(path: Path = QUERIES) -> list[dict[str, Any]]:
    queries = yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]
    for query in queries:
        query["pattern"] = re.compile(query["relevant"], re.IGNORECASE)
    return queries


def recall(found: list[str], relevant: set[str]) -> float | None:
    if not relevant:
        return None
    return len(set(found[:10]) & relevant) / min(len(relevant), 10)


def search(url: str, params: dict[str, Any]) -> tuple[dict, float]:
    started = time.perf_counter()
    response = requests.get(
        f"{url}/api/3/action/vierstaedte_council_search", params=params, timeout=60
    )
    response.raise_for_status()
    return response.json()["result"], time.perf_counter() - started


def latency(url: str, city: str, queries: list[dict], clients: int, seconds: float) -> dict:
    times: list[float] = []
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client(offset: int) -> None:
        n = offset
        while time.monotonic() < stop:
            query = queries[n % len(queries)]
            _, took = search(url, {"q": query["q"], "city": city})
            with lock:
                times.append(took)
            n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times.sort()
    return {
        "clients": clients,
        "requests": len(times),
        "p50_ms": round(1000 * statistics.median(times), 1),
        "p95_ms": round(1000 * times[max(0, int(len(times) * 0.95) - 1)], 1),
        "per_second": round(len(times) / seconds, 1),
    }


def searching(
    url: str, city: str, titles_or_system, clients: list[int], duration: float
) -> dict[str, Any]:
    """recall@10 of each query on the papers, then the latency at each number of clients."""
    titles = (
        titles_or_system if isinstance(titles_or_system, list) else paper_titles(titles_or_system)
    )
    queries = read_queries()
    scored = []
    for query in queries:
        relevant = {t for t in titles if query["pattern"].search(t)}
        found, _ = search(url, {"q": query["q"], "city": city, "type": "paper"})
        value = recall([hit["title"] for hit in found["results"]], relevant)
        scored.append({"q": query["q"], "relevant": len(relevant), "recall": value})
    judged = [s["recall"] for s in scored if s["recall"] is not None]
    return {
        "queries": scored,
        "recall_at_10": round(statistics.mean(judged), 3) if judged else None,
        "judged_queries": len(judged),
        "latency": [latency(url, city, queries, c, duration) for c in clients],
    }


def run_direct(args: argparse.Namespace) -> dict[str, Any]:
    """``--url``: the upsert action alone, written twice, then searched."""
    token = Path(args.token_file).read_text(encoding="utf-8").strip()
    session = requests.Session()
    session.headers["Authorization"] = token
    objects, texts, titles = corpus(args.city, args.papers)
    papers = sum(o["type"] == "paper" for o in objects)
    first = store(session, args.url, args.city, objects, texts)
    again = store(session, args.url, args.city, objects, texts)
    time.sleep(args.settle)  # Solr's soft commit (3 s) when the CKAN does not commit each write
    return {
        "mode": "upsert",
        "papers": papers,
        "objects": len(objects),
        "files_with_text": len(texts),
        "store": {**first, "papers_per_second": round(papers / first["seconds"], 1)},
        "unchanged": {**again, "share_of_first": round(again["seconds"] / first["seconds"], 3)},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        **searching(args.url, args.city, titles, args.clients, args.duration),
    }


# --- output ------------------------------------------------------------------------------------


def _search_lines(figures: dict[str, Any]) -> list[str]:
    lines = [f"recall@10 {figures['recall_at_10']} on {figures['judged_queries']} queries"]
    for load in figures["latency"]:
        lines.append(
            "search at {clients:>2} clients: p50 {p50_ms} ms, p95 {p95_ms} ms, "
            "{per_second}/s ({requests} requests)".format(**load)
        )
    return lines


def report(figures: dict[str, Any]) -> list[str]:
    if figures.get("mode") == "upsert":
        store_, again = figures["store"], figures["unchanged"]
        return [
            f"## council (upsert action alone): {figures['papers']} papers, "
            f"{figures['objects']} objects",
            f"store + index   {store_['seconds']:.1f} s, {store_['papers_per_second']} papers/s",
            f"unchanged again {again['seconds']:.1f} s = {100 * again['share_of_first']:.1f} % "
            f"of the first ({again['unchanged']} unchanged, {again['written']} written)",
            f"peak memory (this client) {figures['peak_rss_mb']} MB",
            *_search_lines(figures),
        ]
    full, again, ex = figures["harvest"], figures["again"], figures["extraction"]
    lines = [
        f"## council harvest: {figures['city']}, {figures['papers']} papers, "
        f"{figures['objects']} objects, {figures['files']} files",
        f"(vierstaedte-harvest council run, pace raised to {figures['pace_per_second']} "
        f"requests/s per host (a city's default: 1); "
        + ("through a timing proxy to CKAN" if figures["tap"] else "straight to CKAN")
        + f"; files rendered beforehand in {figures['render_seconds']} s)",
        f"full run        {full['seconds']:.1f} s, {full['papers_per_second']} papers/s, "
        f"{full['objects_per_second']} objects/s, exit {full['exit']}, {full['status']}",
        f"  counts {full['counts']}",
        f"  files {full['files']}, OParl requests {full['requests']}, "
        f"replay server {full['replay']['requests']} requests in {full['replay']['seconds']} s",
        f"  writes {full['write_calls']}",
        f"  peak RSS: harvester {full['rss_mb']:.0f} MB, CKAN (3 workers) "
        f"{full['ckan_rss_mb']:.0f} MB; council core {figures['indexed']} documents",
    ]
    if full.get("ckan_actions"):
        spent = sum(a["seconds"] for a in full["ckan_actions"].values())
        lines.append(
            f"  in CKAN's actions {spent:.1f} s = {100 * spent / full['seconds']:.0f} % of it: "
            + ", ".join(
                f"{name} {a['calls']}× {a['seconds']:.0f} s"
                for name, a in list(full["ckan_actions"].items())[:5]
            )
        )
    lines += [
        f"no-change run   {again['seconds']:.2f} s = {100 * again['share_of_full']:.2f} % of the "
        f"full run (target ≤ 5 %), exit {again['exit']}, {again['status']}",
        f"  counts {again['counts']}, files {again['files']}, writes {again['write_calls'] or 0}",
        f"extraction      {ex['files_per_second']} files/s, {ex['mb_per_second']} MB/s "
        f"({ex['sampled']} of {sum(ex['in_system'].values())} files, mean {ex['mean_kb']} kB): "
        + ", ".join(f"{k} {v['files_per_second']} files/s" for k, v in ex["kinds"].items()),
        f"  all files at these rates {ex['estimated_seconds_all']} s = "
        f"{100 * ex.get('share_of_full', 0):.0f} % of the full run",
        *_search_lines(figures),
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--city", default="koblenz")
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument(
        "--clients", type=lambda s: [int(c) for c in s.split(",")], default=[1, 8, 32]
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per client count")
    parser.add_argument(
        "--extract-files", type=int, default=1000, help="files of the sample extracted alone"
    )
    parser.add_argument(
        "--no-tap", action="store_true", help="the harvester talks to CKAN without the proxy"
    )
    parser.add_argument("--slot", default="bench_council", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=5014, help=argparse.SUPPRESS)
    parser.add_argument("--url", help="instead: write through the upsert action into this CKAN")
    parser.add_argument("--token-file", help="with --url: a sysadmin's API token")
    parser.add_argument("--settle", type=float, default=4.0, help="with --url: seconds to wait")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    if args.url:
        if not args.token_file:
            parser.error("--url needs --token-file")
        figures = run_direct(args)
    else:
        from bench import benchstack

        benchstack.prepare_machine()
        figures = measure(
            args.city,
            args.papers,
            args.clients,
            args.duration,
            args.extract_files,
            not args.no_tap,
            args.slot,
            args.port,
        )
    print("\n".join(report(figures)))
    if args.json:
        args.json.write_text(
            json.dumps(figures, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
