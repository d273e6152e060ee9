"""One city's broken table or metadata must not break what the four cities share.

Each test publishes good tables of Mainz and Trier and one broken Mainz
dataset (a row without period, a table without the schema's columns, a table
that is gone, a table not validated or of an old schema version, a stored URL
with a space), then asks every shared output: the comparison page and its
CSV, the indicator actions, the tool API, the catalogue exports and the DCAT
catalogue. Each must answer 200 with the other tables' data and name what it
left out, in the real CKAN (in-process test app, real PostgreSQL/DataStore/Solr).
"""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa
from ckan import model
from ckan.lib import search
from ckan.tests.helpers import call_action
from rdflib import Graph

from tests.factories import HarvestedDataset, Metadata, Observation
from vierstaedte_contract.dataset import LINK, NORMALISED, ROLE_FIELD, resource_with_role

BAD = "mainz-kaputt"
BAD_TITLE = "Kaputte Tabelle"


def broken(*records: dict, **metadata) -> dict:
    """Mainz's broken table: the factory's dataset, with what a test breaks in it."""
    return HarvestedDataset(name=BAD, title=BAD_TITLE, records=list(records), **metadata)


@pytest.fixture
def good(clean_datastore, cities):
    """Population of Mainz and Trier in tables that keep the contract."""
    return {
        "mainz": HarvestedDataset(
            name="mainz-einwohner",
            title="Einwohner Mainz",
            records=[Observation(period="2023", value=222000)],
        ),
        "trier": HarvestedDataset(
            city="trier",
            name="trier-einwohner",
            title="Einwohner Trier",
            records=[Observation(city="trier", period="2023-12-31", value=111316)],
        ),
    }


def _datastore_engine():
    from ckanext.datastore.backend.postgres import get_write_engine

    return get_write_engine()


# --- the bad cases, each as observed ---------------------------------------------------------


def null_period():
    return broken(Observation(period="2022", value=221000), Observation(period=None, value=5))


def missing_columns():
    fields = [
        {"id": "city", "type": "text"},
        {"id": "indicator", "type": "text"},
        {"id": "wert", "type": "numeric"},
    ]
    return broken(
        {"city": "mainz", "indicator": "population_total", "wert": 1}, fields=fields, primary_key=[]
    )


def table_gone():
    published = broken(Observation(period="2022", value=221000))
    table = resource_with_role(published, NORMALISED)["id"]
    with _datastore_engine().begin() as connection:  # datastore_active stays true on the resource
        connection.execute(sa.text(f'DROP TABLE "{table}"'))
    assert call_action("resource_show", id=table)["datastore_active"] is True
    return published


def not_validated():
    return broken(Observation(period="2022", value=999999), validation_status="rejected")


def old_schema():
    return broken(Observation(period="2022", value=999999), table_schema_version="0.9.0")


BROKEN_TABLES = {
    "null_period": null_period,
    "missing_columns": missing_columns,
    "table_gone": table_gone,
    "not_validated": not_validated,
    "old_schema": old_schema,
}


# --- what every shared output must still do --------------------------------------------------


def _skipped_names(skipped: list[dict]) -> set[str]:
    assert all(entry["reason"] and entry["dataset_title"] for entry in skipped), skipped
    return {entry["dataset"] for entry in skipped}


