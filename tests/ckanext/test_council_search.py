"""``vierstaedte_council_search`` against a live CKAN and the council Solr core.

A small German corpus of three cities is written once per module through the real write
actions over HTTP, as the harvester writes it (``vierstaedte_council_upsert``,
``…_file_text``); the upsert indexes it in the ``council_test`` core. Then the search is asked
over HTTP: German decompounding and stemming, filters, date sort, highlighting, facets,
deleted objects, and a Solr outage during the writes that ``ckan vierstaedte council
reindex`` repairs. For the outage the test process itself writes with the council core's URL
pointing at a port where nothing listens (a real refused connection, no mock), the way a
harvest would meet a Solr that is down.
"""

from __future__ import annotations

import hashlib
import socket
from typing import Any

import pytest
import requests

from vierstaedte_contract.council import object_key

OPARL = "https://schema.oparl.org/1.1/"
BASES = {
    "mainz": "https://ratsinfo.mainz.example/oparl",
    "trier": "https://ratsinfo.trier.example/oparl",
    "koblenz": "https://ratsinfo.koblenz.example/oparl",
}
CYCLING_TEXT = (
    "Das Radverkehrskonzept sieht neue Fahrradstraßen am Rheinufer und sichere Abstellanlagen "
    "an der Haltestelle Hauptbahnhof vor. <script>alert(1)</script> Kosten & Förderung folgen."
)
CLIMATE_TEXT = (
    "Die Fortschreibung des Klimaschutzkonzepts setzt auf Wärmepumpen in städtischen Gebäuden "
    "und Photovoltaikanlagen auf den Dächern der Grundschulen."
)


def _o(city: str, kind: str, slug: str, **data: Any) -> dict[str, Any]:
    base = BASES[city]
    oid = f"{base}/{kind.lower()}/{slug}"
    return {"id": oid, "type": OPARL + kind, "web": f"{base}/web/{kind.lower()}/{slug}", **data}


def _paper(city: str, slug: str, title: str, ref: str, date: str, kind: str, **data) -> dict:
    return _o(
        city, "Paper", slug, body=_body(city)["id"], name=title, reference=ref, date=date,
        paperType=kind, **data,
    )  # fmt: skip


def _body(city: str) -> dict[str, Any]:
    return _o(city, "Body", "1", name=f"Stadt {city.title()}")


def corpus() -> dict[str, list[dict[str, Any]]]:
    """Papers, a meeting with agenda items, committees, a person and files of three cities."""
    committee = _o(
        "mainz", "Organization", "umwelt", body=_body("mainz")["id"],
        name="Ausschuss für Umwelt, Grün und Energie", organizationType="Gremium",
    )  # fmt: skip
    person = _o("mainz", "Person", "beispiel", name="Anna Beispiel", familyName="Beispiel")
    cycling_id = f"{BASES['mainz']}/paper/radverkehrskonzept"
    meeting_id = f"{BASES['mainz']}/meeting/umwelt-2025-03"
    cycling_file = _o(
        "mainz", "File", "radverkehr-pdf", name="Radverkehrskonzept (Entwurf)",
        fileName="0123-2025.pdf", mimeType="application/pdf",
        accessUrl=f"{BASES['mainz']}/files/0123-2025.pdf", paper=[cycling_id],
    )  # fmt: skip
    consultation = _o(
        "mainz", "Consultation", "rad-umwelt", paper=cycling_id, meeting=meeting_id,
        organization=[committee["id"]], role="Vorberatung",
    )  # fmt: skip
    item = _o(
        "mainz", "AgendaItem", "umwelt-4", meeting=meeting_id, number="4", order=4,
        name="Bericht der Verwaltung: Radverkehr und Radwegenetz in der Neustadt",
        result="zur Kenntnis genommen",
    )  # fmt: skip
    meeting = _o(
        "mainz", "Meeting", "umwelt-2025-03", name="Sitzung des Umweltausschusses",
        start="2025-03-20T17:00:00+01:00", organization=[committee["id"]], agendaItem=[item],
    )  # fmt: skip
    mainz = [
        _body("mainz"), committee, person, meeting, item, consultation, cycling_file,
        _paper(
            "mainz", "radverkehrskonzept", "Radverkehrskonzept 2030 für die Innenstadt",
            "0123/2025", "2025-03-10", "Beschlussvorlage", mainFile=cycling_file,
            consultation=[consultation], originatorPerson=[person["id"]],
        ),
        _paper(
            "mainz", "kita-gonsenheim", "Anfrage zu fehlenden Kita-Plätzen in Gonsenheim",
            "0456/2024", "2024-11-05", "Anfrage",
        ),
        _paper(
            "mainz", "haushalt", "Haushaltssatzung und Haushaltsplan 2026", "0789/2025",
            "2025-09-01", "Beschlussvorlage",
        ),
        _paper(
            "mainz", "tempo30", "Antrag: Tempo 30 vor allen Grundschulen", "0901/2025",
            "2025-04-02", "Antrag",
        ),
    ]  # fmt: skip
    climate_file = _o(
        "trier", "File", "klima-pdf", name="Klimaschutzkonzept Fortschreibung",
        fileName="klima.pdf", mimeType="application/pdf",
        accessUrl=f"{BASES['trier']}/files/klima.pdf",
    )  # fmt: skip
    trier = [
        _body("trier"), climate_file,
        _paper(
            "trier", "radwege-mosel", "Förderung des Radverkehrs: Radwege an der Mosel",
            "210/2024", "2024-06-12", "Antrag",
        ),
        _paper(
            "trier", "klima", "Klimaschutzkonzept Trier – Fortschreibung", "123/2025",
            "2025-05-05", "Berichtsvorlage", mainFile=climate_file,
        ),
        _paper(
            "trier", "castelnau", "Bebauungsplan BU 13 „Castelnau“", "033/2023", "2023-02-01",
            "Beschlussvorlage",
        ),
    ]  # fmt: skip
    koblenz = [
        _body("koblenz"),
        _paper(
            "koblenz", "kita-luetzel", "Neubau der Kindertagesstätte Lützel", "BV/0015/2025",
            "2025-01-15", "Beschlussvorlage",
        ),
    ]  # fmt: skip
    return {"mainz": mainz, "trier": trier, "koblenz": koblenz}


