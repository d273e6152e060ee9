"""The tools' parameters, declared once as JSON Schema, with German and English descriptions.

The same schema validates a call and is published in the manifest
(``/api/vierstaedte/tools.json``), which the MCP server lists as its tools: a model is never
told one thing and checked against another. Each parameter is checked on its own, so every
message belongs to exactly one parameter (HTTP 409, which MCP turns into a tool error).
"""

from __future__ import annotations

import datetime
from typing import Any

import ckan.plugins.toolkit as tk
import jsonschema

from vierstaedte_contract import cities, table

SEARCH_LIMIT = 10
READ_LIMIT = 100
READ_MAX_OFFSET = 100_000
LIST_ITEMS = 20  # values of a list parameter (areas, cities, age groups …)

_PERIOD = r"^\d{4}(-\d{2}(-\d{2})?)?$"
_AGE_GROUP = table.fields()["age_group"]["constraints"]["pattern"]


def _text(de: str, en: str) -> dict[str, str]:
    return {"de": de, "en": en}


def _one_or_more(item: dict[str, Any], de: str, en: str) -> dict[str, Any]:
    """A value or a list of values (a model may ask for ``65-79`` and ``80+`` at once)."""
    return {
        "anyOf": [item, {"type": "array", "items": item, "minItems": 1, "maxItems": LIST_ITEMS}],
        "description": f"{de} / {en}",
    }


def _common() -> dict[str, dict[str, Any]]:
    names = cities.names()
    return {
        "lang": {
            "type": "string",
            "enum": ["de", "en"],
            "default": "de",
            "description": "Sprache der Antwort (Sätze, Zahlen) / language of the answer "
            "(sentences, number format): de (111.316; 33,40 %) or en (111,316; 33.40 %).",
        },
        "city": {
            "type": "string",
            "enum": names,
            "description": f"Stadt / city: {', '.join(names)}.",
        },
        "limit": {
            "type": "integer",
            "minimum": 1,
            "maximum": SEARCH_LIMIT,
            "default": 5,
            "description": f"Höchstzahl der Treffer / most hits (1–{SEARCH_LIMIT}).",
        },
    }


def _breakdowns() -> dict[str, dict[str, Any]]:
    def enum(field: str) -> dict[str, Any]:
        return {"type": "string", "enum": list(table.enum(field))}

    return {
        "sex": _one_or_more(
            enum("sex"),
            "Geschlecht; Standard total (alle)",
            "sex; default total (everyone)",
        ),
        "age_group": _one_or_more(
            {"type": "string", "pattern": _AGE_GROUP},
            "Altersgruppe wie '18-64' oder '80+' (describe_dataset nennt die vorhandenen); "
            "Standard total",
            "age group such as '18-64' or '80+' (describe_dataset lists those that exist); "
            "default total",
        ),
        "nationality": _one_or_more(
            enum("nationality"),
            "Staatsangehörigkeit; Standard total",
            "nationality; default total",
        ),
        "dimension_value": _one_or_more(
            {"type": "string", "minLength": 1, "maxLength": 100},
            "Ausprägung einer weiteren Gliederung, z. B. die Partei 'CDU'; ohne Angabe alle",
            "value of a further breakdown, e.g. the party 'CDU'; default: all of them",
        ),
    }


def _period_parameters() -> dict[str, dict[str, Any]]:
    return {
        "period": {
            "type": "string",
            "pattern": _PERIOD,
            "description": "Zeitbezug (Jahr, Jahr-Monat oder Datum); '2023' findet auch den "
            "Stichtag 2023-12-31; ohne Angabe der neueste / period (year, year-month or date); "
            "'2023' also finds 2023-12-31; default: the newest.",
        },
        "period_from": {
            "type": "string",
            "pattern": _PERIOD,
            "description": "Beginn eines Zeitraums / start of a period range.",
        },
        "period_to": {
            "type": "string",
            "pattern": _PERIOD,
            "description": "Ende eines Zeitraums / end of a period range.",
        },
    }


def _indicator() -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": "^[a-z][a-z0-9_]{0,63}$",
        "description": "Kennung des Indikators aus list_indicators, z. B. population_total / "
        "indicator id from list_indicators, e.g. population_total.",
    }


