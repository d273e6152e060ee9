"""Benchmark: our harvester against ckanext-harvest's CKAN harvester, same source, same CKAN, one run.

    .venv/bin/python -m bench.harvest [--sizes 100,1000] [--modes full,metadata,peer] [--workers 3]
                                      [--repeat R]

For each N a synthetic city CKAN (``bench/source.py``: N datasets of Mainz
population tables, each with a CSV and a linked PDF) is served on loopback,
and each harvester publishes all N datasets into the benchmark's own CKAN
(``bench/benchstack.py``: databases ``ckan_bench``/``datastore_bench``, Solr
core ``ckan_bench``, gunicorn on 127.0.0.1:5010 with 3 workers × 1 thread like
the portal, plugins as the portal's plus ckanext-harvest). Every run starts
from the same empty CKAN (a template database), then runs again with nothing
changed at the source. Ours runs with ``--workers 3`` (``--workers`` to
change): the benchmark's CKAN serves nobody else, so the harvester may keep
all 3 of its web workers busy, as a city's night-time cron run may. The modes:

* ``full``: ``vierstaedte-harvest run`` as cities run it: metadata mapped to
  our schema, the CSV downloaded, normalised, validated, uploaded as original
  + normalised CSV + Data Package, and loaded into the DataStore; the PDF linked.
* ``metadata``: the same command with a config without table rules: metadata
  mapped, both files linked — what ckanext-harvest's CKAN harvester does.
* ``peer``: ckanext-harvest 1.6.3's ``CKANHarvester`` (gather, fetch and
  import stages in-process without queues, ``bench/peer_harvest.py``): copies
  each remote package dict (resources as links) with ``package_create``
  directly in CKAN's Python process; no files, no DataStore.

Memory: the harvester process's peak RSS (``wait4``) and, for ours, the peak
RSS of the CKAN web server it talks to (master + workers, sampled every
0.1 s). ckanext-harvest runs inside CKAN: its process *is* the CKAN.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import vierstaedte_harvest
from bench import benchstack
from bench.source import SourceServer

# a mapping the harvester ships: the benchmark's tables are Mainz population exports
MAPPING = (
    Path(vierstaedte_harvest.__file__).parent / "mappings" / "mainz-einwohner-ortsbezirke.yaml"
)
WRITES = {
    "full": "metadata + original & normalised CSV + Data Package + DataStore table; PDF linked",
    "metadata": "metadata; CSV and PDF linked (no download)",
    "peer": "remote package dict copied; CSV and PDF linked (no download)",
}
LABELS = {"full": "ours, full", "metadata": "ours, metadata-only", "peer": "ckanext-harvest 1.6.3"}


def harvester_config(folder: Path, url: str, tables: bool) -> Path:
    lines = [
        "city: mainz",
        f"source: {{protocol: ckan, url: '{url}', organization: stadt_mainz}}",
        "http: {allow_private_addresses: true, timeout: 30, retries: 1, backoff: 0.2}",
        "defaults: {themes: [REGI], license: 'http://dcat-ap.de/def/licenses/dl-by-de/2.0', "
        "spatial_granularity: stadt, frequency: ANNUAL}",
    ]
    if tables:
        lines += [
            "tables:",
            "- match: {title: 'Einwohner|Bevölkerung|bevölkerung|Melderegister', format: CSV}",
            f"  mapping: '{MAPPING}'",
            "  spatial_granularity: ortsbezirk",
        ]
    path = folder / ("mainz-full.yaml" if tables else "mainz-metadata.yaml")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def counts(slot: benchstack.Slot) -> dict[str, int]:
    """What ended up in CKAN: active datasets, resources, DataStore tables (straight from PostgreSQL)."""
    sql = (
        "SELECT (SELECT count(*) FROM package WHERE type = 'dataset' AND state = 'active'),"
        " (SELECT count(*) FROM resource r JOIN package p ON p.id = r.package_id"
        "  WHERE p.type = 'dataset' AND r.state = 'active')"
    )
    datasets, resources = benchstack.sh("sql", slot.db, stdin=sql).strip().split("|")
    tables = benchstack.sh(
        "sql",
        slot.datastore,
        stdin="SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename ~ '^[0-9a-f-]{36}$'",
    ).strip()
    return {"datasets": int(datasets), "resources": int(resources), "datastore_tables": int(tables)}


def settle(slot: benchstack.Slot) -> None:
    """Before a re-run: search shows every dataset the full run published (Slot.settle_search)."""
    waited = slot.settle_search(counts(slot)["datasets"])
    print(f"  (search settled after {waited:.1f} s)", file=sys.stderr, flush=True)


def run_ours(
    slot: benchstack.Slot, port: int, config: Path, work: Path, workers: int
) -> tuple[dict, dict]:
    server = slot.start(port)
    state = work / "state"
    shutil.rmtree(state, ignore_errors=True)
    env = dict(os.environ, VIERSTAEDTE_API_TOKEN_FILE=str(slot.secrets / "harvester-mainz"))
    command = [
        str(benchstack.VENV / "vierstaedte-harvest"),
        "run",
        "mainz",
        "--config",
        str(config),
        "--ckan-url",
        f"http://127.0.0.1:{port}",
        "--state-dir",
        str(state),
        "--no-progress",
        "--workers",
        str(workers),
    ]
    results = []
    for _ in range(2):  # full run, then no-change re-run
        if results:
            settle(slot)
        result = benchstack.run_measured(
            command, env=env, ckan_pid=server.pid, log=work / "harvest.log"
        )
        report = json.loads((state / "reports" / "mainz" / "latest.json").read_text())
        result["outcome"] = {k: v for k, v in report["counts"].items() if v}
        result["writes"] = report.get("dataset_writes", 0)
        results.append(result)
    slot.stop(port)
    return results[0], results[1]


def run_peer(slot: benchstack.Slot, url: str, work: Path) -> tuple[dict, dict]:
    command = [sys.executable, "-m", "bench.peer_harvest", str(slot.ini), url]
    results = []
    for _ in range(2):
        if results:
            settle(slot)
        out = work / "peer.out"
        out.unlink(missing_ok=True)
        result = benchstack.run_measured(command, log=out)
        lines = [line for line in out.read_text().splitlines() if line.startswith('{"objects"')]
        summary = json.loads(lines[-1]) if lines else {"outcomes": {"failed": 1}}
        result["outcome"] = summary["outcomes"]
        result["ckan_rss_mb"] = result["rss_mb"]  # the harvester runs inside CKAN
        results.append(result)
    return results[0], results[1]


def measure(
    sizes: list[int],
    modes: list[str],
    slot_name: str = "bench",
    port: int = 5010,
    workers: int = 3,
    repeat: int | None = None,
) -> list[dict]:
    """Each harvester on each size; ``repeat`` rounds (default 3 up to N = 100, else 1), the median kept.

    Rounds interleave the harvesters (full, metadata, peer, full, …), so a slow spell of the
    machine hits all of them alike (docs/performance.md: how much short runs vary).
    """
    slot = benchstack.Slot(slot_name, benchstack.HARVEST_PLUGINS)
    slot.prepare(port)
    rows = []
    work = Path(tempfile.mkdtemp(prefix="vierstaedte-bench-harvest-"))
    try:
        for size in sizes:
            source = SourceServer(size).start()
            runs: dict[str, list[dict]] = {mode: [] for mode in modes}
            try:
                for _ in range(repeat or (3 if size <= 100 else 1)):
                    for mode in modes:
                        slot.reset()
                        if mode == "peer":
                            full, rerun = run_peer(slot, source.base, work)
                        else:
                            full, rerun = run_ours(
                                slot,
                                port,
                                harvester_config(work, source.base, mode == "full"),
                                work,
                                workers,
                            )
                        runs[mode].append(
                            {
                                "n": size,
                                "mode": mode,
                                "full": full,
                                "rerun": rerun,
                                "in_ckan": counts(slot),
                            }
                        )
                        print(
                            f"  harvest N={size} {LABELS[mode]}: {full['seconds']:.1f} s, "
                            f"re-run {rerun['seconds']:.2f} s",
                            file=sys.stderr,
                            flush=True,
                        )
            finally:
                source.stop()
            for mode in modes:
                ordered = sorted(runs[mode], key=lambda row: row["full"]["seconds"])
                median = dict(
                    ordered[len(ordered) // 2], runs=[row["full"]["seconds"] for row in ordered]
                )
                rows.append(median)
    finally:
        slot.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    return rows


def table(rows: list[dict]) -> list[str]:
    out = [
        f"{'N':>6}  {'harvester':<22}{'full s':>8}{'ds/s':>8}{'re-run s':>10}{'re-run %':>10}"
        f"{'harv. MB':>10}{'CKAN MB':>9}  in CKAN (datasets/resources/DataStore tables)"
    ]
    for row in rows:
        full, rerun, n = row["full"], row["rerun"], row["n"]
        ok = (
            ""
            if full["exit"] == 0 and rerun["exit"] == 0
            else "  EXIT " + f"{full['exit']}/{rerun['exit']}"
        )
        c = row["in_ckan"]
        out.append(
            f"{n:>6}  {LABELS[row['mode']]:<22}{full['seconds']:>8.1f}{n / full['seconds']:>8.1f}"
            f"{rerun['seconds']:>10.2f}{100 * rerun['seconds'] / full['seconds']:>9.1f}%"
            f"{full['rss_mb']:>10.0f}{full['ckan_rss_mb']:>9.0f}  {c['datasets']}/{c['resources']}/"
            f"{c['datastore_tables']}{ok}"
            + (
                f"  (median of {len(row['runs'])}: {min(row['runs']):.1f}–{max(row['runs']):.1f} s)"
                if len(row.get("runs", [])) > 1
                else ""
            )
        )
    by = {(r["n"], r["mode"]): r for r in rows}
    for n in sorted({r["n"] for r in rows}):
        peer = by.get((n, "peer"))
        for mode in ("metadata", "full"):
            ours = by.get((n, mode))
            if peer and ours:
                ratio = (n / ours["full"]["seconds"]) / (n / peer["full"]["seconds"])
                out.append(f"N={n}: {LABELS[mode]} / ckanext-harvest datasets/s = {ratio:.2f}×")
    sizes = sorted({r["n"] for r in rows})
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        for mode in ("full", "metadata", "peer"):
            a, b = by.get((small, mode)), by.get((large, mode))
            if a and b:
                out.append(
                    f"{LABELS[mode]}: N {small}→{large} (×{large / small:.0f}): time ×"
                    f"{b['full']['seconds'] / a['full']['seconds']:.1f}, harvester RSS "
                    f"{a['full']['rss_mb']:.0f}→{b['full']['rss_mb']:.0f} MB, CKAN RSS "
                    f"{a['full']['ckan_rss_mb']:.0f}→{b['full']['ckan_rss_mb']:.0f} MB"
                )
    out.append(
        "targets: ours ≥ 2× ckanext-harvest's datasets/s; no-change re-run ≤ 5 % of a full run"
    )
    for mode in ("full", "metadata", "peer"):
        if any(r["mode"] == mode for r in rows):
            out.append(f"  {LABELS[mode]}: {WRITES[mode]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.harvest", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--sizes", default="100,1000", help="numbers of datasets, comma-separated")
    parser.add_argument("--modes", default="full,metadata,peer")
    parser.add_argument("--slot", default="bench", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=5010)
    parser.add_argument(
        "--workers",
        type=int,
        default=3,
        help="our harvester's --workers (default %(default)s: the benchmark's CKAN has 3 web workers and "
        "serves nobody else; on the shared portal the harvester's default, 2, leaves one for the public)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        help="rounds per size, the median kept (default 3 up to N = 100, else 1)",
    )
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    if set(modes) - set(WRITES):
        parser.error(f"modes are {', '.join(WRITES)}")
    started = time.perf_counter()
    rows = measure(
        [int(s) for s in args.sizes.split(",")],
        modes,
        args.slot,
        args.port,
        args.workers,
        args.repeat,
    )
    if args.json:
        args.json.write_text(benchstack.dump(rows))
    print("\n".join(table(rows)))
    print(f"(benchmark wall time {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
