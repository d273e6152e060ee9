"""The AI tools against a live CKAN holding the harvested demo data (and one private table).

The demo's four cities are harvested once per module by the real ``vierstaedte-harvest``
command from the replay server; a private Mainz table with values that must never show is
added beside them. Every call goes over HTTP to the live CKAN, anonymously, as an assistant
(or the MCP server) makes it. Expected values are the source files' (``demo/payloads/files``).
"""

from __future__ import annotations

import jsonschema
import pytest
import requests

from tests.factories import HarvestedDataset, Observation
from tests.live import harvest_demo

TOOLS = (
    "vierstaedte_tool_search_datasets",
    "vierstaedte_tool_describe_dataset",
    "vierstaedte_tool_list_indicators",
    "vierstaedte_tool_query_indicator",
    "vierstaedte_tool_compare_cities",
    "vierstaedte_tool_read_rows",
    "vierstaedte_tool_search_council",  # tests/ckanext/test_council_tool.py
    "vierstaedte_tool_aggregate_indicator",  # tests/ckanext/test_aggregations.py
)
CITATION = (
    "text",
    "dataset_title",
    "dataset_url",
    "resource_url",
    "publisher",
    "licence",
    "attribution",
    "modified",
    "filter",
)
DL_DE_BY = "Datenlizenz Deutschland – Namensnennung – Version 2.0"
GONSENHEIM = {"area_level": "ortsbezirk", "area_code": "06", "area_name": "Gonsenheim"}
PRIVATE = "mainz-geheim"


@pytest.fixture(scope="module")
def portal(ckan_server, reset_db, reset_index, migrate_db_for, tmp_path_factory):
    """The demo harvested into the live test CKAN, plus a private Mainz table; its URL."""
    import ckan.plugins

    harvest_demo(
        ckan_server, reset_db, reset_index, migrate_db_for, tmp_path_factory.mktemp("tools")
    )
    HarvestedDataset(
        name=PRIVATE,
        title="Geheime Zahlen",
        private=True,
        records=[
            Observation(**GONSENHEIM, value=1),
            Observation(value=2),
            Observation(sex="female", value=7),
            Observation(indicator="unemployed", value=999),
            Observation(
                **GONSENHEIM,
                indicator="vote_share_by_party",
                dimension="party",
                dimension_value="GEHEIM",
                period="2024-06-09",
                value=99.9,
            ),
        ],
    )
    yield ckan_server
    ckan.plugins.unload_all()


def call(portal: str, tool: str, status: int = 200, **arguments) -> dict:
    response = requests.post(f"{portal}/api/3/action/{tool}", json=arguments, timeout=30)
    assert response.status_code == status, response.text
    body = response.json()
    return body["result"] if status == 200 else body["error"]


def complete(citation: dict, used: dict | None = None) -> None:
    """Every part of a citation is there, and the licence's attribution is the one it requires."""
    missing = [key for key in CITATION if citation.get(key) in (None, "", [])]
    assert not missing, citation
    assert set(citation["licence"]) >= {"id", "title", "url"} and all(citation["licence"].values())
    assert citation["licence"]["url"] == "https://www.govdata.de/dl-de/by-2-0"
    assert DL_DE_BY in citation["attribution"]
    assert citation["publisher"] in citation["attribution"]
    # one name for the city: the text starts with the publisher the attribution names
    assert citation["text"].startswith(f"{citation['publisher']}: ")
    assert citation["portal_modified"] == citation["modified"]
    if citation["source_url"]:  # the dataset's page at the source, where the source names one
        assert citation["source_url"] in citation["text"]
    assert citation["source_file"].startswith("http")
    assert "Portaleintrag" in citation["text"] or "portal record" in citation["text"]
    assert citation["dataset_title"] in citation["attribution"]
    assert citation["dataset_url"] in citation["attribution"]
    assert citation["dataset_url"].startswith("http") and "/dataset/" in citation["dataset_url"]
    if used is not None:
        assert citation["filter"] == used


