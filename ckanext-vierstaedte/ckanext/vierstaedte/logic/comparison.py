"""How the comparison page reads one indicator query: the chart, the table as people read it,
the shares, the pickers and what is missing.

The query (``indicators.vierstaedte_indicator_query``) returns tidy rows; this module decides
how they are shown, so the page stays honest:

* one period is drawn as bars, several on a true time axis (numeric years, so 2009 → 2021
  is twelve steps, not one);
* a city keeps its colour (``cities.json``) and a party its customary one (``colours.json``)
  in chart and table, in every district;
* numbers are written the visitor's way (``220.000``, ``72,19``); the CSV keeps plain ones;
* a share of a group is computed only where the same table has the total it is a share of,
  and "share of the population" for the whole population (100 % by definition) is not shown;
* each chosen city without data is named.
"""

from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from markupsafe import Markup, escape

from ckanext.vierstaedte.logic.indicators import BREAKDOWNS, period_year
from ckanext.vierstaedte.logic.tools import words
from vierstaedte_contract import cities, colours, table, vocabularies

_ = tk._
TOTAL = "total"
# indicators that are a group's share of the population: for the whole population always 100 %
GROUP_SHARES = frozenset({"population_share"})
# indicators counted in people, whose group rows can be put in relation to the total
COUNTS = frozenset({"persons", "households", "count"})


def breakdown_label(field: str, value: str) -> str:
    """A value of ``sex``, ``age_group`` or ``nationality`` in the visitor's words."""
    if value == TOTAL:
        return {
            "sex": _("alle Geschlechter"),
            "age_group": _("alle Altersgruppen"),
            "nationality": _("alle Staatsangehörigkeiten"),
        }[field]
    if field == "age_group":
        if value.endswith("+"):
            return _("{low} Jahre und älter").format(low=value[:-1])
        low, _sep, high = value.partition("-")
        return _("{low} bis {high} Jahre").format(low=low, high=high)
    labels = {
        "female": _("weiblich"),
        "male": _("männlich"),
        "diverse": _("divers"),
        "unknown": _("unbekannt"),
        "german": _("deutsch"),
        "foreign": _("nichtdeutsch"),
    }
    return labels.get(value, value)


def adjustment_note(field: str, asked: str, shown: str, lang: str) -> str:
    """The sentence saying that the page shows ``shown`` where the visitor asked for ``asked``
    (an area level or a group the indicator has no values for). ``asked`` is the visitor's
    text: named only when it is a level we know, never echoed otherwise."""
    if field == "area_level":
        shown_label = vocabularies.label("spatial_granularities", shown, lang)
        if asked in table.enum("area_level"):
            return _(
                "Für diesen Indikator gibt es keine Werte auf der Ebene „{asked}“; "
                "gezeigt wird „{shown}“."
            ).format(
                asked=vocabularies.label("spatial_granularities", asked, lang), shown=shown_label
            )
        return _("Diese Gebietsebene gibt es nicht; gezeigt wird „{shown}“.").format(
            shown=shown_label
        )
    return _("Diese Gruppe gibt es für diesen Indikator nicht; gezeigt wird „{shown}“.").format(
        shown=breakdown_label(field, shown)
    )


def pickers(indicator: dict[str, Any] | None, query: dict[str, Any]) -> list[dict[str, Any]]:
    """A select for each breakdown the indicator has groups of (more than ``total``)."""
    titles = {
        "sex": _("Geschlecht"),
        "age_group": _("Altersgruppe"),
        "nationality": _("Staatsangehörigkeit"),
    }
    found = []
    for field in BREAKDOWNS:
        values = ((indicator or {}).get("breakdowns") or {}).get(field, [])
        if any(value != TOTAL for value in values):
            if TOTAL not in values:
                values = [TOTAL, *values]
            found.append(
                {
                    "name": field,
                    "label": titles[field],
                    "selected": query.get(field, TOTAL),
                    "options": [
                        {"value": value, "label": breakdown_label(field, value)} for value in values
                    ],
                }
            )
    return found


def whole_population_share(result: dict[str, Any]) -> bool:
    """A group's share asked for the whole population: 100 % everywhere, so not shown."""
    query = result["query"]
    return result["indicator"]["id"] in GROUP_SHARES and all(
        query.get(field, TOTAL) == TOTAL for field in BREAKDOWNS
    )


