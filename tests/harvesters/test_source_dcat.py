"""DCAT-AP.de reader against the replay server: the real Rostock page, a Turtle catalogue, faults, XXE."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import pytest
import rdflib
from rdflib import RDF
from rdflib.namespace import SKOS

from demo.replay import ReplayServer
from vierstaedte_harvest.metadata import canonical_dcatde_uri
from vierstaedte_harvest.sources import SourceError, read, reader
from vierstaedte_harvest.sources.dcat import Settings, list_datasets

PAYLOADS = Path(__file__).parent / "payloads" / "dcat"
ROSTOCK = "dcat_rostock_opendata-hro_catalog_page1.rdf"
CONTRIBUTORS = "vocab_dcat-ap-de_contributors_20251021.rdf"
DCATDE = "http://dcat-ap.de/def/"
KITA = "dcat:127.0.0.1:def01e2f-270d-450d-a329-557e635c37d5"
PASSWD = Path("/etc/passwd")


@pytest.fixture
def server(tmp_path, real_fixture):
    """The payloads plus the real Rostock page 1, once as recorded and once with its paging pointed at us."""
    root = tmp_path / "replay"
    shutil.copytree(PAYLOADS, root / "dcat")
    page1 = real_fixture(ROSTOCK).read_bytes()
    (root / "dcat" / "rostock-recorded.rdf").write_bytes(page1)
    (root / "dcat" / "rostock.rdf").write_bytes(
        page1.replace(
            b"https://www.opendata-hro.de/catalog.rdf?page=", b"{base}/dcat/rostock.rdf?page="
        )
    )
    replay = ReplayServer(root).start()
    yield replay
    replay.stop()


def listing(server, fetcher, name, **config):
    """The datasets of a listing that must be complete (iterating raises SourceError otherwise)."""
    return list(reader("dcat")(fetcher, Settings(url=f"{server.base}/dcat/{name}", **config)))


def read_all(server, fetcher, name, **config):
    """The listing read to its end, complete or not."""
    return read("dcat", fetcher, Settings(url=f"{server.base}/dcat/{name}", **config))


def by_guid(datasets):
    return {d.guid: d for d in datasets}


def write_ttl_page(server, name, *datasets, next_page=None, total=None, lines=()):
    """A minimal Turtle catalogue page: datasets, maybe a hydra:nextPage and hydra:totalItems."""
    lines = [
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .",
        "@prefix dct: <http://purl.org/dc/terms/> .",
        "@prefix hydra: <http://www.w3.org/ns/hydra/core#> .",
        *lines,
        *(
            f'<https://example.org/dataset/{dataset}> a dcat:Dataset ; dct:title "{dataset}" .'
            for dataset in datasets
        ),
    ]
    if next_page:
        lines.append(
            f'<{{base}}/dcat/{name}> a hydra:PagedCollection ; hydra:nextPage "{{base}}/dcat/{next_page}" .'
        )
    if total is not None:
        lines.append(f"<{{base}}/dcat/{name}> hydra:totalItems {total} .")
    (server.root / "dcat" / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    "uri, canonical",
    [
        ("https://www.dcat-ap.de/def/licenses/cc-zero", "http://dcat-ap.de/def/licenses/cc-zero"),
        (
            "http://www.dcat-ap.de/def/politicalGeocoding/regionalKey/130030000000",
            "http://dcat-ap.de/def/politicalGeocoding/regionalKey/130030000000",
        ),
        (
            "https://dcat-ap.de/def/contributors/openDataHRO",
            "http://dcat-ap.de/def/contributors/openDataHRO",
        ),
        (
            "https://www.dcat-ap.de/def/licenses/dl-by-de/2_0",
            "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
        ),
        (
            "HTTPS://WWW.DCAT-AP.DE/def/licenses/cc-by/4_0",
            "http://dcat-ap.de/def/licenses/cc-by/4.0",
        ),
        (
            "  http://dcat-ap.de/def/licenses/dl-zero-de/2.0\n",
            "http://dcat-ap.de/def/licenses/dl-zero-de/2.0",
        ),
        ("https://www.govdata.de/dl-de/by-2-0", "https://www.govdata.de/dl-de/by-2-0"),
        ("https://example.org/licenses/dl-by-de/2_0", "https://example.org/licenses/dl-by-de/2_0"),
        (
            "https://www.dcat-ap.de/def/politicalGeocoding/Level/municipality",
            "http://dcat-ap.de/def/politicalGeocoding/Level/municipality",
        ),
    ],
)
def test_canonical_dcatde_uri(uri, canonical):
    assert canonical_dcatde_uri(uri) == canonical


def test_real_rostock_page_and_page_2(server, fetcher):
    found = read_all(server, fetcher, "rostock.rdf")
    datasets = found.datasets
    assert [path for _, path in server.log] == ["/dcat/rostock.rdf", "/dcat/rostock.rdf?page=2"]
    assert (
        len(datasets) == 103
    )  # 100 on the real page, 3 new on page 2 (its repeat of page 1's last is dropped)
    # page 2 (made up) says 103 items where the real page 1 said 217, and repeats one: not proven
    assert not found.complete
    assert [gap["code"] for gap in found.gaps] == ["count-changed", "repeated-ids"]
    assert "hydra:totalItems changed from 217 to 103" in found.gaps[0]["message"]
    assert len(by_guid(datasets)) == 103
    kita = by_guid(datasets)[KITA]
    assert kita.name == "def01e2f-270d-450d-a329-557e635c37d5"
    assert kita.title == "Kinderbetreuungseinrichtungen"
    assert kita.description.startswith(
        "Dieser Datensatz umfasst die Standorte der Kinderbetreuungseinrichtungen"
    )
    assert kita.tags == ["Allgemeinbildung", "Bildung", "Bildungswesen", "Kind", "Kleinkind"]
    assert (
        kita.license == "http://dcat-ap.de/def/licenses/cc-zero"
    )  # from the distributions: the dataset has none
    assert kita.themes == [
        f"http://publications.europa.eu/resource/authority/data-theme/{t}"
        for t in ("EDUC", "SOCI", "TECH")
    ]
    assert (kita.issued, kita.modified) == (
        "2017-08-01T10:46:45.590516",
        "2021-01-28T05:25:54.181493",
    )
    assert kita.publisher == "Hanse- und Universitätsstadt Rostock"
    assert (
        kita.contact_name
        == "Hanse- und Universitätsstadt Rostock – Kataster-, Vermessungs- und Liegenschaftsamt"
    )
    assert kita.contact_email == "geodienste@rostock.de"
    assert kita.political_geocoding == [f"{DCATDE}politicalGeocoding/regionalKey/130030000000"]
    assert (
        kita.political_geocoding_level == f"{DCATDE}politicalGeocoding/Level/administrativeDistrict"
    )
    assert kita.publisher_uri == (
        "https://www.opendata-hro.de/organization/b952e781-ab4c-456a-8e7a-2845f7efaf83"
    )
    assert kita.frequency is None and kita.notes == []
    assert sorted(r.format for r in kita.resources) == [
        "",
        "",
        "CSV",
        "GEOJSON",
        "GML",
        "KML",
        "WFS",
        "WMS",
        "XLSX",
    ]
    csv = next(r for r in kita.resources if r.format == "CSV")
    assert csv.url == (
        "https://geo.sv.rostock.de/download/opendata/kinderbetreuungseinrichtungen/"
        "kinderbetreuungseinrichtungen.csv"
    )
    assert csv.id.endswith("/resource/4a38f0ca-a26a-422c-ae02-22903ebb662c")
    assert csv.modified == "2021-01-28T02:27:03"
    assert {d.license for d in datasets} == {f"{DCATDE}licenses/cc-zero", f"{DCATDE}licenses/odbl"}
    geocodings = {uri for d in datasets for uri in d.political_geocoding}
    assert geocodings == {
        f"{DCATDE}politicalGeocoding/regionalKey/130030000000",
        f"{DCATDE}politicalGeocoding/stateKey/13",
    }


def test_page_2_maps_media_types_and_keeps_first_copy(server, fetcher):
    datasets = by_guid(read_all(server, fetcher, "rostock.rdf").datasets)
    brunnen = datasets["dcat:127.0.0.1:7d3c1b52-93f0-4a4e-9b0e-5f1f7c2a8e41"]
    assert brunnen.title == "Trinkwasserbrunnen"
    assert [(r.format, r.url.rsplit("/", 1)[-1]) for r in brunnen.resources] == [
        ("CSV", "trinkwasserbrunnen.csv"),
        ("XLSX", "trinkwasserbrunnen.xlsx"),
    ]
    parking = datasets["dcat:127.0.0.1:32fd65c7-4bd2-46a3-b78b-2c2b480736fa"]
    assert parking.title == "Parkscheinautomaten"
    assert (
        len(parking.resources) == 7
    )  # page 1's full record, not page 2's repeat without distributions


def test_contributor_ids_are_in_the_official_vocabulary(server, fetcher, real_fixture):
    """The contributor filter matches the official IDs as the catalogues spell them."""
    vocabulary = rdflib.Graph().parse(real_fixture(CONTRIBUTORS), format="xml")
    concepts = {str(c) for c in vocabulary.subjects(RDF.type, SKOS.Concept)}
    wanted = {
        f"{DCATDE}contributors/openDataHRO": ("rostock.rdf", 103),
        f"{DCATDE}contributors/openGovernmentDataPortalRheinlandPfalz": ("mainz.ttl", 2),
    }
    assert set(wanted) <= concepts
    for contributor, (page, count) in wanted.items():
        found = read_all(server, fetcher, page, contributor_id=contributor).datasets
        assert len(found) == count, contributor


def test_turtle_catalogue_over_two_pages(server, fetcher):
    datasets = listing(server, fetcher, "mainz.ttl")
    assert [path for _, path in server.log] == ["/dcat/mainz.ttl", "/dcat/mainz.ttl?page=2"]
    mainz, households, trier = (
        by_guid(datasets)[f"dcat:127.0.0.1:{key}"]
        for key in (
            "einwohner-ortsbezirke-mainz",
            "haushalte-ortsbezirke-mainz",
            "https://daten.rlp.de/dataset/stadtratswahl-2024-trier#dataset",
        )
    )
    assert mainz.name == "einwohner-ortsbezirke-mainz"
    assert mainz.title == "Einwohner nach Ortsbezirken"  # @de before @en
    assert mainz.description.endswith(
        "<script>alert(1)</script>"
    )  # kept as text; escaped when rendered
    assert mainz.tags == ["Bevölkerung", "Einwohner", "Ortsbezirke"]  # German and untagged, not @en
    assert mainz.license == "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
    assert mainz.landing_page.startswith("https://www.mainz.de/")
    assert (mainz.temporal_start, mainz.temporal_end) == ("2015-12-31", "2023-12-31")
    assert (mainz.contact_name, mainz.contact_email) == (
        "Stadt Mainz, Statistik und Wahlen",
        "statistik@stadt.mainz.de",
    )
    assert mainz.political_geocoding == [
        "http://dcat-ap.de/def/politicalGeocoding/regionalKey/073150000000"
    ]
    assert (
        mainz.political_geocoding_level
        == "http://dcat-ap.de/def/politicalGeocoding/Level/municipality"
    )
    assert [(r.format, r.name) for r in mainz.resources] == [
        ("CSV", "Einwohner nach Ortsbezirken (CSV)"),
        ("PDF", "Statistischer Bericht"),
        ("XLSX", "Einwohner nach Ortsbezirken (Excel)"),
    ]  # the javascript: "download" is not passed on
    assert mainz.resources[0].url == f"{server.base}/files/mainz/einwohner-ortsbezirke.csv"
    assert trier.name == "stadtratswahl-2024-trier"  # from the URI, without the #dataset fragment
    assert trier.title == "Stadtratswahl 2024: Ergebnisse nach Stimmbezirken"  # untagged before @en
    assert (
        trier.license == "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"
    )  # from its distributions
    assert (trier.temporal_start, trier.temporal_end, trier.modified) == (
        "2024-06-09",
        "2024-06-09",
        "2024-06-12",
    )
    assert trier.contact_email == "statistik@trier.de"
    assert [r.format for r in trier.resources] == ["CSV", "JSON"]
    assert (
        households.title == "Households by local district"
    )  # only English: taken rather than nothing
    assert households.modified is None  # "nicht bekannt" is not a date
    assert households.publisher == "Stadt Mainz"
    assert [(r.format, r.id) for r in households.resources] == [
        ("CSV", "")
    ]  # blank node: no stable id


@pytest.mark.parametrize(
    "config, titles",
    [
        ({"publisher": "stadt_mainz"}, ["Einwohner nach Ortsbezirken"]),
        (
            {"publisher": "stadt mainz"},
            ["Einwohner nach Ortsbezirken", "Households by local district"],
        ),
        (
            {
                "contributor_id": "http://dcat-ap.de/def/contributors/openGovernmentDataPortalRheinlandPfalz"
            },
            ["Einwohner nach Ortsbezirken", "Stadtratswahl 2024: Ergebnisse nach Stimmbezirken"],
        ),
        ({"contributor_id": "openDataHRO"}, []),
    ],
)
def test_filters_on_turtle_catalogue(server, fetcher, config, titles):
    assert sorted(d.title for d in listing(server, fetcher, "mainz.ttl", **config)) == titles


def test_publisher_filter_on_real_page(server, fetcher):
    datasets = read_all(server, fetcher, "rostock.rdf", publisher="Stadtwerke Rostock").datasets
    assert len(datasets) == 4
    assert {d.publisher for d in datasets} == {"Stadtwerke Rostock AG"}
    publisher = "00767ee7-610b-4c5c-81f1-a2aba2083ced"
    by_id = read_all(server, fetcher, "rostock.rdf", publisher=publisher)
    assert len(by_id.datasets) == 4


def test_500_on_page_2_raises_after_page_1(server, fetcher):
    datasets = list_datasets(fetcher, Settings(url=f"{server.base}/dcat/rostock.rdf"))
    next(datasets)  # page 1 has been read
    server.faults["/dcat/rostock.rdf"] = {"status": 500}
    with pytest.raises(
        SourceError,
        match=r"DCAT page http://127\.0\.0\.1:\d+/dcat/rostock\.rdf\?page=2: .*HTTP 500",
    ):
        list(datasets)


def test_next_page_on_another_host_is_not_followed(server, fetcher):
    """The recorded page links page 2 at www.opendata-hro.de: listed so far, then refused, never fetched."""
    listed = []
    recorded = Settings(url=f"{server.base}/dcat/rostock-recorded.rdf")
    with pytest.raises(
        SourceError, match=r"refusing to follow the next page https://www\.opendata-hro\.de/"
    ):
        for dataset in list_datasets(fetcher, recorded):
            listed.append(dataset)
    assert len(listed) == 100
    assert [path for _, path in server.log] == ["/dcat/rostock-recorded.rdf"]


@pytest.mark.parametrize(
    "body, content_type, message",
    [
        (
            b"<!DOCTYPE html>\n<html><body><h1>Wartungsarbeiten</h1></body></html>",
            "text/html; charset=utf-8",
            "HTML page",
        ),
        (
            b"<html><head><title>502 Bad Gateway</title></head></html>",
            "application/rdf+xml",
            "HTML page",
        ),
        (
            b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
            "application/rdf+xml",
            "neither a dcat:Catalog nor a dcat:Dataset",
        ),
        (b'{"error": "maintenance"}', "application/json", "not well-formed XML"),
    ],
)
def test_bad_page_raises_naming_it(server, fetcher, body, content_type, message):
    server.faults["/dcat/rostock.rdf"] = {"body": body, "content_type": content_type}
    with pytest.raises(
        SourceError, match=rf"DCAT page http://127\.0\.0\.1:\d+/dcat/rostock\.rdf.*{message}"
    ):
        listing(server, fetcher, "rostock.rdf")


def test_truncated_page_raises(server, fetcher):
    server.faults["/dcat/rostock.rdf"] = {"truncate": 20000}
    with pytest.raises(
        SourceError, match=r"rostock\.rdf is not valid RDF \(xml\): SAXParseException"
    ):
        listing(server, fetcher, "rostock.rdf")


def test_paging_loop_by_url(server, fetcher):
    write_ttl_page(server, "loop.ttl", "a", next_page="loop.ttl?page=2")
    write_ttl_page(
        server, "loop-page2.ttl", "b", next_page="loop.ttl?page=2"
    )  # names itself as next
    with pytest.raises(
        SourceError, match=r"paging loops: \S+/dcat/loop\.ttl\?page=2 was already read"
    ):
        listing(server, fetcher, "loop.ttl")
    assert len(server.log) == 2


def test_paging_loop_by_content(server, fetcher):
    """A server that ignores ?page= sends page 1 again."""
    write_ttl_page(server, "same.ttl", "a", next_page="same.ttl?page=2")
    shutil.copy(server.root / "dcat" / "same.ttl", server.root / "dcat" / "same-page2.ttl")
    with pytest.raises(
        SourceError, match=r"same\.ttl\?page=2 has the same content as \S+/dcat/same\.ttl: "
    ):
        listing(server, fetcher, "same.ttl")


def test_max_pages(server, fetcher):
    with pytest.raises(SourceError, match="more than max_pages=1 pages"):
        listing(server, fetcher, "mainz.ttl", max_pages=1)


@pytest.mark.parametrize(
    "name, fmt, error",
    [
        ("single.ttl", None, None),  # from the suffix, as the Content-Type says nothing
        ("single", "turtle", None),
        ("single", None, "cannot tell RDF/XML from Turtle"),
    ],
)
def test_format_from_config_or_suffix(server, fetcher, name, fmt, error):
    body = (PAYLOADS / "mainz-page2.ttl").read_bytes().replace(b"{base}", server.base.encode())
    server.faults[f"/dcat/{name}"] = {"body": body, "content_type": "application/octet-stream"}
    config = {"format": fmt} if fmt else {}
    if error:
        with pytest.raises(SourceError, match=error):
            listing(server, fetcher, name, **config)
    else:  # page 2 served alone: 1 of the 3 items it announces
        found = read_all(server, fetcher, name, **config)
        assert [d.name for d in found.datasets] == ["haushalte-ortsbezirke-mainz"]
        assert [gap["code"] for gap in found.gaps] == ["listing-ended-early"]


def test_complete_catalogue_says_how_it_knows(server, fetcher):
    proof = read_all(server, fetcher, "mainz.ttl").proof
    assert proof == "all 3 entries on 2 pages of hydra:totalItems 3"
    write_ttl_page(server, "plain.ttl", "a", "b")
    found = read_all(server, fetcher, "plain.ttl")
    assert found.complete and "no hydra:totalItems" in found.proof


def test_fewer_entries_than_total_items_is_incomplete(server, fetcher):
    write_ttl_page(server, "short.ttl", "a", next_page="short.ttl?page=2", total=4)
    write_ttl_page(server, "short-page2.ttl", "b", "c", total=4)
    with pytest.raises(SourceError, match=r"3 entries on 2 pages, but hydra:totalItems says 4"):
        listing(server, fetcher, "short.ttl")
    assert [d.name for d in read_all(server, fetcher, "short.ttl").datasets] == ["a", "b", "c"]


def test_total_items_changing_between_pages_is_incomplete(server, fetcher):
    write_ttl_page(server, "moving.ttl", "a", "b", next_page="moving.ttl?page=2", total=4)
    write_ttl_page(server, "moving-page2.ttl", "c", total=3)  # one deleted: another shifted, unseen
    found = read_all(server, fetcher, "moving.ttl")
    assert not found.complete and [gap["code"] for gap in found.gaps] == ["count-changed"]
    with pytest.raises(SourceError, match="hydra:totalItems changed from 4 to 3"):
        listing(server, fetcher, "moving.ttl")


def test_dataset_repeated_on_the_next_page_is_incomplete(server, fetcher):
    write_ttl_page(server, "shift.ttl", "a", "b", next_page="shift.ttl?page=2")
    write_ttl_page(server, "shift-page2.ttl", "b", "c")
    repeated = r"1 dataset\(s\) listed more than once \(dcat:127\.0\.0\.1:https://"
    with pytest.raises(SourceError, match=repeated):
        listing(server, fetcher, "shift.ttl")


def test_empty_page_that_names_a_next_page_is_incomplete(server, fetcher):
    catalogue = ["<x> a dcat:Catalog ."]
    write_ttl_page(server, "gap.ttl", "a", next_page="gap.ttl?page=2", lines=catalogue)
    write_ttl_page(server, "gap-page2.ttl", next_page="gap.ttl?page=3", lines=catalogue)
    write_ttl_page(server, "gap-page3.ttl", "c")
    found = read_all(server, fetcher, "gap.ttl")
    assert [gap["code"] for gap in found.gaps] == ["listing-ended-early"]
    assert len(found.datasets) == 2


def test_catalogue_entries_that_are_not_datasets_are_skipped_and_reported(server, fetcher):
    entries = [
        "<https://example.org/catalog> a dcat:Catalog ; "
        "dcat:dataset <https://example.org/dataset/a>, "
        "<https://example.org/series/wahlen> ; "
        "dcat:service <https://example.org/service/wms> .",
        '<https://example.org/series/wahlen> a dcat:DatasetSeries ; dct:title "Wahlen" .',
        '<https://example.org/service/wms> a dcat:DataService ; dct:title "Karte" .',
    ]
    write_ttl_page(server, "mixed.ttl", "a", total=3, lines=entries)
    found = read_all(server, fetcher, "mixed.ttl")
    assert found.complete and [d.name for d in found.datasets] == ["a"]
    assert [(s.guid, s.kind, s.title) for s in found.skipped] == [
        ("dcat:127.0.0.1:https://example.org/series/wahlen", "dcat:DatasetSeries", "Wahlen"),
        ("dcat:127.0.0.1:https://example.org/service/wms", "dcat:DataService", "Karte"),
    ]
    others = read_all(server, fetcher, "mixed.ttl", publisher="Stadt Nirgendwo")  # another city's
    assert others.complete and others.datasets == [] and others.skipped == []


XXE_DOCUMENTS = {
    "external general entity": '<!DOCTYPE rdf:RDF [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
    "external parameter entity": (
        '<!DOCTYPE rdf:RDF [<!ENTITY % secret SYSTEM "file:///etc/passwd"> %secret;]>'
    ),
    "external DTD": '<!DOCTYPE rdf:RDF SYSTEM "file:///etc/passwd">',
}


def rdf_with(doctype: str, title: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n{doctype}\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        f'xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">\n'
        f'<dcat:Dataset rdf:about="https://example.org/ds"><dct:title>{title}</dct:title></dcat:Dataset>\n'
        f"</rdf:RDF>\n"
    ).encode()


@pytest.mark.parametrize("kind", XXE_DOCUMENTS)
def test_xxe_is_refused_without_leaking(server, fetcher, kind):
    assert "root:" in PASSWD.read_text()  # the secret the attack is after exists here
    title = "&secret;" if kind == "external general entity" else "Titel"
    (server.root / "dcat" / "xxe.rdf").write_bytes(rdf_with(XXE_DOCUMENTS[kind], title))
    with pytest.raises(
        SourceError, match=r"xxe\.rdf (declares the XML entity 'secret'|refers to an external DTD)"
    ) as info:
        listing(server, fetcher, "xxe.rdf")
    assert "root:" not in str(info.value)


def test_rdflib_alone_does_not_resolve_external_entities():
    """The second line of defence, should the pre-check ever miss something: SAX does not fetch
    external entities."""
    graph = rdflib.Graph().parse(
        data=rdf_with(XXE_DOCUMENTS["external general entity"], "a&secret;b"), format="xml"
    )
    assert [str(title) for title in graph.objects(None, rdflib.DCTERMS.title)] == ["ab"]
    assert not any("root:" in str(term) for triple in graph for term in triple)


def test_billion_laughs_is_refused_within_a_second(server, fetcher):
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    (server.root / "dcat" / "laughs.rdf").write_bytes(
        rdf_with(f"<!DOCTYPE rdf:RDF [{''.join(entities)}]>", "&lol9;")
    )
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"laughs\.rdf declares the XML entity 'lol0'"):
        listing(server, fetcher, "laughs.rdf")
    assert time.monotonic() - started < 1.0


FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
CATALOGUE_PREFIXES = """\
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix locn: <http://www.w3.org/ns/locn#> .
"""


@pytest.mark.parametrize(
    "given, read",
    [
        (f"<{FREQUENCY}MONTHLY>", f"{FREQUENCY}MONTHLY"),
        ("<HTTPS://publications.europa.eu/resource/authority/frequency/MONTHLY/>", "MONTHLY"),
        ('"MONTHLY"', "MONTHLY"),
        ('"monatlich"@de', "MONTHLY"),
        ('"Vierteljährlich"', "QUARTERLY"),
        ("<http://purl.org/cld/freq/annual>", "ANNUAL"),
        (f"<{FREQUENCY}IRREGULAR>", "IRREG"),  # transparenz.bremen.de's spelling of IRREG
        ('[ a dct:Frequency ; rdf:value "semiannual" ]', "ANNUAL_2"),
        ('"alle paar Jahre"', "alle paar Jahre"),  # as given: the metadata reports and drops it
    ],
)
def test_accrual_periodicity_in_any_spelling(server, fetcher, given, read):
    page = CATALOGUE_PREFIXES + (
        "@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .\n"
        f'<https://example.org/ds> a dcat:Dataset ; dct:title "A" ; '
        f"dct:accrualPeriodicity {given} .\n"
    )
    (server.root / "dcat" / "frequency.ttl").write_text(page, encoding="utf-8")
    [dataset] = listing(server, fetcher, "frequency.ttl")
    expected = read if read.startswith("http") or " " in read else FREQUENCY + read
    assert dataset.frequency == expected


def test_geocoding_and_publisher_uri_in_their_forms(server, fetcher):
    """Every form a DCAT-AP.de catalogue gives them in, read as given (canonical spelling)."""
    page = (
        CATALOGUE_PREFIXES
        + """\
