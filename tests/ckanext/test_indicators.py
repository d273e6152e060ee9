"""Cross-city indicators: the query and list actions on real DataStore tables, the comparison page
and its CSV."""

from __future__ import annotations

import csv
import io
import json

import ckan.plugins.toolkit as tk
import pytest
from bs4 import BeautifulSoup
from ckan.tests.helpers import call_action

from tests.factories import HarvestedDataset, Observation
from vierstaedte_contract import cities
from vierstaedte_contract.dataset import NORMALISED, resource_with_role


def publish(city: str, name: str, records: list[dict], **metadata) -> dict:
    """A table of ``city`` as the harvester publishes it, titled after its name."""
    return HarvestedDataset(
        city=city, name=name, title=f"Tabelle {name}", records=records, **metadata
    )


@pytest.fixture
def tables(clean_datastore, cities):
    """Population of Mainz (2021–2023, with two Ortsbezirke) and Trier, households of Koblenz;
    Trier's private draft."""
    district = {"city": "mainz", "period": "2023", "area_level": "ortsbezirk"}
    mainz = publish(
        "mainz",
        "mainz-einwohner",
        [
            Observation(period="2021", value=220000),
            Observation(period="2022", value=221000),
            Observation(period="2023", value=222000),
            Observation(**district, area_name="Altstadt", area_code="01", value=21512),
            Observation(**district, area_name="Oberstadt", area_code="03", value=None),
            Observation(period="2023", value=110000, sex="female"),
        ],
    )
    trier = publish(
        "trier",
        "trier-bevoelkerung",
        [
            Observation(city="trier", period="2023-12-31", value=111316),
            Observation(city="trier", period="2023-12-31", value=2921, age_group="0-2"),
            Observation(
                city="trier",
                period="2023-12-31",
                value=2.6,
                unit="percent",
                dimension="share",
                dimension_value="of_city_total",
            ),
        ],
    )
    koblenz = publish(
        "koblenz",
        "koblenz-haushalte",
        [
            Observation(city="koblenz", period="2022", value=55000, indicator="households"),
        ],
    )
    publish(
        "trier",
        "trier-entwurf",
        [Observation(city="trier", period="2024", value=999999)],
        private=True,
    )
    return {"mainz": mainz, "trier": trier, "koblenz": koblenz}


def query(**data):
    return call_action("vierstaedte_indicator_query", context={"user": ""}, **data)


