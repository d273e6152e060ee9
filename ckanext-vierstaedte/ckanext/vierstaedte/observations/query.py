"""The cross-city reads on the store: each answer is one SQL query through the read-only role.

``indicator_rows`` gives what ``vierstaedte_indicator_query`` answers (its rows in its order, the
tables they come from, the tables skipped), ``coverage`` what ``vierstaedte_indicator_list``
answers. Filters arrive validated (``logic.indicators``) and travel as bound parameters; the
statements are built from the contract's names only.

The store holds checked tables only, so a table is left out here for one reason the store cannot
see: its DataStore table was dropped behind CKAN's back (``datastore_active`` still set). The
query looks each table it would cite up (``to_regclass``) and lists a missing one as skipped, as
the reads did before the store.

Both answers are kept in the worker's memory (:class:`Answers`) under the store's generation
(``store.bump``: every publish, withdrawal, private or deleted dataset raises it in its own
transaction), so many visitors asking the same question cost one query of the store; each asks
the database only for the generation and whether the tables cited are still there. The memory
is bounded by answers and rows, not by the store.
"""

from __future__ import annotations

import collections
import json
import threading
from typing import Any

import sqlalchemy as sa

from ckanext.vierstaedte.logic import tables
from ckanext.vierstaedte.observations import store

# the order of text as Python sorts it (code points), whatever the database's collation
C = 'COLLATE "C"'
# exact filters of the indicator query, in the store's columns
FILTERS = ("indicator", "area_level", "sex", "age_group", "nationality", "dimension")
_PRESENT = "to_regclass(format('public.%I', resource_id)) IS NOT NULL"


def _day(part: str, last: bool) -> str:
    """SQL: the first (last) day an ISO date prefix covers, as text (``2023`` → ``2023-01-01``).

    As ``logic.indicators._day`` pads the bounds.
    """
    year, month = ("'-12-31'", "'-31'") if last else ("'-01-01'", "'-01'")
    return (
        f"(CASE length({part}) WHEN 4 THEN {part} || {year} "
        f"WHEN 7 THEN {part} || {month} ELSE {part} END)"
    )


def _in_period(start: str | None, end: str | None) -> str:
    """SQL: the row's period lies wholly within the bound days (``:start``, ``:end``).

    Led by the same bounds on ``year`` (the year the period ends in), which the index can
    use: a period that ends before the start year, or after the end year, is never within.
    """
    first = "split_part(period, '/', 1)"
    last = "(CASE WHEN strpos(period, '/') > 0 THEN split_part(period, '/', 2) ELSE period END)"
    conditions = ["true"]
    if start:
        conditions.append("year >= left(:start, 4)::int")
        conditions.append(f"{_day(first, False)} {C} >= :start")
    if end:
        conditions.append("year <= left(:end, 4)::int")
        conditions.append(f"{_day(last, True)} {C} <= :end")
    return " AND ".join(conditions)


def _skipped_sql(gone: str) -> str:
    """JSON of the skipped tables of ``:cities`` (as ``logic.tables.Skipped.entry``) in table
    order: those the store recorded, and those of ``gone`` (a relation of ``resource_id`` and
    ``present``) whose DataStore table is missing."""
    return f"""(SELECT coalesce(json_agg(k ORDER BY array_position(:cities, k.city),
        k.dataset {C}), '[]')
      FROM (SELECT dataset_name AS dataset, dataset_title, city, resource_id, reason,
                   reason_key, reason_params
            FROM {store.TABLES} WHERE status = '{store.SKIPPED}' AND city = ANY(:cities)
            UNION ALL
            SELECT s.dataset_name, s.dataset_title, s.city, s.resource_id, NULL,
                   'table_missing', '{{}}'::jsonb
            FROM {gone} g JOIN {store.TABLES} s USING (resource_id) WHERE NOT g.present) k)"""


