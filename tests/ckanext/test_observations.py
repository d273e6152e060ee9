"""The observation store follows publishing: after every way a table or its dataset changes, the
store holds exactly the rows ``datastore_search`` gives of the public, valid tables; a table that
breaks the contract is recorded with its reason; rebuild converges; check reports drift."""

from __future__ import annotations

import ckan.plugins.toolkit as tk
import pytest
import sqlalchemy as sa
from ckan.tests.helpers import call_action

from ckanext.vierstaedte.cli import vierstaedte
from ckanext.vierstaedte.logic import tables
from ckanext.vierstaedte.observations import store, sync
from tests.ckanext.test_indicators import publish
from tests.factories import Observation
from vierstaedte_contract import table
from vierstaedte_contract.dataset import NORMALISED, resource_with_role

SYSADMIN = {"ignore_auth": True}


def as_admin(action: str, **data):
    """An action as a sysadmin (the activity stream wants a real user)."""
    from ckan.tests import factories

    return call_action(action, context={"user": factories.Sysadmin()["name"]}, **data)


@pytest.fixture
def empty_store(clean_datastore):
    """An empty DataStore, and so an empty store (``clean_datastore`` empties both)."""
    store.ensure()
    assert stored() == [] and state() == {}


def normalised(dataset: dict) -> str:
    return resource_with_role(dataset, NORMALISED)["id"]


def source_rows(resource_id: str) -> list[tuple]:
    """The table's rows as ``datastore_search`` gives them, the contract's columns only."""
    found = call_action("datastore_search", context=dict(SYSADMIN), resource_id=resource_id)
    return sorted(_row(record) for record in found["records"])


def _row(record: dict) -> tuple:
    return tuple(
        table.number(record[name]) if name == "value" else record[name]
        for name in table.field_names()
    )


def stored(resource_id: str | None = None) -> list[tuple]:
    """The store's rows (of one table), the contract's columns only."""
    where, params = ("WHERE resource_id = :rid", {"rid": resource_id}) if resource_id else ("", {})
    with store.read_engine().connect() as connection:
        found = store.rows(connection, f"SELECT * FROM {store.ROWS} {where}", **params)
    return sorted(_row(record) for record in found)


def state() -> dict[str, dict]:
    with store.read_engine().connect() as connection:
        return {
            row["resource_id"]: row
            for row in store.rows(connection, f"SELECT * FROM {store.TABLES}")
        }


def write(statement: str, **params) -> None:
    with store.write_engine().begin() as connection:
        connection.execute(sa.text(statement), params)


@pytest.fixture
def mainz(empty_store, cities):
    return publish(
        "mainz",
        "mainz-einwohner",
        [
            Observation(period="2022", value=221000),
            Observation(period="2023", value=222000),
            Observation(period="2022/2023", value=1.5, indicator="population_share"),
        ],
    )


