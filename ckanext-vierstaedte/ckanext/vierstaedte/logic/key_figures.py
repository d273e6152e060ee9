"""A city's key figures for its page: the latest value of a few indicators, with period,
change to the period before and source.

They come from the same normalised tables and the same query action as the comparison
(``indicators.vierstaedte_indicator_query``), at city level only: a city-wide figure is
never summed up from districts here, so a city whose table has no city-wide row simply
shows no figure for that indicator. Whatever exists is shown; nothing is estimated.
"""

from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte.logic import indicators
from ckanext.vierstaedte.logic.tools import words

# in the order the page shows them
KEY_INDICATORS = (
    "population_total",
    "households",
    "election_turnout",
    "unemployment_rate",
    "average_age",
)
RATIOS = {"percent"}


def _end(period: str) -> str:
    last = period.rpartition("/")[2]
    return last + ("-12-31", "-31", "")[last.count("-")]


def period_text(period: str, lang: str) -> str:
    """``2023`` stays; a day is written the reader's way (``31.12.2023``, ``2023-12-31``)."""
    if lang == "de" and len(period) == 10 and period[4] == "-":
        year, month, day = period.split("-")
        return f"{day}.{month}.{year}"
    return period


def _change(latest: dict[str, Any], previous: dict[str, Any], lang: str) -> dict[str, Any]:
    difference = latest["value"] - previous["value"]
    sign = "+" if difference > 0 else ("−" if difference < 0 else "±")
    amount = words.number(abs(round(difference, 2)), lang)
    relative = None
    if latest["unit"] in RATIOS:
        text = tk._("{sign}{amount} Prozentpunkte gegenüber {period}")
    else:
        relative = (
            words.number(abs(round(100 * difference / previous["value"], 1)), lang)
            if previous["value"]
            else None
        )
        text = (
            tk._("{sign}{amount} ({sign}{relative} %) gegenüber {period}")
            if relative is not None
            else tk._("{sign}{amount} gegenüber {period}")
        )
    return {
        "direction": "up" if difference > 0 else ("down" if difference < 0 else "same"),
        "text": text.format(
            sign=sign,
            amount=amount,
            relative=relative,
            period=period_text(previous["period"], lang),
        ),
    }


def key_figures(city: str, lang: str) -> list[dict[str, Any]]:
    """The city's key figures: label, value in ``lang``'s format, unit, period, change, source."""
    listed = tk.get_action("vierstaedte_indicator_list")({}, {"cities": [city]})["indicators"]
    wanted = [
        entry["id"]
        for entry in listed
        if entry["id"] in KEY_INDICATORS and "stadt" in entry["area_levels"]
    ]
    wanted.sort(key=KEY_INDICATORS.index)
    figures = []
    for indicator in wanted:
        result = tk.get_action("vierstaedte_indicator_query")(
            {},
            {
                "indicator": indicator,
                "cities": [city],
                "area_level": "stadt",
                "limit": indicators.MAX_LIMIT,
            },
        )
        rows = sorted(
            (row for row in result["rows"] if row["value"] is not None),
            key=lambda row: _end(row["period"]),
        )
        if not rows:
            continue
        latest = rows[-1]
        previous = next(
            (row for row in reversed(rows) if _end(row["period"]) < _end(latest["period"])), None
        )
        source = next(s for s in result["sources"] if s["resource_id"] == latest["resource_id"])
        units = {unit["id"]: unit["label"] for unit in result["units"]}
        figures.append(
            {
                "indicator": indicator,
                "label": result["indicator"]["label"],
                "value": words.number(latest["value"], lang, latest["unit"]),
                "unit": "%" if latest["unit"] in RATIOS else units.get(latest["unit"], ""),
                "period": period_text(latest["period"], lang),
                "change": previous and _change(latest, previous, lang),
                "source_title": source["dataset_title"],
                "source_url": source["dataset_url"],
            }
        )
    return figures
