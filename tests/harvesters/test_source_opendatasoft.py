"""Opendatasoft Explore API v2.1 reader against the replay server: mapping, export URL, paging, faults.

Two real records (tests/harvesters/fixtures/real/, provenance in SOURCES.md there) check that
every catalogue field a portal fills reaches the dataset instead of a config default.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from demo.replay import ReplayServer
from vierstaedte_harvest import metadata
from vierstaedte_harvest.sources import SourceError, read, reader
from vierstaedte_harvest.sources.opendatasoft import Settings, dataset, list_datasets

PAYLOADS = Path(__file__).parent / "payloads" / "ods"
REAL = Path(__file__).parent / "fixtures" / "real"
THEME = "http://publications.europa.eu/resource/authority/data-theme/"
FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
GEO = "http://dcat-ap.de/def/politicalGeocoding/"
CATALOG = "/ods/api/explore/v2.1/catalog/datasets"


@pytest.fixture
def server(tmp_path):
    shutil.copytree(PAYLOADS, tmp_path / "ods")
    replay = ReplayServer(tmp_path).start()
    yield replay
    replay.stop()


def listing(server, fetcher, **config):
    """The datasets of a listing that must be complete (iterating raises SourceError otherwise)."""
    return list(reader("opendatasoft")(fetcher, Settings(url=f"{server.base}/ods/", **config)))


def add_generated(server, count):
    """``count`` more datasets as a portal returns them, sorted after the recorded ones."""
    for number in range(count):
        item = {
            "dataset_id": f"zz-generiert-{number:03d}",
            "has_records": True,
            "data_visible": True,
            "metas": {
                "default": {
                    "title": f"Generierter Datensatz {number}",
                    "modified": "2024-01-01T00:00:00+00:00",
                }
            },
        }
        (server.root / "ods" / "datasets" / f"zz-generiert-{number:03d}.json").write_text(
            json.dumps(item)
        )


def catalogue_queries(server):
    return [
        parse_qs(urlsplit(path).query) for _, path in server.log if urlsplit(path).path == CATALOG
    ]


def test_mapping_of_recorded_payloads(server, fetcher):
    population, budget, polling = listing(server, fetcher)
    assert population.guid == "ods:127.0.0.1:bevoelkerung-nach-stadtteilen"
    assert population.name == "bevoelkerung-nach-stadtteilen"
    assert population.title == "Bevölkerung nach Stadtteilen"
    assert population.description.startswith("<p>Einwohnerinnen und Einwohner")  # HTML kept as text
    assert population.tags == ["Einwohner", "Stadtteile", "Bevölkerung"]
    # an EU theme's German label is converted; the portal's own theme is reported, not lost
    assert population.themes == [THEME + "REGI"]
    assert ("field-left-out", "theme 'Bevölkerung' is no EU data theme, left out") in (
        population.notes
    )
    assert population.frequency == FREQUENCY + "ANNUAL"  # metas.dcat.accrualperiodicity
    assert population.spatial_granularity == "stadtteil"  # metas.dcat.granularity "Stadtteil"
    assert (
        population.license == "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
    )  # license_url, canonicalised
    assert population.modified == "2024-03-12T09:41:27+00:00"
    assert population.issued == "2019-05-06T00:00:00+00:00"
    assert (population.temporal_start, population.temporal_end) == (
        "2015-12-31T00:00:00+00:00",
        "2023-12-31T00:00:00+00:00",
    )
    assert population.publisher == "Stadt Koblenz – Kommunalstatistik"
    assert (population.contact_name, population.contact_email) == (
        "Kommunalstatistik und Stadtforschung",
        "statistik@stadt.koblenz.de",
    )
    assert (
        population.landing_page
        == f"{server.base}/ods/explore/dataset/bevoelkerung-nach-stadtteilen/"
    )
    [export] = population.resources
    assert (
        export.url
        == f"{server.base}{CATALOG}/bevoelkerung-nach-stadtteilen/exports/csv?delimiter=%3B"
    )
    assert (export.format, export.id, export.modified) == (
        "CSV",
        "bevoelkerung-nach-stadtteilen/exports/csv",
        "2024-03-12T09:41:31+00:00",
    )
    assert budget.resources == []  # has_records false: a document-only dataset has no export
    assert (budget.tags, budget.issued) == (["Haushalt"], None)
    assert budget.license == "http://dcat-ap.de/def/licenses/cc-by/4.0"  # "CC BY 4.0"
    assert (polling.description, polling.tags, polling.themes) == ("", [], [])
    assert (polling.frequency, polling.spatial_granularity) == (None, None)
    assert polling.license == "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"  # its URL


def test_export_url_serves_the_csv(server, fetcher):
    [export] = listing(server, fetcher)[0].resources
    body, content_type = fetcher.get_bytes(export.url)
    assert content_type == "text/csv"
    assert body.decode().splitlines()[:2] == ["stadtteil;jahr;einwohner", "Altstadt;2023;5120"]


def test_paging_until_total_count(server, fetcher):
    add_generated(server, 150)
    datasets = listing(server, fetcher)
    assert len(datasets) == 153
    assert len({d.guid for d in datasets}) == 153
    assert datasets[-1].title == "Generierter Datensatz 149"
    assert [(q["limit"], q["offset"], q["order_by"]) for q in catalogue_queries(server)] == [
        (["100"], ["0"], ["dataset_id"]),
        (["100"], ["100"], ["dataset_id"]),
    ]


def test_complete_listing_says_how_it_knows(server, fetcher):
    add_generated(server, 150)
    found = read("opendatasoft", fetcher, Settings(url=f"{server.base}/ods"))
    assert found.complete and found.proof == "all 153 of total_count 153 on 2 pages"


def test_portal_that_ignores_offset_is_incomplete(server, fetcher):
    add_generated(server, 150)
    params = {"order_by": "dataset_id", "limit": 100, "offset": 0}
    first = fetcher.get_json(f"{server.base}{CATALOG}", params=params)
    server.faults[CATALOG] = {
        "query": {"offset": 100},
        "body": json.dumps(first).encode(),
        "content_type": "application/json",
    }
    found = read("opendatasoft", fetcher, Settings(url=f"{server.base}/ods"))
    assert not found.complete and len(found.datasets) == 100
    assert "repeated-ids" in [gap["code"] for gap in found.gaps]
    with pytest.raises(SourceError):
        listing(server, fetcher)


def test_where_and_refine_are_passed_through(server, fetcher):
    listing(
        server,
        fetcher,
        where="modified >= date'2024-01-01'",
        refine=["theme:Bevölkerung", "territory:Koblenz"],
    )
    [query] = catalogue_queries(server)
    assert query["where"] == ["modified >= date'2024-01-01'"]
    assert query["refine"] == ["theme:Bevölkerung", "territory:Koblenz"]


def test_500_raises(server, fetcher):
    server.faults[CATALOG] = {"status": 500}
    with pytest.raises(
        SourceError,
        match=r"listing page 1 of \S+/ods/api/explore/v2\.1/catalog/datasets .*HTTP 500",
    ):
        listing(server, fetcher)


def test_500_on_page_2_raises_after_page_1(server, fetcher):
    add_generated(server, 150)
    datasets = list_datasets(fetcher, Settings(url=f"{server.base}/ods"))
    next(datasets)
    server.faults[CATALOG] = {"status": 500}
    with pytest.raises(SourceError, match=r"listing page 2 of .*HTTP 500"):
        list(datasets)


def test_total_count_changing_while_paging_raises(server, fetcher):
    add_generated(server, 150)
    datasets = list_datasets(fetcher, Settings(url=f"{server.base}/ods"))
    next(datasets)
    add_generated(server, 160)
    with pytest.raises(SourceError, match="total_count changed from 153 to 163"):
        list(datasets)


def test_max_pages(server, fetcher):
    add_generated(server, 150)
    with pytest.raises(SourceError, match="more than 1 pages of 100 datasets"):
        listing(server, fetcher, max_pages=1)


@pytest.mark.parametrize(
    "body, content_type, message",
    [
        (
            b"<!DOCTYPE html><html><body>Wartung</body></html>",
            "text/html",
            "expected JSON, got an HTML page",
        ),
        (
            b'{"total_count": 5, "results": []}',
            "application/json",
            "page 1 is empty after 0 of 5 datasets",
        ),
        (
            b'{"error_code": "ODSQLError", "message": "Unknown field"}',
            "application/json",
            "did not answer like the Opendatasoft Explore API",
        ),
        (
            b'{"total_count": 1, "results": [{"metas": {}}]}',
            "application/json",
            "a result without a dataset_id",
        ),
    ],
)
def test_bad_answers_raise(server, fetcher, body, content_type, message):
    server.faults[CATALOG] = {"body": body, "content_type": content_type}
    with pytest.raises(SourceError, match=message):
        listing(server, fetcher)


def serve_real(server, name: str) -> dict:
    """A real record from fixtures/real as the portal's only dataset; a v2.0 lookup answer
    (``{"dataset": …}``) holds the same record as a v2.1 catalogue result."""
    record = json.loads((REAL / name).read_text(encoding="utf-8"))
    record = record.get("dataset", record)
    for old in (server.root / "ods" / "datasets").glob("*.json"):
        old.unlink()
    (server.root / "ods" / "datasets" / f"{record['dataset_id']}.json").write_text(
        json.dumps(record)
    )
    return record


def portal_dict(source, defaults=None):
    problems, defaulted = [], []
    data = metadata.dataset_dict(
        source,
        "koblenz",
        {"frequency": "ANNUAL", "themes": ["SOCI"]} if defaults is None else defaults,
        "n",
        None,
        problems,
        defaulted,
    )
    return data, problems, {d["field"] for d in defaulted}


def test_a_real_record_s_dcat_fields_win_over_the_config_s_defaults(server, fetcher):
    """odwb.be (Opendatasoft): metas.dcat says daily, 2020–2022, a contact; the config says
    ANNUAL. Before, frequency and contact were never read and 2020/2022 were lost."""
    serve_real(server, "ods_v2.0_dataset_odwb_collecte-de-sang.json")
    [blood] = listing(server, fetcher)
    assert blood.name == "collecte-de-sang-centre-de-prelevement-fixes"
    assert blood.title == "Tous les lieux de collecte de sang en Région wallonne et à Bruxelles"
    assert blood.frequency == FREQUENCY + "DAILY"  # "daily"
    assert (blood.temporal_start, blood.temporal_end) == ("2020-01-01", "2022-12-31")
    assert blood.contact_name == "Thomas Paulus 084 32 16 00 pendant les heures d'ouverture."
    assert blood.contact_email == "sfs.communication@croix-rouge.be"
    assert blood.publisher == "Croix-rouge de Belgique - Service du sang"
    assert blood.tags[:2] == ["Centre de prélèvement", "Sang"] and len(blood.tags) == 6
    assert blood.modified == "2024-08-29T08:09:20.651000+00:00"
    assert blood.resources[0].modified == "2024-08-29T08:09:20.651000+00:00"  # data_processed
    # "Qualité de Vie" is the portal's own theme; the licence name and URL disagree
    assert blood.themes == []
    codes = dict(blood.notes)
    assert "Qualité de Vie" in codes["field-left-out"]
    assert blood.license == "http://dcat-ap.de/def/licenses/cc-by"  # license_url …/cc-by/
    assert "'Creative Commons - CC0'" in codes["licence-unconfirmed"]
    data, problems, defaulted = portal_dict(blood)
    assert data["frequency"] == FREQUENCY + "DAILY"
    assert (data["temporal_start"], data["temporal_end"]) == ("2020-01-01", "2022-12-31")
    assert data["contact"] == [
        {"name": blood.contact_name, "email": "sfs.communication@croix-rouge.be"}
    ]
    assert "frequency" not in defaulted and "theme" in defaulted


def test_a_real_v2_1_record_with_empty_templates_is_defaulted_and_says_so(server, fetcher):
    """pndb.fr (Opendatasoft, v2.1 record): metas.dcat and metas.dcat_ap hold only nulls."""
    serve_real(server, "ods_v2.1_dataset_pndb_molecular-dynamics.json")
    [record] = listing(server, fetcher)
    assert record.title == "Molecular dynamics data for UDG enzyme"
    assert record.tags == [  # the portal's keywords start with a blank
        "INRAE",
        "Glycoside Hydrolases",
        "Molecular Dynamics Simulation",
        "uracil-DNA glycosylase",
    ]
    assert record.publisher == "SARAVANAN, Vinnarasi"
    assert record.issued == "2025-03-14"  # metas.dcat.created
    assert (record.frequency, record.contact_email, record.temporal_start) == (None, None, None)
    assert record.resources == []  # has_records: false
    assert record.license == "https://spdx.org/licenses/etalab-2.0.html"  # as given: reported
    data, _, defaulted = portal_dict(record)
    assert data["frequency"] == FREQUENCY + "ANNUAL"
    assert {"frequency", "theme", "spatial_granularity"} <= defaulted


def record(**metas) -> dict:
    return {"dataset_id": "d", "has_records": True, "metas": metas}


def read_record(**metas):
    return dataset(record(**metas), "https://ods.example", "ods.example")


@pytest.mark.parametrize(
    "given, expected",
    [
        ("annually", "ANNUAL"),
        ("biannually", "ANNUAL_2"),
        ("asNeeded", "IRREG"),
        ("notPlanned", "NEVER"),
        ("jährlich", "ANNUAL"),
        ("MONTHLY", "MONTHLY"),
        ("https://publications.europa.eu/resource/authority/frequency/WEEKLY/", "WEEKLY"),
    ],
)
def test_frequencies_as_portals_write_them(given, expected):
    assert read_record(dcat={"accrualperiodicity": given}).frequency == FREQUENCY + expected


def test_a_frequency_the_portal_cannot_hold_is_passed_on_and_reported_not_replaced():
    source = read_record(dcat={"accrualperiodicity": "fortnightly"})
    assert source.frequency == "fortnightly"
    data, problems, defaulted = portal_dict(source)
    assert ("field-left-out", "frequency: not an EU frequency, left out: 'fortnightly'") in (
        problems
    )
    assert "frequency" in defaulted


def test_dcat_ap_and_dcat_ap_de_templates_are_read():
    source = read_record(
        default={"title": "T"},
        dcat_ap={
            "accrualPeriodicity": "http://publications.europa.eu/resource/authority/frequency/"
            "QUARTERLY",
            "publisher_name": "Stadt X",
            "contact_email": "a@x.de",
            "temporal_startDate": "2021-03",
            "temporal_endDate": "2021-06",
            "theme": ["http://publications.europa.eu/resource/authority/data-theme/ECON"],
        },
        dcat_ap_de={
            "politicalGeocodingURI": GEO + "municipalityKey/07111000",
            "politicalGeocodingLevelURI": GEO + "Level/municipality",
            "publisherURI": "https://www.koblenz.de/",
        },
    )
    assert source.frequency == FREQUENCY + "QUARTERLY"
    assert (source.publisher, source.contact_email) == ("Stadt X", "a@x.de")
    assert (source.temporal_start, source.temporal_end) == ("2021-03-01", "2021-06-30")
    assert source.themes == [THEME + "ECON"]
    assert source.political_geocoding == [GEO + "municipalityKey/07111000"]
    assert source.political_geocoding_level == GEO + "Level/municipality"
    assert source.publisher_uri == "https://www.koblenz.de/"
    data, problems, defaulted = portal_dict(source)
    assert data["political_geocoding_uri"] == GEO + "municipalityKey/07111000"
    assert data["publisher"] == [{"name": "Stadt X", "uri": "https://www.koblenz.de/"}]
    assert not {"frequency", "theme", "political_geocoding_uri"} & defaulted


def test_a_geocoding_uri_in_dcat_spatial_is_read_a_place_name_is_not():
    assert read_record(dcat={"spatial": GEO + "districtKey/07111"}).political_geocoding == [
        GEO + "districtKey/07111"
    ]
    assert read_record(dcat={"spatial": "Koblenz"}).political_geocoding == []


def test_unreadable_values_are_reported_and_left_out():
    source = read_record(
        dcat={
            "temporal_coverage_start": "seit 2019",
            "temporal_coverage_end": "2020-13",
            "granularity": "Planquadrat",
        }
    )
    assert (source.temporal_start, source.temporal_end, source.spatial_granularity) == (
        None,
        None,
        None,
    )
    messages = " | ".join(text for _, text in source.notes)
    assert "'seit 2019'" in messages and "'2020-13'" in messages and "'Planquadrat'" in messages


def test_a_licence_name_and_url_naming_different_licences_is_a_conflict():
    source = read_record(
        default={
            "license": "CC BY 4.0",
            "license_url": "https://www.govdata.de/dl-de/zero-2-0",
        }
    )
    assert source.license == "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"
    [(code, message)] = source.notes
    assert code == "licence-conflict" and "cc-by/4.0" in message
