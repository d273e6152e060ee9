"""The dataset schema through the real Action API, indexed in the real Solr."""

from __future__ import annotations

import pytest
from ckan.tests import factories
from ckan.tests.helpers import call_action

from tests.factories import Metadata

SOCI = "http://publications.europa.eu/resource/authority/data-theme/SOCI"
REGI = "http://publications.europa.eu/resource/authority/data-theme/REGI"


def _post(app, action, data, token, status=200):
    response = app.post(
        f"/api/3/action/{action}", json=data, headers={"Authorization": token}, status=status
    )
    return response.json


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestCreateAndSearch:
    def test_created_dataset_is_found_with_city_and_theme_facets(self, app, city_editor):
        created = _post(app, "package_create", Metadata(), city_editor["token"])["result"]

        assert created["theme"] == [SOCI, REGI]
        assert created["license_id"] == "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
        assert created["political_geocoding_uri"] == (
            "http://dcat-ap.de/def/politicalGeocoding/regionalKey/073150000000"
        )
        assert created["political_geocoding_level_uri"] == (
            "http://dcat-ap.de/def/politicalGeocoding/Level/municipality"
        )
        assert created["validation_status"] == "not_validated"

        result = app.get(
            "/api/3/action/package_search",
            query_string={"q": "Ortsbezirk", "facet.field": '["organization", "vocab_theme"]'},
        ).json["result"]
        assert [d["name"] for d in result["results"]] == ["mainz-einwohner-2023"]
        assert result["facets"]["organization"] == {"mainz": 1}
        assert result["facets"]["vocab_theme"] == {SOCI: 1, REGI: 1}

        by_theme = call_action("package_search", fq=f'vocab_theme:"{REGI}" AND organization:mainz')
        assert by_theme["count"] == 1

    def test_theme_facet_items_carry_german_labels(self, city_editor):
        call_action("package_create", context={"user": city_editor["user"]["name"]}, **Metadata())
        result = call_action("package_search", **{"facet.field": ["vocab_theme"]})
        labels = {
            item["name"]: item["display_name"]
            for item in result["search_facets"]["vocab_theme"]["items"]
        }
        assert labels[SOCI] == "Bevölkerung und Gesellschaft"
        assert labels[REGI] == "Regionen und Städte"

    def test_licence_short_form_and_https_www_variant_are_normalised(self, city_editor):
        created = call_action(
            "package_create",
            context={"user": city_editor["user"]["name"]},
            **Metadata(
                license_id="cc-by/4.0",
                political_geocoding_uri="https://www.dcat-ap.de/def/politicalGeocoding/municipalityKey/07315000",
            ),
        )
        assert created["license_id"] == "http://dcat-ap.de/def/licenses/cc-by/4.0"
        assert created["political_geocoding_uri"] == (
            "http://dcat-ap.de/def/politicalGeocoding/municipalityKey/07315000"
        )


INVALID = [
    pytest.param({"title": None}, "title", id="missing-title"),
    pytest.param({"notes": None}, "notes", id="missing-description"),
    pytest.param({"theme": None}, "theme", id="missing-theme"),
    pytest.param({"spatial_granularity": None}, "spatial_granularity", id="missing-granularity"),
    pytest.param(
        {"license_id": "http://example.org/my-licence"}, "license_id", id="bad-licence-uri"
    ),
    pytest.param({"theme": ["SOCI", "MAGIC"]}, "theme", id="unknown-theme"),
    pytest.param(
        {"temporal_start": "2023-12-31", "temporal_end": "2023-01-01"},
        "temporal_end",
        id="end-before-start",
    ),
    pytest.param({"temporal_start": "31.12.2023"}, "temporal_start", id="german-date-format"),
    pytest.param(
        {"political_geocoding_uri": "http://example.org/mainz"},
        "political_geocoding_uri",
        id="bad-geocoding",
    ),
    pytest.param({"source_url": "javascript:alert(1)"}, "source_url", id="script-url"),
    pytest.param({"table_schema_version": "v1"}, "table_schema_version", id="bad-schema-version"),
    pytest.param({"frequency": "sometimes"}, "frequency", id="unknown-frequency"),
]


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestInvalidPayloads:
    @pytest.mark.parametrize("overrides, field", INVALID)
    def test_rejected_with_field_level_error_and_nothing_written(
        self, app, city_editor, overrides, field
    ):
        body = _post(app, "package_create", Metadata(**overrides), city_editor["token"], status=409)

        assert body["success"] is False
        error = body["error"]
        assert error["__type"] == "Validation Error"
        assert field in error, error
        assert error[field] and all(
            isinstance(message, str) and message for message in error[field]
        )
        assert call_action("package_list") == []
        assert call_action("package_search")["count"] == 0

    def test_unknown_theme_message_names_the_value(self, app, city_editor):
        body = _post(
            app, "package_create", Metadata(theme=["MAGIC"]), city_editor["token"], status=409
        )
        assert "MAGIC" in body["error"]["theme"][0]
        assert "SOCI" in body["error"]["theme"][0]  # the allowed values are listed


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestCityAuthorization:
    def test_city_editor_writes_only_to_own_city(self, app, city_editor):
        _post(app, "package_create", Metadata(), city_editor["token"])

        body = _post(
            app,
            "package_create",
            Metadata(name="trier-einwohner", owner_org="trier"),
            city_editor["token"],
            status=403,
        )
        assert body["error"]["__type"] == "Authorization Error"
        assert [d["owner_org"] for d in call_action("package_search")["results"]] == [
            call_action("organization_show", id="mainz")["id"]
        ]

    def test_city_editor_cannot_move_or_edit_another_citys_dataset(self, app, city_editor, cities):
        sysadmin = factories.SysadminWithToken()
        trier = _post(
            app,
            "package_create",
            Metadata(name="trier-daten", owner_org="trier"),
            sysadmin["token"],
        )["result"]

        _post(
            app,
            "package_patch",
            {"id": trier["id"], "title": "gekapert"},
            city_editor["token"],
            status=403,
        )
        mine = _post(app, "package_create", Metadata(), city_editor["token"])["result"]
        # CKAN's owner_org validator refuses the move as a field-level error
        moved = _post(
            app,
            "package_patch",
            {"id": mine["id"], "owner_org": "trier"},
            city_editor["token"],
            status=409,
        )
        assert "owner_org" in moved["error"]

        assert call_action("package_show", id=trier["id"])["title"] == Metadata()["title"]
        assert call_action("package_show", id=mine["id"])["organization"]["name"] == "mainz"

    def test_anonymous_cannot_create(self, app, cities):
        app.post("/api/3/action/package_create", json=Metadata(), status=403)
        assert call_action("package_list") == []
