"""The AI tool ``vierstaedte_tool_search_council`` against a live CKAN holding a council corpus.

Called anonymously over HTTP, as an assistant or the MCP server calls it: hits with passage and
citations (the city's council information system and our page), refusals in the tools' shape,
malformed arguments as errors per parameter, German and English.
"""

from __future__ import annotations

import pytest
import requests

from tests.council_corpus import council_portal

TOOL = "vierstaedte_tool_search_council"


@pytest.fixture(scope="module")
def portal(ckan_server, reset_db, reset_index, migrate_db_for):
    import ckan.plugins

    yield council_portal(ckan_server, reset_db, reset_index, migrate_db_for)
    ckan.plugins.unload_all()


def call(portal: dict, status: int = 200, **arguments) -> dict:
    response = requests.post(f"{portal['url']}/api/3/action/{TOOL}", json=arguments, timeout=30)
    assert response.status_code == status, response.text
    body = response.json()
    return body["result"] if status == 200 else body["error"]


def test_a_hit_carries_passage_and_citations_to_both_pages(portal):
    mainz = portal["corpus"]["mainz"]
    result = call(portal, query="Zollhafen", city="mainz")
    assert result["available"] is True and result["count"] >= 1
    hit = next(r for r in result["results"] if r["key"] == mainz["keys"]["paper"])
    assert hit["title"] == "Bebauungsplan „Am Zollhafen“ (N 84) – Aufstellungsbeschluss"
    assert hit["reference"] == "0815/2025" and hit["city"] == "mainz"
    assert hit["date"].startswith("2025-02-20")
    assert "zollhafen" in hit["passage"].lower() and "<mark>" not in hit["passage"]
    cite = hit["citation"]
    assert cite["web"] == mainz["web"]["paper"]
    assert cite["page_url"] == f"{portal['url']}/rat/vorlage/{mainz['keys']['paper']}"
    assert cite["source"] == "Ratsinformationssystem der Stadt Mainz"
    assert cite["text"].startswith("Ratsinformationssystem der Stadt Mainz: „Bebauungsplan")
    assert mainz["web"]["paper"] in cite["text"] and cite["page_url"] in cite["text"]
    assert cite in result["citations"]
    assert result["answer"].splitlines()[0] == (
        f"Ratsinformationen zu „Zollhafen“ (city=mainz): {result['count']} Treffer."
    )
    assert mainz["web"]["paper"] in result["answer"]


def test_english_answer_and_english_page_url(portal):
    keys = portal["corpus"]["mainz"]["keys"]
    result = call(portal, query="Zollhafen", city="mainz", lang="en")
    hit = next(r for r in result["results"] if r["key"] == keys["paper"])
    assert hit["citation"]["source"] == "council information system of the City of Mainz"
    assert hit["citation"]["page_url"] == f"{portal['url']}/en/rat/vorlage/{keys['paper']}"
    assert result["answer"].startswith("Council information on “Zollhafen” (city=mainz)")
    lines = result["answer"].splitlines()
    assert (
        "(paper, 0815/2025, Mainz, 2025-02-20, Bau- und Sanierungsausschuss). Source: " in lines[1]
    )
    assert lines[2].startswith("  “") and lines[2].endswith("”")  # English quotes round a passage


def test_filters_narrow_the_hits(portal):
    both = call(portal, query="Radverkehr", limit=10)
    assert {r["city"] for r in both["results"]} == {"mainz", "trier"}
    trier = call(portal, query="Radverkehr", city="trier")
    assert {r["city"] for r in trier["results"]} == {"trier"}
    motions = call(portal, query="Radverkehr", paper_type="Antrag")
    assert [r["reference"] for r in motions["results"]] == ["0901/2025"]
    later = call(portal, query="Radverkehr", date_from="2025-06")
    assert [r["reference"] for r in later["results"]] == ["140/2025"]


def test_no_hits_in_a_city_is_a_refusal_naming_where_they_are(portal):
    result = call(portal, query="Zollhafen", city="trier")
    assert result["available"] is False and result["reason"] == "no_council_hits"
    assert result["results"] == [] and result["filter"]["city"] == "trier"
    assert [c["name"] for c in result["alternatives"]["cities"]] == ["mainz"]
    assert "mainz" in result["message"] and "Zollhafen" in result["message"]


def test_words_found_nowhere_are_a_plain_refusal(portal):
    result = call(portal, query="Quxwortgibtesnicht")
    assert result["available"] is False and result["alternatives"] == {}


@pytest.mark.parametrize(
    ("arguments", "field", "says"),
    [
        ({"query": "Kita", "city": "berlin"}, "city", "Unbekannter Wert: berlin"),
        ({"query": "Kita", "type": "vote"}, "type", "Unbekannter Wert: vote"),
        ({"query": "Kita", "date_from": "2025-13"}, "date_from", "Kein gültiges Datum"),
        ({"query": "Kita", "date_from": "2025", "date_to": "2024"}, "date_to", "vor dem Beginn"),
        ({"city": "mainz"}, "query", "Pflichtangabe fehlt"),
        ({"query": "Kita", "limit": 11}, "limit", "zwischen 1 und 10"),
    ],
)
def test_malformed_arguments_are_errors_per_parameter(portal, arguments, field, says):
    error = call(portal, status=409, **arguments)
    assert says in " ".join(error[field])


def test_the_manifest_lists_the_tool_and_its_examples_find_hits(portal):
    manifest = requests.get(f"{portal['url']}/api/vierstaedte/tools.json", timeout=30).json()
    spec = next(t["function"] for t in manifest["tools"] if t["function"]["name"] == TOOL)
    assert "Ratsinformationssystem" in spec["descriptions"]["de"]
    assert spec["parameters"]["required"] == ["query"]
    for example in spec["examples"]:
        result = call(portal, **example)
        assert result["available"] is True, (example, result)
        assert all(r["citation"]["web"] for r in result["results"])
