"""Input schemas of the extension's own actions and pages, and the strict validators they share.

Numbers and nesting are bounded here, at input: an offset of 2^63 overflows
PostgreSQL's ``bigint`` and a deep JSON document exhausts Python's recursion
limit, and both would surface as a 500 deep inside a query or a walk of the
data. A caller gets a field error instead.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte.council import validators as cv

# Solr's ``start`` and ``rows`` are 32-bit integers; nothing we page through is anywhere near this
MAX_OFFSET = 2**31 - 1
MAX_PAGE = 10_000  # a page number of a portal page
MAX_JSON_DEPTH = 32  # nesting of a JSON value our actions accept (a harvest report needs about 6)
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
_TRUE, _FALSE = ("true", "yes", "t", "y", "1"), ("false", "no", "f", "n", "0", "")


def json_depth(value: Any, limit: int) -> int:
    """How deeply ``value`` nests, counted without recursion and only up to ``limit + 1``."""
    if not isinstance(value, (dict, list)):
        return 0
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= limit:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def bounded_int(minimum: int, maximum: int):
    """A validator: a whole number (or its decimal text) from ``minimum`` to ``maximum``.

    Stricter than CKAN's ``int_validator``: no floats, no booleans, and blank text is
    an error rather than ``None`` (which ``natural_number_validator`` then fails on).
    """

    def validator(value: Any, context: dict) -> int:
        number = value
        if isinstance(value, str):
            number = int(value.strip()) if _INTEGER.fullmatch(value.strip()) else None
        whole = isinstance(number, int) and not isinstance(number, bool)
        if not whole or not minimum <= number <= maximum:
            shown = str(value)[:30] + ("…" if len(str(value)) > 30 else "")
            raise tk.Invalid(
                tk._("Muss eine ganze Zahl von {min} bis {max} sein, nicht: {value}").format(
                    min=minimum, max=maximum, value=shown
                )
            )
        return number

    return validator


def strict_boolean(value: Any, context: dict) -> bool:
    """``true``/``false`` as JSON, or a word CKAN's ``boolean_validator`` knows; else an error.

    (``boolean_validator`` calls ``.lower()`` on whatever it gets: a number raises.)
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise tk.Invalid(tk._("Muss true oder false sein."))


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
        "kind": [v("default")("catalogue"), v("vierstaedte_harvest_run_kind")],
        "counts": [v("not_missing"), v("vierstaedte_harvest_counts")],
        "report": [v("not_missing"), v("vierstaedte_harvest_report")],
        "harvester_version": [
            v("ignore_missing"),
            v("unicode_safe"),
            v("vierstaedte_harvester_version"),
        ],
    }


HARVEST_RUN_MAX_LIMIT = 100


def harvest_run_list() -> dict[str, Any]:
    v = tk.get_validator
    return {
        "organization": [v("not_empty"), v("unicode_safe"), v("vierstaedte_organization_id")],
        "limit": [v("default")(20), bounded_int(1, HARVEST_RUN_MAX_LIMIT)],
        "offset": [v("default")(0), bounded_int(0, MAX_OFFSET)],
        "include_report": [v("default")(False), strict_boolean],
        "kind": [v("ignore_empty"), v("vierstaedte_harvest_run_kind")],
    }


def harvest_run_show() -> dict[str, Any]:
    return {"id": [tk.get_validator("not_empty"), tk.get_validator("unicode_safe")]}


def harvest_page() -> dict[str, Any]:
    """The query of ``/staedte/<city>/harvest``: page of runs, which run, page of its problems."""
    v = tk.get_validator
    return {
        "page": [v("default")(1), bounded_int(1, MAX_PAGE)],
        "problem_page": [v("default")(1), bounded_int(1, MAX_PAGE)],
        "run": [v("ignore_empty"), v("unicode_safe")],
    }


def catalogue_export() -> dict[str, Any]:
    v = tk.get_validator
    return {
        "start": [v("default")(0), bounded_int(0, MAX_OFFSET)],
        # capped like package_search's rows, at ckan.search.rows_max
        "rows": [
            v("default")(100),
            bounded_int(1, MAX_OFFSET),
            v("limit_to_configured_maximum")("ckan.search.rows_max", 1000),
        ],
    }


