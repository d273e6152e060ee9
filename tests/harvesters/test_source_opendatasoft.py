"""Opendatasoft Explore API v2.1 reader against the replay server: mapping, export URL, paging, faults."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from demo.replay import ReplayServer
from vierstaedte_harvest.sources import SourceError, read, reader
from vierstaedte_harvest.sources.opendatasoft import Settings, list_datasets

PAYLOADS = Path(__file__).parent / "payloads" / "ods"
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
    assert population.themes == ["Bevölkerung", "Regionen und Städte"]
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
    assert population.extras == {"territory": ["Koblenz"]}
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
    assert (budget.tags, budget.license, budget.issued) == (["Haushalt"], "CC BY 4.0", None)
    assert (polling.description, polling.tags, polling.themes) == ("", [], [])
    assert polling.license == "https://www.govdata.de/dl-de/zero-2-0"


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