def named(portal: str, start: str) -> str:
    """The harvested dataset whose name starts with ``start`` (the harvester adds a hash)."""
    found = requests.get(
        f"{portal}/api/3/action/package_search", params={"rows": 100}, timeout=10
    ).json()["result"]["results"]
    (name,) = [d["name"] for d in found if d["name"].startswith(start)]
    return name


def values(result: dict) -> list:
    return [r["value"] for r in result["results"]]


# --- the manifest -------------------------------------------------------------------------------


def test_manifest_declares_the_tools_in_german_and_english_with_valid_examples(portal):
    manifest = requests.get(f"{portal}/api/vierstaedte/tools.json", timeout=10).json()
    assert manifest["api"] == f"{portal}/api/3/action/"
    functions = {t["function"]["name"]: t["function"] for t in manifest["tools"]}
    assert tuple(functions) == TOOLS
    for function in functions.values():
        assert function["descriptions"]["de"] and function["descriptions"]["en"]
        assert function["descriptions"]["en"] in function["description"]
        jsonschema.Draft202012Validator.check_schema(function["parameters"])
        assert function["parameters"]["properties"]["lang"]["enum"] == ["de", "en"]
        assert function["examples"]
        for example in function["examples"]:
            jsonschema.validate(example, function["parameters"])
            assert (
                "result"
                in requests.post(
                    manifest["api"] + function["name"], json=example, timeout=30
                ).json()
            )


# --- sentences: each breakdown is said, never the aggregate -------------------------------------


@pytest.mark.parametrize(
    "arguments, expected",
    [
        pytest.param(
            {"city": "trier", "sex": "female"},
            [
                (
                    56092,
                    "Einwohner insgesamt, davon Frauen (weiblich), in Trier am 31.12.2023: "
                    "56.092 Personen.",
                )
            ],
            id="sex",
        ),
        pytest.param(
            {"city": "trier", "age_group": ["65-79", "80+"]},
            [
                (15001, "davon im Alter von 65 bis 79 Jahren, in Trier am 31.12.2023: 15.001"),
                (7500, "davon im Alter von 80 Jahren und älter, in Trier am 31.12.2023: 7.500"),
            ],
            id="age-groups",
        ),
        pytest.param(
            {"city": "trier", "sex": "male", "age_group": "18-64"},
            [(36100, "davon Männer (männlich), im Alter von 18 bis 64 Jahren, in Trier")],
            id="sex-and-age",
        ),
        pytest.param(
            {"city": "koblenz", "nationality": "foreign"},
            [(19870, "davon Ausländerinnen und Ausländer, in Koblenz am 31.12.2023: 19.870")],
            id="nationality",
        ),
        pytest.param(
            {"city": "koblenz", "area_name": "Lützel", "sex": "female"},
            [
                (
                    4129,
                    "davon Frauen (weiblich), in Lützel (Stadtteil, Koblenz) am 31.12.2023: 4.129",
                )
            ],
            id="sex-in-a-district",
        ),
        pytest.param(
            {"city": "trier", "lang": "en"},
            [(111316, "Population total in Trier on 2023-12-31: 111,316 persons.")],
            id="english",
        ),
    ],
)
def test_each_value_is_said_with_its_breakdown(portal, arguments, expected):
    result = call(
        portal, "vierstaedte_tool_query_indicator", indicator="population_total", **arguments
    )
    assert result["available"] is True
    assert values(result) == [value for value, _words in expected]
    for (value, words), found in zip(expected, result["results"], strict=True):
        assert found["value"] == value and words in found["sentence"], found["sentence"]
        assert found["sentence"] in result["answer"]
        complete(found["citation"], result["filter"])
    for field in ("sex", "age_group", "nationality"):
        asked = arguments.get(field, "total")
        assert result["filter"][field] == asked
        assert {r["breakdown"][field] for r in result["results"]} <= set(
            [asked] if isinstance(asked, str) else asked
        )


