"""What the tools read: the cities' public normalised tables in the observation store, bounded.

Every cross-city read is a fixed number of SQL queries on the store (``observations.rows``),
whatever the catalogue holds: before, the tools paged through the catalogue and read each table
through the DataStore, so a call cost grew with the tables. The store holds checked public tables
only and records each skipped one with its reason; the datasets a result cites are fetched in one
search of public datasets, and a row whose dataset that search does not return (private or
withdrawn since) is left out. A tool reads the rows its question asks for (level and breakdown
values in SQL) and what exists besides from the tables' coverage summaries (``Coverage``). One
call reads at most ``ROW_BOUND`` rows of an indicator per city: a question that would need more
is refused with a message instead of being answered from part of the data.
"""

from __future__ import annotations

import difflib
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte.logic import exports
from ckanext.vierstaedte.logic.tools import words
from ckanext.vierstaedte.observations import rows as store_rows
from vierstaedte_contract import table, vocabularies
from vierstaedte_contract.names import name_key

ROW_BOUND = 20_000
LEVELS = table.enum("area_level")

# a city's stored tables, each ``{resource_id, dataset_id, dataset_name, dataset_title, city, …}``
Sources = list[dict[str, Any]]
Rows = list[tuple[dict[str, Any], dict[str, Any]]]


def city_tables(
    context: dict, names: list[str], skipped: list[dict[str, Any]]
) -> dict[str, Sources]:
    """Each city's stored tables (one SQL); the cities' skipped tables are added to ``skipped``."""
    stored, passed = store_rows.city_tables(names)
    for entry in passed:
        if all(e["resource_id"] != entry["resource_id"] for e in skipped):
            skipped.append(entry)
    found: dict[str, Sources] = {name: [] for name in names}
    for entry in stored:
        found[entry["city"]].append(entry)
    return found


def datasets(context: dict, ids: set[str]) -> dict[str, dict[str, Any]]:
    """The public, active datasets among ``ids`` (one search), by id."""
    if not ids:
        return {}
    fq = "+id:({})".format(" OR ".join(f'"{i}"' for i in sorted(ids)))
    return {d["id"]: d for d in exports.public_datasets(context, fq=fq, rows=len(ids))}


def _too_many() -> tk.ValidationError:
    return tk.ValidationError(
        {
            "indicator": [
                tk._(
                    "Mehr als {bound} Zeilen für diesen Indikator; bitte über "
                    "read_rows mit Filtern lesen."
                ).format(bound=ROW_BOUND)
            ]
        }
    )


def cities_rows(
    context: dict,
    indicator: str,
    sources: dict[str, Sources],
    skipped: list[dict[str, Any]],
    where: dict[str, list[str]] | None = None,
    public: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Rows]:
    """Each city's rows of one indicator, each with its dataset; in table order (one SQL, and
    one search unless ``public`` already holds the public datasets by id). ``where`` narrows
    the rows in SQL (``observations.rows.NARROWING``: the question's level and breakdowns).
    More than ``ROW_BOUND`` rows in a city is refused."""
    found: dict[str, Rows] = {name: [] for name in sources}
    owners = {t["resource_id"]: name for name, held in sources.items() for t in held}
    if not owners:
        return found
    records = store_rows.indicator_rows(indicator, owners, ROW_BOUND + 1, where)
    if any(r["ordinal"] > ROW_BOUND for r in records):
        raise _too_many()
    if public is None:
        public = datasets(context, {r["dataset_id"] for r in records})
    for record in records:
        dataset = public.get(record.pop("dataset_id"))
        city = owners[record.pop("resource_id")]
        record.pop("ordinal")
        if dataset is not None:
            found[city].append((dict(record, value=table.number(record["value"])), dataset))
    return found


def indicator_rows(
    context: dict, city: str, indicator: str, sources: Sources, skipped: list[dict[str, Any]]
) -> Rows:
    """The city's rows of one indicator, each with its dataset; in table order."""
    return cities_rows(context, indicator, {city: sources}, skipped)[city]


def cities_indicators(
    context: dict, sources: dict[str, Sources], skipped: list[dict[str, Any]]
) -> dict[str, list[str]]:
    """The indicators each city's tables hold (one SQL on the tables' summaries)."""
    owners = {t["resource_id"]: name for name, held in sources.items() for t in held}
    found: dict[str, set[str]] = {name: set() for name in sources}
    for entry in store_rows.indicators(list(owners)) if owners else []:
        found[owners[entry["resource_id"]]].add(entry["indicator"])
    return {name: sorted(held, key=order_of_indicators) for name, held in found.items()}


def city_indicators(context: dict, sources: Sources, skipped: list[dict[str, Any]]) -> list[str]:
    """The indicators these tables hold."""
    return cities_indicators(context, {"": sources}, skipped)[""]


