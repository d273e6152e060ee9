"""Aggregations on the observation store: sums, latest values, changes and shares, one SQL each.

People ask "how many children live in Trier" (a sum of age groups), "what is the newest figure"
or "how much did it grow": questions the tidy rows answer only after arithmetic. Doing it in the
database keeps each answer one query on ``vierstaedte.observations`` through the read-only role,
with bound parameters only (statements are built from the contract's names, never from input).

The rules that keep the arithmetic honest live here, next to the SQL: a sum adds only the parts
(rows whose summed field is not ``total``) of rows that share every other breakdown and the same
unit, within one table, and compares them with the published total; a share divides a part by
its total only within one table (``resource_id``). Which units may be added is decided by the
caller (``logic.aggregations``) from the contract's unit vocabulary.
"""

from __future__ import annotations

from typing import Any

from ckanext.vierstaedte.observations import query, store

C = query.C
# the breakdowns a sum or share may run over; ``area`` sums the areas of one level
OVER = ("age_group", "sex", "nationality", "area")
_END = "(CASE WHEN strpos(period, '/') > 0 THEN split_part(period, '/', 2) ELSE period END)"
_END_DAY = query._day(_END, True)


def _where(filters: dict[str, str], skip: str) -> str:
    """SQL: the exact filters but the one summed over (``skip``)."""
    parts = [f"{store.q(name)} = :{name}" for name in filters if name != skip]
    parts.append("city = ANY(:cities)")
    return " AND ".join(parts)


def _tail(matched: str) -> str:
    """SQL columns: the sources and skipped tables of the rows of ``matched``."""
    return f"""
  (SELECT coalesce(json_agg(s), '[]') FROM (
     SELECT t.resource_id, t.dataset_name, t.dataset_title, t.resource_url, t.city
     FROM cited c JOIN {store.TABLES} t USING (resource_id) WHERE c.present
     ORDER BY array_position(:cities, t.city), t.dataset_name {C}) AS s) AS sources,
  {query._skipped_sql("cited")} AS skipped"""


def _cited(matched: str) -> str:
    return f"""cited AS (
  SELECT resource_id, {query._PRESENT} AS present
  FROM (SELECT DISTINCT resource_id FROM {matched}) AS found)"""


def sum_over(
    filters: dict[str, str],
    cities: list[str],
    over: str,
    units: list[str],
    *,
    start: str | None,
    end: str | None,
) -> dict[str, Any]:
    """Per city, period, area, unit and table: the sum of the parts of ``over``, how many rows
    were added (and how many had no value), and the published total(s) of the same key."""
    if over == "area":
        part, total = "area_level = :area_level", "area_level = 'stadt'"
        key = "city, period, unit, resource_id"
        area = "NULL::text AS area_name, NULL::text AS area_code"
        skip = "area_level"
    else:
        part, total = f"{store.q(over)} <> 'total'", f"{store.q(over)} = 'total'"
        key = "city, period, unit, resource_id, area_level, area_code, area_name"
        area = "area_name, area_code"
        skip = over
    statement = f"""
WITH matched AS (
  SELECT * FROM {store.ROWS}
  WHERE {_where(filters, skip)} AND unit = ANY(:units) AND {query._in_period(start, end)}
    AND ({part} OR {total})
), {_cited("matched")},
parts AS (
  SELECT {key}, sum(value) AS sum, count(*) AS rows_summed,
    count(*) FILTER (WHERE value IS NULL) AS rows_without_value,
    array_agg(DISTINCT {"area_name" if over == "area" else store.q(over)}) AS summed
  FROM matched m JOIN cited c USING (resource_id) WHERE c.present AND {part}
  GROUP BY {key}
), totals AS (
  SELECT city, period, unit, {"" if over == "area" else "area_level, area_code, area_name,"}
    array_agg(DISTINCT value) FILTER (WHERE value IS NOT NULL) AS published
  FROM matched m JOIN cited c USING (resource_id) WHERE c.present AND {total}
  GROUP BY city, period, unit{"" if over == "area" else ", area_level, area_code, area_name"}
)
SELECT
  (SELECT coalesce(json_agg(r ORDER BY array_position(:cities, r.city), r.area_code {C},
     r.period {C}, r.dataset_name {C}), '[]') FROM (
     SELECT p.city, p.period, p.unit, p.resource_id, t.dataset_name,
       {"p.area_name, p.area_code" if over != "area" else area},
       p.sum, p.rows_summed, p.rows_without_value, p.summed, o.published
     FROM parts p JOIN {store.TABLES} t USING (resource_id)
     LEFT JOIN totals o ON (o.city, o.period, o.unit) = (p.city, p.period, p.unit)
       {
        ""
        if over == "area"
        else "AND (o.area_level, coalesce(o.area_code, ''), o.area_name) = "
        "(p.area_level, coalesce(p.area_code, ''), p.area_name)"
    }
  ) AS r) AS results,
  {_tail("matched")}
"""
    return query._run(
        statement, dict(filters, cities=list(cities), units=list(units), start=start, end=end)
    )