def tool_schemas() -> dict[str, dict[str, Any]]:
    """Name → descriptions (de, en), JSON Schema of the parameters and examples of every tool."""
    common, breakdowns, periods = _common(), _breakdowns(), _period_parameters()
    levels = list(table.enum("area_level"))
    areas = {
        "area_level": {
            "type": "string",
            "enum": levels,
            "description": "Gebietsebene; ohne Gebiet Standard stadt (gibt es dort keine Werte, "
            "die Ebenen, die es gibt) / area level; without areas default stadt (the whole city; "
            "if it has no values, the levels that do).",
        },
        "area_name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "description": "Ein Gebiet (Ortsbezirk, Stadtteil …), z. B. 'Gonsenheim' oder "
            "'Mainz-Gonsenheim' / one area, e.g. 'Gonsenheim'.",
        },
        "areas": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 100},
            "minItems": 1,
            "maxItems": LIST_ITEMS,
            "description": "Mehrere Gebiete / several areas.",
        },
    }
    return {
        "vierstaedte_tool_search_datasets": {
            "description": _text(
                "Sucht Statistik-Datensätze der Städte nach deutschen oder englischen "
                "Stichwörtern. Liefert je Treffer Name, Titel, Stadt, Gebietsebene, Indikatoren, "
                "Zeitraum, URLs und Zitierangabe; nennt, wonach tatsächlich gesucht wurde.",
                "Searches the cities' statistical datasets by German or English words. Each hit "
                "has name, title, city, area level, indicators, period, URLs and a citation; says "
                "what was actually searched.",
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 200,
                        "description": "Suchwörter / search words, e.g. 'Einwohner Ortsbezirke'.",
                    },
                    "city": common["city"],
                    "limit": common["limit"],
                    "lang": common["lang"],
                },
                "required": ["query"],
                "additionalProperties": False,
            },
            "examples": [{"query": "Wahl", "city": "mainz"}, {"query": "population"}],
        },
        "vierstaedte_tool_describe_dataset": {
            "description": _text(
                "Beschreibt einen Datensatz: Felder, Einheiten, Indikatoren, Zeiträume, Gebiete "
                "und jede Ausprägung der Gliederungen (Geschlecht, Altersgruppe, "
                "Staatsangehörigkeit, Partei …) mit Zeilenzahl, dazu die Zitierangabe.",
                "Describes a dataset: fields, units, indicators, periods, areas and every value "
                "of its breakdowns (sex, age group, nationality, party …) with row counts, and "
                "its citation.",
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "id": {
                        "type": "string",
                        "pattern": "^[a-z0-9_-]{2,100}$",
                        "description": "Name oder ID des Datensatzes / dataset name or id.",
                    },
                    "lang": common["lang"],
                },
                "required": ["id"],
                "additionalProperties": False,
            },
            "examples": [{"id": "trier-bevoelkerung-alter-2023"}],
        },
        "vierstaedte_tool_list_indicators": {
            "description": _text(
                "Listet die Indikatoren, für die es Daten gibt, mit Städten, Gebietsebenen, "
                "Gliederungen und Zeiträumen.",
                "Lists the indicators that have data, with their cities, area levels, breakdowns "
                "and periods.",
            ),
            "parameters": {
                "type": "object",
                "properties": {"city": common["city"], "lang": common["lang"]},
                "additionalProperties": False,
            },
            "examples": [{}, {"city": "koblenz", "lang": "en"}],
        },
        "vierstaedte_tool_query_indicator": {
            "description": _text(
                "Liefert die Werte eines Indikators für eine Stadt oder ihre Gebiete, je Wert "
                "ein Satz mit Gliederung, Gebiet, Zeitbezug und Einheit, und die Quellenangabe. "
                "Gibt es nichts, sagt die Antwort, was es stattdessen gibt.",
                "Returns an indicator's values for a city or its areas, one sentence per value "
                "naming breakdown, area, period and unit, with the citation. If there is "
                "nothing, the answer says what exists instead.",
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "indicator": _indicator(),
                    "city": common["city"],
                    **areas,
                    **periods,
                    **breakdowns,
                    "lang": common["lang"],
                },
                "required": ["indicator", "city"],
                "additionalProperties": False,
            },
            "examples": [
                {"indicator": "population_total", "city": "trier", "sex": "female"},
                {"indicator": "vote_share_by_party", "city": "mainz", "area_name": "Gonsenheim"},
                {"indicator": "population_total", "city": "trier", "age_group": ["65-79", "80+"]},
            ],
        },
        "vierstaedte_tool_compare_cities": {
            "description": _text(
                "Vergleicht einen Indikator zwischen Städten (Gesamtstadt) für denselben "
                "Zeitbezug (das neueste Jahr, das alle haben), mit Quellenangaben; Städte ohne "
                "Werte werden mit dem genannt, was es dort gibt.",
                "Compares one indicator across cities (whole city) for the same period (the "
                "newest year they all have), with citations; cities without values are named "
                "with what they have instead.",
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "indicator": _indicator(),
                    "cities": {
                        "type": "array",
                        "items": common["city"],
                        "minItems": 1,
                        "maxItems": LIST_ITEMS,
                        "description": "Städte; Standard alle / cities; default all.",
                    },
                    "period": periods["period"],
                    "sex": breakdowns["sex"],
                    "age_group": breakdowns["age_group"],
                    "nationality": breakdowns["nationality"],
                    "lang": common["lang"],
                },
                "required": ["indicator"],
                "additionalProperties": False,
            },
            "examples": [{"indicator": "population_total"}],
        },
        "vierstaedte_tool_read_rows": {
            "description": _text(
                f"Liest Zeilen der normalisierten Tabelle eines öffentlichen Datensatzes (höchstens "
                f"{READ_LIMIT} je Aufruf), optional gefiltert nach Spaltenwerten, mit "
                "Quellenangabe.",
                f"Reads rows of a public dataset's normalised table (at most {READ_LIMIT} per "
                "call), optionally filtered by column values, with the citation.",
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "id": {
                        "type": "string",
                        "pattern": "^[a-z0-9_-]{2,100}$",
                        "description": "Name oder ID des Datensatzes / dataset name or id.",
                    },
                    "filters": {
                        "type": "object",
                        "maxProperties": LIST_ITEMS,
                        "propertyNames": {"enum": [f for f in table.field_names() if f != "value"]},
                        "additionalProperties": {
                            "anyOf": [
                                {"type": "string", "maxLength": 200},
                                {
                                    "type": "array",
                                    "items": {"type": "string", "maxLength": 200},
                                    "maxItems": LIST_ITEMS,
                                },
                            ]
                        },
                        "description": "Spalte → Wert(e), z. B. {'area_name': 'Gonsenheim'} / "
                        "column → value(s).",
                    },
                    "limit": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": READ_LIMIT,
                        "default": 20,
                        "description": f"Zeilen je Aufruf / rows per call (1–{READ_LIMIT}).",
                    },
                    "offset": {
                        "type": "integer",
                        "minimum": 0,
                        "maximum": READ_MAX_OFFSET,
                        "default": 0,
                        "description": "Ab Zeile / first row (0-based).",
                    },
                    "lang": common["lang"],
                },
                "required": ["id"],
                "additionalProperties": False,
            },
            "examples": [{"id": "mainz-stadtratswahl-2024", "filters": {"area_name": "Weisenau"}}],
        },
        "vierstaedte_tool_search_council": _council_search(common),
        "vierstaedte_tool_aggregate_indicator": _aggregate_indicator(common, breakdowns, periods),
    }