def _no_internals(text: str) -> None:
    for leak in ("SELECT ", "statement", "psycopg", "Traceback", "does not exist", '"wert"'):
        assert leak not in text, (leak, text[:2000])


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize("case", BROKEN_TABLES)
def test_a_broken_table_costs_only_that_table(app, good, case):
    BROKEN_TABLES[case]()

    # the comparison page, for one other city and for all
    page = app.get("/vergleich", query_string={"cities": "trier"})
    assert page.status_code == 200, page.body[:3000]
    assert "111316" in page.body and BAD_TITLE in page.body
    page = app.get("/vergleich")
    assert (
        page.status_code == 200
        and "222000" in page.body
        and "111316" in page.body
        and BAD_TITLE in page.body
    )
    assert "999999" not in page.body
    _no_internals(page.body)

    download = app.get("/vergleich.csv")
    assert download.status_code == 200
    cells = [cell for line in csv.reader(io.StringIO(download.body)) for cell in line]
    assert "222000" in cells and "111316" in cells and "999999" not in cells
    assert BAD in download.headers["X-Vierstaedte-Skipped"]

    # the indicator actions
    listed = app.get("/api/3/action/vierstaedte_indicator_list").json["result"]
    population = next(i for i in listed["indicators"] if i["id"] == "population_total")
    assert [c["city"] for c in population["cities"]] == ["mainz", "trier"]
    assert _skipped_names(listed["skipped"]) == {BAD}
    answer = app.get(
        "/api/3/action/vierstaedte_indicator_query", query_string={"indicator": "population_total"}
    ).json["result"]
    assert [(r["city"], r["value"]) for r in answer["rows"]] == [
        ("mainz", 222000),
        ("trier", 111316),
    ]
    assert _skipped_names(answer["skipped"]) == {BAD}

    # the tool API
    assert app.get("/api/vierstaedte/tools.json").status_code == 200
    tool = app.post(
        "/api/3/action/vierstaedte_tool_query_indicator",
        json={"indicator": "population_total", "city": "mainz"},
    ).json["result"]
    assert [m["value"] for m in tool["results"]] == [222000]
    assert _skipped_names(tool["skipped"]) == {BAD}
    found = app.post(
        "/api/3/action/vierstaedte_tool_search_datasets", json={"query": "Tabelle"}
    ).json["result"]
    bad = next(r for r in found["results"] if r["name"] == BAD)
    assert bad["indicators"] == [] and bad["table_skipped"]
    described = app.post("/api/3/action/vierstaedte_tool_describe_dataset", json={"id": BAD})
    assert described.status_code == 200
    assert described.json["result"]["table_skipped"] and described.json["result"]["periods"] == []
    _no_internals(described.body)

    # the catalogue exports
    lines = app.get("/katalog.jsonl").body.splitlines()
    records = {record["name"]: record for record in map(json.loads, lines)}
    assert set(records) == {"mainz-einwohner", "trier-einwohner", BAD}
    assert records["trier-einwohner"]["indicators"][0]["rows"] == 1
    assert records[BAD]["indicators"] == [] and records[BAD]["table_skipped"]
    assert records["trier-einwohner"]["table_skipped"] is None
    _no_internals("\n".join(lines))
    export = app.get("/api/3/action/vierstaedte_catalogue_export")
    assert export.status_code == 200 and len(export.json["result"]["results"]) == 3
    package = app.get("/katalog/datapackage.json").json
    assert [r["name"] for r in package["resources"]] == ["mainz-einwohner", "trier-einwohner"]
    assert _skipped_names(package["skipped"]) == {BAD}


@pytest.mark.usefixtures("with_plugins")
def test_each_row_is_checked_against_the_contract(app, good):
    """A row whose enumeration or pattern breaks the schema skips its table, as a missing period."""
    broken(Observation(period="2022", value=221000, value_status="geschätzt"))
    answer = app.get(
        "/api/3/action/vierstaedte_indicator_query", query_string={"indicator": "population_total"}
    ).json["result"]
    assert [r["value"] for r in answer["rows"]] == [222000, 111316]
    (skipped,) = answer["skipped"]
    assert skipped["dataset"] == BAD and "value_status" in skipped["reason"]
    assert "Kaputte Tabelle" in app.get("/vergleich").body


# --- URLs ------------------------------------------------------------------------------------


def _store_unchecked(dataset: dict, **extras: str) -> None:
    """Write metadata straight to the database, as data stored before the URL check would be."""
    package = model.Package.get(dataset["id"])
    package.extras = {**package.extras, **extras}
    model.repo.commit()
    search.rebuild(dataset["id"])


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize("url", ["https://www.mainz.de/kontakt seite", "javascript:alert(1)"])
def test_a_stored_bad_url_does_not_break_the_dcat_catalogue(app, good, url):
    dataset = broken(Observation(period="2022", value=221000))
    _store_unchecked(
        dataset,
        contact=json.dumps([{"name": "Statistik", "email": "s@example.org", "url": url}]),
        source_url=url,
    )
    for path, rdf_format in (
        ("/catalog.ttl", "turtle"),
        ("/catalog.rdf", "xml"),
        ("/catalog.xml", "xml"),
        ("/catalog.jsonld", "json-ld"),
        (f"/dataset/{BAD}.ttl", "turtle"),
        (f"/dataset/{BAD}.rdf", "xml"),
    ):
        response = app.get(path)
        assert response.status_code == 200, (path, response.body[:2000])
        graph = Graph().parse(data=response.body, format=rdf_format)
        objects = {str(o) for o in graph.objects()}
        assert url not in objects, path
        assert any(dataset["id"] in str(s) for s in graph.subjects()), (
            path
        )  # the dataset stays, without the bad URL
    for path in ("/catalog.ttl", "/katalog.jsonl", "/katalog/datapackage.json"):
        assert "trier-einwohner" in app.get(path).body


