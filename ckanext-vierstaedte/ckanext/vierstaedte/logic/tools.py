"""A tool-calling API for assistant bots: search, describe, query one number with a citation.

Each tool is a CKAN action whose parameters are declared once, as JSON
Schema: the same schema validates the call and is published in the tool
manifest (``/api/vierstaedte/tools.json``), so a bot is never told one thing
and checked against another. Only public datasets are ever used.
"""

from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
import jsonschema

from ckanext.vierstaedte.logic import exports, tables
from vierstaedte_contract import cities, vocabularies
from vierstaedte_contract.areas import resolver as area_resolver
from vierstaedte_contract.table import number

AREA_LIMIT = 1000
ROW_LIMIT = 1000
TOTAL = "total"


def _cities() -> list[str]:
    return [c["name"] for c in cities.as_dicts()]


def tool_schemas() -> dict[str, dict[str, Any]]:
    """Name → description and JSON Schema of the parameters of every tool."""
    names = _cities()
    city = {
        "type": "string",
        "enum": names,
        "description": f"Stadt als Kurzname: {', '.join(names[:-1])} oder {names[-1]}.",
    }
    titles = [c.short_title for c in cities.members()]
    all_cities = f"{', '.join(titles[:-1])} und {titles[-1]}"
    known = ", ".join(sorted(vocabularies.indicators()))
    return {
        "vierstaedte_tool_search_datasets": {
            "description": f"Sucht Statistik-Datensätze der Städte {all_cities} "
            "nach Stichwörtern. Liefert je Treffer Name, Titel, Stadt, Gebietsebene, Indikatoren, "
            "Zeitraum und URLs.",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 200,
                        "description": "Suchwörter, z. B. 'Einwohner Ortsbezirke'.",
                    },
                    "city": city,
                    "limit": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 10,
                        "default": 5,
                        "description": "Höchstzahl der Treffer (1–10).",
                    },
                },
                "required": ["query"],
                "additionalProperties": False,
            },
        },
        "vierstaedte_tool_describe_dataset": {
            "description": (
                "Beschreibt einen Datensatz: Felder mit Einheiten, Indikatoren, Zeiträume, "
                "Gebiete, Lizenz, URLs und eine Zitierangabe."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "id": {
                        "type": "string",
                        "pattern": "^[a-z0-9_-]{2,100}$",
                        "description": "Name oder ID des Datensatzes aus der Suche.",
                    },
                },
                "required": ["id"],
                "additionalProperties": False,
            },
        },
        "vierstaedte_tool_query_indicator": {
            "description": "Liefert den Wert eines Indikators für eine Stadt oder eines ihrer Gebiete "
            "(z. B. Einwohner 2023 in Mainz-Gonsenheim) mit Einheit und Quellenangabe.",
            "parameters": {
                "type": "object",
                "properties": {
                    "indicator": {
                        "type": "string",
                        "pattern": "^[a-z][a-z0-9_]{0,63}$",
                        "description": f"Kennung des Indikators, z. B. population_total. Bekannt: {known}.",
                    },
                    "city": city,
                    "area_name": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 100,
                        "description": "Gebiet (Ortsbezirk, Stadtteil …), z. B. 'Gonsenheim' oder "
                        "'Mainz-Gonsenheim'; ohne Angabe die ganze Stadt.",
                    },
                    "period": {
                        "type": "string",
                        "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$",
                        "description": "Zeitbezug (Jahr, Jahr-Monat oder Datum), z. B. '2023'; ohne Angabe "
                        "der neueste.",
                    },
                    "sex": {
                        "type": "string",
                        "enum": ["total", "female", "male", "diverse", "unknown"],
                        "default": TOTAL,
                        "description": "Geschlecht; Standard total (alle).",
                    },
                    "age_group": {
                        "type": "string",
                        "pattern": r"^(total|\d{1,3}-\d{1,3}|\d{1,3}\+)$",
                        "default": TOTAL,
                        "description": "Altersgruppe wie '18-64' oder '65+'; Standard total.",
                    },
                    "nationality": {
                        "type": "string",
                        "enum": ["total", "german", "foreign"],
                        "default": TOTAL,
                        "description": "Staatsangehörigkeit; Standard total.",
                    },
                },
                "required": ["indicator", "city"],
                "additionalProperties": False,
            },
        },
    }


def tool_manifest() -> dict[str, Any]:
    """OpenAI-style function definitions.

    Each is called as ``POST /api/3/action/<name>`` with JSON arguments.
    """
    site = tk.config.get("ckan.site_url").rstrip("/")
    return {
        "api": f"{site}/api/3/action/",
        "tools": [
            {"type": "function", "function": {"name": name, **spec}}
            for name, spec in tool_schemas().items()
        ],
    }


