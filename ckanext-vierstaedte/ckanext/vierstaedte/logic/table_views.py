"""Every DataStore table is shown as a table (CKAN's ``datatables_view``) on its resource page.

CKAN adds its default views when a resource is created, but a view that needs the DataStore
applies only once the table exists, and ``datastore_create`` with a ``resource_id`` (how the
harvester publishes) adds none: every table stayed without a preview. Chaining
``datastore_create`` adds the view the moment a table is published, so the harvester needs no
change; ``ckan vierstaedte create-views`` gives one to the tables published before. Both are
idempotent: a resource that has a table view keeps it and gets no second one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ckan.plugins.toolkit as tk
from ckan import model

VIEW_TYPE = "datatables_view"
# stored once per view, shown in the portal's source language
TITLE = "Tabelle"
DESCRIPTION = "Die Tabelle zum Blättern, Sortieren und Filtern."


def ensure(context: dict[str, Any], resource_id: str) -> dict[str, Any] | None:
    """The table view of ``resource_id``, created unless the resource already has one.

    Returns the new view, or None when there was one. ``context`` is the caller's, whose
    right to write the resource its ``datastore_create`` has just checked.
    """
    nested = {"user": context.get("user"), "ignore_auth": True}
    views = tk.get_action("resource_view_list")(dict(nested), {"id": resource_id})
    if any(view["view_type"] == VIEW_TYPE for view in views):
        return None
    return tk.get_action("resource_view_create")(
        dict(nested),
        {
            "resource_id": resource_id,
            "view_type": VIEW_TYPE,
            "title": TITLE,
            "description": DESCRIPTION,
            "responsive": True,  # a phone gets the row's other columns on a tap, not a wide table
            "filterable": True,
        },
    )


@tk.chained_action
def datastore_create(up_func, context, data_dict):
    """CKAN's ``datastore_create``, then the table view of the table it wrote.

    Registered as one step of ``observations.actions.datastore_create`` (a plugin chains an
    action once)."""
    result = up_func(context, data_dict)
    ensure(context, result["resource_id"])
    return result


def active_tables() -> Iterator[str]:
    """Ids of the active resources of active datasets whose table is in the DataStore."""
    query = (
        model.Session.query(model.Resource.id, model.Resource.extras)
        .join(model.Package, model.Package.id == model.Resource.package_id)
        .filter(model.Resource.state == "active", model.Package.state == "active")
        .order_by(model.Resource.id)
    )
    for resource_id, extras in query:
        if tk.asbool((extras or {}).get("datastore_active")):
            yield resource_id


def create_missing(context: dict[str, Any]) -> tuple[int, int]:
    """A table view for every DataStore table without one: ``(created, already there)``."""
    created = kept = 0
    for resource_id in active_tables():
        if ensure(context, resource_id) is None:
            kept += 1
        else:
            created += 1
    return created, kept
