"""The publisher against the real CKAN: the publish protocol, what a harvest costs in writes,
and the DataStore load in batches."""

from __future__ import annotations

import csv
import hashlib

import pytest
import requests
from ckan.tests.helpers import call_action

from tests.harvesting import CkanTap, by_role, city_datasets, ok
from vierstaedte_contract import table
from vierstaedte_contract.dataset import DATASTORE_MARKER, NORMALISED
from vierstaedte_harvest.metadata import THEME_BASE
from vierstaedte_harvest.publish import DATASTORE_BATCH, Publisher, Table

DESIRED = {
    "name": "gross",
    "title": "Große Tabelle",
    "notes": "Mehr als ein Stapel.",
    "owner_org": "mainz",
    "theme": [THEME_BASE + "SOCI"],  # as the harvester maps it
    "spatial_granularity": "stadt",
}


def normalised_table(path, rows: int) -> str:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, table.field_names())
        writer.writeheader()
        for n in range(rows):
            writer.writerow(
                dict(
                    city="mainz",
                    ags="07315000",
                    area_level="ortsbezirk",
                    area_code="",
                    area_name=f"Bezirk {n}",
                    indicator="population_total",
                    sex="total",
                    age_group="total",
                    nationality="total",
                    dimension="total",
                    dimension_value="total",
                    period="2023",
                    value=str(n),
                    value_status="reported",
                    unit="persons",
                    source_dataset="test",
                    source_column="Einwohner",
                )
            )
    return hashlib.sha256(path.read_bytes()).hexdigest()


def validated_table(folder, rows: int) -> tuple[Table, str]:
    """A table as the harvester has it after validation (the original is a copy of the
    normalised file: the publisher does not read it), and the normalised file's SHA-256."""
    folder.mkdir()
    sha256 = normalised_table(folder / "gross-normalisiert.csv", rows)
    original = folder / "gross-original.csv"
    original.write_bytes((folder / "gross-normalisiert.csv").read_bytes())
    report = {"verdict": "valid", "rows_out": rows, "columns": {}, "reading": {"format": "csv"}}
    source = {"title": "Große Tabelle", "url": "https://example.org/gross.csv", "modified": None}
    return Table(original, sha256, folder / "gross-normalisiert.csv", source, report), sha256


@pytest.mark.usefixtures("with_plugins")
def test_the_marker_goes_before_a_table_is_replaced_and_comes_back_after_its_last_row(
    platform, tmp_path
):
    """After every write of the protocol, CKAN is read: the marker vouches for the DataStore
    table only once it is complete, before that and while it is replaced it is empty; a run
    with the same file makes no call at all."""
    token = platform["tokens"]["mainz"].read_text().strip()
    admin = {"Authorization": platform["admin_token"]}

    def action(name: str, **data) -> dict | None:
        answer = requests.post(
            f"{platform['url']}/api/3/action/{name}", json=data, headers=admin, timeout=60
        )
        return answer.json()["result"] if answer.ok else None

    def in_ckan() -> tuple[str, int | None]:
        """The marker on the normalised resource and the rows of its DataStore table."""
        resource = by_role(action("package_show", id="gross")).get(NORMALISED) or {}
        rows = resource and action("datastore_search", resource_id=resource["id"], limit=0)
        return resource.get(DATASTORE_MARKER) or "", rows["total"] if rows else None

    seen = []
    with CkanTap(platform["url"]) as tap:
        tap.after_write = lambda number, name: seen.append((name, *in_ckan()))
        publisher = Publisher(tap.base, token, "mainz")

        big, big_sha = validated_table(tmp_path / "gross", 2 * DATASTORE_BATCH + 1)
        assert publisher.publish(dict(DESIRED), [], big, known=False) == "added"
        assert seen == [
            ("package_create", "", None),
            ("package_revise", "", None),
            ("datastore_create", "", DATASTORE_BATCH),
            ("datastore_upsert", "", 2 * DATASTORE_BATCH),
            ("datastore_upsert", "", 2 * DATASTORE_BATCH + 1),
            # the Data Package, and the marker after the last row
            ("package_revise", big_sha, 2 * DATASTORE_BATCH + 1),
        ]

        seen.clear()
        small, small_sha = validated_table(tmp_path / "klein", 3)
        assert publisher.publish(dict(DESIRED), [], small) == "updated"
        # the marker goes with the new file, before the old table is dropped
        assert seen == [
            ("package_revise", "", 2 * DATASTORE_BATCH + 1),
            ("datastore_delete", "", None),
            ("datastore_create", "", 3),
            ("package_revise", small_sha, 3),
        ]

        seen.clear()
        calls = len(tap.calls)
        assert publisher.publish(dict(DESIRED), [], small) == "unchanged"
        assert seen == [] and tap.calls[calls:] == ["package_show"]  # one look, no DataStore call


