"""The city organisations, the seed command and the city actions."""
from __future__ import annotations

import pytest

from ckan.tests.helpers import call_action

EXPECTED = {
    "mainz": ("07315000", "073150000000"),
    "trier": ("07211000", "072110000000"),
    "koblenz": ("07111000", "071110000000"),
    "ludwigshafen": ("07314000", "073140000000"),
}


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestSeed:
    def test_seed_creates_cities_and_samples_and_is_idempotent(self, cli, clean_datastore):
        from ckanext.vierstaedte.cli import vierstaedte

        first = cli.invoke(vierstaedte, ["seed"])
        assert first.exit_code == 0, first.output
        ids = {d["name"]: d["id"] for d in call_action("package_search", rows=100)["results"]}
        resources = {d["name"]: [r["id"] for r in d["resources"]] for d in call_action("package_search", rows=100)["results"]}

        second = cli.invoke(vierstaedte, ["seed"])
        assert second.exit_code == 0, second.output
        assert "updated" in second.output

        after = call_action("package_search", rows=100)["results"]
        assert {d["name"]: d["id"] for d in after} == ids
        assert {d["name"]: [r["id"] for r in d["resources"]] for d in after} == resources
        assert len(ids) == 8
        for name, (ags, ars) in EXPECTED.items():
            org = call_action("organization_show", id=name)
            assert org["ags"] == ags and org["regional_key"] == ars
            assert org["political_geocoding_uri"].endswith("/regionalKey/" + ars)
        rows = call_action("datastore_search", resource_id=resources["mainz-einwohner-ortsbezirke-beispiel"][0])
        assert rows["total"] == 4
        assert {r["area_name"] for r in rows["records"]} >= {"Gonsenheim", "Hartenberg-Münchfeld"}

    def test_ensure_sysadmin_writes_a_working_token_once(self, cli, tmp_path):
        import os

        from ckan.lib import api_token
        from ckanext.vierstaedte.cli import vierstaedte

        token_file = tmp_path / "token"
        args = ["ensure-sysadmin", "stackadmin", "--email", "a@example.org", "--token-file", str(token_file)]
        result = cli.invoke(vierstaedte, args)
        assert result.exit_code == 0, result.output
        token = token_file.read_text().strip()
        assert token not in result.output
        assert os.stat(token_file).st_mode & 0o777 == 0o600
        assert api_token.get_user_from_token(token).name == "stackadmin"
        assert call_action("user_show", id="stackadmin")["sysadmin"] is True

        again = cli.invoke(vierstaedte, args)
        assert again.exit_code == 0 and "unchanged" in again.output
        assert token_file.read_text().strip() == token


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestCityActions:
    def test_city_list_is_public_and_complete(self, app, cities):
        result = app.get("/api/3/action/vierstaedte_city_list").json["result"]
        assert {c["name"]: (c["ags"], c["regional_key"]) for c in result} == EXPECTED
        assert all(c["dataset_count"] == 0 for c in result)

    def test_city_show_by_name_or_ags_and_clear_errors(self, app, cities):
        assert app.get("/api/3/action/vierstaedte_city_show", query_string={"id": "07211000"}).json["result"]["name"] == "trier"
        missing = app.get("/api/3/action/vierstaedte_city_show", query_string={"id": "berlin"}, status=404).json
        assert "berlin" in missing["error"]["message"]
        invalid = app.get("/api/3/action/vierstaedte_city_show", status=409).json
        assert "id" in invalid["error"]
