"""Aggregations people ask for (#19): a sum over a breakdown, the latest value, a change
between two periods and a share, each answered by one query on the observation store.

Why an action of its own rather than arithmetic in the caller: the rules that make a sum
honest (add only parts, never a total with its parts; only counts, never percentages or
averages; only rows that share every other breakdown; a share only within one table) are easy
to get wrong and the same for the portal, the API and the chat tool. The filters and their
validation are those of ``vierstaedte_indicator_query`` (imported from ``logic.indicators``),
so each answer names the filters it used, cites its tables and lists the skipped ones as that
answer does.
"""

from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte import search
from ckanext.vierstaedte.logic import indicators
from ckanext.vierstaedte.logic.schema import validate
from ckanext.vierstaedte.logic.tools import words
from ckanext.vierstaedte.observations import aggregate, query
from vierstaedte_contract import vocabularies

_ = tk._
OPS = ("sum", "latest", "change", "share")


def additive_units() -> list[str]:
    """The units whose values may be added: counts (the vocabulary's ``count…`` dimensions)."""
    return [
        unit for unit, row in vocabularies.units().items() if row["dimension"].startswith("count")
    ]


def _choice(allowed: tuple[str, ...], what: str):
    def validator(value: Any, context: dict) -> Any:
        if value not in allowed:
            raise tk.Invalid(
                _("Unbekannte {what}: {value}. Erlaubt sind: {allowed}").format(
                    what=what, value=value, allowed=", ".join(allowed)
                )
            )
        return value

    return validator


def aggregate_schema() -> dict[str, Any]:
    v = tk.get_validator
    schema = indicators.query_schema()
    schema.pop("limit")
    schema["op"] = [v("not_empty"), v("unicode_safe"), _choice(OPS, _("Berechnung"))]
    schema["over"] = [
        v("ignore_missing"),
        v("unicode_safe"),
        _choice(aggregate.OVER, _("Gliederung")),
    ]
    schema["part"] = [v("ignore_missing"), v("unicode_safe")]
    return schema


def _error(field: str, message: str) -> tk.ValidationError:
    return tk.ValidationError({field: [message]})


def _bounds(data: dict[str, Any]) -> tuple[str | None, str | None]:
    start, end = data.get("period_from"), data.get("period_to")
    if start and end and indicators._day(start, False) > indicators._day(end, True):
        raise _error(
            "period_to",
            _("Das Ende ({end}) liegt vor dem Beginn ({start}).").format(end=end, start=start),
        )
    return (
        indicators._day(start, False) if start else None,
        indicators._day(end, True) if end else None,
    )


def _additive(indicator: str) -> list[str]:
    units = additive_units()
    unit = vocabularies.indicators()[indicator]["unit"]
    if unit not in units:
        raise _error(
            "op",
            _(
                "{indicator} wird in {unit} angegeben; addieren und Anteile bilden lassen sich "
                "nur Anzahlen (Personen, Haushalte, Anzahl), keine Quoten, Prozente oder "
                "Durchschnitte."
            ).format(indicator=indicator, unit=vocabularies.unit_info(unit)["label"]),
        )
    return units


@tk.side_effect_free
def vierstaedte_indicator_aggregate(context, data_dict):
    """A sum over a breakdown (``op=sum``, ``over``), the latest value per city and area
    (``latest``), the change between ``period_from`` and ``period_to`` (``change``) or the share
    of a part in its total within one table (``share``, ``over``, ``part``).

    Returns ``{"op", "indicator", "query", "results", "count", "sources", "skipped"}``;
    ``query`` names exactly the filters used; each result names its table(s) by
    ``resource_id`` (one of ``sources``).
    """
    # public as the indicator query: the store holds rows of public datasets only
    tk.check_access("vierstaedte_indicator_query", context, data_dict)
    data = validate(data_dict, aggregate_schema(), context)
    op = data["op"]
    filters = {key: data[key] for key in query.FILTERS}
    if data.get("dimension_value"):
        filters["dimension_value"] = data["dimension_value"]
    start, end = _bounds(data)
    used = {key: data[key] for key in ("op", "indicator", "cities", *filters)}
    for key in ("period_from", "period_to"):
        if data.get(key):
            used[key] = data[key]

    if op in ("sum", "share"):
        if not data.get("over"):
            raise _error("over", _("Bitte angeben, worüber gerechnet wird (over)."))
        units = _additive(data["indicator"])
        over = data["over"]
        used["over"] = over
        if op == "sum":
            if over == "area" and data["area_level"] == "stadt":
                raise _error(
                    "area_level",
                    _("Zum Summieren über Gebiete eine Ebene unterhalb der Stadt wählen."),
                )
            if over != "area":
                used.pop(over, None)
            found = aggregate.sum_over(filters, data["cities"], over, units, start=start, end=end)
            for result in found["results"]:
                # the values added, in their natural order (age groups by lower bound)
                result["summed"] = sorted(
                    result["summed"] or [], key=lambda value: words.value_order(over, value)
                )
                published = result.pop("published") or []
                result["sum"] = _number(result["sum"])
                result["published_total_exists"] = bool(published)
                result["published_total"] = _number(published[0]) if len(published) == 1 else None
                result["published_totals"] = [_number(value) for value in published]
                result["total_equals_sum"] = (
                    bool(published)
                    and result["rows_without_value"] == 0
                    and all(_number(value) == result["sum"] for value in published)
                )
        else:
            if over == "area":
                raise _error("over", _("Anteile werden innerhalb einer Aufgliederung gebildet."))
            part = data.get("part")
            if not part or part == "total":
                raise _error("part", _("Bitte den Teil angeben (part), z. B. 0-2 oder female."))
            used.pop(over, None)
            used["part"] = part
            found = aggregate.share(
                filters, data["cities"], over, part, units, start=start, end=end
            )
    elif op == "latest":
        found = aggregate.latest(filters, data["cities"])
    else:
        if not (data.get("period_from") and data.get("period_to")):
            raise _error(
                "period_to",
                _("Für eine Veränderung beide Zeitpunkte angeben (period_from, period_to)."),
            )
        first = (indicators._day(data["period_from"], False), end_of(data["period_from"]))
        last = (indicators._day(data["period_to"], False), end_of(data["period_to"]))
        found = aggregate.change(filters, data["cities"], first, last)

    for result in found["results"]:
        for key in ("value", "part_value", "total_value", "value_from", "value_to", "change"):
            if key in result:
                result[key] = _number(result[key])
        for key in ("change_percent", "share_percent"):
            if result.get(key) is not None:
                result[key] = float(result[key])
    lang = search.ui_lang()
    return {
        "op": op,
        "indicator": vocabularies.indicator_info(data["indicator"], lang),
        "query": used,
        "results": found["results"],
        "count": len(found["results"]),
        "sources": [indicators._source(entry) for entry in found["sources"]],
        "skipped": found["skipped"],
    }


def end_of(period: str) -> str:
    return indicators._day(period, True)


def _number(value: Any) -> int | float | None:
    from vierstaedte_contract import table

    return table.number(value)


def get_actions() -> dict[str, Any]:
    return {"vierstaedte_indicator_aggregate": vierstaedte_indicator_aggregate}
