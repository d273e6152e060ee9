"""The data dictionary of a dataset's normalised table, for the dataset page.

The harvester loads every normalised table into the DataStore with the
common schema's titles and descriptions as the table's data dictionary, both
languages in one text (``Stadt / City``, ``… — …``). This reads the dictionary
back from the DataStore (what the table really has), picks the visitor's
language and adds the units and indicators the table's values are in, so the
dataset page answers "what is in this table" without opening the resource.

It reads through the DataStore's backend, not its actions: ``datastore_info`` and
``datastore_search`` each ran ``resource_show`` (a whole ``package_show``) for an authorisation
the page has already checked, and the row count, sizes and indexes the page does not show; the
dataset page cost 1.6 × CKAN core's (#19). Now: three queries on PostgreSQL's system catalogs,
two on the table.
"""

from __future__ import annotations

import logging
from typing import Any

import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan.plugins import PluginImplementations
from ckanext.datastore.backend import DatastoreBackend
from ckanext.datastore.backend.postgres import get_read_engine, identifier
from ckanext.datastore.interfaces import IDataDictionaryForm

from ckanext.vierstaedte.logic import tables
from vierstaedte_contract import vocabularies

log = logging.getLogger(__name__)
_ = tk._

# how many indicator/unit pairs the page lists; a normalised table holds a handful
MAX_INDICATORS = 100


def _in_language(text: str, separator: str, lang: str) -> str:
    """One language of a bilingual text ``German<separator>English``; a text without the separator is kept."""
    german, found, english = (text or "").partition(separator)
    if not found:
        return text or ""
    chosen = (english if lang == "en" else german).strip()
    return chosen[:1].upper() + chosen[1:]


def _type_label(datastore_type: str) -> str:
    labels = {
        "text": _("Text"),
        "numeric": _("Zahl"),
        "int": _("Ganzzahl"),
        "int4": _("Ganzzahl"),
        "int8": _("Ganzzahl"),
        "float8": _("Zahl"),
        "bool": _("Wahrheitswert"),
        "date": _("Datum"),
        "timestamp": _("Zeitpunkt"),
    }
    return str(labels.get(datastore_type, datastore_type))


def _read_table(resource_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The table's fields (as ``datastore_info`` gives them) and its distinct indicator/unit pairs.

    (None, []) when the DataStore has no such table. Reads through the DataStore's backend and
    read-only engine instead of the ``datastore_info``/``datastore_search`` actions: each action
    runs ``resource_show`` (a whole ``package_show``) for an authorisation the page has already
    checked, and the table's size, row count and indexes the page does not show.
    """
    backend = DatastoreBackend.get_active_backend()
    if not backend.resource_exists(resource_id):
        return None, []
    info = backend.resource_fields(resource_id, include_meta=False, include_fields_schema=False)
    plugin_data = backend.resource_plugin_data(resource_id)
    for index, field in enumerate(info["fields"]):
        for plugin in PluginImplementations(IDataDictionaryForm):
            field = plugin.update_datastore_info_field(field, plugin_data.get(field["id"], {}))
        info["fields"][index] = field
    statement = sa.text(
        f"SELECT DISTINCT indicator, unit FROM {identifier(resource_id)} "
        "ORDER BY indicator, unit LIMIT :limit"
    )
    with get_read_engine().connect() as connection:
        pairs = [
            dict(row) for row in connection.execute(statement, {"limit": MAX_INDICATORS}).mappings()
        ]
    return info, pairs


def data_dictionary(pkg_dict: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """Fields (id, label, type, unit, description) and indicators of the normalised table.

    None when the dataset has no normalised table.
    """
    resource = tables.normalised_resource(pkg_dict)
    if resource is None:
        return None
    try:
        info, pairs = _read_table(resource["id"])
    except sa.exc.SQLAlchemyError as error:
        log.warning("no data dictionary for resource %s: %s", resource["id"], error)
        return None
    if info is None:
        log.warning("no data dictionary for resource %s: no DataStore table", resource["id"])
        return None

    order = {
        unit: index for index, unit in enumerate(vocabularies.units())
    }  # persons before percent

    def unit_order(unit: str | None) -> tuple:
        return order.get(unit or "", len(order)), unit or ""

    pairs.sort(key=lambda p: (p["indicator"] or "", unit_order(p["unit"])))
    present = sorted({p["unit"] for p in pairs if p["unit"]}, key=unit_order)
    units = {unit: vocabularies.unit_info(unit, lang)["label"] for unit in present}
    known = vocabularies.indicators()
    listed = [
        {
            "id": p["indicator"],
            "label": vocabularies.indicator_info(p["indicator"], lang)["label"]
            if p["indicator"] in known
            else p["indicator"],
            "unit": units.get(p["unit"], p["unit"] or ""),
        }
        for p in pairs
    ]
    fields = []
    for field in info["fields"]:
        notes = field.get("info") or {}
        fields.append(
            {
                "id": field["id"],
                "label": _in_language(notes.get("label", ""), " / ", lang),
                "type": _type_label(field["type"]),
                "unit": ", ".join(units.values()) if field["id"] == "value" else "",
                "description": _in_language(notes.get("notes", ""), " — ", lang),
            }
        )
    return {"resource": resource, "fields": fields, "indicators": listed}
