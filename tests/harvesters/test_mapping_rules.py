"""What a mapping can say about a table: key columns by position, the area from the title,
areas and aliases of its own, two breakdowns in one header, and catch-all rules kept honest."""

from __future__ import annotations

import pytest

from tests.harvesters.paths import FIXTURES, MAPPINGS, with_koeln
from tests.harvesters.test_genesis import validate
from vierstaedte_contract import areas
from vierstaedte_harvest import mapping
from vierstaedte_harvest.normalise import normalise

REAL = FIXTURES / "real"
BASE = {"id": "t", "city": "mainz", "number_format": "de"}
ONE_VALUE = [{"header": "Einwohner", "indicator": "population_total"}]
BY_SEX = [{"match": "Einwohner (?P<sex>männlich|weiblich)", "indicator": "population_total"}]


def run(tmp_path, text: str, rules: dict, name: str = "t.csv"):
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    return normalise(source, mapping.parse(rules, base_dir=tmp_path))


def cells(result, *fields: str) -> list[tuple]:
    frame = getattr(result, "frame", result)
    return sorted(zip(*(frame[f].astype(str) for f in fields), strict=True))


# --- key columns with an empty header ---------------------------------------------------------


@pytest.mark.parametrize(
    "changes, key",
    [
        ({"area": {"column": ""}}, "area.column"),
        ({"area": {"value": "Mainz"}, "period": {"column": " "}}, "period.column"),
        ({"area": {"value": "Mainz"}, "dimensions": {"sex": ""}}, "dimensions.sex"),
        (
            {"area": {"value": "Mainz"}, "dimensions": {"dimension": {"name": "x", "column": ""}}},
            "dimensions.dimension.column",
        ),
        ({"area": {"value": "Mainz"}, "ignore": ["Bemerkung", ""]}, r"ignore\[2\]"),
        (
            {"area": {"value": "Mainz"}, "values": [{"header": "", "indicator": "voters"}]},
            r"values\[1\].header",
        ),
    ],
)
def test_an_empty_column_name_is_a_load_error(changes, key):
    data = {**BASE, "period": {"value": 2023}, "values": ONE_VALUE, **changes}
    with pytest.raises(mapping.MappingError, match=rf"{key}: .*empty.*position"):
        mapping.parse(data)


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"position": 0}, "position counts from 1"),
        ({"position": "2"}, "must be int"),
        ({"position": 2, "column": "Gebiet"}, "exactly one of"),
    ],
)
def test_a_position_is_checked_when_loaded(spec, message):
    data = {**BASE, "area": spec, "period": {"value": 2023}, "values": ONE_VALUE}
    with pytest.raises(mapping.MappingError, match=message):
        mapping.parse(data)


GENESIS_KEYS = (
    ";;Einwohner;Einwohner\n"
    ";;männlich;weiblich\n"
    "31.12.2023;01 Altstadt;10.345;11.000\n"
    "31.12.2023;Neustadt;15.001;15.000\n"
    "31.12.2023;Mainz, kreisfreie Stadt;108.552;112.000\n"
)


def test_key_columns_with_an_empty_header_are_mapped_by_position(tmp_path):
    rules = {
        **BASE,
        "area": {"position": 2, "level": "ortsbezirk"},
        "period": {"position": 1},
        "values": BY_SEX,
    }
    result = run(tmp_path, GENESIS_KEYS, rules)
    assert result.report.verdict == "valid", result.report.as_dict()
    assert cells(result, "area_name", "period", "sex", "value") == [
        ("Altstadt", "2023-12-31", "female", "11000.0"),
        ("Altstadt", "2023-12-31", "male", "10345.0"),
        ("Mainz", "2023-12-31", "female", "112000.0"),
        ("Mainz", "2023-12-31", "male", "108552.0"),
        ("Neustadt", "2023-12-31", "female", "15000.0"),
        ("Neustadt", "2023-12-31", "male", "15001.0"),
    ]
    assert result.report.columns["column 1"] == {"role": "period"}


def test_a_position_beyond_the_table_is_a_missing_column(tmp_path):
    rules = {**BASE, "area": {"position": 2}, "period": {"position": 7}, "values": BY_SEX}
    result = run(tmp_path, GENESIS_KEYS, rules)
    assert result.report.error_counts == {"missing-column": 1}
    assert "column 7" in result.report.errors[0].message