@pytest.mark.usefixtures("with_plugins")
class TestQuery:
    def test_rows_of_several_cities_sorted_with_definition_and_sources(self, tables):
        result = query(indicator="population_total")
        assert (
            [(r["city"], r["area_name"], r["period"], r["value"]) for r in result["rows"]]
            == [
                ("mainz", "Mainz", "2021", 220000),
                ("mainz", "Mainz", "2022", 221000),
                ("mainz", "Mainz", "2023", 222000),
                ("trier", "Trier", "2023-12-31", 111316),
            ]
        )  # Trier's private draft, Trier's age groups and share rows and Mainz's women are not in it
        assert result["count"] == 4 and result["truncated"] is False
        assert result["indicator"]["id"] == "population_total"
        assert result["indicator"]["label_de"] == "Einwohner insgesamt"
        assert result["indicator"]["label_en"] == "Population total"
        assert result["indicator"]["definition_de"].startswith("Bevölkerung mit Hauptwohnsitz")
        assert result["units"] == [
            {"id": "persons", "label": "Personen", "label_de": "Personen", "label_en": "persons"}
        ]
        sources = {s["resource_id"]: s for s in result["sources"]}
        assert set(sources) == {
            resource_with_role(tables[city], NORMALISED)["id"] for city in ("mainz", "trier")
        }
        mainz = sources[result["rows"][0]["resource_id"]]
        assert (
            mainz["dataset_name"] == "mainz-einwohner"
            and mainz["dataset_title"] == "Tabelle mainz-einwohner"
        )
        assert mainz["dataset_url"].endswith("/dataset/mainz-einwohner")

    def test_filters_cities_level_breakdowns_and_periods(self, tables):
        assert [
            r["city"] for r in query(indicator="population_total", cities=["trier"])["rows"]
        ] == ["trier"]
        assert [
            r["city"] for r in query(indicator="population_total", cities="trier,mainz")["rows"]
        ][0] == "mainz"
        below = query(indicator="population_total", area_level="ortsbezirk")["rows"]
        assert [(r["area_name"], r["value"], r["value_status"]) for r in below] == [
            ("Altstadt", 21512, "reported"),
            ("Oberstadt", None, "missing"),
        ]
        assert [r["value"] for r in query(indicator="population_total", sex="female")["rows"]] == [
            110000
        ]
        assert [
            r["value"] for r in query(indicator="population_total", age_group="0-2")["rows"]
        ] == [2921]
        share = query(indicator="population_total", dimension="share")["rows"]
        assert [(r["value"], r["unit"]) for r in share] == [(2.6, "percent")]
        periods = query(indicator="population_total", period_from="2022", period_to="2023-06")[
            "rows"
        ]
        assert [r["period"] for r in periods] == ["2022"]
        assert [
            r["period"] for r in query(indicator="population_total", period_from="2023")["rows"]
        ] == ["2023", "2023-12-31"]

    def test_limit_truncates_and_says_so(self, tables):
        result = query(indicator="population_total", limit=2)
        assert [r["period"] for r in result["rows"]] == ["2021", "2022"]
        assert result["count"] == 2 and result["truncated"] is True

    @pytest.mark.parametrize(
        "data, field, message",
        [
            (
                {"indicator": "happiness"},
                "indicator",
                "Unbekannter Indikator: happiness. Bekannt sind: population_total,",
            ),
            ({}, "indicator", "Missing value"),
            (
                {"indicator": "population_total", "cities": ["mainz", "paris"]},
                "cities",
                "Unbekannte Stadt: paris",
            ),
            (
                {"indicator": "population_total", "period_from": "2023-13"},
                "period_from",
                "Kein gültiger Zeitbezug: 2023-13",
            ),
            (
                {"indicator": "population_total", "period_to": "letztes Jahr"},
                "period_to",
                "Kein gültiger Zeitbezug",
            ),
            (
                {"indicator": "population_total", "period_from": "2023", "period_to": "2021"},
                "period_to",
                "liegt vor dem Beginn",
            ),
            ({"indicator": "population_total", "limit": 0}, "limit", "zwischen 1 und 10000"),
            ({"indicator": "population_total", "limit": 10001}, "limit", "zwischen 1 und 10000"),
            (
                {"indicator": "population_total", "area_level": "planet"},
                "area_level",
                "Unbekannte Gebietsebene: planet",
            ),
            (
                {"indicator": "population_total", "sex": "x"},
                "sex",
                "Unbekannte Geschlechtsangabe: x",
            ),
            (
                {"indicator": "population_total", "dimension": "'; drop table x; --"},
                "dimension",
                "Ungültige Gliederung",
            ),
        ],
    )
    def test_invalid_input_is_a_field_error(self, cities, data, field, message):
        with pytest.raises(tk.ValidationError) as raised:
            query(**data)
        assert message in " ".join(raised.value.error_dict[field]), raised.value.error_dict

    def test_anonymous_over_the_api(self, app, tables):
        response = app.get(
            "/api/3/action/vierstaedte_indicator_query",
            query_string={"indicator": "population_total", "cities": "trier"},
        )
        assert response.status_code == 200
        assert [r["value"] for r in response.json["result"]["rows"]] == [111316]
        refused = app.get(
            "/api/3/action/vierstaedte_indicator_query", query_string={"indicator": "x"}, status=409
        )
        assert "indicator" in refused.json["error"]