def test_a_vote_share_lists_every_party_with_its_name(portal):
    result = call(
        portal,
        "vierstaedte_tool_query_indicator",
        indicator="vote_share_by_party",
        city="mainz",
        area_name="Gonsenheim",
    )
    assert [(r["breakdown"]["party"], r["value"]) for r in result["results"]] == [
        ("CDU", 33.4),
        ("SPD", 27.1),
        ("GRÜNE", 22.9),
        ("DIE LINKE", 4.9),
    ]
    assert result["results"][0]["sentence"] == (
        "Stimmenanteil nach Partei, Partei CDU, in Gonsenheim (Ortsbezirk, Mainz) "
        "am 09.06.2024: 33,40 %."
    )
    for party in ("CDU", "SPD", "GRÜNE", "DIE LINKE"):
        assert f"Partei {party}," in result["answer"]
    assert result["filter"]["period"] == "2024-06-09"
    english = call(
        portal,
        "vierstaedte_tool_query_indicator",
        indicator="vote_share_by_party",
        city="mainz",
        area_name="Gonsenheim",
        dimension_value="cdu",
        lang="en",
    )
    (cdu,) = english["results"]
    assert cdu["sentence"].endswith(
        "party CDU, in Gonsenheim, a local district (Ortsbezirk) in Mainz, on 2024-06-09: 33.40 %."
    )
    assert "„" not in cdu["citation"]["text"] + cdu["citation"]["attribution"]


def test_without_a_district_the_levels_that_have_values_answer(portal):
    """„Wie hat Mainz gewählt?“: no city-wide result, so the three Ortsbezirke, every party."""
    result = call(
        portal, "vierstaedte_tool_query_indicator", indicator="vote_share_by_party", city="mainz"
    )
    assert result["available"] is True
    assert result["filter"]["area_level"] == "ortsbezirk"
    assert len(result["results"]) == 12
    assert {r["area"]["name"] for r in result["results"]} == {"Altstadt", "Gonsenheim", "Weisenau"}
    assert "keine Werte" in result["notes"][0] and "Ortsbezirk" in result["notes"][0]
    households = call(
        portal,
        "vierstaedte_tool_query_indicator",
        indicator="households",
        city="ludwigshafen",
        period="2023",
    )
    assert {r["area"]["name"]: r["value"] for r in households["results"]} == {
        "Mitte": 4530,
        "Friesenheim": 9455,
        "Oggersheim": 11950,
        "Rheingönheim": 3610,
        "Nord/Hemshof": 7790,
    }
    assert households["filter"]["area_level"] == "stadtteil"
    # asked for the whole city: said first that these areas are not it and must not be summed
    assert households["partial_areas"] is True and households["not_summable"] is True
    first = households["answer"].splitlines()[:2]
    assert first[0].startswith("Für die Gesamtstadt gibt es keine Werte")
    assert "nicht für die ganze Stadt Ludwigshafen am Rhein; nicht summieren" in first[1]
    one = call(
        portal,
        "vierstaedte_tool_query_indicator",
        indicator="households",
        city="ludwigshafen",
        area_name="Mitte",
        period="2023",
    )
    assert one["partial_areas"] is False and not one["answer"].startswith("Achtung")


def test_missing_and_confidential_values_are_said_never_as_numbers(portal):
    result = call(
        portal,
        "vierstaedte_tool_query_indicator",
        indicator="population_total",
        city="mainz",
        areas=["Oberstadt", "Hartenberg-Münchfeld"],
        period="2023",
    )
    by_area = {r["area"]["name"]: r for r in result["results"]}
    assert by_area["Oberstadt"]["value"] is None
    assert by_area["Oberstadt"]["value_status"] == "missing"
    assert by_area["Oberstadt"]["sentence"].endswith("kein Wert (in der Quelle nicht angegeben).")
    assert by_area["Hartenberg-Münchfeld"]["value_status"] == "confidential"
    assert by_area["Hartenberg-Münchfeld"]["sentence"].endswith("kein Wert (geheim gehalten).")


