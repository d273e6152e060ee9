"""Council search benchmark: store and index a generated OParl system, then search it.

    python -m bench.council --url URL --token-file FILE [--city koblenz] [--papers 10000]
                            [--clients 1,8,32] [--duration 10] [--json FILE]

Writes the demo generator's system of one city (``demo.council.generate``, seeded) through
``vierstaedte_council_upsert`` and ``…_file_text`` exactly as the harvester sends them, 200
objects a call, the files' text as extraction would give it; then writes it all again
unchanged. It measures papers/s of the first write (each call indexes in the council core),
the unchanged write's time as a share of the first, the peak memory of this client, the
search latency (p50/p95 of ``vierstaedte_council_search`` at each number of parallel
clients) and recall@10 on ``bench/council_queries.yaml``: each query names the papers that
answer it by a pattern on their titles, judged on the generated corpus (not by Solr), so
recall@10 = relevant papers among the first ten / min(relevant, 10).

What it does not measure: the OParl reading over HTTP and the text extraction (the
harvester's, ``docs/performance.md``). It writes into the city's council tables of the CKAN
it is given: run it against a bench or test CKAN, never the portal's.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import requests
import yaml

from vierstaedte_contract.council import BATCH_MAX, type_of

QUERIES = Path(__file__).with_name("council_queries.yaml")
BASE = "http://bench.invalid"


def _real(value: Any) -> Any:
    """The generator's ``{base}`` placeholder (the replay server fills it) made an address."""
    return json.loads(json.dumps(value).replace("{base}", BASE))


def corpus(city: str, papers: int) -> tuple[list[dict], dict[str, str], list[str]]:
    """The objects as the upsert takes them, the files' texts by id, the papers' titles."""
    from demo.council.generate import generate

    system = generate(city, papers=papers)
    body = next(o["id"] for o in system.objects.values() if type_of(o) == "body")
    objects, texts, titles = [], {}, []
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
        if kind == "paper" and not obj.get("deleted"):
            titles.append(obj.get("name") or "")
        document = system.documents.get(raw.get("accessUrl") or "")
        if kind == "file" and document is not None and document.kind != "scan":
            texts[obj["id"]] = "\n".join(
                [document.title, *document.lines, *(f"{h}\n{t}" for h, t in document.sections)]
            )
    return objects, texts, titles


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


def run(args: argparse.Namespace) -> dict[str, Any]:
    token = Path(args.token_file).read_text(encoding="utf-8").strip()
    session = requests.Session()
    session.headers["Authorization"] = token
    objects, texts, titles = corpus(args.city, args.papers)
    papers = sum(o["type"] == "paper" for o in objects)
    first = store(session, args.url, args.city, objects, texts)
    again = store(session, args.url, args.city, objects, texts)
    time.sleep(args.settle)  # Solr's soft commit (3 s) when the CKAN does not commit each write
    queries = read_queries()
    scored = []
    for query in queries:
        relevant = {t for t in titles if query["pattern"].search(t)}
        found, _ = search(args.url, {"q": query["q"], "city": args.city, "type": "paper"})
        value = recall([hit["title"] for hit in found["results"]], relevant)
        scored.append({"q": query["q"], "relevant": len(relevant), "recall": value})
    judged = [s["recall"] for s in scored if s["recall"] is not None]
    loads = [latency(args.url, args.city, queries, c, args.duration) for c in args.clients]
    return {
        "papers": papers,
        "objects": len(objects),
        "files_with_text": len(texts),
        "store": {**first, "papers_per_second": round(papers / first["seconds"], 1)},
        "unchanged": {**again, "share_of_first": round(again["seconds"] / first["seconds"], 3)},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "queries": scored,
        "recall_at_10": round(statistics.mean(judged), 3) if judged else None,
        "judged_queries": len(judged),
        "latency": loads,
    }


def report(figures: dict[str, Any]) -> list[str]:
    lines = [
        f"## council: {figures['papers']} papers, {figures['objects']} objects",
        f"store + index   {figures['store']['seconds']:.1f} s, "
        f"{figures['store']['papers_per_second']} papers/s",
        f"unchanged again {figures['unchanged']['seconds']:.1f} s = "
        f"{100 * figures['unchanged']['share_of_first']:.1f} % of the first "
        f"({figures['unchanged']['unchanged']} unchanged, {figures['unchanged']['written']} written)",
        f"peak memory (this client) {figures['peak_rss_mb']} MB",
        f"recall@10 {figures['recall_at_10']} on {figures['judged_queries']} queries",
    ]
    for load in figures["latency"]:
        lines.append(
            "search at {clients:>2} clients: p50 {p50_ms} ms, p95 {p95_ms} ms, "
            "{per_second}/s ({requests} requests)".format(**load)
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the CKAN to write into and search")
    parser.add_argument("--token-file", required=True, help="a sysadmin's API token")
    parser.add_argument("--city", default="koblenz")
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument(
        "--clients", type=lambda s: [int(c) for c in s.split(",")], default=[1, 8, 32]
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per client count")
    parser.add_argument("--settle", type=float, default=4.0, help="seconds before searching")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    figures = run(args)
    print("\n".join(report(figures)))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
