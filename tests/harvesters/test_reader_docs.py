"""The reader tables of docs/normalisation.md ("Catalogue fields: what each reader takes") are true.

Each reader runs, through the replay server as in a harvest, over a record that holds one
documented source field at a time: every field a row says the reader maps or converts must
arrive in that row's ``SourceDataset`` field and, where the row names one, in the portal's
field; every row whose last column says a default fills the field must show up in the run
report's ``defaulted`` list for a record without it; and every ``SourceDataset`` field needs
a row in every reader's table. A sample value is needed for each documented source field, so
a row added to the docs without a test fails here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from collections.abc import Iterator

import pytest
import yaml

from demo.replay import ReplayServer
from tests.harvesters.doctables import ROOT, marked_table
from vierstaedte_harvest import metadata
from vierstaedte_harvest.sources import SourceDataset, ckan, dcat, manifest, opendatasoft, reader

DOC = ROOT / "docs" / "normalisation.md"
READERS = ("ckan", "dcat", "opendatasoft", "manifest")
HOW = ("maps", "converts", "drops", "—")
THEME = "http://publications.europa.eu/resource/authority/data-theme/"
FREQ = "http://publications.europa.eu/resource/authority/frequency/"
GEO = "http://dcat-ap.de/def/politicalGeocoding/"
LIC = "http://dcat-ap.de/def/licenses/"
DEFAULTS = {
    "themes": ["SOCI"],
    "license": "dl-by-de/2.0",
    "frequency": "ANNUAL",
    "spatial_granularity": "stadt",
}


@dataclasses.dataclass(frozen=True)
class Row:
    reader: str
    portal: str  # a dotted path into the dataset dict, or "" (no portal field)
    attr: str  # the SourceDataset field, or "" (a row of dropped source fields)
    sources: tuple[str, ...]
    from_extras: frozenset[str]  # source fields marked ⁺: also read from a CKAN record's extras
    how: str
    missing: str

    def __str__(self) -> str:
        return f"{self.reader}:{self.attr or 'dropped'}"


def _code(cell: str) -> str:
    found = re.match(r"^`([^`]+)`$", cell)
    return found[1] if found else ""


def rows(name: str) -> list[Row]:
    table = marked_table(DOC, f"reader-fields: {name}")
    return [
        Row(
            name,
            _code(portal),
            _code(attr),
            tuple(re.findall(r"`([^`]+)`", sources)),
            frozenset(re.findall(r"`([^`]+)`⁺", sources)),
            how,
            missing,
        )
        for portal, attr, sources, how, missing in table
    ]


ALL = [row for name in READERS for row in rows(name)]
READ = [
    (row, field, via)
    for row in ALL
    if row.how.startswith(("maps", "converts"))
    for field in row.sources
    for via in ("record", "extras")
    if via == "record" or field in row.from_extras
]

# --- one record per reader, holding the given source fields --------------------------------


def _set(record: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    for part in parents:
        record = record.setdefault(part, {})
    record[last] = value


def read_ods(tmp_path, fetcher, given: dict) -> SourceDataset:
    item = {"dataset_id": "d", "has_records": True, "metas": {"default": {"title": "T"}}}
    for path, value in given.items():
        _set(item, path, value)
    (tmp_path / "ods" / "datasets").mkdir(parents=True)
    (tmp_path / "ods" / "datasets" / "d.json").write_text(json.dumps(item), encoding="utf-8")
    with serving(tmp_path) as server:
        settings = opendatasoft.Settings(url=f"{server.base}/ods")
        [found] = reader("opendatasoft")(fetcher, settings)
    return found


def read_manifest(tmp_path, fetcher, given: dict) -> SourceDataset:
    entry = {"id": "d", "title": "T", "files": [{"url": "https://www.koblenz.de/a.csv"}]}
    entry.update(given)
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump({"datasets": [entry]}, allow_unicode=True), encoding="utf-8")
    [found] = reader("manifest")(fetcher, manifest.Settings(path=str(path), city="koblenz"))
    return found


TTL_PREFIXES = """\
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix dcatde: <http://dcat-ap.de/def/dcatde/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix schema: <http://schema.org/> .
@prefix locn: <http://www.w3.org/ns/locn#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def read_dcat(tmp_path, fetcher, given: dict) -> SourceDataset:
    statements = ['dct:identifier "d"', 'dct:title "T"', *given.values()]
    page = TTL_PREFIXES + "<https://daten.example/d> a dcat:Dataset ;\n    "
    page += " ;\n    ".join(statements) + " .\n"
    (tmp_path / "dcat").mkdir()
    (tmp_path / "dcat" / "catalog.ttl").write_text(page, encoding="utf-8")
    with serving(tmp_path) as server:
        settings = dcat.Settings(url=f"{server.base}/dcat/catalog.ttl")
        [found] = reader("dcat")(fetcher, settings)
    return found


