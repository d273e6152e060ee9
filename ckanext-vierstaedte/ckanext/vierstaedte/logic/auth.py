"""Auth functions: the city facts are public, like the organisations they describe."""
from __future__ import annotations

import ckan.plugins.toolkit as tk


@tk.auth_allow_anonymous_access
def vierstaedte_city_list(context, data_dict):
    return {"success": True}


@tk.auth_allow_anonymous_access
def vierstaedte_city_show(context, data_dict):
    return {"success": True}


def vierstaedte_harvest_run_create(context, data_dict):
    """Whoever may publish datasets in the city (its editors and admins) may record its runs."""
    org = (data_dict or {}).get("organization")
    if not org:
        return {"success": False, "msg": tk._("Keine Organisation angegeben.")}
    try:
        tk.check_access("package_create", context, {"owner_org": str(org)})
    except tk.NotAuthorized:
        return {
            "success": False,
            "msg": tk._("Keine Berechtigung, Harvest-Läufe für {org} zu erfassen.").format(org=org),
        }
    return {"success": True}


@tk.auth_allow_anonymous_access
def vierstaedte_harvest_run_list(context, data_dict):
    return {"success": True}


@tk.auth_allow_anonymous_access
def vierstaedte_harvest_run_show(context, data_dict):
    return {"success": True}


@tk.auth_allow_anonymous_access
def vierstaedte_indicator_query(context, data_dict):
    """Public: it reads only public datasets, each DataStore search checks its own access."""
    return {"success": True}


@tk.auth_allow_anonymous_access
def vierstaedte_indicator_list(context, data_dict):
    return {"success": True}


@tk.auth_allow_anonymous_access
def vierstaedte_public_data(context, data_dict):
    """The export and the bot tools read public datasets only, so anyone may call them."""
    return {"success": True}


def get_auth_functions():
    return {
        "vierstaedte_city_list": vierstaedte_city_list,
        "vierstaedte_city_show": vierstaedte_city_show,
        "vierstaedte_harvest_run_create": vierstaedte_harvest_run_create,
        "vierstaedte_harvest_run_list": vierstaedte_harvest_run_list,
        "vierstaedte_harvest_run_show": vierstaedte_harvest_run_show,
        "vierstaedte_indicator_query": vierstaedte_indicator_query,
        "vierstaedte_indicator_list": vierstaedte_indicator_list,
        "vierstaedte_catalogue_export": vierstaedte_public_data,
        "vierstaedte_tool_search_datasets": vierstaedte_public_data,
        "vierstaedte_tool_describe_dataset": vierstaedte_public_data,
        "vierstaedte_tool_query_indicator": vierstaedte_public_data,
    }
