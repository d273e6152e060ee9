"""What a table says about itself is checked against what its mapping fixes.

A mapping with ``period: {value: …}`` or ``area: {value: …}`` is applied by every later harvest
run to every later file: next year's export (title ``Stichtag 31.12.2024``) must not be
published under last year's date, nor another city's export under this city's name. When the
title block or a value column's header states a date, a year or a contract city that the
mapping contradicts, the table is refused naming both; ``period: {from: title}`` reads the date
from the title, so the mapping does not go stale.
"""

from __future__ import annotations

import pytest

from tests.harvesters.paths import FIXTURES, MAPPINGS
from vierstaedte_harvest import mapping
from vierstaedte_harvest.normalise import normalise

TRIER = (FIXTURES / "trier_bevoelkerung_alter_genesis.csv").read_text(encoding="utf-8-sig")
HAMBURG = FIXTURES / "real" / "statistiknord_hh_stadtteilprofile_2014.xlsx"


def shipped(name: str) -> mapping.Mapping:
    return mapping.load(MAPPINGS / f"{name}.yaml")


def trier_rules(**changes) -> dict:
    return {
        "id": "trier-bevoelkerung-alter",
        "city": "trier",
        "area": {"value": "Trier"},
        "period": {"value": "31.12.2023"},
        "dimensions": {"age_group": "Altersgruppe"},
        "values": [
            {
                "match": "(?P<sex>Insgesamt|männlich|weiblich) Anzahl",
                "indicator": "population_total",
            },
            {
                "match": "(?P<sex>Insgesamt|männlich|weiblich) Anteil in %",
                "indicator": "population_share",
            },
        ],
        **changes,
    }


def run(tmp_path, text: str, rules: mapping.Mapping | dict):
    source = tmp_path / "t.csv"
    source.write_text(text, encoding="utf-8")
    if isinstance(rules, dict):
        rules = mapping.parse(rules)
    return normalise(source, rules)


def errors(result) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for issue in result.report.errors:
        found.setdefault(issue.code, []).append(issue.message)
    return found


# --- the period -------------------------------------------------------------------------------


def test_next_years_export_under_a_fixed_period_is_a_period_conflict(tmp_path):
    """The red team's R7: the Trier export a year later, under a mapping fixing 31.12.2023."""
    later = TRIER.replace("Stichtag 31.12.2023", "Stichtag 31.12.2024")
    result = run(tmp_path, later, trier_rules())
    assert not result.ok
    [message] = errors(result)["period-conflict"]
    assert "31.12.2023" in message and "Stichtag 31.12.2024" in message
    assert "period: {from: title}" in message


def test_the_shipped_trier_mapping_reads_its_period_from_the_title(tmp_path):
    for date, period in (("31.12.2023", "2023-12-31"), ("31.12.2024", "2024-12-31")):
        result = run(
            tmp_path, TRIER.replace("31.12.2023", date), shipped("trier-bevoelkerung-alter")
        )
        assert result.ok, result.report.errors
        assert set(result.frame["period"]) == {period}
        assert (
            result.report.reading["period_from_title"] == f"Kreisfreie Stadt Trier, Stichtag {date}"
        )


def test_a_fixed_period_the_title_agrees_with_is_fine(tmp_path):
    for value in ("31.12.2023", "2023"):
        result = run(tmp_path, TRIER, trier_rules(period={"value": value}))
        assert result.ok, result.report.errors


@pytest.mark.parametrize(
    "title, value, conflict",
    [
        ("Bevölkerung am 31.12.2024", "2023", "am 31.12.2024"),
        ("Einwohner 2024 nach Altersgruppen", "2023", "2024"),
        ("Einwohner, Stand: 30.06.2024", "2024-12", "30.06.2024"),
        ("Einwohner 2024 nach Altersgruppen", "31.12.2024", None),
        ("Einwohner (Basis Zensus 2011), Stichtag 31.12.2023", "2023", None),  # the date decides
        ("Tabelle 12411-01-01-4 - Stichtag 31.12. -", "2023", None),  # no year stated
        ("Einwohner 2010 bis 2024", "2023", None),  # a span that holds the period
    ],
)
def test_what_the_title_states_is_compared_with_the_fixed_period(tmp_path, title, value, conflict):
    text = TRIER.replace("Kreisfreie Stadt Trier, Stichtag 31.12.2023", title)
    result = run(tmp_path, text, trier_rules(period={"value": value}))
    if conflict is None:
        assert "period-conflict" not in errors(result), errors(result)
    else:
        [message] = errors(result)["period-conflict"]
        assert conflict in message


