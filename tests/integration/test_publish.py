"""The publisher's calls against the real CKAN: what a harvest costs in writes, and the DataStore load in batches."""
from __future__ import annotations

import csv
import hashlib

import pytest
import requests

from ckan.tests.helpers import call_action

from tests.harvesting import by_role, city_datasets, ok

from vierstaedte_contract import table
from vierstaedte_harvest.metadata import THEME_BASE
from vierstaedte_harvest.publish import DATASTORE_BATCH, Publisher, ResourceSpec


def normalised_table(path, rows: int) -> str:
    names = [f["name"] for f in table.descriptor()["fields"]]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, names)
        writer.writeheader()
        for n in range(rows):
            writer.writerow(dict(city="mainz", ags="07315000", area_level="ortsbezirk", area_code="", area_name=f"Bezirk {n}",
                                 indicator="population_total", sex="total", age_group="total", nationality="total",
                                 dimension="total", dimension_value="total", period="2023", value=str(n),
                                 value_status="reported", unit="persons", source_dataset="test", source_column="Einwohner"))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.usefixtures("with_plugins")
def test_a_table_larger_than_one_batch_is_loaded_whole_and_marked_last(platform, tmp_path):
    publisher = Publisher(platform["url"], platform["tokens"]["mainz"].read_text().strip(), "mainz")
    dataset, status = publisher.upsert_dataset({"name": "gross", "title": "Große Tabelle", "notes": "Mehr als ein Stapel.",
                                                "owner_org": "mainz", "theme": ["SOCI"], "spatial_granularity": "stadt"},
                                               known=False)
    assert status == "added"
    rows = 2 * DATASTORE_BATCH + 1
    path = tmp_path / "gross.csv"
    sha256 = normalised_table(path, rows)

    dataset, resources, wrote = publisher.sync_resources(dataset, [ResourceSpec("normalised", "Normalisiert", "CSV", path,
                                                                                sha256=sha256)])
    assert wrote and resources["normalised"]["hash"] == sha256
    assert publisher.load_table(resources["normalised"], path, sha256, fresh=True)
    assert publisher.writes == ["package_create", "package_revise", "datastore_create", "datastore_upsert",
                                "datastore_upsert"]
    table = resources["normalised"]["id"]
    assert call_action("datastore_search", resource_id=table, limit=0)["total"] == rows
    assert not call_action("resource_show", id=table).get("datastore_hash")  # not complete until the caller says so

    dataset, resources, wrote = publisher.sync_resources(dataset, [], {"normalised": {"datastore_hash": sha256}})
    assert wrote and call_action("resource_show", id=table)["datastore_hash"] == sha256
    written = len(publisher.writes)
    assert not publisher.load_table(resources["normalised"], path, sha256)  # it holds exactly this file
    assert publisher.sync_resources(dataset, [], {"normalised": {"datastore_hash": sha256}})[2] is False
    assert len(publisher.writes) == written


@pytest.mark.usefixtures("with_plugins")
def test_a_lost_table_is_loaded_again_and_marked_again(harvest, platform):
    """The file is unchanged but its DataStore table is gone: the next run reloads it and writes the marker anew."""
    ok(harvest("koblenz"))
    table = by_role(next(iter(city_datasets("koblenz").values())))["normalised"]
    rows = call_action("datastore_search", resource_id=table["id"], limit=0)["total"]
    dropped = requests.post(f"{platform['url']}/api/3/action/datastore_delete", json={"resource_id": table["id"],
                            "force": True}, headers={"Authorization": platform["admin_token"]}, timeout=60)
    assert dropped.ok, dropped.text
    (harvest.state / "koblenz.json").unlink()  # so that the run compares with CKAN instead of trusting its cache

    again = ok(harvest("koblenz"))
    # the marker cleared, the (gone) table dropped, created with its rows, then Data Package and marker in one call
    assert again["write_calls"] == {"resource_patch": 1, "datastore_delete": 1, "datastore_create": 1,
                                    "package_revise": 1}
    assert call_action("datastore_search", resource_id=table["id"], limit=0)["total"] == rows
    assert call_action("resource_show", id=table["id"])["datastore_hash"] == table["datastore_hash"]
    (harvest.state / "koblenz.json").unlink()
    assert ok(harvest("koblenz"))["dataset_writes"] == 0  # converged: nothing to do any more


@pytest.mark.usefixtures("with_plugins")
def test_a_dataset_the_search_does_not_show_yet_is_looked_up_not_duplicated(platform):
    """The portal leaves Solr commits to Solr (``ckan.search.solr_commit = false``): a dataset written a
    moment ago can be missing from a run's search. The run then creates it (``known=False``), CKAN
    refuses the taken name, and the look-up finds it unchanged: one refused call, nothing written."""
    token = platform["tokens"]["mainz"].read_text().strip()
    desired = {"name": "soeben-geschrieben", "title": "Soeben geschrieben", "notes": "Noch nicht im Suchindex.",
               "owner_org": "mainz", "theme": [THEME_BASE + "SOCI"], "spatial_granularity": "stadt",
               "source_identifier": "ckan:example:1"}  # as the harvester maps it
    created, status = Publisher(platform["url"], token, "mainz").upsert_dataset(dict(desired), known=False)
    assert status == "added"

    again = Publisher(platform["url"], token, "mainz")
    dataset, status = again.upsert_dataset(dict(desired), known=False)
    assert (status, dataset["id"]) == ("unchanged", created["id"])
    assert again.writes == ["package_create"]  # the refused attempt
    assert call_action("package_show", id=created["id"])["metadata_modified"] == created["metadata_modified"]
    assert call_action("package_search", fq="organization:mainz")["count"] == 1