def _worded(skipped: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The skipped tables as ``logic.tables.Skipped.entry``, each reason in the reader's words."""
    return [
        {
            "dataset": entry["dataset"],
            "dataset_title": entry["dataset_title"],
            "city": entry["city"],
            "resource_id": entry["resource_id"],
            "reason": (
                tables.words(entry["reason_key"], entry["reason_params"] or {})
                if entry["reason_key"]
                else entry["reason"]
            ),
        }
        for entry in skipped
    ]


class Answers:
    """Answers of the store by question, each with the generation it was read at and the
    tables it cites (whether each was there); least recently used first out.

    At most ``entries`` answers and ``rows`` rows of answers in all; a larger answer is not
    kept. Answers are shared: never change one in place.
    """

    def __init__(self, entries: int = 256, rows: int = 20_000):
        self.entries, self.rows = entries, rows
        self._held: collections.OrderedDict[tuple, tuple[int, dict, dict]] = (
            collections.OrderedDict()
        )
        self._rows = 0
        self._lock = threading.Lock()

    @staticmethod
    def _size(answer: dict[str, Any]) -> int:
        return 1 + len(answer.get("rows") or ()) + len(answer.get("coverage") or ())

    def get(self, key: tuple) -> tuple[int, dict, dict] | None:
        with self._lock:
            found = self._held.get(key)
            if found is not None:
                self._held.move_to_end(key)
            return found

    def put(self, key: tuple, generation: int, answer: dict, cited: dict[str, bool]) -> None:
        size = self._size(answer)
        if size > self.rows:
            return
        with self._lock:
            old = self._held.pop(key, None)
            if old is not None:
                self._rows -= self._size(old[1])
            self._held[key] = (generation, answer, cited)
            self._rows += size
            while len(self._held) > self.entries or self._rows > self.rows:
                _key, (_gen, dropped, _cited) = self._held.popitem(last=False)
                self._rows -= self._size(dropped)

    def clear(self) -> None:
        with self._lock:
            self._held.clear()
            self._rows = 0


ANSWERS = Answers()


def _key(statement: str, params: dict[str, Any]) -> tuple:
    return (statement, json.dumps(params, sort_keys=True, default=str))


def _parsed(row: sa.Row) -> dict[str, Any]:
    """A result row as a dict, its JSON columns parsed (the DataStore's engines leave JSON as
    text)."""
    return {
        key: json.loads(value) if isinstance(value, str) else value
        for key, value in row._mapping.items()
    }


def _cached(statement: str, params: dict[str, Any]) -> dict[str, Any]:
    """The one row of a statement that answers a question of the store, from :data:`ANSWERS`
    while the store's generation and the cited tables (the ``cited`` column: pairs of
    resource id and whether its table was there) are as they were; skipped tables worded."""
    store.ensure()
    key = _key(statement, params)
    held = ANSWERS.get(key)
    with store.read_engine().connect() as connection:
        # one round trip: the generation, and whether each table the held answer cites is there
        generation, there = connection.execute(
            sa.text(
                f"SELECT (SELECT value FROM {store.GENERATION} WHERE id = 1), "
                f"(SELECT coalesce(json_object_agg(r, {_PRESENT.replace('resource_id', 'r')}), "
                "'{}') FROM unnest(CAST(:ids AS text[])) AS r)"
            ),
            {"ids": list(held[2]) if held else []},
        ).one()
        there = json.loads(there) if isinstance(there, str) else there
        if held is not None and held[0] == generation and there == held[2]:
            return dict(held[1], skipped=_worded(held[1]["skipped"]))
        found = _parsed(connection.execute(sa.text(statement), params).one())
    cited = {resource_id: present for resource_id, present in found.pop("cited") or []}
    if generation is not None:  # without its line (deleted by hand) nothing is kept
        ANSWERS.put(key, generation, found, cited)
    return dict(found, skipped=_worded(found["skipped"]))


def _run(statement: str, params: dict[str, Any]) -> dict[str, Any]:
    """The one row of a statement, its JSON columns parsed (the DataStore's engines leave JSON
    as text) and its skipped tables worded."""
    store.ensure()
    with store.read_engine().connect() as connection:
        found = _parsed(connection.execute(sa.text(statement), params).one())
    found["skipped"] = _worded(found["skipped"])
    return found


def indicator_rows(
    filters: dict[str, str],
    cities: list[str],
    *,
    start: str | None,
    end: str | None,
    limit: int,
    most: int,
) -> dict[str, Any]:
    """The rows of one indicator query, and what it cites and skips, in one SQL query.

    ``filters``: the exact filters (:data:`FILTERS`, ``dimension_value`` if given); ``start``
    and ``end``: the bound days (``2023-01-01``); at most ``limit + 1`` rows (the caller tells
    a truncated answer by the extra one) sorted as the portal shows them: by city (in the
    order of ``cities``), area code, area name, period and dimension value, then table (by
    dataset name) and row. Returns ``{"rows", "scanned", "units", "sources", "skipped"}``:
    ``scanned`` counts the rows the filters match within the period bounds (at most
    ``most``), ``sources`` the tables of all rows within the bounds (not only the first
    ``limit``), each ``{resource_id, dataset_name, dataset_title, resource_url, city}``;
    ``units`` those of all rows within the bounds.
    """
    where = " AND ".join(f"{store.q(name)} = :{name}" for name in filters)
    columns = ", ".join(store.q(name) for name in store.contract_columns())
    statement = f"""
WITH matched AS (
  SELECT {columns}, year, source_row, dataset_name, resource_id
  FROM {store.ROWS} WHERE {where} AND city = ANY(:cities) AND {_in_period(start, end)}
), cited AS (
  SELECT resource_id, {_PRESENT} AS present
  FROM (SELECT DISTINCT resource_id FROM matched) AS found
)
SELECT
  (SELECT count(*) FROM (SELECT 1 FROM matched LIMIT :most) AS counted) AS scanned,
  (SELECT coalesce(json_agg(r ORDER BY r.ordinal), '[]') FROM (
     SELECT m.*, row_number() OVER (ORDER BY array_position(:cities, m.city),
       coalesce(m.area_code, '') {C}, m.area_name {C}, m.period {C}, m.dimension_value {C},
       m.dataset_name {C}, m.source_row) AS ordinal
     FROM matched m JOIN cited c USING (resource_id) WHERE c.present
     ORDER BY ordinal LIMIT :limit) AS r) AS rows,
  (SELECT coalesce(array_agg(DISTINCT m.unit), '{{}}') FROM matched m JOIN cited c
     USING (resource_id) WHERE c.present) AS units,
  (SELECT coalesce(json_agg(s), '[]') FROM (
     SELECT t.resource_id, t.dataset_name, t.dataset_title, t.resource_url, t.city
     FROM cited c JOIN {store.TABLES} t USING (resource_id) WHERE c.present
     ORDER BY array_position(:cities, t.city), t.dataset_name {C}) AS s) AS sources,
  {_skipped_sql("cited")} AS skipped,
  (SELECT json_agg(json_build_array(resource_id, present)) FROM cited) AS cited
"""
    params = dict(
        filters,
        cities=list(cities),
        start=start,
        end=end,
        limit=limit + 1,
        most=most,
    )
    return _cached(statement, params)


def coverage(cities: list[str], indicators: list[str]) -> dict[str, Any]:
    """What ``vierstaedte_indicator_list`` needs, in one SQL query: per indicator and city the
    period range, area levels, dimensions and breakdown values; and the skipped tables.

    Read from the tables' summaries (``store.COVERAGE``), so its cost follows the number of
    tables, not of rows.

    Returns ``{"coverage": [{indicator, city, period_from, period_to, area_levels,
    dimensions, sex, age_group, nationality}, ...], "skipped": [...]}``; only ``indicators``
    (the contract's: a city's own indicator is not comparable across cities).
    """
    statement = f"""
WITH stored AS (
  SELECT resource_id, {_PRESENT} AS present
  FROM {store.TABLES} WHERE status = '{store.STORED}' AND city = ANY(:cities)
), held AS (
  SELECT v.* FROM {store.COVERAGE} v JOIN stored USING (resource_id)
  WHERE stored.present AND v.city = ANY(:cities) AND v.indicator = ANY(:indicators)
)
SELECT
  (SELECT coalesce(json_agg(c), '[]') FROM (
     SELECT indicator, city, min(period_from {C}) AS period_from,
       max(period_to {C}) AS period_to,
       (SELECT array_agg(DISTINCT x) FROM held h, unnest(h.area_levels) x
        WHERE (h.indicator, h.city) = (g.indicator, g.city)) AS area_levels,
       (SELECT array_agg(DISTINCT x) FROM held h, unnest(h.dimensions) x
        WHERE (h.indicator, h.city) = (g.indicator, g.city)) AS dimensions,
       (SELECT array_agg(DISTINCT x) FROM held h, unnest(h.sex) x
        WHERE (h.indicator, h.city) = (g.indicator, g.city)) AS sex,
       (SELECT array_agg(DISTINCT x) FROM held h, unnest(h.age_group) x
        WHERE (h.indicator, h.city) = (g.indicator, g.city)) AS age_group,
       (SELECT array_agg(DISTINCT x) FROM held h, unnest(h.nationality) x
        WHERE (h.indicator, h.city) = (g.indicator, g.city)) AS nationality
     FROM held g GROUP BY indicator, city) AS c) AS coverage,
  {_skipped_sql("stored")} AS skipped,
  (SELECT json_agg(json_build_array(resource_id, present)) FROM stored) AS cited
"""
    return _cached(
        statement,
        {
            "cities": list(cities),
            "indicators": list(indicators),
        },
    )