def groups(
    context: dict, sources: dict[str, Sources]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """What the tables hold per indicator (``observations.rows.groups``), each with its ``city``
    (the table's) and ``dataset_id``, by city and dataset name; and the public datasets by id
    (one SQL, one search). Groups of a dataset that is no longer public are left out."""
    tables = {t["resource_id"]: t for held in sources.values() for t in held}
    order = list(sources)
    if not tables:
        return [], {}
    found = [
        dict(
            group,
            city=tables[group["resource_id"]]["city"],
            dataset_id=tables[group["resource_id"]]["dataset_id"],
        )
        for group in store_rows.groups(list(tables))
    ]
    public = datasets(context, {g["dataset_id"] for g in found})
    found = [g for g in found if g["dataset_id"] in public]
    found.sort(
        key=lambda g: (
            order.index(g["city"]),
            tables[g["resource_id"]]["dataset_name"].encode(),
        )
    )
    return found, public


class Coverage:
    """What the cities' public tables hold of one indicator, from their coverage summaries (one
    SQL, one search): whether a city holds it, its levels, periods and breakdown values, and
    how many rows it has. The tools answer from the question's rows and take what they offer
    instead (levels, periods, breakdowns) from here, so neither costs more as the rows grow."""

    def __init__(self, context: dict, indicator: str, sources: dict[str, Sources]):
        tables = {t["resource_id"]: t for held in sources.values() for t in held}
        found = store_rows.coverage(indicator, list(tables)) if tables else []
        self.public = datasets(context, {g["dataset_id"] for g in found})
        self.groups: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
        for group in sorted(found, key=lambda g: tables[g["resource_id"]]["dataset_name"].encode()):
            if group["dataset_id"] in self.public:
                self.groups[tables[group["resource_id"]]["city"]].append(group)

    def held(self, city: str) -> bool:
        return bool(self.groups.get(city))

    def rows(self, city: str) -> int:
        return sum(int(g["row_count"]) for g in self.groups.get(city, []))

    def fits(self, city: str) -> bool:
        """Whether all of the city's rows of the indicator are within the tools' bound."""
        return self.rows(city) <= ROW_BOUND

    def datasets(self, cities: list[str]) -> list[dict[str, Any]]:
        """The public datasets that hold the indicator, by city and dataset name."""
        ids = [g["dataset_id"] for city in cities for g in self.groups.get(city, [])]
        return [self.public[i] for i in dict.fromkeys(ids)]

    def levels(self, city: str) -> list[str]:
        held = {level for g in self.groups.get(city, []) for level in g["area_levels"]}
        return sorted(held, key=level_order)

    def offered(self, city: str) -> dict[str, Any]:
        """As ``existing`` says it of rows: levels, periods and each breakdown's values (in
        their natural order, without row counts); no areas (the summary does not list them)."""
        groups = self.groups.get(city, [])

        def values(field: str) -> list[dict[str, Any]]:
            held = {value for g in groups for value in g[field]}
            return [{"value": v} for v in sorted(held, key=lambda v: words.value_order(field, v))]

        return {
            "area_levels": self.levels(city),
            "areas": [],
            "periods": sorted({p for g in groups for p in g["periods"]}),
            **{field: values(field) for field in words.BREAKDOWNS},
            "dimensions": {d: [] for g in groups for d in g["dimensions"] if d != "none"},
        }


def order_of_indicators(indicator: str) -> tuple[int, str]:
    known = list(vocabularies.indicators())
    return (known.index(indicator) if indicator in known else len(known), indicator)


def closest(wanted: str, candidates: list[str], labels: dict[str, str] | None = None) -> list[str]:
    """Candidates sorted by how close they are to ``wanted`` (spelling, also of their labels)."""
    key = name_key(wanted)
    keys = {
        c: [name_key(c)] + ([name_key(labels[c])] if labels and c in labels else [])
        for c in candidates
    }

    def score(candidate: str) -> float:
        return max(
            (1.0 if key and (key in k or k in key) else 0.0)
            + difflib.SequenceMatcher(None, key, k).ratio()
            for k in keys[candidate]
        )

    return sorted(candidates, key=lambda c: -score(c))


def level_order(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def counted(rows: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    """Each value of ``field`` in ``rows`` with its number of rows, in first-seen order."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[field]] = counts.get(row[field], 0) + 1
    return [{"value": value, "rows": n} for value, n in counts.items()]


def existing(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What the rows offer: area levels, areas, periods and every breakdown value, with counts."""
    areas: dict[tuple[str, str], int] = {}
    for row in rows:
        areas[(row["area_level"], row["area_name"])] = (
            areas.get((row["area_level"], row["area_name"]), 0) + 1
        )
    dimensions: dict[str, list[dict[str, Any]]] = {}
    for dimension in dict.fromkeys(r["dimension"] for r in rows):
        if dimension != "none":
            dimensions[dimension] = counted(
                [r for r in rows if r["dimension"] == dimension], "dimension_value"
            )
    return {
        "area_levels": sorted({r["area_level"] for r in rows}, key=level_order),
        "areas": [
            {"level": level, "name": name, "rows": n}
            for (level, name), n in sorted(
                areas.items(), key=lambda i: (level_order(i[0][0]), i[0][1])
            )
        ],
        "periods": sorted({r["period"] for r in rows}),
        "sex": counted(rows, "sex"),
        "age_group": counted(rows, "age_group"),
        "nationality": counted(rows, "nationality"),
        "dimensions": dimensions,
    }
