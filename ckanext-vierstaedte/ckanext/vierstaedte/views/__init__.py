"""Portal pages of the extension."""
from __future__ import annotations

from flask import Blueprint

import ckan.plugins.toolkit as tk

vierstaedte = Blueprint("vierstaedte", __name__)


def cities():
    """Overview of the four cities: official keys and dataset counts."""
    return tk.render("vierstaedte/cities.html", {"cities": tk.h.vierstaedte_cities()})


vierstaedte.add_url_rule("/staedte", view_func=cities, endpoint="cities")


def get_blueprints():
    return [vierstaedte]