@pytest.mark.usefixtures("with_plugins")
def test_a_lost_table_is_loaded_again_and_marked_again(harvest, platform):
    """The file is unchanged but its DataStore table is gone: the next run reloads it and writes
    the marker anew."""
    ok(harvest("koblenz"))
    table = by_role(next(iter(city_datasets("koblenz").values())))[NORMALISED]
    rows = call_action("datastore_search", resource_id=table["id"], limit=0)["total"]
    dropped = requests.post(
        f"{platform['url']}/api/3/action/datastore_delete",
        json={"resource_id": table["id"], "force": True},
        headers={"Authorization": platform["admin_token"]},
        timeout=60,
    )
    assert dropped.ok, dropped.text
    # so that the run compares with CKAN instead of trusting its cache
    (harvest.state / "koblenz.json").unlink()

    again = ok(harvest("koblenz"))
    # the marker cleared on its own, the (gone) table dropped, created with its rows, then Data
    # Package and marker in one call
    assert again["write_calls"] == {
        "resource_patch": 1,
        "datastore_delete": 1,
        "datastore_create": 1,
        "package_revise": 1,
    }
    assert call_action("datastore_search", resource_id=table["id"], limit=0)["total"] == rows
    marker = call_action("resource_show", id=table["id"])[DATASTORE_MARKER]
    assert marker == table[DATASTORE_MARKER]
    (harvest.state / "koblenz.json").unlink()
    assert ok(harvest("koblenz"))["dataset_writes"] == 0  # converged: nothing to do any more


@pytest.mark.usefixtures("with_plugins")
def test_a_dataset_the_search_does_not_show_yet_is_looked_up_not_duplicated(platform):
    """The portal leaves Solr commits to Solr (``ckan.search.solr_commit = false``): a dataset
    written a moment ago can be missing from a run's search. The run then creates it
    (``known=False``), CKAN refuses the taken name, and the look-up finds it unchanged: one
    refused call, nothing written."""
    token = platform["tokens"]["mainz"].read_text().strip()
    desired = {
        "name": "soeben-geschrieben",
        "title": "Soeben geschrieben",
        "notes": "Noch nicht im Suchindex.",
        "owner_org": "mainz",
        "theme": [THEME_BASE + "SOCI"],
        "spatial_granularity": "stadt",
        "source_identifier": "ckan:example:1",
    }  # as the harvester maps it
    first = Publisher(platform["url"], token, "mainz")
    created, status = first.upsert_dataset(dict(desired), known=False)
    assert status == "added"

    again = Publisher(platform["url"], token, "mainz")
    dataset, status = again.upsert_dataset(dict(desired), known=False)
    assert (status, dataset["id"]) == ("unchanged", created["id"])
    assert again.writes == ["package_create"]  # the refused attempt
    shown = call_action("package_show", id=created["id"])
    assert shown["metadata_modified"] == created["metadata_modified"]
    assert call_action("package_search", fq="organization:mainz")["count"] == 1
