"""German search on the demo as the real harvester publishes it: the words people type.

The demo's four cities are harvested once per module by the real ``vierstaedte-harvest``
command from the replay server into the live test CKAN (its Solr core has the portal's
configset, scripts/solr/). The harvest's own last write reindexes each dataset, so the
table words (search/vocabulary.py) must be in Solr without any reindex here. Every search
goes over HTTP, anonymously, as the portal, the Action API and the AI tools make it. The
questions are issue 15's: words that found nothing with CKAN's English-only schema.
"""

from __future__ import annotations

import pytest
import requests
from bs4 import BeautifulSoup

from tests.live import harvest_demo

ELECTION = "Stadtratswahl 2024: Ergebnisse nach Ortsbezirken"
MAINZ_POPULATION = "Einwohner nach Ortsbezirken"
TRIER_POPULATION = "Bevölkerung nach Altersgruppen und Geschlecht 2023"
CITY_TITLES = {"mainz": "Mainz", "trier": "Trier", "koblenz": "Koblenz"}


@pytest.fixture(scope="module")
def portal(ckan_server, reset_db, reset_index, migrate_db_for, tmp_path_factory):
    """The demo harvested into the live test CKAN; its URL."""
    import ckan.plugins

    harvest_demo(
        ckan_server, reset_db, reset_index, migrate_db_for, tmp_path_factory.mktemp("search")
    )
    yield ckan_server
    ckan.plugins.unload_all()


def search(portal: str, q: str, **params) -> dict:
    response = requests.get(
        f"{portal}/api/3/action/package_search", params={"q": q, **params}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()["result"]


def titles(result: dict) -> list[str]:
    return [d["title"] for d in result["results"]]


def solr_has(dataset_title: str, field: str, word: str) -> bool:
    """Whether the dataset's Solr document matches ``word`` in ``field`` (fields not stored)."""
    from ckanext.vierstaedte import solr

    found = solr.make_connection().search(
        f"{field}:({word})", fq=f'title_string:"{dataset_title}"', rows=0, **{"q.op": "AND"}
    )
    return found.hits == 1


# --- the table words in the index ---------------------------------------------------------------


def test_the_harvest_puts_each_table_s_words_into_its_solr_document(portal):
    for field, word in (
        ("vs_party", "CDU"),
        ("vs_party", "DIE LINKE"),
        ("vs_area", "Gonsenheim"),
        ("vs_area", "Mainz-Gonsenheim"),  # the contract's alias
        ("vs_area", "Ortsbezirk"),  # the level's word
        ("vs_period", "2024-06-09"),
        ("vs_period", "2024"),
        ("vs_indicator", "vote_share_by_party"),
        ("vs_indicator", "Stimmenanteil nach Partei"),
        ("vs_indicator", "Vote share by party"),
        ("vs_city", "Landeshauptstadt Mainz"),
    ):
        assert solr_has(ELECTION, field, word), (field, word)
    assert solr_has(TRIER_POPULATION, "vs_indicator", "Einwohner insgesamt")
    assert solr_has(TRIER_POPULATION, "vs_city", "Stadt Trier")
    assert not solr_has(MAINZ_POPULATION, "vs_party", "CDU")
    assert not solr_has(TRIER_POPULATION, "vs_area", "Gonsenheim")


@pytest.mark.parametrize(
    ("q", "first", "also"),
    [
        ("Gonsenheim", None, {ELECTION, MAINZ_POPULATION}),
        ("CDU", ELECTION, set()),
        ("2024", ELECTION, set()),
        ("population", None, {TRIER_POPULATION, MAINZ_POPULATION}),
        ("Wahl", ELECTION, set()),
        ("Wahlergebnisse", ELECTION, set()),
        ("Kommunalwahl", ELECTION, set()),
        ("election", ELECTION, set()),
        ("Einwohnerzahl", None, {TRIER_POPULATION, MAINZ_POPULATION}),
        ("Einwohner", None, {TRIER_POPULATION, MAINZ_POPULATION}),
        ("Einwohner Gonsenheim", MAINZ_POPULATION, set()),
    ],
)
def test_words_people_type_find_the_table(portal, q, first, also):
    found = titles(search(portal, q))
    if first:
        assert found[:1] == [first], found
    assert also <= set(found[:10]), found


def test_gonsenheim_finds_only_mainz(portal):
    found = search(portal, "Gonsenheim")
    assert {d["organization"]["name"] for d in found["results"]} == {"mainz"}


# --- typos --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typo", "corrected", "table"),
    [("Eimwohner", "einwohner", MAINZ_POPULATION), ("Bevölkrung", "bevölkerung", TRIER_POPULATION)],
)
def test_a_typo_is_corrected_and_says_what_was_searched(portal, typo, corrected, table):
    result = search(portal, typo)
    assert result["vierstaedte_suggestion"]["query"].casefold() == corrected
    assert result["vierstaedte_suggestion"]["count"] == result["count"] > 0
    assert result["vierstaedte_searched"] == {
        "query": result["vierstaedte_suggestion"]["query"],
        "original": typo,
        "method": "spellcheck",
    }
    assert table in titles(result)