def _aggregate_indicator(common, breakdowns, periods) -> dict[str, Any]:
    """The aggregation tool (``tools/aggregate.py``): ``vierstaedte_indicator_aggregate``."""
    one = {"type": "string", "maxLength": 100}
    return {
        "description": _text(
            "Rechnet mit den Zahlen eines Indikators: Summe über eine Gliederung (op=sum, "
            "over; nie die Gesamtzahl mit ihren Teilen, nur Anzahlen), neuester Wert je Stadt "
            "(latest), Veränderung zwischen period_from und period_to (change), Anteil eines "
            "Teils an der Gesamtzahl derselben Tabelle (share, over, part). Nennt die Quellen.",
            "Computes with an indicator's figures: a sum over a breakdown (op=sum, over; never "
            "a total with its parts, counts only), the latest value per city (latest), the "
            "change between period_from and period_to (change), the share of a part in the "
            "total of the same table (share, over, part). Cites its sources.",
        ),
        "parameters": {
            "type": "object",
            "properties": {
                "indicator": _indicator(),
                "op": {
                    "type": "string",
                    "enum": ["sum", "latest", "change", "share"],
                    "description": "Berechnung / operation.",
                },
                "over": {
                    "type": "string",
                    "enum": ["age_group", "sex", "nationality", "area"],
                    "description": "Gliederung für sum/share / breakdown for sum/share.",
                },
                "part": dict(one, description="Teil für share, z. B. female / part for share."),
                "cities": {
                    "type": "array",
                    "items": common["city"],
                    "maxItems": LIST_ITEMS,
                    "description": "Städte / cities; default all.",
                },
                "area_level": {
                    "type": "string",
                    "enum": list(table.enum("area_level")),
                    "description": "Gebietsebene / area level; default stadt.",
                },
                "sex": {"type": "string", "enum": list(table.enum("sex"))},
                "age_group": {"type": "string", "pattern": _AGE_GROUP},
                "nationality": {"type": "string", "enum": list(table.enum("nationality"))},
                "period_from": periods["period_from"],
                "period_to": periods["period_to"],
                "lang": common["lang"],
            },
            "required": ["indicator", "op"],
            "additionalProperties": False,
        },
        "examples": [
            {
                "indicator": "population_total",
                "op": "sum",
                "over": "age_group",
                "cities": ["trier"],
            },
            {
                "indicator": "population_total",
                "op": "change",
                "period_from": "2021",
                "period_to": "2023",
            },
        ],
    }


