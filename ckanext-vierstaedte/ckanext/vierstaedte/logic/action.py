"""API actions for developers and harvesters.

``vierstaedte_city_list``/``_show`` answer "which cities are there, with
which official keys, and how much data does each have" in one call, so a
client does not have to join organisations, extras and search counts itself.
"""

from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte.council import actions as council_store
from ckanext.vierstaedte.council import search as council_search
from ckanext.vierstaedte.council import show as council_show
from ckanext.vierstaedte.logic import (
    aggregations,
    exports,
    harvest_runs,
    indicators,
    schema,
    sql_search,
)
from ckanext.vierstaedte.logic.tools import actions as tools
from ckanext.vierstaedte.logic.tools import aggregate as aggregate_tool
from ckanext.vierstaedte.observations import actions as observations
from vierstaedte_contract import cities


def _with_counts(cities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = tk.get_action("package_search")(
        {}, {"rows": 0, "facet.field": ["organization"], "facet.limit": -1}
    )
    counts = result.get("facets", {}).get("organization", {})
    return [dict(city, dataset_count=counts.get(city["name"], 0)) for city in cities]


@tk.side_effect_free
def vierstaedte_city_list(context, data_dict):
    """The four cities: name, title, AGS, regional key, DCAT-AP.de geocoding URIs, dataset count."""
    tk.check_access("vierstaedte_city_list", context, data_dict)
    return _with_counts(cities.as_dicts())


@tk.side_effect_free
def vierstaedte_city_show(context, data_dict):
    """One city by its name (``mainz``) or AGS (``07315000``)."""
    tk.check_access("vierstaedte_city_show", context, data_dict)
    data = schema.validate(data_dict, schema.city_show(), context)
    wanted = data["id"]
    for city in cities.as_dicts():
        if wanted in (city["name"], city["ags"]):
            return _with_counts([city])[0]
    raise tk.ObjectNotFound(tk._("Unbekannte Stadt: {id}").format(id=wanted))


def _upstream_doc(name: str) -> str | None:
    """The docstring of CKAN's own action ``name`` (core or DataStore), or None."""
    import importlib

    for module in (
        "ckan.logic.action.get",
        "ckan.logic.action.create",
        "ckan.logic.action.update",
        "ckan.logic.action.delete",
        "ckan.logic.action.patch",
        "ckanext.datastore.logic.action",
    ):
        found = getattr(importlib.import_module(module), name, None)
        if found is not None and found.__doc__:
            return found.__doc__
    return None


def documented(actions: dict[str, Any]) -> dict[str, Any]:
    """Chained actions keep the help of the action they extend.

    CKAN wraps a chained action in ``functools.partial`` and copies only the function's
    ``__dict__`` onto it, so ``help_show`` would answer partial's own docstring; a ``__doc__``
    entry in that ``__dict__`` travels along.
    """
    for name, func in actions.items():
        if getattr(func, "chained_action", False):
            upstream = _upstream_doc(name)
            own = (func.__doc__ or "").strip()
            func.__dict__["__doc__"] = (
                f"{upstream.rstrip()}\n\n    Vier Städte: {own}\n" if upstream else func.__doc__
            )
    return actions


def get_actions():
    return {
        "vierstaedte_city_list": vierstaedte_city_list,
        "vierstaedte_city_show": vierstaedte_city_show,
        **harvest_runs.get_actions(),
        **indicators.get_actions(),
        **aggregations.get_actions(),
        **exports.get_actions(),
        **tools.get_actions(),
        **aggregate_tool.get_actions(),
        **sql_search.get_actions(),
        **council_store.get_actions(),
        **council_show.get_actions(),
        **council_search.get_actions(),
        # the DataStore writes: the table view (``table_views``), then the observation store
        **observations.get_actions(),
    }
