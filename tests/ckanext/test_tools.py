"""The bot tool API over HTTP, against real DataStore tables."""

from __future__ import annotations

import jsonschema
import pytest

from tests.factories import HarvestedDataset, Observation

TOOLS = {
    "vierstaedte_tool_search_datasets",
    "vierstaedte_tool_describe_dataset",
    "vierstaedte_tool_query_indicator",
}


def _call(app, tool, status=200, **arguments):
    return app.post(f"/api/3/action/{tool}", json=arguments, status=status).json


@pytest.mark.usefixtures("with_plugins")
class TestQueryIndicator:
    def test_gonsenheim_2023_is_answered_with_a_cited_number(self, app, published):
        """„Wie viele Menschen lebten 2023 in Mainz-Gonsenheim?“"""
        result = _call(
            app,
            "vierstaedte_tool_query_indicator",
            indicator="population_total",
            city="mainz",
            area_name="Mainz-Gonsenheim",
            period="2023",
        )["result"]

        (match,) = result["results"]
        assert match["value"] == 25301
        assert (match["unit"], match["unit_label"], match["period"]) == (
            "persons",
            "Personen",
            "2023",
        )
        assert match["area"] == {"level": "ortsbezirk", "code": "06", "name": "Gonsenheim"}
        citation = match["citation"]
        assert citation["dataset_title"] == "Einwohner nach Ortsbezirken 2023"
        assert citation["dataset_url"].endswith("/dataset/mainz-einwohner-2023")
        assert citation["source_file"] == "https://daten.mainz.de/mainz-einwohner-2023.xlsx"
        assert "Datenlizenz Deutschland" in citation["text"]
        assert result["answer"].startswith(
            "Einwohner insgesamt, Gonsenheim (Mainz), 2023: 25.301 Personen."
        )
        assert "Einwohner nach Ortsbezirken 2023" in result["answer"]

    def test_without_period_the_newest_and_without_area_the_city(self, app, published):
        newest = _call(
            app,
            "vierstaedte_tool_query_indicator",
            indicator="population_total",
            city="mainz",
            area_name="gonsenheim",
        )["result"]
        assert [(m["period"], m["value"]) for m in newest["results"]] == [("2023", 25301)]
        city = _call(
            app, "vierstaedte_tool_query_indicator", indicator="population_total", city="mainz"
        )["result"]
        assert [(m["area"]["name"], m["value"]) for m in city["results"]] == [("Mainz", 221000)]

    def test_a_year_finds_a_reference_date(self, app, clean_datastore, cities):
        HarvestedDataset(
            records=[
                Observation(
                    area_level="ortsbezirk",
                    area_code="06",
                    area_name="Gonsenheim",
                    period="2024-12-31",
                    value=25400,
                )
            ]
        )
        result = _call(
            app,
            "vierstaedte_tool_query_indicator",
            indicator="population_total",
            city="mainz",
            area_name="Gonsenheim",
            period="2024",
        )["result"]
        assert result["results"][0]["value"] == 25400

    def test_no_value_is_a_clear_not_found(self, app, published):
        error = _call(
            app,
            "vierstaedte_tool_query_indicator",
            status=404,
            indicator="population_total",
            city="mainz",
            area_name="Gonsenheim",
            period="1990",
        )["error"]
        assert "Keine Werte für population_total in Gonsenheim (Mainz) für 1990" in error["message"]

    def test_private_datasets_are_never_used(self, app, published):
        # the private table has Gonsenheim 2023 = 1; only the public 25301 may come back
        result = _call(
            app,
            "vierstaedte_tool_query_indicator",
            indicator="population_total",
            city="mainz",
            area_name="Gonsenheim",
            period="2023",
        )["result"]
        assert [m["value"] for m in result["results"]] == [25301]

    @pytest.mark.parametrize(
        "arguments, field, message",
        [
            pytest.param(
                {"city": "mainz"}, "indicator", "Pflichtangabe fehlt", id="missing-indicator"
            ),
            pytest.param(
                {"indicator": "population_total", "city": "berlin"},
                "city",
                "Unbekannter Wert: berlin",
                id="unknown-city",
            ),
            pytest.param(
                {"indicator": "x'; DROP TABLE package; --", "city": "mainz"},
                "indicator",
                "Ungültiges Format",
                id="injection-attempt",
            ),
            pytest.param(
                {"indicator": "population_total", "city": "mainz", "period": "letztes Jahr"},
                "period",
                "Ungültiges Format",
                id="bad-period",
            ),
            pytest.param(
                {"indicator": "population_total", "city": "mainz", "area_name": "Atlantis"},
                "area_name",
                "Unbekanntes Gebiet in Mainz: Atlantis",
                id="unknown-area",
            ),
            pytest.param(
                {"indicator": "population_total", "city": "mainz", "sql": "SELECT 1"},
                "sql",
                "Unbekannter Parameter",
                id="unknown-parameter",
            ),
        ],
    )
    def test_invalid_arguments_are_reported_per_parameter(
        self, app, published, arguments, field, message
    ):
        error = _call(app, "vierstaedte_tool_query_indicator", status=409, **arguments)["error"]
        assert error["__type"] == "Validation Error"
        assert any(message in text for text in error[field]), error


