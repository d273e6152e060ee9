"""In-process CKAN fixtures of the whole suite: an empty DataStore, the cities, a city's editor.

A pytest plugin (``tests/conftest.py`` names it in ``pytest_plugins``), so the tests of every
folder (the extension's, bad input, security) ask for these fixtures by name: no test module
imports a conftest for them. The live CKAN and the harvester are the other plugin,
``tests/live.py``; test data comes from ``tests/factories.py``.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def clean_datastore(clean_db, clean_index):
    """An empty DataStore database, next to the empty CKAN database (``clean_db`` empties the
    observation store: its own schema, which emptying ``public`` leaves)."""
    from ckanext.datastore.tests import helpers

    engine = helpers.db.get_write_engine()
    helpers.rebuild_all_dbs(helpers.orm.scoped_session(helpers.orm.sessionmaker(bind=engine)))


@pytest.fixture
def cities(clean_db):
    """The city organisations as the seed command creates them, by name."""
    from ckan.tests import factories

    from ckanext.vierstaedte import seed

    sysadmin = factories.Sysadmin()
    return {
        org["name"]: org
        for org in seed.ensure_cities({"user": sysadmin["name"]}, echo=lambda _: None)
    }


@pytest.fixture
def city_editor(cities):
    """An editor of Mainz with an API token, as a city's staff account would be."""
    from ckan.tests import factories
    from ckan.tests.helpers import call_action

    user = factories.User()
    call_action(
        "organization_member_create", id=cities["mainz"]["id"], username=user["name"], role="editor"
    )
    token = factories.APIToken(user=user["name"])
    return {"user": user, "token": token["token"]}
