"""Services failing under a harvest: Solr killed, PostgreSQL restarted, Redis gone — on a private stack.

Each fault strikes at an exact point of the run: a :class:`CkanTap` between
the harvester and CKAN acts before (or after) a chosen write call.
"""

from __future__ import annotations

import json

import pytest

from tests.faults.checks import half_written, search_differences
from tests.harvesting import CkanTap


def report(process) -> dict:
    path = process.stdout.rsplit("report: ", 1)[-1].strip()
    assert path != "-", process.stdout + process.stderr
    return json.loads(open(path, encoding="utf-8").read())


def ok(process) -> dict:
    assert process.returncode == 0, process.stdout + process.stderr
    return report(process)


def datastore_rows(stack, city: str) -> list[int]:
    tables = stack.datastore_tables()
    return sorted(
        tables[rid]
        for d in stack.datasets_in_db(city).values()
        for rid, r in d["resources"].items()
        if r.get("datastore_active")
    )


def orphan_tables(stack) -> list[str]:
    active = {
        rid
        for d in stack.datasets_in_db().values()
        for rid, r in d["resources"].items()
        if r.get("datastore_active")
    }
    return sorted(set(stack.datastore_tables()) - active)


@pytest.fixture
def tap(private_stack):
    with CkanTap(private_stack.url) as running:
        yield running


def test_solr_killed_mid_harvest_then_rebuilt(private_stack, replay, tap):
    stack = private_stack

    def kill_solr(number, action):
        if action == "datastore_create" and stack.solr.process.poll() is None:
            stack.solr.kill()  # the first dataset's files are in, its table is being created

    tap.before_write = kill_solr
    broken = stack.harvest("mainz", replay, ckan_url=tap.base)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    summary = report(broken)
    assert summary["status"] == "failed"
    errors = [e for d in summary["datasets"] for e in d["errors"]]
    assert {e["code"] for e in errors} == {"search-index"} and len(errors) == 3, errors
    assert errors[0]["message"].startswith(
        "datastore_create: "
    )  # the table's flag could not be indexed
    assert all(
        e["message"].startswith("package_create: ") for e in errors[1:]
    )  # then no dataset gets indexed
    assert all("Solr" in e["message"] for e in errors) and "(Solr down?)" in broken.stderr
    assert stack.solr.process.poll() is not None  # it really was down
    runs = stack.admin.action.vierstaedte_harvest_run_list(organization="mainz")["results"]
    assert [r["status"] for r in runs] == ["failed"]  # the run is on record even without search
    assert half_written(stack, "mainz") == []

    # a run that starts while Solr is down stops at once, says why, and writes nothing
    writes_before = len(tap.writes)
    tap.before_write = None
    down = stack.harvest("mainz", replay, ckan_url=tap.base)
    assert down.returncode == 1, down.stdout + down.stderr
    assert report(down)["source_errors"][0]["code"] == "search-error"
    assert "search server (Solr)" in down.stderr
    assert set(tap.writes[writes_before:]) <= {"vierstaedte_harvest_run_create"}

    stack.solr.start()
    stack.ckan("search-index", "rebuild")
    assert search_differences(stack) == []
    assert stack.admin.action.package_search(fq="organization:mainz", include_private=True)[
        "count"
    ] == len(stack.datasets_in_db("mainz"))

    ok(stack.harvest("mainz", replay, ckan_url=tap.base))
    assert len(stack.datasets_in_db("mainz")) == 3
    assert datastore_rows(stack, "mainz") == [18, 33]
    assert half_written(stack, "mainz") == [] and orphan_tables(stack) == []
    assert search_differences(stack) == []
    assert report(stack.harvest("mainz", replay))["dataset_writes"] == 0


