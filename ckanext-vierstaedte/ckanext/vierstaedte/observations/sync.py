"""Which tables the store holds, and the copy of one dataset's table into it.

A table belongs in the store when ``logic.tables`` lets it feed the shared outputs: the normalised
resource (its DataStore table) of an active, public dataset of a city, validated, of the
contract's major schema version, with the schema's columns and no row that breaks the schema.
Rows are read as the cross-city reads always read them: those of the publishing city.

``sync_dataset`` brings one dataset's part of the store in step, in one transaction of the
DataStore database: it checks the table there (columns, then every row, in SQL), deletes what
the store held of the dataset and copies the table with one ``INSERT … SELECT``, or records why
it is skipped. A dataset that is private, deleted or gone leaves nothing behind. ``rebuild`` does
it for every dataset and removes what belongs to none; ``check`` compares without writing.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan import model
from sqlalchemy.engine import Connection

from ckanext.vierstaedte.logic import tables
from ckanext.vierstaedte.observations import store
from vierstaedte_contract.dataset import NORMALISED, ROLE_FIELD

Echo = Callable[[str], None]


@dataclasses.dataclass
class Plan:
    """What the store should hold of one dataset: its table stored, skipped (why), or nothing."""

    dataset: dict[str, Any] | None
    resource_id: str | None = None
    skipped: tables.Skipped | None = None
    resource_url: str | None = None

    @property
    def city(self) -> str:
        return ((self.dataset or {}).get("organization") or {}).get("name") or ""


def _show(dataset_id: str) -> dict[str, Any] | None:
    """The dataset as ``package_show`` gives it to a sysadmin; None if it is gone.

    From the database, not the search index's copy: a hook runs before the index is updated.
    """
    try:
        return tk.get_action("package_show")(
            {"ignore_auth": True, "use_cache": False}, {"id": dataset_id}
        )
    except tk.ObjectNotFound:
        return None


def _public(dataset: dict[str, Any] | None) -> bool:
    return bool(
        dataset
        and dataset.get("state") == "active"
        and not dataset.get("private")
        and (dataset.get("organization") or {}).get("name")
    )


def _types(connection: Connection, resource_id: str) -> dict[str, str]:
    """The columns of a resource's DataStore table (name → DataStore type); empty if none."""
    found = connection.execute(
        sa.text(
            "SELECT column_name, udt_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = :table"
        ),
        {"table": resource_id},
    ).all()
    return {name: kind for name, kind in found}


def _source(resource_id: str) -> str:
    return f"public.{store.q(resource_id)}"


def plan(
    connection: Connection, dataset: dict[str, Any] | None, after: int = 0, rows: bool = True
) -> Plan:
    """What the store should hold of a dataset (``package_show``; None: gone), not written.

    The rows checked are those after the source row ``after`` (0: all); none without ``rows``
    (they did not change since the store checked them).
    """
    if not _public(dataset):
        return Plan(dataset)
    try:
        resource = tables.usable(dataset)
    except tables.Skipped as error:
        return Plan(dataset, error.entry["resource_id"], error)
    if resource is None:
        return Plan(dataset)
    result = Plan(dataset, resource["id"], resource_url=resource.get("url"))
    problem = tables.columns_problem(_types(connection, resource["id"]))
    if problem is None and rows:
        found = connection.execute(
            sa.text(
                f"SELECT problem FROM (SELECT _id, {tables.row_problem_sql()} AS problem "
                f"FROM {_source(resource['id'])} WHERE city = :city AND _id > :after) AS checked "
                "WHERE problem IS NOT NULL ORDER BY _id LIMIT 1"
            ),
            {"city": result.city, "after": after},
        ).scalar()
        problem = tables.problem_reason(found) if found else None
    if problem:
        result.skipped = tables.Skipped(dataset, resource["id"], problem)
    return result


def _copy_statement(source: str) -> str:
    names = store.contract_columns()
    kinds = store.columns()
    target = ", ".join(store.q(name) for name in [*names, *store.EXTRA_COLUMNS])
    values = ", ".join(f"{store.q(name)}::{kinds[name]}" for name in names)
    # the year a period ends in (``2023``, ``2023-12-31``, ``2022/2023`` → 2023), as the
    # comparison lines periods up (``logic.indicators.period_year``)
    year = (
        "left(CASE WHEN strpos(period, '/') > 0 THEN split_part(period, '/', 2) "
        "ELSE period END, 4)::int"
    )
    return (
        f"INSERT INTO {store.ROWS} ({target}) "
        f"SELECT {values}, {year}, _id, :dataset_id, :dataset_name, :resource_id "
        f"FROM {source} WHERE city = :city AND _id > :after"
    )