TEXTS = {
    f"{BASES['mainz']}/file/radverkehr-pdf": ("mainz", CYCLING_TEXT),
    f"{BASES['trier']}/file/klima-pdf": ("trier", CLIMATE_TEXT),
}


def sent(obj: dict[str, Any], city: str, deleted: bool = False) -> dict[str, Any]:
    kind = obj["type"].rsplit("/", 1)[-1]
    kind = kind[0].lower() + kind[1:]
    return {
        "id": obj["id"],
        "type": kind,
        "body": None if kind in ("system", "body") else _body(city)["id"],
        "modified": "2025-10-01T12:00:00+02:00",
        "deleted": deleted,
        "data": {"id": obj["id"], "type": obj["type"], "deleted": True} if deleted else obj,
    }


def post(portal: dict, action: str, payload: dict) -> dict:
    response = requests.post(
        f"{portal['url']}/api/3/action/{action}",
        json=payload,
        headers={"Authorization": portal["token"]},
        timeout=60,
    )
    assert response.ok, response.text
    return response.json()["result"]


def search(portal: dict, **params: Any) -> dict:
    response = requests.get(
        f"{portal['url']}/api/3/action/vierstaedte_council_search", params=params, timeout=30
    )
    assert response.ok, response.text
    return response.json()["result"]


def titles(result: dict) -> list[str]:
    return [hit["title"] for hit in result["results"]]


def key(city: str, kind: str, name: str) -> str:
    return object_key(f"{BASES[city]}/{kind}/{name}")


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
    index.rebuild()  # the council core holds nothing of an earlier run's databases
    sysadmin = factories.SysadminWithToken()
    seed.ensure_cities({"user": sysadmin["name"]}, echo=lambda _: None)
    portal = {"url": ckan_server, "token": sysadmin["token"], "user": sysadmin["name"]}
    for city, objects in corpus().items():
        post(portal, "vierstaedte_council_upsert", {
            "city": city, "objects": [sent(o, city) for o in objects],
        })  # fmt: skip
    for file_id, (city, text) in TEXTS.items():
        data = text.encode("utf-8")
        post(portal, "vierstaedte_council_file_text", {
            "city": city, "file_id": file_id, "status": "ok", "text": text,
            "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
            "mime_type": "application/pdf", "source_url": file_id,
        })  # fmt: skip
    yield portal
    ckan.plugins.unload_all()


def test_a_part_of_a_compound_finds_the_compound_and_the_compound_its_part(portal):
    found = search(portal, q="Radverkehr")
    assert "Radverkehrskonzept 2030 für die Innenstadt" in titles(found)
    assert "Förderung des Radverkehrs: Radwege an der Mosel" in titles(found)
    whole = search(portal, q="Radverkehrskonzept")
    assert titles(whole)[0] == "Radverkehrskonzept 2030 für die Innenstadt"
    assert "Förderung des Radverkehrs: Radwege an der Mosel" in titles(whole)
    assert "Klimaschutzkonzept Trier – Fortschreibung" in titles(search(portal, q="Klimaschutz"))