def _message(error: jsonschema.ValidationError) -> str:
    value = error.instance
    if error.validator == "enum":
        return tk._("Unbekannter Wert: {value}. Erlaubt sind: {allowed}").format(
            value=value, allowed=", ".join(error.validator_value)
        )
    if error.validator == "pattern":
        return tk._("Ungültiges Format: {value}").format(value=value)
    if error.validator in ("minimum", "maximum"):
        bounds = error.schema
        return tk._("Muss zwischen {min} und {max} liegen, nicht: {value}").format(
            min=bounds.get("minimum"), max=bounds.get("maximum"), value=value
        )
    if error.validator == "type":
        return tk._("Erwartet wird {type}, nicht: {value}").format(
            type=error.validator_value, value=value
        )
    if error.validator in ("minLength", "maxLength"):
        return tk._("Länge muss zwischen {min} und {max} Zeichen liegen.").format(
            min=error.schema.get("minLength", 0), max=error.schema.get("maxLength")
        )
    return error.message


def validate(tool: str, data_dict: dict[str, Any]) -> dict[str, Any]:
    """Check the arguments against the tool's JSON Schema; defaults filled in, errors per parameter."""
    schema = tool_schemas()[tool]["parameters"]
    data = dict(data_dict)
    for key, spec in schema["properties"].items():  # query strings carry numbers as text
        if spec["type"] == "integer" and isinstance(data.get(key), str) and data[key].isdigit():
            data[key] = int(data[key])
    errors: dict[str, list[str]] = {}
    for key in sorted(set(data) - set(schema["properties"])):
        errors[key] = [
            tk._("Unbekannter Parameter. Erlaubt sind: {allowed}").format(
                allowed=", ".join(schema["properties"])
            )
        ]
    for key in schema["required"]:
        if key not in data:
            errors[key] = [tk._("Pflichtangabe fehlt.")]
    # each property on its own, so every message belongs to exactly one parameter
    for key, spec in schema["properties"].items():
        if key in data:
            for error in jsonschema.Draft202012Validator(spec).iter_errors(data[key]):
                errors.setdefault(key, []).append(_message(error))
    if errors:
        raise tk.ValidationError(errors)
    return {**{k: s["default"] for k, s in schema["properties"].items() if "default" in s}, **data}


# --- areas --------------------------------------------------------------------------------------


def resolve_area(city: str, name: str | None) -> list[dict[str, str]]:
    """Areas called ``name`` (name, alias or code) at any level; the city itself if no name."""
    return [area.as_dict() for area in area_resolver(city).find(name)]


# --- tools --------------------------------------------------------------------------------------


def _public_dataset(context: dict, id_or_name: str) -> dict[str, Any]:
    try:
        dataset = tk.get_action("package_show")(exports.sub_context(context), {"id": id_or_name})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        dataset = None
    if not dataset or dataset.get("private") or dataset.get("state") != "active":
        raise tk.ObjectNotFound(tk._("Datensatz nicht gefunden: {id}").format(id=id_or_name))
    return dataset


def citation(dataset: dict[str, Any]) -> dict[str, Any]:
    """How to cite a dataset: title, city, portal URL, source file, licence, as parts and as one string."""
    urls = exports.dataset_urls(dataset)
    city = exports.city_of(dataset)
    licence = exports.licence_of(dataset)
    stand = (dataset.get("metadata_modified") or "")[:10]
    text = f"{city['title']}: „{dataset['title']}“, Vier Städte Open Data, {urls['page']}"
    text += f" (Stand {stand})" if stand else ""
    text += f"; Quelldatei: {urls['source_file']}" if urls["source_file"] else ""
    text += f"; Lizenz: {licence['title']}" if licence["title"] else ""
    return {
        "text": text,
        "dataset_title": dataset["title"],
        "city": city["title"],
        "dataset_url": urls["page"],
        "source_file": urls["source_file"],
        "source_page": urls["source_page"],
        "licence": licence,
    }


@tk.side_effect_free
def vierstaedte_tool_search_datasets(context, data_dict):
    """Datasets matching the words, with what they contain, so a bot can choose one."""
    tk.check_access("vierstaedte_tool_search_datasets", context, data_dict)
    data = validate("vierstaedte_tool_search_datasets", data_dict)
    search = {
        "q": data["query"],
        "fq": "+dataset_type:dataset",
        "rows": data["limit"],
        "include_private": False,
    }
    if data.get("city"):
        search["fq"] += f' +organization:"{data["city"]}"'  # a value of the enum, never free text
    found = tk.get_action("package_search")(exports.sub_context(context), search)
    results = []
    for dataset in found["results"]:
        record = exports.catalogue_record(context, dataset)
        description = record["description"] or ""
        record["description"] = description[:300] + ("…" if len(description) > 300 else "")
        del record["fields"]
        results.append(record)
    return {"count": found["count"], "results": results}


