"""A DCAT catalogue's own fields reach the portal; defaults fill only what it lacks, reported.

The Trier catalogue of the demo, changed the way real catalogues differ: a MONTHLY dataset
geocoded by its municipality key (the city's own geocoding is its regional key), and bad
literals where rdflib would print tracebacks. The real command publishes into the live CKAN.
"""

from __future__ import annotations

import pytest
import rdflib
import requests

from tests.harvesting import city_datasets, ok

FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
GEO = "http://dcat-ap.de/def/politicalGeocoding/"
TRIER_KEY = (
    '<dcatde:politicalGeocodingURI rdf:resource="https://www.dcat-ap.de/def/politicalGeocoding/'
    'regionalKey/072110000000"/>'
)
# the population dataset as a catalogue may say it: monthly, by municipality key
MONTHLY_BY_MUNICIPALITY = (
    '<dcatde:politicalGeocodingURI rdf:resource="https://www.dcat-ap.de/def/politicalGeocoding/'
    'municipalityKey/07211000"/>\n'
    f'<dct:accrualPeriodicity rdf:resource="{FREQUENCY}MONTHLY"/>'
)
# the council dataset: an issue date no calendar has; the catalogue: a date Bremen's really has
BAD_ISSUED = (
    "<dct:identifier>ortsbeiraete-trier</dct:identifier>\n"
    '<dct:issued rdf:datatype="http://www.w3.org/2001/XMLSchema#date">2023-13-45</dct:issued>'
)
BAD_CATALOGUE_DATE = (
    '<dct:modified rdf:datatype="http://www.w3.org/2001/XMLSchema#dateTime">'
    "2021-01-28 GMT 01:51:03.34919300</dct:modified>\n    <dcat:dataset>"
)


def _change_catalogue(replay) -> None:
    path = replay.root / "dcat" / "catalog.rdf"
    text = path.read_text(encoding="utf-8")
    for old, new in (
        (TRIER_KEY, MONTHLY_BY_MUNICIPALITY),
        ("<dct:identifier>ortsbeiraete-trier</dct:identifier>", BAD_ISSUED),
        ("<dcat:dataset>", BAD_CATALOGUE_DATE),
    ):
        assert text.count(old) >= 1, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")


@pytest.mark.usefixtures("with_plugins")
def test_the_catalogue_s_frequency_geocoding_and_publisher_are_published(harvest, replay, platform):
    _change_catalogue(replay)
    report = ok(harvest("trier"))
    datasets = city_datasets("trier")
    population = next(d for d in datasets.values() if d["title"].startswith("Bevölkerung"))
    assert population["frequency"] == FREQUENCY + "MONTHLY"  # not the config's ANNUAL
    assert population["political_geocoding_uri"] == GEO + "municipalityKey/07211000"
    assert population["political_geocoding_level_uri"] == GEO + "Level/municipality"
    assert population["publisher"] == [
        {"name": "Stadt Trier", "uri": "https://daten.rlp.de/organization/stadt_trier"}
    ]
    # …and so the portal's DCAT-AP.de serialisation says it too
    page = requests.get(f"{platform['url']}/dataset/{population['name']}.ttl", timeout=30)
    graph = rdflib.Graph().parse(data=page.text, format="turtle")
    dataset = next(graph.subjects(rdflib.RDF.type, rdflib.DCAT.Dataset))
    assert graph.value(dataset, rdflib.DCTERMS.accrualPeriodicity) == rdflib.URIRef(
        FREQUENCY + "MONTHLY"
    )

    entries = {e["ckan_name"]: e for e in report["datasets"]}
    assert entries[population["name"]]["defaulted"] == [
        {"field": "spatial_granularity", "value": "stadt", "by": "config"}
    ]  # everything else the catalogue said
    council = next(d for d in datasets.values() if d["title"].startswith("Ortsbeiräte"))
    assert council["frequency"] == FREQUENCY + "ANNUAL"  # it says none: the config's, reported
    assert council["political_geocoding_uri"] == GEO + "regionalKey/072110000000"  # the city's
    assert {d["field"]: d["by"] for d in entries[council["name"]]["defaulted"]} == {
        "frequency": "config",
        "political_geocoding_uri": "portal",
        "political_geocoding_level_uri": "portal",
        "spatial_granularity": "config",
    }


@pytest.mark.usefixtures("with_plugins")
def test_bad_literals_are_reported_in_plain_language_not_printed(harvest, replay):
    _change_catalogue(replay)
    done = harvest("trier")
    report = ok(done)
    for printed in ("Traceback", "rdflib", "Failed to convert", "Warning"):
        assert printed not in done.stderr, done.stderr
    council = next(e for e in report["datasets"] if e["title"].startswith("Ortsbeiräte"))
    assert {
        "code": "bad-literal",
        "message": "dct:issued: '2023-13-45' is not a valid xsd:date, left out",
    } in council["warnings"]
    [page] = report["listing"]["warnings"]
    assert page["code"] == "bad-literal"
    assert page["message"].endswith(
        "outside any dataset: dct:modified: '2021-01-28 GMT 01:51:03.34919300' is not a valid "
        "xsd:dateTime, left out"
    )
    population = next(e for e in report["datasets"] if e["title"].startswith("Bevölkerung"))
    assert "warnings" not in population
