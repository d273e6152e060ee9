"""One indicator across the four cities, from the observation store.

Every harvested table follows the common schema, so "population of Mainz,
Trier and Koblenz over time" is one filter on the rows of all cities' tables.
The observation store (``observations``) holds every row of every public
normalised table that passed ``tables``' checks (validation status, schema
version, columns, each row), with its source; these actions validate the
filters, ask it one query each (``observations.query``: bound parameters, so
user input never reaches a query string) and attach the indicator's definition
and each row's source. A table that breaks the contract is left out and listed
under ``skipped`` with its reason, so one city's bad table never fails the
answer for all four. No request pages through the catalogue.

``comparison_table`` shapes one query result for the comparison page (the chart
and the reading of it: ``comparison``); the HTML table and the CSV download
share the table, so the download holds exactly what the page shows.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte import search
from ckanext.vierstaedte.logic.schema import validate
from ckanext.vierstaedte.observations import query
from vierstaedte_contract import cities, table, vocabularies

Invalid = tk.Invalid
_ = tk._

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000
# a query whose filters still match more rows than this is refused, not truncated silently
MAX_SCANNED = 100000
_PERIOD_BOUND = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_AGE_GROUP = re.compile(r"^(total|\d{1,3}-\d{1,3}|\d{1,3}\+)$")


# The contract: indicators, units and the schema's enumerations (vierstaedte_contract)

# Validators (used only by the schemas below, so not registered globally)


def _one_of(allowed_values, what: str):
    def validator(value: Any, context: dict) -> Any:
        allowed = tuple(allowed_values())
        if value not in allowed:
            raise Invalid(
                _("Unbekannte {what}: {value}. Erlaubt sind: {allowed}").format(
                    what=what, value=value, allowed=", ".join(allowed)
                )
            )
        return value

    return validator


def indicator_validator(value: Any, context: dict) -> Any:
    if value not in vocabularies.indicators():
        raise Invalid(
            _("Unbekannter Indikator: {value}. Bekannt sind: {known}").format(
                value=value, known=", ".join(vocabularies.indicators())
            )
        )
    return value


def cities_validator(value: Any, context: dict) -> Any:
    """A list of city names; a comma-separated text (a query string) is accepted too."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(city, str) for city in value):
        raise Invalid(_("Die Städte müssen eine Liste von Namen sein."))
    unknown = [city for city in value if city not in cities.names()]
    if unknown:
        raise Invalid(
            _("Unbekannte Stadt: {value}. Erlaubt sind: {allowed}").format(
                value=", ".join(unknown), allowed=", ".join(cities.names())
            )
        )
    return [city for city in cities.names() if city in value] or cities.names()


def period_bound_validator(value: Any, context: dict) -> Any:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (a real date)."""
    text = str(value).strip()
    error = Invalid(
        _("Kein gültiger Zeitbezug: {value} (erwartet JJJJ, JJJJ-MM oder JJJJ-MM-TT)").format(
            value=value
        )
    )
    if not _PERIOD_BOUND.match(text):
        raise error
    try:
        datetime.date.fromisoformat((text + "-01-01")[:10])
    except ValueError:
        raise error from None
    return text


def _pattern(regex: re.Pattern, what: str):
    def validator(value: Any, context: dict) -> Any:
        if not isinstance(value, str) or not regex.match(value):
            raise Invalid(_("Ungültige {what}: {value}").format(what=what, value=value))
        return value

    return validator


def limit_validator(value: Any, context: dict) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise Invalid(
            _("Muss zwischen 1 und {max} liegen, nicht: {value}").format(max=MAX_LIMIT, value=value)
        )
    return value


def query_schema() -> dict[str, Any]:
    v = tk.get_validator
    return {
        "indicator": [v("not_empty"), v("unicode_safe"), indicator_validator],
        "cities": [v("default")([]), cities_validator],
        "area_level": [
            v("default")("stadt"),
            v("unicode_safe"),
            _one_of(lambda: table.enum("area_level"), _("Gebietsebene")),
        ],
        "period_from": [v("ignore_empty"), period_bound_validator],
        "period_to": [v("ignore_empty"), period_bound_validator],
        "sex": [
            v("default")("total"),
            v("unicode_safe"),
            _one_of(lambda: table.enum("sex"), _("Geschlechtsangabe")),
        ],
        "age_group": [
            v("default")("total"),
            v("unicode_safe"),
            _pattern(_AGE_GROUP, _("Altersgruppe")),
        ],
        "nationality": [
            v("default")("total"),
            v("unicode_safe"),
            _one_of(lambda: table.enum("nationality"), _("Staatsangehörigkeit")),
        ],
        "dimension": [
            v("default")("none"),
            v("unicode_safe"),
            _pattern(_IDENTIFIER, _("Gliederung")),
        ],
        "dimension_value": [v("ignore_empty"), v("unicode_safe")],
        "limit": [v("default")(DEFAULT_LIMIT), v("int_validator"), limit_validator],
    }


def list_schema() -> dict[str, Any]:
    v = tk.get_validator
    return {"cities": [v("default")([]), cities_validator]}


# Reading the observation store (``observations.query``)


def _day(period: str, last: bool) -> str:
    """The first (or last) day an ISO date prefix covers, as comparable text: ``2023`` → ``2023-12-31``."""
    padding = ("-12-31", "-31", "") if last else ("-01-01", "-01", "")
    return period + padding[period.count("-")]


ROW_FIELDS = (
    "city",
    "ags",
    "area_level",
    "area_code",
    "area_name",
    "indicator",
    "sex",
    "age_group",
    "nationality",
    "dimension",
    "dimension_value",
    "period",
    "value",
    "value_status",
    "unit",
    "source_dataset",
    "source_column",
)


def _row(record: dict[str, Any]) -> dict[str, Any]:
    """A row of the answer: the contract's fields it shows, the value as a number, its table."""
    row = {field: record.get(field) for field in ROW_FIELDS}
    row["value"] = table.number(row["value"])
    row["resource_id"] = record["resource_id"]
    return row


