"""The common Table Schema of every normalised table, and its layout in the DataStore.

The file ``data/city-statistics.schema.json`` is a Frictionless Table Schema.
The ``city`` field's ``enum`` is not written in it: it is the list of member
cities (``cities.json``) and is set when the descriptor is loaded, so that a
new city is one entry of data, not an edit of the schema.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from typing import Any

from vierstaedte_contract import SCHEMA_VERSION, cities, path

FILE = "city-statistics.schema.json"
# Table Schema type → DataStore column type, as the harvester creates the table
DATASTORE_TYPES = {"string": "text", "number": "numeric", "integer": "int", "date": "date"}
# DataStore column types a reader accepts for a Table Schema type (PostgreSQL may report aliases)
DATASTORE_READ_TYPES = {
    "string": frozenset({"text"}),
    "number": frozenset({"numeric", "int", "int4", "int8", "float8"}),
    "integer": frozenset({"int", "int4", "int8"}),
    "date": frozenset({"date"}),
}
VALUE_FIELD = "value"
STATUS_FIELD = "value_status"
_SEMVER = re.compile(r"^(\d+)\.\d+\.\d+$")


@functools.cache
def _descriptor() -> dict[str, Any]:
    descriptor = json.loads(path(FILE).read_text(encoding="utf-8"))
    if descriptor["version"] != SCHEMA_VERSION:
        raise RuntimeError(
            f"{FILE} says version {descriptor['version']}, the contract package {SCHEMA_VERSION}"
        )
    city = next(f for f in descriptor["fields"] if f["name"] == "city")
    city.setdefault("constraints", {})["enum"] = cities.names()
    return descriptor


def descriptor() -> dict[str, Any]:
    """The Table Schema as a dict (a copy: callers may change it)."""
    return copy.deepcopy(_descriptor())


def field_names() -> list[str]:
    return [f["name"] for f in _descriptor()["fields"]]


def fields() -> dict[str, dict[str, Any]]:
    """Field name → field descriptor (a copy)."""
    return {f["name"]: f for f in descriptor()["fields"]}


def enum(field: str) -> tuple[str, ...]:
    """The allowed values of a field with an ``enum`` constraint."""
    found = next(f for f in _descriptor()["fields"] if f["name"] == field)
    return tuple(found["constraints"]["enum"])


def primary_key() -> list[str]:
    return list(_descriptor().get("primaryKey", []))


def major(version: Any) -> str | None:
    """The major part of a semantic version (``"1.0.0"`` → ``"1"``), None for anything else.

    A reader accepts a table whose schema version has the contract's major version.
    """
    match = _SEMVER.match(str(version or ""))
    return match[1] if match else None


def datastore_fields() -> list[dict[str, Any]]:
    """The DataStore ``fields`` of a normalised table: ids, types and the schema's labels."""
    return [
        {
            "id": f["name"],
            "type": DATASTORE_TYPES[f["type"]],
            "info": {"label": f.get("title", ""), "notes": f.get("description", "")},
        }
        for f in _descriptor()["fields"]
    ]


def number(value: Any) -> int | float | None:
    """A ``value`` cell as read back (DataStore numerics arrive as text or Decimal).

    Empty is None (``value_status`` says why); whole numbers stay whole, so a
    count of persons is never shown as ``220000.0``.
    """
    if value is None or value == "":
        return None
    result = float(value)
    return int(result) if result.is_integer() else result