def latest(filters: dict[str, str], cities: list[str]) -> dict[str, Any]:
    """Per city and area the row of the latest period (the latest end day; ties by table)."""
    statement = f"""
WITH matched AS (
  SELECT * FROM {store.ROWS} WHERE {_where(filters, "")}
), {_cited("matched")}
SELECT
  (SELECT coalesce(json_agg(r ORDER BY array_position(:cities, r.city),
     coalesce(r.area_code, '') {C}, r.area_name {C}), '[]') FROM (
     SELECT DISTINCT ON (m.city, coalesce(m.area_code, ''), m.area_name)
       m.city, m.area_name, m.area_code, m.period, m.value, m.value_status, m.unit,
       m.resource_id, m.dataset_name
     FROM matched m JOIN cited c USING (resource_id) WHERE c.present
     ORDER BY m.city, coalesce(m.area_code, ''), m.area_name,
       {_END_DAY.replace("period", "m.period")} {C} DESC, m.dataset_name {C}, m.source_row
  ) AS r) AS results,
  {_tail("matched")}
"""
    return query._run(statement, dict(filters, cities=list(cities)))


def change(
    filters: dict[str, str], cities: list[str], first: tuple[str, str], last: tuple[str, str]
) -> dict[str, Any]:
    """Per city and area: the latest row whose period ends within ``first`` (its first and last
    day) and the one within ``last``; their difference, absolute and in percent."""
    end_day = _END_DAY.replace("period", "m.period")

    def pick(lo: str, hi: str) -> str:
        return f"""SELECT DISTINCT ON (m.city, coalesce(m.area_code, ''), m.area_name)
       m.city, coalesce(m.area_code, '') AS code, m.area_name, m.period, m.value, m.unit,
       m.resource_id
     FROM matched m JOIN cited c USING (resource_id)
     WHERE c.present AND {end_day} {C} >= :{lo} AND {end_day} {C} <= :{hi}
     ORDER BY m.city, coalesce(m.area_code, ''), m.area_name, {end_day} {C} DESC,
       m.dataset_name {C}, m.source_row"""

    statement = f"""
WITH matched AS (
  SELECT * FROM {store.ROWS} WHERE {_where(filters, "")}
), {_cited("matched")},
a AS ({pick("a_lo", "a_hi")}), b AS ({pick("b_lo", "b_hi")})
SELECT
  (SELECT coalesce(json_agg(r ORDER BY array_position(:cities, r.city), r.area_code {C},
     r.area_name {C}), '[]') FROM (
     SELECT a.city, a.area_name, a.code AS area_code, a.unit,
       a.period AS period_from, a.value AS value_from, a.resource_id AS resource_from,
       b.period AS period_to, b.value AS value_to, b.resource_id AS resource_to,
       b.value - a.value AS change,
       CASE WHEN a.value <> 0 THEN round((b.value - a.value) / abs(a.value) * 100, 2) END
         AS change_percent
     FROM a JOIN b USING (city, code, area_name, unit)) AS r) AS results,
  {_tail("matched")}
"""
    return query._run(
        statement,
        dict(
            filters,
            cities=list(cities),
            a_lo=first[0],
            a_hi=first[1],
            b_lo=last[0],
            b_hi=last[1],
        ),
    )


def share(
    filters: dict[str, str],
    cities: list[str],
    over: str,
    part: str,
    units: list[str],
    *,
    start: str | None,
    end: str | None,
) -> dict[str, Any]:
    """Per table, city, period and area: the part (``over`` = ``part``) over its total
    (``over`` = ``total``) of the same table (``resource_id``) and unit, in percent."""
    col = store.q(over)
    statement = f"""
WITH matched AS (
  SELECT * FROM {store.ROWS}
  WHERE {_where(filters, over)} AND unit = ANY(:units) AND {query._in_period(start, end)}
    AND {col} IN (:part, 'total')
), {_cited("matched")}
SELECT
  (SELECT coalesce(json_agg(r ORDER BY array_position(:cities, r.city), r.area_code {C},
     r.period {C}, r.dataset_name {C}), '[]') FROM (
     SELECT p.city, p.area_name, p.area_code, p.period, p.unit, p.resource_id, p.dataset_name,
       p.value AS part_value, t.value AS total_value,
       CASE WHEN t.value <> 0 THEN round(p.value / t.value * 100, 2) END AS share_percent
     FROM matched p JOIN matched t
       ON (p.resource_id, p.city, p.period, p.unit, p.area_level, coalesce(p.area_code, ''),
           p.area_name)
        = (t.resource_id, t.city, t.period, t.unit, t.area_level, coalesce(t.area_code, ''),
           t.area_name)
     JOIN cited c ON c.resource_id = p.resource_id
     WHERE c.present AND p.{col} = :part AND t.{col} = 'total') AS r) AS results,
  {_tail("matched")}
"""
    return query._run(
        statement,
        dict(filters, cities=list(cities), units=list(units), part=part, start=start, end=end),
    )
