"""The portal's licence field: the whole DCAT-AP.de vocabulary, any spelling, non-open marked.

Through the real Action API and the dataset pages (real PostgreSQL and Solr).
"""

from __future__ import annotations

import re

import pytest
from ckan.tests.helpers import call_action

from tests.factories import Metadata

LIC = "http://dcat-ap.de/def/licenses/"


def _create(app, token, status=200, **fields):
    return app.post(
        "/api/3/action/package_create",
        json=Metadata(**fields),
        headers={"Authorization": token},
        status=status,
    ).json


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestLicenceField:
    def test_an_unknown_licence_is_refused_naming_the_accepted_ones(self, app, city_editor):
        body = _create(app, city_editor["token"], 409, license_id="MIT-artig")
        (message,) = body["error"]["license_id"]
        assert message.startswith("Unbekannter Wert: MIT-artig.")
        # the licences by their short ids, open and not open apart; never bare version numbers
        assert "dl-by-de/2.0" in message and "cc-by/4.0" in message and "odbl" in message
        open_part, closed_part = message.split("Nicht offen")
        assert "cc-by-nc/4.0" in closed_part and "cc-by-nc/4.0" not in open_part
        assert not re.search(r"(?:: |, )\d+\.\d+(?:,|\.|$)", message), message
        assert call_action("package_search")["count"] == 0

    def test_a_versionless_licence_without_its_own_entry_names_the_versions(self, app, city_editor):
        body = _create(app, city_editor["token"], 409, license_id="dl-by-de")
        (message,) = body["error"]["license_id"]
        assert "dl-by-de/1.0, dl-by-de/2.0" in message

    @pytest.mark.parametrize(
        "given, stored",
        [
            ("cc-by", LIC + "cc-by"),  # the vocabulary's versionless entry
            ("CC BY 4.0", LIC + "cc-by/4.0"),
            ("odc-odbl", LIC + "odbl"),
            ("https://www.govdata.de/dl-de/by-2-0", LIC + "dl-by-de/2.0"),
            ("https://www.dcat-ap.de/def/licenses/dl-zero-de/2_0", LIC + "dl-zero-de/2.0"),
            ("http://dcat-ap.de/def/licenses/od-bl", LIC + "odbl"),  # an older DCAT-AP.de URI
        ],
    )
    def test_variants_are_stored_as_the_canonical_uri(self, app, city_editor, given, stored):
        created = _create(app, city_editor["token"], license_id=given)["result"]
        assert created["license_id"] == stored
        assert created["isopen"] is True

    def test_a_non_open_licence_is_accepted_and_shown_as_not_open(self, app, city_editor):
        created = _create(app, city_editor["token"], license_id="CC BY-NC 4.0")["result"]
        assert created["license_id"] == LIC + "cc-by-nc/4.0"
        assert created["isopen"] is False
        assert created["license_title"].endswith("(CC BY-NC 4.0)")
        html = app.get(f"/dataset/{created['name']}").body
        assert "vierstaedte-not-open" in html and "nicht offen" in html

        _create(app, city_editor["token"], name="mainz-offen", license_id="dl-by-de/2.0")
        assert "vierstaedte-not-open" not in app.get("/dataset/mainz-offen").body

    def test_the_form_lists_the_common_licences_first_and_marks_the_non_open(
        self, app, city_editor
    ):
        html = app.get("/dataset/new", headers={"Authorization": city_editor["token"]}).body
        select = html[html.index('name="license_id"') :]
        select = select[: select.index("</select>")]
        values = re.findall(r'<option value="([^"]+)"', select)
        assert values[:3] == [LIC + "dl-by-de/2.0", LIC + "dl-zero-de/2.0", LIC + "cc-by/4.0"]
        assert len(values) == 34
        assert values.index(LIC + "other-open") < values.index(LIC + "cc-by-nc/4.0")
        assert (
            "Namensnennung - Nicht kommerziell 4.0 International (CC BY-NC 4.0) – nicht offen"
            in (select)
        )