# --- honest refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, reason, alternative",
    [
        pytest.param(
            {"indicator": "population_totl"},
            "unknown_indicator",
            ("indicators", 0, "id", "population_total"),
            id="misspelt-indicator",
        ),
        pytest.param(
            {"indicator": "households"},
            "no_data_for_indicator",
            ("cities", 0, None, "ludwigshafen"),
            id="indicator-of-another-city",
        ),
        pytest.param(
            {"area_name": "Gonsenhiem"},
            "unknown_area",
            ("areas", 0, "name", "Gonsenheim"),
            id="misspelt-area",
        ),
        pytest.param(
            {"area_name": "Bretzenheim"},
            "no_data_for_area",
            ("area_levels", 0, None, "stadt"),
            id="area-without-data",
        ),
        pytest.param(
            {"period": "1990"}, "no_data_for_period", ("periods", -1, None, "2023"), id="period"
        ),
        pytest.param(
            {"sex": "female"},
            "no_data_for_breakdown",
            ("sex", 0, "value", "total"),
            id="breakdown-not-in-the-table",
        ),
        pytest.param(
            {"area_level": "stadtteil"},
            "no_data_for_level",
            ("area_levels", 0, None, "stadt"),
            id="level",
        ),
    ],
)
def test_unanswerable_questions_are_refused_with_what_exists(
    portal, arguments, reason, alternative
):
    arguments = {"indicator": "population_total", "city": "mainz", **arguments}
    result = call(portal, "vierstaedte_tool_query_indicator", **arguments)
    assert result["available"] is False and result["reason"] == reason, result
    assert result["results"] == [] and "value" not in result
    key, index, field, expected = alternative
    found = result["alternatives"][key][index]
    assert (found[field] if field else found) == expected, result["alternatives"]
    assert result["message"]
    for citation in result["citations"]:
        complete(citation)


def test_an_unknown_party_is_refused_with_the_parties_there_are(portal):
    result = call(
        portal,
        "vierstaedte_tool_query_indicator",
        indicator="vote_share_by_party",
        city="mainz",
        area_name="Gonsenheim",
        dimension_value="FDP",
    )
    assert result["reason"] == "no_data_for_breakdown"
    parties = [v["value"] for v in result["alternatives"]["dimensions"]["party"]]
    assert sorted(parties) == ["CDU", "DIE LINKE", "GRÜNE", "SPD"]
    assert "CDU" in result["message"]


def test_an_age_group_that_is_not_in_the_table_is_refused_with_those_that_are(portal):
    """„über 65“: Trier publishes 65-79 and 80+, never 65+; nothing is added up."""
    result = call(
        portal,
        "vierstaedte_tool_query_indicator",
        indicator="population_total",
        city="trier",
        age_group="65+",
    )
    assert result["available"] is False and result["reason"] == "no_data_for_breakdown"
    ages = [v["value"] for v in result["alternatives"]["age_group"]]
    assert ages == ["0-2", "3-5", "6-9", "10-17", "18-64", "65-79", "80+", "total"]
    assert "65-79" in result["message"] and "80+" in result["message"]


def test_a_value_of_a_list_without_rows_is_named_not_dropped(portal):
    result = call(
        portal,
        "vierstaedte_tool_query_indicator",
        indicator="population_total",
        city="trier",
        age_group=["65-79", "90+"],
    )
    assert values(result) == [15001]
    assert result["notes"] == ["Keine Werte für age_group=90+; genannt sind die übrigen."]
    assert result["notes"][0] in result["answer"]