def test_postgresql_restarted_between_and_during_calls(private_stack, replay, tap):
    stack = private_stack
    failed_call = []

    def before(number, action):
        if number == 1:  # a restart between two calls: CKAN's pooled connections are dead now
            stack.postgres.stop()
            stack.postgres.start()
        elif action == "datastore_create" and not failed_call:  # the table and its rows
            stack.postgres.stop()  # down while CKAN handles this call …
            failed_call.append(number)

    def after(number, action):
        if failed_call == [number]:
            stack.postgres.start()  # … and back for the next one

    tap.before_write, tap.after_write = before, after
    broken = stack.harvest("trier", replay, ckan_url=tap.base)
    assert failed_call, tap.writes
    assert broken.returncode == 3, broken.stdout + broken.stderr  # the other dataset went through
    summary = report(broken)
    errored = [d for d in summary["datasets"] if d["status"] == "errored"]
    assert len(errored) == 1 and errored[0]["errors"][0]["code"] == "ckan-error"
    assert "internal error (HTTP 500)" in errored[0]["errors"][0]["message"]
    assert half_written(stack, "trier") == []

    tap.before_write = tap.after_write = None
    again = ok(stack.harvest("trier", replay, ckan_url=tap.base))
    assert again["counts"]["errored"] == 0
    assert len(stack.datasets_in_db("trier")) == 2 and datastore_rows(stack, "trier") == [48]
    assert half_written(stack, "trier") == [] and orphan_tables(stack) == []
    assert search_differences(stack) == []


# the database refuses every new dataset's commit, as a node killed at that moment leaves it: the
# trigger fires at COMMIT, after CKAN has indexed the dataset in Solr
REFUSE_NEW_DATASETS = """
CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'commit refused by the test'; END $$;
CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT ON package
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit();
"""


def test_a_dataset_indexed_but_not_committed_is_created_again(private_stack, replay):
    """CKAN indexes a dataset before its database commits it; a write cut between the two leaves
    the search listing a dataset the database lacks. The next run must not take the search's
    word (with its state) for it, and must say how the index entry left behind goes."""
    stack, city = private_stack, "ludwigshafen"
    ok(stack.harvest(city, replay))
    names = {d["name"] for d in stack.datasets_in_db(city).values()}
    victim = min(names)
    stack.admin.action.dataset_purge(id=victim)

    stack.postgres.psql(REFUSE_NEW_DATASETS, "ckan")
    try:
        cut = stack.harvest(city, replay)
    finally:
        stack.postgres.psql(
            "DROP TRIGGER refuse_commit ON package; DROP FUNCTION refuse_commit()", "ckan"
        )
    assert cut.returncode == 1, cut.stdout + cut.stderr  # the city's one dataset failed
    assert [(d["ckan_name"], d["status"]) for d in report(cut)["datasets"]] == [(victim, "errored")]
    listed = stack.admin.action.package_search(fq=f"organization:{city}", rows=100)["results"]
    assert victim in {d["name"] for d in listed}  # what the cut write left: in the index only
    assert victim not in {d["name"] for d in stack.datasets_in_db(city).values()}

    rerun = stack.harvest(city, replay)
    again = ok(rerun)
    assert [d["status"] for d in again["datasets"] if d["ckan_name"] == victim] == ["added"]
    assert {d["name"] for d in stack.datasets_in_db(city).values()} == names
    assert half_written(stack, city) == []
    assert f"dataset {victim}: the search lists it, the database does not" in rerun.stderr
    assert "`ckan search-index clear-orphans`" in rerun.stderr
    assert search_differences(stack) == [f"only in Solr: {victim}"]  # the cut write's entry
    stack.ckan("search-index", "clear-orphans")
    assert search_differences(stack) == []
    assert report(stack.harvest(city, replay))["dataset_writes"] == 0


def test_redis_unavailable(private_stack, replay):
    """Redis holds CKAN's job queue only; a harvest neither needs it nor queues jobs that would need it."""
    stack = private_stack
    stack.redis.stop()
    try:
        done = ok(stack.harvest("koblenz", replay))
        assert done["counts"]["added"] == 1
        rows = datastore_rows(stack, "koblenz")
        assert len(rows) == 1 and rows[0] > 0
        table, resource = next(
            (rid, r)
            for d in stack.datasets_in_db("koblenz").values()
            for rid, r in d["resources"].items()
            if r.get("role") == "normalised"
        )
        assert resource.get("datastore_hash")
        assert stack.admin.action.datastore_search(resource_id=table, limit=0)["total"] == rows[0]
        assert half_written(stack, "koblenz") == []
    finally:
        stack.redis.start()
    assert report(stack.harvest("koblenz", replay))["dataset_writes"] == 0
