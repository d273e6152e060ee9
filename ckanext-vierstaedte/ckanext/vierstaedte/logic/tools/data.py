"""What the tools read: a city's public normalised tables, bounded, and what exists in them.

Every read goes through ``tables`` (a table that breaks the contract is skipped with its
reason) and uses ``datastore_search`` filters, so no SQL is built from a tool's arguments; the
only SQL here aggregates one table named by its checked resource id. One call reads at most
``ROW_BOUND`` rows of an indicator per city: a request that would need more is refused with a
message instead of being answered from part of the data.
"""

from __future__ import annotations

import difflib
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte.logic import exports, tables
from vierstaedte_contract import table, vocabularies
from vierstaedte_contract.names import name_key

ROW_BOUND = 20_000
LEVELS = table.enum("area_level")


Sources = list[tuple[dict[str, Any], dict[str, Any]]]


def city_tables(
    context: dict, names: list[str], skipped: list[dict[str, Any]]
) -> dict[str, Sources]:
    """Each city's public datasets with a usable normalised table, and that table (one search)."""
    found: dict[str, Sources] = {name: [] for name in names}
    fq = "+organization:({})".format(" OR ".join(f'"{name}"' for name in names))
    for dataset in exports.public_datasets(context, fq=fq):
        try:
            resource = tables.checked(context, dataset)
        except tables.Skipped as error:
            tables.add(skipped, error)
            continue
        city = (dataset.get("organization") or {}).get("name")
        if resource is not None and city in found:
            found[city].append((dataset, resource))
    return found


def indicator_rows(
    context: dict, city: str, indicator: str, sources: Sources, skipped: list[dict[str, Any]]
) -> Sources:
    """The city's rows of one indicator, each with its dataset; in table order."""
    found = []
    for dataset, resource in sources:
        try:
            rows = list(
                tables.records(
                    context,
                    dataset,
                    resource,
                    filters={"indicator": indicator, "city": city},
                    sort="_id",
                    most=ROW_BOUND + 1,
                )
            )
        except tables.Skipped as error:
            tables.add(skipped, error)
            continue
        found += [(dict(row, value=table.number(row["value"])), dataset) for row in rows]
        if len(found) > ROW_BOUND:
            raise tk.ValidationError(
                {
                    "indicator": [
                        tk._(
                            "Mehr als {bound} Zeilen für diesen Indikator; bitte über "
                            "read_rows mit Filtern lesen."
                        ).format(bound=ROW_BOUND)
                    ]
                }
            )
    return found


def city_indicators(context: dict, sources: Sources, skipped: list[dict[str, Any]]) -> list[str]:
    """The indicators these tables hold."""
    found: set[str] = set()
    for dataset, resource in sources:
        try:
            records = tables.records(
                context, dataset, resource, fields=["indicator"], distinct=True, most=1000
            )
            found.update(r["indicator"] for r in records)
        except tables.Skipped as error:
            tables.add(skipped, error)
    return sorted(found, key=order_of_indicators)


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
