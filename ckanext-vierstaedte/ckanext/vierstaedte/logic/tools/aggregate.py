"""The aggregation tool: sums, latest values, changes and shares for an assistant, in words.

A model asked "how many children live in Trier" should not add rows itself (it would add the
total to its parts, or percentages); it calls this tool, which asks the same action as the API
(``vierstaedte_indicator_aggregate``) and says in words what was summed or compared, with the
tables it read.
"""

from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte.logic.tools import schemas, words
from vierstaedte_contract import cities
from vierstaedte_contract.names import name_key

TOOL = "vierstaedte_tool_aggregate_indicator"
ARGUMENTS = (
    "indicator",
    "op",
    "over",
    "part",
    "cities",
    "area_level",
    "sex",
    "age_group",
    "nationality",
    "period_from",
    "period_to",
)


def _n(value: Any, lang: str, unit: str | None = None) -> str:
    """A number in words, or a dash where the table has no value."""
    return "–" if value is None else words.number(value, lang, unit)


def _where(result: dict[str, Any]) -> str:
    """``Mainz, Gonsenheim``; a city-wide row (its area is the city) names the city once."""
    city = cities.get(result["city"])
    area = result.get("area_name")
    if not area or name_key(area) in {name_key(city.short_title), name_key(city.title)}:
        return city.short_title
    return f"{city.short_title}, {area}"


def _line(op: str, result: dict[str, Any], lang: str, label: str) -> str:
    de = lang == "de"
    where = _where(result)
    unit = result.get("unit")
    if op == "sum":
        summed = ", ".join(str(value) for value in result["summed"] or [])
        total = result["published_total"]
        text = (
            f"{where} {result['period']}: Summe {_n(result['sum'], lang, unit)} "
            f"aus {result['rows_summed']} Zeilen ({summed}); "
            if de
            else f"{where} {result['period']}: sum {_n(result['sum'], lang, unit)} "
            f"of {result['rows_summed']} rows ({summed}); "
        )
        if total is None:
            text += "keine veröffentlichte Gesamtzahl." if de else "no published total."
        elif result["total_equals_sum"]:
            text += (
                "gleich der veröffentlichten Gesamtzahl." if de else "equals the published total."
            )
        else:
            text += (
                f"veröffentlichte Gesamtzahl {_n(total, lang, unit)}."
                if de
                else f"published total {_n(total, lang, unit)}."
            )
        return text
    if op == "latest":
        return (
            f"{where} {result['period']}: {_n(result['value'], lang, unit)}"
            if (result["value"] is not None)
            else f"{where} {result['period']}: –"
        )
    if op == "change":
        percent = result["change_percent"]
        return (
            f"{where}: {result['period_from']} {_n(result['value_from'], lang, unit)}"
            f" → {result['period_to']} {_n(result['value_to'], lang, unit)}"
            f" ({'Veränderung' if de else 'change'} {_n(result['change'], lang)}"
            + (f", {_n(percent, lang)} %" if percent is not None else "")
            + ")"
        )
    share = result["share_percent"]
    return (
        f"{where} {result['period']}: {_n(result['part_value'], lang, unit)} "
        f"{'von' if de else 'of'} {_n(result['total_value'], lang, unit)}"
        + (f" = {_n(share, lang)} %" if share is not None else "")
    )


@tk.side_effect_free
def vierstaedte_tool_aggregate_indicator(context, data_dict):
    """The aggregation, in words, with the filters used and the tables read as sources."""
    # public as the indicator tool (no entry of its own in logic/auth.py, owned by others)
    tk.check_access("vierstaedte_tool_query_indicator", context, data_dict)
    arguments = schemas.validate(TOOL, data_dict)
    lang = arguments.pop("lang")
    found = tk.get_action("vierstaedte_indicator_aggregate")(
        {"user": context.get("user", "")},
        {key: arguments[key] for key in ARGUMENTS if key in arguments},
    )
    op = found["op"]
    label = words.indicator_label(found["indicator"]["id"], lang)
    heads = {
        "de": {
            "sum": "{label}: Summe über {over} (ohne die Zeilen „total“)",
            "latest": "{label}: neuester Wert je Stadt",
            "change": "{label}: Veränderung zwischen zwei Zeitpunkten",
            "share": "{label}: Anteil von {part} ({field}) an der Gesamtzahl derselben Tabelle",
        },
        "en": {
            "sum": "{label}: sum over {over} (without the 'total' rows)",
            "latest": "{label}: latest value per city",
            "change": "{label}: change between two periods",
            "share": "{label}: share of {part} ({field}) in the total of the same table",
        },
    }[lang]
    over = found["query"].get("over")
    head = heads[op].format(
        label=label,
        over=words.OVER[lang].get(over, over),
        field=words.field_label(over, lang) if over in words.BREAKDOWNS else over,
        part=found["query"].get("part"),
    )
    lines = [head + ":"] + [_line(op, r, lang, label) for r in found["results"]]
    if not found["results"]:
        lines.append("Keine passenden Daten." if lang == "de" else "No matching data.")
    sources = [f"{s['dataset_title']} ({s['dataset_url']})" for s in found["sources"]]
    lines.append(("Quellen: " if lang == "de" else "Sources: ") + "; ".join(sources))
    return {
        "available": bool(found["results"]),
        "answer": "\n".join(lines),
        "filter": found["query"],
        "count": found["count"],
        "results": found["results"],
        "sources": found["sources"],
        "skipped": found["skipped"],
    }


def get_actions() -> dict[str, Any]:
    return {TOOL: vierstaedte_tool_aggregate_indicator}
