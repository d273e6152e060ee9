"""Reading the cities' normalised tables for what the four cities share, defensively.

The comparison page, the indicator actions, the AI tools and the catalogue
exports read every city's tables in one request. One table that breaks the
data contract (a row without a period, columns missing, a table that is
gone, a table that did not pass validation or follows another schema
version) must cost only that table, never the output for everyone. So every
read of a normalised table for a shared output goes through here:

1. the dataset's metadata: validation status ``valid`` or ``valid_with_warnings``
   (both passed the harvester's validation; warnings are notes) and a table schema
   version with the major version of the contract's ``SCHEMA_VERSION``;
2. the table's columns: every field of the common Table Schema, with its type;
3. every row returned: checked against the schema's constraints (required,
   enumerations, patterns, numbers) — or, for the catalogue's aggregate, the
   required fields counted in SQL.

Whatever fails raises :class:`Skipped` with a reason in plain words, logged
with the dataset and resource id; the callers list it in their output
(``skipped``). DataStore errors never reach the caller: their text may hold SQL
and the column names of a table.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ckan.plugins.toolkit as tk

import vierstaedte_contract
from vierstaedte_contract import vocabularies
from vierstaedte_contract.dataset import NORMALISED, PASSING_VALIDATION
from vierstaedte_contract.table import DATASTORE_READ_TYPES, descriptor, major

log = logging.getLogger(__name__)
_ = tk._

PAGE = 10000


class Skipped(Exception):
    """A table left out of a shared output (logged here); ``entry`` is its line under ``skipped``.

    ``detail`` (a DataStore error) goes to the log only, never into ``entry``.
    """

    def __init__(self, dataset: dict[str, Any], resource_id: str, reason: str, detail: Any = None):
        super().__init__(reason)
        self.entry = {
            "dataset": dataset.get("name"),
            "dataset_title": dataset.get("title") or dataset.get("name"),
            "city": (dataset.get("organization") or {}).get("name"),
            "resource_id": resource_id,
            "reason": str(reason),
        }
        log.warning(
            "shared outputs skip table %s of dataset %s (%s): %s%s",
            resource_id,
            dataset.get("id"),
            dataset.get("name"),
            reason,
            f" [{detail}]" if detail else "",
        )


def add(skipped: list[dict[str, Any]], error: Skipped) -> None:
    """List a skipped table once, however many reads of one request met it."""
    if all(entry["resource_id"] != error.entry["resource_id"] for entry in skipped):
        skipped.append(error.entry)


# --- the contract ------------------------------------------------------------------------------


@functools.cache
def _fields() -> dict[str, dict[str, Any]]:
    checks = {}
    for field in descriptor()["fields"]:
        constraints = field.get("constraints", {})
        checks[field["name"]] = {
            "type": field["type"],
            "required": constraints.get("required", False),
            "enum": frozenset(constraints["enum"]) if "enum" in constraints else None,
            "pattern": re.compile(constraints["pattern"]) if "pattern" in constraints else None,
        }
    return checks


def required_fields() -> list[str]:
    return [name for name, check in _fields().items() if check["required"]]


def row_problem(record: dict[str, Any]) -> str | None:
    """What in one DataStore row breaks the Table Schema, in plain words; None if nothing.

    Only the schema's fields present in the row are checked (a read may ask
    for some fields only); other columns (``_id``) are not the contract's.
    """
    for name, value in record.items():
        check = _fields().get(name)
        if check is None:
            continue
        if value is None or value == "":
            if check["required"]:
                return _("In einer Zeile fehlt „{field}“, eine Pflichtangabe.").format(field=name)
            continue
        if check["type"] == "number":
            try:
                number = float(value) if isinstance(value, (int, float, Decimal, str)) else math.nan
            except ValueError:
                number = math.nan
            if isinstance(value, bool) or not math.isfinite(number):
                return _("Eine Zeile hat in „{field}“ keine Zahl.").format(field=name)
        elif (
            not isinstance(value, str)
            or (check["enum"] is not None and value not in check["enum"])
            or (check["pattern"] is not None and not check["pattern"].match(value))
        ):
            return _(
                "Eine Zeile hat in „{field}“ einen Wert, den das gemeinsame Schema nicht erlaubt."
            ).format(field=name)
    return None


# --- finding a dataset's table ------------------------------------------------------------------


def normalised_resource(dataset: dict[str, Any]) -> dict[str, Any] | None:
    """The resource whose table the DataStore holds (by the resource's own flag), if any."""
    return next(
        (
            r
            for r in dataset.get("resources", [])
            if r.get("role") == NORMALISED and r.get("datastore_active")
        ),
        None,
    )


def usable(dataset: dict[str, Any]) -> dict[str, Any] | None:
    """The dataset's normalised resource if its metadata lets it feed shared outputs; None if none.

    Raises :class:`Skipped` for a table that failed validation or follows another schema version.
    """
    resource = normalised_resource(dataset)
    if resource is None:
        return None
    status = dataset.get("validation_status") or "not_validated"
    if status not in PASSING_VALIDATION:
        raise Skipped(
            dataset,
            resource["id"],
            _("Die Tabelle hat die Prüfung nicht bestanden (Prüfstatus: {status}).").format(
                status=vocabularies.label("validation_statuses", status) or status
            ),
        )
    current = vierstaedte_contract.SCHEMA_VERSION
    version = dataset.get("table_schema_version")
    if major(version) is None or major(version) != major(current):
        raise Skipped(
            dataset,
            resource["id"],
            _(
                "Die Tabelle folgt nicht dem aktuellen gemeinsamen Schema "
                "(Version {version} statt {current})."
            ).format(version=version or "?", current=current),
        )
    return resource


def _call(
    action: str,
    context: dict,
    data_dict: dict[str, Any],
    dataset: dict[str, Any],
    resource: dict[str, Any],
) -> dict[str, Any]:
    """One DataStore action; its errors become :class:`Skipped` without their text."""
    try:
        return tk.get_action(action)({"user": context.get("user")}, data_dict)
    except tk.ObjectNotFound as error:
        raise Skipped(
            dataset, resource["id"], _("Die Tabelle fehlt im DataStore."), error
        ) from None
    except (tk.ValidationError, tk.NotAuthorized) as error:
        raise Skipped(
            dataset,
            resource["id"],
            _("Die Tabelle ließ sich nicht lesen."),
            getattr(error, "error_dict", error),
        ) from None


def checked(context: dict, dataset: dict[str, Any]) -> dict[str, Any] | None:
    """:func:`usable`, and the DataStore table has every column of the schema, of its type."""
    resource = usable(dataset)
    if resource is None:
        return None
    found = _call(
        "datastore_search",
        context,
        {"resource_id": resource["id"], "limit": 0, "include_total": False},
        dataset,
        resource,
    )["fields"]
    types = {field["id"]: field["type"] for field in found}
    missing = [name for name in _fields() if name not in types]
    if missing:
        raise Skipped(
            dataset,
            resource["id"],
            _("Der Tabelle fehlen Spalten des gemeinsamen Schemas: {fields}.").format(
                fields=", ".join(missing)
            ),
        )
    wrong = [
        name
        for name, check in _fields().items()
        if types[name] not in DATASTORE_READ_TYPES[check["type"]]
    ]
    if wrong:
        raise Skipped(
            dataset,
            resource["id"],
            _("Spalten der Tabelle haben nicht den Typ des gemeinsamen Schemas: {fields}.").format(
                fields=", ".join(wrong)
            ),
        )
    return resource


# --- reading ------------------------------------------------------------------------------------


def records(
    context: dict,
    dataset: dict[str, Any],
    resource: dict[str, Any],
    most: int | None = None,
    **search: Any,
) -> Iterator[dict[str, Any]]:
    """The rows of one ``datastore_search`` (at most ``most``), each checked against the schema.

    The first row that breaks the contract raises :class:`Skipped`: callers
    gather a table's rows before using any, so a table counts wholly or not at all.
    """
    offset = 0
    while most is None or offset < most:
        size = PAGE if most is None else min(PAGE, most - offset)
        page = _call(
            "datastore_search",
            context,
            dict(
                search, resource_id=resource["id"], limit=size, offset=offset, include_total=False
            ),
            dataset,
            resource,
        )
        for record in page["records"]:
            problem = row_problem(record)
            if problem:
                raise Skipped(dataset, resource["id"], problem)
            yield record
        if len(page["records"]) < size:
            return
        offset += size


def sql(
    context: dict, dataset: dict[str, Any], resource: dict[str, Any], statement: str
) -> list[dict[str, Any]]:
    """The records of one ``datastore_search_sql`` statement (the caller's, never from input)."""
    return _call("datastore_search_sql", context, {"sql": statement}, dataset, resource)["records"]


def incomplete_rows_sql() -> str:
    """An aggregate counting the rows that leave a required field empty (for a GROUP BY query)."""
    empty = " OR ".join(f'"{name}" IS NULL OR "{name}"::text = \'\'' for name in required_fields())
    return f"SUM(CASE WHEN {empty} THEN 1 ELSE 0 END)"