def test_inflected_words_and_synonyms_find_their_papers(portal):
    assert "Bebauungsplan BU 13 „Castelnau“" in titles(search(portal, q="Bebauungspläne"))
    assert "Haushaltssatzung und Haushaltsplan 2026" in titles(search(portal, q="Haushaltsplans"))
    kita = titles(search(portal, q="Kitas"))
    assert "Neubau der Kindertagesstätte Lützel" in kita
    assert "Anfrage zu fehlenden Kita-Plätzen in Gonsenheim" in kita
    # a file's text finds its paper and the file itself, a reference finds its paper first
    heat = search(portal, q="Wärmepumpe")
    assert {hit["type"] for hit in heat["results"]} == {"paper", "file"}
    assert titles(search(portal, q="0789/2025"))[0] == "Haushaltssatzung und Haushaltsplan 2026"


def test_a_hit_says_where_it_is_here_and_in_the_original_system(portal):
    hit = search(portal, q="Radverkehrskonzept 2030", type="paper")["results"][0]
    paper = key("mainz", "paper", "radverkehrskonzept")
    assert hit["key"] == paper and hit["url"] == f"/rat/vorlage/{paper}"
    assert hit["web"] == f"{BASES['mainz']}/web/paper/radverkehrskonzept"
    assert (hit["city"], hit["city_title"], hit["reference"]) == ("mainz", "Mainz", "0123/2025")
    assert hit["paper_type"] == "Beschlussvorlage" and hit["date"].startswith("2025-03-")
    assert hit["body"] == "Stadt Mainz"
    assert hit["organizations"] == ["Ausschuss für Umwelt, Grün und Energie"]
    meeting = search(portal, q="Radwegenetz", type="meeting")["results"][0]
    assert meeting["url"] == f"/rat/sitzung/{key('mainz', 'meeting', 'umwelt-2025-03')}"
    file = search(portal, q="Abstellanlagen", type="file")["results"][0]
    assert file["url"] == f"/rat/vorlage/{paper}"


def test_filters_narrow_the_hits(portal):
    assert set(titles(search(portal, q="Radverkehr", city="trier"))) == {
        "Förderung des Radverkehrs: Radwege an der Mosel"
    }
    assert search(portal, q="Radverkehr Trier")["query"]["city"] == ["trier"]
    both = search(portal, city="trier,koblenz", type="paper")
    assert {hit["city"] for hit in both["results"]} == {"trier", "koblenz"} and both["count"] == 4
    assert titles(search(portal, paper_type="Antrag", city="mainz")) == [
        "Antrag: Tempo 30 vor allen Grundschulen"
    ]
    committee = "Ausschuss für Umwelt, Grün und Energie"
    assert set(titles(search(portal, organization=committee))) == {
        "Radverkehrskonzept 2030 für die Innenstadt",
        "Sitzung des Umweltausschusses",
    }
    assert titles(search(portal, person="Anna Beispiel")) == [
        "Radverkehrskonzept 2030 für die Innenstadt"
    ]
    assert titles(search(portal, body="Stadt Koblenz")) == ["Neubau der Kindertagesstätte Lützel"]
    spring = search(portal, type="paper", date_from="2025-01-01", date_to="2025-03-31")
    assert set(titles(spring)) == {
        "Radverkehrskonzept 2030 für die Innenstadt",
        "Neubau der Kindertagesstätte Lützel",
    }


def test_sorted_by_date_newest_first_and_by_date_without_words(portal):
    by_date = search(portal, q="Radverkehr", sort="date", type="paper")
    dates = [hit["date"] for hit in by_date["results"]]
    assert len(dates) >= 2 and dates == sorted(dates, reverse=True)
    everything = search(portal, type="paper", rows=50)
    assert everything["query"]["sort"] == "date"
    listed = [hit["date"] for hit in everything["results"]]
    assert listed == sorted(listed, reverse=True) and everything["count"] == 8


def test_passages_mark_the_words_and_escape_the_text(portal):
    hit = next(h for h in search(portal, q="Radverkehrskonzept")["results"] if h["type"] == "file")
    passage = " ".join(hit["highlights"])
    assert "<mark>Radverkehrskonzept</mark>" in passage
    assert "&lt;script&gt;" in passage and "<script>" not in passage
    assert "&amp;" in passage
    assert passage.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    stemmed = search(portal, q="Fahrradstraße")["results"]
    assert any("<mark>Fahrradstraßen</mark>" in " ".join(h["highlights"]) for h in stemmed)