@pytest.mark.usefixtures("with_plugins")
class TestSearchAndDescribe:
    def test_search_finds_public_datasets_only(self, app, published):
        result = _call(app, "vierstaedte_tool_search_datasets", query="Einwohner", city="mainz")[
            "result"
        ]
        assert [r["name"] for r in result["results"]] == ["mainz-einwohner-2023"]
        assert {i["id"] for i in result["results"][0]["indicators"]} == {
            "population_total",
            "households",
        }
        assert (
            _call(app, "vierstaedte_tool_search_datasets", query="Geheime")["result"]["results"]
            == []
        )

    def test_search_limit_from_a_query_string_and_its_bounds(self, app, published):
        ok = app.get(
            "/api/3/action/vierstaedte_tool_search_datasets",
            query_string={"query": "Einwohner", "limit": "1"},
        )
        assert len(ok.json["result"]["results"]) == 1
        error = _call(
            app, "vierstaedte_tool_search_datasets", status=409, query="Einwohner", limit=50
        )["error"]
        assert error["limit"] == ["Muss zwischen 1 und 10 liegen, nicht: 50"]

    def test_describe_gives_fields_periods_areas_and_citation(self, app, published):
        result = _call(app, "vierstaedte_tool_describe_dataset", id="mainz-einwohner-2023")[
            "result"
        ]
        assert result["periods"] == ["2022", "2023"]
        assert {(a["area_level"], a["area_name"]) for a in result["areas"]} == {
            ("ortsbezirk", "Gonsenheim"),
            ("stadt", "Mainz"),
        }
        assert {f["name"] for f in result["fields"]} >= {"indicator", "period", "value", "unit"}
        assert result["citation"]["text"].startswith(
            "Landeshauptstadt Mainz: „Einwohner nach Ortsbezirken 2023“"
        )
        assert result["urls"]["csv"] == "https://files.example.org/mainz-einwohner-2023.csv"

    def test_describe_hides_private_datasets_even_from_their_editors(
        self, app, published, city_editor
    ):
        response = app.post(
            "/api/3/action/vierstaedte_tool_describe_dataset",
            json={"id": "mainz-geheim"},
            headers={"Authorization": city_editor["token"]},
            status=404,
        )
        assert "mainz-geheim" in response.json["error"]["message"]


@pytest.mark.usefixtures("with_plugins", "clean_db")
class TestManifest:
    def test_manifest_declares_every_tool_with_a_valid_json_schema(self, app):
        manifest = app.get("/api/vierstaedte/tools.json").json

        assert manifest["api"].endswith("/api/3/action/")
        functions = {t["function"]["name"]: t["function"] for t in manifest["tools"]}
        assert set(functions) == TOOLS
        for function in functions.values():
            assert manifest["tools"][0]["type"] == "function"
            assert function["description"]
            jsonschema.Draft202012Validator.check_schema(function["parameters"])
        query = functions["vierstaedte_tool_query_indicator"]["parameters"]
        assert query["required"] == ["indicator", "city"]
        assert query["properties"]["city"]["enum"] == ["mainz", "trier", "koblenz", "ludwigshafen"]

    def test_every_tool_is_a_registered_action(self, app):
        for name in TOOLS:
            response = app.post(f"/api/3/action/{name}", json={}, status=409)
            assert response.json["error"]["__type"] == "Validation Error"
