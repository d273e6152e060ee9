"""The AI tools read the observation store: a call costs the same few SQL statements however many
tables the catalogue holds, reads no table through the DataStore, and never answers with rows of
a dataset that is private or withdrawn, even while the store still held them."""

from __future__ import annotations

import ckan.plugins.toolkit as tk
import pytest
import sqlalchemy as sa
from ckan.tests.helpers import call_action

from ckanext.vierstaedte.logic import tables
from ckanext.vierstaedte.logic.tools import data
from ckanext.vierstaedte.observations import store
from tests.ckanext.test_indicators import publish
from tests.factories import Observation
from vierstaedte_contract.dataset import NORMALISED, resource_with_role

CALLS = {
    "query": (
        "vierstaedte_tool_query_indicator",
        {"indicator": "population_total", "city": "mainz"},
    ),
    "no_data": ("vierstaedte_tool_query_indicator", {"indicator": "unemployed", "city": "mainz"}),
    "compare": ("vierstaedte_tool_compare_cities", {"indicator": "population_total"}),
    "list": ("vierstaedte_tool_list_indicators", {}),
}


def as_admin(action: str, **data_dict):
    from ckan.tests import factories

    return call_action(action, context={"user": factories.Sysadmin()["name"]}, **data_dict)


def tables_of(number: int, start: int = 0) -> None:
    """``number`` more tables, spread over Mainz, Trier and Koblenz."""
    for i in range(start, start + number):
        city = ("mainz", "trier", "koblenz")[i % 3]
        publish(
            city,
            f"{city}-tabelle-{i:02d}",
            [
                Observation(city=city, period="2023", value=1000 + i),
                Observation(city=city, period="2022", value=2000 + i, indicator="households"),
            ],
        )


@pytest.fixture
def measured(monkeypatch):
    """Per tool call: SQL statements on the read engine and searches of the catalogue. Reading a
    table through the DataStore fails the test."""
    counts = {"sql": 0, "search": 0}

    def statement(*_args, **_kwargs):
        counts["sql"] += 1

    def no_datastore(action, *_args, **_kwargs):
        raise AssertionError(f"a tool read a table through {action}")

    real_search = data.exports.public_datasets

    def search(*args, **kwargs):
        counts["search"] += 1
        return real_search(*args, **kwargs)

    monkeypatch.setattr(tables, "_call", no_datastore)
    monkeypatch.setattr(data.exports, "public_datasets", search)
    engine = store.read_engine()
    sa.event.listen(engine, "before_cursor_execute", statement)

    def run(name: str) -> dict:
        tool, arguments = CALLS[name]
        counts.update(sql=0, search=0)
        result = call_action(tool, **arguments)
        return {"result": result, **counts}

    yield run
    sa.event.remove(engine, "before_cursor_execute", statement)


@pytest.mark.usefixtures("with_plugins")
def test_a_tool_call_costs_the_same_statements_for_3_or_12_tables(
    clean_datastore, cities, measured
):
    tables_of(3)
    for name in CALLS:  # the engine's first connection and the store's tables, once
        measured(name)
    small = {name: measured(name) for name in CALLS}
    tables_of(9, start=3)
    big = {name: measured(name) for name in CALLS}

    # the answers grew with the catalogue …
    assert len(big["compare"]["result"]["citations"]) > len(small["compare"]["result"]["citations"])
    listed = {i["id"]: i["rows"] for i in big["list"]["result"]["indicators"]}
    assert listed == {"population_total": 12, "households": 12}
    assert small["no_data"]["result"]["available"] is big["no_data"]["result"]["available"] is False
    # … their cost did not
    cost = {name: (m["sql"], m["search"]) for name, m in big.items()}
    assert cost == {name: (m["sql"], m["search"]) for name, m in small.items()}
    assert all(1 <= sql <= 5 and search <= 1 for sql, search in cost.values()), cost


@pytest.mark.usefixtures("with_plugins")
def test_rows_of_a_private_or_withdrawn_dataset_never_reach_an_answer(
    clean_datastore, cities, measured
):
    publish("mainz", "mainz-einwohner", [Observation(period="2023", value=222000)])
    hidden = [
        publish("mainz", name, [Observation(period="2030", value=value)])
        for name, value in (("mainz-privat", 777001), ("mainz-zurueckgezogen", 777002))
    ]
    held = {}
    with store.read_engine().connect() as connection:
        for dataset in hidden:
            rid = resource_with_role(dataset, NORMALISED)["id"]
            held[rid] = (
                store.rows(connection, f"SELECT * FROM {store.ROWS} WHERE resource_id = :r", r=rid),
                store.rows(
                    connection, f"SELECT * FROM {store.TABLES} WHERE resource_id = :r", r=rid
                ),
            )
            assert held[rid][0] and held[rid][1]
    assert "777001" in str(measured("query")["result"])  # published, it answers

    as_admin("package_patch", id=hidden[0]["id"], private=True)
    as_admin("package_delete", id=hidden[1]["id"])
    for name in CALLS:
        answer = str(measured(name)["result"])
        assert "777001" not in answer and "777002" not in answer
    assert [r["value"] for r in measured("query")["result"]["results"]] == [222000]

    # a store that lags behind (its rows put back as they were) still answers without them
    with store.write_engine().begin() as connection:
        for found in held.values():
            for rows, target in zip(found, (store.ROWS, store.TABLES), strict=True):
                delete = f"DELETE FROM {target} WHERE resource_id = :resource_id"
                connection.execute(sa.text(delete), rows[0])
                names = ", ".join(store.q(k) for k in rows[0])
                values = ", ".join(f":{k}" for k in rows[0])
                for row in rows:
                    connection.execute(
                        sa.text(f"INSERT INTO {target} ({names}) VALUES ({values})"), row
                    )
    with store.read_engine().connect() as connection:
        count = f"SELECT count(*) FROM {store.ROWS} WHERE value > 777000"
        assert connection.execute(sa.text(count)).scalar() == 2
    for name in CALLS:
        answer = str(measured(name)["result"])
        assert "777001" not in answer and "777002" not in answer
    assert [r["value"] for r in measured("query")["result"]["results"]] == [222000]


@pytest.mark.usefixtures("with_plugins")
def test_more_rows_than_the_bound_in_one_city_are_refused(clean_datastore, cities, monkeypatch):
    tables_of(6)  # two tables per city, one population row each
    monkeypatch.setattr(data, "ROW_BOUND", 1)
    with pytest.raises(tk.ValidationError) as refused:
        call_action(CALLS["query"][0], **CALLS["query"][1])
    assert "read_rows" in str(refused.value.error_dict["indicator"])
    with pytest.raises(tk.ValidationError):
        call_action(CALLS["compare"][0], **CALLS["compare"][1])
    monkeypatch.setattr(data, "ROW_BOUND", 2)  # two rows per city are within the bound
    answer = call_action(CALLS["compare"][0], **CALLS["compare"][1])
    assert sorted(r["value"] for r in answer["results"]) == [1000, 1001, 1002, 1003, 1004, 1005]