def wants_shares(result: dict[str, Any]) -> bool:
    """Whether the rows are a group of a counted total (women, 0 to 2 year olds …)."""
    query = result["query"]
    return result["indicator"]["unit"] in COUNTS and any(
        query.get(field, TOTAL) != TOTAL for field in BREAKDOWNS
    )


def _match_key(row: dict[str, Any]) -> tuple:
    return (
        row["resource_id"],
        row["area_level"],
        row["area_code"] or "",
        row["area_name"],
        row["period"],
        row["dimension_value"],
    )


def shares(rows: list[dict[str, Any]], totals: list[dict[str, Any]]) -> list[float | None]:
    """Each group row's share of its total in percent, or None where the same table (same
    area, period and dimension value) has no total to divide by."""
    whole = {_match_key(row): row["value"] for row in totals}
    found = []
    for row in rows:
        total = whole.get(_match_key(row))
        found.append(
            round(100 * row["value"] / total, 2)
            if row["value"] is not None and total not in (None, 0)
            else None
        )
    return found


def add_shares(table: dict[str, Any], found: list[float | None]) -> dict[str, Any]:
    """The table with an "Anteil" column after the value, where any share was found."""
    if not any(share is not None for share in found):
        return table
    value_column = min(table["number_columns"])
    header = list(table["header"])
    header.insert(value_column + 1, str(_("Anteil an insgesamt (%)")))
    rows = []
    for cells, share in zip(table["rows"], found, strict=True):
        cells = list(cells)
        cells.insert(value_column + 1, "" if share is None else str(share))
        rows.append(cells)
    return {
        "header": header,
        "rows": rows,
        "number_columns": {value_column, value_column + 1},
    }


def _colour_of_value(dimension: str, value: str, index: int) -> str:
    return colours.party(value) if dimension == "party" else colours.series(index)


def display_rows(
    table: dict[str, Any], result: dict[str, Any], lang: str
) -> list[list[dict[str, Any]]]:
    """The table's cells as people read them: numbers in ``lang``'s format, and beside a name
    the colour the chart draws it in: the party's (or other breakdown's), else the city's where
    the chart colours by city. A city swatch beside a party's would read as a second legend
    (Mainz's red is SPD's)."""
    numbers = table["number_columns"]
    value_column = min(numbers)
    dimension = result["query"]["dimension"]
    by_city = dimension == "none" and _coloured_by_city(result)
    seen_values: list[str] = []
    shown = []
    for cells, row in zip(table["rows"], result["rows"], strict=True):
        member = cities.find(row["city"])
        line = []
        for index, cell in enumerate(cells):
            entry: dict[str, Any] = {"text": cell, "colour": None}
            if index in numbers and cell != "":
                unit = row["unit"] if index == value_column else "percent"
                entry["text"] = words.number(float(cell), lang, unit)
            line.append(entry)
        line[0]["colour"] = member.colour if member and by_city else None
        if dimension != "none":
            if row["dimension_value"] not in seen_values:
                seen_values.append(row["dimension_value"])
            line[value_column - 1]["colour"] = _colour_of_value(
                dimension, row["dimension_value"], seen_values.index(row["dimension_value"])
            )
        shown.append(line)
    return shown


def table_body(table: dict[str, Any], cells: list[list[dict[str, Any]]]) -> Markup:
    """The table's body rows as HTML, every text escaped: the first cell of a row is its
    header, each other cell carries its column's name (``data-label``: the phone layout shows
    it) and numbers are right-aligned; a colour is the swatch before the text.

    Built here rather than in the template: a cell costs Jinja a dozen steps, and a
    comparison of the Ortsbezirke over the years has thousands of cells.
    """
    numbers = table["number_columns"]
    end = ' class="text-end"'
    opening = ['<th scope="row">'] + [
        f'<td data-label="{escape(label)}"{end if index in numbers else ""}>'
        for index, label in enumerate(table["header"])
        if index
    ]
    closing = ["</th>"] + ["</td>"] * (len(table["header"]) - 1)
    lines = []
    for line in cells:
        parts = ["<tr>"]
        for index, cell in enumerate(line):
            parts.append(opening[index])
            if cell["colour"]:
                parts.append(
                    f'<span class="vierstaedte-swatch" style="background-color: '
                    f'{escape(cell["colour"])}" aria-hidden="true"></span>'
                )
            parts.append(escape(cell["text"]))
            parts.append(closing[index])
        parts.append("</tr>")
        lines.append("".join(parts))
    return Markup("\n".join(lines))


