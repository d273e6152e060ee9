"""The "Daten-API" dialog of a table: calls that work on this very table, not CKAN's samples.

CKAN's dialog filters on "subject" and "stage" and searches for "jones"; a developer copying
that gets nothing back. Every DataStore table of the portal has the common schema
(``city-statistics``), so the examples filter by the indicator and area level of the table's
newest row, read the same rows by SQL, and show the indicator and tool actions for that
indicator and city. A table without the schema's columns gets the plain first-rows call.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte.logic.exports import table_id


def _api(action: str, **params: Any) -> str:
    site = tk.config.get("ckan.site_url").rstrip("/")
    url = f"{site}/api/3/action/{action}"
    return f"{url}?{urlencode(params)}" if params else url


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def api_examples(resource_id: str) -> dict[str, Any]:
    """URLs, SQL and request bodies for the dialog of the table ``resource_id``."""
    resource_id = table_id(resource_id)
    examples: dict[str, Any] = {
        "first_rows_url": _api("datastore_search", resource_id=resource_id, limit=5),
        "schema_url": tk.url_for("vierstaedte_exports.table_schema", _external=True),
    }
    try:
        rows = tk.get_action("datastore_search")(
            {}, {"resource_id": resource_id, "limit": 1, "sort": "period desc"}
        )["records"]
    except (tk.ObjectNotFound, tk.NotAuthorized, tk.ValidationError):
        rows = []
    row = rows[0] if rows else {}
    if not all(row.get(key) for key in ("indicator", "area_level", "city")):
        return examples
    filters = {"indicator": row["indicator"], "area_level": row["area_level"]}
    sql = (
        f'SELECT period, area_name, value, unit FROM "{resource_id}" '
        f"WHERE indicator = {_literal(row['indicator'])} "
        f"AND area_level = {_literal(row['area_level'])} ORDER BY period DESC LIMIT 5"
    )
    tool = {"indicator": row["indicator"], "city": row["city"], "area_level": row["area_level"]}
    examples.update(
        filters=filters,
        filters_json=json.dumps(filters, ensure_ascii=False),
        search_body=json.dumps(
            {"resource_id": resource_id, "filters": filters, "sort": "period desc", "limit": 5},
            ensure_ascii=False,
            indent=2,
        ),
        search_url=_api(
            "datastore_search",
            resource_id=resource_id,
            filters=json.dumps(filters),
            sort="period desc",
            limit=5,
        ),
        sql=sql,
        sql_url=_api("datastore_search_sql", sql=sql),
        indicator_url=_api(
            "vierstaedte_indicator_query",
            indicator=row["indicator"],
            cities=row["city"],
            area_level=row["area_level"],
        ),
        tool_url=_api("vierstaedte_tool_query_indicator"),
        tool_body=json.dumps(tool, ensure_ascii=False),
    )
    return examples


def get_helpers() -> dict[str, Any]:
    return {"vierstaedte_api_examples": api_examples}