def test_facets_count_cities_committees_types_and_years(portal):
    found = search(portal, q="Radverkehr")
    facets = {
        name: {i["name"]: i["count"] for i in items} for name, items in found["facets"].items()
    }
    assert facets["city"]["mainz"] >= 2 and facets["city"]["trier"] == 1
    assert facets["type"]["paper"] >= 2 and facets["type"].get("meeting") == 1
    assert facets["year"]["2024"] == 1
    assert facets["paper_type"]["Antrag"] == 1
    assert facets["organization"]["Ausschuss für Umwelt, Grün und Energie"] >= 1
    labels = {i["name"]: i["label"] for i in found["facets"]["city"]}
    assert labels["trier"] == "Trier"


def test_bad_arguments_are_field_errors(portal):
    url = f"{portal['url']}/api/3/action/vierstaedte_council_search"
    for params, field in (
        ({"rows": 51}, "rows"),
        ({"city": "atlantis"}, "city"),
        ({"date_from": "2025-13-01"}, "date_from"),
        ({"sort": "title"}, "sort"),
        ({"type": "person"}, "type"),
        ({"start": 5000}, "start"),
    ):
        response = requests.get(url, params=params, timeout=30)
        assert response.status_code == 409, (params, response.text)
        assert field in response.json()["error"], response.json()


def test_a_deleted_paper_vanishes_from_the_search(portal):
    tempo = next(o for o in corpus()["mainz"] if o["id"].endswith("/paper/tempo30"))
    assert titles(search(portal, q="Tempo 30")) == ["Antrag: Tempo 30 vor allen Grundschulen"]
    post(portal, "vierstaedte_council_upsert", {
        "city": "mainz", "objects": [sent(tempo, "mainz", deleted=True)],
    })  # fmt: skip
    assert search(portal, q="Tempo 30")["count"] == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_writes_while_solr_is_down_are_kept_and_reindex_converges(portal, cli):
    import ckan.plugins.toolkit as tk
    from ckan.model import Session

    from ckanext.vierstaedte.cli import vierstaedte
    from ckanext.vierstaedte.council import index
    from ckanext.vierstaedte.council.model import CouncilObject

    new = _paper(
        "koblenz", "schulhof", "Umgestaltung des Schulhofs der Grundschule Moselweiß",
        "BV/0042/2025", "2025-07-01", "Beschlussvorlage",
    )  # fmt: skip
    castelnau = next(o for o in corpus()["trier"] if o["id"].endswith("/castelnau"))
    context = {"user": portal["user"], "ignore_auth": True}
    upsert = tk.get_action("vierstaedte_council_upsert")
    old = tk.config.get(index.CONFIG_KEY)
    tk.config[index.CONFIG_KEY] = f"http://127.0.0.1:{_free_port()}/solr/council_test"
    try:
        written = upsert(dict(context), {"city": "koblenz", "objects": [sent(new, "koblenz")]})
        deleted = upsert(
            dict(context), {"city": "trier", "objects": [sent(castelnau, "trier", True)]}
        )
    finally:
        if old is None:
            tk.config.pop(index.CONFIG_KEY, None)
        else:
            tk.config[index.CONFIG_KEY] = old
    assert written["written"] == 1 and deleted["deleted"] == 1
    marked = {k for (k,) in Session.query(CouncilObject.key).filter(CouncilObject.needs_index)}
    assert {key("koblenz", "paper", "schulhof"), key("trier", "paper", "castelnau")} <= marked
    # the database has both writes, the core neither yet: it still shows what it had
    assert search(portal, q="Schulhof")["count"] == 0
    assert search(portal, q="Castelnau")["count"] == 1

    done = cli.invoke(vierstaedte, ["council", "reindex"])
    assert done.exit_code == 0, done.output
    assert "0 offen" in done.output
    assert titles(search(portal, q="Schulhof")) == [
        "Umgestaltung des Schulhofs der Grundschule Moselweiß"
    ]
    assert search(portal, q="Castelnau")["count"] == 0
    # the core holds exactly the papers, meetings and files the database has undeleted
    Session.remove()
    alive = Session.query(CouncilObject).filter(
        CouncilObject.type.in_(index.DOC_TYPES), CouncilObject.deleted.is_(False)
    )
    assert search(portal, rows=1)["count"] == alive.count()
