"""The AI tools read the observation store: a call costs the same few SQL statements however many
tables the catalogue holds, reads no table through the DataStore, and never answers with rows of
a dataset that is private or withdrawn, even while the store still held them."""

from __future__ import annotations

import json

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


# --- a city holding more rows of the indicator than the bound ------------------------------------

AGES = ["total", "0-2", "3-5", "6-9", "10-14", "15-17", "18-20", "21-24", "25-29", "30-34"]
AGES += ["35-39", "40-44", "45-49", "50-54", "55-59", "60-64", "65-79", "80-84", "85-89", "90+"]
YEARS = range(1997, 2024)  # 27 years × 16 areas × 3 sexes × 20 age groups = 25,920 rows


def mainz_value(area: int, sex: int, age: int, year: int) -> int:
    return 200_000 + year if (area, sex, age) == (0, 0, 0) else area * 10_000 + sex * 1000 + age


@pytest.fixture
def large(clean_datastore, cities):
    """Mainz: one table of 25,920 population rows (every Ortsbezirk, sex, age group, 27 years),
    more than ``data.ROW_BOUND``; Trier: a small one; the store's statistics up to date."""
    from vierstaedte_contract import areas

    mainz = [(a.level, a.code or "", a.name) for a in areas.areas("mainz")]
    template = Observation(city="mainz")
    records = [
        dict(
            template,
            area_level=level,
            area_code=code,
            area_name=name,
            sex=sex,
            age_group=age,
            period=str(year),
            value=mainz_value(a, s, g, year),
        )
        for year in YEARS
        for a, (level, code, name) in enumerate(mainz)
        for s, sex in enumerate(("total", "female", "male"))
        for g, age in enumerate(AGES)
    ]
    assert len(records) == 25_920 > data.ROW_BOUND
    big = publish("mainz", "mainz-bevoelkerung-gross", records)
    small = publish(
        "trier",
        "trier-einwohner",
        [Observation(city="trier", period=p, value=v) for p, v in (("2022", 110), ("2023", 111))],
    )
    with store.write_engine().begin() as connection:
        connection.execute(sa.text(f"ANALYZE {store.ROWS}"))
    return {"mainz": big, "trier": small, "areas": mainz}


@pytest.fixture
def plans(monkeypatch):
    """The store's row reads of each tool call (``observations.rows.indicator_rows``), explained
    as they ran: per read, the rows PostgreSQL took from ``vierstaedte.observations``."""
    seen: list[tuple[str, dict]] = []

    def statement(_conn, _cursor, sql, parameters, *_args):
        if "PARTITION BY o.city" in sql:
            seen.append((sql, parameters))

    engine = store.read_engine()
    sa.event.listen(engine, "before_cursor_execute", statement)

    def explained() -> list[dict]:
        found = []
        with engine.connect() as connection:
            cursor = connection.connection.cursor()
            for sql, parameters in seen:
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", parameters)
                (plan,) = cursor.fetchone()
                plan = json.loads(plan) if isinstance(plan, str) else plan
                found.append(_scans(plan[0]["Plan"]))
        seen.clear()
        return found

    yield explained
    sa.event.remove(engine, "before_cursor_execute", statement)


def _scans(plan: dict) -> dict:
    """Per plan: the scans of the observations (node types) and the rows they read."""
    found = {"nodes": [], "read": 0}
    if plan.get("Relation Name") == "observations":
        found["nodes"].append(plan["Node Type"])
        loops = plan.get("Actual Loops", 1)
        found["read"] += loops * (
            plan["Actual Rows"]
            + plan.get("Rows Removed by Filter", 0)
            + plan.get("Rows Removed by Index Recheck", 0)
        )
    for child in plan.get("Plans", []):
        inner = _scans(child)
        found["nodes"] += inner["nodes"]
        found["read"] += inner["read"]
    return found