@tk.side_effect_free
def vierstaedte_tool_describe_dataset(context, data_dict):
    """One dataset in full: fields, units, indicators, periods, areas, URLs and citation."""
    tk.check_access("vierstaedte_tool_describe_dataset", context, data_dict)
    data = validate("vierstaedte_tool_describe_dataset", data_dict)
    dataset = _public_dataset(context, data["id"])
    record = exports.catalogue_record(context, dataset)
    areas, periods = [], []
    if record["indicators"]:  # the table passed the checks in catalogue_record
        table = tables.normalised_resource(dataset)
        name = exports.table_id(table["id"])
        try:
            areas = tables.sql(
                context,
                dataset,
                table,
                (
                    f'SELECT DISTINCT area_level, area_code, area_name FROM "{name}" '
                    f"ORDER BY area_level, area_code, area_name LIMIT {AREA_LIMIT}"
                ),
            )
            periods = [
                r["period"]
                for r in tables.sql(
                    context, dataset, table, f'SELECT DISTINCT period FROM "{name}" ORDER BY period'
                )
            ]
        except tables.Skipped as error:
            record.update(indicators=[], fields=[], table_skipped=error.entry["reason"])
            areas, periods = [], []
    return {**record, "areas": areas, "periods": periods, "citation": citation(dataset)}


def _german(number: int | float) -> str:
    text = f"{number:,}" if isinstance(number, int) else f"{number:,.2f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def _in_period(period: str, wanted: str) -> bool:
    return period == wanted or period.startswith(wanted + "-")


@tk.side_effect_free
def vierstaedte_tool_query_indicator(context, data_dict):
    """The number(s) for one indicator, city, area and period, each with unit and citation.

    Reads the public normalised tables of the city with ``datastore_search``
    filters (no SQL is built from the arguments); without ``period`` the
    newest period wins, and ``2023`` also finds a reference date such as
    ``2023-12-31``. Tables that break the contract are listed in ``skipped``.
    """
    tk.check_access("vierstaedte_tool_query_indicator", context, data_dict)
    data = validate("vierstaedte_tool_query_indicator", data_dict)
    city = cities.as_dict(data["city"])
    areas = resolve_area(data["city"], data.get("area_name"))
    if not areas:
        known = ", ".join(
            sorted({a.name for a in area_resolver(data["city"]).areas if a.level != "baublock"})[
                :40
            ]
        )
        raise tk.ValidationError(
            {
                "area_name": [
                    tk._(
                        "Unbekanntes Gebiet in {city}: {name}. Bekannt sind u. a.: {known}"
                    ).format(city=city["short_title"], name=data["area_name"], known=known)
                ]
            }
        )
    filters = {
        "indicator": data["indicator"],
        "area_name": sorted({a["name"] for a in areas}),
        "sex": data["sex"],
        "age_group": data["age_group"],
        "nationality": data["nationality"],
    }
    matches, skipped = [], []
    for dataset in exports.public_datasets(context, fq=f'+organization:"{data["city"]}"'):
        try:
            table = tables.checked(context, dataset)
            rows = (
                list(
                    tables.records(
                        context, dataset, table, filters=filters, sort="period desc", most=ROW_LIMIT
                    )
                )
                if table
                else []
            )
        except tables.Skipped as error:
            tables.add(skipped, error)
            continue
        for row in rows:
            if data.get("period") and not _in_period(row["period"], data["period"]):
                continue
            matches.append(
                {
                    "value": number(row["value"]),
                    "value_status": row["value_status"],
                    "unit": row["unit"],
                    "unit_label": exports.unit_label(row["unit"]),
                    "period": row["period"],
                    "area": {
                        "level": row["area_level"],
                        "code": row["area_code"],
                        "name": row["area_name"],
                    },
                    "dimension": row["dimension"],
                    "dimension_value": row["dimension_value"],
                    "source_column": row["source_column"],
                    "citation": citation(dataset),
                }
            )
    if not matches:
        message = tk._("Keine Werte für {indicator} in {area} ({city}){period}.").format(
            indicator=data["indicator"],
            area=", ".join(filters["area_name"]),
            city=city["short_title"],
            period=f" für {data['period']}" if data.get("period") else "",
        )
        if skipped:
            message += " " + tk._(
                "Nicht berücksichtigt, weil sie das gemeinsame Schema verletzen: {tables}."
            ).format(tables=", ".join(entry["dataset"] for entry in skipped))
        raise tk.ObjectNotFound(message)
    newest = max(m["period"] for m in matches)
    matches = sorted(
        (m for m in matches if m["period"] == newest),
        key=lambda m: (m["dimension"], m["dimension_value"], m["area"]["level"]),
    )
    label = vocabularies.indicators().get(data["indicator"], {}).get("label_de", data["indicator"])
    first = matches[0]
    value = (
        _german(first["value"])
        if first["value"] is not None
        else tk._("kein Wert ({status})").format(status=first["value_status"])
    )
    return {
        "indicator": {"id": data["indicator"], "label": label},
        "city": {"name": city["name"], "title": city["title"], "ags": city["ags"]},
        "period": newest,
        "answer": (
            f"{label}, {first['area']['name']} ({city['short_title']}), {newest}: "
            f"{value} {first['unit_label']}. "
            f"Quelle: {first['citation']['text']}"
        ),
        "results": matches,
        "skipped": skipped,
    }


def get_actions():
    return {
        "vierstaedte_tool_search_datasets": vierstaedte_tool_search_datasets,
        "vierstaedte_tool_describe_dataset": vierstaedte_tool_describe_dataset,
        "vierstaedte_tool_query_indicator": vierstaedte_tool_query_indicator,
    }