def _council_search(common: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The council search tool (``tools/council.py``): words and the filters of ``/rat``."""

    def words(de: str, en: str) -> dict[str, Any]:
        return {"type": "string", "minLength": 1, "maxLength": 200, "description": f"{de} / {en}"}

    return {
        "description": _text(
            "Durchsucht die Ratsinformationen der vier Städte (Vorlagen, Sitzungen und ihre "
            "Dokumente aus den Ratsinformationssystemen, OParl). Liefert je Treffer Titel, "
            "Aktenzeichen, Datum, Stadt, Gremium, eine kurze Textstelle und die Quellen: die "
            "Seite im Ratsinformationssystem der Stadt und im Portal.",
            "Searches the four cities' council information (papers, meetings and their documents "
            "from the council information systems, OParl). Each hit has title, reference, date, "
            "city, committee, a short passage and its sources: the page in the city's council "
            "information system and in the portal.",
        ),
        "parameters": {
            "type": "object",
            "properties": {
                "query": words("Suchwörter", "search words, e.g. 'Bebauungsplan Kita'"),
                "city": common["city"],
                "committee": words(
                    "Gremium, z. B. 'Stadtrat' oder 'Bauausschuss'",
                    "committee, e.g. 'Stadtrat' or 'Bauausschuss'",
                ),
                "paper_type": words(
                    "Art der Vorlage, z. B. 'Antrag' oder 'Anfrage'",
                    "paper type, e.g. 'Antrag' (motion) or 'Anfrage' (inquiry)",
                ),
                "type": {
                    "type": "string",
                    "enum": ["paper", "meeting", "file"],
                    "description": "Nur Vorlagen, Sitzungen oder Dokumente / only papers, "
                    "meetings or files.",
                },
                "person": words("Person (Antragsteller, Mitglied)", "person (originator, member)"),
                "date_from": {
                    "type": "string",
                    "pattern": _PERIOD,
                    "description": "Frühestes Datum (Jahr, Jahr-Monat oder Datum) / earliest date "
                    "(year, year-month or date).",
                },
                "date_to": {
                    "type": "string",
                    "pattern": _PERIOD,
                    "description": "Spätestes Datum; '2024' reicht bis 2024-12-31 / latest date; "
                    "'2024' runs to 2024-12-31.",
                },
                "sort": {
                    "type": "string",
                    "enum": ["relevance", "date"],
                    "default": "relevance",
                    "description": "Nach Relevanz oder Datum (neueste zuerst) / by relevance or "
                    "date (newest first).",
                },
                "limit": common["limit"],
                "lang": common["lang"],
            },
            "required": ["query"],
            "additionalProperties": False,
        },
        "examples": [
            {"query": "Bebauungsplan", "city": "mainz"},
            {"query": "Radverkehr", "type": "paper", "sort": "date", "lang": "en"},
        ],
    }


def _message(error: jsonschema.ValidationError) -> str:
    value = error.instance
    if value == "" and error.validator in ("enum", "pattern", "minLength"):
        return tk._("Leerer Wert; mehrere Werte durch Kommas trennen, z. B. trier,mainz.")
    if error.validator == "enum":
        return tk._("Unbekannter Wert: {value}. Erlaubt sind: {allowed}").format(
            value=value, allowed=", ".join(map(str, error.validator_value))
        )
    if error.validator == "pattern" and error.validator_value == _AGE_GROUP:
        return tk._(
            "Ungültiges Format: {value}. Erlaubt sind total, von-bis wie 18-64 oder ab wie 80+ "
            "(describe_dataset nennt die vorhandenen)"
        ).format(value=value)
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
    if error.validator in ("minItems", "maxItems"):
        return tk._("Zwischen {min} und {max} Werte angeben, nicht {n}.").format(
            min=error.schema.get("minItems", 0), max=error.schema.get("maxItems"), n=len(value)
        )
    if error.validator in ("minLength", "maxLength"):
        return tk._("Länge muss zwischen {min} und {max} Zeichen liegen.").format(
            min=error.schema.get("minLength", 0), max=error.schema.get("maxLength")
        )
    if error.validator == "anyOf":  # the value's own error, not "is not valid under any"
        context = error.context
        if isinstance(value, list):  # a list's item, not "a string is expected"
            context = [e for e in context if e.validator != "type"] or context
        inner = min(context, key=lambda e: len(e.absolute_path), default=None)
        return _message(inner) if inner is not None else error.message
    return error.message


def _real_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat((text + "-01-01")[:10])
    except ValueError:
        return False
    return True


def _array_item(spec: dict[str, Any]) -> dict[str, Any] | None:
    """The item schema of a parameter that takes a list (``array`` or one-or-more), else None."""
    if spec.get("type") == "array":
        return spec["items"]
    for option in spec.get("anyOf", []):
        if option.get("type") == "array":
            return option["items"]
    return None


def _as_array(value: str, spec: dict[str, Any]) -> str | list[str]:
    """A list parameter given as text (a query string: ``cities=trier`` or ``cities=trier,mainz``;
    repeated, ``cities=trier&cities=mainz`` arrives as a list already): split at commas where
    the values are names from a list or of a fixed form (cities, sexes, age groups), which never
    hold a comma; free text (an area, a party) is one value."""
    item = _array_item(spec)
    if item is None or not isinstance(value, str):
        return value
    if "enum" in item or "pattern" in item:
        values = [part.strip() for part in value.split(",")]
        if len(values) > 1 or spec.get("type") == "array":
            return values
        return value
    return [value] if spec.get("type") == "array" else value


def validate(tool: str, data_dict: dict[str, Any]) -> dict[str, Any]:
    """The arguments checked against the tool's schema, defaults filled in; errors per parameter."""
    schema = tool_schemas()[tool]["parameters"]
    data = {k: v for k, v in data_dict.items() if not k.startswith("__")}  # CKAN's own keys
    for key, spec in schema["properties"].items():  # query strings carry numbers as text
        if spec.get("type") == "integer" and isinstance(data.get(key), str):
            if data[key].strip().isdigit():
                data[key] = int(data[key])
        if key in data:
            data[key] = _as_array(data[key], spec)
    errors: dict[str, list[str]] = {}
    for key in sorted(set(data) - set(schema["properties"])):
        errors[key] = [
            tk._("Unbekannter Parameter. Erlaubt sind: {allowed}").format(
                allowed=", ".join(schema["properties"])
            )
        ]
    for key in schema.get("required", []):
        if key not in data:
            errors[key] = [tk._("Pflichtangabe fehlt.")]
    for key, spec in schema["properties"].items():
        if key not in data:
            continue
        found = [_message(e) for e in jsonschema.Draft202012Validator(spec).iter_errors(data[key])]
        if not found and key.startswith(("period", "date_")) and not _real_date(data[key]):
            found = [tk._("Kein gültiges Datum: {value}").format(value=data[key])]
        if found:
            errors[key] = found
    for start, end in (("period_from", "period_to"), ("date_from", "date_to")):
        if errors or not data.get(start) or not data.get(end):
            continue
        first = (data[start] + "-01-01")[:10]
        last = data[end] + ("-12-31", "-31", "")[data[end].count("-")]
        if first > last:
            errors[end] = [
                tk._("Das Ende ({end}) liegt vor dem Beginn ({start}).").format(
                    end=data[end], start=data[start]
                )
            ]
    if errors:
        raise tk.ValidationError(errors)
    defaults = {k: s["default"] for k, s in schema["properties"].items() if "default" in s}
    return {**defaults, **data}


def tool_manifest() -> dict[str, Any]:
    """OpenAI-style function definitions; each is called as ``POST /api/3/action/<name>``.

    ``description`` is the German text followed by the English one (a model reads one string);
    ``descriptions`` keeps them apart for clients that show one language.
    """
    site = tk.config.get("ckan.site_url").rstrip("/")
    tools = []
    for name, spec in tool_schemas().items():
        text = spec["description"]
        tools.append(
            {
                "type": "function",
                "function": {
                    "name": name,
                    "description": f"{text['de']}\n\n{text['en']}",
                    "descriptions": text,
                    "parameters": spec["parameters"],
                    "examples": spec["examples"],
                },
            }
        )
    return {"api": f"{site}/api/3/action/", "tools": tools}
