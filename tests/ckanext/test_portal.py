"""Portal pages render in German with the seeded cities."""
from __future__ import annotations

import pytest

from ckan.tests.helpers import call_action

from tests.ckanext.conftest import valid_dataset


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestPortal:
    def test_home_page_presents_the_four_cities_in_german(self, app, city_editor):
        call_action("package_create", context={"user": city_editor["user"]["name"]}, **valid_dataset())
        html = app.get("/").body
        assert '<html lang="de"' in html
        for title in ("Landeshauptstadt Mainz", "Stadt Trier", "Stadt Koblenz", "Stadt Ludwigshafen am Rhein"):
            assert title in html
        assert "1 Datensatz" in html and "0 Datensätze" in html
        assert "Datensätze durchsuchen" in html

    def test_dataset_page_shows_schema_fields_with_german_labels(self, app, city_editor):
        call_action("package_create", context={"user": city_editor["user"]["name"]}, **valid_dataset())
        html = app.get("/dataset/mainz-einwohner-2023").body
        assert "Einwohner nach Ortsbezirken 2023" in html
        assert "Räumliche Gliederung" in html
        assert "Politische Geokodierung" in html
        assert "Datenlizenz Deutschland – Namensnennung – Version 2.0" in html

    def test_search_page_has_german_facets(self, app, city_editor):
        call_action("package_create", context={"user": city_editor["user"]["name"]}, **valid_dataset())
        html = app.get("/dataset/").body
        assert "Städte" in html and "Themen" in html
        assert "Bevölkerung und Gesellschaft" in html

    def test_cities_page_lists_official_keys(self, app, cities):
        html = app.get("/staedte").body
        for ags in ("07315000", "07211000", "07111000", "07314000"):
            assert ags in html
        assert "http://dcat-ap.de/def/politicalGeocoding/regionalKey/073150000000" in html
