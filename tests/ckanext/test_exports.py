"""Catalogue exports for AI tools: JSON Lines and one Data Package, from real DataStore tables."""

from __future__ import annotations

import csv
import io
import json

import frictionless
import pytest
from ckan.tests.helpers import call_action

from tests.factories import HarvestedDataset, Metadata, Observation
from vierstaedte_contract import table

SCHEMA = table.descriptor()


def _jsonl(app) -> list[dict]:
    response = app.get("/katalog.jsonl")
    assert response.headers["Content-Type"].startswith("application/jsonl")
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


@pytest.mark.usefixtures("with_plugins")
class TestCatalogueJsonLines:
    def test_one_record_per_public_dataset_with_indicators_periods_fields_and_urls(
        self, app, published
    ):
        records = _jsonl(app)

        assert [r["name"] for r in records] == ["mainz-einwohner-2023"]
        record = records[0]
        dataset = published["public"]
        assert record["id"] == dataset["id"]
        assert record["title"] == "Einwohner nach Ortsbezirken 2023"
        assert record["city"] == {
            "name": "mainz",
            "title": "Landeshauptstadt Mainz",
            "ags": "07315000",
        }
        assert record["area_level"] == "ortsbezirk"
        assert [
            (i["id"], i["label_de"], i["unit"], i["first_period"], i["last_period"], i["rows"])
            for i in record["indicators"]
        ] == [
            ("households", "Privathaushalte", "households", "2023", "2023", 1),
            ("population_total", "Einwohner insgesamt", "persons", "2022", "2023", 3),
        ]
        # no temporal_start/_end in the metadata: the table's own periods
        assert record["period"] == {"start": "2022", "end": "2023"}
        fields = {f["name"]: f for f in record["fields"]}
        assert list(fields) == [f["name"] for f in SCHEMA["fields"]]
        assert fields["value"]["units"] == ["households", "persons"]
        assert "Gebietsebene" in fields["area_level"]["title"]
        assert record["licence"] == {
            "uri": "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
            "title": "Datenlizenz Deutschland Namensnennung 2.0",
        }
        urls = record["urls"]
        assert urls["page"].endswith("/dataset/mainz-einwohner-2023")
        assert urls["api"].endswith(f"/api/3/action/package_show?id={dataset['id']}")
        assert urls["csv"] == "https://files.example.org/mainz-einwohner-2023.csv"
        assert (
            urls["datapackage"] == "https://files.example.org/mainz-einwohner-2023/datapackage.json"
        )
        assert urls["source_file"] == "https://daten.mainz.de/mainz-einwohner-2023.xlsx"
        assert record["table_schema"]["url"].endswith("/katalog/city-statistics.schema.json")
        assert record["validation_status"] == "valid" and record["table_skipped"] is None
        assert record["metadata_modified"] == dataset["metadata_modified"]

    def test_temporal_coverage_from_metadata_wins(self, app, clean_datastore, cities, gonsenheim):
        HarvestedDataset(records=gonsenheim)
        assert _jsonl(app)[0]["period"] == {"start": "2023-01-01", "end": "2023-12-31"}

    def test_dataset_without_table_has_no_indicators(self, app, clean_datastore, city_editor):
        call_action("package_create", context={"user": city_editor["user"]["name"]}, **Metadata())
        record = _jsonl(app)[0]
        assert record["indicators"] == [] and record["fields"] == []
        assert record["urls"]["csv"] is None

    def test_action_pages_through_the_same_records(self, app, published, gonsenheim):
        HarvestedDataset(records=gonsenheim, name="mainz-zweiter", title="Zweiter")
        result = app.get(
            "/api/3/action/vierstaedte_catalogue_export", query_string={"rows": 1, "start": 1}
        ).json
        assert result["result"]["count"] == 2
        assert [r["name"] for r in result["result"]["results"]] == ["mainz-zweiter"]

    def test_action_rejects_bad_paging(self, app, published):
        response = app.get(
            "/api/3/action/vierstaedte_catalogue_export", query_string={"rows": "viele"}, status=409
        )
        assert "rows" in response.json["error"]


