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

from ckanext.vierstaedte.logic import indicators as indicator_logic

compare = Blueprint("vierstaedte_compare", __name__)

DEFAULT_INDICATOR = "population_total"


def _query(available: list[dict[str, Any]]) -> dict[str, Any]:
    """The query the form asks for, fitted to what the indicator has.

    An area level or breakdown the chosen indicator lacks gives way to one it
    has, so switching from population (Stadt) to households (Stadtteil only)
    shows households rather than an empty page.
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
    return {
        "indicator": indicator,
        "cities": args.getlist("cities"),
        "area_level": area_level,
        "dimension": "none" if "none" in known["dimensions"] else known["dimensions"][0],
    }


def _comparison() -> dict[str, Any]:
    listing = tk.get_action("vierstaedte_indicator_list")({}, {})
    available, skipped = listing["indicators"], listing["skipped"]
    query = _query(available)
    cities = tk.get_action("vierstaedte_city_list")({}, {})
    titles = {city["name"]: city["short_title"] for city in cities}
    levels = next(
        (i["area_levels"] for i in available if i["id"] == query["indicator"]),
        [query["area_level"]],
    )
    page = {
        "indicators": available,
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
        page["errors"] = error.error_dict
        return page
    page.update(
        result=result,
        table=indicator_logic.comparison_table(result, titles),
        chart=indicator_logic.chart_data(result, titles),
        csv_url=tk.url_for(
            "vierstaedte_compare.csv",
            indicator=query["indicator"],
            cities=result["query"]["cities"],
            area_level=query["area_level"],
        ),
    )
    page["query"]["cities"] = result["query"]["cities"]
    listed = {entry["resource_id"] for entry in skipped}
    # the query may meet a table the list did not (a bad row of this indicator)
    skipped += [entry for entry in result["skipped"] if entry["resource_id"] not in listed]
    return page


def page():
    """Chart and table of one indicator across the cities."""
    extra_vars = _comparison()
    return tk.render("vierstaedte/compare.html", extra_vars), 400 if extra_vars["errors"] else 200


def download():
    """Exactly the page's table as CSV."""
    extra_vars = _comparison()
    if extra_vars["errors"]:
        return tk.abort(
            400,
            "; ".join(
                f"{key}: {' '.join(map(str, msgs))}" for key, msgs in extra_vars["errors"].items()
            ),
        )
    response = make_response(indicator_logic.csv_text(extra_vars["table"]))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="vergleich-{extra_vars["query"]["indicator"]}.csv"'
    )
    if extra_vars["skipped"]:  # the CSV holds only the table; the page names the reasons
        names = ", ".join(entry["dataset"] for entry in extra_vars["skipped"])
        response.headers["X-Vierstaedte-Skipped"] = names
    return response


compare.add_url_rule("/vergleich", view_func=page, endpoint="page")
compare.add_url_rule("/vergleich.csv", view_func=download, endpoint="csv")
