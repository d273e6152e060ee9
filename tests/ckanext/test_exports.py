"""Catalogue exports for AI tools: JSON Lines and one Data Package, from real DataStore tables."""
from __future__ import annotations

import json

import frictionless
import pytest

from ckan.tests.helpers import call_action

from vierstaedte_contract import table
from tests.ckanext.conftest import valid_dataset

DATASTORE_TYPES = {"string": "text", "number": "numeric"}
SCHEMA = table.descriptor()


def row(area_name, indicator, period, value, area_level="ortsbezirk", area_code="06", **overrides):
    """One observation of the common schema, in Mainz, totals for every breakdown."""
    data = {"city": "mainz", "ags": "07315000", "area_level": area_level, "area_code": area_code,
            "area_name": area_name, "indicator": indicator, "sex": "total", "age_group": "total",
            "nationality": "total", "dimension": "none", "dimension_value": "total", "period": period,
            "value": value, "value_status": "reported", "unit": "persons",
            "source_dataset": "rlp:einwohner-mainz", "source_column": "Einwohner"}
    data.update(overrides)
    return data


GONSENHEIM = [
    row("Gonsenheim", "population_total", "2022", 25012),
    row("Gonsenheim", "population_total", "2023", 25301),
    row("Gonsenheim", "households", "2023", 12001, unit="households"),
    row("Mainz", "population_total", "2023", 221000, area_level="stadt", area_code=None),
]


def publish_table(user: str, rows: list[dict], **overrides) -> dict:
    """A dataset as the harvester publishes it: raw file, normalised table in the DataStore, data package."""
    dataset = call_action("package_create", context={"user": user},
                          **valid_dataset(**{"validation_status": "valid", **overrides}))
    name = dataset["name"]
    call_action("resource_create", context={"user": user}, package_id=dataset["id"], role="raw", format="XLSX",
                name="Originaldatei", url=f"https://daten.mainz.de/{name}.xlsx")
    table = call_action("resource_create", context={"user": user}, package_id=dataset["id"], role="normalised",
                        format="CSV", name="Normalisierte Daten (CSV)", url=f"https://files.example.org/{name}.csv")
    call_action("resource_create", context={"user": user}, package_id=dataset["id"], role="datapackage",
                format="JSON", name="Data Package", url=f"https://files.example.org/{name}/datapackage.json")
    fields = [{"id": f["name"], "type": DATASTORE_TYPES[f["type"]]} for f in SCHEMA["fields"]]
    call_action("datastore_create", context={"user": user}, resource_id=table["id"], fields=fields,
                primary_key=SCHEMA["primaryKey"], records=rows, force=True)
    return call_action("package_show", id=dataset["id"])


def publish_gonsenheim(user: str) -> dict:
    """A public Mainz table with Gonsenheim's population, and a private one that must never show."""
    public = publish_table(user, GONSENHEIM, temporal_start=None, temporal_end=None)
    private = publish_table(user, [row("Gonsenheim", "population_total", "2023", 1)], name="mainz-geheim",
                            title="Geheime Zahlen", private=True)
    return {"public": public, "private": private, "user": user}


@pytest.fixture
def published(clean_datastore, city_editor):
    return publish_gonsenheim(city_editor["user"]["name"])


def _jsonl(app) -> list[dict]:
    response = app.get("/katalog.jsonl")
    assert response.headers["Content-Type"].startswith("application/jsonl")
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


