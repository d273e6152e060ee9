"""The demo council (demo/council/): a seeded OParl system per city, served by the replay server.

What the harvester and the portal rely on: the same arguments give the same bytes; every object
has what OParl requires of its type and every link resolves; Trier looks like ALLRIS (OParl 1.0,
single-object ``auxiliaryFile``, ``mimeType: "pdf"``, raw control characters), the others like
SessionNet (OParl 1.1, strict JSON); the files have real text (and one scan has none); and the
replay server pages with ``links.next``, filters by ``modified_since``/``created_since`` and
serves the changes of a later epoch, deletions included, with ETags on files. Small corpora
(papers=40) keep it fast; real HTTP on 127.0.0.1, the real pdftotext/python-docx/odfdo.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timedelta

import pytest
import requests

from demo.council import CouncilDemo
from demo.council import generate as gen
from demo.council.generate import ANCHOR, BERLIN, DEMO_WEB, generate
from demo.replay import ReplayServer

PAPERS = 40
# what OParl 1.0/1.1 require of each type (ZWINGEND), plus what this demo promises everywhere
REQUIRED = {
    "system": ("oparlVersion", "body"),
    "body": ("name", "organization", "person", "meeting", "paper", "legislativeTerm"),
    "legislativeTerm": ("name", "startDate", "endDate"),
    "organization": ("name", "body"),
    "person": ("name", "familyName", "givenName"),
    "membership": ("person", "organization"),
    "meeting": ("name", "start", "organization"),
    "agendaItem": ("meeting", "number", "name", "public"),
    "paper": ("body", "name", "reference", "date", "paperType"),
    "consultation": ("paper", "organization", "role"),
    "file": ("accessUrl", "name", "mimeType"),
    "location": ("description", "geojson"),
}
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")  # no microseconds


def _short(obj):
    last = obj["type"].rsplit("/", 1)[-1]
    return last[0].lower() + last[1:]


def _dump(system) -> str:
    return json.dumps([system.objects, system.lists, sorted(system.documents)], default=str)


def test_the_generator_is_deterministic_and_seeded():
    assert _dump(generate("mainz", PAPERS)) == _dump(generate("mainz", PAPERS))
    assert _dump(generate("mainz", PAPERS)) != _dump(generate("mainz", PAPERS, seed=18))
    moment = [ANCHOR + timedelta(days=3)]
    first = generate("trier", PAPERS, epoch=1, epoch_times=moment)
    assert _dump(first) == _dump(generate("trier", PAPERS, epoch=1, epoch_times=moment))
    assert _dump(first) != _dump(generate("trier", PAPERS))


@pytest.mark.parametrize("city", gen.CITY_NAMES)
def test_every_object_is_valid_oparl_and_says_demo(city):
    system = generate(city, PAPERS)
    version = "1.0" if city == "trier" else "1.1"
    seen = {}

    def walk(obj):  # embedded objects are objects too
        if isinstance(obj, dict):
            if "type" in obj and str(obj["type"]).startswith("https://schema.oparl.org/"):
                seen[obj["id"]] = obj
            for value in obj.values():
                walk(value)
        elif isinstance(obj, list):
            for value in obj:
                walk(value)

    for obj in system.objects.values():
        walk(obj)
    assert set(seen) == set(system.objects)
    for oid, obj in seen.items():
        kind = _short(obj)
        assert obj["type"] == f"https://schema.oparl.org/{version}/{kind[0].upper()}{kind[1:]}"
        missing = [f for f in REQUIRED[kind] if obj.get(f) in (None, "", [])]
        assert not missing, (oid, missing)
        assert STAMP.match(obj["created"]) and STAMP.match(obj["modified"]), oid
        assert datetime.fromisoformat(obj["created"]) <= datetime.fromisoformat(obj["modified"])
        assert f"/{DEMO_WEB}/{city}/" in obj["web"], oid
        assert oid.startswith("{base}/oparl/" + city + "/")
    # every reference by URL points at an object of the system (or a list of it)
    known = set(system.objects) | set(system.lists) | set(system.documents)
    for obj in seen.values():
        for name in (
            "body",
            "paper",
            "meeting",
            "organization",
            "person",
            "consultation",
            "agendaItem",
            "onBehalfOf",
            "originatorPerson",
            "underDirectionOf",
        ):
            refs = obj.get(name)
            for ref in refs if isinstance(refs, list) else [refs]:
                if isinstance(ref, str):
                    assert ref in known, (obj["id"], name, ref)
    body = next(o for o in system.objects.values() if _short(o) == "body")
    assert "demo" in body["keyword"] and "Demo" in body["name"]
    if version == "1.1":
        assert {"agendaItem", "consultation", "file", "membership"} <= set(body)


@pytest.mark.parametrize("city", gen.CITY_NAMES)
def test_the_corpus_is_a_varied_german_council(city):
    system = generate(city)  # the demo's size
    papers = [o for o in system.objects.values() if _short(o) == "paper"]
    meetings = [o for o in system.objects.values() if _short(o) == "meeting"]
    assert len(papers) == gen.DEFAULT_PAPERS and len(meetings) >= gen.DEFAULT_PAPERS // 2
    assert len({p["name"] for p in papers}) >= 0.85 * len(papers)  # not copies
    assert {p["paperType"] for p in papers} == {
        "Beschlussvorlage",
        "Antrag",
        "Anfrage",
        "Mitteilung",
    }
    text = " ".join(p["name"] for p in papers)
    for word in ("Bebauungsplan", "Haushalt", "Kita", "Rad", "Klima", "Anfrage der"):
        assert word in text, word
    assert sum(street in text for street in gen.words.CITIES[city]["streets"]) >= 5
    organizations = {o["name"] for o in system.objects.values() if _short(o) == "organization"}
    assert {"Stadtrat", "Bau- und Planungsausschuss", "Haupt- und Finanzausschuss"} <= organizations
    assert any(name.startswith("Ortsbeirat") for name in organizations)
    results = {i.get("result") for m in meetings for i in m["agendaItem"]}
    assert {"beschlossen", "abgelehnt", "zur Kenntnis genommen"} <= results
    # references count up within a year, in date order
    first = sorted(papers, key=lambda p: p["id"])[:3]
    assert [p["date"] for p in first] == sorted(p["date"] for p in first)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("replay")
    demo = CouncilDemo(tmp_path_factory.mktemp("council"), papers=PAPERS, page_size=15)
    with ReplayServer(root, council=demo) as server:
        yield server, demo


def _get(server, url, **kwargs):
    response = requests.get(url.replace("{base}", server.base), timeout=10, **kwargs)
    response.raise_for_status()
    return response


def _walk(server, url, strict=True):
    """Every object of a list, following links.next; and the number of pages read."""
    objects, pages = [], 0
    while url:
        page = json.loads(_get(server, url).text, strict=strict)
        objects += page["data"]
        pages += 1
        url = page["links"].get("next")
    return objects, pages


def test_trier_is_allris_with_its_quirks_and_sessionnet_is_strict(served):
    server, demo = served
    trier = json.loads(_get(server, demo.system_url(server.base, "trier")).text)
    assert trier["oparlVersion"] == "https://schema.oparl.org/1.0/"
    assert trier["body"].endswith("/bodies.asp")
    body = json.loads(_get(server, trier["body"]).text)["data"][0]
    assert body["paper"].endswith("/papers.asp?body=1") and "file" not in body
    raw = _get(server, body["paper"], params={"limit": 1000}).text
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)  # raw tabs, vertical tabs or line breaks inside strings
    papers = json.loads(raw, strict=False)["data"]
    assert any(re.search(r"[\t\x0b]", p["name"]) for p in papers)
    assert any(isinstance(p.get("auxiliaryFile"), dict) for p in papers)
    assert {p["mainFile"]["mimeType"] for p in papers} == {"pdf"}

    mainz = json.loads(_get(server, demo.system_url(server.base, "mainz")).text)
    assert mainz["oparlVersion"] == "https://schema.oparl.org/1.1/"
    body = json.loads(_get(server, mainz["body"]).text)["data"][0]
    assert body["paper"].endswith("/oparl/1.1/bodies/0001/papers")
    papers, pages = _walk(server, body["paper"])  # strict JSON on every page
    assert len(papers) == PAPERS and pages == 3
    assert all(isinstance(p.get("auxiliaryFile", []), list) for p in papers)
    assert {p["mainFile"]["mimeType"] for p in papers} == {"application/pdf"}
    files, _ = _walk(server, body["file"])
    assert len(files) == len(demo.system("mainz").documents)


def test_files_have_text_one_scan_has_none_and_carry_etags(served, tmp_path):
    server, demo = served
    kinds = {}
    for access, doc in demo.system("koblenz").documents.items():
        kinds.setdefault(doc.kind, access)
    assert {"pdf", "scan"} <= set(kinds)
    response = _get(server, kinds["pdf"])
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    (tmp_path / "paper.pdf").write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", tmp_path / "paper.pdf", "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Stadt Koblenz (Demo, erfundene Daten)" in text and "Drucksache" in text
    again = requests.get(
        kinds["pdf"].replace("{base}", server.base),
        timeout=10,
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304
    (tmp_path / "scan.pdf").write_bytes(_get(server, kinds["scan"]).content)
    scan = subprocess.run(
        ["pdftotext", tmp_path / "scan.pdf", "-"], capture_output=True, text=True, check=True
    ).stdout
    assert scan.strip() == ""
    office = generate("mainz")  # the demo's size has both office formats
    for kind, reader in (("docx", _docx_text), ("odt", _odt_text)):
        access, doc = next((a, d) for a, d in office.documents.items() if d.kind == kind)
        from demo.council.documents import render

        path = tmp_path / f"file.{kind}"
        path.write_bytes(render(doc))
        assert doc.sections[0][1] in reader(path)


def _docx_text(path) -> str:
    import docx

    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def _odt_text(path) -> str:
    from odfdo import Document

    return Document(str(path)).get_formatted_text()


def test_filters_and_a_later_epoch_with_deletions(served):
    server, demo = served
    system_url = demo.system_url(server.base, "ludwigshafen")
    body_url = json.loads(_get(server, system_url).text)["body"]
    body = json.loads(_get(server, body_url).text)["data"][0]
    before, _ = _walk(server, body["paper"])
    since = {"modified_since": ANCHOR.isoformat()}
    assert json.loads(_get(server, body["paper"], params=since).text)["data"] == []
    files_before = {f["id"]: f for f in _walk(server, body["file"])[0]}
    revised_access = None

    moment = datetime(2026, 10, 31, 12, 0, tzinfo=BERLIN)  # after the corpus, before its end
    assert demo.advance(moment) == 1
    try:
        # SessionNet is asked with an unencoded timestamp, as the harvester sends it
        url = body["paper"] + "?modified_since=2026-10-31T10:00:00Z&page=1"
        changed, _ = _walk(server, url)
        deleted = [p for p in changed if p.get("deleted")]
        revised = [p for p in changed if p.get("name", "").endswith("(Neufassung)")]
        new = [p for p in changed if p["id"] not in {b["id"] for b in before}]
        assert (len(deleted), len(revised), len(new)) == (2, 3, 2)
        assert set(deleted[0]) == {"id", "type", "created", "modified", "deleted"}
        created, _ = _walk(server, body["paper"] + "?created_since=2026-10-31T12:00:00%2B01:00")
        assert {p["id"] for p in created} == {p["id"] for p in new}
        everything, _ = _walk(server, body["paper"])
        assert len(everything) == PAPERS + 2  # deleted ones stay as stubs
        files_changed, _ = _walk(server, body["file"] + "?modified_since=2026-10-31T10:00:00Z")
        gone = [f for f in files_changed if f.get("deleted")]
        assert gone and all(f["id"] in files_before for f in gone)
        revised_access = revised[0]["mainFile"]["accessUrl"]
        old = files_before[revised[0]["mainFile"]["id"]]
        assert old["modified"] < revised[0]["mainFile"]["modified"]
        meetings, _ = _walk(server, body["meeting"] + "?modified_since=2026-10-31T10:00:00Z")
        assert [(m["cancelled"], m["meetingState"]) for m in meetings] == [(True, "abgesagt")]
    finally:
        demo.set_epochs([])
    old_body = _get(server, revised_access).content
    demo.advance(moment)
    try:
        assert _get(server, revised_access).content != old_body  # a new ETag with it
    finally:
        demo.set_epochs([])


def test_bad_filters_unknown_paths_and_the_web_pages(served):
    server, demo = served
    url = demo.system_url(server.base, "mainz").replace("/system", "/bodies/0001/papers")
    assert requests.get(url, params={"modified_since": "gestern"}, timeout=10).status_code == 400
    assert requests.get(url + "/1", timeout=10).status_code == 404
    assert requests.get(server.base + "/oparl/mannheim/x", timeout=10).status_code == 404
    paper = json.loads(_get(server, url).text)["data"][0]
    page = _get(server, paper["web"])
    assert "Demo-Ratsinformationssystem" in page.text and "erfundene" in page.text.lower()


def test_a_bench_sized_system_is_generated_in_seconds():
    started = datetime.now(BERLIN)
    system = generate("koblenz", papers=2000)
    assert system.count("paper") == 2000
    assert system.count("meeting") >= 1000 and system.count("file") >= 3000
    assert (datetime.now(BERLIN) - started).total_seconds() < 20
