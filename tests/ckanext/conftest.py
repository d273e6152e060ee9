"""Fixtures for the CKAN extension's tests."""
from __future__ import annotations

import pytest

from ckan.tests import factories


@pytest.fixture
def clean_datastore(clean_db, clean_index):
    """An empty DataStore database, next to the empty CKAN database."""
    from ckanext.datastore.tests import helpers

    engine = helpers.db.get_write_engine()
    helpers.rebuild_all_dbs(helpers.orm.scoped_session(helpers.orm.sessionmaker(bind=engine)))


@pytest.fixture
def cities(clean_db):
    """The four city organisations as the seed command creates them."""
    from ckanext.vierstaedte import seed

    sysadmin = factories.Sysadmin()
    return {org["name"]: org for org in seed.ensure_cities({"user": sysadmin["name"]}, echo=lambda _: None)}


@pytest.fixture
def city_editor(cities):
    """An editor of Mainz with an API token, as a city's staff account would be."""
    from ckan.tests.helpers import call_action

    user = factories.User()
    call_action("organization_member_create", id=cities["mainz"]["id"], username=user["name"], role="editor")
    token = factories.APIToken(user=user["name"])
    return {"user": user, "token": token["token"]}


def valid_dataset(**overrides):
    """A payload that satisfies the dataset schema; tests override one thing at a time."""
    data = {
        "name": "mainz-einwohner-2023",
        "title": "Einwohner nach Ortsbezirken 2023",
        "notes": "Wohnbevölkerung mit Hauptwohnsitz je Ortsbezirk.",
        "owner_org": "mainz",
        "theme": ["SOCI", "http://publications.europa.eu/resource/authority/data-theme/REGI"],
        "spatial_granularity": "ortsbezirk",
        "temporal_start": "2023-01-01",
        "temporal_end": "2023-12-31",
        "frequency": "http://publications.europa.eu/resource/authority/frequency/ANNUAL",
        "contact": [{"name": "Statistikstelle", "email": "statistik@example.org"}],
        "publisher": [{"name": "Landeshauptstadt Mainz", "uri": "https://www.mainz.de"}],
        "source_url": "https://daten.rlp.de/dataset/einwohner-mainz",
        "source_identifier": "rlp:einwohner-mainz-2023",
        "table_schema_version": "1.0.0",
        "tag_string": "Bevölkerung,Ortsbezirk",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def normalised_table(city: str, name: str, records: list[dict], **dataset) -> dict:
    """A dataset of ``city`` with a normalised table in the DataStore, loaded as the harvester loads it.

    The DataStore fields and their data dictionary (``info``) come from the
    common Table Schema, exactly as ``vierstaedte_harvest.publish`` writes them.
    """
    from ckan.tests.helpers import call_action
    from vierstaedte_contract import table
    from vierstaedte_harvest.publish import DATASTORE_TYPES

    admin = {"user": factories.Sysadmin()["name"]}
    created = call_action("package_create", context=dict(admin), **valid_dataset(name=name, owner_org=city, **dataset))
    resource = call_action("resource_create", context=dict(admin), package_id=created["id"], name="Normalisierte Daten",
                           url="http://example.org/normalised.csv", format="CSV", role="normalised")
    fields = [{"id": f["name"], "type": DATASTORE_TYPES[f["type"]],
               "info": {"label": f.get("title", ""), "notes": f.get("description", "")}}
              for f in table.descriptor()["fields"]]
    call_action("datastore_create", context=dict(admin), resource_id=resource["id"], fields=fields, records=records,
                force=True)
    return {"dataset": created, "resource": resource}


def observation(city: str, area_name: str, period: str, value, **overrides) -> dict:
    """One row of the common schema; the city's whole area, population, no breakdown unless overridden."""
    ags = {"mainz": "07315000", "trier": "07211000", "koblenz": "07111000", "ludwigshafen": "07314000"}
    data = {"city": city, "ags": ags[city], "area_level": "stadt", "area_code": None, "area_name": area_name,
            "indicator": "population_total", "sex": "total", "age_group": "total", "nationality": "total",
            "dimension": "none", "dimension_value": "total", "period": period, "value": value,
            "value_status": "reported", "unit": "persons", "source_dataset": f"{city}-test", "source_column": "Einwohner"}
    data.update(overrides)
    return data