@pytest.mark.usefixtures("with_plugins")
class TestFollowsPublishing:
    def test_a_published_table_is_in_the_store_with_its_citation(self, mainz):
        rid = normalised(mainz)
        assert stored() == source_rows(rid) and len(stored()) == 3
        with store.read_engine().connect() as connection:
            found = store.rows(
                connection,
                f"SELECT period, year, dataset_id, dataset_name, resource_id FROM {store.ROWS} "
                "ORDER BY source_row",
            )
        assert [(r["period"], r["year"]) for r in found] == [
            ("2022", 2022),
            ("2023", 2023),
            ("2022/2023", 2023),
        ]
        assert {(r["dataset_id"], r["dataset_name"], r["resource_id"]) for r in found} == {
            (mainz["id"], "mainz-einwohner", rid)
        }
        assert state()[rid]["status"] == store.STORED and state()[rid]["row_count"] == 3

    def test_changed_appended_and_deleted_rows(self, mainz):
        rid = normalised(mainz)
        as_admin(
            "datastore_upsert",
            resource_id=rid,
            records=[Observation(period="2023", value=222500)],
            method="upsert",
            force=True,
        )
        assert 222500 in [row[12] for row in stored()]
        assert stored() == source_rows(rid)
        as_admin(  # the harvester's batches after the first
            "datastore_upsert",
            resource_id=rid,
            records=[Observation(period="2024", value=223000)],
            method="insert",
            force=True,
        )
        assert stored() == source_rows(rid) and state()[rid]["row_count"] == 4
        as_admin(
            "datastore_delete",
            resource_id=rid,
            filters={"period": "2022"},
            force=True,
        )
        assert stored() == source_rows(rid) and len(stored()) == 3
        as_admin("datastore_delete", resource_id=rid, force=True)
        assert stored() == [] and state() == {}

    def test_the_coverage_summary_follows_the_rows(self, mainz):
        rid = normalised(mainz)

        def summary() -> dict[str, tuple]:
            with store.read_engine().connect() as connection:
                found = store.rows(connection, f"SELECT * FROM {store.COVERAGE}")
            return {
                r["indicator"]: (r["resource_id"], r["period_from"], r["period_to"], r["row_count"])
                for r in found
            }

        assert summary() == {
            "population_total": (rid, "2022", "2023", 2),
            "population_share": (rid, "2022/2023", "2022/2023", 1),
        }
        as_admin(
            "datastore_upsert",
            resource_id=rid,
            records=[Observation(period="2024", value=223000)],
            method="insert",
            force=True,
        )
        assert summary()["population_total"] == (rid, "2022", "2024", 3)
        write(f"UPDATE {store.COVERAGE} SET row_count = 7 WHERE indicator = 'population_total'")
        assert [(d.kind, d.resource_id) for d in sync.check()] == [("coverage", rid)]
        sync.rebuild()
        assert summary()["population_total"] == (rid, "2022", "2024", 3) and sync.check() == []
        as_admin("package_patch", id=mainz["id"], private=True)
        assert summary() == {}

    def test_private_withdrawn_deleted_resource_and_back(self, mainz):
        rid = normalised(mainz)
        as_admin("package_patch", id=mainz["id"], private=True)
        assert stored() == [] and state() == {}
        as_admin("package_patch", id=mainz["id"], private=False)
        assert stored() == source_rows(rid)
        as_admin("package_delete", id=mainz["name"])  # withdrawn
        assert stored() == [] and state() == {}
        as_admin("package_patch", id=mainz["id"], state="active")
        assert stored() == source_rows(rid)
        as_admin("resource_delete", id=rid)
        assert stored() == [] and state() == {}

    def test_an_organisations_bulk_actions(self, mainz, cities):
        rid = normalised(mainz)
        bulk = {"datasets": [mainz["id"]], "org_id": cities["mainz"]["id"]}
        as_admin("bulk_update_private", **bulk)
        assert stored() == []
        as_admin("bulk_update_public", **bulk)
        assert stored() == source_rows(rid)
        as_admin("bulk_update_delete", **bulk)
        assert stored() == []

    def test_a_private_table_never_enters(self, empty_store, cities):
        draft = publish("trier", "trier-entwurf", [Observation(city="trier")], private=True)
        assert stored() == [] and state() == {}
        as_admin("package_patch", id=draft["id"], notes="geändert")
        assert stored() == [] and sync.check() == []

    def test_a_rename_updates_the_citation(self, mainz):
        as_admin("package_patch", id=mainz["id"], name="mainz-neu")
        with store.read_engine().connect() as connection:
            names = connection.execute(
                sa.text(f"SELECT DISTINCT dataset_name FROM {store.ROWS}")
            ).scalars()
            assert list(names) == ["mainz-neu"]

    def test_rows_of_another_city_are_not_the_publishers(self, empty_store, cities):
        mixed = publish(
            "mainz", "mainz-gemischt", [Observation(), Observation(city="trier", period="2021")]
        )
        assert [row[0] for row in stored(normalised(mixed))] == ["mainz"]
        assert sync.check() == []


