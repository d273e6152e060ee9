"""All benchmarks in one run, one summary table (``bench/run --help``).

    bench/run                   normalise (1,000,000 rows), harvest (N = 100, 1,000),
                                load (10,000 datasets), search (2,056 datasets, 108 queries)
    bench/run --only harvest --sizes 100
    bench/run --tiny            every benchmark at a toy size (what tests/test_bench.py runs)
    bench/run --only ai         the AI tools eval against the running stack (bench/ai_eval.py;
                                not in the default set: it needs `scripts/stack up`)
    bench/run --only council    the council harvester on a 10,000-paper OParl system, then its
                                search (bench/council.py; not in the default set: 20–40 min)
    bench/run --only cluster    2 vs 1 CKAN web node and Solr node, failover windows, restore
                                times (bench/cluster.py, its own cluster; not in the default
                                set: ~10 min, more with `--restore-slot`)

``bench/run`` is ``python -m bench.run`` from the checkout's top folder.

Each benchmark prints its own table first; the summary at the end holds the
ratios and targets. Installs what the benchmarks need (the ``bench`` extra with
ckanext-harvest, Debian's wrk) and uses only the benchmarks' own databases,
Solr cores and ports (see ``bench/benchstack.py``).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import benchstack

BENCHMARKS = ("normalise", "harvest", "load", "search")
ON_REQUEST = ("ai", "council", "cluster")
TINY = {
    "rows": 2000,
    "sizes": "3",
    "modes": "full,peer",
    "repeat": 1,
    "datasets": 12,
    "tables": 4,
    "load_rows": "400",
    "clients": "2",
    "duration": 1,
    "max_requests": 20,
    "warmup": 0,
    "slot": "benchtest",
    "harvest_port": 5020,
    "load_port": 5021,
    "search_port": 5023,
    "search_rounds": 1,
    "papers": 20,
    "extract_files": 10,
    "council_port": 5024,
}


def run_normalise(rows: int) -> tuple[list[str], list[tuple[str, str, str]]]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.normalise", "--rows", str(rows)],
        capture_output=True,
        text=True,
        cwd=benchstack.ROOT,
    )
    if out.returncode:
        raise RuntimeError(f"bench.normalise failed: {out.stderr[-2000:]}")
    lines = out.stdout.rstrip().splitlines()
    summary = []
    for line in lines:  # "<measure>   seconds  rows/s  ratio  peak MB  × file"
        match = re.match(
            r"^(normalise \+ validate.*?)\s{2,}([\d.]+)\s+([\d,]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)",
            line,
        )
        if match:
            summary.append(
                (
                    "normalise",
                    f"{match.group(1)}: ratio to pandas.read_csv; peak × file",
                    f"{match.group(4)}; {match.group(6)}×",
                )
            )
    if not summary:
        summary.append(("normalise", "see its table above", ""))
    return lines, summary


def run_harvest(
    sizes: str, modes: str, slot: str, port: int, workers: int, repeat: int | None
) -> tuple[list[str], list[tuple[str, str, str]], list]:
    from bench import harvest

    rows = harvest.measure(
        [int(s) for s in sizes.split(",")], modes.split(","), slot, port, workers, repeat
    )
    lines = harvest.table(rows)
    by = {(r["n"], r["mode"]): r for r in rows}
    summary = []
    for n in sorted({r["n"] for r in rows}):
        peer = by.get((n, "peer"))
        for mode in ("metadata", "full"):
            ours = by.get((n, mode))
            if ours and peer:
                summary.append(
                    (
                        f"harvest N={n}",
                        f"{harvest.LABELS[mode]} ÷ ckanext-harvest (datasets/s)",
                        f"{peer['full']['seconds'] / ours['full']['seconds']:.2f}×",
                    )
                )
        for mode in ("full", "metadata", "peer"):
            row = by.get((n, mode))
            if row:
                summary.append(
                    (
                        f"harvest N={n}",
                        f"{harvest.LABELS[mode]}: no-change re-run ÷ full run",
                        f"{100 * row['rerun']['seconds'] / row['full']['seconds']:.1f} %",
                    )
                )
    return lines, summary, rows


def run_load(args) -> tuple[list[str], list[tuple[str, str, str]], dict]:
    """The load test once per size of ``--load-rows``, each size in a bench slot of its own
    (loaded once and reused while it stays the same)."""
    from bench import load

    lines, summary, raw = [], [], {}
    for size, rows in enumerate(int(n) for n in str(args.load_rows).split(",")):
        data = load.measure(
            args.datasets,
            args.tables,
            rows,
            [int(c) for c in args.clients.split(",")],
            args.duration,
            args.max_requests,
            args.slot + "_load" + (f"_{rows}" if size else ""),
            args.load_port,
            args.warmup,
        )
        raw[str(rows)] = data
        lines += load.table(data)
        by = {(r["endpoint"], r["clients"], r["ckan"]): r for r in data["results"]}
        for (endpoint, clients, ckan), r in by.items():
            if ckan != "ours":
                continue
            baseline = load.BASELINE.get(endpoint, endpoint)
            core = by.get((baseline, clients, "core"))
            overhead = (
                f"; core {baseline} p50 {core['p50'] / 1000:.0f} ms "
                f"(ours ÷ core {r['p50'] / core['p50']:.2f})"
                if core and core["p50"]
                else ""
            )
            summary.append(
                (
                    f"load {rows:,} c={clients}",
                    f"{endpoint}: p50/p95/p99 ms, errors",
                    f"{r['p50'] / 1000:.0f}/{r['p95'] / 1000:.0f}/{r['p99'] / 1000:.0f}, "
                    f"{r['errors']}{overhead}",
                )
            )
    return lines, summary, raw


def run_ai() -> tuple[list[str], list[tuple[str, str, str]]]:
    with tempfile.TemporaryDirectory() as folder:
        figures = Path(folder) / "ai.json"
        out = subprocess.run(
            [sys.executable, "-m", "bench.ai_eval", "--json", str(figures)],
            capture_output=True,
            text=True,
            cwd=benchstack.ROOT,
        )
        if out.returncode:
            raise RuntimeError(f"bench.ai_eval failed: {out.stdout[-2000:]}{out.stderr[-2000:]}")
        data = json.loads(figures.read_text())
    summary = []
    for transport, result in data["summary"].items():
        for measure in (
            "exact values",
            "citations complete",
            "sentences complete",
            "honest refusals",
        ):
            summary.append((f"ai {transport}", measure, result[measure]))
        worst = max(result["latency"].items(), key=lambda item: item[1]["p95"])
        summary.append((f"ai {transport}", "slowest tool: p95 ms", f"{worst[0]} {worst[1]['p95']}"))
    return out.stdout.rstrip().splitlines(), summary


def run_cluster(args) -> tuple[list[str], list[tuple[str, str, str]], dict]:
    """bench/cluster.py in its own process (it brings up and purges its own cluster)."""
    from bench.cluster import ratios

    with tempfile.TemporaryDirectory() as folder:
        figures = Path(folder) / "cluster.json"
        argv = [sys.executable, "-m", "bench.cluster", "--json", str(figures)]
        if args.restore_slot:
            argv += ["--restore-slot", args.restore_slot]
        out = subprocess.run(argv, stdout=subprocess.PIPE, text=True, cwd=benchstack.ROOT)
        if out.returncode:
            raise RuntimeError(
                f"bench.cluster failed (exit {out.returncode}): {out.stdout[-2000:]}"
            )
        data = json.loads(figures.read_text())
    return out.stdout.rstrip().splitlines(), ratios(data), data


def run_search(args) -> tuple[list[str], list[tuple[str, str, str]], dict]:
    from bench import search
    from bench import search_catalogue as catalogue

    if args.tiny:
        specs, queries, demo = catalogue.tiny(), search.tiny_queries(), False
    else:
        specs, queries, demo = catalogue.generate(), search.read_queries(), True
        search.check_queries(queries, specs + catalogue.DEMO)
    data = search.measure(
        specs, queries, args.search_rounds, args.slot + "_search", args.search_port, demo
    )
    s = data["summary"]
    summary = [
        (
            "search",
            f"recall@10 / MRR@10, {data['queries']} queries: ours; stock CKAN",
            f"{s['ours']['recall']:.3f} / {s['ours']['mrr']:.3f}; "
            f"{s['stock']['recall']:.3f} / {s['stock']['mrr']:.3f}",
        ),
        (
            "search",
            "package_search p50/p95 ms: ours; stock; p50 ours ÷ stock",
            f"{s['ours']['p50']:.0f}/{s['ours']['p95']:.0f}; "
            f"{s['stock']['p50']:.0f}/{s['stock']['p95']:.0f}; "
            f"{s['ours']['p50'] / s['stock']['p50']:.2f}",
        ),
    ]
    return search.table(data), summary, data


def run_council(args) -> tuple[list[str], list[tuple[str, str, str]], dict]:
    from bench import council

    data = council.measure(
        papers=args.papers,
        clients=[int(c) for c in args.clients.split(",")],
        duration=args.duration,
        extract_files=args.extract_files,
        slot_name=args.slot + "_council",
        port=args.council_port,
    )
    full, again, ex = data["harvest"], data["again"], data["extraction"]
    label = f"council N={data['papers']}"
    clients = "/".join(str(x["clients"]) for x in data["latency"])
    latency = "; ".join(f"{x['p50_ms']:.0f}/{x['p95_ms']:.0f}" for x in data["latency"])
    summary = [
        (
            label,
            "harvest: papers/s; objects/s; exit",
            f"{full['papers_per_second']}; {full['objects_per_second']}; {full['exit']}",
        ),
        (
            label,
            "no-change re-run ÷ full run; objects written",
            f"{100 * again['share_of_full']:.2f} %; "
            f"{again['counts'].get('added', 0) + again['counts'].get('updated', 0)}",
        ),
        (label, "peak RSS MB: harvester; CKAN", f"{full['rss_mb']:.0f}; {full['ckan_rss_mb']:.0f}"),
        (
            label,
            "extraction files/s; MB/s; share of the full run",
            f"{ex['files_per_second']}; {ex['mb_per_second']}; "
            f"{100 * ex.get('share_of_full', 0):.0f} %",
        ),
        (label, f"recall@10, {data['judged_queries']} queries", str(data["recall_at_10"])),
        (label, f"search p50/p95 ms at {clients} clients", latency),
    ]
    return council.report(data), summary, data


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="bench/run",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help="comma-separated: normalise,harvest,load,search (default), ai, council, cluster",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="toy sizes, own databases and ports (for the tests)"
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="normalise: rows of the synthetic file"
    )
    parser.add_argument("--sizes", default="100,1000", help="harvest: numbers of datasets")
    parser.add_argument(
        "--modes", default="full,metadata,peer", help="harvest: full, metadata, peer"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=3,
        help="harvest: our harvester's --workers "
        "(default %(default)s: all of the benchmark CKAN's web workers)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        help="harvest: rounds per size, the median kept (default 3 up to N = 100, else 1)",
    )
    parser.add_argument(
        "--restore-slot", help="cluster: also restore this bench slot's catalogue (bench_load)"
    )
    parser.add_argument("--datasets", type=int, default=10_000, help="load: datasets")
    parser.add_argument(
        "--tables", type=int, default=200, help="load: datasets with a DataStore table"
    )
    parser.add_argument(
        "--load-rows",
        default="1000000,10000000",
        help="load: normalised rows in all tables, comma-separated sizes (one catalogue each)",
    )
    parser.add_argument("--clients", default="1,8,32", help="load, council: concurrent clients")
    parser.add_argument(
        "--duration",
        type=float,
        default=10,
        help="load: seconds per endpoint, clients and CKAN; council: per number of clients",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=5000,
        help="load: requests per endpoint, clients and CKAN",
    )
    parser.add_argument(
        "--search-rounds", type=int, default=3, help="search: times each query is asked"
    )
    parser.add_argument(
        "--papers", type=int, default=10_000, help="council: papers of the generated system"
    )
    parser.add_argument(
        "--extract-files", type=int, default=1000, help="council: files extracted alone"
    )
    parser.add_argument("--warmup", type=float, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--slot", default="bench", help=argparse.SUPPRESS)
    parser.add_argument("--harvest-port", type=int, default=5010, help=argparse.SUPPRESS)
    parser.add_argument("--load-port", type=int, default=5011, help=argparse.SUPPRESS)
    parser.add_argument("--search-port", type=int, default=5013, help=argparse.SUPPRESS)
    parser.add_argument("--council-port", type=int, default=5014, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="write every measurement here")
    args = parser.parse_args()
    if args.tiny:
        for key, value in TINY.items():
            setattr(args, key, value)
    only = [b for b in args.only.split(",") if b]
    if set(only) - set(BENCHMARKS + ON_REQUEST):
        parser.error(f"--only takes {', '.join(BENCHMARKS + ON_REQUEST)}")

    started = time.perf_counter()
    if {"harvest", "load", "search", "council"} & set(only):
        benchstack.prepare_machine()
    summary: list[tuple[str, str, str]] = []
    raw: dict = {}
    for name in only:
        print(f"\n## {name}", flush=True)
        began = time.perf_counter()
        if name == "normalise":
            lines, rows = run_normalise(args.rows)
        elif name == "ai":
            lines, rows = run_ai()
        elif name == "harvest":
            lines, rows, raw["harvest"] = run_harvest(
                args.sizes, args.modes, args.slot, args.harvest_port, args.workers, args.repeat
            )
        elif name == "load":
            lines, rows, raw["load"] = run_load(args)
        elif name == "council":
            lines, rows, raw["council"] = run_council(args)
        elif name == "cluster":
            lines, rows, raw["cluster"] = run_cluster(args)
        else:
            lines, rows, raw["search"] = run_search(args)
        print("\n".join(lines), flush=True)
        print(f"({name}: {time.perf_counter() - began:.0f} s)", flush=True)
        summary += rows
    width = max([len(m) for _, m, _ in summary] + [10])
    print(f"\n## summary ({time.perf_counter() - started:.0f} s)")
    print(f"{'benchmark':<16}{'measure':<{width + 2}}result")
    for bench, measure, value in summary:
        print(f"{bench:<16}{measure:<{width + 2}}{value}")
    print(
        "targets: normalise ratio ≥ 0.25, peak < 2 × file; harvest ours ≥ 2 × ckanext-harvest, "
        "re-run ≤ 5 % of a full run; search ours recall@10 ≥ 0.95, MRR ≥ 0.85, "
        "p50 ≤ 1.3 × stock" + ("; council: re-run ≤ 5 % of a full run" * ("council" in only))
    )
    if "ai" in only:
        from bench.ai_eval import TARGETS

        print(f"ai {TARGETS}")
    if args.json:
        args.json.write_text(json.dumps(raw, indent=1, default=str))


if __name__ == "__main__":
    main()
