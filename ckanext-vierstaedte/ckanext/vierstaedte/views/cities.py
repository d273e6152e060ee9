"""The cities' pages: ``/staedte`` (all four) and ``/staedte/<city>`` (one city).

A city page is what a citizen looks for under the city's name: who it is (name, official
key), what its statistics say in a few figures (``logic/key_figures.py``, the comparison's
own query), its datasets, how fresh the harvest is, and where to go on (the comparison
preset to the city, the council search). CKAN's organisation page of a city redirects here;
with a search or facet in its query it stays CKAN's, so filtering a city's datasets works.
"""

from __future__ import annotations

import ckan.plugins.toolkit as tk
from flask import redirect, request
from werkzeug.routing import BuildError

from ckanext.vierstaedte import search
from ckanext.vierstaedte.logic import key_figures
from vierstaedte_contract import cities as contract_cities

DATASETS_SHOWN = 10


def index():
    """Overview of the four cities: official keys and dataset counts."""
    return tk.render("vierstaedte/cities.html", {"cities": tk.h.vierstaedte_cities()})


def _council_url(city: str) -> str | None:
    """The council search of the city, where the portal has one."""
    try:
        return tk.url_for("vierstaedte_council.search", city=city)
    except BuildError:
        return None


def city(city: str):
    """One city: header, key figures, datasets, harvest status, links on."""
    member = contract_cities.find(city)
    if member is None:
        return tk.abort(404, tk._("Stadt nicht gefunden"))
    try:
        organization = tk.get_action("organization_show")(
            {}, {"id": city, "include_datasets": False, "include_users": False}
        )
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Stadt nicht gefunden"))
    datasets = tk.get_action("package_search")(
        {},
        {
            "fq": f'+organization:"{city}"',
            "rows": DATASETS_SHOWN,
            "sort": "title_string asc",
            "include_private": False,
        },
    )
    return tk.render(
        "vierstaedte/city.html",
        {
            "city": member.as_dict(),
            "organization": organization,
            "figures": key_figures.key_figures(city, search.ui_lang()),
            "datasets": datasets["results"],
            "dataset_count": datasets["count"],
            "last_harvest": tk.h.vierstaedte_last_harvest(city),
            "council_url": _council_url(city),
        },
    )


def organization_redirect():
    """``/organization/<city>`` (plain, without a search) → the city's page."""
    if request.method != "GET" or request.args:
        return None
    parts = request.path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "organization" and contract_cities.find(parts[1]):
        return redirect(tk.url_for("vierstaedte.city", city=parts[1]), code=302)
    return None