def read_ckan(tmp_path, fetcher, given: dict, via: str = "record") -> SourceDataset:
    package = {
        "id": "d",
        "name": "d",
        "title": "T",
        "type": "dataset",
        "organization": {"name": "stadt_mainz"},
        "resources": [],
        "extras": [],
    }
    for path, value in given.items():  # a sample of `contacts[autor].name` is all `contacts`
        key = re.split(r"[.\[]", path)[0]
        if via == "extras":  # as the OGD schema wrote them: lists and dicts JSON-encoded
            text = value if isinstance(value, str) else json.dumps(value)
            package["extras"].append({"key": key, "value": text})
        else:
            package[key] = value
    (tmp_path / "ckan" / "packages").mkdir(parents=True)
    (tmp_path / "ckan" / "packages" / "d.json").write_text(json.dumps(package), encoding="utf-8")
    with serving(tmp_path) as server:
        [found] = reader("ckan")(fetcher, ckan.Settings(url=f"{server.base}/ckan"))
    return found


@contextlib.contextmanager
def serving(root) -> Iterator[ReplayServer]:
    server = ReplayServer(root).start()
    try:
        yield server
    finally:
        server.stop()


READ_ONE = {
    "opendatasoft": read_ods,
    "manifest": read_manifest,
    "dcat": read_dcat,
    "ckan": read_ckan,
}

# --- a value for each documented source field, and what the SourceDataset then holds ----------
# (value, expected) per source field, or per (SourceDataset field, source field) where one source
# field feeds two rows differently; expected may be a dict by SourceDataset field