BAD_URLS = [
    "https://www.mainz.de/kontakt seite",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://files.example.org/a.csv",
    "http://",
    "//example.org/a",
    "https://example.org/a\tb",
    "https://exa<mple>.org/",
    "http://example.org:99999/",
]


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
@pytest.mark.parametrize("url", BAD_URLS)
def test_the_api_refuses_bad_urls_in_every_url_field(app, city_editor, url):
    headers = {"Authorization": city_editor["token"]}
    payloads = {
        "source_url": Metadata(name="a-source", source_url=url),
        "contact": Metadata(name="a-contact", contact=[{"name": "A", "url": url}]),
        "publisher": Metadata(name="a-publisher", publisher=[{"name": "A", "uri": url}]),
    }
    for field, payload in payloads.items():
        response = app.post(
            "/api/3/action/package_create", json=payload, headers=headers, status=409
        )
        assert field in response.json["error"], (field, response.json)
    created = app.post("/api/3/action/package_create", json=Metadata(), headers=headers).json[
        "result"
    ]
    response = app.post(
        "/api/3/action/resource_create",
        headers=headers,
        status=409,
        json={"package_id": created["id"], "url": url, "name": "Link", ROLE_FIELD: LINK},
    )
    assert "url" in response.json["error"]


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_the_api_keeps_good_urls(app, city_editor):
    headers = {"Authorization": city_editor["token"]}
    payload = Metadata(
        source_url="https://daten.mainz.de/dataset/einwohner?x=1&y=%C3%A4#teil",
        contact=[{"name": "A", "url": "mailto:statistik@stadt.mainz.de"}],
        publisher=[{"name": "B", "uri": "http://www.mainz.de/"}],
    )
    created = app.post("/api/3/action/package_create", json=payload, headers=headers).json["result"]
    assert created["source_url"] == "https://daten.mainz.de/dataset/einwohner?x=1&y=%C3%A4#teil"
    assert created["contact"][0]["url"] == "mailto:statistik@stadt.mainz.de"


def test_the_harvester_drops_a_bad_landing_page_and_reports_it():
    from vierstaedte_harvest import metadata
    from vierstaedte_harvest.sources import SourceDataset

    for url in ("https://www.mainz.de/a b", "javascript:alert(1)", 'https://x.org/"><script>'):
        source = SourceDataset(guid="g1", name="einwohner", title="Einwohner", landing_page=url)
        problems: list[tuple[str, str]] = []
        data = metadata.dataset_dict(source, "mainz", {}, "mainz-einwohner", problems=problems)
        assert "source_url" not in data
        assert problems and problems[0][0] == "invalid-url" and "source_url" in problems[0][1]
    source = SourceDataset(
        guid="g1", name="einwohner", title="Einwohner", landing_page="https://www.mainz.de/a"
    )
    assert (
        metadata.dataset_dict(source, "mainz", {}, "mainz-einwohner")["source_url"]
        == "https://www.mainz.de/a"
    )


@pytest.mark.usefixtures("with_plugins")
def test_a_harvested_bad_url_is_left_out_and_reported(harvest, platform, replay):
    """The real harvester and the live portal: the dataset is published, its bad URLs are not."""
    from tests.harvesting import city_datasets, ok

    path = replay.root / "ckan" / "packages" / "einwohner-ortsbezirke-mainz.json"
    package = json.loads(path.read_text(encoding="utf-8"))
    package["url"] = 'https://www.mainz.de/statistik"><script>alert(1)</script>'
    package["resources"].append(
        {"url": "https://www.mainz.de/ein link", "name": "Kaputt", "format": "HTML"}
    )
    path.write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")

    run = ok(harvest("mainz"))
    entry = next(d for d in run["datasets"] if d["title"] == "Einwohner nach Ortsbezirken")
    assert entry["status"] == "added", entry
    assert [w["code"] for w in entry["warnings"]] == ["invalid-url", "invalid-url"]
    assert "source_url" in entry["warnings"][0]["message"]
    dataset = city_datasets("mainz")[entry["ckan_name"]]
    assert "source_url" not in dataset or "script" not in dataset["source_url"]
    assert all(" " not in r["url"] for r in dataset["resources"])
    assert dataset["validation_status"] == "valid"
