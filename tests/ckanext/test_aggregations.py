"""Aggregations on the observation store (#19): sums over a breakdown, latest values, changes
and shares, on tables published as the harvester publishes them."""

from __future__ import annotations

import ckan.plugins.toolkit as tk
import pytest
from ckan.tests.helpers import call_action

from tests.factories import HarvestedDataset, Observation
from vierstaedte_contract.dataset import NORMALISED, resource_with_role


def publish(city: str, name: str, records: list[dict], **metadata) -> dict:
    return HarvestedDataset(
        city=city, name=name, title=f"Tabelle {name}", records=records, **metadata
    )


def rid(dataset: dict) -> str:
    return resource_with_role(dataset, NORMALISED)["id"]


@pytest.fixture
def tables(clean_datastore, cities):
    district = {"city": "mainz", "period": "2023", "area_level": "ortsbezirk"}
    mainz = publish(
        "mainz",
        "mainz-einwohner",
        [
            Observation(period="2021", value=220000),
            Observation(period="2023", value=222000),
            Observation(period="2023", value=110000, sex="female"),
            Observation(period="2023", value=112000, sex="male"),
            Observation(**district, area_name="Altstadt", area_code="01", value=21512),
            Observation(**district, area_name="Oberstadt", area_code="03", value=20000),
        ],
    )
    trier = publish(
        "trier",
        "trier-bevoelkerung",
        [
            Observation(city="trier", period="2023-12-31", value=111316),
            Observation(city="trier", period="2023-12-31", value=2921, age_group="0-2"),
            Observation(city="trier", period="2023-12-31", value=3000, age_group="3-5"),
            Observation(city="trier", period="2023-12-31", value=50, age_group="0-2", sex="female"),
        ],
    )
    # Koblenz: the part in one table, the total in another — no share across tables
    koblenz_part = publish(
        "koblenz",
        "koblenz-frauen",
        [Observation(city="koblenz", period="2023", value=57000, sex="female")],
    )
    koblenz_total = publish(
        "koblenz", "koblenz-einwohner", [Observation(city="koblenz", period="2023", value=114000)]
    )
    publish(
        "trier",
        "trier-entwurf",
        [
            Observation(city="trier", period="2023-12-31", value=999, age_group="6-9"),
            Observation(city="trier", period="2024", value=999999),
        ],
        private=True,
    )
    return {
        "mainz": mainz,
        "trier": trier,
        "koblenz_part": koblenz_part,
        "koblenz_total": koblenz_total,
    }


def aggregate(**data):
    return call_action("vierstaedte_indicator_aggregate", context={"user": ""}, **data)


def tool(**data):
    """The AI tool's answer, asked as an anonymous visitor asks it."""
    return call_action("vierstaedte_tool_aggregate_indicator", context={"user": ""}, **data)


@pytest.mark.usefixtures("with_plugins")
class TestAggregate:
    def test_sum_of_age_groups_never_adds_the_total_nor_private_rows(self, tables):
        result = aggregate(indicator="population_total", op="sum", over="age_group", cities="trier")
        assert result["count"] == 1
        (row,) = result["results"]
        assert row["sum"] == 5921 and row["rows_summed"] == 2  # not 111316, not the draft's 999
        assert sorted(row["summed"]) == ["0-2", "3-5"]  # the women's 0-2 has another sex
        assert row["published_total_exists"] is True and row["published_total"] == 111316
        assert row["total_equals_sum"] is False
        assert row["resource_id"] == rid(tables["trier"])
        assert result["query"]["over"] == "age_group" and "age_group" not in result["query"]
        assert result["query"]["sex"] == "total" and result["query"]["cities"] == ["trier"]
        assert [s["resource_id"] for s in result["sources"]] == [rid(tables["trier"])]
        assert result["sources"][0]["dataset_url"].endswith("/dataset/trier-bevoelkerung")
        assert result["skipped"] == []

    def test_sum_of_sexes_equals_the_published_total(self, tables):
        (row,) = aggregate(indicator="population_total", op="sum", over="sex", cities=["mainz"])[
            "results"
        ]
        assert (row["sum"], row["rows_summed"], row["published_total"]) == (222000, 2, 222000)
        assert row["total_equals_sum"] is True and row["period"] == "2023"

    def test_sum_of_areas_of_one_level(self, tables):
        (row,) = aggregate(
            indicator="population_total", op="sum", over="area", area_level="ortsbezirk"
        )["results"]
        assert (row["city"], row["sum"], row["rows_summed"]) == ("mainz", 41512, 2)
        assert row["published_total"] == 222000 and row["total_equals_sum"] is False

    def test_latest_per_city(self, tables):
        result = aggregate(indicator="population_total", op="latest")
        assert [(r["city"], r["period"], r["value"]) for r in result["results"]] == [
            ("mainz", "2023", 222000),
            ("trier", "2023-12-31", 111316),  # not the private 2024
            ("koblenz", "2023", 114000),
        ]

    def test_change_between_two_periods(self, tables):
        result = aggregate(
            indicator="population_total", op="change", period_from="2021", period_to="2023"
        )
        assert [
            (r["city"], r["value_from"], r["value_to"], r["change"], r["change_percent"])
            for r in result["results"]
        ] == [("mainz", 220000, 222000, 2000, 0.91)]
        assert result["query"]["period_from"] == "2021"

    def test_share_only_within_one_table(self, tables):
        result = aggregate(indicator="population_total", op="share", over="sex", part="female")
        assert [
            (r["city"], r["part_value"], r["total_value"], r["share_percent"])
            for r in result["results"]
        ] == [("mainz", 110000, 222000, 49.55)]
        # Koblenz's part and total are in two tables: no share
        assert all(r["resource_id"] == rid(tables["mainz"]) for r in result["results"])

    @pytest.mark.parametrize(
        "data, field, message",
        [
            ({"indicator": "unemployment_rate", "op": "sum", "over": "sex"}, "op", "nur Anzahlen"),
            (
                {"indicator": "population_share", "op": "share", "over": "sex", "part": "female"},
                "op",
                "keine Quoten",
            ),
            ({"indicator": "population_total", "op": "mean"}, "op", "Unbekannte Berechnung"),
            ({"indicator": "population_total", "op": "sum"}, "over", "worüber"),
            (
                {"indicator": "population_total", "op": "sum", "over": "area"},
                "area_level",
                "unterhalb der Stadt",
            ),
            (
                {"indicator": "population_total", "op": "change", "period_from": "2021"},
                "period_to",
                "beide Zeitpunkte",
            ),
            ({"indicator": "population_total", "op": "share", "over": "sex"}, "part", "den Teil"),
            ({"indicator": "happiness", "op": "latest"}, "indicator", "Unbekannter Indikator"),
            (
                {"indicator": "population_total", "op": "latest", "cities": "paris"},
                "cities",
                "Unbekannte Stadt",
            ),
        ],
    )
    def test_refusals(self, cities, data, field, message):
        with pytest.raises(tk.ValidationError) as raised:
            aggregate(**data)
        assert message in " ".join(raised.value.error_dict[field]), raised.value.error_dict

    def test_anonymous_get_over_the_api(self, app, tables):
        response = app.get(
            "/api/3/action/vierstaedte_indicator_aggregate",
            params={"indicator": "population_total", "op": "latest", "cities": "mainz"},
        )
        assert response.status_code == 200
        assert response.json["result"]["results"][0]["value"] == 222000