def test_period_from_a_title_without_a_date_is_refused(tmp_path):
    text = TRIER.replace("Kreisfreie Stadt Trier, Stichtag 31.12.2023", "Kreisfreie Stadt Trier")
    result = run(tmp_path, text, trier_rules(period={"from": "title"}))
    assert "states no date" in errors(result)["missing-period"][0]


def test_period_from_a_title_with_two_dates_is_ambiguous(tmp_path):
    text = TRIER.replace("Bevölkerung nach", "Stichtag 31.12.2022: Bevölkerung nach")
    result = run(tmp_path, text, trier_rules(period={"from": "title"}))
    [message] = errors(result)["ambiguous-period"]
    assert "31.12.2022" in message and "31.12.2023" in message


def test_period_from_must_be_title():
    with pytest.raises(mapping.MappingError, match="'from' can only be 'title'"):
        mapping.parse(trier_rules(period={"from": "header"}))


def hamburg_rules(period: dict) -> dict:
    """The city total of Hamburg's Stadtteilprofile (a real Statistikamt Nord workbook)."""
    return {
        "id": "hh-stadtteilprofile",
        "city": "mainz",
        "area": {"column": "Stadtgebiet"},
        "areas": {"aliases": {"Hamburg": "Mainz"}},
        "rows": {"column": "Stadtgebiet", "keep_match": ["Hamburg"]},
        "period": period,
        "values": [
            {
                "match": ".* Bevölkerung Anzahl der Einwohnerinnen und Einwohner",
                "indicator": "population_total",
            },
            {"match": ".* Haushalte Anzahl der Haushalte", "indicator": "households"},
        ],
        "unmapped": "warn",  # the other 59 columns
    }


def test_a_real_workbooks_header_date_conflicts_with_a_stale_period(tmp_path):
    """Statistikamt Nord heads the columns ``Bevölkerung und Haushalte 31.12.2013``; the red
    team's mapping said 31.12.2012 and the figures were published under 2012."""
    stale = normalise(HAMBURG, mapping.parse(hamburg_rules({"value": "31.12.2012"})))
    [message] = errors(stale)["period-conflict"]
    assert "31.12.2012" in message and "31.12.2013" in message and "2 column(s)" in message
    right = normalise(HAMBURG, mapping.parse(hamburg_rules({"value": "31.12.2013"})))
    assert right.ok, right.report.errors
    assert sorted(zip(right.frame["indicator"], right.frame["value"], strict=True)) == [
        ("households", 1_000_067),  # the sheet displays 1 000 067
        ("population_total", 1_788_994),
    ]


# --- the area ---------------------------------------------------------------------------------


def test_a_fixed_area_and_a_title_naming_another_city_conflict(tmp_path):
    """The red team's R8: Koblenz's export under the shipped Trier mapping's fixed area."""
    text = TRIER.replace("Kreisfreie Stadt Trier", "Kreisfreie Stadt Koblenz")
    result = run(tmp_path, text, trier_rules())
    assert not result.ok
    [message] = errors(result)["area-conflict"]
    assert "'Trier'" in message and "Kreisfreie Stadt Koblenz" in message and "koblenz" in message


@pytest.mark.parametrize(
    "title",
    ["Kreisfreie Stadt Trier, Stichtag 31.12.2023", "Stichtag 31.12.2023", "Koblenzer Straße"],
)
def test_a_title_naming_the_city_or_no_city_keeps_a_fixed_area(tmp_path, title):
    text = TRIER.replace("Kreisfreie Stadt Trier, Stichtag 31.12.2023", title)
    result = run(tmp_path, text, trier_rules())
    assert result.ok, result.report.errors