def _source(entry: dict[str, Any]) -> dict[str, Any]:
    """A table an answer cites: its dataset (name, title, page) and resource (id, file URL)."""
    return {
        "city": entry["city"],
        "dataset_name": entry["dataset_name"],
        "dataset_title": entry["dataset_title"],
        "dataset_url": tk.url_for("dataset.read", id=entry["dataset_name"], _external=True),
        "resource_id": entry["resource_id"],
        "resource_url": entry["resource_url"],
    }


@tk.side_effect_free
def vierstaedte_indicator_query(context, data_dict):
    """One indicator for the chosen cities, as tidy rows sorted by city, area and period.

    Returns ``{"indicator", "rows", "count", "truncated", "units", "sources", "skipped"}``;
    each row names its source table (``resource_id``, one of ``sources``); ``skipped``
    lists the tables left out because they break the contract, each with its reason.
    """
    tk.check_access("vierstaedte_indicator_query", context, data_dict)
    data = validate(data_dict, query_schema(), context)
    start, end = data.get("period_from"), data.get("period_to")
    if start and end and _day(start, False) > _day(end, True):
        raise tk.ValidationError(
            {
                "period_to": [
                    _("Das Ende ({end}) liegt vor dem Beginn ({start}).").format(
                        end=end, start=start
                    )
                ]
            }
        )
    filters = {key: data[key] for key in query.FILTERS}
    if data.get("dimension_value"):
        filters["dimension_value"] = data["dimension_value"]

    found = query.indicator_rows(
        filters,
        data["cities"],
        start=_day(start, False) if start else None,
        end=_day(end, True) if end else None,
        limit=data["limit"],
        most=MAX_SCANNED + 1,
    )
    if found["scanned"] > MAX_SCANNED:
        raise tk.ValidationError(
            {
                "indicator": [
                    _(
                        "Die Abfrage trifft mehr als {max} Zeilen; bitte Städte, Gebietsebene "
                        "oder Zeitraum einschränken."
                    ).format(max=MAX_SCANNED)
                ]
            }
        )
    rows = [_row(record) for record in found["rows"]]
    sources = [_source(entry) for entry in found["sources"]]
    skipped = found["skipped"]
    lang = search.ui_lang()
    return {
        "indicator": vocabularies.indicator_info(data["indicator"], lang),
        "query": {key: value for key, value in data.items() if key != "limit"},
        "rows": rows[: data["limit"]],
        "count": min(len(rows), data["limit"]),
        "truncated": len(rows) > data["limit"],
        "units": [vocabularies.unit_info(unit, lang) for unit in sorted(found["units"])],
        "sources": sources,
        "skipped": skipped,
    }