@pytest.mark.usefixtures("with_plugins")
class TestTool:
    def test_sum_in_words_with_sources(self, tables):
        result = tool(
            indicator="population_total",
            op="sum",
            over="age_group",
            cities=["trier"],
        )
        answer = result["answer"]
        assert "Summe über Altersgruppen (ohne die Zeilen „total“)" in answer
        assert "Summe 5.921" in answer and "aus 2 Zeilen (0-2, 3-5)" in answer
        # a city-wide row: its area is the city, named once
        assert "Trier 2023-12-31: Summe 5.921" in answer and "Trier, Trier" not in answer
        assert "veröffentlichte Gesamtzahl 111.316" in answer
        assert "Quellen: Tabelle trier-bevoelkerung (" in answer
        assert "/dataset/trier-bevoelkerung" in answer

    def test_share_in_english(self, tables):
        result = tool(
            indicator="population_total",
            op="share",
            over="sex",
            part="female",
            lang="en",
        )
        assert "share of female (sex) in the total of the same table" in result["answer"]
        assert "Mainz 2023: 110,000 of 222,000 = 49.55 %" in result["answer"]
        assert "= 49.55 %" in result["answer"] and result["count"] == 1

    def test_unknown_argument_is_refused(self, tables):
        with pytest.raises(tk.ValidationError) as raised:
            tool(
                indicator="population_total",
                op="sum",
                total=1,
            )
        assert "total" in raised.value.error_dict

    def test_anonymous_over_the_api(self, app, tables):
        response = app.post(
            "/api/3/action/vierstaedte_tool_aggregate_indicator",
            json={"indicator": "population_total", "op": "latest", "cities": ["trier"]},
        )
        assert response.status_code == 200, response.body
        assert "Trier 2023-12-31: 111.316" in response.json["result"]["answer"]

    def test_age_groups_in_their_natural_order_and_districts_by_name(self, tables):
        publish(
            "koblenz",
            "koblenz-alter",
            [
                Observation(city="koblenz", period="2023", value=v, age_group=a)
                for a, v in (("10-17", 8000), ("3-5", 3000), ("65-79", 16000), ("0-2", 2900))
            ],
        )
        result = tool(
            indicator="population_total",
            op="sum",
            over="age_group",
            cities=["koblenz"],
        )
        (row,) = result["results"]
        assert row["summed"] == ["0-2", "3-5", "10-17", "65-79"]  # not 0-2, 10-17, 3-5, 65-79
        assert (
            "Koblenz 2023: Summe 29.900 aus 4 Zeilen (0-2, 3-5, 10-17, 65-79)" in (result["answer"])
        )
        districts = tool(
            indicator="population_total",
            op="latest",
            area_level="ortsbezirk",
            cities=["mainz"],
        )
        assert "Mainz, Altstadt 2023: 21.512" in districts["answer"]

    def test_anonymous_get_with_a_city_as_text(self, app, tables):
        for cities in ("trier", "trier,koblenz"):
            response = app.get(
                "/api/3/action/vierstaedte_tool_aggregate_indicator",
                params={"indicator": "population_total", "op": "latest", "cities": cities},
            )
            assert response.status_code == 200, response.body
            result = response.json["result"]
            assert result["filter"]["cities"] == cities.split(",")
            assert "Trier 2023-12-31: 111.316" in result["answer"]