SAMPLES: dict[str, dict] = {
    "opendatasoft": {
        "dataset_id": ("d", {"guid": "ods:127.0.0.1:d", "name": "d", "landing_page": "/d/"}),
        "metas.default.title": ("Einwohner", "Einwohner"),
        "metas.default.description": ("<p>Je Stadtteil</p>", "<p>Je Stadtteil</p>"),
        "metas.default.keyword": (["Wahl"], "Wahl"),
        "metas.dcat_ap.keyword": (["Wahl"], "Wahl"),
        "metas.default.theme": (["Regionen und Städte"], THEME + "REGI"),
        "metas.dcat_ap.theme": ([THEME + "ECON"], THEME + "ECON"),
        "metas.default.license_url": ("https://www.govdata.de/dl-de/by-2-0", LIC + "dl-by-de/2.0"),
        "metas.default.license": ("CC BY 4.0", LIC + "cc-by/4.0"),
        "metas.dcat.temporal_coverage_start": ("2020", "2020-01-01"),
        "metas.dcat_ap.temporal_startDate": ("2021-06", "2021-06-01"),
        "metas.dcat.temporal_coverage_end": ("2020", "2020-12-31"),
        "metas.dcat_ap.temporal_endDate": ("2021-06", "2021-06-30"),
        "metas.dcat_ap_de.accrualPeriodicity": ("MONTHLY", FREQ + "MONTHLY"),
        "metas.dcat.accrualperiodicity": ("annually", FREQ + "ANNUAL"),
        "metas.dcat_ap.accrualPeriodicity": ("vierteljährlich", FREQ + "QUARTERLY"),
        "metas.default.update_frequency": ("weekly", FREQ + "WEEKLY"),
        "metas.dcat_ap_de.politicalGeocodingURI": (GEO + "municipalityKey/07111000",) * 2,
        "metas.dcat.spatial": (GEO + "districtKey/07111",) * 2,
        "metas.dcat_ap_de.politicalGeocodingLevelURI": (GEO + "Level/municipality",) * 2,
        "metas.default.publisher": ("Stadt Koblenz",) * 2,
        "metas.dcat_ap.publisher_name": ("Stadt Koblenz",) * 2,
        "metas.dcat_ap_de.publisherURI": ("https://www.koblenz.de/",) * 2,
        "metas.dcat.contact_name": ("Statistikstelle",) * 2,
        "metas.dcat_ap.contact_name": ("Statistikstelle",) * 2,
        "metas.dcat.contact_email": ("statistik@koblenz.de",) * 2,
        "metas.dcat_ap.contact_email": ("statistik@koblenz.de",) * 2,
        "metas.dcat.granularity": ("Stadtteil", "stadtteil"),
        "has_records": (True, "CSV"),
        "metas.default.data_processed": ("2024-02-01T00:00:00+00:00",) * 2,
        "metas.default.modified": ("2024-01-01T00:00:00+00:00",) * 2,
        "metas.dcat.issued": ("2019-05-06",) * 2,
        "metas.dcat.created": ("2019-05-02",) * 2,
    },
    "manifest": {
        "id": ("d", {"guid": "manifest:koblenz:d", "name": "d"}),
        "title": ("Einwohner",) * 2,
        "description": ("Je Stadtteil",) * 2,
        "tags": (["Wahl"], "Wahl"),
        "themes": (["SOCI"], "SOCI"),
        "license": ("dl-by-de/2.0",) * 2,
        "temporal_start": ("2023-01-01",) * 2,
        "temporal_end": ("2023-12-31",) * 2,
        "frequency": ("MONTHLY",) * 2,
        "geocoding": ([GEO + "municipalityKey/07111000"], GEO + "municipalityKey/07111000"),
        "geocoding_level": (GEO + "Level/municipality",) * 2,
        "publisher": ("Stadt Koblenz",) * 2,
        "publisher_uri": ("https://www.koblenz.de/",) * 2,
        "contact_name": ("Statistikstelle",) * 2,
        "contact_email": ("statistik@koblenz.de",) * 2,
        "landing_page": ("https://www.koblenz.de/statistik",) * 2,
        "spatial_granularity": ("stadtteil",) * 2,
        "files": ([{"url": "https://www.koblenz.de/a.xlsx"}], "XLSX"),
        "modified": ("2024-01-31",) * 2,
        "issued": ("2019-05-02",) * 2,
    },
    "dcat": {
        "dct:identifier": ('dct:identifier "d"', {"guid": "dcat:127.0.0.1:d", "name": "d"}),
        "dct:title": ('dct:title "Einwohner"@de', "Einwohner"),
        "dct:description": ('dct:description "Je Stadtteil"', "Je Stadtteil"),
        "dcat:keyword": ('dcat:keyword "Wahl"@de', "Wahl"),
        "dcat:theme": (f"dcat:theme <{THEME}ECON>", THEME + "ECON"),
        "dct:license": (f"dct:license <{LIC}dl-by-de/2.0>", LIC + "dl-by-de/2.0"),
        "dcat:distribution/dct:license": (
            "dcat:distribution [ dcat:downloadURL <https://www.trier.de/a.csv> ; "
            "dct:license <https://www.dcat-ap.de/def/licenses/cc-by/4.0> ]",
            LIC + "cc-by/4.0",
        ),
        "dct:temporal/dcat:startDate": (
            'dct:temporal [ dcat:startDate "2020-01-01"^^xsd:date ]',
            "2020-01-01",
        ),
        "dct:temporal/schema:startDate": (
            'dct:temporal [ schema:startDate "2021-01-01"^^xsd:date ]',
            "2021-01-01",
        ),
        "dct:temporal/dcat:endDate": (
            'dct:temporal [ dcat:endDate "2020-12-31"^^xsd:date ]',
            "2020-12-31",
        ),
        "dct:temporal/schema:endDate": (
            'dct:temporal [ schema:endDate "2021-12-31"^^xsd:date ]',
            "2021-12-31",
        ),
        "dct:accrualPeriodicity": (
            "dct:accrualPeriodicity <http://purl.org/cld/freq/monthly>",
            FREQ + "MONTHLY",
        ),
        "dcatde:politicalGeocodingURI": (
            f"dcatde:politicalGeocodingURI <{GEO}municipalityKey/07211000>",
            GEO + "municipalityKey/07211000",
        ),
        "dct:spatial": (f"dct:spatial <{GEO}districtKey/07211>", GEO + "districtKey/07211"),
        "dcatde:politicalGeocodingLevelURI": (
            f"dcatde:politicalGeocodingLevelURI <{GEO}Level/municipality>",
            GEO + "Level/municipality",
        ),
        ("publisher", "dct:publisher"): ('dct:publisher "Stadt Trier"', "Stadt Trier"),
        "dct:publisher/foaf:name": ('dct:publisher [ foaf:name "Stadt Trier" ]', "Stadt Trier"),
        ("publisher_uri", "dct:publisher"): (
            "dct:publisher <https://www.trier.de/>",
            "https://www.trier.de/",
        ),
        "dcat:contactPoint/vcard:fn": ('dcat:contactPoint [ vcard:fn "Statistik" ]', "Statistik"),
        "dcat:contactPoint/vcard:hasEmail": (
            "dcat:contactPoint [ vcard:hasEmail <mailto:statistik@trier.de> ]",
            "statistik@trier.de",
        ),
        "dcat:landingPage": (
            "dcat:landingPage <https://www.trier.de/statistik>",
            "https://www.trier.de/statistik",
        ),
        "dcat:distribution": (
            'dcat:distribution [ dcat:downloadURL <https://www.trier.de/a.csv> ; dct:format "CSV" ]',
            "https://www.trier.de/a.csv",
        ),
        "dct:modified": ('dct:modified "2024-01-31"^^xsd:date', "2024-01-31"),
        "dct:issued": ('dct:issued "2019-05-02"^^xsd:date', "2019-05-02"),
    },
    "ckan": {
        "id": ("d", {"guid": ":d"}),  # ckan:<host[:port]>:<id>
        "name": ("einwohner", "einwohner"),
        "title": ("Einwohner",) * 2,
        "notes": ("Je Ortsbezirk",) * 2,
        "tags": (["Wahl", {"name": "Bevölkerung"}], "Bevölkerung"),
        "theme": ([THEME + "SOCI"], THEME + "SOCI"),
        "license_id": ("dl-de-by-2.0",) * 2,
        "license_url": ("https://www.govdata.de/dl-de/by-2-0",) * 2,
        "terms_of_use.license_id": ({"license_id": "cc-by"}, "cc-by"),
        "terms_of_use.license_url": (
            {"license_url": "https://creativecommons.org/licenses/by/4.0/"},
            "https://creativecommons.org/licenses/by/4.0/",
        ),
        "temporal_start": ("2021-01-01",) * 2,
        "temporal_coverage_from": ("2019-01-01T00:00:00",) * 2,
        "temporal_end": ("2021-12-31",) * 2,
        "temporal_coverage_to": ("2019-12-31T00:00:00",) * 2,
        "frequency": ("jährlich", "ANNUAL"),
        "accrual_periodicity": ("quartalsweise", "QUARTERLY"),
        "accrualPeriodicity": (FREQ + "MONTHLY",) * 2,
        "update_frequency": ("weekly", "WEEKLY"),
        "politicalGeocodingURI": (GEO + "municipalityKey/07315000",) * 2,
        "political_geocoding_uri": (
            [GEO + "municipalityKey/07315000"],
            GEO + "municipalityKey/07315000",
        ),
        "spatial_reference.ags": (
            {"ags": "07315000", "text": "Mainz"},
            GEO + "municipalityKey/07315000",
        ),
        "ags": ("07315000", GEO + "municipalityKey/07315000"),
        "politicalGeocodingLevelURI": (GEO + "Level/municipality",) * 2,
        "political_geocoding_level_uri": (GEO + "Level/municipality",) * 2,
        "contacts[veroeffentlichende_stelle].name": (
            [
                {
                    "role": "veroeffentlichende_stelle",
                    "name": "Stadt Mainz",
                    "url": "https://www.mainz.de/",
                }
            ],
            {"publisher": "Stadt Mainz"},
        ),
        "contacts[veroeffentlichende_stelle].url": (
            [
                {
                    "role": "veroeffentlichende_stelle",
                    "name": "Stadt Mainz",
                    "url": "https://www.mainz.de/",
                }
            ],
            {"publisher_uri": "https://www.mainz.de/"},
        ),
        "publisher_name": ("Stadt Mainz",) * 2,
        "organization.title": ({"name": "stadt_mainz", "title": "Stadt Mainz"}, "Stadt Mainz"),
        ("publisher", "author"): ("Amt für Statistik",) * 2,
        "publisher_uri": ("https://www.mainz.de/",) * 2,
        "publisher_url": ("https://www.mainz.de/",) * 2,
        "contacts[ansprechpartner].name": (
            [{"role": "ansprechpartner", "name": "Statistik", "email": "statistik@stadt.mainz.de"}],
            {"contact_name": "Statistik"},
        ),
        "contacts[ansprechpartner].email": (
            [{"role": "ansprechpartner", "name": "Statistik", "email": "statistik@stadt.mainz.de"}],
            {"contact_email": "statistik@stadt.mainz.de"},
        ),
        "maintainer": ("Statistik",) * 2,
        "maintainer_email": ("statistik@stadt.mainz.de",) * 2,
        "contacts[autor].name": (
            [{"role": "autor", "name": "Statistik", "email": "statistik@stadt.mainz.de"}],
            {"contact_name": "Statistik"},
        ),
        "contacts[autor].email": (
            [{"role": "autor", "name": "Statistik", "email": "statistik@stadt.mainz.de"}],
            {"contact_email": "statistik@stadt.mainz.de"},
        ),
        ("contact_name", "author"): ("Amt für Statistik",) * 2,
        "author_email": ("statistik@stadt.mainz.de",) * 2,
        "url": ("https://www.mainz.de/statistik",) * 2,
        "resources": (
            [{"url": "https://www.mainz.de/a.csv", "format": "csv", "last_modified": "2024-01-02"}],
            "CSV",
        ),
        "metadata_modified": ("2024-01-31T10:00:00",) * 2,
        "metadata_created": ("2019-05-02T10:00:00",) * 2,
    },
}