def _coloured_by_city(result: dict[str, Any]) -> bool:
    """Whether :func:`chart` colours each series by its city: bars of one year, or lines with
    one place per city (several areas of a city get colours of their own)."""
    years = {period_year(row["period"]) for row in result["rows"]}
    places = {(row["city"], row["area_level"], row["area_name"]) for row in result["rows"]}
    return len(years) == 1 or len(places) == len({city for city, _, _ in places})


def missing_cities(result: dict[str, Any], titles: dict[str, str]) -> list[str]:
    """The chosen cities that have no row for this choice, by name."""
    present = {row["city"] for row in result["rows"]}
    return [titles.get(city, city) for city in result["query"]["cities"] if city not in present]


def chart(result: dict[str, Any], titles: dict[str, str]) -> dict[str, Any]:
    """What ``assets/compare.js`` draws.

    ``kind`` is ``bar`` for one year (places on the x axis, one bar series per dimension value,
    or one series coloured by city) and ``line`` for several (numeric years on a linear axis,
    one series per city, area and dimension value, each point ``{x: year, y, period}``).
    Where a series has several periods in one year (mid-year and year-end), the point is the
    latest of them; the table lists them all.
    """
    dimension = result["query"]["dimension"]
    years = sorted({int(period_year(row["period"])) for row in result["rows"]})
    places: list[str] = []
    values: list[str] = []
    points: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    place_city: dict[str, str] = {}
    for row in result["rows"]:
        place = titles.get(row["city"], row["city"])
        if row["area_level"] != "stadt":
            place = f"{place} – {row['area_name']}"
        if place not in places:
            places.append(place)
            place_city[place] = row["city"]
        value = row["dimension_value"] if dimension != "none" else ""
        if value not in values:
            values.append(value)
        year = int(period_year(row["period"]))
        held = points.setdefault((place, value), {}).get(year)
        if held is None or _end(row["period"]) >= _end(held["period"]):
            points[(place, value)][year] = {"x": year, "y": row["value"], "period": row["period"]}

    def city_colour(place: str) -> str:
        member = cities.find(place_city[place])
        return member.colour if member and member.colour else colours.series(places.index(place))

    if len(years) == 1:
        year = years[0]
        datasets = []
        for index, value in enumerate(values):
            data = [points.get((place, value), {}).get(year) for place in places]
            entry = {
                "label": value or result["indicator"]["label"],
                "data": [point["y"] if point else None for point in data],
                "periods": [point["period"] if point else None for point in data],
            }
            if value:
                entry["colour"] = _colour_of_value(dimension, value, index)
            else:
                entry["colours"] = [city_colour(place) for place in places]
            datasets.append(entry)
        kind, labels = "bar", places
    else:
        datasets = []
        one_per_city = dimension == "none" and len(places) == len(set(place_city.values()))
        for (place, value), by_year in points.items():
            index = len(datasets)
            if value:
                colour = _colour_of_value(dimension, value, values.index(value))
            elif one_per_city:
                colour = city_colour(place)
            else:
                colour = colours.series(index)
            datasets.append(
                {
                    "label": f"{place} – {value}" if value else place,
                    "colour": colour,
                    "data": [by_year[year] for year in sorted(by_year)],
                }
            )
        kind, labels = "line", []
    return {
        "kind": kind,
        "labels": labels,
        "years": [years[0], years[-1]] if years else [],
        "datasets": datasets,
        "unit": ", ".join(unit["label"] for unit in result["units"]),
        "indicator": result["indicator"]["label"],
        "x_title": str(_("Jahr")) if kind == "line" else "",
        "period_title": str(_("Zeitbezug")),
    }


def _end(period: str) -> str:
    """The last day a period covers, comparable as text (``2023`` → ``2023-12-31``)."""
    last = period.rpartition("/")[2]
    return last + ("-12-31", "-31", "")[last.count("-")]
