"""Machine-readable catalogue exports for AI tools and data pipelines.

One JSON Lines record per public dataset (what it is, where, which
indicators, which periods, which fields, which licence, which URLs) lets an
assistant pick the right table without crawling the portal; the catalogue
as one Frictionless Data Package lets pipelines load every normalised table
with the common schema in one go. Tables are read through ``tables``: one that
breaks the contract is described as skipped, never a reason to stop the export.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import ckan.plugins.toolkit as tk

import vierstaedte_contract
from ckanext.vierstaedte.logic import schema, tables
from vierstaedte_contract import cities, vocabularies
from vierstaedte_contract.dataset import DATAPACKAGE, NORMALISED, RAW, resource_with_role
from vierstaedte_contract.table import descriptor as table_schema

SEARCH_PAGE = 500


# --- the data contract (vierstaedte_contract) -----------------------------------------------


def unit_label(unit: str | None, lang: str = "de") -> str | None:
    return vocabularies.unit_info(unit, lang)["label"] if unit else unit


def table_schema_url() -> str:
    """Where the portal serves the Table Schema; the ``dct:conformsTo`` of normalised tables."""
    return tk.config.get("ckan.site_url").rstrip("/") + "/katalog/city-statistics.schema.json"


# --- datasets and their tables ----------------------------------------------------------------


def sub_context(context: dict) -> dict:
    """A fresh context for nested actions: same user, nothing else carried over."""
    return {"user": context.get("user")}


def table_id(value: Any) -> str:
    """A DataStore table name is a resource id; only a canonical UUID may reach SQL."""
    try:
        canonical = str(uuid.UUID(str(value)))
    except ValueError:
        canonical = None
    if canonical != value:
        raise tk.ValidationError(
            {"resource_id": [tk._("Keine gültige Ressourcen-ID: {value}").format(value=value)]}
        )
    return canonical


def table_indicators(
    context: dict, dataset: dict[str, Any]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The dataset's usable table, and its indicators with unit, period range and row count.

    One aggregate query reads them.

    Raises ``tables.Skipped`` for a table that breaks the contract (a row with
    a required field empty included, counted in the same query).
    """
    table = tables.checked(context, dataset)
    if table is None:
        return None, []
    sql = (
        "SELECT indicator, unit, MIN(period) AS first_period, MAX(period) AS last_period, "
        f"COUNT(*) AS row_count, {tables.incomplete_rows_sql()} AS incomplete "
        f'FROM "{table_id(table["id"])}" GROUP BY indicator, unit ORDER BY indicator, unit'
    )
    rows = tables.sql(context, dataset, table, sql)
    incomplete = sum(int(row["incomplete"] or 0) for row in rows)
    if incomplete:
        raise tables.Skipped(
            dataset,
            table["id"],
            tk._(
                "{count} Zeile(n) der Tabelle fehlen Pflichtangaben des gemeinsamen Schemas."
            ).format(count=incomplete),
        )
    known = vocabularies.indicators()
    return table, [
        {
            "id": row["indicator"],
            "label_de": known.get(row["indicator"], {}).get("label_de", row["indicator"]),
            "label_en": known.get(row["indicator"], {}).get("label_en", row["indicator"]),
            "unit": row["unit"],
            "unit_label": unit_label(row["unit"]),
            "first_period": row["first_period"],
            "last_period": row["last_period"],
            "rows": int(row["row_count"]),
        }
        for row in rows
    ]


def dataset_urls(dataset: dict[str, Any]) -> dict[str, str | None]:
    site = tk.config.get("ckan.site_url").rstrip("/")
    table = resource_with_role(dataset, NORMALISED)
    package = resource_with_role(dataset, DATAPACKAGE)
    raw = resource_with_role(dataset, RAW)
    return {
        "page": f"{site}/dataset/{dataset['name']}",
        "api": f"{site}/api/3/action/package_show?id={dataset['id']}",
        "csv": table["url"] if table else None,
        "datastore_search": (
            f"{site}/api/3/action/datastore_search?resource_id={table['id']}"
            if table and table.get("datastore_active")
            else None
        ),
        "datapackage": package["url"] if package else None,
        "source_file": raw["url"] if raw else None,
        "source_page": dataset.get("source_url"),
    }


def city_of(dataset: dict[str, Any]) -> dict[str, Any]:
    org = dataset.get("organization") or {}
    city = cities.as_dict(org.get("name", "")) or {}
    return {
        "name": org.get("name"),
        "title": org.get("title") or city.get("title"),
        "ags": city.get("ags"),
    }


def licence_of(dataset: dict[str, Any]) -> dict[str, Any]:
    uri = dataset.get("license_id")
    return {"uri": uri, "title": vocabularies.label("licenses", uri) if uri else None}


def licence_details(dataset: dict[str, Any], lang: str = "de") -> dict[str, Any]:
    """The dataset's licence for a citation: ``id`` (its URI), title in ``lang``, the text's URL."""
    uri = dataset.get("license_id")
    found = vocabularies.licence(uri) if uri else None
    return {
        "id": uri,
        "title": found.title(lang) if found else uri,
        "url": found.url if found else None,
        "code": found.code if found else None,
    }


def publisher_of(dataset: dict[str, Any]) -> str | None:
    """Who publishes the data: the dataset's publisher, else its city."""
    named = [p.get("name") for p in dataset.get("publisher") or [] if p.get("name")]
    return named[0] if named else city_of(dataset)["title"]