# --- the area from the title block ------------------------------------------------------------

TITLED = (
    "Statistisches Landesamt Rheinland-Pfalz\n"
    "Bevölkerung am 31.12.2023\n"
    "{area}\n"
    "Stichtag;Einwohner\n"
    "31.12.2023;220.552\n"
)


@pytest.mark.parametrize(
    "city, title",
    [
        ("mainz", "07315000 Mainz, kreisfreie Stadt"),
        ("trier", "Kreisfreie Stadt Trier, Stichtag 31.12.2023"),
        ("ludwigshafen", "Ludwigshafen a.Rh., Stadt"),
        ("mainz", "Bevölkerung - Stand 31.12.2023 - 07315000 Mainz, kreisfreie Stadt"),
        ("koblenz", "Gebiet: Koblenz, krfr. Stadt"),
    ],
)
def test_the_area_comes_from_the_title(tmp_path, city, title):
    rules = {
        **BASE,
        "city": city,
        "area": {"from": "title"},
        "period": {"column": "Stichtag"},
        "values": ONE_VALUE,
    }
    result = run(tmp_path, TITLED.format(area=title), rules)
    assert result.report.verdict == "valid", result.report.as_dict()
    assert {a for (a,) in cells(result, "area_level")} == {"stadt"}
    assert result.report.reading["area_from_title"] == title


@pytest.mark.parametrize(
    "city, title, message",
    [
        ("mainz", "Trier, krfr. Stadt", "no line of the title names an area of mainz"),
        ("mainz", "Mainz-Bingen, Landkreis", "no line of the title names an area of mainz"),
        ("mainz", "Altstadt und Mainz, kreisfreie Stadt", "no line of the title"),
        ("mainz", "Bevölkerung - Mainz, Landkreis", "no line of the title"),
        ("mainz", "Gebiet: 07111000 Mainz, kreisfreie Stadt", "no line of the title"),
    ],
)
def test_a_title_without_one_clear_area_rejects_the_table(tmp_path, city, title, message):
    rules = {
        **BASE,
        "city": city,
        "area": {"from": "title", "level": "ortsbezirk"},
        "period": {"column": "Stichtag"},
        "values": ONE_VALUE,
    }
    result = run(tmp_path, TITLED.format(area=title), rules)
    assert result.report.verdict == "rejected"
    assert result.report.error_counts == {"unknown-area": 1}
    assert message in result.report.errors[0].message


def test_a_title_naming_two_areas_is_ambiguous(tmp_path):
    rules = {
        **BASE,
        "area": {"from": "title", "level": "ortsbezirk"},
        "period": {"column": "Stichtag"},
        "values": ONE_VALUE,
    }
    text = TITLED.format(area="Mainz, kreisfreie Stadt\nAltstadt")
    result = run(tmp_path, text, rules)
    assert result.report.error_counts == {"ambiguous-area": 1}
    message = result.report.errors[0].message
    assert "'Mainz'" in message and "'Altstadt'" in message


# --- areas and aliases of a mapping -----------------------------------------------------------


def test_a_mapping_adds_areas_and_aliases(tmp_path):
    rules = {
        **BASE,
        "area": {"column": "Ortsbezirk", "level": "ortsbezirk"},
        "period": {"value": 2023},
        "areas": {
            "add": [{"name": "Layenhof", "level": "ortsbezirk", "aliases": ["Am Layenhof"]}],
            "aliases": {"Gonsenh.": "Gonsenheim", "Mz.-Altstadt": "Altstadt"},
        },
        "values": ONE_VALUE,
    }
    text = "Ortsbezirk;Einwohner\nGonsenh.;25.301\nMz.-Altstadt;21.345\nAm Layenhof;1.004\n"
    result = run(tmp_path, text, rules)
    assert result.report.verdict == "valid", result.report.as_dict()
    assert cells(result, "area_name", "area_code") == [
        ("Altstadt", "01"),
        ("Gonsenheim", "06"),
        ("Layenhof", ""),
    ]


