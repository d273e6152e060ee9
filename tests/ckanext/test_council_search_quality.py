"""What citizens type into the council search: parts of compounds, questions, typos, syntax.

The misses of the red team's held-out council queries (issue #17), each as a class: a word
that begins a compound ("Wohngeld" in "Wohngeldstelle"), a compound whose parts the text
writes with a hyphen ("Kitaplätze", "Kita-Plätze"), a word the corpus lacks among others, a
typo, a question, Lucene operators typed as words, a paper's reference, a street named after
a city, a meeting or file outranking the paper, raw tabs from ALLRIS. A small corpus of its
own, written once through the real write actions (as in ``test_council_search.py``).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.ckanext.test_council_search import BASES, _body, _o, _paper, post, search, sent, titles

WAITING = "Wartelisten für Kita-Plätze in Gonsenheim"
HOUSING = "Neue Wohngeldstelle im Bürgeramt"
PLAYGROUND = "Spielplatzsanierung in Finthen"
STREET = "Gehweg in der Trierer Straße"
FILE_TEXT = " ".join(
    f"Absatz {i}: Die Verwaltung prüft die Sanierung der Spielgeräte und die Barrierefreiheit."
    for i in range(40)
)


def corpus() -> dict[str, list[dict[str, Any]]]:
    paper_id = f"{BASES['mainz']}/paper/spielplatz"
    attached = _o(
        "mainz", "File", "spielplatz-pdf", name="Beschlussvorlage 0555/2025",
        fileName="0555-2025.pdf", mimeType="application/pdf",
        accessUrl=f"{BASES['mainz']}/files/0555-2025.pdf", paper=[paper_id],
    )  # fmt: skip
    item = _o(
        "mainz", "AgendaItem", "stadtrat-7", meeting=f"{BASES['mainz']}/meeting/stadtrat-7",
        number="7", order=7, name=PLAYGROUND,
    )  # fmt: skip
    meeting = _o(
        "mainz", "Meeting", "stadtrat-7", name="7. Sitzung – Stadtrat",
        start="2025-06-20T17:00:00+02:00", agendaItem=[item],
    )  # fmt: skip
    return {
        "mainz": [
            _body("mainz"), attached, meeting, item,
            _paper("mainz", "spielplatz", PLAYGROUND, "0555/2025", "2025-06-01",
                   "Beschlussvorlage", mainFile=attached),
            _paper("mainz", "warteliste", WAITING, "0556/2025", "2025-06-02", "Anfrage"),
            _paper("mainz", "wohngeld", HOUSING, "0557/2025", "2025-06-03", "Mitteilung"),
            _paper("mainz", "tabs", "Haushaltssatzung\tund\t\tHaushaltsplan 2027", "0558/2025",
                   "2025-06-04", "Beschlussvorlage"),
        ],
        "koblenz": [
            _body("koblenz"),
            _paper("koblenz", "gehweg", STREET, "BV/0555/2025", "2025-07-01", "Antrag"),
            _paper("koblenz", "radweg", "Radweg an der Mainzer Straße", "BV/0560/2025",
                   "2025-07-02", "Antrag"),
        ],
        "trier": [
            _body("trier"),
            _paper("trier", "gehweg", "Gehweg am Hauptmarkt in Trier-Nord", "55/2025",
                   "2025-07-03", "Antrag"),
        ],
    }  # fmt: skip


@pytest.fixture(scope="module")
def portal(ckan_server, reset_db, reset_index, migrate_db_for):
    import ckan.plugins
    from ckan.tests import factories

    from ckanext.vierstaedte import seed
    from ckanext.vierstaedte.council import index

    ckan.plugins.load_all()
    reset_db()
    migrate_db_for("activity")
    migrate_db_for("vierstaedte")
    reset_index()
    index.rebuild()
    sysadmin = factories.SysadminWithToken()
    seed.ensure_cities({"user": sysadmin["name"]}, echo=lambda _: None)
    portal = {"url": ckan_server, "token": sysadmin["token"]}
    for city, objects in corpus().items():
        post(portal, "vierstaedte_council_upsert", {
            "city": city, "objects": [sent(o, city) for o in objects],
        })  # fmt: skip
    file_id = f"{BASES['mainz']}/file/spielplatz-pdf"
    post(portal, "vierstaedte_council_file_text", {
        "city": "mainz", "file_id": file_id, "status": "ok", "text": FILE_TEXT,
        "mime_type": "application/pdf", "source_url": file_id,
    })  # fmt: skip
    yield portal
    ckan.plugins.unload_all()


def test_a_word_that_begins_a_compound_or_is_written_apart_finds_it(portal):
    assert titles(search(portal, q="Wohngeld"))[:1] == [HOUSING]
    assert PLAYGROUND in titles(search(portal, q="Spielplätze"))
    assert titles(search(portal, q="Kitaplätze"))[:1] == [WAITING]


def test_questions_and_unknown_words_still_find_the_paper(portal):
    found = search(portal, q="Gibt es genug Kitaplätze?")
    assert titles(found)[:1] == [WAITING]
    found = search(portal, q="Wohngeld Antragsformular")  # the second word is nowhere
    assert titles(found)[:1] == [HOUSING]
    assert found["searched"]["method"] == "fewer_words"


def test_a_typo_is_corrected_and_said(portal):
    found = search(portal, q="Spielplatzsanirung")
    assert titles(found)[:1] == [PLAYGROUND]
    assert found["suggestion"]["query"].casefold() == "spielplatzsanierung"


@pytest.mark.parametrize("q", ["OR", "NOT", "Kita AND", "+", '"', "&&", "||", "AND Wohngeld"])
def test_operator_words_are_words_not_an_outage(portal, q):
    url = f"{portal['url']}/api/3/action/vierstaedte_council_search"
    response = requests.get(url, params={"q": q}, timeout=30)
    assert response.status_code == 200, response.text


def test_a_reference_finds_its_paper_first_and_little_else(portal):
    found = search(portal, q="0555/2025")
    assert found["results"][0]["title"] == PLAYGROUND and found["results"][0]["type"] == "paper"
    assert found["count"] <= 4
    assert search(portal, q="bv/0555/2025")["results"][0]["title"] == STREET


def test_a_paper_outranks_the_meeting_and_file_that_name_it(portal):
    assert search(portal, q="Spielplatzsanierung")["results"][0]["type"] == "paper"


def test_a_street_named_after_a_city_is_a_street(portal):
    found = search(portal, q="Trierer Straße Gehweg")
    assert titles(found)[0] == STREET and "city" not in found["query"]


def test_titles_and_passages_are_clean_and_short(portal):
    assert "Haushaltssatzung und Haushaltsplan 2027" in titles(search(portal, q="Haushaltsplan"))
    hit = next(h for h in search(portal, q="Spielgeräte")["results"] if h["type"] == "file")
    assert hit["highlights"] and all(len(p) <= 260 for p in hit["highlights"])
    assert len(set(hit["highlights"])) == len(hit["highlights"])


def test_an_end_before_the_start_is_a_field_error(portal):
    url = f"{portal['url']}/api/3/action/vierstaedte_council_search"
    params = {"date_from": "2026-01-01", "date_to": "2025-01-01"}
    response = requests.get(url, params=params, timeout=30)
    assert response.status_code == 409 and "date_to" in response.json()["error"]


def test_the_page_says_what_it_searched_instead(portal):
    page = requests.get(
        f"{portal['url']}/rat", params={"q": "Wohngeld Antragsformular"}, timeout=30
    )
    assert page.ok and "vierstaedte-search-searched" in page.text
    assert HOUSING in page.text


def test_the_tool_takes_operators_as_words_and_gives_days(portal):
    url = f"{portal['url']}/api/3/action/vierstaedte_tool_search_council"
    response = requests.post(url, json={"query": "Wohngeld AND"}, timeout=30)
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert [r["date"] for r in result["results"]] == ["2025-06-03"]
    assert result["citations"][0]["date"] == "2025-06-03"


def test_or_between_words_means_either(portal):
    found = titles(search(portal, q="Gehweg OR Straße"))  # one paper has both, one a word
    assert STREET in found and "Radweg an der Mainzer Straße" in found
