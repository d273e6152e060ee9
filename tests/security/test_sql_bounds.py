"""Hostile SQL cannot take the portal down: ``datastore_search_sql`` is public, and bounded.

The DataStore's SQL search is promised to developers (docs/api.md), anonymous
ones included, so it stays open; what it may cost is bounded instead. CKAN 2.12
runs every SQL search under ``SET LOCAL statement_timeout`` of 60 s, so three
``generate_series`` queries held three web workers for a minute and the portal
stopped answering. The portal sets a bound of a few seconds
(``ckanext.vierstaedte.datastore.sql_timeout``), and the read-only role carries
the same statement timeout in PostgreSQL for everything else it runs.

Against the live gunicorn test server (2 workers): hostile queries, several at
once, end within the bound with a clean 409 that echoes no SQL, and a health
probe sent while more of them than there are workers run is answered once the
bound has passed, not a minute later.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy
from ckan.tests.helpers import call_action

BOUND = 5.0  # seconds: the statement timeout the portal promises for the SQL search
SLACK = 2.5  # HTTP, planning, gunicorn hand-over
WORKERS = 2  # tests/live.py's ckan_server
SERIES = "SELECT count(*) AS n FROM generate_series(1, 10000000000) AS g"


def hostile(table: str) -> dict[str, str]:
    return {
        "generate_series": SERIES,
        "cross join": (
            f'SELECT count(*) AS n FROM "{table}" a CROSS JOIN generate_series(1, 100000000) g '
            "CROSS JOIN generate_series(1, 100000000) h"
        ),
        "sort": "SELECT g FROM generate_series(1, 10000000000) AS g ORDER BY md5(g::text) LIMIT 1",
    }


@pytest.fixture
def table(platform):
    """A public dataset of Mainz with a DataStore table, as every anonymous caller sees it."""
    context = {
        "ignore_auth": True,
        "user": call_action("get_site_user", context={"ignore_auth": True})["name"],
    }
    dataset = call_action(
        "package_create",
        context=context,
        name="sql-grenzen",
        title="SQL-Grenzen",
        notes="Tabelle für die Grenzen der SQL-Suche.",
        owner_org="mainz",
        theme=["SOCI"],
        spatial_granularity="stadt",
    )
    resource = call_action(
        "resource_create",
        context=context,
        package_id=dataset["id"],
        name="Tabelle",
        url="http://example.org/t.csv",
        format="CSV",
    )
    call_action(
        "datastore_create",
        context=context,
        resource_id=resource["id"],
        force=True,
        fields=[{"id": "area_name", "type": "text"}, {"id": "value", "type": "numeric"}],
        records=[{"area_name": "Altstadt", "value": 1}, {"area_name": "Neustadt", "value": 2}],
    )
    return resource["id"]


def search_sql(url: str, sql: str) -> tuple[requests.Response | Exception, float]:
    """One anonymous SQL search; the answer (or the client's give-up) and how long it took."""
    started = time.monotonic()
    try:
        answer: requests.Response | Exception = requests.post(
            f"{url}/api/3/action/datastore_search_sql", json={"sql": sql}, timeout=4 * BOUND + 10
        )
    except requests.RequestException as error:
        answer = error
    return answer, time.monotonic() - started


def assert_cut_off(
    answer: requests.Response | Exception, seconds: float, limit: float, what: str
) -> None:
    assert isinstance(answer, requests.Response), (
        f"{what}: no answer within {seconds:.1f} s ({answer})"
    )
    assert answer.status_code == 409, f"{what}: {answer.status_code} {answer.text[:300]}"
    error = answer.json()["error"]
    assert error["query"] == ["Query took too long"], f"{what}: {error}"
    assert "SELECT" not in answer.text and "generate_series" not in answer.text, (
        f"{what} echoes SQL: {answer.text}"
    )
    assert seconds <= limit, f"{what} ran {seconds:.1f} s, the bound is {BOUND:g} s"


def test_hostile_queries_end_at_the_bound(platform, table):
    """Each hostile query, as many at once as the server has workers, ends within the bound with a
    clean 409."""
    for what, sql in hostile(table).items():
        with ThreadPoolExecutor(WORKERS) as pool:
            results = list(
                pool.map(lambda _, sql=sql: search_sql(platform["url"], sql), range(WORKERS))
            )
        for answer, seconds in results:
            assert_cut_off(answer, seconds, BOUND + SLACK, what)


def test_functions_outside_the_allow_list_are_refused(platform):
    """pg_sleep (and anything else not on CKAN's list of allowed functions) is refused before it runs."""
    answer, seconds = search_sql(platform["url"], "SELECT pg_sleep(30)")
    assert answer.status_code == 403, answer.text[:300]
    assert seconds < BOUND


def test_the_portal_answers_while_hostile_sql_runs(platform, table):
    """More hostile queries than workers: the health probe is answered once the bound has passed,
    every query ends.

    Sync workers serve one request each, in the order the connections came, so a probe behind hostile queries
    waits for them to end: with one more query than workers, the bound is what the probe waits at most (before
    the fix it waited a minute). More queries queue longer, each round at most the bound.
    """
    url = platform["url"]
    queries = list(hostile(table).values())  # 3 queries on 2 workers
    with ThreadPoolExecutor(len(queries) + 1) as pool:
        running = [pool.submit(search_sql, url, sql) for sql in queries]
        time.sleep(0.5)  # every worker is now busy with hostile SQL
        started = time.monotonic()
        probe = requests.get(f"{url}/api/3/action/status_show", timeout=4 * BOUND)
        waited = time.monotonic() - started
        results = [future.result() for future in running]
    assert probe.ok and probe.json()["success"]
    assert waited <= BOUND + SLACK, f"the health probe waited {waited:.1f} s behind hostile SQL"
    rounds = -(
        -len(queries) // WORKERS
    )  # queued queries run after each other, each at most the bound
    for answer, seconds in results:
        assert_cut_off(answer, seconds, rounds * (BOUND + SLACK), "a queued hostile query")


def test_the_read_only_role_carries_the_bound(ckan_config):
    """The role the SQL search runs as has the statement timeout in PostgreSQL too (for whatever
    else runs as it)."""
    engine = sqlalchemy.create_engine(
        ckan_config["ckan.datastore.read_url"], poolclass=sqlalchemy.pool.NullPool
    )
    try:
        with engine.connect() as connection:
            timeout = connection.execute(sqlalchemy.text("SHOW statement_timeout")).scalar()
    finally:
        engine.dispose()
    assert timeout == f"{BOUND:g}s"