@pytest.mark.parametrize(
    "areas, message",
    [
        ({"aliases": {"Atl.": "Atlantis"}}, r"areas.aliases.*'Atlantis' is not an area of mainz"),
        ({"add": [{"name": "Layenhof"}]}, r"areas.add\[1\]: 'level' is required"),
        ({"add": [{"name": "Layenhof", "level": "dorf"}]}, r"level 'dorf' is not one of"),
        ({"add": [{"name": "Altstadt", "level": "ortsbezirk"}]}, "already an area of mainz"),
        ({"aliases": {"": "Altstadt"}}, "areas.aliases: .*empty"),
        ({"rename": {}}, "unknown key"),
    ],
)
def test_areas_of_a_mapping_are_checked_when_loaded(areas, message):
    data = {
        **BASE,
        "area": {"column": "Ortsbezirk", "level": "ortsbezirk"},
        "period": {"value": 2023},
        "areas": areas,
        "values": ONE_VALUE,
    }
    with pytest.raises(mapping.MappingError, match=message):
        mapping.parse(data)


# --- two breakdowns in one header -------------------------------------------------------------

ELECTION_INDICATORS = (
    "id,label_de,label_en,unit,definition_de,definition_en\n"
    "first_votes_by_party,Erststimmen,First votes,count,Erststimmen je Partei,per party\n"
    "second_votes_by_party,Zweitstimmen,Second votes,count,Zweitstimmen je Partei,per party\n"
    "first_vote_share,Erststimmen %,First vote share,percent,Anteil,share\n"
    "second_vote_share,Zweitstimmen %,Second vote share,percent,Anteil,share\n"
    "spending_actual,Aufwand Ist,Spending actual,eur,Ist,actual\n"
    "spending_plan,Aufwand Plan,Spending plan,eur,Plan,plan\n"
)

# the layout of Köln's election results (../shared/fixtures/real/csv_koeln_btw2013_…):
# first votes as `CDU`, second votes as `Z_CDU`, each with a `_Proz` share beside it
KOELN_SHAPED = (
    "Nr;Name;Wahlberechtigte;CDU;CDU_Proz;Z_CDU;Z_CDU_Proz;DIE LINKE;DIE LINKE_Proz;"
    "Z_DIE LINKE;Z_DIE LINKE_Proz\n"
    ";Altstadt;12740;3621;37,36;3220;33,13;573;5,91;793;8,16\n"
    ";Neustadt;20110;5102;30,02;4811;28,40;1002;5,90;1301;7,68\n"
)


def test_vote_type_and_party_from_one_header(tmp_path):
    (tmp_path / "wahl.csv").write_text(ELECTION_INDICATORS, encoding="utf-8")
    share = {"": "first_vote_share", "Z_": "second_vote_share"}
    rules = {
        **BASE,
        "area": {"column": "Name", "level": "ortsbezirk"},
        "period": {"value": "2013-09-22"},
        "indicators": "wahl.csv",
        "ignore": ["Nr"],
        "values": [
            {"header": "Wahlberechtigte", "indicator": "eligible_voters"},
            {
                "match": "(?P<indicator>Z_)?(?P<dimension_value>CDU|DIE LINKE)_Proz",
                "indicator": share,
                "dimension": "party",
            },
            {
                "match": "(?P<indicator>Z_)?(?P<dimension_value>CDU|DIE LINKE)",
                "indicator": {"": "first_votes_by_party", "Z_": "second_votes_by_party"},
                "dimension": "party",
            },
        ],
    }
    result = run(tmp_path, KOELN_SHAPED, rules)
    assert result.report.verdict == "valid", result.report.as_dict()
    altstadt = result.frame[result.frame["area_name"] == "Altstadt"]
    found = cells(altstadt, "indicator", "dimension", "dimension_value", "value", "unit")
    assert found == [
        ("eligible_voters", "none", "total", "12740.0", "persons"),
        ("first_vote_share", "party", "CDU", "37.36", "percent"),
        ("first_vote_share", "party", "DIE LINKE", "5.91", "percent"),
        ("first_votes_by_party", "party", "CDU", "3621.0", "count"),
        ("first_votes_by_party", "party", "DIE LINKE", "573.0", "count"),
        ("second_vote_share", "party", "CDU", "33.13", "percent"),
        ("second_vote_share", "party", "DIE LINKE", "8.16", "percent"),
        ("second_votes_by_party", "party", "CDU", "3220.0", "count"),
        ("second_votes_by_party", "party", "DIE LINKE", "793.0", "count"),
    ]


