"""The city harvesters end to end: real CKAN process, real replay server, the real command."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from ckan.tests.helpers import call_action

from tests.harvesting import (
    SYSADMIN,
    by_role,
    city_datasets,
    comparable,
    ok,
    published_state,
    report,
)


@pytest.mark.usefixtures("with_plugins")
class TestFirstHarvest:
    def test_four_cities_each_over_its_protocol(self, harvest):
        for city in ("mainz", "trier", "koblenz", "ludwigshafen"):
            done = harvest(city)
            assert done.returncode == 0, done.stdout + done.stderr
            assert report(done)["status"] == "ok"

        mainz = city_datasets("mainz")
        assert len(mainz) == 3
        population = next(d for d in mainz.values() if d["title"] == "Einwohner nach Ortsbezirken")
        resources = by_role(population)
        assert set(resources) == {"raw", "normalised", "datapackage"}
        assert population["validation_status"] == "valid"
        assert population["table_schema_version"] == "1.1.0"
        assert population["source_identifier"].startswith("ckan:127.0.0.1:")
        assert population["spatial_granularity"] == "ortsbezirk"
        rows = call_action(
            "datastore_search",
            resource_id=resources["normalised"]["id"],
            filters={"area_name": "Gonsenheim", "period": "2023"},
        )["records"]
        assert [(r["indicator"], float(r["value"])) for r in rows] == [
            ("population_total", 25301.0)
        ]
        fields = {
            f["id"]: f
            for f in call_action("datastore_info", id=resources["normalised"]["id"])["fields"]
        }
        assert fields["area_name"]["info"]["label"].startswith(
            "Gebiet"
        )  # the data dictionary travels along

        wms = next(d for d in mainz.values() if "WMS" in d["title"])
        assert [r["role"] for r in wms["resources"]] == ["link"] and wms[
            "validation_status"
        ] == "not_validated"

        trier = city_datasets("trier")
        assert {d["title"] for d in trier.values()} == {
            "Bevölkerung nach Altersgruppen und Geschlecht 2023",
            "Ortsbeiräte der Stadt Trier",
        }
        age = next(d for d in trier.values() if d["title"].startswith("Bevölkerung"))
        assert (
            age["license_id"] == "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
        )  # from https://www.…/2_0
        assert (
            call_action("datastore_search", resource_id=by_role(age)["normalised"]["id"], limit=0)[
                "total"
            ]
            == 48
        )
        # coverage as the source states it, else from the table's own periods
        assert population["temporal_start"] == "2021-01-01"
        assert (age["temporal_start"], age["temporal_end"]) == ("2023-12-31", "2023-12-31")
        assert len(city_datasets("koblenz")) == 1 and len(city_datasets("ludwigshafen")) == 1
        koblenz = next(iter(city_datasets("koblenz").values()))
        assert (koblenz["temporal_start"], koblenz["temporal_end"]) == ("2023-12-31", "2023-12-31")

    def test_parallel_and_one_at_a_time_publish_the_same(self, harvest):
        parallel = ok(harvest("mainz", "--workers", "4"))
        published = comparable(published_state())
        for name in city_datasets("mainz"):
            call_action("dataset_purge", context=dict(SYSADMIN), id=name)
        shutil.rmtree(harvest.state)

        sequential = ok(harvest("mainz", "--workers", "1"))
        assert comparable(published_state()) == published and len(published) == 3
        # the report lists the datasets in the source's order however many were harvested at once
        assert [d["source_id"] for d in parallel["datasets"]] == [
            d["source_id"] for d in sequential["datasets"]
        ]
        assert parallel["write_calls"] == sequential["write_calls"]

    def test_workers_must_be_a_small_whole_number(self, harvest):
        for bad in ("0", "-1", "two", "17"):
            refused = harvest("mainz", "--workers", bad)
            assert refused.returncode == 2 and "--workers" in refused.stderr, bad

    def test_run_is_recorded_in_ckan(self, harvest):
        done = harvest("koblenz")
        assert done.returncode == 0, done.stderr
        runs = call_action("vierstaedte_harvest_run_list", organization="koblenz")["results"]
        assert len(runs) == 1 and runs[0]["status"] == "ok" and runs[0]["counts"]["added"] == 1
        shown = call_action("vierstaedte_harvest_run_show", id=runs[0]["id"])
        assert shown["report"]["datasets"][0]["status"] == "added"


@pytest.mark.usefixtures("with_plugins")
class TestReruns:
    def test_unchanged_source_means_zero_writes(self, harvest):
        ok(harvest("mainz"))
        before = published_state()
        modified = {n: d["metadata_modified"] for n, d in city_datasets("mainz").items()}

        again = harvest("mainz")
        assert again.returncode == 0, again.stderr
        summary = report(again)
        assert summary["counts"]["unchanged"] == 3 and summary["dataset_writes"] == 0
        assert published_state() == before
        assert {n: d["metadata_modified"] for n, d in city_datasets("mainz").items()} == modified

    def test_lost_state_costs_downloads_not_writes(self, harvest):
        ok(harvest("koblenz"))
        before = published_state()
        (harvest.state / "koblenz.json").unlink()
        again = ok(harvest("koblenz"))
        assert again["dataset_writes"] == 0, again
        assert published_state() == before

    def test_dataset_lost_in_ckan_is_published_again(self, harvest):
        ok(harvest("ludwigshafen"))
        name = next(iter(city_datasets("ludwigshafen")))
        call_action(
            "dataset_purge", context=dict(SYSADMIN), id=name
        )  # e.g. a database restored from an old backup
        again = ok(harvest("ludwigshafen"))
        assert again["counts"]["added"] == 1
        assert list(city_datasets("ludwigshafen")) == [name]

    def test_changed_file_updates_in_place(self, harvest, replay):
        ok(harvest("koblenz"))
        dataset = next(iter(city_datasets("koblenz").values()))
        ids = {role: r["id"] for role, r in by_role(dataset).items()}
        table = replay.root / "files" / "koblenz" / "einwohner-stadtteile.csv"
        table.write_bytes(
            table.read_bytes().replace(
                b"Metternich;31.12.2023;9.560", b"Metternich;31.12.2023;9.999"
            )
        )

        again = harvest("koblenz")
        assert again.returncode == 0, again.stderr
        assert report(again)["counts"]["updated"] == 1
        dataset = next(iter(city_datasets("koblenz").values()))
        assert {role: r["id"] for role, r in by_role(dataset).items()} == ids  # stable resource ids
        rows = call_action(
            "datastore_search",
            resource_id=ids["normalised"],
            filters={"area_name": "Metternich", "sex": "total", "nationality": "total"},
        )["records"]
        assert [float(r["value"]) for r in rows] == [9999.0]

    def test_dataset_removed_at_source_is_withdrawn_not_purged(self, harvest, replay):
        ok(harvest("mainz"))
        (replay.root / "ckan" / "packages" / "stadtplan-mainz-wms.json").unlink()
        again = harvest("mainz")
        assert again.returncode == 0, again.stderr
        withdrawn = [d for d in report(again)["datasets"] if d["status"] == "withdrawn"]
        assert len(withdrawn) == 1
        dataset = call_action("package_show", context=dict(SYSADMIN), id=withdrawn[0]["ckan_name"])
        assert (
            dataset["state"] == "deleted"
        )  # soft: recoverable, and back when the source lists it again
        assert call_action("package_search", fq="organization:mainz")["count"] == 2


@pytest.mark.usefixtures("with_plugins")
class TestFaultsLeavePublishedDataIntact:
    @pytest.mark.parametrize(
        "fault, status, code",
        [
            ({"status": 500, "times": 5}, "errored", "http-error"),
            ({"delay": 3, "times": 5}, "errored", "timeout"),
            (
                {"body": b"<!DOCTYPE html><html><body>Wartung</body></html>", "times": 5},
                "rejected",
                "html-instead-of-csv",
            ),
            ({"truncate": 160, "times": 5}, "rejected", "truncated-file"),
        ],
        ids=["http-500", "timeout", "html-error-page", "truncated-csv"],
    )
    def test_broken_file(self, harvest, replay, fault, status, code):
        ok(harvest("mainz"))
        before = published_state()
        table = replay.root / "files" / "mainz" / "einwohner-ortsbezirke.csv"
        table.write_bytes(
            table.read_bytes().replace(b"25.301", b"25.302")
        )  # a change, so it is fetched
        (harvest.state / "mainz.json").unlink()  # and no cached ETag spares the download
        replay.faults["/files/mainz/einwohner-ortsbezirke.csv"] = fault

        broken = harvest("mainz")
        assert broken.returncode == 3, (
            broken.stdout + broken.stderr
        )  # partial: the other datasets are fine
        summary = report(broken)
        assert summary["status"] == "partial"
        entry = next(d for d in summary["datasets"] if d["status"] not in ("unchanged", "updated"))
        assert entry["status"] == status and entry["errors"][0]["code"] == code
        assert published_state() == before

    def test_only_dataset_failing_is_a_failed_run(self, harvest, replay):
        replay.faults["/files/koblenz/einwohner-stadtteile.csv"] = {"status": 503, "times": 5}
        failed = harvest("koblenz")
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert report(failed)["status"] == "failed" and city_datasets("koblenz") == {}

    def test_source_listing_failure_withdraws_nothing(self, harvest, replay):
        ok(harvest("mainz"))
        before = published_state()
        replay.faults["/ckan/api/3/action/package_search"] = {"status": 500, "times": 10}
        failed = harvest("mainz")
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert report(failed)["source_errors"][0]["code"] == "source-error"
        assert published_state() == before


@pytest.mark.usefixtures("with_plugins")
class TestCronBehaviour:
    def test_token_of_another_city_is_refused(self, harvest, platform):
        done = harvest("mainz", token=platform["tokens"]["trier"])
        assert done.returncode == 1
        assert "token-scope" in done.stderr and "mainz" in done.stderr
        assert city_datasets("mainz") == {}

    def test_sysadmin_token_is_refused(self, harvest, platform):
        done = harvest("mainz", token=platform["admin_token_file"])
        assert done.returncode == 1 and "token-scope" in done.stderr

    def test_token_never_in_output_or_report(self, harvest, platform):
        done = harvest("mainz")
        token = platform["tokens"]["mainz"].read_text().strip()
        assert token not in done.stdout + done.stderr
        assert token not in json.dumps(report(done))

    def test_second_run_of_a_city_waits_for_the_lock(self, harvest, replay):
        replay.faults["/ckan/api/3/action/package_search"] = {"delay": 3, "times": 1}
        first = harvest("mainz", wait=False)
        time.sleep(1.5)
        second = harvest("mainz")
        assert second.returncode == 4, second.stdout + second.stderr
        assert first.wait(timeout=120) == 0

    def test_dry_run_writes_nothing(self, harvest):
        done = harvest("ludwigshafen", "--dry-run")
        assert done.returncode == 0, done.stderr
        assert report(done)["counts"]["added"] == 1
        assert city_datasets("ludwigshafen") == {}
