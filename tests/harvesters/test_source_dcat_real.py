"""Real catalogues of other cities, read with their frequency, geocoding and publisher as they say.

The expected values are read from each file here, independently of the reader: with
ElementTree over the flat ``rdf:Description`` layout of the CKAN exports (Rostock, Bremen),
and written out by hand for the nested ones (Alessandria, the DCAT-AP.de reference example).
Provenance: ``tests/harvesters/fixtures/real/SOURCES.md`` and ``../shared/fixtures/real/``.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from demo.replay import ReplayServer
from vierstaedte_harvest.sources import read
from vierstaedte_harvest.sources.dcat import Settings

OWN = Path(__file__).parent / "fixtures" / "real"
BREMEN = "dcat_bremen_transparenz_catalog.rdf"
ALESSANDRIA = "dcat_alessandria_comune_catalog.rdf"
ROSTOCK = "dcat_rostock_opendata-hro_catalog_page1.rdf"
REFERENCE = "dcat_ap_de_2.0_reference_example_advanced.ttl"
FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
GEO = "http://dcat-ap.de/def/politicalGeocoding/"
RDF_NS = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
NS = {
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "locn": "http://www.w3.org/ns/locn#",
}
DATASET = "http://www.w3.org/ns/dcat#Dataset"


@pytest.fixture
def catalogue(tmp_path, real_fixture, fetcher):
    """Read one real file as the catalogue at a replay server: its listing."""
    root = tmp_path / "replay"
    (root / "dcat").mkdir(parents=True)

    def listing(name: str):
        source = OWN / name if (OWN / name).exists() else real_fixture(name)
        shutil.copy(source, root / "dcat" / name)
        with ReplayServer(root) as server:
            return read("dcat", fetcher, Settings(url=f"{server.base}/dcat/{name}"))

    return listing


def descriptions(path: Path) -> dict[str, ET.Element]:
    """``rdf:Description`` elements by their ``rdf:about`` or ``rdf:nodeID``."""
    found = {}
    for element in ET.parse(path).getroot().iter(f"{RDF_NS}Description"):
        key = element.get(f"{RDF_NS}about") or element.get(f"{RDF_NS}nodeID")
        found[key] = element
    return found


def resources(element: ET.Element, tag: str) -> list[str]:
    return [e.get(f"{RDF_NS}resource") for e in element.findall(tag, NS)]


def as_stated(path: Path) -> dict[str, dict]:
    """Per dataset (its dct:identifier, else its URI): frequency, geocoding URIs, level,
    publisher (name, URI), as written."""
    nodes = descriptions(path)
    stated = {}
    for about, element in nodes.items():
        if DATASET not in resources(element, f"{RDF_NS}type"):
            continue
        geocoding = [
            uri
            for e in element
            if e.tag.endswith("politicalGeocodingURI")
            for uri in [e.get(f"{RDF_NS}resource")]
        ]
        for place in element.findall("dct:spatial", NS):  # Bremen: a location node
            location = nodes[place.get(f"{RDF_NS}nodeID")]
            geocoding += resources(location, "locn:adminUnitL2")
        levels = [e.get(f"{RDF_NS}resource") for e in element if e.tag.endswith("LevelURI")]
        [publisher] = resources(element, "dct:publisher")
        stated[element.findtext("dct:identifier", None, NS) or about] = {
            "uri": about,
            "frequency": (resources(element, "dct:accrualPeriodicity") or [None])[0],
            "geocoding": geocoding,
            "level": (levels or [None])[0],
            "publisher": (nodes[publisher].findtext("foaf:name", None, NS), publisher),
        }
    return stated


def canonical(uri: str | None) -> str | None:
    """The one spelling the portal uses: DCAT-AP.de's http:// host; the EU code of IRREG."""
    if uri is None:
        return None
    uri = uri.replace("https://www.dcat-ap.de/", "http://dcat-ap.de/")
    return uri.replace(f"{FREQUENCY}IRREGULAR", f"{FREQUENCY}IRREG")