@prefix dcatde: <http://dcat-ap.de/def/dcatde/> .
@prefix dcatde10: <http://dcat-ap.de/def/dcatde/1.0/> .
<https://example.org/trier> a dcat:Dataset ; dct:title "Trier" ;
  dcatde:politicalGeocodingURI <https://www.dcat-ap.de/def/politicalGeocoding/stateKey/07> ,
    <https://www.dcat-ap.de/def/politicalGeocoding/municipalityKey/07211000> ;
  dcatde:politicalGeocodingLevelURI <https://www.dcat-ap.de/def/politicalGeocoding/Level/municipality> ;
  dct:publisher <https://daten.rlp.de/organization/stadt_trier> .
<https://daten.rlp.de/organization/stadt_trier> a foaf:Organization ; foaf:name "Stadt Trier" .
<https://example.org/bremen> a dcat:Dataset ; dct:title "Bremen" ;
  dct:spatial [ locn:adminUnitL2 <http://dcat-ap.de/def/politicalGeocoding/regionalKey/040110000000> ] ;
  dct:spatial <http://www.geonames.org/2944388> ;
  dct:publisher <https://www.bremen.de> .
<https://example.org/old> a dcat:Dataset ; dct:title "Old namespace" ;
  dcatde10:politicalGeocodingURI <http://dcat-ap.de/def/politicalGeocoding/districtKey/07211> ;
  dct:publisher [ foaf:name "Stadtverwaltung" ] .
<https://example.org/named> a dcat:Dataset ; dct:title "Literal" ; dct:publisher "Stadt Mainz" .
"""
    )
    (server.root / "dcat" / "places.ttl").write_text(page, encoding="utf-8")
    found = {d.title: d for d in listing(server, fetcher, "places.ttl")}
    geo = "http://dcat-ap.de/def/politicalGeocoding/"
    trier, bremen, old, named = (found[t] for t in ("Trier", "Bremen", "Old namespace", "Literal"))
    assert trier.political_geocoding == [f"{geo}municipalityKey/07211000", f"{geo}stateKey/07"]
    assert trier.political_geocoding_level == f"{geo}Level/municipality"
    assert (trier.publisher, trier.publisher_uri) == (
        "Stadt Trier",
        "https://daten.rlp.de/organization/stadt_trier",
    )
    assert bremen.political_geocoding == [f"{geo}regionalKey/040110000000"]
    assert (bremen.publisher, bremen.publisher_uri) == (None, "https://www.bremen.de")
    assert old.political_geocoding == [f"{geo}districtKey/07211"]
    assert (old.publisher, old.publisher_uri) == ("Stadtverwaltung", None)
    assert (named.publisher, named.publisher_uri) == ("Stadt Mainz", None)
    assert all(d.notes == [] for d in found.values())


BAD_LITERALS = """\
<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">
  <dcat:Catalog rdf:about="https://example.org/catalog">
    <dct:issued rdf:datatype="http://www.w3.org/2001/XMLSchema#dateTime">gestern</dct:issued>
    <dcat:dataset>
      <dcat:Dataset rdf:about="https://example.org/ds/parken">
        <dct:title xml:lang="de_DE">Parkhäuser</dct:title>
        <dct:modified rdf:datatype="http://www.w3.org/2001/XMLSchema#date">2023-13-45</dct:modified>
        <dct:issued rdf:datatype="http://www.w3.org/2001/XMLSchema#date">2023-01-05</dct:issued>
        <dcat:distribution>
          <dcat:Distribution rdf:about="https://example.org/ds/parken/csv">
            <dcat:downloadURL rdf:resource="https://example.org/parken.csv"/>
            <dcat:byteSize rdf:datatype="http://www.w3.org/2001/XMLSchema#integer">12 kB</dcat:byteSize>
          </dcat:Distribution>
        </dcat:distribution>
      </dcat:Dataset>
    </dcat:dataset>
    <dcat:dataset>
      <dcat:Dataset rdf:about="https://example.org/ds/clean">
        <dct:title>Sauber</dct:title>
      </dcat:Dataset>
    </dcat:dataset>
  </dcat:Catalog>
</rdf:RDF>
"""


def test_bad_literals_are_notes_of_their_dataset_not_output(server, fetcher, capfd, caplog):
    """rdflib's tracebacks for a bad literal become plain notes on the dataset that holds it;
    one outside every dataset becomes a note of the page. Nothing reaches stderr or the log."""
    (server.root / "dcat" / "bad.rdf").write_text(BAD_LITERALS, encoding="utf-8")
    found = read_all(server, fetcher, "bad.rdf")
    assert found.complete
    parken, clean = (
        by_guid(found.datasets)[f"dcat:127.0.0.1:{server_uri}"]
        for server_uri in ("https://example.org/ds/parken", "https://example.org/ds/clean")
    )
    assert parken.title == "Parkhäuser"  # the invalid language tag costs the tag, not the title
    assert (parken.modified, parken.issued) == (None, "2023-01-05")
    assert parken.notes == [
        ("bad-literal", "dcat:byteSize: '12 kB' is not a valid xsd:integer, left out"),
        ("bad-literal", "dct:modified: '2023-13-45' is not a valid xsd:date, left out"),
        ("bad-literal", "dct:title: the language tag 'de_DE' is not valid, read as 'de-DE'"),
    ]
    assert clean.notes == []
    assert [(n["code"], n["message"].split(": ", 1)[1]) for n in found.notes] == [
        ("bad-literal", "dct:issued: 'gestern' is not a valid xsd:dateTime, left out")
    ]
    assert "outside any dataset" in found.notes[0]["message"]
    assert capfd.readouterr().err == ""
    assert not [r for r in caplog.records if r.name.startswith("rdflib")]


def test_library_messages_are_held_back_only_while_parsing(caplog, monkeypatch):
    """The rdflib log is silenced for the parse alone, not for the process."""
    from vierstaedte_harvest.sources.dcat import _library_messages

    # CKAN's logging setup (loaded by other tests of the run) disables existing loggers
    monkeypatch.setattr(logging.getLogger("rdflib.term"), "disabled", False)

    with _library_messages() as said:
        rdflib.Graph().parse(
            data='<http://x/a> <http://purl.org/dc/terms/modified> "2023-13-45"'
            "^^<http://www.w3.org/2001/XMLSchema#date> .",
            format="turtle",
        )
    assert len(said) == 1 and said[0].startswith("rdflib: Failed to convert Literal")
    assert not caplog.records
    rdflib.Literal("2023-13-45", datatype=rdflib.XSD.date)  # outside a parse: rdflib logs it
    assert [r.name for r in caplog.records] == ["rdflib.term"]
