"""The store's two tables in the DataStore database, and the engines that reach them.

``vierstaedte.observations`` holds the rows: the contract's columns as the DataStore holds them
(``vierstaedte_contract.table``: a new field of the contract is a new column here, not an edit),
the ``year`` a period ends in (the comparison lines periods up by year), the source row's
``_id`` (a table's own order) and the citation: ``dataset_id``, ``dataset_name``,
``resource_id``. ``vierstaedte.observation_tables`` holds one line per table of a public dataset
that the store considered: ``stored`` (with its row count) or ``skipped`` (with the reason
``logic.tables`` gave), so a table missing from an answer stays explainable.
``vierstaedte.observation_coverage`` summarises each stored table per indicator (periods, area
levels, breakdown values), so listing what exists reads a few lines per table, not every row.
``vierstaedte.observation_generation`` is one number that every transaction changing the store
raises as its last write (``bump``): a reader that cached an answer under the generation it saw
knows the answer is still the store's while the number stays (``query``).

Why a schema of its own in the DataStore database: the rows are copied there with one
``INSERT … SELECT`` from the resource's table (no row passes through Python), the read-only
role reads them (granted here), and CKAN's ``datastore_search_sql`` refuses every table outside
the ``public`` schema while ``datastore_search`` only finds resources, so the store adds no way
into the DataStore. It holds public rows only anyway.

The tables are created on first use (``ensure``), not by a migration: CKAN's migrations run on
its own database, and the DataStore database of the tests is emptied by dropping what is in
``public``. A layout that no longer matches the contract is dropped and created again (empty:
``ckan vierstaedte observations rebuild`` fills it; ``check`` reports it).
"""

from __future__ import annotations

import logging
from typing import Any

import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckanext.datastore.backend import postgres as datastore
from sqlalchemy.engine import Connection, Engine

from vierstaedte_contract import table

log = logging.getLogger(__name__)

SCHEMA = "vierstaedte"
ROWS = f"{SCHEMA}.observations"
TABLES = f"{SCHEMA}.observation_tables"
COVERAGE = f"{SCHEMA}.observation_coverage"
GENERATION = f"{SCHEMA}.observation_generation"
STORED, SKIPPED = "stored", "skipped"
# what the store adds to the contract's columns, in this order after them
EXTRA_COLUMNS = {
    "year": "int",
    "source_row": "int",
    "dataset_id": "text",
    "dataset_name": "text",
    "resource_id": "text",
}
# the per-table state; ``reason`` as worded when synced, ``reason_key`` and ``reason_params``
# (``logic.tables.Reason``) to word it in a reader's language; ``last_source_row``: the
# source's last ``_id`` when copied (an append copies the rows after it)
STATE_COLUMNS = {
    "resource_id": "text PRIMARY KEY",
    "dataset_id": "text NOT NULL",
    "dataset_name": "text NOT NULL",
    "dataset_title": "text NOT NULL",
    "resource_url": "text",
    "city": "text NOT NULL",
    "status": f"text NOT NULL CHECK (status IN ('{STORED}', '{SKIPPED}'))",
    "reason": "text",
    "reason_key": "text",
    "reason_params": "jsonb",
    "row_count": "int NOT NULL DEFAULT 0",
    "last_source_row": "bigint NOT NULL DEFAULT 0",
    "synced_at": "timestamptz NOT NULL DEFAULT now()",
}
# what each stored table holds of each indicator, kept with its rows (``sync``): the indicator
# list reads this summary, a few lines per table, instead of grouping every row it covers
COVERAGE_COLUMNS = {
    "resource_id": "text NOT NULL",
    "dataset_id": "text NOT NULL",
    "indicator": "text NOT NULL",
    "city": "text NOT NULL",
    "period_from": "text NOT NULL",
    "period_to": "text NOT NULL",
    "area_levels": "text[] NOT NULL",
    "dimensions": "text[] NOT NULL",
    "sex": "text[] NOT NULL",
    "age_group": "text[] NOT NULL",
    "nationality": "text[] NOT NULL",
    "periods": "text[] NOT NULL",
    "units": "text[] NOT NULL",
    "row_count": "int NOT NULL",
}
# an advisory lock key of the store's DDL (any constant; "vierstaedte" in ASCII, shortened)
_DDL_LOCK = 0x76696572

# now in microseconds, as a generation (``bump``)
_CLOCK = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"

_ready = False


def write_engine() -> Engine:
    return datastore.get_write_engine()


def read_engine() -> Engine:
    return datastore.get_read_engine()


def q(name: str) -> str:
    """A quoted identifier (a column or a resource's table)."""
    return datastore.identifier(name)


def contract_columns() -> list[str]:
    """The contract's field names, in the schema's order."""
    return table.field_names()


def columns() -> dict[str, str]:
    """Every column of the rows' table → its PostgreSQL type."""
    types = {f["name"]: table.DATASTORE_TYPES[f["type"]] for f in table.descriptor()["fields"]}
    return {**types, **EXTRA_COLUMNS}