def test_actual_and_plan_with_years_from_one_header(tmp_path):
    (tmp_path / "haushalt.csv").write_text(ELECTION_INDICATORS, encoding="utf-8")
    rules = {
        **BASE,
        "area": {"value": "Mainz"},
        "indicators": "haushalt.csv",
        "dimensions": {"dimension": {"name": "budget_line", "column": "Produktbereich"}},
        "values": [
            {
                "match": r"(?P<indicator>Ist|Plan) (?P<period>\d{4})",
                "indicator": {"Ist": "spending_actual", "Plan": "spending_plan"},
            }
        ],
    }
    text = (
        "Produktbereich;Ist 2023;Plan 2024;Plan 2025\n"
        "Schulträgeraufgaben;1.234.567,00;1.300.000,00;1.350.000,00\n"
    )
    result = run(tmp_path, text, rules)
    assert result.report.verdict == "valid", result.report.as_dict()
    assert cells(result, "indicator", "period", "dimension", "value") == [
        ("spending_actual", "2023", "budget_line", "1234567.0"),
        ("spending_plan", "2024", "budget_line", "1300000.0"),
        ("spending_plan", "2025", "budget_line", "1350000.0"),
    ]


def test_an_indicator_map_is_checked(tmp_path):
    data = {
        **BASE,
        "area": {"value": "Mainz"},
        "period": {"value": 2023},
        "values": [{"match": "(?P<indicator>Ist|Plan) x", "indicator": {"Ist": "nope"}}],
    }
    with pytest.raises(mapping.MappingError, match="unknown indicator 'nope'"):
        mapping.parse(data)
    data["values"] = [{"match": "(?P<dimension_value>.+)", "indicator": {"Ist": "voters"}}]
    with pytest.raises(mapping.MappingError, match=r"\(\?P<indicator>…\) group"):
        mapping.parse(data)
    data["values"] = [{"match": "(?P<indicator>Ist|Plan) x", "indicator": "voters"}]
    with pytest.raises(mapping.MappingError, match="maps the group's values"):
        mapping.parse(data)


def test_a_header_whose_indicator_group_is_not_mapped_is_unmapped(tmp_path):
    rules = {
        **BASE,
        "area": {"value": "Mainz"},
        "values": [
            {
                "match": r"(?P<indicator>Ist|Plan|Soll) (?P<period>\d{4})",
                "indicator": {"Ist": "voters"},
            }
        ],
    }
    result = run(tmp_path, "Ist 2023;Soll 2024\n1;2\n", rules)
    assert result.report.error_counts == {"unmapped-column": 1}
    assert result.report.errors[0].field == "Soll 2024"


# --- catch-all rules --------------------------------------------------------------------------

CATCH_ALL = {
    **BASE,
    "area": {"column": "Name", "level": "ortsbezirk"},
    "period": {"value": "2013-09-22"},
    "values": [
        {
            "match": "(?P<dimension_value>.+)_Proz",
            "indicator": "vote_share_by_party",
            "dimension": "party",
        },
        {"match": "(?P<dimension_value>.+)", "indicator": "votes_by_party", "dimension": "party"},
    ],
}
KOELN_COUNTS = [
    "Nr",
    "MaxSchnellmeldungen",
    "AnzSchnellmeldungen",
    "Wahlberechtigte",
    "abgegeben",
    "Wahlbeteiligung",
    "gültigeStimmzettel",
    "gültig",
    "ungültigeStimmzettel",
    "ungültig",
    "gültig2",
    "ungültig2",
]


def test_a_catch_all_never_sweeps_in_counts_and_ids_of_a_real_election_table(real_fixture):
    """Köln's Bundestag election 2013: a row number, quick-report counts and ballot counts sit
    beside the party columns; a catch-all rule must not make them parties."""
    rules = mapping.parse(CATCH_ALL)
    result = normalise(real_fixture("csv_koeln_btw2013_ergebnis_stadtteil.csv"), rules)
    report = result.report
    assert report.verdict == "rejected"
    flagged = [e.field for e in report.errors if e.code == "unmapped-column"]
    assert flagged == KOELN_COUNTS
    assert "count or an id" in report.errors[0].message
    listed = [w for w in report.warnings if w.code == "catch-all-rule"]
    assert len(listed) == 1 and listed[0].rule == "values[2]"
    assert "'CDU'" in listed[0].message and "'Z_Die PARTEI'" in listed[0].message
    assert "'Nr'" not in listed[0].message  # what the rule did not get is not listed as matched