@pytest.mark.usefixtures("with_plugins")
class TestSkipped:
    def test_a_failed_validation_is_recorded_with_its_reason(self, mainz):
        rid = normalised(mainz)
        as_admin("package_patch", id=mainz["id"], validation_status="rejected")
        assert stored() == []
        assert state()[rid]["status"] == store.SKIPPED
        assert state()[rid]["reason"].startswith("Die Tabelle hat die Prüfung nicht bestanden")
        as_admin("package_patch", id=mainz["id"], validation_status="valid")
        assert stored() == source_rows(rid) and state()[rid]["status"] == store.STORED

    def test_a_stored_reason_is_worded_in_the_readers_language(self, app, mainz):
        as_admin("package_patch", id=mainz["id"], validation_status="rejected")
        assert "Die Tabelle hat die Prüfung nicht bestanden" in app.get("/vergleich").body
        assert "The table did not pass validation" in app.get("/en/vergleich").body

    def test_a_row_breaking_the_contract_skips_the_table_with_the_readers_reason(
        self, empty_store, cities
    ):
        bad = Observation(period="2023")
        bad["sex"] = "beide"
        broken = publish("mainz", "mainz-kaputt", [Observation(period="2022"), bad])
        rid = normalised(broken)
        assert stored() == []
        assert state()[rid]["status"] == store.SKIPPED
        assert state()[rid]["reason"] == tables.row_problem(bad)
        assert sync.check() == []

    def test_an_appended_row_breaking_the_contract_skips_the_table(self, mainz):
        rid = normalised(mainz)
        bad = Observation(period="2024")
        bad["period"] = "im Jahr 2024"
        as_admin(
            "datastore_upsert",
            resource_id=rid,
            records=[bad],
            method="insert",
            force=True,
        )
        assert stored() == [] and state()[rid]["reason"] == tables.row_problem(bad)

    def test_a_missing_column_is_recorded(self, empty_store, cities):
        fields = [f for f in table.datastore_fields() if f["id"] != "unit"]
        records = [{k: v for k, v in Observation().items() if k != "unit"}]
        broken = publish("mainz", "mainz-ohne-einheit", records, fields=fields)
        reason = state()[normalised(broken)]["reason"]
        assert reason == "Der Tabelle fehlen Spalten des gemeinsamen Schemas: unit."
        assert stored() == []


@pytest.mark.usefixtures("with_plugins")
class TestRebuildAndCheck:
    def test_rebuild_converges_from_an_empty_store(self, mainz, cli):
        rid = normalised(mainz)
        store.clear()
        result = cli.invoke(vierstaedte, ["observations", "check"])
        assert result.exit_code == 1, result.output
        assert f"missing: {rid}" in result.output
        result = cli.invoke(vierstaedte, ["observations", "rebuild"])
        assert result.exit_code == 0, result.output
        assert "1 Tabellen gespeichert" in result.output
        assert stored() == source_rows(rid)
        result = cli.invoke(vierstaedte, ["observations", "check"])
        assert result.exit_code == 0, result.output

    def test_rebuild_converges_from_a_corrupted_store(self, mainz, cli):
        rid = normalised(mainz)
        write(f"DELETE FROM {store.ROWS} WHERE period = '2022'")
        write(f"UPDATE {store.ROWS} SET value = 0")
        write(
            f"INSERT INTO {store.ROWS} (city, indicator, resource_id, dataset_id) "
            "VALUES ('mainz', 'population_total', 'verwaist', 'weg')"
        )
        drift = {(d.kind, d.resource_id) for d in sync.check()}
        assert drift == {("rows", rid), ("extra", "verwaist")}
        result = cli.invoke(vierstaedte, ["observations", "check"])
        assert result.exit_code == 1 and "extra: verwaist" in result.output
        sync.rebuild()
        sync.rebuild()  # idempotent
        assert stored() == source_rows(rid) and sync.check() == []

    def test_rebuild_removes_a_purged_dataset(self, mainz):
        as_admin("dataset_purge", id=mainz["id"])  # calls no hook
        assert [d.kind for d in sync.check()] == ["extra"]
        sync.rebuild()
        assert stored() == [] and state() == {} and sync.check() == []


@pytest.mark.usefixtures("with_plugins")
class TestNoWayIn:
    """The store is read by the read-only role, but not through the DataStore's public actions."""

    def test_the_read_only_role_reads_it(self, mainz):
        with store.read_engine().connect() as connection:
            assert connection.execute(sa.text(f"SELECT count(*) FROM {store.ROWS}")).scalar() == 3

    def test_sql_search_refuses_it(self, mainz):
        for statement in (
            f"SELECT * FROM {store.ROWS}",
            f"SELECT * FROM {store.TABLES}",
            f'SELECT * FROM "{store.SCHEMA}"."observations"',
            "SELECT * FROM observations",
        ):
            with pytest.raises((tk.NotAuthorized, tk.ObjectNotFound, tk.ValidationError)):
                call_action("datastore_search_sql", context={"user": ""}, sql=statement)

    def test_search_does_not_find_it(self, mainz):
        for name in (store.ROWS, "observations", store.TABLES):
            with pytest.raises((tk.ObjectNotFound, tk.NotAuthorized, tk.ValidationError)):
                call_action("datastore_search", context={"user": ""}, resource_id=name)
