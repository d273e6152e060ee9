"""A source whose listing cannot be proven complete withdraws nothing, end to end.

Each case first publishes a city from a complete listing, then serves the next run a
listing that only looks finished: a CKAN whose page ends before ``count``, that ignores
``start`` (the same page again), whose ``count`` moves between pages (a dataset deleted
while paging shifts the next one onto a page already read), a DCAT catalogue that lists
fewer datasets than its ``hydra:totalItems``. Before, each of these withdrew datasets
the source still has. Records that are not datasets (harvest sources, showcases, dataset
series) are skipped and reported, never published.

A listing that is complete but would withdraw most of what a city published from the source
(``count: 0`` from a broken filter, a migrated or emptied portal) withdraws nothing either,
unless the operator confirms the number with ``--allow-withdraw N``.
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
    replay.faults[SEARCH] = {
        "query": {"start": ROWS},
        "body": answer(second_page(replay)),
        "content_type": "application/json",
    }

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
        record = dict(
            template,
            id=f"5f6d1f0e-0009-4b6e-9a51-6d0b6c2f000{n}",
            name=f"quelle-{kind}",
            title=f"Keine Daten: {kind}",
            type=kind,
        )
        (packages / f"zz-{kind}.json").write_text(json.dumps(record), encoding="utf-8")

    done = harvest("mainz")
    summary = ok(done)
    assert not [d for d in city_datasets("mainz").values() if "Keine Daten" in d["title"]]
    assert len(summary["datasets"]) == 3
    skipped = summary["listing"]["skipped"]
    assert sorted((s["type"], s["title"]) for s in skipped) == [
        ("harvest", "Keine Daten: harvest"),
        ("showcase", "Keine Daten: showcase"),
    ]
    assert all(s["source_id"].startswith("ckan:") for s in skipped)
    assert "Keine Daten" in done.stderr  # logged, so cron mail shows it


TRIER_CATALOGUE = "dcat/catalog.rdf"
ORTSBEIRAETE = (
    "<dcat:dataset>\n      "
    '<dcat:Dataset rdf:about="https://daten.rlp.de/dataset/ortsbeiraete-trier">',
    "</dcat:Dataset>\n    </dcat:dataset>",
)


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
    series = (
        "<dcat:dataset>"
        '<rdf:Description rdf:about="https://daten.rlp.de/dataset/wahlen-trier-serie">'
        '<rdf:type rdf:resource="http://www.w3.org/ns/dcat#DatasetSeries"/>'
        f'<dct:title xml:lang="de">Wahlen (Serie)</dct:title>{trier}'
        "</rdf:Description></dcat:dataset>\n"
        '    <dcat:service><dcat:DataService rdf:about="https://daten.rlp.de/wms/trier">'
        f'<dct:title xml:lang="de">Stadtplan-Dienst</dct:title>{trier}'
        "</dcat:DataService></dcat:service>\n"
        "  </dcat:Catalog>"
    )
    text = catalogue.read_text(encoding="utf-8").replace("</dcat:Catalog>", series)
    text = text.replace(">3</hydra:totalItems>", ">5</hydra:totalItems>")
    catalogue.write_text(text, encoding="utf-8")

    summary = ok(harvest("trier"))
    titles = [d["title"] for d in city_datasets("trier").values()]
    assert len(titles) == 2 and "Wahlen (Serie)" not in titles and "Stadtplan-Dienst" not in titles
    skipped = {s["title"]: s["type"] for s in summary["listing"]["skipped"]}
    assert skipped == {
        "Wahlen (Serie)": "dcat:DatasetSeries",
        "Stadtplan-Dienst": "dcat:DataService",
    }
    assert summary["listing"]["complete"] is True


# --- a complete listing that would withdraw most of a city: refused unless an operator confirms ---

REFUSED = "mass-withdrawal-refused"
PACKAGES = "ckan/packages"
MAINZ = ("einwohner-ortsbezirke-mainz", "stadtplan-mainz-wms", "stadtratswahl-2024-mainz")


def add_map(replay, title: str) -> dict:
    """A fourth Mainz dataset at the source: the map record under another id, name and title."""
    packages = replay.root / PACKAGES
    record = json.loads((packages / "stadtplan-mainz-wms.json").read_text(encoding="utf-8"))
    record.update(id="5f6d1f0e-0010-4b6e-9a51-6d0b6c2f0010", name="karte-vier", title=title)
    (packages / "karte-vier.json").write_text(json.dumps(record), encoding="utf-8")
    return record


def max_withdraw(harvest, value) -> None:
    path = harvest.configs / "mainz.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["source"]["max_withdraw"] = value
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


def active_titles(city: str = "mainz") -> list[str]:
    return sorted(d["title"] for d in city_datasets(city).values() if d["state"] == "active")


def refused(done, would: int, of: int) -> dict:
    """Assert a run that refused to withdraw ``would`` of ``of`` datasets; returns its report."""
    assert done.returncode == 1, done.stdout + done.stderr
    summary = report(done)
    assert summary["status"] == "failed" and summary["listing"]["complete"] is True
    errors = [e for e in summary["source_errors"] if e["code"] == REFUSED]
    assert len(errors) == 1, summary["source_errors"]
    assert (errors[0]["would_withdraw"], errors[0]["published"]) == (would, of)
    assert f"would withdraw {would} of {of} " in errors[0]["message"]
    assert f"source: {REFUSED}: " in done.stderr and f"--allow-withdraw {would}" in done.stderr
    assert [d for d in summary["datasets"] if d["status"] == "withdrawn"] == []
    return summary


@pytest.mark.usefixtures("with_plugins")
def test_a_source_answering_count_0_withdraws_nothing_until_an_operator_confirms(harvest, replay):
    ok(harvest("mainz"))
    before = published_state()
    assert len(before) == 3
    replay.faults[SEARCH] = {
        "body": answer({"count": 0, "results": []}),
        "content_type": "application/json",
    }

    assert refused(harvest("mainz"), 3, 3)["listing"]["proof"] == "all 0 of count 0 on 1 page"
    assert published_state() == before
    refused(harvest("mainz", "--allow-withdraw", "2"), 3, 3)  # confirms fewer than it withdraws
    assert published_state() == before

    summary = ok(harvest("mainz", "--allow-withdraw", "3"))
    assert summary["counts"]["withdrawn"] == 3 and active_titles() == []
    assert ok(harvest("mainz"))["counts"]["withdrawn"] == 0  # the next cron run: nothing to refuse


# dropped: how many of the four Mainz datasets the source stops listing; setting: max_withdraw
@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize(
    "dropped, setting, refuses",
    [
        (3, None, True),  # 3 of 4 is more than the default 50 %
        (2, None, False),  # 2 of 4 is 50 %: a normal withdrawal
        (3, "75%", False),
        (3, 2, True),
    ],
)
def test_a_complete_listing_dropping_most_datasets_withdraws_nothing(
    harvest, replay, dropped, setting, refuses
):
    if setting is not None:
        max_withdraw(harvest, setting)
    record = add_map(replay, "Karte vier")
    ok(harvest("mainz"))
    assert len(active_titles()) == 4
    for name in MAINZ[-dropped:]:
        (replay.root / PACKAGES / f"{name}.json").unlink()
    record["title"] = "Karte vier (neu)"  # what the source still lists is published all the same
    (replay.root / PACKAGES / "karte-vier.json").write_text(json.dumps(record), encoding="utf-8")

    done = harvest("mainz")
    if not refuses:
        assert ok(done)["counts"]["withdrawn"] == dropped
        assert len(active_titles()) == 4 - dropped and "Karte vier (neu)" in active_titles()
        return
    refused(done, dropped, 4)
    assert len(active_titles()) == 4 and "Karte vier (neu)" in active_titles()
    summary = ok(harvest("mainz", "--allow-withdraw", str(dropped)))
    assert summary["counts"]["withdrawn"] == dropped and active_titles() == ["Karte vier (neu)"]
