"""A source whose listing cannot be proven complete withdraws nothing, end to end.

Each case first publishes a city from a complete listing, then serves the next run a
listing that only looks finished: a CKAN whose page ends before ``count``, that ignores
``start`` (the same page again), whose ``count`` moves between pages (a dataset deleted
while paging shifts the next one onto a page already read), a DCAT catalogue that lists
fewer datasets than its ``hydra:totalItems``. Before, each of these withdrew datasets
the source still has. Records that are not datasets (harvest sources, showcases, dataset
series) are skipped and reported, never published.
"""
from __future__ import annotations

import json

import pytest
import requests
import yaml

from tests.harvesting import city_datasets, ok, published_state, report

SEARCH = "/ckan/api/3/action/package_search"
ROWS = 2  # the demo's three Mainz datasets on two pages: start=0 (2) and start=2 (1)


def page_size(harvest, rows: int = ROWS) -> None:
    path = harvest.configs / "mainz.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["source"]["rows"] = rows
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


def search_page(replay, start: int) -> dict:
    """The result of one package_search page as the replay server answers it without faults."""
    params = {"fq": "organization:stadt_mainz", "rows": ROWS, "start": start, "sort": "id asc"}
    return requests.get(replay.base + SEARCH, params=params, timeout=10).json()["result"]


def answer(result: dict) -> bytes:
    return json.dumps({"help": "", "success": True, "result": result}).encode()


# case: (what page 2 (start=2) answers, given the replay server; the code the run must report)
CKAN_CASES = {
    "empty-page-before-count": (lambda replay: {"count": 3, "results": []}, "listing-ended-early"),
    "start-ignored": (lambda replay: search_page(replay, 0), "repeated-ids"),
    "count-changed": (lambda replay: {"count": 2, "results": []}, "count-changed"),
}


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize("case", CKAN_CASES)
def test_ckan_listing_that_is_not_provably_complete_withdraws_nothing(harvest, replay, case):
    page_size(harvest)
    ok(harvest("mainz"))
    before = published_state()
    assert len(before) == 3 and all(state == "active" for state, *_ in before.values())
    second_page, code = CKAN_CASES[case]
    replay.faults[SEARCH] = {"query": {"start": ROWS}, "body": answer(second_page(replay)),
                             "content_type": "application/json"}

    done = harvest("mainz")
    assert done.returncode == 1, done.stdout + done.stderr
    summary = report(done)
    assert summary["status"] == "failed" and summary["listing"]["complete"] is False
    assert code in [error["code"] for error in summary["source_errors"]], summary["source_errors"]
    assert f"source: {code}: " in done.stderr
    assert [d for d in summary["datasets"] if d["status"] == "withdrawn"] == []
    assert published_state() == before


@pytest.mark.usefixtures("with_plugins")
def test_complete_ckan_listing_over_pages_still_withdraws(harvest, replay):
    page_size(harvest)
    ok(harvest("mainz"))
    (replay.root / "ckan" / "packages" / "stadtplan-mainz-wms.json").unlink()
    summary = ok(harvest("mainz"))
    assert summary["listing"]["complete"] is True and "2 of count 2" in summary["listing"]["proof"]
    assert [d["status"] for d in summary["datasets"]].count("withdrawn") == 1
    assert len([d for d in city_datasets("mainz").values() if d["state"] == "active"]) == 2


@pytest.mark.usefixtures("with_plugins")
def test_ckan_records_that_are_not_datasets_are_skipped_and_reported(harvest, replay):
    packages = replay.root / "ckan" / "packages"
    template = json.loads((packages / "stadtplan-mainz-wms.json").read_text(encoding="utf-8"))
    for n, kind in enumerate(("harvest", "showcase")):
        record = dict(template, id=f"5f6d1f0e-0009-4b6e-9a51-6d0b6c2f000{n}", name=f"quelle-{kind}",
                      title=f"Keine Daten: {kind}", type=kind)
        (packages / f"zz-{kind}.json").write_text(json.dumps(record), encoding="utf-8")

    done = harvest("mainz")
    summary = ok(done)
    assert not [d for d in city_datasets("mainz").values() if "Keine Daten" in d["title"]]
    assert len(summary["datasets"]) == 3
    skipped = summary["listing"]["skipped"]
    assert sorted((s["type"], s["title"]) for s in skipped) == [
        ("harvest", "Keine Daten: harvest"), ("showcase", "Keine Daten: showcase")]
    assert all(s["source_id"].startswith("ckan:") for s in skipped)
    assert "Keine Daten" in done.stderr  # logged, so cron mail shows it


TRIER_CATALOGUE = "dcat/catalog.rdf"
ORTSBEIRAETE = ('<dcat:dataset>\n      '
                '<dcat:Dataset rdf:about="https://daten.rlp.de/dataset/ortsbeiraete-trier">',
                "</dcat:Dataset>\n    </dcat:dataset>")


@pytest.mark.usefixtures("with_plugins")
def test_dcat_catalogue_listing_fewer_than_its_total_withdraws_nothing(harvest, replay):
    ok(harvest("trier"))
    before = published_state()
    catalogue = replay.root / TRIER_CATALOGUE
    text = catalogue.read_text(encoding="utf-8")
    start = text.index(ORTSBEIRAETE[0])
    end = text.index(ORTSBEIRAETE[1], start) + len(ORTSBEIRAETE[1])
    catalogue.write_text(text[:start] + text[end:], encoding="utf-8")  # totalItems still says 3

    done = harvest("trier")
    assert done.returncode == 1, done.stdout + done.stderr
    summary = report(done)
    assert summary["status"] == "failed" and summary["listing"]["complete"] is False
    assert [e["code"] for e in summary["source_errors"]] == ["listing-ended-early"]
    assert "hydra:totalItems" in summary["source_errors"][0]["message"]
    assert [d for d in summary["datasets"] if d["status"] == "withdrawn"] == []
    assert published_state() == before


@pytest.mark.usefixtures("with_plugins")
def test_dcat_entries_that_are_not_datasets_are_skipped_and_reported(harvest, replay):
    catalogue = replay.root / TRIER_CATALOGUE
    trier = '<dct:publisher rdf:resource="https://daten.rlp.de/organization/stadt_trier"/>'
    series = ('<dcat:dataset>'
              '<rdf:Description rdf:about="https://daten.rlp.de/dataset/wahlen-trier-serie">'
              '<rdf:type rdf:resource="http://www.w3.org/ns/dcat#DatasetSeries"/>'
              f'<dct:title xml:lang="de">Wahlen (Serie)</dct:title>{trier}'
              '</rdf:Description></dcat:dataset>\n'
              '    <dcat:service><dcat:DataService rdf:about="https://daten.rlp.de/wms/trier">'
              f'<dct:title xml:lang="de">Stadtplan-Dienst</dct:title>{trier}'
              '</dcat:DataService></dcat:service>\n'
              '  </dcat:Catalog>')
    text = catalogue.read_text(encoding="utf-8").replace("</dcat:Catalog>", series)
    text = text.replace(">3</hydra:totalItems>", ">5</hydra:totalItems>")
    catalogue.write_text(text, encoding="utf-8")

    summary = ok(harvest("trier"))
    titles = [d["title"] for d in city_datasets("trier").values()]
    assert len(titles) == 2 and "Wahlen (Serie)" not in titles and "Stadtplan-Dienst" not in titles
    skipped = {s["title"]: s["type"] for s in summary["listing"]["skipped"]}
    assert skipped == {"Wahlen (Serie)": "dcat:DatasetSeries",
                       "Stadtplan-Dienst": "dcat:DataService"}
    assert summary["listing"]["complete"] is True
