"""A dataset as the harvester publishes it, built from the contract: the one factory of the tests.

The portal's tests (shared outputs, dataset pages, exports, bad input, security) all need the
same thing: a city's dataset with its resources in their roles and a normalised table in the
DataStore. It is built here from ``vierstaedte_contract`` (the Table Schema and its DataStore
layout, the cities, the resource roles, the schema version), so a change to the contract
changes the tests' data with it instead of leaving copies that no longer agree.

Factories in the style of ``ckan.tests.factories`` (factory_boy): ``Observation`` and
``Metadata`` build dicts, ``HarvestedDataset`` creates the dataset in CKAN and returns it as
``package_show`` shows it.
"""

from __future__ import annotations

from typing import Any

import factory

import vierstaedte_contract
from vierstaedte_contract import cities, table, vocabularies
from vierstaedte_contract.areas import CITY_LEVEL
from vierstaedte_contract.dataset import (
    DATAPACKAGE,
    NORMALISED,
    RAW,
    ROLE_FIELD,
    TABLE_SCHEMA_VERSION,
    VALIDATION_STATUS,
)

VALID = "valid"  # the validation status of a table that passed (vocabularies "validation_statuses")
TOTAL = "total"  # the value of a breakdown a table does not break down by


class Observation(factory.DictFactory):
    """One row of the common Table Schema: the city's whole population unless overridden.

    ``ags`` and the area name come from the city, the unit from the indicator; an empty
    ``value`` is ``missing``.
    """

    city = "mainz"
    ags = factory.LazyAttribute(lambda o: cities.get(o.city).ags)
    area_level = CITY_LEVEL
    area_code = ""
    area_name = factory.LazyAttribute(lambda o: cities.get(o.city).short_title)
    indicator = "population_total"
    sex = TOTAL
    age_group = TOTAL
    nationality = TOTAL
    dimension = "none"
    dimension_value = TOTAL
    period = "2023"
    value = 1
    value_status = factory.LazyAttribute(lambda o: "missing" if o.value is None else "reported")
    unit = factory.LazyAttribute(lambda o: vocabularies.indicators()[o.indicator]["unit"])
    source_dataset = factory.LazyAttribute(lambda o: f"{o.city}-test")
    source_column = "Einwohner"


class Metadata(factory.DictFactory):
    """What ``package_create`` takes for a dataset that satisfies the dataset schema.

    Tests override one field at a time; ``None`` leaves a field out.
    """

    owner_org = "mainz"
    name = factory.LazyAttribute(lambda o: f"{o.owner_org}-einwohner-2023")
    title = "Einwohner nach Ortsbezirken 2023"
    notes = "Wohnbevölkerung mit Hauptwohnsitz je Ortsbezirk."
    theme = factory.LazyFunction(lambda: ["SOCI", vocabularies.THEME_BASE + "REGI"])
    spatial_granularity = "ortsbezirk"
    temporal_start = "2023-01-01"
    temporal_end = "2023-12-31"
    frequency = vocabularies.FREQUENCY_BASE + "ANNUAL"
    contact = factory.LazyFunction(
        lambda: [{"name": "Statistikstelle", "email": "statistik@example.org"}]
    )
    publisher = factory.LazyAttribute(
        lambda o: [{"name": cities.get(o.owner_org).title, "uri": cities.get(o.owner_org).website}]
    )
    source_url = factory.LazyAttribute(
        lambda o: f"https://daten.rlp.de/dataset/einwohner-{o.owner_org}"
    )
    source_identifier = factory.LazyAttribute(lambda o: f"rlp:einwohner-{o.owner_org}-2023")
    table_schema_version = vierstaedte_contract.SCHEMA_VERSION
    tag_string = "Bevölkerung,Ortsbezirk"

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        return {key: value for key, value in kwargs.items() if value is not None}

    _create = _build


class HarvestedDataset(factory.Factory):
    """A city's dataset as the harvester publishes it, created in CKAN; returns ``package_show``.

    Validated (``valid``, the contract's schema version), with the original file (``RAW``), the
    normalised table (``NORMALISED``: its ``records`` in the DataStore with the contract's
    fields, labels and primary key) and the Data Package (``DATAPACKAGE``). Any other keyword is
    a field of :class:`Metadata`, e.g. ``private=True`` or ``validation_status="rejected"``.
    ``fields``/``primary_key`` replace the DataStore layout (a table that breaks the contract).
    """

    class Meta:
        model = dict

    city = "mainz"
    records = factory.LazyAttribute(lambda o: [Observation(city=o.city)])
    fields = factory.LazyFunction(table.datastore_fields)
    primary_key = factory.LazyFunction(table.primary_key)
    roles = (RAW, NORMALISED, DATAPACKAGE)
    user = None  # who publishes it; a new sysadmin if None

    @classmethod
    def _create(
        cls,
        model_class,
        *,
        city: str,
        records: list[dict],
        fields: list[dict],
        primary_key: list[str],
        roles: tuple[str, ...],
        user: str | None,
        **metadata: Any,
    ) -> dict:
        from ckan.tests import factories
        from ckan.tests.helpers import call_action

        context = {"user": user or factories.Sysadmin()["name"]}
        metadata = Metadata(
            **{
                "owner_org": city,
                VALIDATION_STATUS: VALID,
                TABLE_SCHEMA_VERSION: vierstaedte_contract.SCHEMA_VERSION,
                **metadata,
            }
        )
        created = call_action("package_create", context=dict(context), **metadata)
        name = created["name"]
        for role in roles:
            resource = call_action(
                "resource_create",
                context=dict(context),
                package_id=created["id"],
                **{ROLE_FIELD: role},
                **_RESOURCES[role](city, name),
            )
            if role == NORMALISED:
                call_action(
                    "datastore_create",
                    context=dict(context),
                    resource_id=resource["id"],
                    fields=fields,
                    primary_key=primary_key,
                    records=records,
                    force=True,
                )
        return call_action("package_show", context=dict(context), id=created["id"])


# each role's resource as the harvester names it (vierstaedte_harvest.run), files at made-up URLs
_RESOURCES = {
    RAW: lambda city, name: {
        "name": "Originaldatei (XLSX)",
        "format": "XLSX",
        "url": f"https://daten.{city}.de/{name}.xlsx",
    },
    NORMALISED: lambda city, name: {
        "name": "Normalisierte Daten (CSV)",
        "format": "CSV",
        "url": f"https://files.example.org/{name}.csv",
    },
    DATAPACKAGE: lambda city, name: {
        "name": "Data Package (datapackage.json)",
        "format": "JSON",
        "url": f"https://files.example.org/{name}/datapackage.json",
    },
}
