"""The council pages ``/rat`` against a live CKAN holding a small council corpus.

The corpus (``tests/council_corpus.py``) is written once per module through the real write
actions, over HTTP, as the harvester writes it; every page is fetched over HTTP from gunicorn
and read as a visitor reads it (BeautifulSoup, not string matching where structure matters).
"""

from __future__ import annotations

import re

import pytest
import requests
from bs4 import BeautifulSoup

from tests.ckanext.test_harvest_runs import run_payload
from tests.council_corpus import FILE_TEXT, XSS_REFERENCE, XSS_TITLE, council_portal


@pytest.fixture(scope="module")
def portal(ckan_server, reset_db, reset_index, migrate_db_for):
    import ckan.plugins

    yield council_portal(ckan_server, reset_db, reset_index, migrate_db_for)
    ckan.plugins.unload_all()


def get(portal: dict, path: str, status: int = 200, **params) -> BeautifulSoup:
    response = requests.get(portal["url"] + path, params=params, timeout=30)
    assert response.status_code == status, (path, response.status_code, response.text[:500])
    return BeautifulSoup(response.text, "html.parser")


def hits(page: BeautifulSoup) -> list:
    return page.select("li.vierstaedte-council-hit")


def test_search_finds_the_paper_with_its_passage_and_both_links(portal):
    mainz = portal["corpus"]["mainz"]
    page = get(portal, "/rat", q="Zollhafen")
    found = hits(page)
    titles = [hit.h3.get_text(" ", strip=True) for hit in found]
    assert any("Am Zollhafen" in title for title in titles), titles
    hit = next(h for h in found if "Aufstellungsbeschluss" in h.h3.get_text())
    links = {a.get_text(" ", strip=True): a["href"] for a in hit.find_all("a")}
    assert links["Bebauungsplan „Am Zollhafen“ (N 84) – Aufstellungsbeschluss"] == (
        f"/rat/vorlage/{mainz['keys']['paper']}"
    )
    assert mainz["web"]["paper"] in links.values()
    assert "0815/2025" in hit.get_text() and "Mainz" in hit.get_text()
    marked = [m.get_text().lower() for m in hit.select(".vierstaedte-council-passage mark")]
    assert "zollhafen" in marked
    assert "Demo-Daten" in page.select_one(".vierstaedte-council-demo").get_text()


def test_facets_filter_by_city_and_year_and_sort_by_date(portal):
    page = get(portal, "/rat", q="Radverkehr")
    cities = {h.select_one(".text-muted").get_text() for h in hits(page)}
    assert any("Mainz" in c for c in cities) and any("Trier" in c for c in cities)
    facet = page.find("section", attrs={"aria-labelledby": "facette-city"})
    trier = next(a for a in facet.find_all("a") if "Trier" in a.get_text())
    only = get(portal, trier["href"])
    assert hits(only) and all("Trier" in h.get_text() for h in hits(only))
    assert only.find("a", attrs={"aria-current": "true"}) is not None
    by_date = get(portal, "/rat", q="Radverkehr", sort="date")
    dates = [re.search(r"\d{4}", h.select_one(".text-muted").get_text()) for h in hits(by_date)]
    assert dates and all(dates)
    year = get(portal, "/rat", q="Radverkehr", date_from="2025-06-01", date_to="2025-12-31")
    assert [h.h3.get_text(strip=True) for h in hits(year)] == [
        "Konzept für den Radverkehr in der Innenstadt"
    ]


def test_a_city_named_in_the_words_is_said_and_filtered(portal):
    page = get(portal, "/rat", q="Radverkehr Trier")
    assert "gesucht nur in Trier" in page.select_one(".vierstaedte-council-named").get_text()
    assert hits(page) and all("Trier" in h.get_text() for h in hits(page))
    plain = get(portal, "/rat", q="Radverkehr")
    assert plain.select_one(".vierstaedte-council-named") is None


def test_a_bad_filter_is_a_clear_400(portal):
    page = get(portal, "/rat", status=400, q="Kita", date_from="kein-datum")
    assert page.select_one(".alert-danger") is not None


def test_paper_page_shows_consultation_meeting_result_and_file_text(portal):
    mainz = portal["corpus"]["mainz"]
    page = get(portal, f"/rat/vorlage/{mainz['keys']['paper']}")
    assert page.h1.get_text(strip=True) == (
        "Bebauungsplan „Am Zollhafen“ (N 84) – Aufstellungsbeschluss"
    )
    facts = page.select_one(".vierstaedte-council-facts").get_text(" ", strip=True)
    assert "0815/2025" in facts and "Beschlussvorlage" in facts and "Mainz" in facts
    consultations = page.find("section", attrs={"aria-labelledby": "beratungen"})
    meeting = consultations.find("a", href=f"/rat/sitzung/{mainz['keys']['meeting']}")
    assert meeting is not None
    assert consultations.find("a", href=f"/rat/gremium/{mainz['keys']['committee']}")
    assert "einstimmig beschlossen" in consultations.get_text()
    files = page.find("section", attrs={"aria-labelledby": "dateien"})
    assert "Text erkannt" in files.get_text()
    assert FILE_TEXT[:40] in files.select_one(".vierstaedte-council-excerpt").get_text()
    assert files.find("a", href=mainz["files"]["main"]["accessUrl"]) is not None
    assert page.find("a", href=mainz["web"]["paper"]) is not None