@pytest.mark.parametrize(
    "arguments, field, message",
    [
        ({"city": "mainz"}, "indicator", "Pflichtangabe fehlt"),
        ({"indicator": "population_total", "city": "berlin"}, "city", "Unbekannter Wert: berlin"),
        (
            {"indicator": "x'; DROP TABLE package; --", "city": "mainz"},
            "indicator",
            "Ungültiges Format",
        ),
        (
            {"indicator": "population_total", "city": "mainz", "period": "letztes Jahr"},
            "period",
            "Ungültiges Format",
        ),
        (
            {"indicator": "population_total", "city": "trier", "age_group": "65 plus"},
            "age_group",
            "Ungültiges Format: 65 plus. Erlaubt sind total, von-bis wie 18-64 oder ab wie 80+",
        ),
        (
            {"indicator": "population_total", "city": "mainz", "period": "2023-13"},
            "period",
            "Kein gültiges Datum",
        ),
        (
            {"indicator": "population_total", "city": "mainz", "period_from": "2024"}
            | {"period_to": "2023-12"},
            "period_to",
            "liegt vor dem Beginn",
        ),
        (
            {"indicator": "population_total", "city": "mainz", "period_from": "2023-12"}
            | {"period_to": "2023", "sex": "weiblich"},
            "sex",
            "Unbekannter Wert: weiblich",
        ),
        (
            {"indicator": "population_total", "city": "mainz", "sex": "weiblich"},
            "sex",
            "Unbekannter Wert: weiblich",
        ),
        (
            {"indicator": "population_total", "city": "mainz", "sql": "SELECT 1"},
            "sql",
            "Unbekannter Parameter",
        ),
        (
            {"indicator": "population_total", "city": "mainz", "lang": "fr"},
            "lang",
            "Unbekannter Wert: fr",
        ),
    ],
)
def test_malformed_arguments_are_validation_errors_per_parameter(portal, arguments, field, message):
    error = call(portal, "vierstaedte_tool_query_indicator", status=409, **arguments)
    assert error["__type"] == "Validation Error"
    assert any(message in text for text in error[field]), error
    assert set(error) == {"__type", field}, error  # the other parameters are fine


# --- compare, list, describe, search, read ------------------------------------------------------


def test_compare_cities_aligns_the_year_and_names_the_city_without_values(portal):
    result = call(portal, "vierstaedte_tool_compare_cities", indicator="population_total")
    assert [(r["city"]["name"], r["period"], r["value"]) for r in result["results"]] == [
        ("mainz", "2023", 222000),
        ("trier", "2023-12-31", 111316),
        ("koblenz", "2023-12-31", 114052),
    ]
    assert result["filter"]["period"] == "2023"
    assert [m["city"] for m in result["missing"]] == ["ludwigshafen"]
    assert (
        "Für Einwohner insgesamt gibt es in Ludwigshafen am Rhein keine Daten." in result["answer"]
    )
    for found in result["results"]:
        complete(found["citation"], result["filter"])


def test_compare_cities_says_a_missing_period_is_missing_not_the_city_level(portal):
    """Trier has city-wide values, only not for 2022: the reason is the period (F1)."""
    result = call(
        portal, "vierstaedte_tool_compare_cities", indicator="population_total", period="2022"
    )
    assert [(r["city"]["name"], r["period"]) for r in result["results"]] == [("mainz", "2022")]
    assert "Trier: keine Werte für 2022; vorhanden: 2023-12-31." in result["answer"]
    assert "Koblenz: keine Werte für 2022; vorhanden: 2023-12-31." in result["answer"]
    assert "Gesamtstadt" not in result["answer"]


def test_compare_cities_without_city_values_names_per_city_what_exists(portal):
    """Households: only Ludwigshafen holds them, by Stadtteil; not every city listed (F2)."""
    english = call(portal, "vierstaedte_tool_compare_cities", indicator="households", lang="en")
    assert english["available"] is False and english["reason"] == "no_data_in_cities"
    held = english["alternatives"]["cities"]
    assert list(held) == ["ludwigshafen"]
    assert held["ludwigshafen"]["area_levels"] == ["stadtteil"]
    assert held["ludwigshafen"]["periods"] == ["2022", "2023"]
    assert english["alternatives"]["cities_without_indicator"] == ["mainz", "trier", "koblenz"]
    exists = english["message"].partition("What exists: ")[2]
    assert "Mainz" not in exists and "Trier" not in exists and "Koblenz" not in exists
    assert (
        "Ludwigshafen am Rhein: only at the level City quarter (Stadtteil) for 2022–2023"
        in (english["message"])
    )