@pytest.mark.usefixtures("with_plugins")
class TestCatalogueJsonLines:
    def test_one_record_per_public_dataset_with_indicators_periods_fields_and_urls(self, app, published):
        records = _jsonl(app)

        assert [r["name"] for r in records] == ["mainz-einwohner-2023"]
        record = records[0]
        dataset = published["public"]
        assert record["id"] == dataset["id"]
        assert record["title"] == "Einwohner nach Ortsbezirken 2023"
        assert record["city"] == {"name": "mainz", "title": "Landeshauptstadt Mainz", "ags": "07315000"}
        assert record["area_level"] == "ortsbezirk"
        assert [(i["id"], i["label_de"], i["unit"], i["first_period"], i["last_period"], i["rows"])
                for i in record["indicators"]] == [
            ("households", "Privathaushalte", "households", "2023", "2023", 1),
            ("population_total", "Einwohner insgesamt", "persons", "2022", "2023", 3),
        ]
        # no temporal_start/_end in the metadata: the table's own periods
        assert record["period"] == {"start": "2022", "end": "2023"}
        fields = {f["name"]: f for f in record["fields"]}
        assert list(fields) == [f["name"] for f in SCHEMA["fields"]]
        assert fields["value"]["units"] == ["households", "persons"]
        assert "Gebietsebene" in fields["area_level"]["title"]
        assert record["licence"] == {"uri": "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
                                     "title": "Datenlizenz Deutschland – Namensnennung – Version 2.0"}
        urls = record["urls"]
        assert urls["page"].endswith("/dataset/mainz-einwohner-2023")
        assert urls["api"].endswith(f"/api/3/action/package_show?id={dataset['id']}")
        assert urls["csv"] == "https://files.example.org/mainz-einwohner-2023.csv"
        assert urls["datapackage"] == "https://files.example.org/mainz-einwohner-2023/datapackage.json"
        assert urls["source_file"] == "https://daten.mainz.de/mainz-einwohner-2023.xlsx"
        assert record["table_schema"]["url"].endswith("/katalog/city-statistics.schema.json")
        assert record["validation_status"] == "valid" and record["table_skipped"] is None
        assert record["metadata_modified"] == dataset["metadata_modified"]

    def test_temporal_coverage_from_metadata_wins(self, app, clean_datastore, city_editor):
        publish_table(city_editor["user"]["name"], GONSENHEIM)
        assert _jsonl(app)[0]["period"] == {"start": "2023-01-01", "end": "2023-12-31"}

    def test_dataset_without_table_has_no_indicators(self, app, clean_datastore, city_editor):
        call_action("package_create", context={"user": city_editor["user"]["name"]}, **valid_dataset())
        record = _jsonl(app)[0]
        assert record["indicators"] == [] and record["fields"] == []
        assert record["urls"]["csv"] is None

    def test_action_pages_through_the_same_records(self, app, published, city_editor):
        user = published["user"]
        publish_table(user, GONSENHEIM, name="mainz-zweiter", title="Zweiter")
        result = app.get("/api/3/action/vierstaedte_catalogue_export", query_string={"rows": 1, "start": 1}).json
        assert result["result"]["count"] == 2
        assert [r["name"] for r in result["result"]["results"]] == ["mainz-zweiter"]

    def test_action_rejects_bad_paging(self, app, published):
        response = app.get("/api/3/action/vierstaedte_catalogue_export", query_string={"rows": "viele"}, status=409)
        assert "rows" in response.json["error"]


@pytest.mark.usefixtures("with_plugins")
class TestCatalogueDataPackage:
    def test_one_resource_per_normalised_table_with_the_common_schema(self, app, published):
        package = app.get("/katalog/datapackage.json").json

        assert [r["name"] for r in package["resources"]] == ["mainz-einwohner-2023"]
        resource = package["resources"][0]
        assert resource["path"] == "https://files.example.org/mainz-einwohner-2023.csv"
        assert resource["schema"] == SCHEMA
        assert package["licenses"] == [{"name": "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
                                        "path": "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
                                        "title": "Datenlizenz Deutschland – Namensnennung – Version 2.0"}]
        assert package["sources"][0]["title"] == "Landeshauptstadt Mainz"
        assert package["skipped"] == []

    def test_descriptor_is_a_valid_frictionless_package(self, app, published):
        descriptor = app.get("/katalog/datapackage.json").json

        report = frictionless.Package.validate_descriptor(descriptor)
        assert report.valid, report.flatten(["type", "note"])
        package = frictionless.Package.from_descriptor(descriptor)
        assert package.get_resource("mainz-einwohner-2023").schema.primary_key == SCHEMA["primaryKey"]

    def test_table_schema_is_served(self, app):
        assert app.get("/katalog/city-statistics.schema.json").json == SCHEMA
