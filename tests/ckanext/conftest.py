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
