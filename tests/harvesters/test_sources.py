"""CKAN API and manifest readers against the replay replay; broken sources raise SourceError."""
from __future__ import annotations

import json

import pytest

from vierstaedte_harvest.sources import SourceError, ckan, manifest


def test_ckan_pages_through_package_search(fetcher, replay):
    packages = replay.root / "ckan" / "packages"
    template = json.loads((packages / "stadtplan-mainz-wms.json").read_text())
    for n in range(250):
        (packages / f"extra-{n:03d}.json").write_text(json.dumps(dict(template, id=f"id-{n:03d}", name=f"extra-{n:03d}")))
    found = list(ckan.list_datasets(fetcher, {"url": f"{replay.base}/ckan", "organization": "stadt_mainz", "rows": 100}))
    assert len(found) == 253 and len({d.guid for d in found}) == 253
    searches = [path for _, path in replay.log if "package_search" in path]
    assert len(searches) == 3 and all("fq=organization%3Astadt_mainz" in path for path in searches)
    population = next(d for d in found if d.name == "einwohner-ortsbezirke-mainz")
    assert population.title == "Einwohner nach Ortsbezirken" and population.temporal_start == "2021-01-01"
    assert population.resources[0].format == "CSV" and population.resources[0].url.startswith(replay.base)
    assert population.contact_email == "statistik@stadt.mainz.de"


def test_ckan_failure_is_a_source_error(fetcher, replay):
    replay.faults["/ckan/api/3/action/package_search"] = {"status": 500, "times": 5}
    with pytest.raises(SourceError, match="page 1"):
        list(ckan.list_datasets(fetcher, {"url": f"{replay.base}/ckan", "organization": "stadt_mainz"}))


def test_ckan_answer_that_is_not_ckan(fetcher, replay):
    replay.faults["/ckan/api/3/action/package_search"] = {"body": b'{"hello": "world"}', "content_type": "application/json"}
    with pytest.raises(SourceError, match="CKAN Action API"):
        list(ckan.list_datasets(fetcher, {"url": f"{replay.base}/ckan"}))


def test_manifest_over_http_and_from_a_file(fetcher, replay, tmp_path):
    remote = list(manifest.list_datasets(fetcher, {"url": f"{replay.base}/files/koblenz-manifest.yaml", "city": "koblenz"}))
    assert [d.guid for d in remote] == ["manifest:koblenz:einwohner-stadtteile"]
    assert remote[0].resources[0].url == f"{replay.base}/files/koblenz/einwohner-stadtteile.csv"
    assert remote[0].modified == "2024-01-31"
    local = tmp_path / "m.yaml"
    local.write_text("datasets:\n  - id: a\n    title: A\n    files: [{url: 'https://example.org/a.csv'}]\n")
    assert [d.resources[0].format for d in manifest.list_datasets(fetcher, {"path": str(local), "city": "trier"})] == ["CSV"]


@pytest.mark.parametrize("text, message", [
    ("datasets: {}", "top-level 'datasets:' list"),
    ("datasets:\n  - title: no id\n    files: [{url: 'https://x/a.csv'}]", "'id' is required"),
    ("datasets:\n  - id: a\n    title: A\n    files: [{url: 'https://x/a.csv'}]\n  - id: a\n    title: B\n"
     "    files: [{url: 'https://x/b.csv'}]", "appears twice"),
    ("datasets:\n  - id: a\n    title: A\n    colour: red\n    files: [{url: 'https://x/a.csv'}]", "unknown key"),
    ("datasets: [: broken", "not valid YAML"),
])
def test_bad_manifests(fetcher, tmp_path, text, message):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(SourceError, match=message):
        list(manifest.list_datasets(fetcher, {"path": str(path), "city": "koblenz"}))