@pytest.mark.usefixtures("with_plugins")
def test_a_city_with_more_rows_than_the_bound_answers_from_the_question_rows(large, plans):
    compared = call_action("vierstaedte_tool_compare_cities", indicator="population_total")
    assert [(r["city"]["name"], r["period"], r["value"]) for r in compared["results"]] == [
        ("mainz", "2023", 202_023),
        ("trier", "2023", 111),
    ]
    assert [c["dataset_title"] for c in compared["citations"]] == [
        "Tabelle mainz-bevoelkerung-gross",
        "Tabelle trier-einwohner",
    ]
    assert "Koblenz" in compared["answer"] and compared["filter"]["period"] == "2023"
    (read,) = plans()
    # the city-wide totals only: 27 years of Mainz, 2 of Trier, through the filter index
    assert read["read"] == 29 and "Seq Scan" not in read["nodes"], read

    gonsenheim = [i for i, (_l, _c, name) in enumerate(large["areas"]) if name == "Gonsenheim"][0]
    one = call_action(
        "vierstaedte_tool_query_indicator",
        indicator="population_total",
        city="mainz",
        area_name="Gonsenheim",
        sex="female",
        age_group=["65-79", "90+"],
        period="2020",
    )
    assert [r["value"] for r in one["results"]] == [
        mainz_value(gonsenheim, 1, AGES.index("65-79"), 2020),
        mainz_value(gonsenheim, 1, AGES.index("90+"), 2020),
    ]
    assert one["results"][0]["sentence"].startswith(
        "Einwohner insgesamt, davon Frauen (weiblich), im Alter von 65 bis 79 Jahren, in "
        f"Gonsenheim (Ortsbezirk, Mainz) im Jahr 2020: {gonsenheim}1.016 "
    )
    assert one["citations"][0]["dataset_title"] == "Tabelle mainz-bevoelkerung-gross"
    (read,) = plans()
    # every area and year of those two age groups of women: 16 × 27 × 2
    assert read["read"] == 864 and "Seq Scan" not in read["nodes"], read

    districts = call_action(
        "vierstaedte_tool_query_indicator",
        indicator="population_total",
        city="mainz",
        area_level="ortsbezirk",
    )
    assert districts["filter"]["period"] == "2023" and districts["count"] == 15
    (read,) = plans()
    assert read["read"] == 15 * 27, read


@pytest.mark.usefixtures("with_plugins")
def test_a_large_city_refuses_with_what_its_coverage_summary_holds(large, plans):
    ages = call_action(
        "vierstaedte_tool_query_indicator",
        indicator="population_total",
        city="mainz",
        age_group="65+",
    )
    assert ages["available"] is False and ages["reason"] == "no_data_for_breakdown"
    assert [v["value"] for v in ages["alternatives"]["age_group"]] == AGES[1:] + ["total"]
    assert [v["value"] for v in ages["alternatives"]["sex"]] == ["female", "male", "total"]
    assert "age_group=65+" in ages["message"] and "0-2, 3-5, 6-9, 10-14" in ages["message"]
    assert [c["dataset_title"] for c in ages["citations"]] == ["Tabelle mainz-bevoelkerung-gross"]
    level = call_action(
        "vierstaedte_tool_query_indicator",
        indicator="population_total",
        city="mainz",
        area_level="wahlbezirk",
    )
    assert level["reason"] == "no_data_for_level"
    assert level["alternatives"]["area_levels"] == ["stadt", "ortsbezirk"]
    area = call_action(
        "vierstaedte_tool_query_indicator",
        indicator="population_total",
        city="mainz",
        area_name="Gonsenhiem",
    )
    assert area["reason"] == "unknown_area"
    assert area["alternatives"]["areas"][0]["name"] == "Gonsenheim"
    period = call_action(
        "vierstaedte_tool_query_indicator",
        indicator="population_total",
        city="mainz",
        period="1990",
    )
    assert period["reason"] == "no_data_for_period"
    assert period["alternatives"]["periods"] == [str(year) for year in YEARS]
    # none of them read more than the question's rows
    assert all(read["read"] <= 27 * 16 for read in plans())
    # a comparison of an indicator no city holds reads no rows at all
    unknown = call_action("vierstaedte_tool_compare_cities", indicator="unemployed")
    assert unknown["reason"] == "no_data_for_indicator" and plans() == []


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize(
    "query",
    [
        "cities=trier",
        "cities=trier,mainz",
        "cities=trier&cities=mainz",
        "cities=trier&age_group=total",
    ],
)
def test_lists_as_query_string_parameters(app, clean_datastore, cities, query):
    publish("mainz", "mainz-einwohner", [Observation(value=222000)])
    publish("trier", "trier-einwohner", [Observation(city="trier", value=111000)])
    response = app.get(
        f"/api/3/action/vierstaedte_tool_compare_cities?indicator=population_total&{query}"
    )
    assert response.status_code == 200, response.body
    result = response.json["result"]
    expected = ["trier", "mainz"] if "mainz" in query else ["trier"]
    assert sorted(result["filter"]["cities"]) == sorted(expected)
    assert sorted(r["value"] for r in result["results"]) == sorted(
        {"trier": 111000, "mainz": 222000}[c] for c in expected
    )


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize(
    "query, field, message",
    [
        ("cities=trier,paris", "cities", "Unbekannter Wert: paris. Erlaubt sind: mainz"),
        ("cities=trier,", "cities", "Leerer Wert; mehrere Werte durch Kommas trennen"),
        ("cities=trier&age_group=65-79,80plus", "age_group", "Ungültiges Format: 80plus"),
    ],
)
def test_a_bad_value_in_a_query_string_list_is_named(app, cities, query, field, message):
    response = app.get(
        f"/api/3/action/vierstaedte_tool_compare_cities?indicator=population_total&{query}"
    )
    assert response.status_code == 409
    error = response.json["error"]
    assert any(message in text for text in error[field]), error
