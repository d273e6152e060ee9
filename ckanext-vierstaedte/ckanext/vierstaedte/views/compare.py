"""The comparison page ``/vergleich``: one indicator, the four cities side by side.

A plain GET form drives it, so the table and the CSV download work without
JavaScript; the chart only redraws the same data (see ``assets/compare.js``).
Tables left out because they break the data contract are named on the page
(and in the CSV's ``X-Vierstaedte-Skipped`` header), never a reason to fail it.
"""

from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint, make_response

from ckanext.vierstaedte import search
from ckanext.vierstaedte.logic import comparison, downloads
from ckanext.vierstaedte.logic import indicators as indicator_logic
from vierstaedte_contract import cities as city_contract

compare = Blueprint("vierstaedte_compare", __name__)

DEFAULT_INDICATOR = "population_total"


def _query(available: list[dict[str, Any]]) -> dict[str, Any]:
    """The query the form asks for, fitted to what the indicator has.

    An area level or breakdown the chosen indicator lacks gives way to one it
    has, so switching from population (Stadt) to households (Stadtteil only)
    shows households rather than an empty page; a group (sex, age group,
    nationality) the indicator does not have gives way to the whole population.
    """
    args = tk.request.args
    default = next(
        (i["id"] for i in available if i["id"] == DEFAULT_INDICATOR),
        available[0]["id"] if available else DEFAULT_INDICATOR,
    )
    indicator = args.get("indicator") or default
    known = next(
        (i for i in available if i["id"] == indicator), {"area_levels": [], "dimensions": ["none"]}
    )
    area_level = args.get("area_level") or "stadt"
    if known["area_levels"] and area_level not in known["area_levels"]:
        area_level = "stadt" if "stadt" in known["area_levels"] else known["area_levels"][0]
    query: dict[str, Any] = {
        "indicator": indicator,
        "cities": args.getlist("cities"),
        "area_level": area_level,
        "dimension": "none" if "none" in known["dimensions"] else known["dimensions"][0],
    }
    for field, values in (known.get("breakdowns") or {}).items():
        wanted = args.get(field) or "total"
        query[field] = wanted if wanted in values else "total"
    return query


def adjustments(query: dict[str, Any]) -> list[str]:
    """What the page shows instead of what the visitor asked for (see :func:`_query`), each
    said in a sentence, so that a switch of area level or group is never silent."""
    args, lang = tk.request.args, search.ui_lang()
    return [
        comparison.adjustment_note(field, args[field], query[field], lang)
        for field in ("area_level", *indicator_logic.BREAKDOWNS)
        if args.get(field) and field in query and args[field] != query[field]
    ]


def _page_errors(errors: dict[str, Any]) -> dict[str, list[str]]:
    """The page's own words for a selection the query refused.

    The action's messages list the allowed values by their identifiers (right for the API);
    the page says what to do instead, in the terms of its form.
    """
    pick = tk._("Bitte einen Eintrag aus der Liste wählen.")
    messages = {
        "indicator": tk._("Diesen Indikator gibt es nicht.") + " " + pick,
        "area_level": tk._("Diese Gebietsebene gibt es nicht.") + " " + pick,
        "cities": tk._("Diese Stadt gehört nicht zum Portal.") + " " + pick,
    }
    return {
        field: [messages.get(field, tk._("Dieser Wert ist nicht möglich.") + " " + pick)]
        for field in errors
        if not field.startswith("__")
    }


def _comparison() -> dict[str, Any]:
    listing = tk.get_action("vierstaedte_indicator_list")({}, {})
    available, skipped = listing["indicators"], listing["skipped"]
    query = _query(available)
    # the contract's cities: the form needs their names, not their dataset counts (a search)
    cities = city_contract.as_dicts()
    titles = {city["name"]: city["short_title"] for city in cities}
    levels = next(
        (i["area_levels"] for i in available if i["id"] == query["indicator"]),
        [query["area_level"]],
    )
    chosen = next((i for i in available if i["id"] == query["indicator"]), None)
    page = {
        "indicators": available,
        "pickers": comparison.pickers(chosen, query),
        "adjusted": adjustments(query) if chosen else [],
        "cities": cities,
        "query": query,
        "area_levels": levels,
        "errors": {},
        "result": None,
        "skipped": skipped,
    }
    try:
        result = tk.get_action("vierstaedte_indicator_query")(
            {}, dict(query, limit=indicator_logic.MAX_LIMIT)
        )
    except tk.ValidationError as error:
        page["errors"] = _page_errors(error.error_dict)
        return page
    if comparison.whole_population_share(result):
        result = dict(result, rows=[], count=0, sources=[])
        page["whole_share"] = True
    table = indicator_logic.comparison_table(result, titles)
    if comparison.wants_shares(result):
        totals = tk.get_action("vierstaedte_indicator_query")(
            {},
            dict(
                query,
                sex="total",
                age_group="total",
                nationality="total",
                limit=indicator_logic.MAX_LIMIT,
            ),
        )
        table = comparison.add_shares(table, comparison.shares(result["rows"], totals["rows"]))
    page.update(
        result=result,
        table=table,
        body=comparison.table_body(table, comparison.display_rows(table, result, search.ui_lang())),
        chart=comparison.chart(result, titles),
        missing=comparison.missing_cities(result, titles),
        csv_url=tk.url_for(
            "vierstaedte_compare.csv",
            **{key: value for key, value in query.items() if value != "total"},
        ),
    )
    page["query"]["cities"] = result["query"]["cities"]
    page["api_url"] = tk.url_for(
        "api.action",
        ver=3,
        logic_function="vierstaedte_indicator_query",
        **dict(
            {key: value for key, value in query.items() if value != "total"},
            cities=",".join(query["cities"]),
        ),
    )
    listed = {entry["resource_id"] for entry in skipped}
    # the query may meet a table the list did not (a bad row of this indicator)
    skipped += [entry for entry in result["skipped"] if entry["resource_id"] not in listed]
    return page


def page():
    """Chart and table of one indicator across the cities."""
    extra_vars = _comparison()
    return tk.render("vierstaedte/compare.html", extra_vars), 400 if extra_vars["errors"] else 200


def download():
    """Exactly the page's table as CSV, with its sources; ``?format=excel`` for German Excel."""
    try:
        which = downloads.variant(tk.request.args.get("format"))
    except ValueError:
        return tk.abort(
            400, tk._("Format: „excel“ für Excel, ohne format die CSV-Datei für Programme.")
        )
    extra_vars = _comparison()
    if extra_vars["errors"]:
        return tk.abort(
            400,
            "; ".join(
                f"{key}: {' '.join(map(str, msgs))}" for key, msgs in extra_vars["errors"].items()
            ),
        )
    response = make_response(
        downloads.comparison_csv(extra_vars["table"], extra_vars["result"], which)
    )
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    suffix = "-excel" if which == downloads.EXCEL else ""
    response.headers["Content-Disposition"] = (
        f'attachment; filename="vergleich-{extra_vars["query"]["indicator"]}{suffix}.csv"'
    )
    if extra_vars["skipped"]:  # the CSV holds only the table; the page names the reasons
        names = ", ".join(entry["dataset"] for entry in extra_vars["skipped"])
        response.headers["X-Vierstaedte-Skipped"] = names
    return response


compare.add_url_rule("/vergleich", view_func=page, endpoint="page")
compare.add_url_rule("/vergleich.csv", view_func=download, endpoint="csv")