def fields_with_units(table_indicator_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The schema's fields; ``value`` carries the units of the indicators actually in the table."""
    result = []
    for field in table_schema()["fields"]:
        entry = {k: field[k] for k in ("name", "type", "title", "description") if k in field}
        if field["name"] == "value":
            entry["units"] = sorted({i["unit"] for i in table_indicator_list if i["unit"]})
        result.append(entry)
    return result


def catalogue_record(context: dict, dataset: dict[str, Any]) -> dict[str, Any]:
    """Everything an AI tool needs to judge and cite one dataset, in one flat-ish record.

    A table that breaks the contract leaves ``indicators`` and ``fields`` empty and
    says why in ``table_skipped``; the dataset's metadata is still described.
    """
    try:
        table, found = table_indicators(context, dataset)
        skipped = None
    except tables.Skipped as error:
        table, found, skipped = None, [], error.entry["reason"]
    periods = [p for i in found for p in (i["first_period"], i["last_period"]) if p]
    return {
        "id": dataset["id"],
        "name": dataset["name"],
        "title": dataset.get("title"),
        "description": dataset.get("notes"),
        "city": city_of(dataset),
        "area_level": dataset.get("spatial_granularity"),
        "themes": dataset.get("theme") or [],
        "keywords": [t["name"] for t in dataset.get("tags", [])],
        "indicators": found,
        "period": {
            "start": dataset.get("temporal_start") or (min(periods) if periods else None),
            "end": dataset.get("temporal_end") or (max(periods) if periods else None),
        },
        "fields": fields_with_units(found) if table else [],
        "table_schema": {"url": table_schema_url(), "version": dataset.get("table_schema_version")},
        "table_skipped": skipped,
        "licence": licence_of(dataset),
        "urls": dataset_urls(dataset),
        "validation_status": dataset.get("validation_status"),
        "metadata_modified": dataset.get("metadata_modified"),
    }


def public_datasets(
    context: dict, fq: str = "", start: int = 0, rows: int | None = None
) -> Iterator[dict[str, Any]]:
    """Public, active datasets in a stable order, fetched page by page (never private ones)."""
    search = tk.get_action("package_search")
    query = "+dataset_type:dataset" + (f" {fq}" if fq else "")
    remaining = rows
    while remaining is None or remaining > 0:
        page_size = SEARCH_PAGE if remaining is None else min(SEARCH_PAGE, remaining)
        page = search(
            sub_context(context),
            {
                "fq": query,
                "sort": "name asc",
                "rows": page_size,
                "start": start,
                "include_private": False,
            },
        )
        yield from page["results"]
        start += len(page["results"])
        if remaining is not None:
            remaining -= len(page["results"])
        if not page["results"] or start >= page["count"]:
            return


def catalogue_lines(context: dict) -> Iterator[str]:
    """The JSON Lines export, one line per dataset, produced lazily for a streamed response."""
    for dataset in public_datasets(context):
        yield json.dumps(catalogue_record(context, dataset), ensure_ascii=False) + "\n"


def catalogue_datapackage(context: dict) -> dict[str, Any]:
    """The catalogue as one Data Package: a resource per normalised table, all with the schema.

    Tables that break the contract are not resources; ``skipped`` names them with the reason.
    """
    site = tk.config.get("ckan.site_url").rstrip("/")
    resources, licences, sources, skipped = [], {}, {}, []
    for dataset in public_datasets(context):
        try:
            table, _found = table_indicators(context, dataset)
        except tables.Skipped as error:
            tables.add(skipped, error)
            continue
        if not table:
            continue
        licence = licence_of(dataset)
        city = city_of(dataset)
        entry = {"name": licence["uri"], "path": licence["uri"], "title": licence["title"]}
        licences[licence["uri"]] = entry
        sources[city["name"]] = {
            "title": city["title"],
            "path": f"{site}/organization/{city['name']}",
        }
        resources.append(
            {
                "profile": "tabular-data-resource",
                "name": dataset["name"],
                "path": table["url"],
                "title": dataset.get("title"),
                "description": dataset.get("notes") or "",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": table_schema(),
                "licenses": [entry],
                "sources": [
                    {"title": dataset.get("title"), "path": f"{site}/dataset/{dataset['name']}"}
                ],
            }
        )
    return {
        "profile": "tabular-data-package",
        "name": "vierstaedte-katalog",
        "title": tk.config.get("ckan.site_title"),
        "description": tk.config.get("ckan.site_description") or "",
        "homepage": site,
        "version": vierstaedte_contract.SCHEMA_VERSION,
        "licenses": list(licences.values()),
        "sources": list(sources.values()),
        "resources": resources,
        "skipped": skipped,
    }


# --- actions ------------------------------------------------------------------------------------


@tk.side_effect_free
def vierstaedte_catalogue_export(context, data_dict):
    """A page of the catalogue export (``start``, ``rows``); ``/katalog.jsonl`` streams all of it."""
    tk.check_access("vierstaedte_catalogue_export", context, data_dict)
    data = schema.validate(data_dict, schema.catalogue_export(), context)
    datasets = list(public_datasets(context, start=data["start"], rows=data["rows"]))
    total = tk.get_action("package_search")(
        sub_context(context), {"fq": "+dataset_type:dataset", "rows": 0}
    )["count"]
    return {"count": total, "results": [catalogue_record(context, d) for d in datasets]}


def get_actions():
    return {"vierstaedte_catalogue_export": vierstaedte_catalogue_export}