def test_with_unmapped_warn_the_counts_stay_out_of_the_table(real_fixture):
    rules = mapping.parse({**CATCH_ALL, "unmapped": "warn"})
    report = normalise(real_fixture("csv_koeln_btw2013_ergebnis_stadtteil.csv"), rules).report
    assert [w.field for w in report.warnings if w.code == "unmapped-column"] == KOELN_COUNTS
    assert report.columns["AnzSchnellmeldungen"]["role"] == "unmapped"
    assert report.columns["CDU"]["role"] == "value"
    # Köln's Stadtteile are no areas of Mainz: refused, with the reason
    assert set(report.error_counts) == {"unknown-area"}


def test_a_rule_that_names_a_count_column_maps_it(tmp_path):
    rules = {
        **CATCH_ALL,
        "values": [
            {"header": "Wahlberechtigte", "indicator": "eligible_voters"},
            *CATCH_ALL["values"],
        ],
    }
    text = "Name;Wahlberechtigte;CDU;SPD\nAltstadt;12740;3621;3055\n"
    result = run(tmp_path, text, rules)
    assert result.report.error_counts == {}, result.report.as_dict()
    assert [w.code for w in result.report.warnings] == ["catch-all-rule"]
    assert result.report.columns["Wahlberechtigte"]["indicator"] == "eligible_voters"


def test_a_running_number_is_no_party(tmp_path):
    text = "Name;Pos;CDU;SPD\nAltstadt;1;3621;3055\nNeustadt;2;4100;3900\nOberstadt;3;2900;3100\n"
    result = run(tmp_path, text, CATCH_ALL)
    assert result.report.error_counts == {"unmapped-column": 1}
    assert result.report.errors[0].field == "Pos" and "1, 2, 3" in result.report.errors[0].message


def test_the_shipped_election_mapping_has_no_catch_all(tmp_path):
    rules = mapping.load(MAPPINGS / "mainz-wahl-ortsbezirke.yaml")
    assert not any(rule.catch_all for rule in rules.values)
    table = (FIXTURES / "mainz_wahl_ortsbezirke.csv").read_text(encoding="utf-8")
    header, rest = table.split("\n", 1)
    (tmp_path / "wahl.csv").write_text(
        header.replace("Wahlberechtigte;", "Schnellmeldungen;Wahlberechtigte;")
        + "\n"
        + "\n".join(
            line.replace(";", ";3;", 1) if line and not line.startswith("nachgez") else line
            for line in rest.split("\n")
        ),
        encoding="utf-8",
    )
    report = normalise(tmp_path / "wahl.csv", rules).report
    assert report.error_counts == {"unmapped-column": 1}
    assert report.errors[0].field == "Schnellmeldungen"