# The council store (``council/actions.py``); the validators bound every field.


def _council_city() -> list[Any]:
    v = tk.get_validator
    return [v("not_empty"), v("unicode_safe"), v("vierstaedte_organization_id")]


def council_upsert() -> dict[str, Any]:
    return {
        "city": _council_city(),
        "objects": [tk.get_validator("not_missing"), cv.council_objects],
    }


def council_file_text() -> dict[str, Any]:
    v = tk.get_validator
    optional = v("ignore_missing")
    return {
        "city": _council_city(),
        "file_id": [v("not_missing"), cv.oparl_url],
        "status": [v("not_missing"), cv.file_text_status],
        "text": [optional, cv.file_text],
        "sha256": [optional, cv.sha256_value],
        "size": [optional, v("ignore_empty"), bounded_int(0, 2**53)],
        "etag": [optional, cv.short_text()],
        "last_modified": [optional, cv.short_text()],
        "mime_type": [optional, cv.short_text()],
        "source_url": [v("not_missing"), cv.oparl_url],
    }


def council_file_state() -> dict[str, Any]:
    return {"city": _council_city(), "file_ids": [tk.get_validator("not_missing"), cv.file_ids]}


def council_sync_show() -> dict[str, Any]:
    return {"city": _council_city()}


def council_sync_update() -> dict[str, Any]:
    v = tk.get_validator
    return {
        "city": _council_city(),
        "body": [v("not_missing"), cv.oparl_url],
        "list": [v("not_missing"), cv.list_name],
        "watermark": [v("default")(None), cv.optional_time],
        "full_sync": [v("default")(False), strict_boolean],
    }


def council_show() -> dict[str, Any]:
    return {"key": [tk.get_validator("not_missing"), cv.object_key_value]}


# The council search (``council/search.py``): every argument bounded, unknown cities refused.
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _council_cities(value: Any, context: dict) -> list[str]:
    """One city name or several (a list, or comma-separated), each a member city."""
    from vierstaedte_contract import cities

    items = value if isinstance(value, list) else str(value).split(",")
    names = [str(item).strip() for item in items if str(item).strip()]
    known = {city.name for city in cities.members()}
    unknown = [name[:40] for name in names if name not in known]
    if unknown or len(names) > len(known):
        raise tk.Invalid(tk._("Unbekannte Stadt: {city}").format(city=", ".join(unknown)))
    return list(dict.fromkeys(names))


def _iso_day(value: Any, context: dict) -> str:
    text = str(value).strip()
    try:
        if _ISO_DAY.fullmatch(text):
            datetime.date.fromisoformat(text)
            return text
    except ValueError:
        pass
    raise tk.Invalid(tk._("Muss ein Datum JJJJ-MM-TT sein, nicht: {value}").format(value=text[:30]))


def _short_text(value: Any, context: dict) -> str:
    if not isinstance(value, str) or len(value) > 500:
        raise tk.Invalid(tk._("Muss ein Text von höchstens 500 Zeichen sein."))
    return value.strip()


def council_search() -> dict[str, Any]:
    v = tk.get_validator
    optional = [v("ignore_missing"), v("ignore_empty"), _short_text]
    return {
        "q": optional,
        "city": [v("ignore_missing"), v("ignore_empty"), _council_cities],
        "body": optional,
        "organization": optional,
        "paper_type": optional,
        "type": [v("ignore_missing"), v("ignore_empty"), v("one_of")(["paper", "meeting", "file"])],
        "person": optional,
        "date_from": [v("ignore_missing"), v("ignore_empty"), _iso_day],
        "date_to": [v("ignore_missing"), v("ignore_empty"), _iso_day],
        "sort": [v("ignore_missing"), v("ignore_empty"), v("one_of")(["relevance", "date"])],
        "rows": [v("default")(cv.SEARCH_ROWS_DEFAULT), bounded_int(1, cv.SEARCH_ROWS_MAX)],
        "start": [v("default")(0), bounded_int(0, cv.SEARCH_START_MAX)],
        "lang": [v("default")("de"), v("one_of")(["de", "en"])],
    }
