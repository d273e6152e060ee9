"""Portal pages of the extension."""

from __future__ import annotations

import ckan.plugins.toolkit as tk
from flask import Blueprint

from ckanext.vierstaedte.logic import harvest_runs as harvest_run_logic
from ckanext.vierstaedte.logic import schema
from ckanext.vierstaedte.views import cities, council, exports, guard, pages, session_guard
from ckanext.vierstaedte.views.compare import compare

vierstaedte = Blueprint("vierstaedte", __name__)


vierstaedte.add_url_rule("/staedte", view_func=cities.index, endpoint="cities")
vierstaedte.add_url_rule("/staedte/<city>", view_func=cities.city, endpoint="city")
vierstaedte.before_app_request(cities.organization_redirect)

HARVEST_RUNS_PER_PAGE = 20


def harvest_runs(city: str):
    """A city's last harvest runs, and the problems of one run (``?run=<id>``, else the newest).

    Both are paginated (``page``, ``problem_page``), so the page stays small
    however many problems a run reported.
    """
    try:
        org = tk.get_action("organization_show")(
            {}, {"id": city, "include_datasets": False, "include_users": False}
        )
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Stadt nicht gefunden"))
    try:
        args = schema.validate(tk.request.args.to_dict(), schema.harvest_page(), {})
    except tk.ValidationError as error:
        return tk.abort(
            400,
            "; ".join(f"{key}: {' '.join(messages)}" for key, messages in error.error_dict.items()),
        )
    page = args["page"]
    list_runs = tk.get_action("vierstaedte_harvest_run_list")
    runs = list_runs(
        {},
        {
            "organization": org["id"],
            "limit": HARVEST_RUNS_PER_PAGE,
            "offset": (page - 1) * HARVEST_RUNS_PER_PAGE,
        },
    )
    run_id = args.get("run")
    if run_id:
        try:
            run = tk.get_action("vierstaedte_harvest_run_show")({}, {"id": run_id})
        except tk.ObjectNotFound:
            run = None
        if run is None or run["organization_id"] != org["id"]:
            return tk.abort(404, tk._("Harvest-Lauf nicht gefunden"))
    else:
        newest = list_runs({}, {"organization": org["id"], "limit": 1, "include_report": True})[
            "results"
        ]
        run = newest[0] if newest else None
    return tk.render(
        "vierstaedte/harvest_runs.html",
        {
            "organization": org,
            "runs": runs["results"],
            "run_count": runs["count"],
            "page": page,
            "page_count": max(-(-runs["count"] // HARVEST_RUNS_PER_PAGE), 1),
            "run": run,
            "problems": run
            and harvest_run_logic.report_problems(run["report"], args["problem_page"]),
        },
    )


vierstaedte.add_url_rule("/staedte/<city>/harvest", view_func=harvest_runs, endpoint="harvest_runs")


def get_blueprints():
    return [
        guard.blueprint,
        session_guard.session_guard,
        vierstaedte,
        compare,
        exports.blueprint,
        council.blueprint,
        pages.blueprint,
    ]