def test_vote_type_and_party_in_a_real_election_table(tmp_path):
    """Köln's Bundestag election 2013 for the whole city: first votes as ``CDU``, second votes
    as ``Z_CDU``, a ``_Proz`` share beside each; the counts of the count are named or ignored."""
    (tmp_path / "wahl.csv").write_text(ELECTION_INDICATORS, encoding="utf-8")
    party = {"dimension": "party"}
    rules = {
        "id": "koeln-btw2013",
        "city": "koeln",
        "area": {"column": "Name"},
        "period": {"value": "2013-09-22"},
        "indicators": str(tmp_path / "wahl.csv"),
        "ignore": [
            "Nr",
            "MaxSchnellmeldungen",
            "AnzSchnellmeldungen",
            "gültigeStimmzettel",
            "ungültigeStimmzettel",
            "gültig2",
            "ungültig2",
        ],
        "values": [
            {"header": "Wahlberechtigte", "indicator": "eligible_voters"},
            {"header": "abgegeben", "indicator": "voters"},
            {"header": "Wahlbeteiligung", "indicator": "election_turnout"},
            {"header": "gültig", "indicator": "valid_votes"},
            {"header": "ungültig", "indicator": "invalid_votes"},
            {
                "match": "(?P<indicator>Z_)?(?P<dimension_value>.+)_Proz",
                "indicator": {"": "first_vote_share", "Z_": "second_vote_share"},
                **party,
            },
            {
                "match": "(?P<indicator>Z_)?(?P<dimension_value>.+)",
                "indicator": {"": "first_votes_by_party", "Z_": "second_votes_by_party"},
                **party,
            },
        ],
    }
    report, rows = validate(
        tmp_path, REAL / "csv_koeln_btw2013_ergebnis_stadt.csv", rules, with_koeln(tmp_path)
    )
    assert report["error_counts"] == {"unknown-area": 1}  # Leverkusen, in Köln's Wahlkreis
    assert report["errors"][0]["value"] == "Leverkusen"
    found = {
        (r["indicator"], r["dimension_value"]): float(r["value"])
        for r in rows
        if r["dimension_value"] in ("CDU", "SPD", "total")
    }
    assert found == {
        ("eligible_voters", "total"): 722435,
        ("voters", "total"): 523763,
        ("election_turnout", "total"): 72.5,
        ("valid_votes", "total"): 518211,
        ("invalid_votes", "total"): 5552,
        ("first_votes_by_party", "CDU"): 188629,
        ("first_vote_share", "CDU"): 36.4,
        ("second_votes_by_party", "CDU"): 171386,
        ("second_vote_share", "CDU"): 33.0,
        ("first_votes_by_party", "SPD"): 191858,
        ("first_vote_share", "SPD"): 37.02,
        ("second_votes_by_party", "SPD"): 154707,
        ("second_vote_share", "SPD"): 29.79,
    }
    parties = {r["dimension_value"] for r in rows if r["dimension"] == "party"}
    assert len(parties) == 22 and "Die PARTEI" in parties and "Z_CDU" not in parties
    (listed,) = [w for w in report["warnings"] if w["code"] == "catch-all-rule"]
    assert listed["rule"] == "values[7]" and "'Z_Die PARTEI'" in listed["message"]


# --- friction the red team met writing mappings ----------------------------------------------


def test_no_value_columns_names_the_columns_ignore_took_from_a_value_rule(tmp_path):
    """``ignore_match: ['.*']`` comes before the value rules and swallowed every value column."""
    rules = {
        **BASE,
        "area": {"column": "Ortsbezirk", "level": "ortsbezirk"},
        "ignore_match": [".*"],
        "values": [{"match": r"Einwohner (?P<period>\d{4})", "indicator": "population_total"}],
    }
    result = run(tmp_path, "Ortsbezirk;Einwohner 2023;Bemerkung\nAltstadt;21.000;\n", rules)
    [issue] = result.report.errors
    assert issue.code == "no-value-columns"
    assert "'Einwohner 2023'" in issue.message and "ignore_match come first" in issue.message
    assert "Bemerkung" not in issue.message


def test_unknown_area_names_the_mappings_added_areas_and_their_level(tmp_path):
    rules = {
        **BASE,
        "area": {"column": "Gebiet", "level": "stadtteil"},
        "period": {"value": 2023},
        "areas": {"add": [{"name": "Eimsbüttel", "level": "ortsbezirk"}]},
        "values": ONE_VALUE,
    }
    result = run(tmp_path, "Gebiet;Einwohner\nEimsbüttel;100\n", rules)
    [issue] = result.report.errors
    assert issue.code == "unknown-area"
    assert "areas.add: 0 of its 1 areas are at level stadtteil" in issue.message
    assert "resolves only at the mapping's level" in issue.message


@pytest.mark.parametrize(
    "spelling",
    ["Mainz (kreisfreie Stadt)", "Mainz (Landeshauptstadt)", "07315000 Mainz (krfr. St.)"],
)
def test_a_kind_of_municipality_in_brackets_resolves(spelling):
    assert areas.resolver("mainz").resolve(spelling, "stadt").name == "Mainz"


@pytest.mark.parametrize(
    "spelling", ["Mainz (Landkreis)", "Mainz (Altstadt)", "Mainz-Bingen (Kreis)"]
)
def test_other_words_in_brackets_do_not(spelling):
    assert areas.resolver("mainz").resolve(spelling, "stadt") is None


def test_a_column_without_header_is_listed_as_ignored_empty(tmp_path):
    """Köln's election export ends its header with ';' (an empty last column)."""
    rules = {**BASE, "area": {"value": "Mainz"}, "period": {"value": 2023}, "values": ONE_VALUE}
    result = run(tmp_path, "Einwohner;\n218578;\n", rules)
    assert result.ok, result.report.errors
    assert result.report.columns["column 2"] == {"role": "ignored-empty"}
