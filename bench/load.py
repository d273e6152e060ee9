"""Load test: the portal's read endpoints under 1, 8 and 32 concurrent clients, with our plugin and without.

    .venv/bin/python -m bench.load [--datasets 10000 --rows 1000000] [--duration 10]
                                   [--max-requests 5000]

Loads (once; reused while the sizes stay the same) the benchmark's own CKAN
(slot ``bench_load``: databases ``ckan_bench_load``/``datastore_bench_load``,
Solr core ``ckan_bench_load``) with ``--datasets`` datasets of the four cities,
``--tables`` of which carry a normalised table in the DataStore (``--rows`` rows
in all, in the common schema), the rest metadata and links — like a city
portal, where most datasets are not statistics tables. Loading is bulk: one
seed dataset of each kind per city through the Action API (so CKAN, our schema
and the DataStore write them), cloned in SQL, the rows generated in SQL, then
``ckan search-index rebuild``.

Two CKAN processes run on the same databases, both gunicorn with 2 workers ×
4 threads like the portal: ours (the portal's plugins, 127.0.0.1:5011) and core
(127.0.0.1:5012: CKAN with dcat, datastore, datatables_view and activity — the
portal's plugins without ``vierstaedte`` and without the scheming schema, whose
fields need our validators and helpers; datasets then show CKAN's default schema). ``wrk`` (Debian)
drives each endpoint at each concurrency against one, then the other, each
run bounded by ``--duration`` seconds and ``--max-requests`` responses. The
indicator query, the comparison page and an AI tool call read the observation
store, which the load rebuilds after writing the rows in SQL (past CKAN's hooks).
Prints p50/p95/p99 latency, requests/s and errors (connect/read/timeouts and
HTTP ≥ 400), and ours ÷ core for the endpoints both have.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from bench import benchstack
from vierstaedte_contract import SCHEMA_VERSION, areas, cities, vocabularies
from vierstaedte_contract.dataset import LINK, NORMALISED, ROLE_FIELD, resource_with_role
from vierstaedte_contract.table import datastore_fields, primary_key

OURS, CORE = 5011, 5012
# an endpoint core CKAN does not have, compared with the core endpoint a visitor meets instead
BASELINE = {"comparison page": "dataset page"}
LUA = Path(__file__).with_name("wrk_report.lua")
THEMES = {"mainz": "SOCI", "trier": "REGI", "koblenz": "SOCI", "ludwigshafen": "ECON"}
# the contract's indicators counted in persons or households, which cities break down by sex,
# age group and nationality; a city's tables take them in turn (the first: the population,
# which the measured requests ask for), each table one more span of years back
INDICATORS = [
    "population_total",
    "population_secondary_residence",
    "households",
    "births",
    "deaths",
    "moves_in",
    "moves_out",
    "moves_within",
    "unemployed",
    "employees_social_insurance",
    "eligible_voters",
    "voters",
]
SEXES = ["total", "female", "male"]
AGES = [
    "total",
    "0-2",
    "3-5",
    "6-9",
    "10-14",
    "15-17",
    "18-24",
    "25-29",
    "30-44",
    "45-59",
    "60-64",
    "65-74",
    "75+",
]
NATIONALITIES = ["total", "german", "foreign"]
LAST_YEAR = 2023
# bump when the generated data changes (5: one table per city, indicator and span of years)
GENERATOR = "5"


def _areas(city: str) -> list[tuple[str, str, str]]:
    return [(a.level, a.code, a.name) for a in areas.areas(city)]


class Api:
    def __init__(self, port: int, token: str):
        self.url, self.session = f"http://127.0.0.1:{port}/api/3/action/", requests.Session()
        self.session.headers["Authorization"] = token

    def __call__(self, action: str, **data):
        answer = self.session.post(self.url + action, json=data, timeout=300)
        body = answer.json()
        if not body.get("success"):
            raise RuntimeError(
                f"{action}: {json.dumps(body.get('error'), ensure_ascii=False)[:1000]}"
            )
        return body["result"]


def _seed(api: Api, city: str, kind: str, name: str | None = None) -> dict:
    theme = f"http://publications.europa.eu/resource/authority/data-theme/{THEMES[city]}"
    name = name or f"bench-{city}-{kind}-seed"
    data = {
        "name": name,
        "owner_org": city,
        "theme": [theme],
        "license_id": "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
        "spatial_granularity": "ortsbezirk" if kind == "tabelle" else "stadt",
        "tags": [{"name": "Bevölkerung"}, {"name": "Statistik"}],
        "source_identifier": f"bench:{city}:{kind}",
        "temporal_start": "2015-01-01",
        "temporal_end": "2023-12-31",
        "title": (
            "Einwohner nach Ortsbezirken, Alter und Geschlecht"
            if kind == "tabelle"
            else "Haushaltsplan und Beschlüsse des Stadtrats"
        ),
        "notes": "Bevölkerung mit Hauptwohnsitz am 31.12. je Gebiet, Geschlecht und Altersgruppe; "
        "synthetische Daten für den Lasttest.",
        "resources": [
            {
                "name": "Erläuterungen (PDF)",
                "format": "PDF",
                ROLE_FIELD: LINK,
                "url": f"https://www.{city}.de/statistik/{kind}.pdf",
            }
        ],
    }
    if kind == "tabelle":
        # as the harvester publishes a table: only a valid one of the current schema is compared
        data.update(validation_status="valid", table_schema_version=SCHEMA_VERSION)
        data["resources"].insert(
            0,
            {
                "name": "Normalisierte Daten (CSV)",
                "format": "CSV",
                ROLE_FIELD: NORMALISED,
                "url": f"https://www.{city}.de/statistik/{kind}.csv",
            },
        )
    existing = None
    try:
        existing = api("package_show", id=name)
    except RuntimeError:
        pass
    published = existing or api("package_create", **data)
    if kind == "tabelle":
        resource = resource_with_role(published, NORMALISED)
        api(
            "datastore_create",
            resource_id=resource["id"],
            fields=datastore_fields(),
            primary_key=primary_key(),
            force=True,
            records=[],
        )
        published = api("package_show", id=name)
    return published


def _clone_sql(seed: dict, first: int, count: int, city: str, kind: str) -> str:
    """Statements that copy the seed's package, member and resource rows ``count`` times (numbers first…)."""
    sid = seed["id"]
    return f"""
INSERT INTO package ({{pcols}})
SELECT {{pexprs}} FROM package s, generate_series({first}, {first + count - 1}) g WHERE s.id = '{sid}';
INSERT INTO package_tag (id, package_id, tag_id, state)
SELECT md5(t.id || g)::uuid::text, md5('{sid}' || g)::uuid::text, t.tag_id, t.state
  FROM package_tag t, generate_series({first}, {first + count - 1}) g WHERE t.package_id = '{sid}';
INSERT INTO member ({{mcols}})
SELECT {{mexprs}} FROM member s, generate_series({first}, {first + count - 1}) g WHERE s.table_id = '{sid}';
INSERT INTO resource ({{rcols}})
SELECT {{rexprs}} FROM resource s, generate_series({first}, {first + count - 1}) g
 WHERE s.package_id = '{sid}';
"""