def _create_statements() -> list[str]:
    cols = ",\n  ".join(f"{q(name)} {kind}" for name, kind in columns().items())
    state = ",\n  ".join(f"{name} {kind}" for name, kind in STATE_COLUMNS.items())
    coverage = ",\n  ".join(f"{name} {kind}" for name, kind in COVERAGE_COLUMNS.items())
    return [
        f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
        f"CREATE TABLE IF NOT EXISTS {ROWS} (\n  {cols}\n)",
        # indexes of earlier layouts
        f"DROP INDEX IF EXISTS {SCHEMA}.observations_query_idx, "
        f"{SCHEMA}.observations_breakdown_idx",
        # the indicator query, the comparison and the aggregations: every exact filter, then
        # the cities and the year a period ends in (``query.FILTERS``, ``query._in_period``)
        f"CREATE INDEX IF NOT EXISTS observations_filter_idx ON {ROWS} "
        "(indicator, area_level, sex, age_group, nationality, dimension, city, year)",
        # the AI tools: everything one city holds of one indicator
        f"CREATE INDEX IF NOT EXISTS observations_city_idx ON {ROWS} (city, indicator)",
        f"CREATE INDEX IF NOT EXISTS observations_resource_idx ON {ROWS} (resource_id, source_row)",
        f"CREATE INDEX IF NOT EXISTS observations_dataset_idx ON {ROWS} (dataset_id)",
        f"CREATE TABLE IF NOT EXISTS {TABLES} (\n  {state}\n)",
        f"CREATE INDEX IF NOT EXISTS observation_tables_dataset_idx ON {TABLES} (dataset_id)",
        f"CREATE TABLE IF NOT EXISTS {COVERAGE} (\n  {coverage},\n"
        "  PRIMARY KEY (resource_id, indicator)\n)",
        f"CREATE INDEX IF NOT EXISTS observation_coverage_city_idx ON {COVERAGE} (city, indicator)",
        # one line; its first value is a clock's in microseconds, so a store created again
        # never goes back to a generation an earlier one had
        f"CREATE TABLE IF NOT EXISTS {GENERATION} (\n"
        "  id int PRIMARY KEY CHECK (id = 1),\n  value bigint NOT NULL\n)",
        f"INSERT INTO {GENERATION} VALUES (1, {_CLOCK}) ON CONFLICT (id) DO NOTHING",
    ]


def read_role() -> str | None:
    """The DataStore's read-only role (``ckan.datastore.read_url``), which serves the reads."""
    url = tk.config.get("ckan.datastore.read_url")
    return sa.engine.make_url(url).username if url else None


def _layout(connection: Connection) -> dict[str, list[str]]:
    """The store's tables as they are (name → columns in order), empty if there are none."""
    found: dict[str, list[str]] = {}
    for name, column in connection.execute(
        sa.text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = :schema ORDER BY table_name, ordinal_position"
        ),
        {"schema": SCHEMA},
    ):
        found.setdefault(name, []).append(column)
    return found


def _expected_layout() -> dict[str, list[str]]:
    """The rows' tables as the code wants them (the generation's line is not data: kept)."""
    return {
        "observation_coverage": list(COVERAGE_COLUMNS),
        "observation_tables": list(STATE_COLUMNS),
        "observations": list(columns()),
    }


def ensure() -> None:
    """Create the store's tables if they are missing; recreate them if their layout is old.

    Cheap after the first call of a process (a process that saw the tables trusts they stay:
    drop them only with CKAN stopped). Serialised by an advisory lock, so two workers starting
    at once do not race on ``CREATE … IF NOT EXISTS``.
    """
    global _ready
    if not _ready:
        with write_engine().begin() as connection:
            _ensure(connection)
        _ready = True


def _ensure(connection: Connection) -> None:
    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DDL_LOCK})
    expected = _expected_layout()
    found = {name: cols for name, cols in _layout(connection).items() if name in expected}
    changed = bool(found) and found != expected
    if changed:
        log.warning("observation store: the layout changed, its tables are created again")
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {ROWS}, {TABLES}, {COVERAGE}"))
    for statement in _create_statements():
        connection.execute(sa.text(statement))
    if changed:
        bump(connection)
    role = read_role()
    if role:
        connection.execute(sa.text(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {q(role)}"))
        connection.execute(
            sa.text(f"GRANT SELECT ON {ROWS}, {TABLES}, {COVERAGE}, {GENERATION} TO {q(role)}")
        )


def bump(connection: Connection) -> None:
    """Raise the store's generation: what was read before no longer holds.

    Call it as the last write of a transaction that changed the store: its line stays locked
    until the commit, so concurrent writers wait for each other only that long, and a reader
    sees the new number no earlier than the rows it stands for.
    """
    connection.execute(
        sa.text(f"UPDATE {GENERATION} SET value = greatest(value + 1, {_CLOCK}) WHERE id = 1")
    )


def generation(connection: Connection) -> int:
    """The store's generation (see :func:`bump`)."""
    return connection.execute(sa.text(f"SELECT value FROM {GENERATION} WHERE id = 1")).scalar()


def clear() -> None:
    """Empty the store, its tables kept (tests: after emptying the DataStore's ``public``)."""
    with write_engine().begin() as connection:
        exists = connection.execute(sa.text("SELECT to_regclass(:name)"), {"name": TABLES})
        if exists.scalar() is not None:
            connection.execute(sa.text(f"TRUNCATE {ROWS}, {TABLES}, {COVERAGE}"))
        exists = connection.execute(sa.text("SELECT to_regclass(:name)"), {"name": GENERATION})
        if exists.scalar() is not None:
            bump(connection)


def rows(connection: Connection, statement: str, **params: Any) -> list[dict[str, Any]]:
    """The rows of one statement as dicts."""
    return [dict(row._mapping) for row in connection.execute(sa.text(statement), params)]