@pytest.mark.usefixtures("with_plugins")
class TestIndicatorList:
    def test_indicators_with_data_and_their_coverage(self, tables):
        result = call_action("vierstaedte_indicator_list", context={"user": ""})
        assert result["skipped"] == []
        listed = {i["id"]: i for i in result["indicators"]}
        assert list(listed) == ["population_total", "households"]  # the vocabulary's order
        population = listed["population_total"]
        assert population["label"] == "Einwohner insgesamt"
        assert population["cities"] == [
            {"city": "mainz", "period_from": "2021", "period_to": "2023"},
            {
                "city": "trier",
                "period_from": "2023-12-31",
                "period_to": "2023-12-31",
            },  # not the private 2024
        ]
        assert population["area_levels"] == ["stadt", "ortsbezirk"]
        assert population["dimensions"] == ["none", "share"]
        assert (population["period_from"], population["period_to"]) == ("2021", "2023-12-31")
        assert listed["households"]["cities"] == [
            {"city": "koblenz", "period_from": "2022", "period_to": "2022"}
        ]

    def test_empty_platform_has_no_indicators(self, clean_datastore, cities):
        listed = call_action("vierstaedte_indicator_list", context={"user": ""})
        assert listed == {"indicators": [], "skipped": []}


def html_table(html: str) -> list[list[str]]:
    table = BeautifulSoup(html, "html.parser").select_one("table.vierstaedte-compare-table")
    return [
        [cell.get_text(strip=True) for cell in tr.find_all(["th", "td"])]
        for tr in table.find_all("tr")
    ]


@pytest.mark.usefixtures("with_plugins")
class TestComparePage:
    def test_page_shows_the_table_and_the_chart_data(self, app, tables):
        response = app.get("/vergleich")
        assert response.status_code == 200
        rows = html_table(response.body)
        assert rows[0] == [
            "Stadt",
            "Gebiet",
            "Jahr",
            "Zeitbezug",
            "Wert",
            "Einheit",
            "Wertstatus",
            "Quelle",
        ]
        assert rows[1:] == [
            [
                "Mainz",
                "Mainz",
                "2021",
                "2021",
                "220.000",
                "Personen",
                "",
                "Tabelle mainz-einwohner",
            ],
            [
                "Mainz",
                "Mainz",
                "2022",
                "2022",
                "221.000",
                "Personen",
                "",
                "Tabelle mainz-einwohner",
            ],
            [
                "Mainz",
                "Mainz",
                "2023",
                "2023",
                "222.000",
                "Personen",
                "",
                "Tabelle mainz-einwohner",
            ],
            [
                "Trier",
                "Trier",
                "2023",
                "2023-12-31",
                "111.316",
                "Personen",
                "",
                "Tabelle trier-bevoelkerung",
            ],
        ]
        page = BeautifulSoup(response.body, "html.parser")
        assert (
            page.select_one("table.vierstaedte-compare-table caption")
            .get_text(strip=True)
            .startswith("Einwohner insgesamt")
        )
        assert page.select_one("label[for=vergleich-indicator]") and page.select_one(
            "#vergleich-indicator"
        )
        chart = json.loads(page.select_one("script#vierstaedte-compare-data").string)
        # one axis of years: Mainz's "2023" (year header) and Trier's "2023-12-31" (reference
        # date) meet at 2023
        assert chart["kind"] == "line" and chart["years"] == [2021, 2023]
        assert chart["datasets"] == [
            {
                "label": "Mainz",
                "colour": cities.get("mainz").colour,
                "data": [
                    {"x": 2021, "y": 220000, "period": "2021"},
                    {"x": 2022, "y": 221000, "period": "2022"},
                    {"x": 2023, "y": 222000, "period": "2023"},
                ],
            },
            {
                "label": "Trier",
                "colour": cities.get("trier").colour,
                "data": [{"x": 2023, "y": 111316, "period": "2023-12-31"}],
            },
        ]
        assert (chart["x_title"], chart["period_title"]) == ("Jahr", "Zeitbezug")
        assert page.select_one("canvas[role=img]")["aria-label"].startswith(
            "Diagramm: Einwohner insgesamt"
        )
        assert page.select_one("a[download]")["href"].startswith("/vergleich.csv?")

    def test_other_indicator_and_level_by_plain_get(self, app, tables):
        rows = html_table(app.get("/vergleich", query_string={"indicator": "households"}).body)
        assert rows[1:] == [
            [
                "Koblenz",
                "Koblenz",
                "2022",
                "2022",
                "55.000",
                "Haushalte",
                "",
                "Tabelle koblenz-haushalte",
            ]
        ]
        rows = html_table(
            app.get("/vergleich?indicator=population_total&area_level=ortsbezirk&cities=mainz").body
        )
        assert [r[:5] + r[6:7] for r in rows[1:]] == [
            ["Mainz", "Altstadt", "2023", "2023", "21.512", ""],
            ["Mainz", "Oberstadt", "2023", "2023", "", "fehlt"],
        ]

    def test_several_periods_in_a_year_chart_the_latest_and_table_lists_all(
        self, app, clean_datastore, cities
    ):
        publish(
            "koblenz",
            "koblenz-einwohner",
            [
                Observation(city="koblenz", period=period, value=value)
                for period, value in (
                    ("2023-06-30", 114000),
                    ("2023-12-31", 115000),
                    ("2021/2022", 113000),
                )
            ],
        )
        page = BeautifulSoup(app.get("/vergleich?cities=koblenz").body, "html.parser")
        assert [r[2:5] for r in html_table(str(page))[1:]] == [
            ["2022", "2021/2022", "113.000"],
            ["2023", "2023-06-30", "114.000"],
            ["2023", "2023-12-31", "115.000"],
        ]
        chart = json.loads(page.select_one("script#vierstaedte-compare-data").string)
        assert chart["datasets"][0]["data"] == [
            {"x": 2022, "y": 113000, "period": "2021/2022"},
            {"x": 2023, "y": 115000, "period": "2023-12-31"},
        ]

    def test_unknown_indicator_is_a_400_with_the_message(self, app, tables):
        response = app.get("/vergleich?indicator=%3Cb%3Ehappiness", status=400)
        alert = BeautifulSoup(response.body, "html.parser").select_one(".alert-danger")
        assert "Diesen Indikator gibt es nicht." in alert.get_text(" ", strip=True)
        assert "<b>happiness" not in response.body

    def test_csv_is_the_table(self, app, tables):
        page = BeautifulSoup(app.get("/vergleich?cities=mainz&cities=trier").body, "html.parser")
        download = app.get(page.select_one("a[download]")["href"])
        assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert (
            'filename="vergleich-population_total.csv"' in download.headers["Content-Disposition"]
        )
        shown = html_table(str(page))  # the same cells; the page writes numbers the German way
        for row in shown[1:]:
            row[4] = row[4].replace(".", "")
        written = list(csv.reader(io.StringIO(download.body)))
        width = len(shown[0])
        assert [row[:width] for row in written] == shown
        # then where each row comes from: the dataset page, the licence and its attribution
        assert written[0][width:] == ["Quelle (URL)", "Lizenz", "Lizenz (URL)", "Namensnennung"]
        for row in written[1:]:
            page_url, licence, licence_url, attribution = row[width:]
            assert page_url.startswith("http") and "/dataset/" in page_url
            assert licence and licence_url.startswith("http")
            assert page_url in attribution and licence_url in attribution


