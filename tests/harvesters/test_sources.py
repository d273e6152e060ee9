"""CKAN API and manifest readers against the replay server; broken sources raise SourceError.

A listing is complete only when the reader can prove it (all of ``count`` on pages that never
came back empty, repeated nothing and kept the same ``count``); anything else is incomplete.
"""

from __future__ import annotations

import json

import pytest

from vierstaedte_harvest.sources import (
    Listing,
    SourceDataset,
    SourceError,
    ckan,
    manifest,
    read,
    reader,
)


def test_ckan_pages_through_package_search(fetcher, replay):
    packages = replay.root / "ckan" / "packages"
    template = json.loads((packages / "stadtplan-mainz-wms.json").read_text())
    for n in range(250):
        (packages / f"extra-{n:03d}.json").write_text(
            json.dumps(dict(template, id=f"id-{n:03d}", name=f"extra-{n:03d}"))
        )
    settings = ckan.Settings(url=f"{replay.base}/ckan", organization="stadt_mainz", rows=100)
    found = list(reader("ckan")(fetcher, settings))
    assert len(found) == 253 and len({d.guid for d in found}) == 253
    searches = [path for _, path in replay.log if "package_search" in path]
    assert len(searches) == 3 and all("organization%3Astadt_mainz" in path for path in searches)
    population = next(d for d in found if d.name == "einwohner-ortsbezirke-mainz")
    assert (
        population.title == "Einwohner nach Ortsbezirken"
        and population.temporal_start == "2021-01-01"
    )
    assert population.resources[0].format == "CSV" and population.resources[0].url.startswith(
        replay.base
    )
    assert population.contact_email == "statistik@stadt.mainz.de"


def test_ckan_failure_is_a_source_error(fetcher, replay):
    replay.faults["/ckan/api/3/action/package_search"] = {"status": 500, "times": 5}
    settings = ckan.Settings(url=f"{replay.base}/ckan", organization="stadt_mainz")
    with pytest.raises(SourceError, match="page 1"):
        list(reader("ckan")(fetcher, settings))


def test_ckan_answer_that_is_not_ckan(fetcher, replay):
    replay.faults["/ckan/api/3/action/package_search"] = {
        "body": b'{"hello": "world"}',
        "content_type": "application/json",
    }
    with pytest.raises(SourceError, match="CKAN Action API"):
        list(reader("ckan")(fetcher, ckan.Settings(url=f"{replay.base}/ckan")))


def test_manifest_over_http_and_from_a_file(fetcher, replay, tmp_path):
    url = f"{replay.base}/files/koblenz-manifest.yaml"
    remote = list(reader("manifest")(fetcher, manifest.Settings(url=url, city="koblenz")))
    assert [d.guid for d in remote] == ["manifest:koblenz:einwohner-stadtteile"]
    assert remote[0].resources[0].url == f"{replay.base}/files/koblenz/einwohner-stadtteile.csv"
    assert remote[0].modified == "2024-01-31"
    local = tmp_path / "m.yaml"
    local.write_text(
        "datasets:\n  - id: a\n    title: A\n    files: [{url: 'https://example.org/a.csv'}]\n"
    )
    found = reader("manifest")(fetcher, manifest.Settings(path=str(local), city="trier"))
    assert [d.resources[0].format for d in found] == ["CSV"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("datasets: {}", "top-level 'datasets:' list"),
        ("datasets:\n  - title: no id\n    files: [{url: 'https://x/a.csv'}]", "'id' is required"),
        (
            "datasets:\n  - id: a\n    title: A\n    files: [{url: 'https://x/a.csv'}]\n"
            "  - id: a\n    title: B\n    files: [{url: 'https://x/b.csv'}]",
            "listed more than once",
        ),
        (
            "datasets:\n  - id: a\n    title: A\n    colour: red\n    files: [{url: 'https://x/a.csv'}]",
            "unknown key",
        ),
        ("datasets: [: broken", "not valid YAML"),
    ],
)
def test_bad_manifests(fetcher, tmp_path, text, message):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(SourceError, match=message):
        list(reader("manifest")(fetcher, manifest.Settings(path=str(path), city="koblenz")))


SEARCH = "/ckan/api/3/action/package_search"
MAINZ = {"organization": "stadt_mainz", "rows": 2}  # the 3 demo datasets: pages start=0 and start=2


def ckan_config(replay) -> ckan.Settings:
    return ckan.Settings(url=f"{replay.base}/ckan", **MAINZ)


