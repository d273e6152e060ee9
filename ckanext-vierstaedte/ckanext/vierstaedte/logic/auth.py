"""Auth functions: the city facts are public, like the organisations they describe."""
from __future__ import annotations

import ckan.plugins.toolkit as tk


@tk.auth_allow_anonymous_access
def vierstaedte_city_list(context, data_dict):
    return {"success": True}


@tk.auth_allow_anonymous_access
def vierstaedte_city_show(context, data_dict):
    return {"success": True}


def get_auth_functions():
    return {
        "vierstaedte_city_list": vierstaedte_city_list,
        "vierstaedte_city_show": vierstaedte_city_show,
    }
