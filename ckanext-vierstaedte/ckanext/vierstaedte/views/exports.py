"""Catalogue exports and the bot tool manifest at stable, cacheable URLs.

The logic is in logic/exports.py and logic/tools.py.
"""

from __future__ import annotations

import json

import ckan.plugins.toolkit as tk
from flask import Blueprint, Response, stream_with_context

from ckanext.vierstaedte.logic import exports, tools
from vierstaedte_contract import table

blueprint = Blueprint("vierstaedte_exports", __name__)


def _context() -> dict:
    return {"user": tk.current_user.name if tk.current_user.is_authenticated else ""}


def _json(data) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")


def catalogue_jsonl():
    """One JSON record per public dataset, streamed while it is produced."""
    lines = exports.catalogue_lines(_context())
    return Response(stream_with_context(lines), mimetype="application/jsonl; charset=utf-8")


def catalogue_datapackage():
    return _json(exports.catalogue_datapackage(_context()))


def table_schema():
    return _json(table.descriptor())


def tool_manifest():
    return _json(tools.tool_manifest())


blueprint.add_url_rule("/katalog.jsonl", view_func=catalogue_jsonl, endpoint="catalogue_jsonl")
blueprint.add_url_rule(
    "/katalog/datapackage.json", view_func=catalogue_datapackage, endpoint="catalogue_datapackage"
)
blueprint.add_url_rule(
    "/katalog/city-statistics.schema.json", view_func=table_schema, endpoint="table_schema"
)
blueprint.add_url_rule(
    "/api/vierstaedte/tools.json", view_func=tool_manifest, endpoint="tool_manifest"
)
