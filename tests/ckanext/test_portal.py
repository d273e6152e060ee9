"""Portal pages render in German with the seeded cities."""

from __future__ import annotations

import pytest
from ckan.tests.helpers import call_action

from tests.factories import Metadata


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestPortal:
    def test_home_page_presents_the_four_cities_in_german(self, app, city_editor):
        call_action("package_create", context={"user": city_editor["user"]["name"]}, **Metadata())
        html = app.get("/").body
        assert '<html lang="de"' in html
        for title in (
            "Landeshauptstadt Mainz",
            "Stadt Trier",
            "Stadt Koblenz",
            "Stadt Ludwigshafen am Rhein",
        ):
            assert title in html
        assert "1 Datensatz" in html and "0 Datensätze" in html
        assert "Datensätze durchsuchen" in html

    def test_dataset_page_shows_schema_fields_with_german_labels(self, app, city_editor):
        call_action("package_create", context={"user": city_editor["user"]["name"]}, **Metadata())
        html = app.get("/dataset/mainz-einwohner-2023").body
        assert "Einwohner nach Ortsbezirken 2023" in html
        assert "Räumliche Gliederung" in html
        assert "Politische Geokodierung" in html
        assert "Datenlizenz Deutschland Namensnennung 2.0" in html

    def test_search_page_has_german_facets(self, app, city_editor):
        call_action("package_create", context={"user": city_editor["user"]["name"]}, **Metadata())
        html = app.get("/dataset/").body
        assert "Städte" in html and "Themen" in html
        assert "Bevölkerung und Gesellschaft" in html

    def test_cities_page_lists_official_keys(self, app, cities):
        html = app.get("/staedte").body
        for ags in ("07315000", "07211000", "07111000", "07314000"):
            assert ags in html
        assert "http://dcat-ap.de/def/politicalGeocoding/regionalKey/073150000000" in html


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestDatasetForm:
    def test_form_shows_schema_fields_in_german(self, app, city_editor):
        html = app.get("/dataset/new", headers={"Authorization": city_editor["token"]}).body
        for label in (
            "Thema",
            "Lizenz",
            "Räumliche Gliederung",
            "Politische Geokodierung",
            "Zeitraum von",
        ):
            assert label in html
        assert "Datenlizenz Deutschland Namensnennung 2.0" in html

    def test_form_reports_errors_per_field_and_saves_nothing(self, app, city_editor):
        response = app.post(
            "/dataset/new",
            headers={"Authorization": city_editor["token"]},
            data={
                "name": "formular-test",
                "title": "Formular",
                "notes": "Beschreibung",
                "owner_org": "mainz",
                "license_id": "http://example.org/lizenz",
                "spatial_granularity": "ortsbezirk",
                "temporal_start": "2023-12-31",
                "temporal_end": "2023-01-01",
                "save": "",
            },
        )
        html = response.body
        assert response.status_code == 200
        assert (
            "Unbekannter Wert: http://example.org/lizenz" in html
        )  # licence, named with the value
        assert "Das Ende des Zeitraums" in html  # the date range
        assert "theme" in html.lower() and "Fehlender Wert" in html  # the required theme, in German
        assert call_action("package_list") == []
