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

import dataclasses
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


def N_(message: str) -> str:  # noqa: N802 - the marker pybabel extracts by default
    """Marks a message for the catalogue (``pybabel extract``); :func:`words` translates it."""
    return message


# why a table is left out, by key: a reason stored (the observation store keeps the key and its
# values) is worded when it is read, in the reader's language
REASONS = {
    "not_validated": N_("Die Tabelle hat die Prüfung nicht bestanden (Prüfstatus: {status})."),
    "schema_version": N_(
        "Die Tabelle folgt nicht dem aktuellen gemeinsamen Schema "
        "(Version {version} statt {current})."
    ),
    "table_missing": N_("Die Tabelle fehlt im DataStore."),
    "unreadable": N_("Die Tabelle ließ sich nicht lesen."),
    "columns_missing": N_("Der Tabelle fehlen Spalten des gemeinsamen Schemas: {fields}."),
    "column_types": N_(
        "Spalten der Tabelle haben nicht den Typ des gemeinsamen Schemas: {fields}."
    ),
    "required": N_("In einer Zeile fehlt „{field}“, eine Pflichtangabe."),
    "number": N_("Eine Zeile hat in „{field}“ keine Zahl."),
    "value": N_("Eine Zeile hat in „{field}“ einen Wert, den das gemeinsame Schema nicht erlaubt."),
}


@dataclasses.dataclass(frozen=True)
class Reason:
    """Why a table is left out: a key of :data:`REASONS` and its values, worded by ``str()``."""

    key: str
    params: dict[str, str] = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        return words(self.key, self.params)


def words(key: str, params: dict[str, str]) -> str:
    """A reason in plain words, in the request's language."""
    if key == "not_validated":
        status = params["status"]
        params = dict(params, status=vocabularies.label("validation_statuses", status) or status)
    return _(REASONS[key]).format(**params)


class Skipped(Exception):
    """A table left out of a shared output (logged here); ``entry`` is its line under ``skipped``.

    ``reason``: plain words, or a :class:`Reason` (kept as ``reason``, for whoever stores it).
    ``detail`` (a DataStore error) goes to the log only, never into ``entry``.
    """

    def __init__(
        self, dataset: dict[str, Any], resource_id: str, reason: str | Reason, detail: Any = None
    ):
        super().__init__(str(reason))
        self.reason = reason
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


def _problem(kind: str, field: str) -> Reason:
    """The reason for a row that breaks the Table Schema in ``field`` (``kind``: which rule)."""
    return Reason(kind, {"field": field})


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
                return str(_problem("required", name))
            continue
        if check["type"] == "number":
            try:
                number = float(value) if isinstance(value, (int, float, Decimal, str)) else math.nan
            except ValueError:
                number = math.nan
            if isinstance(value, bool) or not math.isfinite(number):
                return str(_problem("number", name))
        elif (
            not isinstance(value, str)
            or (check["enum"] is not None and value not in check["enum"])
            or (check["pattern"] is not None and not check["pattern"].match(value))
        ):
            return str(_problem("value", name))
    return None


def row_problem_sql() -> str:
    """:func:`row_problem` as a SQL expression over a table's row: ``kind:field`` or NULL.

    For checks of a whole table inside the DataStore database (the observation store copies a
    table only if no row breaks the schema); :func:`problem_reason` words its result. The first
    field in the schema's order that breaks a rule wins, as in :func:`row_problem`. Built from
    the contract only (the schema's names, enumerations and patterns), never from input.
    """

    def literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    cases = []
    for name, check in _fields().items():
        column = '"' + name + '"'
        empty = f"({column} IS NULL OR {column}::text = '')"
        if check["required"]:
            cases.append(f"WHEN {empty} THEN {literal('required:' + name)}")
        if check["type"] == "number":
            bad = f"{column}::float8 IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)"
            cases.append(f"WHEN NOT {empty} AND {bad} THEN {literal('number:' + name)}")
            continue
        rules = []
        if check["enum"] is not None:
            rules.append(f"{column} NOT IN ({', '.join(map(literal, sorted(check['enum'])))})")
        if check["pattern"] is not None:
            rules.append(f"{column} !~ {literal(check['pattern'].pattern)}")
        if rules:
            cases.append(
                f"WHEN NOT {empty} AND ({' OR '.join(rules)}) THEN {literal('value:' + name)}"
            )
    return "CASE " + " ".join(cases) + " END"


def problem_reason(found: str) -> Reason:
    """The words for a result of :func:`row_problem_sql`."""
    kind, _sep, field = found.partition(":")
    return _problem(kind, field)


def columns_problem(types: dict[str, str] | None) -> Reason | None:
    """What in a table's columns (name → DataStore type; none: no table) breaks the contract."""
    if not types:
        return Reason("table_missing")
    missing = [name for name in _fields() if name not in types]
    if missing:
        return Reason("columns_missing", {"fields": ", ".join(missing)})
    wrong = [
        name
        for name, check in _fields().items()
        if types[name] not in DATASTORE_READ_TYPES[check["type"]]
    ]
    if wrong:
        return Reason("column_types", {"fields": ", ".join(wrong)})
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
        raise Skipped(dataset, resource["id"], Reason("not_validated", {"status": status}))
    current = vierstaedte_contract.SCHEMA_VERSION
    version = dataset.get("table_schema_version")
    if major(version) is None or major(version) != major(current):
        raise Skipped(
            dataset,
            resource["id"],
            Reason("schema_version", {"version": version or "?", "current": current}),
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
        raise Skipped(dataset, resource["id"], Reason("table_missing"), error) from None
    except (tk.ValidationError, tk.NotAuthorized) as error:
        raise Skipped(
            dataset,
            resource["id"],
            Reason("unreadable"),
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
    problem = columns_problem({field["id"]: field["type"] for field in found})
    if problem:
        raise Skipped(dataset, resource["id"], problem)
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