def test_meeting_page_shows_agenda_with_linked_paper_and_files(portal):
    mainz = portal["corpus"]["mainz"]
    page = get(portal, f"/rat/sitzung/{mainz['keys']['meeting']}")
    assert page.h1.get_text(strip=True) == "Sitzung des Bau- und Sanierungsausschusses"
    facts = page.select_one(".vierstaedte-council-facts").get_text(" ", strip=True)
    assert "2025" in facts and "Bau- und Sanierungsausschuss" in facts
    agenda = page.find("section", attrs={"aria-labelledby": "tagesordnung"})
    assert "3.1" in agenda.get_text() and "einstimmig beschlossen" in agenda.get_text()
    assert agenda.find("a", href=f"/rat/vorlage/{mainz['keys']['paper']}") is not None
    files = page.find("section", attrs={"aria-labelledby": "dateien"})
    assert "Einladung" in files.get_text()
    assert "Kein Text (z. B. eingescannt)" in files.get_text()


def test_committee_and_person_pages(portal):
    keys = portal["corpus"]["mainz"]["keys"]
    committee = get(portal, f"/rat/gremium/{keys['committee']}")
    assert committee.h1.get_text(strip=True) == "Bau- und Sanierungsausschuss"
    assert committee.find("a", href=f"/rat/sitzung/{keys['meeting']}") is not None
    person = get(portal, f"/rat/person/{keys['person']}")
    assert person.h1.get_text(strip=True) == "Erika Mustermann"
    memberships = person.find("section", attrs={"aria-labelledby": "mitgliedschaften"})
    assert memberships.find("a", href=f"/rat/gremium/{keys['committee']}") is not None
    assert "Vorsitzende" in memberships.get_text()


@pytest.mark.parametrize("kind", ["vorlage", "sitzung", "gremium", "person"])
def test_an_unknown_key_is_a_german_404(portal, kind):
    page = get(portal, f"/rat/{kind}/0000000000000000", status=404)
    assert "nicht gefunden" in page.get_text()


def test_english_pages_live_under_en(portal):
    keys = portal["corpus"]["mainz"]["keys"]
    search = get(portal, "/en/rat", q="Zollhafen")
    assert search.html["lang"] == "en"
    assert search.find("a", href=f"/en/rat/vorlage/{keys['paper']}") is not None
    paper = get(portal, f"/en/rat/vorlage/{keys['paper']}")
    assert paper.html["lang"] == "en"
    assert paper.find("a", href=f"/en/rat/sitzung/{keys['meeting']}") is not None
    get(portal, "/en/rat/vorlage/0000000000000000", status=404)


def test_oparl_strings_are_text_never_markup(portal):
    key = portal["corpus"]["mainz"]["keys"]["hostile"]
    for path, params in ((f"/rat/vorlage/{key}", {}), ("/rat", {"q": "Sonnenschein"})):
        response = requests.get(portal["url"] + path, params=params, timeout=30)
        assert response.status_code == 200, response.text[:300]
        assert "<script>alert" not in response.text
        assert "<img src=x" not in response.text and "<b>Sonnenschein" not in response.text
        page = BeautifulSoup(response.text, "html.parser")
        assert XSS_TITLE in page.get_text()
        shown = ".vierstaedte-council-object, .vierstaedte-council-hits"
        assert page.select(shown)
        assert not [tag for part in page.select(shown) for tag in part.select("script, img, b, i")]
    paper = get(portal, f"/rat/vorlage/{key}")
    assert XSS_REFERENCE in paper.select_one(".vierstaedte-council-facts").get_text()


def test_the_city_harvest_page_shows_council_runs_beside_catalogue_runs(portal):
    headers = {"Authorization": portal["token"]}
    for kind, started in (
        ("catalogue", "2026-11-21T03:00:00Z"),
        ("council", "2026-11-21T04:00:00Z"),
    ):
        payload = run_payload(started=started, finished=started.replace(":00:00", ":10:00"))
        response = requests.post(
            portal["url"] + "/api/3/action/vierstaedte_harvest_run_create",
            json=dict(payload, kind=kind),
            headers=headers,
            timeout=30,
        )
        assert response.ok, response.text
    page = get(portal, "/staedte/mainz/harvest")
    table = page.select_one("table.vierstaedte-harvest-runs")
    column = [th.get_text(strip=True) for th in table.thead.find_all("th")].index("Art")
    kinds = [
        row.find_all(["th", "td"])[column].get_text(strip=True)
        for row in table.tbody.find_all("tr")
    ]
    assert kinds == ["Rat", "Statistik"]  # newest first
    assert "Art: Rat" in " ".join(page.get_text(" ", strip=True).split())


def test_the_home_page_searches_the_council(portal):
    home = get(portal, "/")
    form = home.select_one(".vierstaedte-home-council form")
    assert form["action"] == "/rat" and form.select_one("input[name=q]") is not None
    label = home.select_one(f"label[for={form.select_one('input')['id']}]").get_text(strip=True)
    assert label == "Ratsinformationen durchsuchen"
    found = hits(get(portal, form["action"], q="Zollhafen"))  # as the form sends it
    assert any("Am Zollhafen" in hit.h3.get_text() for hit in found)
