"""Search quality and speed: our German configset against CKAN's stock schema, in the same run.

    .venv/bin/python -m bench.search [--rounds 3] [--json FILE]
    .venv/bin/python -m bench.search --write-queries    # fill in the query set's relevant names

The catalogue (:mod:`bench.search_catalogue`: 2,049 synthetic datasets of the four cities, 1,037
of them with a normalised DataStore table, plus the demo data harvested from ``demo/payloads``)
is loaded once into the benchmark's own CKAN (slot ``bench_search``) the way ``bench/load.py``
loads: one seed dataset of each kind per city through the Action API, cloned in SQL with each
dataset's own name, title, description and tags, each table's rows generated in SQL.

It is indexed twice, by CKAN's own indexer (``ckan search-index rebuild``), so the extension's
index hooks run for both:

- *ours*: core ``ckan_bench_search`` with the portal's configset (``scripts/solr/``), CKAN
  with ``ckanext.vierstaedte.search.german = true``;
- *stock*: core ``ckan_bench_search_stock`` with CKAN 2.12's own ``schema.xml`` and the
  portal's ``solrconfig.xml`` (``scripts/solr/configset.py --stock``; its spellcheck
  component only answers requests that ask for it, which stock ``package_search`` never
  does), CKAN with ``ckanext.vierstaedte.search.german = false`` (stock indexing and query).

Both cores' configsets are written afresh on each run (``bench/stack.sh solr-conf``).

Both CKANs (gunicorn, 3 workers) run on the same databases; every query of
``bench/search_queries.yaml`` goes to ``package_search`` (``rows=10``) of one, then the other,
``--rounds`` times. Printed: recall@10 (relevant found in the first 10 ÷ min(10, relevant))
and MRR@10 (1 ÷ rank of the first relevant hit, 0 if none in the first 10) for both, per query
class too, package_search p50/p95 for both and ours ÷ stock, and the queries ours misses.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests
import yaml

from bench import benchstack, load
from bench import search_catalogue as catalogue
from vierstaedte_contract import cities, vocabularies
from vierstaedte_contract.dataset import NORMALISED, resource_with_role

OURS = 5013
QUERIES = Path(__file__).with_name("search_queries.yaml")
GERMAN = "ckanext.vierstaedte.search.german"
GENERATOR = "1"  # bump when the loading changes


def _q(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _array(values) -> str:
    return "ARRAY[" + ",".join(_q(v) for v in values) + "]::text[]"


def _uuid(text: str) -> str:
    """PostgreSQL's ``md5(text)::uuid::text``."""
    h = hashlib.md5(text.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# --- loading -----------------------------------------------------------------------------------


def _harvest_demo(slot: benchstack.Slot, port: int) -> None:
    """The demo data as ``scripts/stack up`` harvests it (the replay server on :8765)."""
    replay = None
    try:
        requests.get("http://127.0.0.1:8765/files/koblenz-manifest.yaml", timeout=3)
    except requests.RequestException:
        replay = subprocess.Popen(
            [
                sys.executable,
                str(benchstack.ROOT / "demo" / "replay.py"),
                str(benchstack.ROOT / "demo" / "payloads"),
                "--port",
                "8765",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(2)
    try:
        for city in catalogue.CITIES:
            token = slot.secrets / f"harvester-{city}"
            slot.ckan("vierstaedte", "ensure-harvester", city, "--token-file", str(token))
            result = subprocess.run(
                [
                    str(benchstack.VENV / "vierstaedte-harvest"),
                    "run",
                    city,
                    "--config",
                    str(benchstack.ROOT / "demo" / "configs" / f"{city}.yaml"),
                    "--ckan-url",
                    f"http://127.0.0.1:{port}",
                    "--state-dir",
                    str(slot.dir / "harvest"),
                    "--no-progress",
                ],
                env=dict(slot.env(port), VIERSTAEDTE_API_TOKEN_FILE=str(token)),
                capture_output=True,
                text=True,
            )
            if result.returncode:
                raise RuntimeError(f"demo harvest of {city} failed: {result.stderr[-2000:]}")
    finally:
        if replay:
            replay.terminate()
            replay.wait()


def _clone_sql(specs, seeds: dict, pcols, mcols, rcols) -> str:
    """Each spec as a copy of its city's seed of its kind, with its own name, title, notes, tags."""
    rows = []
    for n, s in enumerate(specs):
        seed = seeds[(s.city, s.kind)]["id"]
        extras = {"spatial_granularity": s.granularity, "source_identifier": f"bench:{s.name}"}
        if s.years:
            extras.update(
                temporal_start=f"{min(s.years)}-01-01", temporal_end=f"{max(s.years)}-12-31"
            )
        rows.append(
            f"({n}, {_q(seed)}, {_q(s.name)}, {_q(s.title)}, {_q(s.notes)}, "
            f"{_q(json.dumps(extras, ensure_ascii=False))}::jsonb)"
        )
    special = {
        "id": "md5(s.id || v.n)::uuid::text",
        "name": "v.name",
        "title": "v.title",
        "notes": "v.notes",
        "extras": "coalesce(s.extras, '{}'::jsonb) || v.extras",
    }
    pexprs = ", ".join(special.get(c, f"s.{c}") for c in pcols)
    mexprs = ", ".join(
        {
            "id": "md5(s.id || v.n)::uuid::text",
            "table_id": "md5(s.table_id || v.n)::uuid::text",
        }.get(c, f"s.{c}")
        for c in mcols
    )
    rexprs = ", ".join(
        {
            "id": "md5(s.id || v.n)::uuid::text",
            "package_id": "md5(s.package_id || v.n)::uuid::text",
        }.get(c, f"s.{c}")
        for c in rcols
    )
    tags = sorted({t for s in specs for t in s.tags})
    tag_rows = [f"({_q(_uuid('tag:' + t))}, {_q(t)})" for t in tags]
    links = [
        f"({_q(_uuid(s.name + ':' + t))}, md5({_q(seeds[(s.city, s.kind)]['id'])} || {n})::uuid::text,"
        f" {_q(t)})"
        for n, s in enumerate(specs)
        for t in s.tags
    ]
    return f"""BEGIN;
CREATE TEMP TABLE spec (n int, seed text, name text, title text, notes text, extras jsonb);
INSERT INTO spec VALUES {",".join(rows)};
INSERT INTO package ({", ".join(pcols)}) SELECT {pexprs} FROM package s JOIN spec v ON s.id = v.seed;
INSERT INTO member ({", ".join(mcols)}) SELECT {mexprs} FROM member s JOIN spec v ON s.table_id = v.seed;
INSERT INTO resource ({", ".join(rcols)}) SELECT {rexprs} FROM resource s JOIN spec v
  ON s.package_id = v.seed;
INSERT INTO tag (id, name) SELECT v.id, v.name FROM (VALUES {",".join(tag_rows)}) v(id, name)
  WHERE NOT EXISTS (SELECT 1 FROM tag t WHERE t.name = v.name AND t.vocabulary_id IS NULL);
INSERT INTO package_tag (id, package_id, tag_id, state)
  SELECT l.id, l.package_id, t.id, 'active' FROM (VALUES {",".join(links)}) l(id, package_id, name)
  JOIN tag t ON t.name = l.name AND t.vocabulary_id IS NULL;
UPDATE package SET state = 'deleted' WHERE name LIKE 'bench-%-seed';
COMMIT;
"""


def _rows_sql(table: str, seed_table: str, spec) -> str:
    """The spec's normalised table: its blocks × areas × periods, in the common schema."""
    member = cities.get(spec.city)
    levels, codes, names = zip(*spec.rows_areas, strict=True)
    out = [f'CREATE TABLE "{table}" (LIKE "{seed_table}" INCLUDING ALL);']
    known = vocabularies.indicators()
    for block in spec.blocks:
        sexes, ages, nats = zip(*block["cuts"], strict=True)
        dims, vals = zip(*block["dims"], strict=True)
        units = [known[i]["unit"] for i in block["indicators"]]
        out.append(f"""INSERT INTO "{table}" (city, ags, area_level, area_code, area_name, indicator,
  sex, age_group, nationality, dimension, dimension_value, period, value, value_status, unit,
  source_dataset, source_column)
SELECT {_q(spec.city)}, {_q(member.ags)}, a.l, NULLIF(a.c, ''), a.n, i.i, b.s, b.a, b.x, d.d, d.v,
  p.p, (hashtext(a.n || i.i || b.s || b.a || b.x || d.v || p.p) & 65535), 'reported', i.u,
  {_q(spec.name)}, 'Wert'
FROM unnest({_array(levels)}, {_array(codes)}, {_array(names)}) a(l, c, n),
  unnest({_array(block["indicators"])}, {_array(units)}) i(i, u),
  unnest({_array(sexes)}, {_array(ages)}, {_array(nats)}) b(s, a, x),
  unnest({_array(dims)}, {_array(vals)}) d(d, v),
  unnest({_array(spec.periods)}) p(p);""")
    return "\n".join(out)


def load_catalogue(slot: benchstack.Slot, specs, port: int, demo: bool) -> dict:
    """Fill the slot (unless it holds exactly this catalogue already); returns what it holds."""
    stamp = slot.dir / "data.stamp"
    want = json.dumps(
        {
            "catalogue": catalogue.digest(specs),
            "demo": demo,
            "generator": GENERATOR,
            "template": slot._stamp(),
        }
    )
    if stamp.exists() and stamp.read_text() == want and slot._exists(slot.db):
        return json.loads(want)
    started = time.perf_counter()
    stamp.unlink(missing_ok=True)
    slot.reset()
    slot.start(port)
    if demo:
        _harvest_demo(slot, port)
    api = load.Api(port, slot.admin_token.read_text().strip())
    kinds = {"table": "tabelle", "doc": "dokumente"}
    seeds = {(c, k): load._seed(api, c, kinds[k]) for c in catalogue.CITIES for k in kinds}
    slot.stop(port)
    pcols, mcols, rcols = (load._columns(slot.db, t) for t in ("package", "member", "resource"))
    benchstack.sh("sql", slot.db, stdin=_clone_sql(specs, seeds, pcols, mcols, rcols))
    statements = ["SET ROLE ckan_default;", "BEGIN;"]
    for n, spec in enumerate(specs):
        if spec.kind != "table":
            continue
        seed_resource = resource_with_role(seeds[(spec.city, "table")], NORMALISED)["id"]
        statements.append(_rows_sql(_uuid(seed_resource + str(n)), seed_resource, spec))
    statements += ["COMMIT;", "ANALYZE;"]
    benchstack.sh("sql", slot.datastore, stdin="\n".join(statements))
    stamp.write_text(want)
    print(
        f"  search: {len(specs):,} datasets loaded in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    return json.loads(want)


# --- the two configurations --------------------------------------------------------------------


def _configure(slot: benchstack.Slot, port: int) -> dict[str, dict]:
    """Ours and stock: a slot each (same databases, own Solr core), config file and port.

    Each core's configset is written afresh, so ours is always the generator's current one.
    """
    configs = {}
    for label, german, offset in (("ours", "true", 0), ("stock", "false", 1)):
        view = benchstack.Slot(slot.name, slot.plugins)
        if label == "stock":
            view.core = slot.core + "_stock"
        benchstack.sh("solr-conf", view.core, *(["stock"] if label == "stock" else []))
        ini = view.write_config(slot.dir / f"{label}.ini", port + offset)
        view.ckan("config-tool", str(ini), f"{GERMAN}={german}", ini=ini)
        configs[label] = {"slot": view, "core": view.core, "ini": ini, "port": port + offset}
    return configs


def _conf_digest(core: str) -> str:
    conf = benchstack.STACK / "solr-home" / core / "conf"
    parts = [p.read_bytes() for p in sorted(conf.iterdir()) if p.is_file()]
    code = benchstack.ROOT / "ckanext-vierstaedte" / "ckanext" / "vierstaedte" / "search"
    parts += [p.read_bytes() for p in sorted(code.rglob("*.py"))]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def index(configs: dict, loaded: dict, expect: int) -> dict[str, float]:
    """Both cores rebuilt by CKAN's indexer at once (unless data, configset and code are as before)."""
    seconds, running = {}, {}
    for label, c in configs.items():
        view = c["slot"]
        stamp = view.dir / f"index-{label}.stamp"
        want = json.dumps([loaded, _conf_digest(c["core"])])
        if stamp.exists() and stamp.read_text() == want:
            continue
        stamp.unlink(missing_ok=True)
        view.clear_index()
        process = subprocess.Popen(
            [benchstack.CKAN, "-c", str(c["ini"]), "search-index", "rebuild", "-q"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=view.env(c["port"]),
        )
        running[label] = (process, time.perf_counter(), stamp, want)
    for label, (process, started, stamp, want) in running.items():
        _out, err = process.communicate()
        if process.returncode:
            raise RuntimeError(f"search-index rebuild ({label}) failed: {err[-2000:]}")
        seconds[label] = time.perf_counter() - started
        stamp.write_text(want)
    for c in configs.values():
        c["slot"].settle_search(expect, timeout=120)
    return seconds


# --- querying and scoring ----------------------------------------------------------------------


def score(ranking: list[str], relevant: list[str]) -> tuple[float, float]:
    """(recall@10, reciprocal rank@10) of one answer."""
    want = set(relevant)
    top = ranking[:10]
    recall = len(want & set(top)) / min(10, len(want))
    rank = next((i for i, name in enumerate(top, 1) if name in want), None)
    return recall, (1 / rank if rank else 0.0)


def ask(session: requests.Session, port: int, q: str) -> tuple[list[str], float]:
    started = time.perf_counter()
    answer = session.get(
        f"http://127.0.0.1:{port}/api/3/action/package_search",
        params={"q": q, "rows": 10},
        timeout=60,
    )
    elapsed = time.perf_counter() - started
    answer.raise_for_status()
    return [d["name"] for d in answer.json()["result"]["results"]], elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def run_queries(configs: dict, queries: list[dict], rounds: int) -> dict:
    sessions = {label: requests.Session() for label in configs}
    for q in queries:  # warm-up: templates, caches, connections — the same for both
        for label, c in configs.items():
            ask(sessions[label], c["port"], q["query"])
    results = {label: {"latency": [], "queries": []} for label in configs}
    for r in range(rounds):
        for n, q in enumerate(queries):
            order = list(configs) if (n + r) % 2 == 0 else list(configs)[::-1]
            for label in order:
                names, seconds = ask(sessions[label], configs[label]["port"], q["query"])
                results[label]["latency"].append(seconds)
                if r == 0:
                    recall, rr = score(names, q["relevant"])
                    results[label]["queries"].append(
                        {
                            "query": q["query"],
                            "class": q["class"],
                            "recall": recall,
                            "rr": rr,
                            "top": names,
                            "relevant": len(q["relevant"]),
                        }
                    )
    return results


def summary(results: dict) -> dict:
    out = {}
    for label, data in results.items():
        qs = data["queries"]
        classes = sorted({q["class"] for q in qs})
        out[label] = {
            "recall": statistics.mean(q["recall"] for q in qs),
            "mrr": statistics.mean(q["rr"] for q in qs),
            "classes": {
                c: (
                    statistics.mean(q["recall"] for q in qs if q["class"] == c),
                    statistics.mean(q["rr"] for q in qs if q["class"] == c),
                    sum(q["class"] == c for q in qs),
                )
                for c in classes
            },
            "p50": percentile(data["latency"], 50) * 1000,
            "p95": percentile(data["latency"], 95) * 1000,
        }
    return out


def table(data: dict) -> list[str]:
    s = data["summary"]
    lines = [
        f"search: {data['datasets']:,} datasets, {data['queries']} queries, "
        f"{data['rounds']} rounds; ours = German configset, stock = CKAN's schema.xml"
    ]
    lines.append(
        f"{'class':<12}{'queries':>8}{'recall@10 ours':>16}{'stock':>8}{'MRR ours':>10}{'stock':>8}"
    )
    for c, (recall, mrr, n) in s["ours"]["classes"].items():
        sr, sm, _ = s["stock"]["classes"][c]
        lines.append(f"{c:<12}{n:>8}{recall:>16.3f}{sr:>8.3f}{mrr:>10.3f}{sm:>8.3f}")
    lines.append(
        f"{'all':<12}{data['queries']:>8}{s['ours']['recall']:>16.3f}"
        f"{s['stock']['recall']:>8.3f}{s['ours']['mrr']:>10.3f}{s['stock']['mrr']:>8.3f}"
    )
    lines.append(
        f"package_search p50/p95 ms: ours {s['ours']['p50']:.1f}/{s['ours']['p95']:.1f}, "
        f"stock {s['stock']['p50']:.1f}/{s['stock']['p95']:.1f}; p50 ours ÷ stock "
        f"{s['ours']['p50'] / s['stock']['p50']:.2f}"
    )
    misses = [q for q in data["results"]["ours"]["queries"] if q["recall"] < 1 or q["rr"] < 1]
    lines.append(f"ours misses ({len(misses)}: recall@10 < 1 or first hit not at rank 1):")
    for q in misses:
        lines.append(
            f"  [{q['class']}] {q['query']!r}: recall {q['recall']:.2f}, RR {q['rr']:.2f}"
            f" ({q['relevant']} relevant); top: {', '.join(q['top'][:3]) or '-'}"
        )
    return lines


def tiny_queries() -> list[dict]:
    """The tests' queries over :func:`catalogue.tiny`, relevant names by rule as in the set."""
    specs = catalogue.tiny()
    rules = [
        ("Mietspiegel", "everyday", {"topic": "rent"}),
        ("Gonsenheim", "district", {"city": "mainz", "area": "Gonsenheim"}),
        ("Mietspiegel 2018", "year", {"city": "mainz"}),
    ]
    return [
        {"query": q, "class": c, "rule": r, "relevant": catalogue.relevant(r, specs)}
        for q, c, r in rules
    ]


def read_queries(path: Path = QUERIES) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]


def check_queries(queries: list[dict], specs) -> None:
    """The committed names are still what the rules give for this catalogue."""
    for q in queries:
        if catalogue.relevant(q["rule"], specs) != sorted(q["relevant"]):
            raise SystemExit(
                f"{QUERIES.name}: {q['query']!r} lists other datasets than its rule "
                "gives; run python -m bench.search --write-queries"
            )
        if not q["relevant"]:
            raise SystemExit(f"{QUERIES.name}: {q['query']!r} has no relevant dataset")


def write_queries(path: Path = QUERIES) -> None:
    specs = catalogue.generate() + catalogue.DEMO
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for q in document["queries"]:
        q["relevant"] = catalogue.relevant(q["rule"], specs)
    document["catalogue"] = {
        "seed": catalogue.SEED,
        "datasets": len(specs),
        "digest": catalogue.digest(specs),
    }
    header = "".join(
        line for line in path.read_text(encoding="utf-8").splitlines(True) if line.startswith("#")
    )
    body = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(header.split("\ncatalogue:")[0] + body, encoding="utf-8")


def measure(
    specs,
    queries: list[dict],
    rounds: int = 3,
    slot_name: str = "bench_search",
    port: int = OURS,
    demo: bool = True,
) -> dict:
    slot = benchstack.Slot(slot_name, benchstack.SITE_PLUGINS)
    slot.prepare(port)
    expect = len(specs) + (len(catalogue.DEMO) if demo else 0)
    configs: dict = {}
    try:
        loaded = load_catalogue(slot, specs, port, demo)
        configs = _configure(slot, port)
        seconds = index(configs, loaded, expect)
        for c in configs.values():
            c["slot"].start(c["port"], ini=c["ini"])
        results = run_queries(configs, queries, rounds)
    finally:
        for c in configs.values():
            c["slot"].stop_all()
        slot.stop_all()
    return {
        "datasets": expect,
        "queries": len(queries),
        "rounds": rounds,
        "index_seconds": seconds,
        "results": results,
        "summary": summary(results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.search", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rounds", type=int, default=3, help="times each query is asked")
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument(
        "--write-queries",
        action="store_true",
        help="fill in each query's relevant datasets from its rule, then stop",
    )
    parser.add_argument("--port", type=int, default=OURS, help="ours; stock on the next port")
    parser.add_argument("--slot", default="bench_search", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.write_queries:
        write_queries(args.queries)
        return
    specs = catalogue.generate()
    queries = read_queries(args.queries)
    check_queries(queries, specs + catalogue.DEMO)
    data = measure(specs, queries, args.rounds, args.slot, args.port)
    if args.json:
        args.json.write_text(benchstack.dump(data))
    print("\n".join(table(data)))


if __name__ == "__main__":
    main()