def test_list_indicators_lists_only_those_with_data(portal):
    result = call(portal, "vierstaedte_tool_list_indicators")
    listed = {i["id"]: i for i in result["indicators"]}
    assert set(listed) == {
        "population_total",
        "population_share",
        "households",
        "eligible_voters",
        "voters",
        "election_turnout",
        "votes_by_party",
        "vote_share_by_party",
    }
    population = listed["population_total"]
    assert [(c["name"], c["periods"]) for c in population["cities"]] == [
        ("mainz", ["2021", "2022", "2023"]),
        ("trier", ["2023-12-31"]),
        ("koblenz", ["2023-12-31"]),
    ]
    assert population["breakdowns"]["sex"] == ["female", "male", "total"]
    assert listed["vote_share_by_party"]["breakdowns"]["dimensions"] == ["party"]
    for indicator in listed.values():
        assert indicator["citations"]
        for citation in indicator["citations"]:
            complete(citation)
    koblenz = call(portal, "vierstaedte_tool_list_indicators", city="koblenz", lang="en")
    assert [i["id"] for i in koblenz["indicators"]] == ["population_total"]
    assert koblenz["indicators"][0]["label"] == "Population total"


def test_describe_lists_every_breakdown_value_with_row_counts(portal):
    name = named(portal, "trier-bevoelkerung-alter")
    trier = call(portal, "vierstaedte_tool_describe_dataset", id=name)
    ages = {v["value"]: v["rows"] for v in trier["breakdowns"]["age_group"]}
    assert ages == {a: 6 for a in ("0-2", "3-5", "6-9", "10-17", "18-64", "65-79", "80+", "total")}
    assert {v["value"]: v["rows"] for v in trier["breakdowns"]["sex"]} == {
        "total": 16,
        "male": 16,
        "female": 16,
    }
    assert trier["periods"] == ["2023-12-31"]
    complete(trier["citation"], {"id": name})
    election = call(
        portal, "vierstaedte_tool_describe_dataset", id=named(portal, "mainz-stadtratswahl-2024")
    )
    assert election["breakdowns"]["dimensions"] == {
        "party": [{"value": p, "rows": 6} for p in ("CDU", "SPD", "GRÜNE", "DIE LINKE")]
    }
    assert {(a["area_name"], a["rows"]) for a in election["areas"]} == {
        ("Altstadt", 11),
        ("Gonsenheim", 11),
        ("Weisenau", 11),
    }
    # the text: every value of each breakdown, total included, per indicator; "1 Gebiet"
    assert "; 1 Gebiet." in trier["answer"]
    assert "  sex: total (8), male (8), female (8)" in trier["answer"].splitlines()
    assert "  age_group: " in trier["answer"] and "total (" in trier["answer"]
    assert "; 3 Gebiete." in election["answer"]
    assert election["citation"]["source_url"].endswith("/ckan/dataset/stadtratswahl-2024-mainz")
    assert election["citation"]["text"].startswith("Stadt Mainz: ")
    share = next(i for i in election["indicators"] if i["id"] == "vote_share_by_party")
    assert [v["value"] for v in share["breakdowns"]["dimensions"]["party"]] == [
        "CDU",
        "SPD",
        "GRÜNE",
        "DIE LINKE",
    ]


def test_describe_says_why_a_dataset_has_no_statistics_table(portal):
    council = call(
        portal, "vierstaedte_tool_describe_dataset", id=named(portal, "trier-ortsbeiraete")
    )
    assert council["indicators"] == []
    assert "keine normalisierte Statistiktabelle" in council["answer"]
    assert "Ressourcen: " in council["answer"]