@pytest.mark.parametrize(
    "name, host, datasets, frequencies",
    [
        # counted in the file: grep -c accrualPeriodicity … per value
        (
            BREMEN,
            "https://www.transparenz.bremen.de/",
            153,
            {"ANNUAL": 76, "DAILY": 48, "IRREG": 14, "QUARTERLY": 8, "MONTHLY": 7},
        ),
        (ROSTOCK, "https://www.opendata-hro.de/", 100, {None: 100}),  # it states none
    ],
)
def test_every_dataset_of_a_flat_ckan_export(
    catalogue, real_fixture, name, host, datasets, frequencies
):
    path = OWN / name if (OWN / name).exists() else real_fixture(name)
    stated = as_stated(path)
    assert len(stated) == datasets
    found = {d.guid.removeprefix("dcat:127.0.0.1:"): d for d in catalogue(name).datasets}
    assert set(found) == set(stated)
    for uri, expected in stated.items():
        dataset = found[uri]
        assert expected["uri"].startswith(host)
        assert dataset.frequency == canonical(expected["frequency"]), uri
        assert dataset.political_geocoding == sorted(map(canonical, expected["geocoding"])), uri
        assert dataset.political_geocoding_level == canonical(expected["level"]), uri
        assert (dataset.publisher, dataset.publisher_uri) == expected["publisher"], uri
    counted = Counter(d.frequency and d.frequency.removeprefix(FREQUENCY) for d in found.values())
    assert counted == frequencies


def test_bremen_geocoding_and_publisher(catalogue):
    """transparenz.bremen.de: the regional key in dct:spatial/locn:adminUnitL2, the publisher
    an IRI with a foaf:name; one catalogue date it cannot parse, reported as the page's."""
    found = catalogue(BREMEN)
    assert found.complete and len(found.datasets) == 153
    assert {tuple(d.political_geocoding) for d in found.datasets} == {
        (f"{GEO}regionalKey/040110000000",)
    }
    assert {(d.publisher, d.publisher_uri) for d in found.datasets} == {
        ("Freie und Hansestadt Bremen", "https://www.bremen.de")
    }
    assert [note["code"] for note in found.notes] == ["bad-literal"]
    assert found.notes[0]["message"].endswith(
        "dct:modified: '2021-01-28 GMT 01:51:03.34919300' is not a valid xsd:dateTime, left out"
    )
    law = next(d for d in found.datasets if d.name == "bremen2014_tp-c-54797-de")
    assert law.frequency == f"{FREQUENCY}DAILY"
    irregular = next(d for d in found.datasets if d.name == "bremen65-c-41604-de")
    assert irregular.frequency == f"{FREQUENCY}IRREG"  # the file says …/frequency/IRREGULAR


def test_alessandria_dcat_ap_it(catalogue):
    """Comune di Alessandria (DCAT-AP_IT): every dataset ANNUAL; the publisher a blank node with
    a foaf:name, so a name without URI; no DCAT-AP.de geocoding."""
    found = catalogue(ALESSANDRIA)
    assert found.complete
    assert sorted(d.guid for d in found.datasets) == [
        f"dcat:127.0.0.1:c_a182:{name}"
        for name in (
            "alberi",
            "ingressi-biblioteca",
            "numeri-civici",
            "segnalazioni-municipium",
            "viario",
        )
    ]
    for dataset in found.datasets:
        assert dataset.frequency == f"{FREQUENCY}ANNUAL"
        assert (dataset.publisher, dataset.publisher_uri) == ("Comune di Alessandria", None)
        assert dataset.political_geocoding == [] and dataset.political_geocoding_level is None
        assert dataset.notes == []
    assert found.notes == []


def test_dcat_ap_de_reference_example(catalogue):
    found = catalogue(REFERENCE)
    assert found.complete
    by_title = {d.title: d for d in found.datasets}
    assert set(by_title) == {"Badegewässer in Hamburg", "Gebietsgrenzen Polizeikommissariate"}
    water, police = (
        by_title["Badegewässer in Hamburg"],
        by_title["Gebietsgrenzen Polizeikommissariate"],
    )
    assert water.frequency is None  # the example gives it only for the second dataset
    assert police.frequency == f"{FREQUENCY}MONTHLY"
    for dataset in (water, police):
        assert dataset.political_geocoding == [f"{GEO}stateKey/02"]
        assert dataset.political_geocoding_level == f"{GEO}Level/state"
    assert (water.publisher, water.publisher_uri) == (
        "Behörde für Umwelt und Energie (BUE), Amt für Umweltschutz",
        "http://www.hamburg.de/bue/#publisher",
    )
    assert (police.publisher, police.publisher_uri) == (
        "Behörde für Inneres und Sport, Polizei Hamburg",
        "https://www.hamburg.de/innenbehoerde/#publisher",
    )