def sample(row: Row, field: str):
    samples = SAMPLES[row.reader]
    found = samples.get((row.attr, field)) or samples.get(field)
    assert found, f"{row}: no sample value for the documented source field {field!r}"
    value, expected = found
    return value, expected[row.attr] if isinstance(expected, dict) else expected


def holds(got, expected) -> bool:
    if isinstance(got, list):
        flat = [
            v for item in got for v in (vars(item).values() if hasattr(item, "url") else [item])
        ]
        return expected in flat
    return got == expected or (isinstance(got, str) and str(expected) in got)


def at(data: dict, path: str):
    value = data
    for part in path.split("."):
        value = value[0] if isinstance(value, list) and value else value
        value = value.get(part) if isinstance(value, dict) else None
    return value


@pytest.mark.parametrize("row, field, via", READ, ids=lambda x: str(x) if isinstance(x, Row) else x)
def test_each_documented_source_field_arrives(tmp_path, fetcher, row, field, via):
    value, expected = sample(row, field)
    given = {field: value}
    if via == "extras":
        found = read_ckan(tmp_path, fetcher, given, via)
    else:
        found = READ_ONE[row.reader](tmp_path, fetcher, given)
    got = getattr(found, row.attr)
    assert holds(got, expected), f"{row} from {field}: {got!r}, expected {expected!r}"
    if row.portal:
        data = metadata.dataset_dict(found, "koblenz", {}, "n")
        assert at(data, row.portal), f"{row}: {row.portal} is not in the dataset: {data}"


MISSING = [row for row in ALL if "reported" in row.missing and row.portal]


@pytest.mark.parametrize("row", MISSING, ids=str)
def test_each_documented_default_is_reported(tmp_path, fetcher, row):
    found = READ_ONE[row.reader](tmp_path, fetcher, {})
    defaulted = []
    metadata.dataset_dict(found, "koblenz", DEFAULTS, "n", None, [], defaulted)
    assert row.portal in {entry["field"] for entry in defaulted}


@pytest.mark.parametrize("name", READERS)
def test_every_source_dataset_field_has_a_row(name):
    table = rows(name)
    assert {f.name for f in dataclasses.fields(SourceDataset)} <= {row.attr for row in table}
    assert [row for row in table if not row.how.startswith(HOW)] == []
