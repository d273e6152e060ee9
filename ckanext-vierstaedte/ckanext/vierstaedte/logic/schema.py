"""Input schemas of the extension's own actions."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk


def validate(data_dict: dict, schema: dict, context: dict) -> dict[str, Any]:
    """The converted input, or a ValidationError naming every field that failed."""
    data, errors = tk.navl_validate(data_dict, schema, context)
    if errors:
        raise tk.ValidationError(errors)
    return data


def city_show() -> dict[str, Any]:
    return {"id": [tk.get_validator("not_empty"), tk.get_validator("unicode_safe")]}


def harvest_run_create() -> dict[str, Any]:
    v = tk.get_validator
    return {
        "organization": [v("not_empty"), v("unicode_safe"), v("vierstaedte_organization_id")],
        "started": [v("not_empty"), v("vierstaedte_utc_datetime")],
        "finished": [v("not_empty"), v("vierstaedte_utc_datetime")],
        "status": [v("not_empty"), v("unicode_safe"), v("vierstaedte_harvest_run_status")],
        "counts": [v("not_missing"), v("vierstaedte_harvest_counts")],
        "report": [v("not_missing"), v("vierstaedte_harvest_report")],
        "harvester_version": [v("ignore_missing"), v("unicode_safe"), v("vierstaedte_harvester_version")],
    }


def harvest_run_list() -> dict[str, Any]:
    v = tk.get_validator
    return {
        "organization": [v("not_empty"), v("unicode_safe"), v("vierstaedte_organization_id")],
        "limit": [v("default")(20), v("int_validator"), v("vierstaedte_harvest_run_limit")],
        "offset": [v("default")(0), v("natural_number_validator")],
        "include_report": [v("default")(False), v("boolean_validator")],
    }


def harvest_run_show() -> dict[str, Any]:
    return {"id": [tk.get_validator("not_empty"), tk.get_validator("unicode_safe")]}


def catalogue_export() -> dict[str, Any]:
    v = tk.get_validator
    return {
        "start": [v("default")(0), v("natural_number_validator")],
        # capped like package_search's rows, at ckan.search.rows_max
        "rows": [v("default")(100), v("int_validator"), v("is_positive_integer"),
                 v("limit_to_configured_maximum")("ckan.search.rows_max", 1000)],
    }