def second_page(replay, result: dict) -> None:
    body = json.dumps({"success": True, "result": result}).encode()
    replay.faults[SEARCH] = {
        "query": {"start": 2},
        "body": body,
        "content_type": "application/json",
    }


def first_page(fetcher, replay) -> dict:
    params = {"fq": "organization:stadt_mainz", "rows": 2}
    return fetcher.get_json(f"{replay.base}{SEARCH}", params=params)["result"]


@pytest.mark.parametrize(
    "result, message",
    [
        ({"count": 3, "results": []}, r"page 2 .* is empty after 2 of count 3"),
        ({"count": 2, "results": []}, r"page 2 .*count changed from 3 to 2"),
        ({"count": 4, "results": [{"id": "new-4"}]}, r"page 2 .*count changed from 3 to 4"),
    ],
    ids=["empty-page-before-count", "count-shrank", "count-grew"],
)
def test_ckan_listing_that_ends_early_or_moves_is_incomplete(fetcher, replay, result, message):
    second_page(replay, result)
    with pytest.raises(SourceError, match=message):
        list(reader("ckan")(fetcher, ckan_config(replay)))


def test_ckan_server_that_ignores_start_is_incomplete(fetcher, replay):
    second_page(replay, first_page(fetcher, replay))
    listing = read("ckan", fetcher, ckan_config(replay))
    assert not listing.complete
    assert [gap["code"] for gap in listing.gaps] == ["repeated-ids"]
    assert "ignores start" in listing.gaps[0]["message"]
    assert len(listing.datasets) == 2  # what it did list is harvested; nothing is withdrawn


def test_ckan_repeated_id_within_the_count_is_incomplete(fetcher, replay):
    """The server honours start but a dataset moved: one id on both pages, another never seen."""
    page = first_page(fetcher, replay)
    second_page(replay, {"count": 3, "results": page["results"][1:]})
    repeated = r"1 dataset\(s\) listed more than once .*ckan:127\.0\.0\.1:\d+:"
    with pytest.raises(SourceError, match=repeated):
        list(reader("ckan")(fetcher, ckan_config(replay)))


def test_complete_ckan_listing_says_how_it_knows(fetcher, replay):
    listing = read("ckan", fetcher, ckan_config(replay))
    assert listing.complete and listing.gaps == []
    assert listing.proof == "all 3 of count 3 on 2 pages"
    assert [d.name for d in listing.datasets] == [
        "einwohner-ortsbezirke-mainz",
        "stadtplan-mainz-wms",
        "stadtratswahl-2024-mainz",
    ]


def test_ckan_records_that_are_not_datasets_are_skipped_and_reported(fetcher, replay):
    packages = replay.root / "ckan" / "packages"
    template = json.loads((packages / "stadtplan-mainz-wms.json").read_text())
    for kind, name in (("harvest", "harvest"), ("showcase", "showcase"), ("dataset", "typed")):
        record = dict(template, id=f"id-{name}", name=name, type=kind)
        (packages / f"{name}.json").write_text(json.dumps(record))
    names = [d.name for d in reader("ckan")(fetcher, ckan_config(replay))]
    assert "harvest" not in names and "showcase" not in names
    assert "typed" in names and len(names) == 4
    listing = read("ckan", fetcher, ckan_config(replay))
    assert listing.complete  # the skipped records are accounted for in the count
    assert [(s.guid.rsplit(":", 1)[1], s.kind) for s in listing.skipped] == [
        ("id-harvest", "harvest"),
        ("id-showcase", "showcase"),
    ]


def test_more_datasets_than_the_limit_lists_none(fetcher, replay):
    listing = read("ckan", fetcher, ckan_config(replay), limit=2)
    assert not listing.complete and listing.datasets == []
    assert [gap["code"] for gap in listing.gaps] == ["too-many-datasets"]


def test_reader_that_proves_nothing_is_incomplete():
    def silent(fetcher, settings):
        yield SourceDataset(guid="x:y:1", name="a", title="A")

    listing = Listing(silent(None, None)).read()
    assert not listing.complete and [gap["code"] for gap in listing.gaps] == ["unproven"]


def test_manifest_is_complete_once_read_whole(fetcher, tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("datasets:\n  - id: a\n    title: A\n    files: [{url: 'https://x/a.csv'}]\n")
    listing = read("manifest", fetcher, manifest.Settings(path=str(path), city="koblenz"))
    assert listing.complete and listing.proof == f"the whole manifest {path} (1 entries)"