def test_search_says_what_was_searched_and_cites_each_hit(portal):
    result = call(portal, "vierstaedte_tool_search_datasets", query="Stadtratswahl", city="mainz")
    assert result["searched"]["query"] == "Stadtratswahl"
    assert [r["name"] for r in result["results"]] == [named(portal, "mainz-stadtratswahl-2024")]
    complete(result["results"][0]["citation"], {"query": "Stadtratswahl", "city": "mainz"})
    bounded = requests.get(
        f"{portal}/api/3/action/vierstaedte_tool_search_datasets",
        params={"query": "Einwohner", "limit": "50"},
        timeout=10,
    )
    assert bounded.status_code == 409
    assert bounded.json()["error"]["limit"] == ["Muss zwischen 1 und 10 liegen, nicht: 50"]


@pytest.mark.parametrize(
    "arguments, found",
    [
        ({"query": "Wahl", "city": "mainz"}, "mainz-stadtratswahl-2024"),
        ({"query": "Einwohner", "city": "trier"}, "trier-bevoelkerung-alter"),
        ({"query": "Gonsenheim"}, "mainz-"),
        ({"query": "population", "city": "koblenz"}, "koblenz-einwohner"),
    ],
)
def test_search_finds_with_the_words_people_use(portal, arguments, found):
    result = call(portal, "vierstaedte_tool_search_datasets", **arguments)
    assert result["results"] and result["results"][0]["name"].startswith(found), result["answer"]
    for hit in result["results"]:
        complete(hit["citation"], {"query": arguments["query"], "city": arguments.get("city")})


def test_search_says_what_it_searched_instead_of_a_typo(portal):
    """German search corrects a typo (searching again, or offering a query): the tool says so."""
    result = call(portal, "vierstaedte_tool_search_datasets", query="Stadtratswahll")
    searched = result["searched"]
    assert searched["query"] == "Stadtratswahll"
    assert searched["corrected"] or searched["suggestion"], result
    said = searched["searched_for"] if searched["corrected"] else searched["suggestion"]
    assert said.casefold() == "stadtratswahl"
    assert f"„{said}“" in result["answer"]
    assert result["results"][0]["name"].startswith("mainz-stadtratswahl-2024")


def test_search_says_when_its_hits_hold_only_some_of_the_words(portal):
    """Words found only apart are searched with fewer required: never said as a correction."""
    result = call(portal, "vierstaedte_tool_search_datasets", query="Stadtratswahl Haushalte")
    assert result["searched"]["method"] == "fewer_words", result["searched"]
    assert "nur einen Teil der Wörter aus „Stadtratswahl Haushalte“" in result["answer"]
    assert "stattdessen" not in result["answer"]
    english = call(
        portal, "vierstaedte_tool_search_datasets", query="Stadtratswahl Haushalte", lang="en"
    )
    assert "only some of the words" in english["answer"]


def test_read_rows_is_bounded_filtered_and_cited(portal):
    election = named(portal, "mainz-stadtratswahl-2024")
    first = call(portal, "vierstaedte_tool_read_rows", id=election, limit=5)
    assert first["count"] == 5 and first["total"] == 33 and first["next_offset"] == 5
    complete(first["citation"], first["filter"])
    weisenau = call(
        portal,
        "vierstaedte_tool_read_rows",
        id=election,
        filters={"area_name": "Weisenau", "dimension_value": ["CDU", "SPD"]},
        limit=100,
    )
    assert weisenau["total"] == 4 and weisenau["next_offset"] is None
    assert {r["area_name"] for r in weisenau["rows"]} == {"Weisenau"}
    assert all(r["sentence"] for r in weisenau["rows"])
    # totals and parts (Trier's parts do not even add up to its total): marked, never summed
    ages = call(
        portal,
        "vierstaedte_tool_read_rows",
        id=named(portal, "trier-bevoelkerung-alter"),
        filters={"sex": "female"},
        limit=100,
    )
    assert [r["age_group"] for r in ages["rows"] if r["is_total"]] == []
    everyone = call(
        portal,
        "vierstaedte_tool_read_rows",
        id=named(portal, "trier-bevoelkerung-alter"),
        filters={"sex": "total", "age_group": "total", "indicator": "population_total"},
    )
    assert [r["is_total"] for r in everyone["rows"]] == [True]
    lines = ages["answer"].splitlines()
    assert lines[-2] == (
        "Teile nicht summieren: die Summe steht in den Zeilen mit „insgesamt“ (is_total)."
    )
    assert lines[-1] == f"Quelle: {ages['citation']['attribution']}"
    assert ages["not_summable"] is True
    for arguments, field in [
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
        ({"filters": {"_id": "1"}}, "filters"),
        ({"filters": {"value": "1"}}, "filters"),
    ]:
        error = call(
            portal,
            "vierstaedte_tool_read_rows",
            status=409,
            id=election,
            **arguments,
        )
        assert field in error, error