def _copy(connection: Connection, wanted: Plan, after: int) -> tuple[int, int]:
    """Copy the planned table's rows after source row ``after``: ``(rows copied, last row)``."""
    dataset = wanted.dataset or {}
    source = _source(wanted.resource_id)
    copied = connection.execute(
        sa.text(_copy_statement(source)),
        {
            "dataset_id": dataset["id"],
            "dataset_name": dataset["name"],
            "resource_id": wanted.resource_id,
            "city": wanted.city,
            "after": after,
        },
    ).rowcount
    last = connection.execute(sa.text(f"SELECT coalesce(max(_id), 0) FROM {source}")).scalar()
    _summarise(connection, wanted.resource_id, after)
    return copied, last


def _summarise(connection: Connection, resource_id: str, after: int = 0) -> None:
    """Bring the table's coverage summary (one line per indicator) in step with its rows in
    the store: written again from all of them, or with ``after`` merged with the rows copied
    after that source row (an append pays for its new rows only)."""
    merged = ", ".join(
        f"{name} = ARRAY(SELECT DISTINCT x FROM unnest(t.{name} || EXCLUDED.{name}) AS x)"
        for name in (
            "area_levels",
            "dimensions",
            "sex",
            "age_group",
            "nationality",
            "periods",
            "units",
        )
    )
    if not after:
        connection.execute(
            sa.text(f"DELETE FROM {store.COVERAGE} WHERE resource_id = :resource_id"),
            {"resource_id": resource_id},
        )
    connection.execute(
        sa.text(
            f"INSERT INTO {store.COVERAGE} AS t ({', '.join(store.COVERAGE_COLUMNS)}) "
            "SELECT resource_id, min(dataset_id), indicator, min(city), "
            'min(period COLLATE "C"), max(period COLLATE "C"), array_agg(DISTINCT area_level), '
            "array_agg(DISTINCT dimension), array_agg(DISTINCT sex), "
            "array_agg(DISTINCT age_group), array_agg(DISTINCT nationality), "
            "array_agg(DISTINCT period), array_agg(DISTINCT unit), count(*) "
            f"FROM {store.ROWS} WHERE resource_id = :resource_id AND source_row > :after "
            "GROUP BY resource_id, indicator "
            "ON CONFLICT (resource_id, indicator) DO UPDATE SET "
            'period_from = least(t.period_from COLLATE "C", EXCLUDED.period_from), '
            'period_to = greatest(t.period_to COLLATE "C", EXCLUDED.period_to), '
            f"{merged}, row_count = t.row_count + EXCLUDED.row_count"
        ),
        {"resource_id": resource_id, "after": after},
    )


def _record(
    connection: Connection,
    wanted: Plan,
    status: str,
    *,
    count: int = 0,
    last: int = 0,
    reason: str | tables.Reason | None = None,
) -> None:
    dataset = wanted.dataset or {}
    structured = reason if isinstance(reason, tables.Reason) else None
    connection.execute(
        sa.text(
            f"INSERT INTO {store.TABLES} (resource_id, dataset_id, dataset_name, dataset_title, "
            "resource_url, city, status, reason, reason_key, reason_params, row_count, "
            "last_source_row, synced_at) VALUES (:resource_id, :dataset_id, :dataset_name, "
            ":dataset_title, :resource_url, :city, :status, :reason, :reason_key, "
            "CAST(:reason_params AS jsonb), :row_count, :last, now()) "
            "ON CONFLICT (resource_id) DO UPDATE SET dataset_id = EXCLUDED.dataset_id, "
            "dataset_name = EXCLUDED.dataset_name, dataset_title = EXCLUDED.dataset_title, "
            "resource_url = EXCLUDED.resource_url, "
            "city = EXCLUDED.city, status = EXCLUDED.status, reason = EXCLUDED.reason, "
            "reason_key = EXCLUDED.reason_key, reason_params = EXCLUDED.reason_params, "
            "row_count = EXCLUDED.row_count, last_source_row = EXCLUDED.last_source_row, "
            "synced_at = EXCLUDED.synced_at"
        ),
        {
            "resource_id": wanted.resource_id,
            "dataset_id": dataset["id"],
            "dataset_name": dataset["name"],
            "dataset_title": _title(dataset),
            "resource_url": wanted.resource_url,
            "city": wanted.city,
            "status": status,
            "reason": None if reason is None else str(reason),
            "reason_key": structured and structured.key,
            "reason_params": structured and json.dumps(structured.params),
            "row_count": count,
            "last": last,
        },
    )