@tk.side_effect_free
def vierstaedte_indicator_list(context, data_dict):
    """The indicators that have data, each with cities, area levels, dimensions, breakdowns
    (the ``sex``, ``age_group`` and ``nationality`` values it has) and period range.

    Returns ``{"indicators": [...], "skipped": [...]}`` (``skipped`` as in the query).
    """
    tk.check_access("vierstaedte_indicator_list", context, data_dict)
    data = validate(data_dict, list_schema(), context)
    found = query.coverage(data["cities"], list(vocabularies.indicators()))
    coverage: dict[str, dict[str, Any]] = {}
    for record in found["coverage"]:
        entry = coverage.setdefault(
            record["indicator"],
            {
                "cities": {},
                "area_levels": set(),
                "dimensions": set(),
                "breakdowns": {field: set() for field in BREAKDOWNS},
            },
        )
        entry["cities"][record["city"]] = (record["period_from"], record["period_to"])
        entry["area_levels"].update(record["area_levels"])
        entry["dimensions"].update(record["dimensions"])
        for field in BREAKDOWNS:
            entry["breakdowns"][field].update(record[field])
    lang = search.ui_lang()
    result = []
    for indicator in vocabularies.indicators():
        if indicator not in coverage:
            continue
        entry = coverage[indicator]
        spans = [
            {
                "city": city,
                "period_from": entry["cities"][city][0],
                "period_to": entry["cities"][city][1],
            }
            for city in cities.names()
            if city in entry["cities"]
        ]
        result.append(
            dict(
                vocabularies.indicator_info(indicator, lang),
                cities=spans,
                area_levels=[
                    level for level in table.enum("area_level") if level in entry["area_levels"]
                ],
                dimensions=sorted(entry["dimensions"], key=lambda d: (d != "none", d)),
                breakdowns={
                    field: sorted(values, key=_breakdown_order(field))
                    for field, values in entry["breakdowns"].items()
                },
                period_from=min(c["period_from"] for c in spans),
                period_to=max(c["period_to"] for c in spans),
            )
        )
    return {"indicators": result, "skipped": found["skipped"]}


BREAKDOWNS = ("sex", "age_group", "nationality")


def _breakdown_order(field: str):
    """``total`` first, then the schema's order (sex, nationality) or by age (``3-5``, ``10-17``)."""
    if field == "age_group":
        return lambda value: (value != "total", int(re.match(r"\d*", value).group() or 0), value)
    order = table.enum(field)
    return lambda value: (order.index(value) if value in order else len(order), value)


def get_actions() -> dict[str, Any]:
    return {
        "vierstaedte_indicator_query": vierstaedte_indicator_query,
        "vierstaedte_indicator_list": vierstaedte_indicator_list,
    }


# For the comparison page


def _cell(value: int | float | None) -> str:
    return "" if value is None else str(value)


def period_year(period: str) -> str:
    """The calendar year a period ends in (``2023``, ``2023-12-31``, ``2022/2023`` → ``2023``).

    Cities state the same stock differently (Mainz: a year header, ``2023``;
    Trier: a reference date, ``2023-12-31``), so the comparison lines them up
    by year and shows the exact period next to it.
    """
    first, _sep, last = period.partition("/")
    return (last or first)[:4]


def comparison_table(result: dict[str, Any], city_titles: dict[str, str]) -> dict[str, Any]:
    """The rows of a query as plain text cells: what the HTML table shows and the CSV holds.

    ``number_columns`` names the columns of numbers (the value), which the CSV writes as numbers.
    """
    with_dimension = result["query"]["dimension"] != "none"
    header = [_("Stadt"), _("Gebiet"), _("Jahr"), _("Zeitbezug")]
    if with_dimension:
        dimension_titles = {
            "party": _("Partei"),
            "land_use": _("Nutzungsart"),
            "budget_line": _("Haushaltsposition"),
        }
        header.append(dimension_titles.get(result["query"]["dimension"], _("Ausprägung")))
    value_column = len(header)
    header += [_("Wert"), _("Einheit"), _("Wertstatus"), _("Quelle")]
    units = {unit["id"]: unit["label"] for unit in result["units"]}
    statuses = {"missing": _("fehlt"), "confidential": _("geheim")}
    titles = {source["resource_id"]: source["dataset_title"] for source in result["sources"]}
    rows = []
    for row in result["rows"]:
        cells = [
            city_titles.get(row["city"], row["city"]),
            row["area_name"],
            period_year(row["period"]),
            row["period"],
        ]
        if with_dimension:
            cells.append(row["dimension_value"])
        cells += [
            _cell(row["value"]),
            units.get(row["unit"], row["unit"]),
            str(statuses.get(row["value_status"], "")),
            titles[row["resource_id"]],
        ]
        rows.append(cells)
    return {
        "header": [str(label) for label in header],
        "rows": rows,
        "number_columns": {value_column},
    }
