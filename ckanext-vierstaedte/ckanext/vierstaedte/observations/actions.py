"""What keeps the store in step with publishing: the DataStore writes and the dataset hooks.

A table's rows change only through ``datastore_create``, ``datastore_upsert`` and
``datastore_delete``: each is chained here and syncs the table's dataset once the write is
done. Whether a table may be in the store at all changes with its dataset (made private,
withdrawn, its validation status changed, its resource deleted, the dataset deleted):
``plugin.py``'s ``IPackageController`` hooks call :func:`dataset_changed` and
:func:`dataset_deleted` (a resource deletion updates its dataset, so it arrives as a change);
an organisation's bulk actions (private, public, delete) call no hook and are chained here.
A DataStore write patches its resource (``datastore_active``) and so updates the dataset
inside the action: that hook waits for the action's own sync instead of copying twice.

A sync that fails fails the action: a dataset made private is not private in CKAN while its
rows are still served. What a failure between the two databases leaves behind (the store
written, CKAN's transaction not) ``ckan vierstaedte observations check`` reports and
``… rebuild`` repairs.
"""

from __future__ import annotations

import contextvars
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte.logic import table_views
from ckanext.vierstaedte.observations import sync

# set while a chained DataStore action runs: its own sync follows, the dataset hook waits for it
_writing: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "observations_writing", default=False
)


def _dataset_of(resource_id: str) -> str | None:
    try:
        resource = tk.get_action("resource_show")({"ignore_auth": True}, {"id": resource_id})
    except tk.ObjectNotFound:
        return None
    return resource["package_id"]


def _then_sync(up_func, context, data_dict, step=None, appended=False):
    """Run the DataStore action (``step``: wrapped in another step), then sync its dataset."""
    token = _writing.set(True)
    try:
        result = up_func(context, data_dict) if step is None else step(up_func, context, data_dict)
    finally:
        _writing.reset(token)
    resource_id = result.get("resource_id") or data_dict.get("resource_id")
    dataset_id = _dataset_of(resource_id) if resource_id else None
    if dataset_id:
        sync.sync_dataset(dataset_id, appended=appended)
    return result


@tk.chained_action
def datastore_create(up_func, context, data_dict):
    """CKAN's ``datastore_create``, the table view (``table_views``), then the store.

    A plugin chains an action once, so the table view's step runs inside this one.
    """
    return _then_sync(up_func, context, data_dict, step=table_views.datastore_create)


@tk.chained_action
def datastore_upsert(up_func, context, data_dict):
    """CKAN's ``datastore_upsert``, then the store (new rows only, for ``method: insert``)."""
    appended = data_dict.get("method") == "insert"
    return _then_sync(up_func, context, data_dict, appended=appended)


@tk.chained_action
def datastore_delete(up_func, context, data_dict):
    """CKAN's ``datastore_delete`` (rows or the whole table), then the store."""
    return _then_sync(up_func, context, data_dict)


def _then_sync_each(up_func, context, data_dict):
    """Run an organisation's bulk action (it calls no dataset hook), then sync its datasets."""
    result = up_func(context, data_dict)
    for dataset_id in data_dict.get("datasets") or []:
        sync.sync_dataset(dataset_id, rows_changed=False)
    return result


@tk.chained_action
def bulk_update_private(up_func, context, data_dict):
    """CKAN's ``bulk_update_private``, then the store drops the datasets' rows."""
    return _then_sync_each(up_func, context, data_dict)


@tk.chained_action
def bulk_update_public(up_func, context, data_dict):
    """CKAN's ``bulk_update_public``, then the store takes the datasets' usable tables."""
    return _then_sync_each(up_func, context, data_dict)


@tk.chained_action
def bulk_update_delete(up_func, context, data_dict):
    """CKAN's ``bulk_update_delete``, then the store drops the datasets' rows."""
    return _then_sync_each(up_func, context, data_dict)


def dataset_changed(dataset: dict[str, Any]) -> None:
    """A dataset was created or updated (or one of its resources): its part of the store."""
    found = dataset.get("id") or dataset.get("name")
    if found and not _writing.get():
        sync.sync_dataset(found, rows_changed=False)


def dataset_deleted(dataset: dict[str, Any]) -> None:
    """A dataset is being deleted (CKAN calls the hook before it marks it): nothing of it stays."""
    found = dataset.get("id") or dataset.get("name")
    if found:
        sync.remove_dataset(found)


def get_actions() -> dict[str, Any]:
    return {
        "datastore_create": datastore_create,
        "datastore_upsert": datastore_upsert,
        "datastore_delete": datastore_delete,
        "bulk_update_private": bulk_update_private,
        "bulk_update_public": bulk_update_public,
        "bulk_update_delete": bulk_update_delete,
    }
