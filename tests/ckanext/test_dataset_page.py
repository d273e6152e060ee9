"""The dataset page: the data dictionary of the normalised table and the validation status."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from ckan.tests.helpers import call_action

from tests.factories import HarvestedDataset, Metadata, Observation
from vierstaedte_contract.dataset import NORMALISED, resource_with_role


def dictionary_rows(html: str) -> dict[str, list[str]]:
    """Field id → the cells of its row in the data dictionary table."""
    table = BeautifulSoup(html, "html.parser").select_one("table.vierstaedte-data-dictionary-table")
    assert table is not None, "no data dictionary on the page"
    return {
        tr.th.get_text(strip=True): [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        for tr in table.select("tbody tr")
    }


@pytest.fixture
def population(clean_datastore, cities):
    """Mainz's population with a share in percent, validated with warnings."""
    return HarvestedDataset(
        name="mainz-einwohner",
        validation_status="valid_with_warnings",
        records=[
            Observation(value=222000),
            Observation(value=12.5, unit="percent", dimension="share", dimension_value="foreign"),
        ],
    )


@pytest.mark.usefixtures("with_plugins")
class TestDataDictionary:
    def test_fields_with_labels_types_units_and_descriptions_in_german(self, app, population):
        html = app.get("/dataset/mainz-einwohner").body
        rows = dictionary_rows(html)
        assert (
            list(rows)[:3] == ["city", "ags", "area_level"] and len(rows) == 17
        )  # every field of the schema
        assert rows["city"] == ["Stadt", "Text", "", "Stadt (Kurzname der Organisation)"]
        assert rows["value"][:3] == ["Wert", "Zahl", "Personen, Prozent"]
        assert rows["value"][3].startswith("Wert; leer, wenn die Quelle keinen Wert hat")
        assert rows["period"][0] == "Zeitbezug"
        page = BeautifulSoup(html, "html.parser")
        assert page.select_one("#vierstaedte-datenfelder").get_text(strip=True) == "Datenfelder"
        indicators = [
            li.get_text(" ", strip=True)
            for li in page.select(".vierstaedte-data-dictionary-indicators li")
        ]
        assert indicators == [
            "Einwohner insgesamt ( population_total ): Personen",
            "Einwohner insgesamt ( population_total ): Prozent",
        ]
        assert "Version 1.1.0" in page.select_one(".vierstaedte-data-dictionary p").get_text()
        link = page.select_one(".vierstaedte-data-dictionary p a")["href"]
        assert link.endswith(f"/resource/{resource_with_role(population, NORMALISED)['id']}")

    def test_in_english_on_the_english_page(self, app, population):
        rows = dictionary_rows(app.get("/en/dataset/mainz-einwohner").body)
        assert rows["city"] == ["City", "Text", "", "City (organisation short name)"]
        assert rows["value"][:3] == ["Value", "Number", "persons, percent"]
        assert rows["area_level"][0] == "Area level"

    def test_a_dataset_without_a_normalised_table_has_no_dictionary(self, app, city_editor):
        call_action("package_create", context={"user": city_editor["user"]["name"]}, **Metadata())
        page = BeautifulSoup(app.get("/dataset/mainz-einwohner-2023").body, "html.parser")
        assert page.select_one(".vierstaedte-data-dictionary") is None

    def test_a_table_gone_from_the_datastore_leaves_the_page_working(self, app, population):
        """The resource still says ``datastore_active``, but its table was dropped behind CKAN's back."""
        import sqlalchemy as sa
        from ckanext.datastore.backend.postgres import get_write_engine

        table = resource_with_role(population, NORMALISED)["id"]
        with get_write_engine().begin() as connection:
            connection.execute(sa.text(f'DROP TABLE "{table}"'))
        response = app.get("/dataset/mainz-einwohner")
        assert response.status_code == 200
        assert (
            BeautifulSoup(response.body, "html.parser").select_one(".vierstaedte-data-dictionary")
            is None
        )


@pytest.mark.usefixtures("with_plugins")
class TestValidationStatus:
    def test_status_with_explanation_and_link_to_the_reports(self, app, population):
        page = BeautifulSoup(app.get("/dataset/mainz-einwohner").body, "html.parser")
        status = page.select_one(".vierstaedte-validation-status")
        assert status["data-status"] == "valid_with_warnings"
        assert status.select_one(".badge").get_text(strip=True) == "gültig mit Hinweisen"
        assert "der Harvester hat Hinweise gemeldet" in status.get_text()
        assert status.select_one("a")["href"] == "/staedte/mainz/harvest"

    def test_status_in_english(self, app, population):
        status = BeautifulSoup(
            app.get("/en/dataset/mainz-einwohner").body, "html.parser"
        ).select_one(".vierstaedte-validation-status")
        assert status.strong.get_text(strip=True) == "Validation status:"
        assert status.select_one(".badge").get_text(strip=True) == "valid with warnings"

    def test_a_dataset_entered_by_hand_is_not_validated(self, app, city_editor):
        call_action("package_create", context={"user": city_editor["user"]["name"]}, **Metadata())
        status = BeautifulSoup(
            app.get("/dataset/mainz-einwohner-2023").body, "html.parser"
        ).select_one(".vierstaedte-validation-status")
        assert status["data-status"] == "not_validated"
        assert status.select_one(".badge").get_text(strip=True) == "nicht geprüft"
        assert status.select_one("a") is None
