"""Portal pages of the extension."""
from __future__ import annotations

from flask import Blueprint

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte.logic import harvest_runs as harvest_run_logic
from ckanext.vierstaedte.views import exports
from ckanext.vierstaedte.views.compare import compare

vierstaedte = Blueprint("vierstaedte", __name__)


def cities():
    """Overview of the four cities: official keys and dataset counts."""
    return tk.render("vierstaedte/cities.html", {"cities": tk.h.vierstaedte_cities()})


vierstaedte.add_url_rule("/staedte", view_func=cities, endpoint="cities")

HARVEST_RUNS_PER_PAGE = 20


def harvest_runs(city: str):
    """A city's last harvest runs, and the problems of one run (``?run=<id>``, else the newest)."""
    try:
        org = tk.get_action("organization_show")({}, {"id": city, "include_datasets": False, "include_users": False})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Stadt nicht gefunden"))
    page = max(tk.request.args.get("page", 1, type=int), 1)
    list_runs = tk.get_action("vierstaedte_harvest_run_list")
    runs = list_runs({}, {"organization": org["id"], "limit": HARVEST_RUNS_PER_PAGE,
                          "offset": (page - 1) * HARVEST_RUNS_PER_PAGE})
    run_id = tk.request.args.get("run")
    if run_id:
        try:
            run = tk.get_action("vierstaedte_harvest_run_show")({}, {"id": run_id})
        except tk.ObjectNotFound:
            run = None
        if run is None or run["organization_id"] != org["id"]:
            return tk.abort(404, tk._("Harvest-Lauf nicht gefunden"))
    else:
        newest = list_runs({}, {"organization": org["id"], "limit": 1, "include_report": True})["results"]
        run = newest[0] if newest else None
    return tk.render("vierstaedte/harvest_runs.html", {
        "organization": org,
        "runs": runs["results"],
        "run_count": runs["count"],
        "page": page,
        "page_count": max(-(-runs["count"] // HARVEST_RUNS_PER_PAGE), 1),
        "run": run,
        "problems": harvest_run_logic.report_problems(run["report"]) if run else None,
    })


vierstaedte.add_url_rule("/staedte/<city>/harvest", view_func=harvest_runs, endpoint="harvest_runs")


def get_blueprints():
    return [vierstaedte, compare, exports.blueprint]