def _title(dataset: dict[str, Any]) -> str:
    return dataset.get("title") or dataset["name"]


def _lock(connection: Connection, dataset_id: str) -> None:
    """One sync of a dataset at a time (two workers publishing it at once wait for each other)."""
    connection.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": "obs:" + dataset_id}
    )


def _held(connection: Connection, dataset: dict[str, Any] | None) -> dict[str, Any] | None:
    """The state of the dataset's table the store holds, if it holds one under the dataset's
    current name, title and resource URL (the citation of its rows)."""
    if not dataset:
        return None
    found = store.rows(
        connection,
        f"SELECT resource_id, row_count, last_source_row FROM {store.TABLES} "
        "WHERE dataset_id = :dataset_id AND status = :stored "
        "AND dataset_name = :name AND dataset_title = :title "
        "AND resource_url IS NOT DISTINCT FROM :url",
        dataset_id=dataset["id"],
        stored=store.STORED,
        name=dataset["name"],
        title=_title(dataset),
        url=(tables.normalised_resource(dataset) or {}).get("url"),
    )
    return found[0] if found else None


def sync_dataset(dataset_id: str, *, rows_changed: bool = True, appended: bool = False) -> Plan:
    """Bring the store in step with one dataset (id or name), in one transaction.

    Returns what the store holds of it now. Without ``rows_changed`` (a metadata update) a
    table the store holds as it is stays untouched; with ``appended`` (``datastore_upsert``'s
    ``insert``: new rows only) only the new rows are checked and copied. Otherwise the
    dataset's rows are deleted and its table copied again.
    """
    store.ensure()
    with store.write_engine().begin() as connection:
        dataset = _show(dataset_id)
        dataset_id = (dataset or {}).get("id") or dataset_id
        _lock(connection, dataset_id)
        held = _held(connection, dataset)
        unchanged = held is not None and not rows_changed
        after = held["last_source_row"] if held and appended else 0
        wanted = plan(connection, dataset, after=after, rows=not unchanged)
        keep = wanted.resource_id if wanted.skipped is None else None
        if (after or unchanged) and keep != held["resource_id"]:  # another table: all of it
            after, unchanged = 0, False
            wanted = plan(connection, dataset)
            keep = wanted.resource_id if wanted.skipped is None else None
        if keep and (after or unchanged):
            removed = _remove(connection, dataset_id, keep=keep)
            if after:
                copied, last = _copy(connection, wanted, after)
                _record(
                    connection, wanted, store.STORED, count=held["row_count"] + copied, last=last
                )
            if removed or after:
                store.bump(connection)
            return wanted
        removed = _remove(connection, dataset_id)
        if wanted.skipped is not None:
            _record(connection, wanted, store.SKIPPED, reason=wanted.skipped.reason)
        elif keep:
            copied, last = _copy(connection, wanted, 0)
            _record(connection, wanted, store.STORED, count=copied, last=last)
        if removed or wanted.skipped is not None or keep:
            store.bump(connection)
    return wanted


def _remove(connection: Connection, dataset_id: str, keep: str | None = None) -> int:
    """Delete what the store holds of a dataset (but the table ``keep``): the lines deleted."""
    return sum(
        connection.execute(
            sa.text(
                f"DELETE FROM {target} WHERE dataset_id = :dataset_id "
                "AND resource_id IS DISTINCT FROM :keep"
            ),
            {"dataset_id": dataset_id, "keep": keep},
        ).rowcount
        for target in (store.ROWS, store.COVERAGE, store.TABLES)
    )


def remove_dataset(dataset_id: str) -> None:
    """Delete what the store holds of a dataset (id or name): it is being deleted."""
    store.ensure()
    dataset_id = (_show(dataset_id) or {}).get("id") or dataset_id
    with store.write_engine().begin() as connection:
        _lock(connection, dataset_id)
        if _remove(connection, dataset_id):
            store.bump(connection)


# --- the whole catalogue ------------------------------------------------------------------------


def candidates() -> list[str]:
    """Ids of the active datasets with a normalised resource whose table is in the DataStore."""
    query = (
        model.Session.query(model.Package.id, model.Resource.extras)
        .join(model.Resource, model.Package.id == model.Resource.package_id)
        .filter(model.Resource.state == "active", model.Package.state == "active")
        .order_by(model.Package.name)
    )
    found: dict[str, None] = {}
    for dataset_id, extras in query:
        extras = extras or {}
        if extras.get(ROLE_FIELD) == NORMALISED and tk.asbool(extras.get("datastore_active")):
            found[dataset_id] = None
    return list(found)


