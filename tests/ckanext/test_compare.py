"""The comparison page reads well: bars or a true time axis, fixed colours, German numbers,
pickers for groups, named gaps, honest shares, no column names (``logic/comparison.py``)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from bs4 import BeautifulSoup

from tests.ckanext.test_indicators import html_table, publish
from tests.factories import Observation
from vierstaedte_contract import cities, colours

ELECTION = {"area_level": "ortsbezirk", "period": "2024-06-09", "dimension": "party"}


@pytest.fixture
def data(clean_datastore, cities):
    """Mainz: population 2009 and 2021 (women and the total), Trier 2021, one election with
    vote shares in two districts; Trier: population shares of an age group and the whole."""
    publish(
        "mainz",
        "mainz-einwohner",
        [
            Observation(period="2009", value=199000),
            Observation(period="2021", value=220000),
            Observation(period="2021", value=111000, sex="female"),
        ],
    )
    publish(
        "mainz",
        "mainz-wahl",
        [
            Observation(
                **ELECTION,
                area_name=area,
                area_code=code,
                indicator="vote_share_by_party",
                dimension_value=party,
                value=share,
            )
            for area, code, party, share in (
                ("Altstadt", "01", "CDU", 23.1),
                ("Altstadt", "01", "SPD", 25.9),
                ("Altstadt", "01", "GRÜNE", 36.1),
                ("Weisenau", "14", "SPD", 32.1),
                ("Weisenau", "14", "CDU", 28.7),
                ("Weisenau", "14", "GRÜNE", 20.3),
            )
        ]
        + [
            Observation(
                area_level="ortsbezirk",
                area_name="Altstadt",
                area_code="01",
                period="2024-06-09",
                indicator="election_turnout",
                value=72.19,
            )
        ],
    )
    trier = {"city": "trier", "period": "2021-12-31"}
    publish(
        "trier",
        "trier-bevoelkerung",
        [
            Observation(**trier, value=110000),
            Observation(**trier, indicator="population_share", value=100.0),
            Observation(**trier, indicator="population_share", age_group="0-2", value=2.6),
            Observation(**trier, indicator="population_total", age_group="0-2", value=2921),
        ],
    )


def soup(app, url: str) -> BeautifulSoup:
    return BeautifulSoup(app.get(url).body, "html.parser")


def chart(page: BeautifulSoup) -> dict:
    return json.loads(page.select_one("script#vierstaedte-compare-data").string)


def visible_text(page: BeautifulSoup) -> str:
    for hidden in page.select("script, style"):
        hidden.decompose()
    return page.get_text(" ", strip=True)


@pytest.mark.usefixtures("with_plugins")
class TestChart:
    def test_several_years_on_a_true_time_axis(self, app, data):
        drawn = chart(soup(app, "/vergleich?cities=mainz&cities=trier"))
        assert drawn["kind"] == "line" and drawn["years"] == [2009, 2021]
        mainz, trier = drawn["datasets"]
        # numeric years: 2009 and 2021 are twelve years apart on the axis, not one step
        assert mainz["data"] == [
            {"x": 2009, "y": 199000, "period": "2009"},
            {"x": 2021, "y": 220000, "period": "2021"},
        ]
        assert trier["data"] == [{"x": 2021, "y": 110000, "period": "2021-12-31"}]
        assert (mainz["colour"], trier["colour"]) == (
            cities.get("mainz").colour,
            cities.get("trier").colour,
        )
        # the table wears each city's colour beside its name, as the chart draws it
        page = soup(app, "/vergleich?cities=mainz&cities=trier")
        swatches = {
            row.th.get_text(strip=True): row.th.select_one(".vierstaedte-swatch")["style"]
            for row in page.select("table.vierstaedte-compare-table tbody tr")
        }
        assert swatches == {
            "Mainz": f"background-color: {cities.get('mainz').colour}",
            "Trier": f"background-color: {cities.get('trier').colour}",
        }

    def test_one_year_is_bars_and_a_party_keeps_its_colour_in_every_district(self, app, data):
        page = soup(app, "/vergleich?indicator=vote_share_by_party&area_level=ortsbezirk")
        drawn = chart(page)
        assert drawn["kind"] == "bar"
        assert drawn["labels"] == ["Mainz – Altstadt", "Mainz – Weisenau"]
        by_party = {d["label"]: d for d in drawn["datasets"]}
        assert by_party["CDU"]["colour"] == colours.party("CDU") == "#000000"
        assert by_party["SPD"]["colour"] == colours.party("SPD")
        assert by_party["CDU"]["data"] == [23.1, 28.7] and by_party["SPD"]["data"] == [25.9, 32.1]
        # the table wears the same colour beside the party, in both districts
        swatches = {}
        for row in page.select("table.vierstaedte-compare-table tbody tr"):
            cells = row.find_all(["th", "td"])
            swatch = cells[4].select_one(".vierstaedte-swatch")
            swatches.setdefault(cells[4].get_text(strip=True), set()).add(swatch["style"])
            # no city colour beside it: the chart colours parties here, not cities
            assert cells[0].select_one(".vierstaedte-swatch") is None
        assert swatches["CDU"] == {"background-color: #000000"}
        assert swatches["GRÜNE"] == {f"background-color: {colours.party('GRÜNE')}"}
        assert html_table(str(page))[0][4] == "Partei"

    def test_one_city_value_is_a_bar_coloured_by_city(self, app, data):
        drawn = chart(soup(app, "/vergleich?cities=trier"))
        assert drawn["kind"] == "bar" and drawn["labels"] == ["Trier"]
        assert drawn["datasets"] == [
            {
                "label": "Einwohner insgesamt",
                "data": [110000],
                "periods": ["2021-12-31"],
                "colours": [cities.get("trier").colour],
            }
        ]


@pytest.mark.usefixtures("with_plugins")
class TestTable:
    def test_german_numbers_in_the_table_plain_ones_in_the_csv(self, app, data):
        page = soup(app, "/vergleich?cities=mainz")
        assert [row[4] for row in html_table(str(page))[1:]] == ["199.000", "220.000"]
        turnout = soup(app, "/vergleich?indicator=election_turnout&area_level=ortsbezirk")
        assert html_table(str(turnout))[1][4] == "72,19"
        body = app.get(page.select_one("a[download]")["href"]).body
        assert [row[4] for row in csv.reader(io.StringIO(body))][1:] == ["199000", "220000"]

    def test_english_numbers_on_the_english_page(self, app, data):
        page = soup(app, "/en/vergleich?cities=mainz")
        assert [row[4] for row in html_table(str(page))[1:]] == ["199,000", "220,000"]

    def test_one_row_is_one_zeile(self, app, data):
        caption = soup(app, "/vergleich?cities=trier").select_one("caption").get_text(" ")
        assert "(1 Zeile)" in re.sub(r"\s+", " ", caption)
        caption = soup(app, "/vergleich?cities=mainz").select_one("caption").get_text(" ")
        assert "(2 Zeilen)" in re.sub(r"\s+", " ", caption)

    def test_each_chosen_city_without_data_is_named(self, app, data):
        page = soup(app, "/vergleich?cities=mainz&cities=koblenz&cities=ludwigshafen")
        note = page.select_one(".vierstaedte-compare-missing").get_text(" ", strip=True)
        assert note == "Keine Daten für diese Auswahl: Koblenz, Ludwigshafen am Rhein."
        assert (
            soup(app, "/vergleich?cities=mainz").select_one(".vierstaedte-compare-missing") is None
        )

    def test_no_column_names_in_the_visible_text(self, app, data):
        for url in (
            "/vergleich",
            "/vergleich?indicator=vote_share_by_party&area_level=ortsbezirk",
            "/vergleich?indicator=population_share&age_group=0-2",
        ):
            text = visible_text(soup(app, url))
            found = re.findall(
                r"\b(age_group|nationality|dimension|sex|party|population_\w+)\b", text
            )
            assert found == [], (url, found)


@pytest.mark.usefixtures("with_plugins")
class TestGroupsAndShares:
    def test_pickers_only_for_the_groups_the_data_has(self, app, data):
        page = soup(app, "/vergleich")
        assert page.select_one("select#vergleich-sex") is not None
        assert [o["value"] for o in page.select("select#vergleich-age_group option")] == [
            "total",
            "0-2",
        ]
        assert page.select_one("select#vergleich-nationality") is None
        election = soup(app, "/vergleich?indicator=election_turnout&area_level=ortsbezirk")
        assert election.select_one("select#vergleich-sex") is None

    def test_share_of_the_whole_population_is_not_shown_as_100_percent(self, app, data):
        page = soup(app, "/vergleich?indicator=population_share")
        hint = page.select_one(".vierstaedte-compare-whole-share").get_text(" ", strip=True)
        assert "Bitte oben eine Gruppe wählen: Altersgruppe." in hint  # the groups it has
        assert "Geschlecht" not in hint and "Staatsangehörigkeit" not in hint  # no others
        assert page.select_one("table.vierstaedte-compare-table") is None
        group = soup(app, "/vergleich?indicator=population_share&age_group=0-2")
        assert [row[4] for row in html_table(str(group))[1:]] == ["2,60"]

    def test_a_groups_share_only_where_the_same_table_has_the_total(self, app, data):
        page = soup(app, "/vergleich?sex=female")
        rows = html_table(str(page))
        assert rows[0][4:6] == ["Wert", "Anteil an insgesamt (%)"]
        assert rows[1][:6] == ["Mainz", "Mainz", "2021", "2021", "111.000", "50,45"]
        # a group whose table has no total beside it gets no share
        assert (
            soup(app, "/vergleich?indicator=election_turnout&area_level=ortsbezirk").find(
                string=re.compile("Anteil an insgesamt")
            )
            is None
        )
        young = html_table(str(soup(app, "/vergleich?age_group=0-2&cities=trier")))
        assert young[1][4:6] == ["2.921", "2,66"]

    def test_an_unknown_group_falls_back_to_everyone(self, app, data):
        page = soup(app, "/vergleich?cities=mainz&nationality=foreign")
        assert [row[4] for row in html_table(str(page))[1:]] == ["199.000", "220.000"]
        note = page.select_one(".vierstaedte-compare-adjusted").get_text(" ", strip=True)
        assert note == (
            "Diese Gruppe gibt es für diesen Indikator nicht; "
            "gezeigt wird „alle Staatsangehörigkeiten“."
        )

    def test_a_level_the_indicator_lacks_is_switched_and_said(self, app, data):
        page = soup(app, "/vergleich?indicator=election_turnout&area_level=stadt")
        note = page.select_one(".vierstaedte-compare-adjusted").get_text(" ", strip=True)
        assert note == (
            "Für diesen Indikator gibt es keine Werte auf der Ebene „Gesamtstadt“; "
            "gezeigt wird „Ortsbezirk“."
        )
        assert html_table(str(page))[1][1] == "Altstadt"
        # a made-up level is not echoed; the page as asked says nothing
        junk = soup(app, "/vergleich?indicator=election_turnout&area_level=%3Cb%3Exx")
        text = junk.select_one(".vierstaedte-compare-adjusted").get_text(" ", strip=True)
        assert text == "Diese Gebietsebene gibt es nicht; gezeigt wird „Ortsbezirk“."
        plain = soup(app, "/vergleich?indicator=election_turnout&area_level=ortsbezirk")
        assert plain.select_one(".vierstaedte-compare-adjusted") is None


@pytest.mark.usefixtures("with_plugins")
def test_an_invalid_selection_is_explained_without_internal_names(app, data):
    response = app.get("/vergleich?indicator=nope&area_level=xx&cities=berlin", status=400)
    alert = BeautifulSoup(response.body, "html.parser").select_one(".alert-danger")
    text = alert.get_text(" ", strip=True)
    assert "Indikator:" in text and "Gebietsebene:" in text and "Städte:" in text
    for internal in ("population_total", "ortsbezirk", "statistischer_bezirk", "mainz,"):
        assert internal not in text, (internal, text)


def test_the_table_body_escapes_every_text_and_labels_each_cell():
    from ckanext.vierstaedte.logic import comparison

    table = {"header": ["Stadt", "Gebiet <b>", "Wert"], "rows": [], "number_columns": {2}}
    cells = [
        [
            {"text": "Mainz", "colour": "#c00"},
            {"text": '<script>alert("x")</script>', "colour": None},
            {"text": "220.000", "colour": None},
        ]
    ]
    row = BeautifulSoup(f"<table>{comparison.table_body(table, cells)}</table>", "html.parser").tr
    header, area, value = row.find_all(["th", "td"])
    assert header.name == "th" and header["scope"] == "row" and header.get_text() == "Mainz"
    assert header.select_one(".vierstaedte-swatch")["style"] == "background-color: #c00"
    assert area.get_text() == '<script>alert("x")</script>' and row.script is None
    assert area["data-label"] == "Gebiet <b>" and "class" not in area.attrs
    assert value["data-label"] == "Wert" and value["class"] == ["text-end"]
