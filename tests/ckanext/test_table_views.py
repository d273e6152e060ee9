"""Every DataStore table gets a table view when it is published; older ones by a command.

Through the real actions: ``datastore_create`` as the harvester calls it (with a
``resource_id``), the view page CKAN renders, and ``ckan vierstaedte create-views``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from ckan.tests.helpers import call_action

from tests.factories import HarvestedDataset
from vierstaedte_contract import table
from vierstaedte_contract.dataset import NORMALISED, RAW, resource_with_role


def _views(resource_id: str) -> list[dict]:
    return call_action("resource_view_list", id=resource_id)


@pytest.fixture
def published(clean_datastore, cities) -> dict:
    return HarvestedDataset()


@pytest.mark.usefixtures("with_plugins")
class TestTableViews:
    def test_publishing_a_table_adds_one_table_view(self, published):
        resource = resource_with_role(published, NORMALISED)
        (view,) = _views(resource["id"])
        assert (view["view_type"], view["title"]) == ("datatables_view", "Tabelle")
        assert view["filterable"] is True and view["responsive"] is True
        # the harvester writes the table again: still one view
        call_action(
            "datastore_create",
            resource_id=resource["id"],
            fields=table.datastore_fields(),
            primary_key=table.primary_key(),
            force=True,
        )
        assert [v["id"] for v in _views(resource["id"])] == [view["id"]]
        assert _views(resource_with_role(published, RAW)["id"]) == []  # no table, no view

    def test_the_view_is_german_with_labelled_filters(self, app, published):
        resource = resource_with_role(published, NORMALISED)
        (view,) = _views(resource["id"])
        page = app.get(f"/dataset/{published['name']}/resource/{resource['id']}/view/{view['id']}")
        assert page.status_code == 200
        soup = BeautifulSoup(page.body, "html.parser")
        grid = soup.select_one("table#dtprv")
        assert grid["data-module"] == "datatables_view"
        assert grid["data-languagefile"].endswith("/de.json")
        headers = [th.get_text(" ", strip=True) for th in grid.select("thead tr:first-child th")]
        assert "Stadt" in headers and "Stadt / City" not in headers
        filters = [th["data-label"] for th in grid.select("th.fhead")]
        assert filters[0] == "Filter: Stadt" and len(filters) == len(table.field_names())

    def test_command_gives_older_tables_their_view_once(self, cli, published):
        from ckanext.vierstaedte.cli import vierstaedte

        resource = resource_with_role(published, NORMALISED)
        for view in _views(resource["id"]):  # published before views were automatic
            call_action("resource_view_delete", id=view["id"])

        first = cli.invoke(vierstaedte, ["create-views"])
        assert first.exit_code == 0, first.output
        assert "1 angelegt, 0 schon vorhanden" in first.output
        assert [v["view_type"] for v in _views(resource["id"])] == ["datatables_view"]
        second = cli.invoke(vierstaedte, ["create-views"])
        assert "0 angelegt, 1 schon vorhanden" in second.output
        assert len(_views(resource["id"])) == 1


@pytest.mark.usefixtures("with_plugins")
def test_data_api_dialog_shows_calls_that_work_on_this_table(app, published):
    resource = resource_with_role(published, NORMALISED)
    page = app.get(f"/datastore/api_info/{resource['id']}")
    assert page.status_code == 200
    soup = BeautifulSoup(page.body, "html.parser")
    text = soup.get_text(" ")
    assert "Daten-API" in text and resource["id"] in text
    assert "jones" not in text and "watershed" not in text  # CKAN's samples
    assert '{"indicator": "population_total", "area_level": "stadt"}' in text
    assert f"FROM \"{resource['id']}\" WHERE indicator = 'population_total'" in text
    links = [a["href"] for a in soup.select("pre a[href*='/api/3/action/']")]
    assert {link.split("/api/3/action/")[1].split("?")[0] for link in links} == {
        "datastore_search",
        "datastore_search_sql",
        "vierstaedte_indicator_query",
    }
    for link in links:  # each example answers with rows of this table
        url = urlsplit(link)
        answer = app.get(f"{url.path}?{url.query}")
        assert answer.status_code == 200, link
        result = answer.json["result"]
        assert result.get("records") or result.get("rows"), link
    assert "vierstaedte_tool_query_indicator" in text