def test_a_typo_the_spellcheck_misses_is_searched_fuzzily(portal):
    result = search(portal, "Oinwohner")  # a wrong first letter: the spellcheck keeps it
    assert "vierstaedte_suggestion" not in result
    assert result["vierstaedte_searched"] == {
        "query": "Oinwohner~1",
        "original": "Oinwohner",
        "method": "fuzzy",
    }
    assert MAINZ_POPULATION in titles(result)


def test_a_typo_among_words_is_corrected_with_the_city_kept(portal):
    result = search(portal, "Stadtratswahl Mainz Gonsenhiem")
    assert titles(result)[:1] == [ELECTION]
    assert result["vierstaedte_suggestion"]["query"] == "Stadtratswahl Mainz gonsenheim"
    assert result["vierstaedte_searched"]["method"] == "spellcheck"
    assert {d["organization"]["name"] for d in result["results"]} == {"mainz"}


def test_correct_words_get_no_suggestion(portal):
    result = search(portal, "Einwohner")
    assert "vierstaedte_suggestion" not in result and "vierstaedte_searched" not in result


def test_the_ai_tool_finds_the_election_and_says_what_it_searched(portal):
    def tool(**arguments):
        response = requests.post(
            f"{portal}/api/3/action/vierstaedte_tool_search_datasets", json=arguments, timeout=30
        )
        assert response.status_code == 200, response.text
        return response.json()["result"]

    found = tool(query="Wahl", city="mainz")
    assert [r["title"] for r in found["results"]][:1] == [ELECTION]
    typo = tool(query="Bevölkrung")
    assert typo["searched"]["corrected"] and typo["searched"]["searched_for"] == "bevölkerung"
    assert TRIER_POPULATION in [r["title"] for r in typo["results"]]


# --- the portal ---------------------------------------------------------------------------------


def page(portal: str, **params) -> BeautifulSoup:
    response = requests.get(f"{portal}/dataset/", params=params, timeout=30)
    assert response.status_code == 200
    return BeautifulSoup(response.text, "html.parser")


def test_every_hit_shows_its_city_and_the_title_says_what_was_searched(portal):
    html = page(portal, q="Einwohner")
    assert html.title.get_text().startswith("Suche nach „Einwohner“ – Datensätze - ")
    hits = html.select("li.dataset-item")
    assert len(hits) >= 3
    for hit in hits:
        badge = hit.select_one(".vierstaedte-city-badge")
        assert badge is not None and badge.get_text(" ", strip=True).startswith("Stadt:")
    cities = {h.select_one(".vierstaedte-city-badge").get_text(strip=True) for h in hits}
    assert {"Stadt:Mainz", "Stadt:Trier", "Stadt:Koblenz"} <= cities
    assert "Suche nach" not in page(portal).title.get_text()


def test_the_page_offers_the_suggestion_and_says_what_it_searched_instead(portal):
    little = page(portal, q="Stadtratswahl Ergebnisse Gonsenhiem")  # two of three words match
    offered = little.select_one(".vierstaedte-search-suggestion")
    assert "Meinten Sie" in offered.get_text()
    assert offered.a["href"] == "/dataset/?q=Stadtratswahl+Ergebnisse+gonsenheim"
    assert little.select_one(".vierstaedte-search-searched") is None

    corrected = page(portal, q="Bevölkrung")
    note = corrected.select_one(".vierstaedte-search-searched").get_text(" ", strip=True)
    assert "Keine Treffer für „Bevölkrung“" in note and "„bevölkerung“" in note
    assert TRIER_POPULATION in corrected.get_text()

    apart = page(portal, q="Stadtratswahl Altersgruppen")  # no dataset has both words
    note = apart.select_one(".vierstaedte-search-searched").get_text(" ", strip=True)
    assert "Keine Treffer mit allen Wörtern aus „Stadtratswahl Altersgruppen“" in note
    assert ELECTION in apart.get_text() and TRIER_POPULATION in apart.get_text()


def test_a_search_without_hits_suggests_cities_indicators_and_the_comparison(portal):
    html = page(portal, q="Xylophonbau")
    empty = html.select_one(".vierstaedte-search-empty")
    assert empty is not None
    text = empty.get_text(" ", strip=True)
    for title in ("Landeshauptstadt Mainz", "Stadt Trier", "Stadt Koblenz", "Stadt Ludwigshafen"):
        assert title in text
    assert "Einwohner insgesamt" in text  # an indicator with data
    assert empty.select_one('a[href="/vergleich"]') is not None
    assert page(portal, q="Einwohner").select_one(".vierstaedte-search-empty") is None
