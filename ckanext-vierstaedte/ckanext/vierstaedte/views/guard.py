"""Refuse input no handler can use, for every route of the portal (CKAN's own too), with a 400.

PostgreSQL cannot store a NUL character in text, UTF-8 cannot encode a lone
surrogate (which a JSON ``\\ud800`` escape produces), and a JSON document
nested a thousand deep exhausts Python's recursion limit. Each of them
otherwise fails deep inside CKAN (psycopg2's ``ValueError``,
``UnicodeEncodeError``, ``RecursionError``) and answers 500 on any action or
page that passes the value on. One check before any view runs covers the
path, the query string, form fields and the JSON body, including JSON sent as
text in a parameter (CKAN reads a form's only key as a JSON body). The API
gets CKAN's JSON error shape, pages CKAN's error page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint, Response

from ckanext.vierstaedte.logic.schema import json_depth

blueprint = Blueprint("vierstaedte_guard", __name__)

# far deeper than any CKAN action needs; far below Python's recursion limit
MAX_DEPTH = 64
# a JSON body is walked string by string only if it may hold a NUL or a surrogate (as an escape)
# or JSON text in a string; a DataStore upload of megabytes is only scanned (docs/performance.md)
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_JSON_IN_STRING = re.compile(rb'"[ \t\r\n]*[\[{]')


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string in a JSON value (keys too), with the parameter it came from; iterative."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _json_in_text(text: str) -> Any:
    """The JSON value a text holds if it looks like an object or an array (None otherwise)."""
    if text.lstrip()[:1] not in ("{", "["):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _label(where: str) -> str:
    """The name of a parameter as a message may show it: NUL and lone surrogates escaped, cut short."""
    shown = where.encode("utf-8", "backslashreplace").decode("utf-8")
    return shown.replace("\x00", "\\x00")[:60]


def _problem_in(where: str, value: Any) -> str | None:
    if json_depth(value, MAX_DEPTH) > MAX_DEPTH:
        return tk._("„{where}“ ist zu tief verschachtelt (mehr als {max} Ebenen).").format(
            where=_label(where), max=MAX_DEPTH
        )
    for name, text in _strings(value, where):
        if "\x00" in text:
            return tk._(
                "„{where}“ enthält ein NUL-Zeichen; das ist in keiner Angabe erlaubt."
            ).format(where=_label(name))
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return tk._(
                "„{where}“ enthält ein ungültiges Unicode-Zeichen (ein einzelnes Surrogat)."
            ).format(where=_label(name))
        if len(text) > 1:
            nested = _json_in_text(text)
            problem = _problem_in(name, nested) if nested is not None else None
            if problem:
                return problem
    return None


# CKAN 2.12's DataStore dump formats; its own check of ``format`` crashes (a tuple formatted
# with ``%``) and answers 500 for any other value
DUMP_FORMATS = ("csv", "tsv", "json", "xml")


def _problem() -> str | None:
    """What makes this request unusable, or None."""
    request = tk.request
    if request.path.startswith("/datastore/dump/") and request.args.get("format", "") not in (
        "",
        *DUMP_FORMATS,
    ):
        return tk._("Unbekanntes Format; möglich sind: {formats}.").format(
            formats=", ".join(DUMP_FORMATS)
        )
    parts: list[tuple[str, Any]] = [("path", request.path)]
    for source in (request.args, request.form):
        parts += [(key, [key, *source.getlist(key)]) for key in source.keys()]
    if request.is_json:
        too_deep = tk._(
            "Der JSON-Inhalt ist zu tief verschachtelt (mehr als {max} Ebenen)."
        ).format(max=MAX_DEPTH)
        try:
            body = request.get_json(silent=True)  # cached: CKAN's API reads the same parse
        except RecursionError:
            return too_deep
        if json_depth(body, MAX_DEPTH) > MAX_DEPTH:
            return too_deep
        raw = request.get_data(cache=True)
        if _SUSPECT_ESCAPE.search(raw) or _JSON_IN_STRING.search(raw):
            parts.append(("JSON", body))
    for where, value in parts:
        try:
            problem = _problem_in(where, value)
        except RecursionError:  # JSON text in a parameter, nested too deep for the parser
            problem = tk._("„{where}“ ist zu tief verschachtelt (mehr als {max} Ebenen).").format(
                where=_label(where), max=MAX_DEPTH
            )
        if problem:
            return problem
    return None


@blueprint.before_app_request
def refuse_unusable_input() -> Response | None:
    problem = _problem()
    if problem is None:
        return None
    if tk.request.path.startswith("/api/"):
        body = {"success": False, "error": {"__type": "Bad request", "message": problem}}
        return Response(json.dumps(body), status=400, mimetype="application/json")
    return tk.abort(400, problem)