@pytest.mark.usefixtures("with_plugins")
class TestUntrustedAreaNames:
    @pytest.fixture
    def crafted(self, clean_datastore, cities):
        publish(
            "mainz",
            "mainz-boese",
            [
                Observation(area_level="ortsbezirk", area_name=name, value=value)
                for name, value in (
                    ("=cmd|' /C calc'!A0", 1),
                    ("<script>alert('x')</script>", 2),
                    ("@SUM(1+1)", -3),
                )
            ],
        )

    def test_csv_neutralises_formulas(self, app, crafted):
        body = app.get("/vergleich.csv?indicator=population_total&area_level=ortsbezirk").body
        cells = {r[1]: r for r in csv.reader(io.StringIO(body))}
        assert "'=cmd|' /C calc'!A0" in cells and "'@SUM(1+1)" in cells
        assert cells["'@SUM(1+1)"][4] == "-3"  # a plain number stays a number
        assert not any(cell.startswith(("=", "@", "+")) for r in cells.values() for cell in r)

    def test_html_escapes_area_names(self, app, crafted):
        body = app.get("/vergleich?indicator=population_total&area_level=ortsbezirk").body
        assert "<script>alert('x')</script>" not in body
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in body
        chart = (
            BeautifulSoup(body, "html.parser").select_one("script#vierstaedte-compare-data").string
        )
        assert "</script" not in chart
        assert "Mainz – <script>alert('x')</script>" in json.loads(chart)["labels"]