@pytest.mark.usefixtures("with_plugins")
class TestCatalogueDataPackage:
    def test_one_resource_per_normalised_table_with_the_common_schema(self, app, published):
        package = app.get("/katalog/datapackage.json").json

        assert [r["name"] for r in package["resources"]] == ["mainz-einwohner-2023"]
        resource = package["resources"][0]
        assert resource["path"] == "https://files.example.org/mainz-einwohner-2023.csv"
        assert resource["schema"] == SCHEMA
        assert package["licenses"] == [
            {
                "name": "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
                "path": "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
                "title": "Datenlizenz Deutschland Namensnennung 2.0",
            }
        ]
        assert package["sources"][0]["title"] == "Landeshauptstadt Mainz"
        assert package["skipped"] == []

    def test_descriptor_is_a_valid_frictionless_package(self, app, published):
        descriptor = app.get("/katalog/datapackage.json").json

        report = frictionless.Package.validate_descriptor(descriptor)
        assert report.valid, report.flatten(["type", "note"])
        package = frictionless.Package.from_descriptor(descriptor)
        assert (
            package.get_resource("mainz-einwohner-2023").schema.primary_key == SCHEMA["primaryKey"]
        )

    def test_table_schema_is_served(self, app):
        assert app.get("/katalog/city-statistics.schema.json").json == SCHEMA


PROVENANCE = ["Quelle (URL)", "Lizenz", "Lizenz (URL)", "Namensnennung"]
DL_BY_DE = "Datenlizenz Deutschland – Namensnennung – Version 2.0"


@pytest.fixture
def turnout(clean_datastore, cities) -> dict:
    """Mainz's turnout with decimals: what German Excel misreads from a decimal point."""
    return HarvestedDataset(
        records=[
            Observation(indicator="election_turnout", period="2019", value=72.19),
            Observation(indicator="election_turnout", period="2024", value=-0.5),
        ],
        name="mainz-wahlbeteiligung",
        title="Wahlbeteiligung",
    )


def _download(app, **args) -> str:
    answer = app.get("/vergleich.csv", query_string={"indicator": "election_turnout", **args})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    return answer.get_data(as_text=False).decode("utf-8")


@pytest.mark.usefixtures("with_plugins")
class TestComparisonCsv:
    def test_excel_variant_has_bom_semicolons_and_decimal_commas(self, app, turnout):
        answer = app.get(
            "/vergleich.csv", query_string={"indicator": "election_turnout", "format": "excel"}
        )
        assert "-excel.csv" in answer.headers["Content-Disposition"]
        text = answer.get_data(as_text=False).decode("utf-8")
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
        header, body = rows[0], rows[1:]
        assert header[: header.index("Wert") + 1] == [
            "Stadt",
            "Gebiet",
            "Jahr",
            "Zeitbezug",
            "Wert",
        ]
        assert header[-4:] == PROVENANCE
        values = [row[header.index("Wert")] for row in body]
        assert values == ["72,19", "-0,5"]  # read back the German way
        assert [float(v.replace(",", ".")) for v in values] == [72.19, -0.5]
        assert '"Mainz";' in text and ";72,19;" in text  # numbers unquoted, text quoted
        self._provenance(app, turnout, header, body)

    def test_machine_variant_is_plain_csv_with_the_same_sources(self, app, turnout):
        text = _download(app)
        assert not text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text)))
        header, body = rows[0], rows[1:]
        assert [row[header.index("Wert")] for row in body] == ["72.19", "-0.5"]
        assert header[-4:] == PROVENANCE
        self._provenance(app, turnout, header, body)

    @staticmethod
    def _provenance(app, dataset, header, body):
        for row in body:
            cells = dict(zip(header, row, strict=True))
            assert cells["Quelle"] == "Wahlbeteiligung"
            assert cells["Quelle (URL)"].endswith("/dataset/mainz-wahlbeteiligung")
            assert cells["Lizenz"] == "Datenlizenz Deutschland Namensnennung 2.0"
            assert cells["Lizenz (URL)"] == "https://www.govdata.de/dl-de/by-2-0"
            assert cells["Namensnennung"].startswith("Landeshauptstadt Mainz: „Wahlbeteiligung“")
            assert DL_BY_DE in cells["Namensnennung"]

    def test_an_unknown_format_is_refused_with_the_choices(self, app, turnout):
        assert _download(app, format="csv") == _download(app)
        answer = app.get(
            "/vergleich.csv", query_string={"indicator": "election_turnout", "format": "xlsx"}
        )
        assert answer.status_code == 400
        assert "„excel“" in answer.get_data(as_text=True)
        assert "xlsx" not in answer.headers.get("Content-Disposition", "")
