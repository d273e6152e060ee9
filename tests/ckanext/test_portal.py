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


@pytest.mark.usefixtures("with_plugins")
class TestLegalPages:
    """Impressum, Datenschutz, Barrierefreiheit, Kontakt: the operator's text from ckan.ini or a
    file (views/pages.py); without one a clearly marked placeholder, never an error."""

    PAGES = {
        "/impressum": "Impressum",
        "/datenschutz": "Datenschutz",
        "/barrierefreiheit": "Erklärung zur Barrierefreiheit",
        "/kontakt": "Kontakt",
    }

    def test_without_configuration_each_page_is_a_marked_placeholder(self, app):
        for path, title in self.PAGES.items():
            response = app.get(path)
            assert response.status_code == 200, path
            html = response.body
            assert f'<h1 class="page-heading">{title}</h1>' in html
            assert 'class="vierstaedte-placeholder"' in html and "Platzhalter" in html
            assert "ckanext.vierstaedte.pages." in html  # says where the text goes

    @pytest.mark.ckan_config(
        "ckanext.vierstaedte.pages.impressum", "**Stadt Mainz**, Jockel-Fuchs-Platz 1"
    )
    def test_the_ini_text_is_rendered_as_markdown(self, app):
        html = app.get("/impressum").body
        assert "<strong>Stadt Mainz</strong>, Jockel-Fuchs-Platz 1" in html
        assert "vierstaedte-placeholder" not in html
        assert "vierstaedte-placeholder" in app.get("/kontakt").body

    def test_a_file_wins_over_the_ini_text_and_is_read_on_every_request(
        self, app, tmp_path, ckan_config, monkeypatch
    ):
        text = tmp_path / "datenschutz.md"
        text.write_text("# Hinweise\n\nWir speichern <script>alert(1)</script> nichts.\n")
        monkeypatch.setitem(ckan_config, "ckanext.vierstaedte.pages.datenschutz", "aus der ini")
        monkeypatch.setitem(ckan_config, "ckanext.vierstaedte.pages.datenschutz_file", str(text))
        html = app.get("/datenschutz").body
        assert "Wir speichern" in html and "aus der ini" not in html
        assert "<script>alert(1)</script>" not in html  # Markdown is sanitised
        text.write_text("Geändert.\n")
        assert "Geändert." in app.get("/datenschutz").body

    def test_an_unreadable_file_shows_the_placeholder(
        self, app, tmp_path, ckan_config, monkeypatch
    ):
        missing = tmp_path / "fehlt.md"
        monkeypatch.setitem(ckan_config, "ckanext.vierstaedte.pages.kontakt_file", str(missing))
        response = app.get("/kontakt")
        assert response.status_code == 200
        assert "vierstaedte-placeholder" in response.body


@pytest.mark.usefixtures("with_plugins")
class TestIdentity:
    def test_the_demo_banner_follows_the_setting(self, app, ckan_config, monkeypatch):
        monkeypatch.setitem(ckan_config, "ckanext.vierstaedte.demo", "true")
        assert "vierstaedte-demo-banner" in app.get("/about").body
        monkeypatch.setitem(ckan_config, "ckanext.vierstaedte.demo", "false")
        assert "vierstaedte-demo-banner" not in app.get("/about").body

    def test_no_ckan_branding_and_our_own_about_page(self, app):
        html = app.get("/about").body
        assert "Über Vier Städte Open Data" in html
        for branding in (
            "CKAN Association",
            "ckan-footer-logo",
            "ckan-logo",
            "ckan.org",
            "ckan.ico",
        ):
            assert branding not in html
        assert 'rel="icon" type="image/svg+xml" href="/vierstaedte/logo.svg"' in html
        assert "CKAN" not in html.split("<body", 1)[1]

    def test_the_navigation_leaves_out_a_missing_page(self, app, monkeypatch):
        from ckanext.vierstaedte.views import pages

        monkeypatch.setattr(
            pages,
            "NAVIGATION",
            (*pages.NAVIGATION, ("kein_blueprint.seite", "Rat", ("kein_blueprint",))),
        )
        response = app.get("/about")
        assert response.status_code == 200
        assert ">Daten</a>" in response.body and ">Vergleich</a>" in response.body


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestPublicFace:
    """CKAN's organisation pages, member lists and error pages are not what the public sees."""

    def test_organisation_pages_lead_to_the_city_pages(self, app, cities):
        for path, target in (
            ("/organization/", "/staedte"),
            ("/organization/about/mainz", "/staedte/mainz"),
            ("/organization/members/mainz", "/staedte/mainz"),
        ):
            response = app.get(path, follow_redirects=False)
            assert response.status_code == 302, path
            assert response.headers["Location"].endswith(target), (path, response.headers)

    def test_dataset_page_names_the_city_not_the_organisation(self, app, city_editor):
        call_action("package_create", context={"user": city_editor["user"]["name"]}, **Metadata())
        html = app.get("/dataset/mainz-einwohner-2023").body
        main = html.split('<ol class="breadcrumb">', 1)[1]
        assert '<a href="/staedte">Städte</a>' in main
        assert 'href="/staedte/mainz"' in main
        assert "placeholder-organization" not in html
        assert 'href="/organization/' not in main

    def test_error_pages_speak_german(self, app, cities):
        for path, status, heading in (
            ("/gibtsnicht", 404, "Seite nicht gefunden"),
            ("/ckan-admin", 403, "Zugriff verweigert"),
            ("/dataset/?page=abc", 400, "Ungültige Anfrage"),
        ):
            response = app.get(path, status=status)
            assert heading in response.body, path
            for english in ("Not Found", "Forbidden", "Bad Request", "The requested URL"):
                assert english not in response.body, (path, english)

    def test_an_unknown_dump_format_is_a_bad_request(self, app, cities):
        response = app.get("/datastore/dump/keine-tabelle?format=xx", status=400)
        assert "csv, tsv, json, xml" in response.body


@pytest.mark.usefixtures("with_plugins")
def test_help_shows_the_documentation_of_an_extended_action(app):
    """Our chained ``package_search`` (CKAN wraps it in functools.partial) keeps CKAN's help."""
    for name, documented in (
        ("package_search", ":param q:"),
        ("datastore_search_sql", ":param sql:"),
    ):
        result = app.get(f"/api/3/action/help_show?name={name}").json["result"]
        assert documented in result, (name, result[:200])
        assert "partial(func" not in result


@pytest.mark.usefixtures("with_plugins")
def test_resource_page_names_its_preview_in_german(app, clean_datastore, cities):
    from tests.factories import HarvestedDataset
    from vierstaedte_contract.dataset import NORMALISED, resource_with_role

    dataset = HarvestedDataset()
    resource = resource_with_role(dataset, NORMALISED)
    html = app.get(f"/dataset/{dataset['name']}/resource/{resource['id']}").body
    assert "<title>" in html and "(Mainz)" in html.split("</title>")[0]
    assert 'title="Tabellenvorschau"' in html and 'aria-label="Tabellenvorschau"' in html
    assert 'aria-label="Schließen"' in html
    for english in ("Data viewer", "Close modal"):
        assert english not in html
