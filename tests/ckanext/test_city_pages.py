"""The city pages ``/staedte/<city>`` on the live CKAN with the demo harvested; the city on every
search hit and in the dataset page's title."""

from __future__ import annotations

import re

import pytest
import requests
from bs4 import BeautifulSoup

from tests.live import harvest_demo


@pytest.fixture(scope="module")
def portal(ckan_server, reset_db, reset_index, migrate_db_for, tmp_path_factory):
    import ckan.plugins

    harvest_demo(
        ckan_server, reset_db, reset_index, migrate_db_for, tmp_path_factory.mktemp("cities")
    )
    yield ckan_server
    ckan.plugins.unload_all()


def get(portal: str, path: str, status: int = 200, **kwargs) -> requests.Response:
    response = requests.get(portal + path, timeout=60, **kwargs)
    assert response.status_code == status, (path, response.status_code)
    return response


def page(portal: str, path: str) -> BeautifulSoup:
    return BeautifulSoup(get(portal, path).text, "html.parser")


def figures(html: BeautifulSoup) -> dict[str, str]:
    return {
        card["data-indicator"]: re.sub(r"\s+", " ", card.get_text(" ", strip=True))
        for card in html.select(".vierstaedte-key-figure")
    }


class TestCityPage:
    def test_header_key_figures_with_change_period_and_source(self, portal):
        html = page(portal, "/staedte/mainz")
        assert "Mainz" in html.title.get_text()
        assert html.h1.get_text(strip=True) == "Landeshauptstadt Mainz"
        assert html.select_one(".vierstaedte-ags").get_text() == "07315000"
        assert not html.select(".vierstaedte-city-header img")  # no coat of arms
        found = figures(html)
        assert list(found) == ["population_total"]  # the demo's turnout is per district only
        assert "Einwohner insgesamt 222.000 Personen" in found["population_total"]
        assert "Stand: 2023 · +1.000 (+0,5 %) gegenüber 2022" in found["population_total"]
        source = html.select_one(".vierstaedte-key-figure a")
        assert "Einwohner" in source.get_text()
        get(portal, source["href"].replace(re.match(r"https?://[^/]+", source["href"])[0], ""))

    def test_a_reference_date_is_written_the_german_way(self, portal):
        found = figures(page(portal, "/staedte/trier"))
        assert "Stand: 31.12.2023" in found["population_total"]
        assert "gegenüber" not in found["population_total"]  # one period: no change to show

    def test_a_city_without_city_wide_figures_says_so(self, portal):
        html = page(portal, "/staedte/ludwigshafen")
        assert figures(html) == {}  # households per Stadtteil only: never summed up here
        assert "noch keine stadtweiten Kennzahlen" in html.get_text()

    def test_datasets_harvest_status_and_the_way_on(self, portal):
        html = page(portal, "/staedte/mainz")
        titles = [a.get_text(strip=True) for a in html.select(".vierstaedte-city-datasets a")]
        assert "Einwohner nach Ortsbezirken" in titles
        assert html.find("a", string=re.compile("Datensätze von Mainz durchsuchen"))["href"] == (
            "/dataset/?organization=mainz"
        )
        harvest = html.select_one("#stadt-harvest").parent
        assert harvest.select_one(".badge").get_text(strip=True) in (
            "Erfolgreich",
            "Teilweise erfolgreich",
        )
        compare = html.find("a", string=re.compile("Mainz im Städtevergleich"))
        assert compare["href"] == "/vergleich?cities=mainz"
        rows = page(portal, compare["href"]).select("table.vierstaedte-compare-table tbody tr")
        assert rows and {row.th.get_text(strip=True) for row in rows} == {"Mainz"}

    def test_english_page(self, portal):
        html = page(portal, "/en/staedte/mainz")
        assert html.html["lang"] == "en"
        assert "222,000" in figures(html)["population_total"]

    def test_unknown_city_is_a_german_404(self, portal):
        response = get(portal, "/staedte/berlin", status=404)
        html = BeautifulSoup(response.text, "html.parser")
        assert html.html["lang"] == "de"
        assert "Stadt nicht gefunden" in html.get_text()

    def test_the_list_and_the_organisation_page_lead_here(self, portal):
        html = page(portal, "/staedte")
        links = {a["href"] for a in html.select("a[href^='/staedte/']")}
        assert {
            f"/staedte/{city}" for city in ("mainz", "trier", "koblenz", "ludwigshafen")
        } <= links
        moved = get(portal, "/organization/mainz", status=302, allow_redirects=False)
        assert moved.headers["Location"].endswith("/staedte/mainz")
        # a search within the city stays CKAN's organisation page
        get(portal, "/organization/mainz?q=Einwohner")


class TestCityOnDatasets:
    def test_every_search_hit_names_its_city(self, portal):
        html = page(portal, "/dataset/")
        hits = html.select("li.dataset-item")
        assert len(hits) >= 5
        for hit in hits:
            badge = hit.select_one(".vierstaedte-city-badge")
            assert badge is not None, hit.get_text(" ", strip=True)
            assert badge.get_text(" ", strip=True).startswith("Stadt:")

    def test_the_dataset_page_title_names_the_city(self, portal):
        found = get(
            portal,
            "/api/3/action/package_search",
            params={"fq": "organization:trier", "rows": 1},
        ).json()["result"]["results"][0]
        title = page(portal, f"/dataset/{found['name']}").title.get_text()
        assert title.startswith(f"{found['title']} (Trier)")