def _held_datasets(connection: Connection) -> set[str]:
    return {
        row[0]
        for row in connection.execute(
            sa.text(
                f"SELECT dataset_id FROM {store.TABLES} UNION SELECT dataset_id FROM {store.ROWS} "
                f"UNION SELECT dataset_id FROM {store.COVERAGE}"
            )
        )
    }


def rebuild(echo: Echo = lambda _: None) -> dict[str, int]:
    """Sync every dataset and remove what belongs to none: ``{"stored", "skipped", "removed"}``.

    Idempotent; a store that is empty, stale or corrupted converges. ``echo`` gets progress.
    """
    store.ensure()
    wanted = candidates()
    counts = {"stored": 0, "skipped": 0, "removed": 0}
    for number, dataset_id in enumerate(wanted, start=1):
        done = sync_dataset(dataset_id)
        if done.skipped is not None:
            counts["skipped"] += 1
        elif done.resource_id:
            counts["stored"] += 1
        if number % 100 == 0 or number == len(wanted):
            echo(f"{number}/{len(wanted)} Datensätze abgeglichen")
    with store.write_engine().begin() as connection:
        stale = _held_datasets(connection) - set(wanted)
    for dataset_id in sorted(stale):
        remove_dataset(dataset_id)
    counts["removed"] = len(stale)
    return counts


@dataclasses.dataclass(frozen=True)
class Drift:
    """One way the store differs from the tables: ``missing``, ``extra``, ``rows``, ``coverage``
    (the table's summary does not count its rows) or ``state``."""

    kind: str
    resource_id: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.resource_id} ({self.detail})"


def check(echo: Echo = lambda _: None) -> list[Drift]:
    """How the store differs from what a rebuild would make of it (nothing written)."""
    store.ensure()
    drift: list[Drift] = []
    with store.write_engine().connect() as connection:  # only reads; rolled back on close
        counts = {
            row[0]: row[1]
            for row in connection.execute(
                sa.text(f"SELECT resource_id, count(*) FROM {store.ROWS} GROUP BY resource_id")
            )
        }
        summarised = {
            row[0]: row[1]
            for row in connection.execute(
                sa.text(
                    f"SELECT resource_id, sum(row_count) FROM {store.COVERAGE} GROUP BY resource_id"
                )
            )
        }
        states = {
            row["resource_id"]: row
            for row in store.rows(
                connection, f"SELECT resource_id, status, dataset_name FROM {store.TABLES}"
            )
        }
        expected: dict[str, str] = {}
        wanted = candidates()
        for number, dataset_id in enumerate(wanted, start=1):
            if number % 100 == 0 or number == len(wanted):
                echo(f"{number}/{len(wanted)} Datensätze geprüft")
            planned = plan(connection, _show(dataset_id))
            if planned.resource_id is None:
                continue
            rid = planned.resource_id
            state = states.get(rid)
            if planned.skipped is not None:
                expected[rid] = store.SKIPPED
                if state is None or state["status"] != store.SKIPPED:
                    drift.append(Drift("state", rid, planned.skipped.entry["reason"]))
                continue
            expected[rid] = store.STORED
            if state is None or state["status"] != store.STORED:
                drift.append(Drift("missing", rid, planned.dataset["name"]))
                continue
            source = connection.execute(
                sa.text(f"SELECT count(*) FROM {_source(rid)} WHERE city = :city"),
                {"city": planned.city},
            ).scalar()
            if counts.get(rid, 0) != source:
                drift.append(Drift("rows", rid, f"{counts.get(rid, 0)} statt {source} Zeilen"))
            elif summarised.get(rid, 0) != source:
                drift.append(
                    Drift("coverage", rid, f"Übersicht zählt {summarised.get(rid, 0)} Zeilen")
                )
            if state["dataset_name"] != planned.dataset["name"]:
                drift.append(Drift("state", rid, f"Datensatz heißt {planned.dataset['name']}"))
        for rid in sorted(set(counts) | set(states) | set(summarised)):
            if rid not in expected:
                drift.append(Drift("extra", rid, "gehört zu keiner veröffentlichten Tabelle"))
            elif expected[rid] == store.SKIPPED and rid in counts:
                drift.append(Drift("extra", rid, "Zeilen einer übersprungenen Tabelle"))
    return drift