# --- private data never appears -----------------------------------------------------------------


def test_private_datasets_never_appear_in_any_tool(portal):
    query = call(
        portal,
        "vierstaedte_tool_query_indicator",
        indicator="population_total",
        city="mainz",
        area_name="Gonsenheim",
        period="2023",
    )
    assert values(query) == [25301]
    city_wide = call(
        portal,
        "vierstaedte_tool_query_indicator",
        indicator="population_total",
        city="mainz",
        period="2023",
    )
    assert values(city_wide) == [222000]
    female = call(
        portal,
        "vierstaedte_tool_query_indicator",
        indicator="population_total",
        city="mainz",
        sex="female",
    )
    assert female["available"] is False
    parties = call(
        portal,
        "vierstaedte_tool_query_indicator",
        indicator="vote_share_by_party",
        city="mainz",
        area_name="Gonsenheim",
    )
    assert "GEHEIM" not in str(parties)
    unemployed = call(
        portal, "vierstaedte_tool_query_indicator", indicator="unemployed", city="mainz"
    )
    assert unemployed["available"] is False
    compared = call(
        portal, "vierstaedte_tool_compare_cities", indicator="population_total", cities=["mainz"]
    )
    assert values(compared) == [222000]
    listed = call(portal, "vierstaedte_tool_list_indicators", city="mainz")
    assert "unemployed" not in {i["id"] for i in listed["indicators"]}
    for tool, arguments in [
        ("vierstaedte_tool_describe_dataset", {"id": PRIVATE}),
        ("vierstaedte_tool_read_rows", {"id": PRIVATE}),
    ]:
        refused = call(portal, tool, **arguments)
        assert refused["available"] is False and refused["reason"] == "unknown_dataset"
        assert PRIVATE not in str(refused["alternatives"])
    found = call(portal, "vierstaedte_tool_search_datasets", query="Geheime Zahlen")
    assert PRIVATE not in str(found)
    # the search may find a public dataset by a fuzzy word; the private one's title never shows
    assert not [r for r in found["results"] if "Geheime" in r["title"]]


# --- latency ------------------------------------------------------------------------------------


def test_each_tool_answers_within_300_ms_at_the_95th_percentile(portal):
    """The target of issue 16 on the demo: p95 < 300 ms per tool call (10 calls of each case)."""
    election = named(portal, "mainz-stadtratswahl-2024")
    cases = {
        "vierstaedte_tool_search_datasets": {"query": "Wahl", "city": "mainz"},
        "vierstaedte_tool_describe_dataset": {"id": election},
        "vierstaedte_tool_list_indicators": {},
        "vierstaedte_tool_query_indicator": {"indicator": "vote_share_by_party", "city": "mainz"},
        "vierstaedte_tool_compare_cities": {"indicator": "population_total"},
        "vierstaedte_tool_read_rows": {"id": election, "limit": 100},
    }
    session = requests.Session()
    slow = {}
    for tool, arguments in cases.items():
        times = []
        for _ in range(10):
            response = session.post(f"{portal}/api/3/action/{tool}", json=arguments, timeout=30)
            assert response.status_code == 200
            times.append(response.elapsed.total_seconds())
        p95 = sorted(times)[int(len(times) * 0.95) - 1] if len(times) > 1 else times[0]
        print(
            f"{tool}: p50 {sorted(times)[len(times) // 2] * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
        )
        if p95 >= 0.3:
            slow[tool] = round(p95 * 1000)
    assert not slow, slow
