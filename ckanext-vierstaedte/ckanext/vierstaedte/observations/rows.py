"""The AI tools' reads on the store: a fixed number of SQL queries per tool call, whatever the
catalogue holds.

Before the store the tools paged through the catalogue and asked the DataStore once per table
(``datastore_search`` per table and indicator, a ``GROUP BY`` per table), so a call's cost grew
with the number of tables. Here each read is one statement through the read-only role over
``store.ROWS``/``store.TABLES``/``store.COVERAGE``: arguments travel as bound parameters, the
statements are built from the contract's names only (as ``query``). Rows come in a table's own
order (dataset name, then the source row), as the tools read them before.

A tool reads the rows its question asks for (``indicator_rows``' ``where``: the level and the
breakdown values, which lead the store's filter index) and what exists besides from the
coverage summary (``coverage``): a city with millions of rows of an indicator costs a question
its own rows, not all of them.
"""

from __future__ import annotations

import json
from typing import Any

from ckanext.vierstaedte.logic import tables
from ckanext.vierstaedte.observations import store

C = 'COLLATE "C"'
_PRESENT = "to_regclass(format('public.%I', resource_id)) IS NOT NULL"


def _rows(statement: str, **params: Any) -> list[dict[str, Any]]:
    store.ensure()
    with store.read_engine().connect() as connection:
        return store.rows(connection, statement, **params)


def city_tables(cities: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The cities' stored tables (whose DataStore table still exists) and their skipped ones
    (as ``logic.tables.Skipped.entry``, a dropped DataStore table among them), by dataset name.
    """
    found = _rows(
        f"""
SELECT resource_id, dataset_id, dataset_name, dataset_title, resource_url, city, status,
       reason, reason_key, reason_params, {_PRESENT} AS present
FROM {store.TABLES} WHERE city = ANY(:cities)
ORDER BY dataset_name {C}, resource_id {C}""",
        cities=list(cities),
    )
    stored, skipped = [], []
    for entry in found:
        if entry["status"] == store.STORED and entry["present"]:
            stored.append(entry)
            continue
        if entry["status"] == store.STORED:
            reason = tables.words("table_missing", {})
        elif entry["reason_key"]:
            params = entry["reason_params"] or {}
            params = json.loads(params) if isinstance(params, str) else params
            reason = tables.words(entry["reason_key"], params)
        else:
            reason = entry["reason"]
        skipped.append(
            {
                "dataset": entry["dataset_name"],
                "dataset_title": entry["dataset_title"] or entry["dataset_name"],
                "city": entry["city"],
                "resource_id": entry["resource_id"],
                "reason": reason,
            }
        )
    return stored, skipped


# the columns a tool may narrow its rows by (``indicator_rows``'s ``where``), each led by the
# store's filter index (``observations_filter_idx``: indicator, area_level, sex, age_group, …)
NARROWING = ("area_level", "sex", "age_group", "nationality")


def indicator_rows(
    indicator: str,
    owners: dict[str, str],
    most: int,
    where: dict[str, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """The rows of one indicator in these tables (resource id → the city that publishes it),
    only a table's own city's rows, at most ``most`` per city, in table order (dataset name,
    source row); ``_id`` is the source row, ``dataset_id`` and ``resource_id`` its table.

    ``where``: column (:data:`NARROWING`) → the values it may have; the rows a question asks
    for are read through the filter index, never the indicator's other rows."""
    where = {key: list(values) for key, values in (where or {}).items() if key in NARROWING}
    narrowed = "".join(f" AND o.{store.q(key)} = ANY(:w_{key})" for key in where)
    columns = ", ".join(f"o.{store.q(name)}" for name in store.contract_columns())
    return _rows(
        f"""
SELECT * FROM (
  SELECT {columns}, o.source_row AS _id, o.dataset_id, o.resource_id, row_number() OVER (
    PARTITION BY o.city ORDER BY o.dataset_name {C}, o.source_row) AS ordinal
  FROM {store.ROWS} o
  JOIN unnest(CAST(:resources AS text[]), CAST(:owners AS text[])) AS t(resource_id, owner)
    ON o.resource_id = t.resource_id AND o.city = t.owner
  WHERE o.indicator = :indicator AND o.city = ANY(:cities){narrowed}
) AS found WHERE ordinal <= :most ORDER BY city, ordinal""",
        indicator=indicator,
        resources=list(owners),
        owners=list(owners.values()),
        cities=sorted(set(owners.values())),
        most=most,
        **{f"w_{key}": values for key, values in where.items()},
    )


def indicators(resource_ids: list[str]) -> list[dict[str, Any]]:
    """Which indicators each of these tables holds (from the tables' summaries)."""
    return _rows(
        f"SELECT DISTINCT resource_id, indicator FROM {store.COVERAGE} "
        "WHERE resource_id = ANY(:resources)",
        resources=list(resource_ids),
    )


def groups(resource_ids: list[str]) -> list[dict[str, Any]]:
    """What each table holds per indicator, from its coverage summary (a few lines per table,
    not its rows): ``periods``, ``units``, ``area_levels``, ``dimensions`` and the breakdown
    values as lists, and ``row_count``."""
    return _rows(
        f"""
SELECT resource_id, indicator, periods, units, area_levels, dimensions, sex, age_group,
       nationality, row_count
FROM {store.COVERAGE} WHERE resource_id = ANY(:resources)""",
        resources=list(resource_ids),
    )


def coverage(indicator: str, resource_ids: list[str]) -> list[dict[str, Any]]:
    """What each of these tables holds of one indicator, from its coverage summary: the lines
    of ``groups``, each with its ``dataset_id`` and ``city`` (a few lines, however many rows)."""
    return _rows(
        f"""
SELECT resource_id, dataset_id, city, indicator, periods, units, area_levels, dimensions, sex,
       age_group, nationality, row_count
FROM {store.COVERAGE} WHERE indicator = :indicator AND resource_id = ANY(:resources)""",
        indicator=indicator,
        resources=list(resource_ids),
    )