def _columns(db: str, table: str) -> list[str]:
    out = benchstack.sh(
        "sql",
        db,
        stdin=f"SELECT column_name FROM information_schema.columns "
        f"WHERE table_name = '{table}' ORDER BY ordinal_position",
    )
    return out.split()


def _exprs(columns: list[str], table: str) -> str:
    special = {
        "package": {
            "id": "md5(s.id || g)::uuid::text",
            "name": "regexp_replace(s.name, '-seed$', '') || '-' || g",
            "title": "s.title || ' (' || g || ')'",
        },
        "member": {
            "id": "md5(s.id || g)::uuid::text",
            "table_id": "md5(s.table_id || g)::uuid::text",
        },
        "resource": {
            "id": "md5(s.id || g)::uuid::text",
            "package_id": "md5(s.package_id || g)::uuid::text",
        },
    }[table]
    return ", ".join(special.get(c, f"s.{c}") for c in columns)


def _cells(city: str) -> int:
    """Rows of one year of a table of ``city``: every area × sex × age group × nationality."""
    return len(_areas(city)) * len(SEXES) * len(AGES) * len(NATIONALITIES)


def _table_of(city: str, number: int, rows: int, span: int) -> tuple[str, int, int]:
    """(indicator, first year, last year) of the city's table ``number`` (0: the seed's) of
    ``rows`` rows; each table covers ``span`` years (the last one may hold fewer rows), the
    city's tables of one indicator one span each, back from ``LAST_YEAR``: no figure twice."""
    indicator = INDICATORS[number % len(INDICATORS)]
    last = LAST_YEAR - (number // len(INDICATORS)) * span
    return indicator, last - (max(rows, 1) - 1) // _cells(city), last


def _title(city: str, number: int, rows: int, span: int) -> str:
    indicator, first, last = _table_of(city, number, rows, span)
    label = vocabularies.indicator_info(indicator, "de")["label"]
    areas = "Ortsbezirken" if any(a[0] == "ortsbezirk" for a in _areas(city)) else "Stadtteilen"
    years = f"{first}–{last}" if first < last else str(last)
    return f"{label} {years} nach {areas}, Geschlecht, Alter und Staatsangehörigkeit"


def _rows_sql(
    table: str, seed_table: str, city: str, number: int, rows: int, span: int, source: int
) -> str:
    """A DataStore table like the seed's, with ``rows`` unique observations in the common
    schema: those of :func:`_table_of`, areas varying fastest, then sex, age group,
    nationality and (newest first) year."""
    areas = _areas(city)
    names = "ARRAY[" + ",".join("'" + a[2].replace("'", "''") + "'" for a in areas) + "]"
    codes = "ARRAY[" + ",".join("'" + a[1] + "'" for a in areas) + "]"
    levels = "ARRAY[" + ",".join("'" + a[0] + "'" for a in areas) + "]"
    ages = "ARRAY[" + ",".join(f"'{a}'" for a in AGES) + "]"
    sexes = "ARRAY[" + ",".join(f"'{a}'" for a in SEXES) + "]"
    nations = "ARRAY[" + ",".join(f"'{a}'" for a in NATIONALITIES) + "]"
    n_areas, n_ages, n_sexes = len(areas), len(AGES), len(SEXES)
    indicator, _first, last = _table_of(city, number, rows, span)
    unit = vocabularies.indicator_info(indicator, "de")["unit"]
    ags = cities.get(city).ags
    create = (
        ""
        if table == seed_table
        else f'CREATE TABLE "{table}" (LIKE "{seed_table}" INCLUDING ALL);\n'
    )
    by_age = n_areas * n_sexes
    return (
        create
        + f"""INSERT INTO "{table}" (city, ags, area_level, area_code, area_name, indicator, sex, age_group,
  nationality, dimension, dimension_value, period, value, value_status, unit, source_dataset, source_column)
SELECT '{city}', '{ags}', ({levels})[1 + g % {n_areas}], NULLIF(({codes})[1 + g % {n_areas}], ''),
  ({names})[1 + g % {n_areas}], '{indicator}', ({sexes})[1 + (g / {n_areas}) % {n_sexes}],
  ({ages})[1 + (g / {by_age}) % {n_ages}], ({nations})[1 + (g / {by_age * n_ages}) % 3],
  'none', 'total', ({last} - g / {_cells(city)})::text || '-12-31', (g * 7919) % 40000, 'reported',
  '{unit}', 'bench-{city}-{source}', 'Wert'
FROM generate_series(0, {rows - 1}) g;
"""
    )


def _rebuild_store(slot: benchstack.Slot) -> None:
    started = time.perf_counter()
    slot.ckan("vierstaedte", "observations", "rebuild")
    print(
        f"  load: observation store rebuilt in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
        flush=True,
    )


def load(slot: benchstack.Slot, datasets: int, tables: int, rows: int, port: int = OURS) -> dict:
    """Fill the slot (unless it already holds exactly this); returns what it holds."""
    stamp = slot.dir / "data.stamp"
    want = json.dumps(
        {
            "datasets": datasets,
            "tables": tables,
            "rows": rows,
            "generator": GENERATOR,
            "template": slot._stamp(),
        }
    )
    if stamp.exists() and stamp.read_text() == want and slot._exists(slot.db):
        # the observation store is recreated empty when its layout changed since the load:
        # `check` creates it as the code wants it and says whether it matches the tables
        if slot.ckan("vierstaedte", "observations", "check", check=False).returncode:
            _rebuild_store(slot)
        # the publish measurement writes: a token from the template may no longer be valid
        slot.ensure_admin()
        return json.loads(want)
    started = time.perf_counter()
    stamp.unlink(missing_ok=True)
    slot.reset()
    api = Api(port, slot.admin_token.read_text().strip())
    slot.start(port)
    members = list(THEMES)
    per_city_tables = [tables // 4 + (i < tables % 4) for i in range(4)]
    per_city_meta = [(datasets - tables) // 4 + (i < (datasets - tables) % 4) for i in range(4)]
    seeds = {(c, k): _seed(api, c, k) for c in members for k in ("tabelle", "dokumente")}
    slot.stop(port)
    pcols, mcols, rcols = (_columns(slot.db, t) for t in ("package", "member", "resource"))
    sql = ["BEGIN;"]
    for i, city in enumerate(members):
        for kind, count in (("tabelle", per_city_tables[i]), ("dokumente", per_city_meta[i])):
            if count > 1:
                sql.append(
                    _clone_sql(seeds[(city, kind)], 1, count - 1, city, kind).format(
                        pcols=", ".join(pcols),
                        pexprs=_exprs(pcols, "package"),
                        mcols=", ".join(mcols),
                        mexprs=_exprs(mcols, "member"),
                        rcols=", ".join(rcols),
                        rexprs=_exprs(rcols, "resource"),
                    )
                )
    # DataStore: the seeds' tables and one copy per cloned table dataset, rows generated in SQL
    per_table = [rows // tables + (n < rows % tables) for n in range(tables)]
    # each table dataset titled by what its table holds (cloned ones: md5(seed id || number))
    spans = {city: -(-max(per_table) // _cells(city)) for city in members}
    titles, number = [], 0
    for i, city in enumerate(members):
        seed_id = seeds[(city, "tabelle")]["id"]
        for n in range(per_city_tables[i]):
            title = _title(city, n, per_table[number], spans[city]).replace("'", "''")
            dataset = f"'{seed_id}'" if n == 0 else f"md5('{seed_id}' || {n})::uuid::text"
            titles.append(f"({dataset}, '{title}')")
            number += 1
    sql.append(
        "UPDATE package SET title = t.title FROM (VALUES "
        + ",\n".join(titles)
        + ") AS t (id, title) WHERE package.id = t.id;"
    )
    sql.append("COMMIT;")
    benchstack.sh("sql", slot.db, stdin="\n".join(sql))
    statements, number = ["SET ROLE ckan_default;", "BEGIN;"], 0
    for i, city in enumerate(members):
        seed = seeds[(city, "tabelle")]
        seed_resource = resource_with_role(seed, NORMALISED)["id"]
        ids = [seed_resource] + benchstack.sh(
            "sql",
            slot.db,
            stdin=(
                f"SELECT md5('{seed_resource}' || g)::uuid::text"
                f" FROM generate_series(1, {per_city_tables[i] - 1}) g"
            ),
        ).split()
        for n, resource_id in enumerate(ids):
            statements.append(
                _rows_sql(
                    resource_id, seed_resource, city, n, per_table[number], spans[city], number
                )
            )
            number += 1
    statements += ["COMMIT;", "ANALYZE;"]
    benchstack.sh("sql", slot.datastore, stdin="\n".join(statements))
    slot.ckan("search-index", "rebuild", "-q")
    # the rows were written in SQL, past the hooks that keep the observation store in step
    _rebuild_store(slot)
    stamp.write_text(want)
    print(
        f"  load: {datasets:,} datasets, {tables} DataStore tables, {rows:,} rows loaded in "
        f"{time.perf_counter() - started:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    return json.loads(want)


def endpoints(slot: benchstack.Slot) -> list[tuple[str, str, bool]]:
    """(label, path, exists without our plugin) of the measured requests."""
    sql = (
        "SELECT p.name, r.id FROM package p JOIN resource r ON r.package_id = p.id "
        f"WHERE p.name LIKE 'bench-mainz-tabelle-%' AND r.extras LIKE '%{NORMALISED}%' "
        "AND r.state = 'active' ORDER BY p.name LIMIT 1"
    )
    out = benchstack.sh("sql", slot.db, stdin=sql).strip()
    name, resource = out.split("|")
    filters = requests.utils.quote(
        json.dumps(
            {
                "indicator": "population_total",
                "area_level": "ortsbezirk",
                "sex": "total",
                "age_group": "total",
            }
        )
    )
    return [
        (
            "package_search",
            "/api/3/action/package_search?q=Einwohner&fq=organization:mainz&rows=20"
            "&facet.field=%5B%22organization%22,%22tags%22,%22res_format%22%5D",
            True,
        ),
        ("dataset page", f"/dataset/{name}", True),
        (
            "datastore_search",
            f"/api/3/action/datastore_search?resource_id={resource}&limit=100&filters={filters}",
            True,
        ),
        (
            "indicator_query",
            "/api/3/action/vierstaedte_indicator_query?indicator=population_total"
            "&cities=mainz,trier&area_level=ortsbezirk&period_from=2020",
            False,
        ),
        (
            "comparison page",
            "/vergleich?indicator=population_total&cities=mainz&cities=trier",
            False,
        ),
        (
            "AI tool call",
            "/api/3/action/vierstaedte_tool_compare_cities?indicator=population_total",
            False,
        ),
    ]


def _records(city: str, rows: int) -> list[dict]:
    """``rows`` unique observations of the city's population in the common schema, laid out as
    ``_rows_sql`` lays them out."""
    areas, ags = _areas(city), cities.get(city).ags
    n_areas, n_ages, n_sexes = len(areas), len(AGES), len(SEXES)
    by_age = n_areas * n_sexes
    return [
        {
            "city": city,
            "ags": ags,
            "area_level": areas[g % n_areas][0],
            "area_code": areas[g % n_areas][1] or None,
            "area_name": areas[g % n_areas][2],
            "indicator": "population_total",
            "sex": SEXES[(g // n_areas) % n_sexes],
            "age_group": AGES[(g // by_age) % n_ages],
            "nationality": NATIONALITIES[(g // (by_age * n_ages)) % len(NATIONALITIES)],
            "dimension": "none",
            "dimension_value": "total",
            "period": f"{LAST_YEAR - g // _cells(city)}-12-31",
            "value": (g * 7919) % 40000,
            "value_status": "reported",
            "unit": "persons",
            "source_dataset": "bench-publish",
            "source_column": "Einwohner",
        }
        for g in range(rows)
    ]


def publish_cost(slot: benchstack.Slot, ours: int, core: int, rows: int, rounds: int = 3) -> dict:
    """Seconds to load a ``rows``-row table as the harvester does (``datastore_create`` with
    the first batch, ``datastore_upsert`` ``insert`` for the rest) into a valid table dataset,
    through ours (which keeps the observation store in step, batch by batch) and through core
    on the same databases (which does not): the median of ``rounds`` each, alternating."""
    token = slot.admin_token.read_text().strip()
    api = Api(ours, token)
    records = _records("mainz", rows)
    batch = 10_000  # the harvester's DATASTORE_BATCH
    seconds: dict[str, list[float]] = {"ours": [], "core": []}
    for number in range(rounds):
        for label, port in (("ours", ours), ("core", core)):
            name = f"bench-publish-{label}-{number}"
            dataset = _seed(api, "mainz", "tabelle", name=name)
            resource = resource_with_role(dataset, NORMALISED)["id"]
            api("datastore_delete", resource_id=resource, force=True)
            target = Api(port, token)
            started = time.perf_counter()
            target(
                "datastore_create",
                resource_id=resource,
                fields=datastore_fields(),
                primary_key=primary_key(),
                force=True,
                records=records[:batch],
            )
            for first in range(batch, rows, batch):
                target(
                    "datastore_upsert",
                    resource_id=resource,
                    records=records[first : first + batch],
                    method="insert",
                    force=True,
                )
            seconds[label].append(time.perf_counter() - started)
            api("package_delete", id=name)  # ours: the store lets go of it
            api("dataset_purge", id=name)
    median = {label: sorted(found)[len(found) // 2] for label, found in seconds.items()}
    return {"rows": rows, "rounds": rounds, **median, "ratio": median["ours"] / median["core"]}


def wrk(port: int, path: str, clients: int, duration: float, max_requests: int) -> dict:
    threads = min(clients, 2)
    env = dict(os.environ, WRK_MAX_REQUESTS=str(max(1, max_requests // threads)))
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(clients),
        "-d",
        f"{max(1, round(duration))}s",
        "--timeout",
        "60s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}{path}",
    ]
    started = time.perf_counter()
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=duration + 120)
    elapsed = time.perf_counter() - started
    line = next((line for line in out.stdout.splitlines() if line.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary: {out.stdout[-500:]} {out.stderr[-500:]}")
    result = json.loads(line[len("WRK_JSON ") :])
    result["rps"] = result["requests"] / min(elapsed, result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "timeout", "status"))
    return result


def measure(
    datasets: int,
    tables: int,
    rows: int,
    concurrency: list[int],
    duration: float,
    max_requests: int,
    slot_name: str = "bench_load",
    ours: int = OURS,
    warmup: float = 2,
) -> dict:
    slot = benchstack.Slot(slot_name, benchstack.SITE_PLUGINS)
    slot.prepare(ours)
    core = ours + 1
    try:
        loaded = load(slot, datasets, tables, rows, ours)
        core_ini = slot.write_config(slot.dir / "core.ini", core, benchstack.CORE_PLUGINS)
        server = slot.start(ours)
        slot.start(core, ini=core_ini)
        results = []
        # CKAN's memory must not grow with the rows: the peak of ours (master and workers)
        published = publish_cost(slot, ours, core, min(100_000, max(rows // 10, 100)))
        print(
            f"  load publish {published['rows']:,} rows: ours {published['ours']:.2f} s, "
            f"core {published['core']:.2f} s",
            file=sys.stderr,
            flush=True,
        )
        with benchstack.RSSSampler(server.pid) as sampler:
            for label, path, in_core in endpoints(slot):
                for port in (
                    (ours, core) if in_core else (ours,)
                ):  # warm-up: templates, caches, connections
                    requests.get(f"http://127.0.0.1:{port}{path}", timeout=300)
                    if warmup:
                        wrk(port, path, 2, warmup, 20)
                for clients in concurrency:
                    for port in (ours, core) if in_core else (ours,):
                        result = wrk(port, path, clients, duration, max_requests)
                        result.update(
                            endpoint=label,
                            clients=clients,
                            ckan="ours" if port == ours else "core",
                            capped=result["requests"] >= max_requests - clients,
                        )
                        results.append(result)
                        print(
                            f"  load {label} c={clients} {result['ckan']}: "
                            f"p50 {result['p50'] / 1000:.0f} ms, "
                            f"{result['rps']:.1f}/s, errors {result['errors']}",
                            file=sys.stderr,
                            flush=True,
                        )
    finally:
        slot.stop_all()
    return {
        "loaded": loaded,
        "results": results,
        "ours_peak_rss_mb": round(sampler.peak / 1e6),
        "publish": published,
        "duration": duration,
        "max_requests": max_requests,
    }


def table(data: dict) -> list[str]:
    loaded, results = data["loaded"], data["results"]
    out = [
        f"load: {loaded['datasets']:,} datasets, {loaded['tables']} DataStore tables, "
        f"{loaded['rows']:,} rows; ours = portal plugins, "
        "core = without vierstaedte + its scheming schema (same databases)",
        f"{'endpoint':<18}{'clients':>8}  {'CKAN':<6}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'req/s':>8}"
        f"{'requests':>9}{'errors':>7}{'p50 ours/core':>15}",
    ]
    by = {(r["endpoint"], r["clients"], r["ckan"]): r for r in results}
    for r in results:
        core = by.get((BASELINE.get(r["endpoint"], r["endpoint"]), r["clients"], "core"))
        ratio = (
            f"{r['p50'] / core['p50']:.2f}" if r["ckan"] == "ours" and core and core["p50"] else ""
        )
        rps = f"≥{r['rps']:.1f}" if r.get("capped") else f"{r['rps']:.1f}"
        out.append(
            f"{r['endpoint']:<18}{r['clients']:>8}  {r['ckan']:<6}"
            f"{r['p50'] / 1000:>8.1f}{r['p95'] / 1000:>8.1f}{r['p99'] / 1000:>8.1f}"
            f"{rps:>8}{r['requests']:>9}{r['errors']:>7}{ratio:>15}"
        )
    out.append(f"peak RSS of our CKAN (gunicorn master + workers): {data['ours_peak_rss_mb']} MB")
    published = data["publish"]
    out.append(
        f"publish a {published['rows']:,}-row table (datastore_create + insert batches, "
        f"median of {published['rounds']}): ours {published['ours']:.2f} s, core "
        f"{published['core']:.2f} s, ours ÷ core {published['ratio']:.2f}"
    )
    out.append(
        f"each row: ≤ {data.get('duration', 0):g} s and "
        f"≤ {data.get('max_requests', 0)} responses (≥ req/s: stopped at the request cap); "
        "errors = connect/read/timeout + HTTP ≥ 400"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--tables", type=int, default=200, help="datasets with a DataStore table")
    parser.add_argument("--rows", type=int, default=1_000_000, help="normalised rows in all tables")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument(
        "--duration", type=float, default=10, help="seconds per endpoint, concurrency and CKAN"
    )
    parser.add_argument(
        "--max-requests", type=int, default=5000, help="per endpoint, concurrency and CKAN"
    )
    parser.add_argument("--slot", default="bench_load", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=OURS, help="ours; core on the next port")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--load-only", action="store_true", help="only load the data (reused by later runs)"
    )
    args = parser.parse_args()
    if not 8 <= args.tables * 2 <= args.datasets * 2 or args.tables > args.datasets - 4:
        parser.error("need 4 ≤ --tables ≤ --datasets - 4 (each city has a seed of each kind)")
    if args.load_only:
        slot = benchstack.Slot(args.slot, benchstack.SITE_PLUGINS)
        slot.prepare(args.port)
        try:
            print(load(slot, args.datasets, args.tables, args.rows, args.port))
        finally:
            slot.stop_all()
        return
    data = measure(
        args.datasets,
        args.tables,
        args.rows,
        [int(c) for c in args.clients.split(",")],
        args.duration,
        args.max_requests,
        args.slot,
        args.port,
    )
    if args.json:
        args.json.write_text(benchstack.dump(data))
    print("\n".join(table(data)))


if __name__ == "__main__":
    main()
