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
    def test_init_cities_is_idempotent(self, cli):
        from ckanext.vierstaedte.cli import vierstaedte

        first = cli.invoke(vierstaedte, ["init-cities"])
        assert first.exit_code == 0, first.output
        ids = {name: call_action("organization_show", id=name)["id"] for name in EXPECTED}
        second = cli.invoke(vierstaedte, ["init-cities"])
        assert second.exit_code == 0 and second.output.count("updated") == 4
        for name, (ags, ars) in EXPECTED.items():
            org = call_action("organization_show", id=name)
            assert org["id"] == ids[name]
            assert org["ags"] == ags and org["regional_key"] == ars
            assert org["political_geocoding_uri"].endswith("/regionalKey/" + ars)

    def test_harvester_user_is_editor_of_its_city_only(self, cli, cities, tmp_path):
        from ckan.lib import api_token

        from ckanext.vierstaedte.cli import vierstaedte

        call_action(
            "organization_member_create",
            id="trier",
            username=_user("harvester-mainz"),
            role="editor",
        )
        token_file = tmp_path / "mainz.token"
        result = cli.invoke(
            vierstaedte, ["ensure-harvester", "mainz", "--token-file", str(token_file)]
        )
        assert result.exit_code == 0, result.output
        assert "removed from trier" in result.output
        orgs = call_action(
            "organization_list_for_user", id="harvester-mainz", permission="create_dataset"
        )
        assert [o["name"] for o in orgs] == ["mainz"]
        assert (
            api_token.get_user_from_token(token_file.read_text().strip()).name == "harvester-mainz"
        )
        refused = cli.invoke(
            vierstaedte, ["ensure-harvester", "berlin", "--token-file", str(token_file)]
        )
        assert refused.exit_code != 0 and "unknown city" in refused.output

    def test_ensure_sysadmin_writes_a_working_token_once(self, cli, tmp_path):
        import os

        from ckan.lib import api_token

        from ckanext.vierstaedte.cli import vierstaedte

        token_file = tmp_path / "token"
        args = [
            "ensure-sysadmin",
            "stackadmin",
            "--email",
            "a@example.org",
            "--token-file",
            str(token_file),
        ]
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


def _user(name: str) -> str:
    from ckan.tests import factories

    return factories.User(name=name)["name"]


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestCityActions:
    def test_city_list_is_public_and_complete(self, app, cities):
        result = app.get("/api/3/action/vierstaedte_city_list").json["result"]
        assert {c["name"]: (c["ags"], c["regional_key"]) for c in result} == EXPECTED
        assert all(c["dataset_count"] == 0 for c in result)

    def test_city_show_by_name_or_ags_and_clear_errors(self, app, cities):
        assert (
            app.get("/api/3/action/vierstaedte_city_show", query_string={"id": "07211000"}).json[
                "result"
            ]["name"]
            == "trier"
        )
        missing = app.get(
            "/api/3/action/vierstaedte_city_show", query_string={"id": "berlin"}, status=404
        ).json
        assert "berlin" in missing["error"]["message"]
        invalid = app.get("/api/3/action/vierstaedte_city_show", status=409).json
        assert "id" in invalid["error"]
